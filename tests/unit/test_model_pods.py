"""The vLLM container's probes and privileges, as tables: a spec edit in, the container fields out.

Probes default to the well-lit path's (catalog/vllm.py) and take the spec's overrides field by field; privileges
come only with the path that needs them (catalog/privileges.py) or kvTransfer.rdma, and leave with privileges: none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile import check, yamlio
from llmd_compile.catalog import vllm
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.compile import build
from llmd_compile.errors import SpecError
from llmd_compile.spec.load import load_text

REPO = Path(__file__).resolve().parents[2]


def spec_data(name: str) -> Any:
    return YAML(typ="safe").load((REPO / "specs" / f"{name}.yaml").read_text(encoding="utf-8"))


def compiled(data: Any) -> tuple[dict[str, Any], list[check.Diagnostic]]:
    stack, files = build(load_text(yamlio.dump(data), "x.yaml"), "x.yaml")
    return YAML(typ="safe").load(str(files["values/modelservice.yaml"])), check.run(Artifacts(stack, files))


def container(ms: dict[str, Any], role: str = "decode") -> dict[str, Any]:
    return ms[role]["containers"][0]  # type: ignore[no-any-return]


def _probe(kind: str, port: int, **changes: Any) -> dict[str, Any]:
    fields = {**vllm.STANDARD_PROBES[kind], **changes}
    return {"httpGet": {"path": fields.pop("path"), "port": port}, **fields}


H100_PORT = 8200  # behind the routing sidecar
PROBE_CASES = [
    ("path defaults", None, {"startupProbe": _probe("startup", H100_PORT),
                             "livenessProbe": _probe("liveness", H100_PORT),
                             "readinessProbe": _probe("readiness", H100_PORT)}),
    ("no probes", None, {}),
    ("liveness off", {"liveness": None}, {"startupProbe": _probe("startup", H100_PORT),
                                          "readinessProbe": _probe("readiness", H100_PORT)}),
    ("longer start", {"startup": {"failureThreshold": 120}},
     {"startupProbe": _probe("startup", H100_PORT, failureThreshold=120),
      "livenessProbe": _probe("liveness", H100_PORT), "readinessProbe": _probe("readiness", H100_PORT)}),
    ("ready on /health", {"readiness": {"path": "/health", "periodSeconds": 2}},
     {"startupProbe": _probe("startup", H100_PORT), "livenessProbe": _probe("liveness", H100_PORT),
      "readinessProbe": _probe("readiness", H100_PORT, path="/health", periodSeconds=2)}),
]


@pytest.mark.parametrize(("probes", "expected"), [(p, e) for _, p, e in PROBE_CASES], ids=[c[0] for c in PROBE_CASES])
def test_probes(probes: Any, expected: dict[str, Any]) -> None:
    data = spec_data("h100")
    if probes is not None or not expected:
        data["decode"]["probes"] = probes
    ms, _ = compiled(data)
    got = {k: v for k, v in container(ms).items() if k.endswith("Probe")}
    assert got == expected


@pytest.mark.parametrize(("probes", "message"), [
    ({"startup": {"periodSeconds": 0}},
     "decode.probes.startup.periodSeconds: Input should be greater than or equal to 1"),
    ({"readiness": {"path": "health"}}, "decode.probes.readiness.path: 'health' is not an absolute HTTP path"),
    ({"liveness": {"port": 8000}}, "decode.probes.liveness.port: unknown field"),
])
def test_probe_errors(probes: Any, message: str) -> None:
    data = spec_data("h100")
    data["decode"]["probes"] = probes
    with pytest.raises(SpecError) as caught:
        load_text(yamlio.dump(data), "x.yaml")
    assert message in str(caught.value)


def test_path_probes() -> None:
    """Wide-EP polls /health each second while the group forms; P/D on Gaudi starts and checks slower."""
    wide, _ = compiled(spec_data("wide-ep"))
    assert container(wide, "prefill")["startupProbe"] == {
        "httpGet": {"path": "/health", "port": 8000}, "initialDelaySeconds": 0, "periodSeconds": 1,
        "timeoutSeconds": 5, "failureThreshold": 2700}
    gaudi = spec_data("gaudi")
    _gaudi_pd(gaudi)
    ms, _ = compiled(gaudi)
    assert container(ms, "prefill")["livenessProbe"] == {
        "httpGet": {"path": "/health", "port": 8000}, "periodSeconds": 30, "timeoutSeconds": 10,
        "failureThreshold": 20}


def _gaudi_pd(data: Any) -> None:
    data["prefill"] = {"replicas": 1, "image": data["decode"]["image"]}
    data["decode"]["sidecar"]["enabled"] = True
    data["scheduler"]["disaggregation"] = {"decider": "always"}


def _rdma_caps(data: Any) -> None:
    data["kvTransfer"]["rdma"].update(capabilities=["NET_RAW", "IPC_LOCK"], runAsRoot=True)


def _no_privileges(data: Any) -> None:
    for role in ("decode", "prefill"):
        if role in data:
            data[role]["privileges"] = "none"


WIDE_EP = {"capabilities": {"add": ["IPC_LOCK", "SYS_RAWIO"]}, "runAsUser": 0, "runAsGroup": 0}
PRIVILEGE_CASES = [
    ("nvidia inference scheduling", "h100", None, {"decode": None}),
    ("the simulator", "sim", None, {"decode": None, "prefill": None}),
    ("P/D over RDMA on Kubernetes", "pd", None, {"decode": None, "prefill": None}),
    ("CPU: NUMA pinning", "cpu", None, {"decode": {"capabilities": {"add": ["SYS_NICE"]},
                                                   "seccompProfile": {"type": "Unconfined"}}}),
    ("CPU without", "cpu", _no_privileges, {"decode": None}),
    ("wide-EP", "wide-ep", None, {"decode": WIDE_EP, "prefill": WIDE_EP}),
    ("wide-EP without", "wide-ep", _no_privileges, {"decode": None, "prefill": None}),
    ("Gaudi P/D", "gaudi", _gaudi_pd, {"decode": {"privileged": True}, "prefill": {"privileged": True}}),
    ("RDMA capabilities, in the guides' order", "pd", _rdma_caps,
     {"decode": {"capabilities": {"add": ["IPC_LOCK", "NET_RAW"]}, "runAsUser": 0, "runAsGroup": 0},
      "prefill": {"capabilities": {"add": ["IPC_LOCK", "NET_RAW"]}, "runAsUser": 0, "runAsGroup": 0}}),
    ("RDMA capabilities stay with privileges: none", "pd", lambda d: (_rdma_caps(d), _no_privileges(d)),
     {"decode": {"capabilities": {"add": ["IPC_LOCK", "NET_RAW"]}, "runAsUser": 0, "runAsGroup": 0},
      "prefill": {"capabilities": {"add": ["IPC_LOCK", "NET_RAW"]}, "runAsUser": 0, "runAsGroup": 0}}),
    ("OpenShift RDMA, as values_ocp_rdma.yaml", "openshift-pd", None,
     {r: {"capabilities": {"add": ["IPC_LOCK", "SYS_RAWIO", "NET_ADMIN", "NET_RAW"]}, "runAsUser": 0, "runAsGroup": 0}
      for r in ("decode", "prefill")}),
]


@pytest.mark.parametrize(("spec", "edit", "expected"), [c[1:] for c in PRIVILEGE_CASES],
                         ids=[c[0] for c in PRIVILEGE_CASES])
def test_privileges(spec: str, edit: Any, expected: dict[str, Any]) -> None:
    data = spec_data(spec)
    if edit:
        edit(data)
    ms, _ = compiled(data)
    assert {role: container(ms, role).get("securityContext") for role in expected} == expected


@pytest.mark.parametrize(("spec", "edit", "platforms", "fields"), [
    ("cpu", None, {"openshift": {}}, ["decode.privileges"]),
    ("cpu", None, {"kubernetes": {}}, []),
    ("cpu", _no_privileges, {"openshift": {}}, []),
    ("openshift-pd", None, None, ["kvTransfer.rdma", "kvTransfer.rdma"]),
    ("wide-ep", None, {"openshift": {}}, ["decode.privileges", "prefill.privileges"]),
    ("h100", None, None, []),
])
def test_openshift_names_what_restricted_v2_refuses(spec: str, edit: Any, platforms: Any, fields: list[str]) -> None:
    """LLMD420: a stack on OpenShift whose model servers need more than restricted-v2 says so, field by field."""
    data = spec_data(spec)
    if edit:
        edit(data)
    if platforms:
        data["platforms"] = platforms
    _, diagnostics = compiled(data)
    assert [d.field for d in diagnostics if d.code == "LLMD420"] == fields
