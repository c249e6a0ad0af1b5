"""What the llm-d guides give the vLLM container beyond OpenShift restricted-v2, per well-lit path (container
securityContext). Only what a guide's values or manifests set, each with its source; nothing here is inferred.

Not taken over: the GKE wide-EP overlay's `privileged: true` (LD@899f8517 wide-ep-lws/manifests/modelserver/gke,
a cluster-specific kustomize patch), and the XPU guides' render group 107 (fsGroup/supplementalGroups), which
they set where the chart does not read it (decode.securityContext; the chart reads decode.podSecurityContext,
CATALOG §b.2), so no guide pod ever had it.
"""

from __future__ import annotations

from dataclasses import dataclass

# The order the guides list capabilities in; every securityContext we write follows it.
CAPABILITIES = ("IPC_LOCK", "SYS_RAWIO", "NET_ADMIN", "NET_RAW", "SYS_NICE")


@dataclass(frozen=True)
class Grant:
    capabilities: tuple[str, ...] = ()
    root: bool = False  # runAsUser: 0, runAsGroup: 0
    privileged: bool = False
    seccomp: str | None = None  # a seccompProfile type other than the runtime's default
    why: str = ""
    source: str = ""


# Every wide-EP guide: LD@e52045bd wide-ep-lws/ms-wide-ep/values.yaml, LD@v0.3.0 and LD@899f8517
# wide-ep-lws/manifests/modelserver/base/{decode,prefill}.yaml.
WIDE_EP = Grant(("IPC_LOCK", "SYS_RAWIO"), root=True,
                why="expert-parallel all-to-all over RDMA (pinned memory, raw device I/O), as root",
                source="llm-d wide-ep-lws guides (LD@e52045bd, LD@v0.3.0, LD@899f8517)")
# LD@v0.4.0 and LD@899f8517 inference-scheduling/ms-inference-scheduling/values_cpu.yaml ("NUMA cross-node related").
CPU = Grant(("SYS_NICE",), seccomp="Unconfined", why="vLLM's CPU backend pins its threads across NUMA nodes",
            source="llm-d inference-scheduling values_cpu.yaml (LD@v0.4.0, LD@899f8517)")
# LD@899f8517 pd-disaggregation/ms-pd/values_hpu.yaml (both roles; no reason given there).
GAUDI_PD = Grant(privileged=True, why="the llm-d Gaudi P/D values run vLLM privileged (no reason given upstream)",
                 source="llm-d pd-disaggregation values_hpu.yaml (LD@899f8517)")


def path_grants(vendor: str, multinode: bool, disaggregated: bool) -> list[Grant]:
    """The grants of the path a stack runs (the simulator needs none)."""
    if vendor == "simulated":
        return []
    grants = []
    if multinode:
        grants.append(WIDE_EP)
    if vendor == "cpu":
        grants.append(CPU)
    if vendor == "intel-gaudi" and disaggregated:
        grants.append(GAUDI_PD)
    return grants
