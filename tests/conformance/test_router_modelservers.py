"""The router shape's kustomize model servers (llm-d v0.8/v0.9) build and validate as a cluster would take them.

Every `modelserver/overlays/<platform>` of every router-shape stack in out/, and of the guide specs under
modelserver_guides/ (compiled here), is built with the real `kubectl kustomize` (with the repository's user
components, or the stub the CLI scaffolds), and every built object validates strictly: built-in kinds against the
Kubernetes schemas (kubernetes-validate; DRA's resource.k8s.io/v1 at 1.34, the first release serving it),
LeaderWorkerSet against the LWS v0.9.0 CRD the v0.9 docs install (CURRENT §10), PodMonitor against
prometheus-operator v0.93.0's. Then the cross-object wiring the router relies on
is read back from the built objects: the pool's selector (the guide label) matches every model pod, the ports the
pool and the render Service target exist on those pods, the routing proxy fronts vLLM where P/D asks for it, and
every DRA claim names a built ResourceClaimTemplate.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from llmd_compile import yamlio
from llmd_compile.emit import kustomize
from llmd_compile.emit.router import modelservers
from llmd_compile.resolve import Stack, resolve
from llmd_compile.spec.load import load

from . import oracles as o

REPO = Path(__file__).resolve().parents[2]
GUIDE_SPECS = sorted((Path(__file__).parent / "modelserver_guides").glob("*.yaml"))
CRD_RELEASE = {"LeaderWorkerSet": "v0.9.0", "PodMonitor": "v0.93.0"}
# APIs the oracles' default Kubernetes schemas (1.32) predate: DRA's resource.k8s.io/v1 is served from 1.34.
NEWER_API = {"resource.k8s.io/v1": "1.34"}
DEAD = ("ghcr.io/llm-d/llm-d-inference-scheduler", "ghcr.io/llm-d/llm-d-routing-sidecar",
        "ghcr.io/llm-d/llm-d-uds-tokenizer")


def _out_overlays() -> list[Path]:
    return sorted((REPO / "out").glob("*/modelserver/overlays/*"))


@functools.cache
def stack_of(spec: Path) -> Stack:
    return resolve(load(spec), str(spec))


@functools.cache
def built_guide_spec(spec: Path, tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """Compile the spec's model servers into a scratch repository and build each overlay."""
    stack = stack_of(spec)
    root = tmp / spec.stem
    for rel, text in modelservers.emit(stack).items():
        path = root / "out" / stack.spec.metadata.name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    built = {}
    for platform in stack.spec.platforms.names():
        component = root / "overlays" / platform / "kustomization.yaml"
        component.parent.mkdir(parents=True, exist_ok=True)
        component.write_text(yamlio.dump(kustomize.user_component_kustomization(platform)), encoding="utf-8")
        built[platform] = o.kustomize_build(root / "out" / stack.spec.metadata.name / "modelserver" / "overlays" /
                                            platform)
    return built


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("modelservers")


def _validate_newer(doc: dict[str, Any], version: str) -> list[str]:
    """Strict kubernetes-validate at the first Kubernetes release that serves the object's API."""
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [str(exc.message)]
    return []


def _validate(docs: list[dict[str, Any]]) -> list[str]:
    return [f"{d['kind']}/{d['metadata']['name']}: {e}" for d in docs
            for e in (_validate_newer(d, NEWER_API[d["apiVersion"]]) if d["apiVersion"] in NEWER_API
                      else o.validate_any(d, CRD_RELEASE.get(d["kind"])))]


def _pods(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(kind/name, pod template) of every workload."""
    out = []
    for d in docs:
        if d["kind"] == "Deployment":
            out.append((f"Deployment/{d['metadata']['name']}", d["spec"]["template"]))
        elif d["kind"] == "LeaderWorkerSet":
            template = d["spec"]["leaderWorkerTemplate"]["workerTemplate"]
            out.append((f"LeaderWorkerSet/{d['metadata']['name']}", template))
    return out


def _container_ports(template: dict[str, Any]) -> dict[str | None, int]:
    spec = template["spec"]
    return {p.get("name"): p["containerPort"] for c in [*spec.get("initContainers", []), *spec["containers"]]
            for p in c.get("ports", [])}


def wiring_errors(stack: Stack, docs: list[dict[str, Any]]) -> list[str]:
    errors = []
    namespace = stack.names.namespace
    guide = {"llm-d.ai/guide": stack.spec.metadata.name}
    pods = _pods(docs)
    if len(pods) != len(stack.roles):
        errors.append(f"{len(pods)} workloads for roles {[r for r, _ in stack.roles]}")
    for name, template in pods:
        labels = template["metadata"]["labels"]
        if any(labels.get(k) != v for k, v in stack.pod_labels.items()) or any(labels.get(k) != v
                                                                               for k, v in guide.items()):
            errors.append(f"{name}: pod labels {labels} miss the pool selector {stack.pod_labels}")
        ports = _container_ports(template)
        role = labels.get("llm-d.ai/role")
        if role == "decode" and 8000 not in ports.values():
            errors.append(f"{name}: nothing listens on the pool's target port 8000 ({ports})")
        for c in [*template["spec"].get("initContainers", []), *template["spec"]["containers"]]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                port = c.get(probe, {}).get("httpGet", {}).get("port")
                if isinstance(port, str) and port not in {p.get("name") for p in c.get("ports", [])}:
                    errors.append(f"{name}: {c['name']} {probe} on unknown port {port}")
            if any(str(c.get("image", "")).startswith(dead) for dead in DEAD):
                errors.append(f"{name}: {c['name']} runs an image that can no longer be pulled: {c['image']}")
            if c.get("image", "").startswith("REPLACE_"):
                errors.append(f"{name}: {c['name']} image placeholder {c['image']}")
        sidecars = [c for c in template["spec"].get("initContainers", []) if c["name"] == "routing-proxy"]
        if stack.sidecar and role == "decode":
            if not sidecars or sidecars[0].get("restartPolicy") != "Always":
                errors.append(f"{name}: P/D decode pod without the routing proxy as a native sidecar")
            vllm_ports = {p["containerPort"] for p in template["spec"]["containers"][0]["ports"]}
            if stack.vllm_port not in vllm_ports:
                errors.append(f"{name}: vLLM not on {stack.vllm_port} behind the proxy ({vllm_ports})")
        elif sidecars:
            errors.append(f"{name}: routing proxy on a pod that needs none")
        templates = {d["metadata"]["name"] for d in docs if d["kind"] == "ResourceClaimTemplate"}
        claims = {c["name"]: c.get("resourceClaimTemplateName") for c in template["spec"].get("resourceClaims", [])}
        if any(t not in templates for t in claims.values()):
            errors.append(f"{name}: claims a ResourceClaimTemplate that is not built ({claims})")
        for c in template["spec"]["containers"]:
            if any(x["name"] not in claims for x in c.get("resources", {}).get("claims", [])):
                errors.append(f"{name}: {c['name']} uses a claim the pod does not make")
        if template["spec"].get("serviceAccountName") not in {d["metadata"]["name"] for d in docs
                                                              if d["kind"] == "ServiceAccount"}:
            errors.append(f"{name}: serviceAccountName {template['spec'].get('serviceAccountName')} not built")
    for d in docs:
        if d["metadata"].get("namespace") not in (namespace, None) or (
                d["kind"] != "Namespace" and d["metadata"].get("namespace") != namespace):
            errors.append(f"{d['kind']}/{d['metadata']['name']}: namespace {d['metadata'].get('namespace')}")
        if d["kind"] == "ServiceAccount" and d.get("automountServiceAccountToken") is not False:
            errors.append(f"ServiceAccount/{d['metadata']['name']} mounts an API token")
        if d["kind"] == "Service":
            selected = [t for _, t in pods if all(t["metadata"]["labels"].get(k) == v
                                                  for k, v in d["spec"]["selector"].items())]
            if not selected:
                errors.append(f"Service/{d['metadata']['name']} selects no model pod")
            for port in d["spec"]["ports"]:
                if not all(port["targetPort"] in _container_ports(t) for t in selected):
                    errors.append(f"Service/{d['metadata']['name']}: targetPort {port['targetPort']} not on its pods")
    return errors


@pytest.mark.parametrize("overlay", _out_overlays(), ids=lambda p: f"{p.parts[-4]}-{p.name}")
def test_out_overlay_builds_and_validates(overlay: Path) -> None:
    o.shared()
    docs = o.kustomize_build(overlay)
    assert docs, f"{overlay} builds nothing"
    assert _validate(docs) == []
    stack = stack_of(REPO / "specs" / f"{overlay.parts[-4]}.yaml")
    assert wiring_errors(stack, docs) == []


def test_out_has_router_stacks() -> None:
    """The table above is not empty: specs/ has router-shape stacks, compiled into out/."""
    assert _out_overlays(), "no out/*/modelserver/overlays: no v0.8/v0.9 stack compiled"


@pytest.mark.parametrize("spec", GUIDE_SPECS, ids=lambda p: p.stem)
def test_guide_spec_overlays_build_and_validate(spec: Path, scratch: Path) -> None:
    o.shared()
    stack = stack_of(spec)
    for platform, docs in built_guide_spec(spec, scratch).items():
        assert _validate(docs) == [], platform
        assert wiring_errors(stack, docs) == [], platform


def _break_service(d: dict[str, Any]) -> dict[str, Any]:
    if d["kind"] != "Service":
        return d
    return {**d, "spec": {**d["spec"], "ports": [{**d["spec"]["ports"][0], "targetPort": "nope"}]}}


def _break_labels(d: dict[str, Any]) -> dict[str, Any]:
    if d["kind"] != "Deployment":
        return d
    template = d["spec"]["template"]
    labels = {k: v for k, v in template["metadata"]["labels"].items() if k != "llm-d.ai/guide"}
    return {**d, "spec": {**d["spec"], "template": {**template, "metadata": {"labels": labels}}}}


@pytest.mark.parametrize(("breaker", "expected"), [(_break_service, "targetPort nope not on its pods"),
                                                   (_break_labels, "miss the pool selector")])
def test_wiring_check_can_fail(scratch: Path, breaker: Any, expected: str) -> None:
    """The wiring check reports a Service port the pods lack, and a pod the pool does not select."""
    o.shared()
    spec = next(p for p in GUIDE_SPECS if p.stem == "precise-prefix-cache-routing")
    docs = [breaker(d) for d in built_guide_spec(spec, scratch)["kubernetes"]]
    assert any(expected in e for e in wiring_errors(stack_of(spec), docs))


def v08_variant(spec: Path, tmp: Path) -> Path:
    """The guide spec on llm-d v0.8 (router chart v0.9.0): the same intent, `release: v0.8`."""
    data = o._yaml().load(spec.read_text(encoding="utf-8"))
    data["release"] = "v0.8"
    out = tmp / "v08" / spec.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yamlio.dump(data), encoding="utf-8")
    return out


@pytest.mark.parametrize("spec", GUIDE_SPECS, ids=lambda p: p.stem)
def test_v08_overlays_build_and_validate(spec: Path, scratch: Path) -> None:
    o.shared()
    variant = v08_variant(spec, scratch)
    stack = stack_of(variant)
    assert stack.router is not None and stack.router.name == "v0.8"
    for platform, docs in built_guide_spec(variant, scratch / "v08-build").items():
        assert _validate(docs) == [], platform
        assert wiring_errors(stack, docs) == [], platform
