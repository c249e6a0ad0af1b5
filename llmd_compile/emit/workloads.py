"""Per role, the model-server pod as intent: the vLLM container (args, env, ports, probes, resources per accelerator,
volume mounts, privileges), the pod's volumes, node selection, annotations, KV transfer, KV events and the wide-EP
launch. No chart keys: each install shape shapes this intent into its own artifact (the modelservice chart's
values in the Helm era, Deployments/LeaderWorkerSets for the router shape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmd_compile.emit import disagg, offload, precise, probes, security, widep
from llmd_compile.resolve import Stack
from llmd_compile.spec.models import Workload

# The extended resource each accelerator.type requests (the charts' accelerator.resources, CATALOG §b.2).
ACCELERATOR_RESOURCE = {
    "nvidia": "nvidia.com/gpu",
    "amd": "amd.com/gpu",
    "google": "google.com/tpu",
    "intel": "gpu.intel.com/i915",
    "intel-gaudi": "habana.ai/gaudi",
}
# GKE TPU node labels (cloud.google.com/gke-tpu-accelerator values per TPU generation).
TPU_ACCELERATOR = {"TPU-v5e": "tpu-v5-lite-podslice", "TPU-v5p": "tpu-v5p-slice", "TPU-v6e": "tpu-v6e-slice"}
CONTAINER = "vllm"
PORT_NAME = "metrics"


@dataclass(frozen=True)
class Pod:
    """One role's pod as intent."""

    role: str  # decode or prefill
    workload: Workload
    port: int  # where vLLM listens
    # The vLLM container in Kubernetes' schema: name, image, [command], args, env, ports, probes, resources,
    # volumeMounts, [securityContext].
    container: dict[str, Any]
    launch: bool  # wide-EP: command/args are the launch script
    volumes: list[dict[str, Any]]  # scratch volumes the container mounts (the model cache aside)
    # Memory-backed /dev/shm, when the role wants it: (volumeMount, volume).
    shm: tuple[dict[str, Any], dict[str, Any]] | None
    node_selector: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def resources(stack: Stack, role: Workload) -> dict[str, Any]:
    spec = stack.spec
    requests = dict(role.resources.requests)
    limits = dict(role.resources.limits)
    # With DRA the chart adds resourceClaims for the accelerators; no device-plugin resource then.
    resource = None if spec.accelerator.dra else ACCELERATOR_RESOURCE.get(spec.accelerator.vendor)
    extra: dict[str, str] = {}
    if resource:
        extra[resource] = str(stack.gpus_per_pod(role))
    if stack.disaggregated and spec.accelerator.vendor != "simulated":
        extra.update(disagg.rdma_resources(stack))
    for name, count in extra.items():
        requests.setdefault(name, count)
        limits.setdefault(name, count)
    return {"limits": limits, "requests": requests}


def model_dir(stack: Stack) -> str:
    """Directory inside the cache PVC that holds the model's files."""
    pvc = stack.spec.model.cache.pvc
    return (pvc.path if pvc and pvc.path else f"models/{stack.spec.model.name}").strip("/")


def node_selector(stack: Stack) -> dict[str, str]:
    acc = stack.spec.accelerator
    if acc.vendor != "google" or acc.topology is None:
        return {}
    from llmd_compile.catalog.hardware import accelerator

    known = accelerator(acc.model)
    selector = {"cloud.google.com/gke-tpu-topology": acc.topology}
    if known is not None and known.name in TPU_ACCELERATOR:
        selector["cloud.google.com/gke-tpu-accelerator"] = TPU_ACCELERATOR[known.name]
    return selector


def pod(stack: Stack, name: str, role: Workload, port: int, *, port_name: str = PORT_NAME,
        container_name: str = CONTAINER, balance: tuple[str, ...] = widep.HYBRID_LB) -> Pod:
    """The role's pod with vLLM on `port` (named `port_name`)."""
    spec = stack.spec
    simulated = spec.accelerator.vendor == "simulated"
    args = list(role.args)
    env: list[dict[str, Any]] = []
    ports = [{"containerPort": port, "name": port_name, "protocol": "TCP"}]
    if stack.disaggregated and not simulated:
        args = disagg.kv_args(stack, args)
        env += disagg.kv_env(stack)
        ports += disagg.kv_ports(stack)
    if precise.enabled(stack):  # KV events as the pinned picker indexes them
        args = precise.vllm_args(stack, args)
        env += precise.vllm_env(stack)
        ports += precise.vllm_ports(stack)
    env += [{"name": k, "value": v} for k, v in sorted(role.env.items())]
    container: dict[str, Any] = {
        "name": container_name,
        "image": role.image,
        "args": args,
        "env": env,
        "ports": ports,
        **probes.probes(stack, role, port),
        "resources": resources(stack, role),
        # vLLM and torch write caches under $HOME; these stay writable under any UID (OpenShift).
        "volumeMounts": [
            {"name": "metrics-volume", "mountPath": "/.config"},
            {"name": "torch-compile-cache", "mountPath": "/.cache"},
        ],
    }
    context = security.container_context(stack, name, role)
    if context:
        container["securityContext"] = context
    launch = stack.multinode and not simulated
    if launch:
        script = widep.launch(stack, role, port, args, balance)
        rest = {k: v for k, v in container.items() if k not in ("name", "image", "args")}
        container = {"name": container_name, "image": role.image, **script, **rest}
    volumes = [{"name": "metrics-volume", "emptyDir": {}}, {"name": "torch-compile-cache", "emptyDir": {}}]
    # Tensor-parallel workers talk through /dev/shm (64Mi by default).
    wants_shm = role.parallelism.tensor > 1 or "shmSize" in role.model_fields_set
    shm = None
    if role.shmSize and wants_shm:
        shm = ({"name": "shm", "mountPath": "/dev/shm"},
               {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": role.shmSize}})
    return offload.pod(stack, Pod(name, role, port, container, launch, volumes, shm, node_selector(stack),
                                  dict(sorted(role.podAnnotations.items()))))
