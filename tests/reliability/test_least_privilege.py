"""Least privilege in what we generate: our Jobs pass OpenShift restricted-v2, and nothing privileged appears.

The restricted-v2 rules are encoded in scc.py (with the source they come from) and checked here against the
SecurityContextConstraints CRD in ../shared, then against pods that must be refused, then against the seed
stack's Jobs as `kubectl kustomize` builds each overlay. test_properties.py applies the same admission check
to every generated stack.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from llmd_compile.check.artifacts import Artifacts
from llmd_compile.spec.models import Spec
from llmd_compile.yamlio import dump

from . import harness, scc
from .conformance import o

GOOD_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{"name": "c", "image": "x", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                                        "seccompProfile": {"type": "RuntimeDefault"}}}],
    "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "cache", "persistentVolumeClaim": {"claimName": "c"}}],
}


def test_restricted_v2_as_encoded_is_a_valid_scc() -> None:
    """Every field of the encoding exists in the SecurityContextConstraints CRD (unknown fields are refused)."""
    assert o.validate_custom(scc.RESTRICTED_V2) == []
    broken = {**scc.RESTRICTED_V2, "seccompProfile": ["runtime/default"]}  # the old manifest's misspelling
    assert any("seccompProfile" in e for e in o.validate_custom(broken))


def _with(path: str, value: Any) -> dict[str, Any]:
    pod = copy.deepcopy(GOOD_POD)
    node: Any = pod
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[last] = value
    return pod


REFUSED = [
    ("containers.0.securityContext.privileged", True, "privileged"),
    ("containers.0.securityContext.allowPrivilegeEscalation", True, "allowPrivilegeEscalation"),
    ("containers.0.securityContext.capabilities", {"add": ["IPC_LOCK"], "drop": ["ALL"]}, "adds capabilities"),
    ("containers.0.securityContext.capabilities", {"drop": ["NET_RAW"]}, "does not drop"),
    ("containers.0.securityContext.runAsUser", 0, "runAsUser is fixed"),
    ("securityContext.runAsUser", 1000, "runAsUser is fixed"),
    ("securityContext.fsGroup", 1000, "fsGroup is fixed"),
    ("securityContext.seccompProfile", {"type": "Unconfined"}, "seccompProfile"),
    ("hostNetwork", True, "hostNetwork"),
    ("hostIPC", True, "hostIPC"),
    ("volumes", [{"name": "h", "hostPath": {"path": "/"}}], "hostPath"),
    ("containers.0.ports", [{"containerPort": 80, "hostPort": 80}], "hostPort"),
]


def test_good_pod_is_admitted() -> None:
    assert scc.admission_errors(GOOD_POD) == []
    assert scc.least_privilege_errors(GOOD_POD) == []


@pytest.mark.parametrize(("path", "value", "why"), REFUSED, ids=[f"{p}={v}" for p, v, _ in REFUSED])
def test_restricted_v2_refuses(path: str, value: Any, why: str) -> None:
    errors = scc.admission_errors(_with(path, value))
    assert any(why in e for e in errors), errors


def test_net_bind_service_is_the_one_capability_it_allows() -> None:
    pod = _with("containers.0.securityContext.capabilities", {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]})
    assert scc.admission_errors(pod) == []
    assert scc.least_privilege_errors(pod) != []  # ... and still more than our own Jobs ask for


@pytest.fixture(scope="module")
def seed_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (for kubectl kustomize) is not on PATH")
    stack, files, _ = harness.compile_text(harness.SEED_TEXT, "specs/h100.yaml")
    platforms = stack.spec.platforms.names()
    stack_dir = harness.repo_with(tmp_path_factory.mktemp("seed"), stack.spec.metadata.name, files, platforms)
    return {p: o.kustomize_build(stack_dir / "overlays" / p) for p in platforms}


def _jobs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: pod for doc in docs for name, pod in scc.pod_templates(doc)}


def test_seed_jobs_pass_restricted_v2_on_openshift(seed_builds: dict[str, list[dict[str, Any]]]) -> None:
    jobs = _jobs(seed_builds["openshift"])
    assert {n.split("/")[1] for n in jobs} >= {"inference-scheduling-smoke-test", "inference-scheduling-model-download"}
    for name, pod in jobs.items():
        assert scc.admission_errors(pod) == [], name
        assert scc.least_privilege_errors(pod) == [], name


def test_seed_jobs_least_privileged_on_kubernetes(seed_builds: dict[str, list[dict[str, Any]]]) -> None:
    for name, pod in _jobs(seed_builds["kubernetes"]).items():
        assert scc.least_privilege_errors(pod) == [], name
        assert (pod.get("securityContext") or {}).get("runAsUser", 1) != 0, name


def test_benchmark_job_passes_restricted_v2() -> None:
    _, files, _ = harness.compile_text(harness.SEED_TEXT, "specs/h100.yaml")
    (job,) = harness.yaml12(files["bench/guidellm-job.yaml"])
    ((name, pod),) = scc.pod_templates(job)
    assert scc.admission_errors(pod) == [], name
    assert scc.least_privilege_errors(pod) == [], name


# Fields that would ask for privileges (RDMA, IPC_LOCK for NIXL/wide-EP paths, host networking, privileged SCCs).
PRIVILEGE_KNOBS = re.compile(r"privileg|capabilit|rdma|ipc|hostnetwork|hostpath|securitycontext|scc|infiniband"
                             r"|root|seccomp|runas", re.IGNORECASE)


def _properties(schema: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            found.append(f"{path}.{name}".lstrip("."))
            found += _properties(sub, f"{path}.{name}")
        for key in ("$defs", "definitions"):
            for name, sub in (schema.get(key) or {}).items():
                found += _properties(sub, f"{name}")
    return found


# harness.privileges_asked says what each may add to the output.
KNOWN_KNOBS = ["KvTransfer.rdma", "Prefill.privileges", "Rdma.capabilities", "Rdma.runAsRoot", "Role.privileges"]


def test_every_privilege_knob_is_known() -> None:
    """Nothing privileged may appear unless the spec asks for it (test_properties scans every generated stack for
    privileged, IPC_LOCK, rdma/, host* and added capabilities). A new knob: teach privileges_asked what it may
    add, add a README check below, then list it here."""
    knobs = [p for p in _properties(Spec.model_json_schema()) if PRIVILEGE_KNOBS.search(p.rpartition(".")[2])]
    assert sorted(set(knobs)) == KNOWN_KNOBS


def test_rdma_is_named_in_the_stack_readme() -> None:
    text = harness.SEED_TEXT.replace("decode:\n", "prefill:\n  replicas: 1\n  image: ghcr.io/llm-d/llm-d-dev:pr-170\n"
                                     "kvTransfer:\n  rdma:\n    resource: rdma/roce_gdr\n    count: 1\n"
                                     "decode:\n", 1).replace("gpus: 4", "gpus: 8")
    text = text.replace("  picker: max-score\n", "  picker: max-score\n  disaggregation:\n    decider: always\n")
    _, files, diagnostics = harness.compile_text(text, "specs/pd.yaml")
    assert harness.errors_of(diagnostics) == []
    assert "rdma/roce_gdr" in files["values/modelservice.yaml"]
    assert "rdma/roce_gdr" in files["README.md"]


@pytest.mark.parametrize("tree", [harness.REPO / "out", harness.REPO / "tests" / "golden" / "out"],
                         ids=["out", "tests/golden/out"])
def test_committed_outputs_hold_only_the_privileges_their_specs_ask_for(tree: Path) -> None:
    checked = 0
    for stack_dir in sorted(p for p in tree.iterdir() if (p / ".llmd-compile.yaml").is_file()):
        manifest = harness.yaml12((stack_dir / ".llmd-compile.yaml").read_text(encoding="utf-8"))[0]
        spec_path = tree.parent / manifest["spec"]
        asked = harness.privileges_asked(harness.yaml12(spec_path.read_text(encoding="utf-8"))[0]) \
            if spec_path.is_file() else set()
        files = {p.relative_to(stack_dir).as_posix(): p.read_text(encoding="utf-8")
                 for p in sorted(stack_dir.rglob("*")) if p.is_file() and p.suffix in (".yaml", ".md")}
        found = {f.partition(": ")[2] for f in harness.privileged_findings(files)}
        assert found <= asked, (stack_dir.name, found - asked)
        checked += 1
    assert checked


# --- model servers: what their path asks for, named and diagnosed ----------------------------------------------------

EXAMPLES = sorted((harness.REPO / "specs").glob("*.yaml"))


def _model_pods(ms: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each role's pod as restricted-v2 admission sees it: our container, its securityContext completed with the
    defaults the SCC fills in (drop ALL, no privilege escalation); the chart's volumes are emptyDir or a PVC."""
    pods = {}
    for role in ("decode", "prefill"):
        values = ms.get(role) or {}
        if not values.get("create"):
            continue
        containers = []
        for c in values["containers"]:
            ctx = copy.deepcopy(c.get("securityContext") or {})
            ctx.setdefault("allowPrivilegeEscalation", False)
            ctx.setdefault("capabilities", {}).setdefault("drop", ["ALL"])
            containers.append({"name": c["name"], "securityContext": ctx})
        pods[role] = {"containers": containers}
    return pods


@pytest.mark.parametrize("spec", EXAMPLES, ids=[s.stem for s in EXAMPLES])
def test_restricted_v2_verdict_on_model_servers_is_diagnosed(spec: Path) -> None:
    """On OpenShift, LLMD420 names exactly the roles whose model pods restricted-v2 (scc.py) refuses."""
    data = harness.yaml12(spec.read_text(encoding="utf-8"))[0]
    if data.get("kind") != "Stack" or data.get("extends"):
        pytest.skip("not a standalone stack spec")
    data["platforms"] = {"openshift": {}}
    stack, files, diagnostics = harness.compile_text(dump(data), f"specs/{spec.name}")
    if "values/modelservice.yaml" in files:
        pods = _model_pods(harness.yaml12(files["values/modelservice.yaml"])[0])
    else:  # router shape: the kustomize model servers, every container of each role's pod
        pods = _model_pods({role: {"create": True, "containers": containers}
                            for role, containers in Artifacts(stack, files).role_pods()})
    refused = {role for role, pod in pods.items() if scc.admission_errors(pod)}
    named = {d.message.split(" ", 1)[0] for d in diagnostics if d.code == "LLMD420"}
    assert named == refused


README_WORDS = {"privileged: true": "privileged", "runAsUser: 0": "runAsUser 0", "type: Unconfined": "Unconfined"}


@pytest.mark.parametrize("spec", EXAMPLES, ids=[s.stem for s in EXAMPLES])
def test_every_model_server_privilege_is_described(spec: Path) -> None:
    """security.rows (the stack README's privileges table) names every privilege our model-server values hold."""
    from llmd_compile.emit import security

    data = harness.yaml12(spec.read_text(encoding="utf-8"))[0]
    if data.get("kind") != "Stack" or data.get("extends"):
        pytest.skip("not a standalone stack spec")
    stack, files, _ = harness.compile_text(dump(data), f"specs/{spec.name}")
    model_servers = files.get("values/modelservice.yaml") or "\n".join(
        str(text) for rel, text in files.items() if rel.startswith("modelserver/base/"))  # router shape
    found = {f.partition(": ")[2] for f in harness.privileged_findings({"ms": model_servers})}
    text = " ".join(" ".join(row) for row in security.rows(stack))
    assert {f for f in found - {"rdma/"} if README_WORDS.get(f, f) not in text} == set()
