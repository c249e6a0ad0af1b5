"""Autoscaling and observability wiring (LLMD6xx), read from the generated objects.

What goes wrong by hand (llm-d-autoscaling #321/#343, llm-d #1044): an autoscaler on a metric nobody exports or
scrapes (KEDA then sits on its fallback replicas and looks healthy), a PodMonitor on a port the pods do not name,
two autoscalers on one workload, a Deployment's replicas outside its autoscaler's bounds, KEDA and the Prometheus
Adapter both claiming the external metrics API, and Argo CD self-heal resetting the replicas an autoscaler set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from llmd_compile.catalog import metrics
from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts, dig

AUTOSCALING = "autoscaling/base/"
_NAME = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{")  # every query we write selects by label
_PROMQL_WORDS = {"sum", "max", "min", "avg", "rate", "by", "absent", "histogram_quantile", "count", "le"}


def _docs(a: Artifacts, prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rel in sorted(a.files):
        if rel.startswith(prefix) and not rel.endswith("kustomization.yaml") and rel.endswith(".yaml"):
            data = a.doc(rel)
            out += [d for d in (data if isinstance(data, list | tuple) else [data]) if isinstance(d, dict)]
    return out


def _scalers(a: Artifacts) -> list[dict[str, Any]]:
    return [d for d in _docs(a, AUTOSCALING) if d.get("kind") in ("ScaledObject", "HorizontalPodAutoscaler")]


def _index(a: Artifacts, doc: dict[str, Any], nth: int = 0) -> int:
    """The spec scaler an object came from: the nth scaler with the object's target role."""
    auto = a.stack.spec.autoscaling
    target = str(dig(doc, "spec", "scaleTargetRef", "name", default=""))
    if auto is None:
        return 0
    matches = [i for i, s in enumerate(auto.scalers) if target.endswith(f"-{s.target}")]
    return matches[min(nth, len(matches) - 1)] if matches else 0


def query_metrics(query: str) -> list[str]:
    return [metrics.base_name(m) for m in _NAME.findall(query) if m not in _PROMQL_WORDS]


def _adapter_series(a: Artifacts) -> dict[str, str]:
    """External metric name -> Prometheus series, from the Prometheus Adapter values' rules."""
    out = {}
    for rel in sorted(a.files):
        if rel.startswith("autoscaling/prometheus-adapter/"):
            for rule in dig(a.doc(rel), "rules", "external", default=[]) or []:
                series = str(rule.get("seriesQuery", "")).split("{")[0]
                out[str(dig(rule, "name", "as", default=series))] = series
    return out


def scaler_metrics(a: Artifacts, doc: dict[str, Any]) -> list[str]:
    if doc.get("kind") == "ScaledObject":
        return [m for t in dig(doc, "spec", "triggers", default=[]) or []
                for m in query_metrics(str(dig(t, "metadata", "query", default="")))]
    series = _adapter_series(a)
    names = [str(dig(m, "external", "metric", "name", default="")) for m in dig(doc, "spec", "metrics", default=[])]
    return [series.get(n, n) for n in names]


def _pods(a: Artifacts) -> list[dict[str, Any]]:
    return [t for _, t in a.pod_templates()]


def _selects(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def _vllm_monitors(a: Artifacts) -> list[dict[str, Any]]:
    return [d for d in _docs(a, "modelserver/base/") + _docs(a, "observability/overlays/")
            if d.get("kind") in ("PodMonitor", "PodMonitoring")]


def _picker_scraped(a: Artifacts) -> bool:
    return bool(dig(a.router, "router", "monitoring", "prometheus", "enabled"))


def _flow_control(a: Artifacts) -> bool:
    return "flowControl" in (a.epp_config().get("featureGates") or [])


def _why_missing(a: Artifacts, metric: str) -> tuple[str, str] | None:
    """(field to fix, reason) when `metric` would never reach Prometheus; None when it does."""
    assert a.stack.router is not None
    known = metrics.exported(a.stack.router.router_chart).get(metric)
    if known is None:
        return ("", f"{metric!r} is not a metric the pinned picker ({a.stack.picker.name}), vLLM or WVA export")
    if known.exporter == "picker":
        if not _picker_scraped(a):
            return ("monitoring.epp.enabled", "the picker exports them, and no ServiceMonitor scrapes the picker "
                    "(router.monitoring.prometheus.enabled is off)")
        if metric.startswith("llm_d_epp_flow_control_") and not _flow_control(a):
            return ("scheduler", "flow-control metrics exist only with the picker's flowControl feature gate, "
                    "which the EndpointPickerConfig does not enable")
    if known.exporter == "vllm" and not _vllm_monitors(a):
        return ("monitoring.podMonitor.enabled", "vLLM exports them, and no PodMonitor scrapes the model "
                "servers")
    if known.exporter == "wva" and not any(rel.startswith("autoscaling/wva/") for rel in a.files):
        return ("", "the WVA controller exports it, and this stack installs none")
    return None


def _grouped(a: Artifacts, doc: dict[str, Any], names: list[str], default: str) -> Iterator[Finding]:
    """One finding per field to fix, naming every metric of `doc` that would never reach Prometheus."""
    by_field: dict[str, list[tuple[str, str]]] = {}
    for metric in dict.fromkeys(names):
        found = _why_missing(a, metric)
        if found:
            by_field.setdefault(found[0] or default, []).append((metric, found[1]))
    for field, missing in by_field.items():
        reasons = "; ".join(dict.fromkeys(reason for _, reason in missing))
        yield Finding(field, f"{doc['kind']} {doc['metadata']['name']} reads "
                      f"{', '.join(m for m, _ in missing)}: {reasons}")


def unscraped(a: Artifacts) -> Iterator[Finding]:
    if not a.is_router:
        return
    for doc in _scalers(a):
        yield from _grouped(a, doc, scaler_metrics(a, doc), f"autoscaling.scalers[{_index(a, doc)}].scaler")


def observed_unscraped(a: Artifacts) -> Iterator[Finding]:
    if not a.is_router:
        return
    for doc in _docs(a, "observability/"):
        texts = [str(r.get("expr", "")) for g in dig(doc, "spec", "groups", default=[]) or [] for r in g["rules"]]
        for board in (doc.get("data") or {}).values():
            texts += [str(t.get("expr", "")) for p in json.loads(str(board)).get("panels", [])
                      for t in p.get("targets", [])]
        yield from _grouped(a, doc, [m for t in texts for m in query_metrics(t)], "observability")


def monitor_ports(a: Artifacts) -> Iterator[Finding]:
    for mon in _vllm_monitors(a):
        selector = dig(mon, "spec", "selector", "matchLabels", default={}) or {}
        pods = [t for t in _pods(a) if _selects(selector, dig(t, "metadata", "labels", default={}) or {})]
        name = f"{mon['kind']} {mon['metadata']['name']}"
        if not pods:
            yield Finding("monitoring.podMonitor", f"{name} selects no model-server pod ({selector})")
            continue
        ports = {str(p.get("name")) for t in pods for c in dig(t, "spec", "containers", default=[]) or []
                 for p in c.get("ports", []) or []}
        endpoints = dig(mon, "spec", "podMetricsEndpoints", default=None) or dig(mon, "spec", "endpoints", default=[])
        for ep in endpoints or []:
            if str(ep.get("port")) not in ports:
                yield Finding("monitoring.podMonitor", f"{name} scrapes port {ep.get('port')!r}, which the selected "
                              f"pods do not name (they name {sorted(ports)})")


def _workloads(a: Artifacts) -> dict[tuple[str, str], dict[str, Any]]:
    return {(str(d.get("kind")), str(dig(d, "metadata", "name"))): d for d in a.model_server_docs()
            if d.get("kind") in ("Deployment", "LeaderWorkerSet")}


def targets(a: Artifacts) -> Iterator[Finding]:
    workloads = _workloads(a)
    for doc in _scalers(a):
        ref = dig(doc, "spec", "scaleTargetRef", default={}) or {}
        if (str(ref.get("kind")), str(ref.get("name"))) not in workloads:
            yield Finding(f"autoscaling.scalers[{_index(a, doc)}].target", f"{doc['kind']} {doc['metadata']['name']} "
                          f"scales {ref.get('kind')} {ref.get('name')!r}, which the model-server overlay does not "
                          f"create (it creates {sorted(n for _, n in workloads)})")


def doubled(a: Artifacts) -> Iterator[Finding]:
    claimed: dict[tuple[str, str], list[str]] = {}
    for doc in _scalers(a) + [d for d in a.model_server_docs() if d.get("kind") == "HorizontalPodAutoscaler"]:
        ref = dig(doc, "spec", "scaleTargetRef", default={}) or {}
        key = (str(ref.get("kind")), str(ref.get("name")))
        this = f"{doc['kind']} {doc['metadata']['name']}"
        if key in claimed:
            at = f"autoscaling.scalers[{_index(a, doc, len(claimed[key]))}].target"
            yield Finding(at, f"{this} and {claimed[key][0]} both scale "
                          f"{key[0]} {key[1]}: their HPAs overwrite each other's replicas")
        claimed.setdefault(key, []).append(this)


def bounds(a: Artifacts) -> Iterator[Finding]:
    workloads = _workloads(a)
    for doc in _scalers(a):
        ref = dig(doc, "spec", "scaleTargetRef", default={}) or {}
        workload = workloads.get((str(ref.get("kind")), str(ref.get("name"))))
        if workload is None:
            continue
        spec = doc["spec"]
        low = spec.get("minReplicaCount", spec.get("minReplicas", 1))
        high = spec.get("maxReplicaCount", spec.get("maxReplicas"))
        replicas = dig(workload, "spec", "replicas", default=1)
        role = str(dig(workload, "metadata", "labels", "llm-d.ai/role", default="decode"))
        if high is not None and not low <= replicas <= high:
            yield Finding(f"{role}.replicas", f"{workload['kind']} {ref.get('name')} asks for {replicas} replicas, "
                          f"outside {doc['kind']} {doc['metadata']['name']}'s {low}..{high}: the autoscaler moves it "
                          "on its first pass, and every re-apply without Argo CD's ignoreDifferences moves it back")


def two_metric_apis(a: Artifacts) -> Iterator[Finding]:
    kinds = {d.get("kind") for d in _scalers(a)}
    adapter = any(rel.startswith("autoscaling/prometheus-adapter/") for rel in a.files)
    if "ScaledObject" in kinds and adapter:
        yield Finding("autoscaling.scalers", "KEDA and the Prometheus Adapter both serve the "
                      "v1beta1.external.metrics.k8s.io APIService; only one of them can own it, and the other's "
                      "scalers read nothing")


def self_heal(a: Artifacts) -> Iterator[Finding]:
    targeted = {str(dig(d, "spec", "scaleTargetRef", "name")) for d in _scalers(a)}
    for rel in sorted(a.files):
        if not (rel.startswith("argocd/") and rel.endswith("/30-modelserver.yaml")):
            continue
        app = a.doc(rel) or {}
        if not dig(app, "spec", "syncPolicy", "automated", "selfHeal"):
            continue
        ignored = {str(i.get("name")) for i in dig(app, "spec", "ignoreDifferences", default=[]) or []
                   if "/spec/replicas" in (i.get("jsonPointers") or [])}
        respected = "RespectIgnoreDifferences=true" in (dig(app, "spec", "syncPolicy", "syncOptions") or [])
        for name in sorted(targeted - ignored if respected else targeted):
            yield Finding("gitops.argocd", f"{rel}: Argo CD self-heal resets /spec/replicas of {name} to git's value "
                          "after every scaling step (no ignoreDifferences with RespectIgnoreDifferences=true)")


def gmp_podmonitor(a: Artifacts) -> Iterator[Finding]:
    if not a.is_router or a.stack.spec.observability.stack != "gke-managed":
        return
    if any(d.get("kind") == "PodMonitor" for d in a.model_server_docs()) and \
            a.stack.spec.platforms.kubernetes is not None:
        yield Finding("monitoring.podMonitor.enabled", "GKE managed Prometheus reads PodMonitoring "
                      "(observability/ emits one per role); the monitoring.coreos.com PodMonitor in modelserver/ has "
                      "no CRD there and fails to apply")


def helm_era(a: Artifacts) -> Iterator[Finding]:
    if a.is_router:
        return
    spec = a.stack.spec
    if spec.autoscaling is not None:
        yield Finding("autoscaling", "autoscalers are generated for the router shape (release v0.8, v0.9) only")
    if spec.observability.dashboards or spec.observability.alerts or "observability" in spec.model_fields_set:
        yield Finding("observability", "dashboards and alert rules are generated for the router shape (release "
                      "v0.8, v0.9) only")


RULES = (
    Rule("LLMD601", "error", "an autoscaler reads a metric nothing exports or scrapes",
         "enable the monitor named in the message (monitoring.epp / monitoring.podMonitor), the picker's flowControl "
         "feature gate, or scale on a metric the pinned components export", unscraped),
    Rule("LLMD602", "error", "a PodMonitor scrapes a port the selected pods do not name, or selects no pod",
         "let llmd-compile generate the monitors (monitoring.podMonitor); do not hand-edit out/", monitor_ports),
    Rule("LLMD603", "error", "two autoscalers on one workload",
         "keep one scaler per model-server role (KEDA creates its own HPA: never add a second one)", doubled),
    Rule("LLMD604", "warning", "a workload's replicas lie outside its autoscaler's min/max",
         "set the role's replicas between minReplicas and maxReplicas", bounds),
    Rule("LLMD605", "warning", "a dashboard or alert rule reads a metric nothing exports or scrapes",
         "enable the monitor named in the message, or the feature that exports the metric", observed_unscraped),
    Rule("LLMD606", "error", "KEDA and the Prometheus Adapter in one stack",
         "use KEDA for every scaler (scaler.type keda, or wva via keda), or the adapter for every one",
         two_metric_apis),
    Rule("LLMD607", "error", "an autoscaler targets no workload of the stack",
         "target a role the stack runs (decode, or prefill with prefill set)", targets),
    Rule("LLMD608", "error", "Argo CD self-heal fights the autoscaler over /spec/replicas",
         "let llmd-compile generate the model-server Application (ignoreDifferences + RespectIgnoreDifferences)",
         self_heal),
    Rule("LLMD610", "warning", "a PodMonitor under GKE managed Prometheus",
         "drop monitoring.podMonitor on a gke-managed stack (observability/ scrapes vLLM with PodMonitoring)",
         gmp_podmonitor),
    Rule("LLMD609", "error", "autoscaling or observability on the Helm-era shape",
         "use release v0.8 or v0.9 (the router shape), or drop the section", helm_era),
)
