"""Autoscaling and observability objects, built with the real `kubectl kustomize`, against their CRDs and wired to
the rest of the stack as the cluster would see it.

CRDs: KEDA 2.20.1 and prometheus-operator v0.93.0 (../shared/upstream/data), Argo CD (../shared). GKE managed
Prometheus has no CRD in ../shared: its kinds are listed in NO_ORACLE (as tests/render/validate.py does), so they are
built and wired but not schema-validated, and any other kind without an oracle fails. Wiring oracles that are not
our code: the router chart at the pinned version renders the picker's Service and ServiceMonitor; kustomize builds our
model servers; the WVA v0.9.0 config in ../shared ships the controller's ServiceMonitor; the llm-d v0.9 metric reference
(LD@e3dbeca1 docs/operations/observability/metrics.md) lists what the picker and vLLM export.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.catalog import metrics
from tests.conformance import autoscaling_variants as av
from tests.conformance import oracles as o
from tests.conformance import router_oracle as ro
from tests.conformance.oracles import validate_any

# GKE managed Prometheus kinds: no CRD in ../shared (a fetched copy may not be committed); not schema-validated.
NO_ORACLE = frozenset({("monitoring.googleapis.com/v1", "PodMonitoring"), ("monitoring.googleapis.com/v1", "Rules")})
METRICS_DOC = "upstream/data/llm-d__llm-d/commit-e3dbeca1/docs/operations/observability/metrics.md"
CASES = [(v, p) for v in av.VARIANTS for p in av.platforms(v)]
# kinds each variant must produce on every platform (so an emitter that writes nothing fails).
EXPECTED = {"keda-queue": {"ScaledObject", "TriggerAuthentication"}, "keda-saturation": {"ScaledObject"},
            "hpa": {"HorizontalPodAutoscaler"}, "wva-keda": {"ScaledObject"}, "wva-hpa": {"HorizontalPodAutoscaler"},
            "gke": {"ScaledObject"}, "lws": {"ScaledObject"}}
LWS_CRD = "upstream/data/kubernetes-sigs__lws/v0.9.0/config/crd/bases/leaderworkerset.x-k8s.io_leaderworkersets.yaml"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("autoscaling")


def _validate(doc: dict[str, Any]) -> list[str]:
    if (str(doc.get("apiVersion")), str(doc.get("kind"))) in NO_ORACLE:
        return []
    return validate_any(doc)


def _stack_dir(variant: str, root: Path) -> Path:
    return av.written(variant, root)


@pytest.mark.parametrize(("variant", "platform"), CASES, ids=[f"{v}-{p}" for v, p in CASES])
def test_built_objects_validate(variant: str, platform: str, root: Path) -> None:
    stack_dir = _stack_dir(variant, root)
    docs = av.built(stack_dir / "autoscaling" / "overlays" / platform)
    if (stack_dir / "observability").is_dir():
        docs += av.built(stack_dir / "observability" / "overlays" / platform)
    assert EXPECTED[variant] <= {d["kind"] for d in docs}
    errors = {f"{d['kind']}/{d['metadata']['name']}": _validate(d) for d in docs}
    assert {k: v for k, v in errors.items() if v} == {}
    namespace = compiled_ns(variant)
    namespaced = [d for d in docs if d["kind"] not in ("ClusterRoleBinding",)]
    assert {d["metadata"].get("namespace") for d in namespaced} == {namespace}


def compiled_ns(variant: str) -> str:
    return av.compiled(variant)[0].names.namespace


def _autoscalers(variant: str, platform: str, root: Path) -> list[dict[str, Any]]:
    docs = av.built(_stack_dir(variant, root) / "autoscaling" / "overlays" / platform)
    return [d for d in docs if d["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")]


@pytest.mark.parametrize(("variant", "platform"), CASES, ids=[f"{v}-{p}" for v, p in CASES])
def test_target_is_a_workload_of_the_stack(variant: str, platform: str, root: Path) -> None:
    workloads = av.built(_stack_dir(variant, root) / "modelserver" / "overlays" / platform)
    kinds = {(d["apiVersion"], d["kind"], d["metadata"]["name"], d["metadata"]["namespace"]) for d in workloads
             if d["kind"] in ("Deployment", "LeaderWorkerSet")}
    scalers = _autoscalers(variant, platform, root)
    assert scalers
    for doc in scalers:
        ref = doc["spec"]["scaleTargetRef"]
        assert (ref["apiVersion"], ref["kind"], ref["name"], doc["metadata"]["namespace"]) in kinds
        if ref["kind"] == "LeaderWorkerSet":  # an HPA scales it only through the CRD's scale subresource
            crd = YAML(typ="safe").load((o.shared() / LWS_CRD).read_text(encoding="utf-8"))
            served = [v for v in crd["spec"]["versions"] if f"{crd['spec']['group']}/{v['name']}" == ref["apiVersion"]]
            assert served[0]["subresources"]["scale"]["specReplicasPath"] == ".spec.replicas"


def _query_metrics(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(metric, PromQL) of every trigger / External metric."""
    if doc["kind"] == "ScaledObject":
        return [(m, t["metadata"]["query"]) for t in doc["spec"]["triggers"]
                for m in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", t["metadata"]["query"])]
    return [(m["external"]["metric"]["name"], "") for m in doc["spec"]["metrics"]]


def _labels(query: str) -> dict[str, str]:
    return dict(re.findall(r'([a-z_]+)="([^"]*)"', query))


@pytest.mark.parametrize(("variant", "platform"), CASES, ids=[f"{v}-{p}" for v, p in CASES])
def test_every_metric_has_a_monitor_that_scrapes_it(variant: str, platform: str, root: Path) -> None:
    stack, files = av.compiled(variant)
    stack_dir = _stack_dir(variant, root)
    chart = ro.render(stack, ro.values_of(files))
    services = {d["metadata"]["name"]: d for d in ro.by_kind(chart, "Service")}
    pool = ro.one(chart, "InferencePool")["metadata"]["name"]
    models = av.built(stack_dir / "modelserver" / "overlays" / platform)
    pods = [d["spec"]["template"] for d in models if d["kind"] == "Deployment"]
    adapter = {}
    if (stack_dir / "autoscaling" / "prometheus-adapter").is_dir():
        values = YAML(typ="safe").load((stack_dir / "autoscaling" / "prometheus-adapter" /
                                        f"values-{platform}.yaml").read_text(encoding="utf-8"))
        adapter = {r["name"]["as"]: r["seriesQuery"].split("{")[0] for r in values["rules"]["external"]}
    for doc in _autoscalers(variant, platform, root):
        for name, query in _query_metrics(doc):
            metric = adapter.get(name, name)  # an HPA reads the adapter's External name
            labels = _labels(query)
            if metric.startswith("llm_d_epp_"):
                monitors = [m for m in ro.by_kind(chart, "ServiceMonitor") + ro.by_kind(chart, "PodMonitoring")]
                assert monitors, f"{metric}: the router chart renders no monitor for the picker"
                svc = services[stack.names.epp]
                for mon in ro.by_kind(chart, "ServiceMonitor"):
                    selector = mon["spec"]["selector"]["matchLabels"]
                    assert all(svc["metadata"]["labels"].get(k) == v for k, v in selector.items())
                    assert {e["port"] for e in mon["spec"]["endpoints"]} <= {p["name"] for p in svc["spec"]["ports"]}
                assert labels.get("service", stack.names.epp) in services
                assert labels.get("inference_pool", pool) == pool
            elif metric.startswith("vllm:") or metric.startswith("vllm_"):
                monitors = [m for m in models if m["kind"] == "PodMonitor"]
                assert monitors, f"{metric}: no PodMonitor scrapes vLLM"
                for mon in monitors:
                    sel = mon["spec"]["selector"]["matchLabels"]
                    chosen = [p for p in pods if all(p["metadata"]["labels"].get(k) == v for k, v in sel.items())]
                    assert chosen
                    ports = {p["name"] for t in chosen for c in t["spec"]["containers"] for p in c.get("ports", [])}
                    assert {e["port"] for e in mon["spec"]["podMetricsEndpoints"]} <= ports
            elif metric == "wva_desired_replicas":
                controller = av.built(av.wva_local(stack_dir, platform))
                mons = [d for d in controller if d["kind"] == "ServiceMonitor"]
                svcs = {d["metadata"]["name"]: d for d in controller if d["kind"] == "Service"}
                assert mons and all(validate_any(m) == [] for m in mons)
                for mon in mons:
                    sel = mon["spec"]["selector"]["matchLabels"]
                    target = [s for s in svcs.values() if all(s["metadata"]["labels"].get(k) == v
                                                                for k, v in sel.items())]
                    assert target
                    assert {e["port"] for e in mon["spec"]["endpoints"]} <= {p["name"] for t in target
                                                                             for p in t["spec"]["ports"]}
                if doc["kind"] == "ScaledObject":
                    assert labels["variant_name"] == doc["metadata"]["name"]  # WVA names the variant after it
            else:
                pytest.fail(f"{metric}: no exporter known")
            if "namespace" in labels:
                assert labels["namespace"] == stack.names.namespace


@pytest.mark.parametrize("platform", av.platforms("wva-keda"))
def test_wva_controller_is_namespace_scoped_to_the_stack(platform: str, root: Path) -> None:
    stack, _ = av.compiled("wva-keda")
    docs = av.built(av.wva_local(_stack_dir("wva-keda", root), platform))
    deploy = next(d for d in docs if d["kind"] == "Deployment")
    assert deploy["metadata"]["namespace"] == stack.names.namespace
    args = deploy["spec"]["template"]["spec"]["containers"][0]["args"]
    assert f"--watch-namespace={stack.names.namespace}" in args
    errors = {f"{d['kind']}/{d['metadata']['name']}": validate_any(d) for d in docs}
    assert {k: v for k, v in errors.items() if v} == {}


@pytest.mark.parametrize("variant", list(av.VARIANTS))
def test_argo_leaves_replicas_to_the_autoscaler(variant: str, root: Path) -> None:
    stack, files = av.compiled(variant)
    for platform in av.platforms(variant):
        app = ro.parse(files[f"argocd/{platform}/30-modelserver.yaml"])
        assert validate_any(app) == []
        targets = {(d["spec"]["scaleTargetRef"]["kind"], d["spec"]["scaleTargetRef"]["name"])
                   for d in _autoscalers(variant, platform, root)}
        ignored = {(i["kind"], i["name"]) for i in app["spec"]["ignoreDifferences"]
                   if i["jsonPointers"] == ["/spec/replicas"] and i["namespace"] == stack.names.namespace}
        assert targets == ignored
        assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]
        for child in ("40-autoscaling.yaml", "45-observability.yaml"):
            if f"argocd/{platform}/{child}" in files:
                assert validate_any(ro.parse(files[f"argocd/{platform}/{child}"])) == []


@functools.cache
def _documented() -> frozenset[str]:
    text = (o.shared() / METRICS_DOC).read_text(encoding="utf-8")
    return frozenset(re.findall(r"`((?:llm_d_epp_|vllm:)[a-z_]+)`", text))


def test_catalog_metrics_are_documented_upstream() -> None:
    ours = {m.name for m in (*metrics.PICKER["v0.10.0"], *metrics.VLLM)}
    assert ours - _documented() == set()


@pytest.mark.parametrize("variant", ["keda-queue", "gke"])
def test_dashboards_and_rules_read_exported_metrics(variant: str, root: Path) -> None:
    stack_dir = _stack_dir(variant, root)
    queries: list[str] = []
    for platform in av.platforms(variant):
        for doc in av.built(stack_dir / "observability" / "overlays" / platform):
            if doc["kind"] == "ConfigMap":
                for board in doc["data"].values():
                    queries += [t["expr"] for p in json.loads(board)["panels"] for t in p["targets"]]
            elif doc["kind"] in ("PrometheusRule", "Rules"):
                queries += [r["expr"] for g in doc["spec"]["groups"] for r in g["rules"]]
    names = {metrics.base_name(m) for q in queries for m in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", q)}
    assert len(names) >= 10
    assert names - _documented() == set()
