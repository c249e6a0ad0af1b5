"""Every example in specs/, as committed under out/, against the upstream oracles.

* llm-d-infra and llm-d-modelservice values validate against the pinned chart's values.schema.json (merged with
  its values.yaml as Helm does); charts without a schema get a key check against their values.yaml;
* inferencepool values use only keys that chart version has (it ships no schema, CATALOG §d), plus the keys its
  templates read that values.yaml leaves commented out;
* the Kubernetes objects our values become validate as those objects: each model-server container and its volumes
  as a core/v1 Pod, the Istio DestinationRule for the EPP against the Istio CRD;
* every overlay builds with the real `kubectl kustomize`, and every resource it yields, every Argo CD object and
  the benchmark Job validate against the Kubernetes schemas or the CRDs in ../shared/upstream/data;
* the diagnostics find no error in any example.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile import check
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.compile import build
from llmd_compile.spec.load import load
from tests.render.validate import NO_ORACLE

from . import oracles as o
from . import test_version_matrix as vm

REPO = Path(__file__).resolve().parents[2]
# Helm-era examples only: the router-shape ones (release v0.8+) are rendered with the router chart and built with
# kustomize in test_router_render.py and test_router_modelservers.py.
SPECS = [s for s in sorted((REPO / "specs").glob("*.yaml"))
         if not any(f"\nrelease: {r}" in s.read_text(encoding="utf-8") for r in ("v0.8", "v0.9"))]
INFRA, POOL, MS = "llm-d-infra", "inferencepool", "llm-d-modelservice"
VALUES = {INFRA: "values/infra.yaml", POOL: "values/inferencepool.yaml", MS: "values/modelservice.yaml"}
# inferencepool keys the templates read that its values.yaml does not carry: the EPP's extra volumes and mounts,
# and the sidecar block beyond `enabled` (LD@899f8517 gaie-kv-events values, CATALOG §f).
POOL_TEMPLATE_READ = ("inferenceExtension.volumes", "inferenceExtension.volumeMounts", "inferenceExtension.sidecar")
# modelservice keys the v0.2.x templates read that its values.yaml leaves out (pdSpec is decode or prefill; pod-level
# extraConfig since v0.2.5, CATALOG §b.2; acceleratorTypes, which values.yaml gains in v0.2.9, CATALOG §b.3, and the
# LD@e52045bd wide-EP guide sets on v0.2.7).
MS_TEMPLATE_READ = ("prefill.parallelism", "decode.extraConfig", "prefill.extraConfig", "decode.acceleratorTypes",
                    "prefill.acceleratorTypes")
# modelservice container keys the chart consumes itself (not Kubernetes container fields).
CHART_CONTAINER_KEYS = ("modelCommand", "mountModelVolume", "parallelism", "extraConfig")


@functools.cache
def compiled(spec: Path) -> tuple[Any, dict[str, str]]:
    source = spec.relative_to(REPO).as_posix()
    return build(load(spec, source), source)


def stack_dir(spec: Path) -> Path:
    stack, _ = compiled(spec)
    return REPO / "out" / stack.spec.metadata.name


def read(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def read_all(path: Path) -> list[Any]:
    return [d for d in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")) if d is not None]


def ids(specs: list[Path]) -> list[str]:
    return [s.stem for s in specs]


def test_every_example_is_committed() -> None:
    for spec in SPECS:
        assert (stack_dir(spec) / ".llmd-compile.yaml").is_file(), f"run: llmd-compile {spec.relative_to(REPO)}"
    assert len(SPECS) >= 9


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_chart_values_validate(spec: Path) -> None:
    stack, _ = compiled(spec)
    # A picker-only stack (gateway.provider none) installs no llm-d-infra: it has no infra values to validate.
    for chart, version in ((INFRA, stack.infra.version if stack.infra else None), (MS, stack.ms.version)):
        if version is None:
            assert not (stack_dir(spec) / VALUES[chart]).exists()
            continue
        doc = read(stack_dir(spec) / VALUES[chart])
        errors = o.chart_schema_errors(chart, version, doc)
        if errors is None:  # no schema (MS v0.2.7): keys only
            errors = [k for k in vm.unknown_keys(chart, version, doc) if k not in MS_TEMPLATE_READ]
        assert errors == [], chart


def _pool_keys(doc: Any, defaults: Any, path: str = "") -> list[str]:
    if not isinstance(doc, dict) or path in POOL_TEMPLATE_READ or any(path.endswith(m) for m in vm.OPEN_MAPS):
        return []
    out = []
    for key, value in doc.items():
        here = f"{path}.{key}" if path else key
        if here in POOL_TEMPLATE_READ or here in vm.TEMPLATE_READ[POOL]:
            continue
        if not isinstance(defaults, dict) or key not in defaults:
            out.append(here)
        else:
            out += _pool_keys(value, defaults[key], here)
    return out


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_inferencepool_values_use_this_versions_keys(spec: Path) -> None:
    stack, _ = compiled(spec)
    doc = read(stack_dir(spec) / VALUES[POOL])
    assert _pool_keys(doc, vm.chart_defaults(POOL, stack.pool.version)) == []


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_model_server_pods_validate(spec: Path) -> None:
    """Each role's container and volumes, as the core/v1 Pod the modelservice chart puts them in."""
    ms = read(stack_dir(spec) / VALUES[MS])
    for role in ("decode", "prefill"):
        values = ms.get(role) or {}
        if not values.get("create"):
            continue
        containers = [{k: v for k, v in c.items() if k not in CHART_CONTAINER_KEYS} for c in values["containers"]]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{role}-pod",
                                                                "annotations": values.get("podAnnotations", {})},
               "spec": {"containers": containers, "volumes": values.get("volumes", []),
                        "nodeSelector": values.get("nodeSelector", {})}}
        assert o.validate_core(pod) == [], role
        mounts = {m["name"] for c in containers for m in c.get("volumeMounts", [])}
        assert mounts <= {v["name"] for v in values.get("volumes", [])}, role


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_destination_rule_validates(spec: Path) -> None:
    stack, _ = compiled(spec)
    infra_path = stack_dir(spec) / VALUES[INFRA]
    infra, pool = read(infra_path) if infra_path.exists() else {}, read(stack_dir(spec) / VALUES[POOL])
    rule = ((infra.get("gateway") or {}).get("destinationRule") or (pool.get("istio") or {}).get("destinationRule")
            or ((pool.get("provider") or {}).get("istio") or {}).get("destinationRule"))
    if stack.spec.gateway.provider != "istio":
        assert rule is None
        return
    doc = {"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
           "metadata": {"name": f"{stack.names.epp}-tls"},
           "spec": {"host": rule["host"], "trafficPolicy": rule["trafficPolicy"]}}
    assert o.validate_custom(doc) == []
    assert rule["host"] == stack.names.epp_host


def _pod_spec(values: dict[str, Any], proxy: dict[str, Any] | None) -> dict[str, Any]:
    """The pod the chart builds from a role's values: our container and volumes, the accelerator affinity, and on
    decode pods the routing sidecar as a native sidecar (CATALOG §b.2: routing-proxy with --port/--vllm-port)."""
    containers = [{k: v for k, v in c.items() if k not in CHART_CONTAINER_KEYS} for c in values["containers"]]
    pod: dict[str, Any] = {"containers": containers, "volumes": values.get("volumes", [])}
    types = values.get("acceleratorTypes")
    if types:
        pod["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": types["labelKey"], "operator": "In", "values": types["labelValues"]}]}]}}}
    if proxy:
        pod["initContainers"] = [{"name": "routing-proxy", "image": proxy["image"], "restartPolicy": "Always",
                                  "args": ["--port=8000", f"--vllm-port={proxy['targetPort']}",
                                           f"--connector={proxy['connector']}", "--secure-proxy=false"],
                                  "ports": [{"containerPort": 8000, "name": "sidecar", "protocol": "TCP"}]}]
    return pod


MULTINODE = [s for s in SPECS if "dataLocal" in s.read_text(encoding="utf-8")]


@pytest.mark.parametrize("spec", MULTINODE, ids=ids(MULTINODE))
def test_leader_worker_sets_validate(spec: Path) -> None:
    """Wide-EP roles as the LeaderWorkerSet the chart renders with multinode: true, against the LWS CRD."""
    stack, _ = compiled(spec)
    ms = read(stack_dir(spec) / VALUES[MS])
    assert ms["multinode"] is True
    for role in ("decode", "prefill"):
        values = ms.get(role) or {}
        if not values.get("create"):
            continue
        # MS v0.2.x sets the pod labels itself (no modelArtifacts.labels): the ones the stack derives for it.
        labels = {**ms["modelArtifacts"].get("labels", stack.pod_labels), "llm-d.ai/role": role}
        size = values["parallelism"]["workers" if stack.ms.lws_size == "workers" else "data"]
        proxy = ms["routing"]["proxy"] if role == "decode" and ms["routing"]["proxy"].get("enabled", True) else None
        lws = {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet",
               "metadata": {"name": f"{stack.names.ms_fullname}-{role}", "labels": labels},
               "spec": {"replicas": values["replicas"], "leaderWorkerTemplate": {
                   "size": size, "workerTemplate": {"metadata": {"labels": labels},
                                                    "spec": _pod_spec(values, proxy)}}}}
        assert o.validate_custom(lws) == [], role
        assert size * stack.gpus_per_pod(getattr(stack.spec, role)) == (
            getattr(stack.spec, role).parallelism.data * getattr(stack.spec, role).parallelism.tensor)


def _gateway_api_release(spec: Path) -> str | None:
    stack, _ = compiled(spec)
    release = stack.release.gateway_api_crds if stack.release else None
    data = o.shared() / "upstream/data/kubernetes-sigs__gateway-api"
    return release if release and (data / release).is_dir() else None


CLUSTER_SCOPED = frozenset({"ClusterRole", "ClusterRoleBinding"})


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_overlays_build_and_validate(spec: Path) -> None:
    stack, _ = compiled(spec)
    release = _gateway_api_release(spec)
    for platform in stack.spec.platforms.names():
        docs = o.kustomize_build(stack_dir(spec) / "overlays" / platform)
        errors = {f"{d['kind']}/{d['metadata']['name']}": o.validate_any(d, release if d["kind"] == "HTTPRoute"
                                                                          else None) for d in docs
                  if (d["apiVersion"], d["kind"]) not in NO_ORACLE}  # GKE's GMP PodMonitoring: no CRD in ../shared
        assert {name: errs for name, errs in errors.items() if errs} == {}, platform
        # Only a picker-only stack without a cache PVC has nothing of its own in the overlay.
        assert docs or stack.spec.gateway.provider == "none", platform
        namespaced = [d for d in docs if d["kind"] not in CLUSTER_SCOPED]  # GKE: the EPP metrics ClusterRole(Binding)
        assert {d["metadata"].get("namespace") for d in namespaced} == ({stack.names.namespace} if docs else set())


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_gitops_objects_validate(spec: Path) -> None:
    files = [p for p in sorted(stack_dir(spec).rglob("*.yaml"))
             if p.relative_to(stack_dir(spec)).parts[0] in ("argocd", "bench")]
    for path in files:
        for doc in read_all(path):
            if isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc:
                assert o.validate_any(doc) == [], path.relative_to(REPO)


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_diagnostics_find_no_error(spec: Path) -> None:
    stack, files = compiled(spec)
    errors = [str(d) for d in check.run(Artifacts(stack, files)) if d.severity == "error"]
    assert errors == []
