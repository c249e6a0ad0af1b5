"""Router-shape stacks (llm-d v0.8/v0.9) rendered with the REAL router chart at the pinned version.

Every rendered object validates strictly (Kubernetes schemas, the CRDs in ../shared), and the cross-object wiring
holds on the rendered objects and the kustomize-built model servers and Gateway — not on our idea of them:
HTTPRoute -> our Gateway, backendRef -> the rendered InferencePool, pool selector -> our pod templates, target
ports -> container ports, EPP args -> pool, the config the EPP mounts == epp/endpoint-picker-config.yaml, every
plugin type registered in the router version (../shared/upstream/plugin-registries/router-vX.json).
"""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from typing import Any

import pytest

from llmd_compile.catalog import router
from tests.conformance import router_oracle as ro
from tests.conformance.oracles import REPO_ROOT, kustomize_build, shared, validate_any

SPECS = ro.router_specs()
# Rendered kinds whose CRD ../shared does not carry (GKE's policy CRDs ship with GKE, not in a repository).
NO_CRD = {"HealthCheckPolicy": "GKE-managed CRD (networking.gke.io), not published",
          "GCPBackendPolicy": "GKE-managed CRD (networking.gke.io), not published",
          "PodMonitoring": "GKE-managed CRD (monitoring.googleapis.com), not in ../shared"}


def test_there_are_router_specs() -> None:
    assert {"optimized-baseline.yaml", "pd-disaggregation.yaml", "precise-prefix-cache-routing.yaml",
            "wide-ep-lws.yaml", "standalone.yaml", "optimized-baseline-v08.yaml"} <= set(SPECS)


@cache
def _rendered(spec: str) -> list[dict[str, Any]]:
    stack, files = ro.compiled(spec)
    return ro.render(stack, ro.values_of(files))


def _out(spec: str) -> Any:
    stack, _ = ro.compiled(spec)
    return REPO_ROOT / "out" / stack.spec.metadata.name


def _built(spec: str, part: str) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (kustomize) not on PATH")
    return kustomize_build(_out(spec) / part)


def _model_server_docs(spec: str) -> list[dict[str, Any]]:
    stack, _ = ro.compiled(spec)
    return _built(spec, f"modelserver/overlays/{stack.spec.platforms.names()[0]}")


def _pod_templates(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(kind/name, pod template) of Deployments and LeaderWorkerSets (leader and worker templates)."""
    out = []
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        spec = doc.get("spec", {}) or {}
        if doc.get("kind") == "Deployment":
            out.append((name, spec.get("template", {})))
        elif doc.get("kind") == "LeaderWorkerSet":
            lws = spec.get("leaderWorkerTemplate", {}) or {}
            out += [(f"{name}/{k}", lws[k]) for k in ("leaderTemplate", "workerTemplate") if k in lws]
    return out


def _serving_ports(template: dict[str, Any]) -> set[int]:
    """Ports the pod serves on: its containers and native sidecars (restartPolicy: Always init containers)."""
    pod = template.get("spec", {}) or {}
    containers = [*(pod.get("containers") or []),
                  *(c for c in pod.get("initContainers") or [] if c.get("restartPolicy") == "Always")]
    return {int(p["containerPort"]) for c in containers for p in c.get("ports") or []}


@pytest.mark.parametrize("spec", SPECS)
def test_router_values_render_and_validate(spec: str) -> None:
    docs = _rendered(spec)
    assert docs, "the chart rendered nothing"
    errors = {}
    for doc in docs:
        if doc.get("kind") in NO_CRD:
            continue
        found = validate_any(doc)
        if found:
            errors[f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"] = found
    assert not errors, json.dumps(errors, indent=1)


@pytest.mark.parametrize("spec", SPECS)
def test_kustomize_builds_validate(spec: str) -> None:
    stack, _ = ro.compiled(spec)
    parts = [f"modelserver/overlays/{p}" for p in stack.spec.platforms.names()]
    if (_out(spec) / "gateway").is_dir():
        parts += [f"gateway/overlays/{p}" for p in stack.spec.platforms.names()]
    errors = {}
    for part in parts:
        for doc in _built(spec, part):
            found = validate_any(doc)
            if found:
                errors[f"{part}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"] = found
    _, files = ro.compiled(spec)
    for rel in (r for r in files if r.startswith("bench/")):  # the guidellm Job, applied as is
        for doc in ro.split_docs(str(files[rel])):
            if found := validate_any(doc):
                errors[rel] = found
    assert not errors, json.dumps(errors, indent=1)


@pytest.mark.parametrize("spec", SPECS)
def test_route_gateway_pool_wiring(spec: str) -> None:
    docs = _rendered(spec)
    pool = ro.one(docs, "InferencePool")
    group = pool["apiVersion"].split("/")[0]
    routes = ro.by_kind(docs, "HTTPRoute")
    if not ro.compiled(spec)[0].spec.gateway.create:  # another stack's Gateway: test_paths17_multimodel.py wires it
        assert len(routes) == 1
        return
    if not (_out(spec) / "gateway").is_dir():
        assert not routes, "a standalone stack renders no HTTPRoute"
        return
    stack, _ = ro.compiled(spec)
    gateways = ro.by_kind(_built(spec, f"gateway/overlays/{stack.spec.platforms.names()[0]}"), "Gateway")
    assert len(gateways) == 1 and len(routes) == 1
    gateway, route = gateways[0], routes[0]
    for ref in route["spec"]["parentRefs"]:
        assert ref["name"] == gateway["metadata"]["name"]
        assert ref.get("namespace", route["metadata"]["namespace"]) == gateway["metadata"]["namespace"]
    listener_ns = gateway["spec"]["listeners"][0]["allowedRoutes"]["namespaces"]["from"]
    assert listener_ns == "All" or gateway["metadata"]["namespace"] == route["metadata"]["namespace"]
    backends = [b for rule in route["spec"]["rules"] for b in rule["backendRefs"]]
    assert backends == [{"group": group, "kind": "InferencePool", "name": pool["metadata"]["name"]}]


@pytest.mark.parametrize("spec", SPECS)
def test_pool_selects_model_servers_on_their_ports(spec: str) -> None:
    pool = ro.one(_rendered(spec), "InferencePool")
    selector = pool["spec"]["selector"]["matchLabels"]
    templates = _pod_templates(_model_server_docs(spec))
    selected = [(name, t) for name, t in templates
                if selector.items() <= ((t.get("metadata") or {}).get("labels") or {}).items()]
    roles = {(t["metadata"]["labels"]).get("llm-d.ai/role") for _, t in selected}
    assert "decode" in roles, f"pool selector {selector} selects no decode pod template of {templates}"
    for name, template in selected:
        missing = {p["number"] for p in pool["spec"]["targetPorts"]} - _serving_ports(template)
        assert not missing, f"{name} serves no container port {sorted(missing)}"


@pytest.mark.parametrize("spec", SPECS)
def test_epp_runs_our_config_for_our_pool(spec: str) -> None:
    stack, files = ro.compiled(spec)
    docs = _rendered(spec)
    values = ro.values_of(files)
    pool = ro.one(docs, "InferencePool")
    epp = next(d for d in ro.by_kind(docs, "Deployment") if d["metadata"]["name"] == stack.names.epp)
    container = next(c for c in epp["spec"]["template"]["spec"]["containers"] if c["name"] == "epp")
    args = container["args"]
    assert args[args.index("--pool-name") + 1] == pool["metadata"]["name"]
    assert args[args.index("--pool-namespace") + 1] == stack.names.namespace
    assert pool["spec"]["endpointPickerRef"]["name"] == stack.names.epp
    config_file = args[args.index("--config-file") + 1]
    mount = next(m for m in container["volumeMounts"] if config_file.startswith(m["mountPath"].rstrip("/") + "/"))
    volume = next(v for v in epp["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"])
    config_map = next(d for d in ro.by_kind(docs, "ConfigMap")
                      if d["metadata"]["name"] == volume["configMap"]["name"])
    mounted = config_map["data"][config_file.rsplit("/", 1)[-1]]
    assert ro.parse(mounted) == ro.parse(files["epp/endpoint-picker-config.yaml"])
    assert container["image"] == stack.spec.scheduler.image
    assert values["router"]["epp"]["pluginsConfigFile"] == config_file.rsplit("/", 1)[-1]


@cache
def _registry(tag: str) -> frozenset[str]:
    path = shared() / "upstream" / "plugin-registries" / f"router-{tag}.json"
    return frozenset(entry["type"] for entry in json.loads(path.read_text(encoding="utf-8")))


@cache
def _removed_in_v011(tag: str) -> frozenset[str]:
    path = shared() / "upstream" / "plugin-registries" / f"router-{tag}.json"
    return frozenset(e["type"] for e in json.loads(path.read_text(encoding="utf-8"))
                     if "v0.11.0" in (e.get("deprecated") or []))


@pytest.mark.parametrize("spec", SPECS)
def test_every_plugin_registered_and_none_deprecated(spec: str) -> None:
    stack, files = ro.compiled(spec)
    config = ro.parse(files["epp/endpoint-picker-config.yaml"])
    tag = re.sub(r"^.*:", "", stack.spec.scheduler.image or "")
    types = {p["type"] for p in config["plugins"]}
    assert config["apiVersion"] == "llm-d.ai/v1alpha1"
    assert types <= _registry(tag), sorted(types - _registry(tag))
    assert not types & _removed_in_v011(tag), "plugins the router removes in v0.11 are never emitted by default"
    assert "hashSeed" not in json.dumps(config), "router v0.9+ needs no hash-seed coupling"


def _images(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "image" and isinstance(v, str)] + \
            [i for v in node.values() for i in _images(v)]
    if isinstance(node, list):
        return [i for v in node for i in _images(v)]
    return []


@pytest.mark.parametrize("spec", SPECS)
def test_no_image_from_an_unpullable_package(spec: str) -> None:
    """llm-d-inference-scheduler, llm-d-routing-sidecar and llm-d-uds-tokenizer cannot be pulled (CURRENT §5)."""
    _, files = ro.compiled(spec)
    images = [*_images(_rendered(spec)), *_images([_model_server_docs(spec)])]
    for path, text in files.items():
        if path.endswith(".yaml"):
            images += _images([ro.split_docs(str(text))])
    text = "\n".join(str(t) for t in files.values())
    assert images, "found no images at all"
    for dead in router.DEAD_IMAGE_REPOS:
        assert dead not in text
        assert not [i for i in images if i.startswith(dead)]


@pytest.mark.parametrize("spec", SPECS)
def test_no_legacy_keys(spec: str) -> None:
    _, files = ro.compiled(spec)
    values = ro.values_of(files)
    assert not set(values) & {"inferenceExtension", "inferencePool", "experimentalHttpRoute", "inferenceObjectives"}


@pytest.mark.parametrize("spec", SPECS)
def test_epp_monitoring_renders_a_scrape_object(spec: str) -> None:
    """monitoring.epp.enabled yields a ServiceMonitor (Prometheus Operator); on GKE it is left out (LLMD433)."""
    stack, _ = ro.compiled(spec)
    kinds = {d.get("kind") for d in _rendered(spec)}
    wanted = stack.spec.monitoring.epp.enabled and stack.spec.gateway.provider != "gke"
    assert bool(kinds & {"ServiceMonitor", "PodMonitoring"}) == wanted, kinds


@pytest.mark.parametrize("version", ["v0.9.0", "v0.10.0"])
def test_gke_gmp_monitoring_is_glued_in_the_router_chart(version: str) -> None:
    """Why the values leave GKE EPP monitoring out: the chart's GMP objects follow a `---apiVersion` line, which
    the kubectl / Argo CD splitter does not split (a duplicate-key document)."""
    helm = pytest.importorskip("helm_python", reason="helm-python-sdk (the test extra) renders the chart")
    values = {"router": {"modelServers": {"matchLabels": {"llm-d.ai/guide": "x"}},
                         "monitoring": {"provider": {"name": "gmp"}, "prometheus": {"enabled": True}}},
              "provider": {"name": "gke"}}
    with helm.Chart.load(str(shared() / "upstream" / "charts" / "llm-d-router-gateway" / version)) as chart:
        files = chart.render(values, name="x", namespace="n", is_install=True)
    glued = [name for name, text in files.items() if "\n---apiVersion" in text]
    assert glued
    with pytest.raises(Exception, match="duplicate key"):
        for name in glued:
            ro.split_docs(files[name])


@pytest.mark.parametrize("spec", SPECS)
def test_argocd_objects_validate(spec: str) -> None:
    """Every Argo CD Application/AppProject and repository Secret we write validates (Argo CD CRDs in ../shared)."""
    _, files = ro.compiled(spec)
    docs = [d for rel, text in files.items() if rel.startswith("argocd/") for d in ro.split_docs(str(text))]
    assert docs
    errors = {f"{d.get('kind')}/{d.get('metadata', {}).get('name')}": e for d in docs if (e := validate_any(d))}
    assert not errors, json.dumps(errors, indent=1)
    router_apps = [d for d in docs if d.get("kind") == "Application" and any(
        s.get("chart", "").startswith("llm-d-router-") for s in d["spec"].get("sources", []))]
    assert len(router_apps) == len([r for r in files if r.startswith("argocd/") and r.count("/") == 1
                                    and r not in ("argocd/projects.yaml", "argocd/repositories.yaml")])
    for app in router_apps:
        values_ref, chart = app["spec"]["sources"]
        assert values_ref["ref"] == "values" and chart["repoURL"] == router.ROUTER_OCI
        assert chart["helm"]["valueFiles"][0].startswith("$values/") and \
            chart["helm"]["valueFiles"][0].endswith("/values/router.yaml")
