"""observability/: Grafana dashboards and alert rules built from the metrics the pinned picker and vLLM export
(catalog/metrics.py), and the monitors the spec's monitoring stack needs that no other emitter writes.

Already emitted elsewhere (not repeated here): the picker's ServiceMonitor (GMP PodMonitoring on GKE) by the router
chart (`router.monitoring`, values/router.yaml), the vLLM PodMonitors by modelserver/ (monitoring.podMonitor). Under
GKE managed Prometheus, where no PodMonitor CRD exists, the vLLM pods get a PodMonitoring here. The dashboards and
rules are our own (the guides' recipes/observability ships its own JSON and rules; only the metric names carry
over): kustomize `observability/base` (dashboard ConfigMaps labelled `grafana_dashboard: "1"`, the label the llm-d
dashboard loader and the Grafana sidecar use) and `observability/overlays/<platform>` (PrometheusRule, or GMP Rules).
"""

from __future__ import annotations

import json
from typing import Any

from llmd_compile import yamlio
from llmd_compile.catalog import autoscaling as cat
from llmd_compile.catalog import metrics
from llmd_compile.emit import epp, gitops
from llmd_compile.emit.kustomize import KUSTOMIZE_API, platforms
from llmd_compile.emit.router import modelservers, podspec
from llmd_compile.errors import SpecError
from llmd_compile.resolve import Stack
from llmd_compile.spec.autoscaling import Wva

DIR = "observability"
DASHBOARD_LABEL = "grafana_dashboard"
# (title, metric, how, unit): one panel per row entry; `how` picks the PromQL shape for the metric's kind.
PICKER_PANELS = (
    ("Requests per second", "llm_d_epp_request_total", "rate", "reqps"),
    ("Errors per second", "llm_d_epp_request_error_total", "rate", "reqps"),
    ("Request duration p90", "llm_d_epp_request_duration_seconds", "p90", "s"),
    ("Time to first token p90 (picker)", "llm_d_epp_request_ttft_seconds", "p90", "s"),
    ("Running requests", "llm_d_epp_request_running", "sum", "short"),
    ("Ready endpoints", "llm_d_epp_ready_endpoints", "max", "short"),
    ("Average queue size", "llm_d_epp_average_queue_size", "max", "short"),
    ("Average KV-cache utilization", "llm_d_epp_average_kv_cache_utilization", "max", "percentunit"),
)
FLOW_PANELS = (
    ("Flow-control queue size", "llm_d_epp_flow_control_queue_size", "sum", "short"),
    ("Pool saturation", "llm_d_epp_flow_control_pool_saturation", "max", "short"),
)
VLLM_PANELS = (
    ("Running requests per pod", "vllm:num_requests_running", "by_pod", "short"),
    ("Waiting requests per pod", "vllm:num_requests_waiting", "by_pod", "short"),
    ("KV-cache usage per pod", "vllm:kv_cache_usage_perc", "by_pod", "percentunit"),
    ("Time to first token p90", "vllm:time_to_first_token_seconds", "p90", "s"),
    ("Inter-token latency p90", "vllm:inter_token_latency_seconds", "p90", "s"),
    ("Prompt tokens per second", "vllm:prompt_tokens_total", "rate", "short"),
    ("Generated tokens per second", "vllm:generation_tokens_total", "rate", "short"),
    ("Prefix-cache hits per second", "vllm:prefix_cache_hits_total", "rate", "short"),
)
SCALING_PANELS = (
    ("Ready endpoints (pool)", "llm_d_epp_ready_endpoints", "max", "short"),
    ("Running requests (picker)", "llm_d_epp_request_running", "sum", "short"),
    ("Waiting requests (vLLM)", "vllm:num_requests_waiting", "sum", "short"),
)


def flow_control(stack: Stack) -> bool:
    try:
        config = epp.endpoint_picker_config(stack)
    except SpecError:  # reported once, by the epp emitter
        return False
    return "flowControl" in (config.get("featureGates") or [])


def selector(stack: Stack, metric: metrics.Metric) -> str:
    labels = {"namespace": stack.names.namespace}
    if metric.exporter == "vllm":
        labels["model_name"] = stack.spec.model.served_name
    elif "inference_pool" in metric.labels:
        labels["inference_pool"] = stack.names.pool
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def expr(stack: Stack, name: str, how: str) -> str:
    known = metrics.exported(_chart(stack))[name]
    sel = selector(stack, known)
    if how == "rate":
        return f"sum(rate({name}{sel}[5m]))"
    if how == "p90":
        return f"histogram_quantile(0.9, sum by (le) (rate({name}_bucket{sel}[5m])))"
    if how == "by_pod":
        return f"sum by (pod) ({name}{sel})"
    return f"{how}({name}{sel})"


def _chart(stack: Stack) -> str:
    assert stack.router is not None
    return stack.router.router_chart


def _dashboard(stack: Stack, uid: str, title: str, panels: tuple[tuple[str, str, str, str], ...]) -> dict[str, Any]:
    body = []
    for i, (panel, name, how, unit) in enumerate(panels):
        body.append({
            "id": i + 1, "type": "timeseries", "title": panel,
            "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": "A", "expr": expr(stack, name, how), "legendFormat": "{{pod}}" if how == "by_pod"
                         else panel}],
        })
    return {
        "uid": uid, "title": title, "schemaVersion": 39, "editable": True, "tags": ["llm-d", "llmd-compile"],
        "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                                 "label": "Prometheus"}]},
        "panels": body,
    }


def dashboards(stack: Stack) -> dict[str, dict[str, Any]]:
    """uid -> Grafana dashboard, every query on a metric the pinned components export."""
    name = stack.spec.metadata.name
    boards = [("picker", "endpoint picker", PICKER_PANELS + (FLOW_PANELS if flow_control(stack) else ())),
              ("vllm", "vLLM model servers", VLLM_PANELS)]
    if stack.spec.autoscaling is not None:
        boards.append(("autoscaling", "autoscaling", SCALING_PANELS))
    # A Grafana uid has at most 40 characters (metadata.name may have 40 already).
    uids = {suffix: f"{name[:39 - len(suffix)].rstrip('-')}-{suffix}" for suffix, _, _ in boards}
    return {uids[suffix]: _dashboard(stack, uids[suffix], f"llm-d {name}: {title}", panels)
            for suffix, title, panels in boards}


def _alert(name: str, expression: str, wait: str, severity: str, summary: str) -> dict[str, Any]:
    return {"alert": name, "expr": expression, "for": wait, "labels": {"severity": severity},
            "annotations": {"summary": summary}}


def rules(stack: Stack) -> list[dict[str, Any]]:
    """Alert groups on the picker's and vLLM's metrics, scoped to this stack's namespace and model."""
    ns, model = stack.names.namespace, stack.spec.model.served_name
    ready = f'llm_d_epp_ready_endpoints{{namespace="{ns}"}}'
    errors = expr(stack, "llm_d_epp_request_error_total", "rate")
    total = expr(stack, "llm_d_epp_request_total", "rate")
    scalers = stack.spec.autoscaling.scalers if stack.spec.autoscaling else []
    # Scaled to zero on purpose, an empty pool is no incident (the picker queues until a replica is Ready).
    picker = [] if any(s.minReplicas == 0 for s in scalers) else [
        _alert("LlmdPoolWithoutEndpoints", f"max({ready}) == 0", "2m", "critical",
               f"InferencePool {stack.names.pool} has no ready model-server endpoint")]
    picker += [
        _alert("LlmdPickerMetricsMissing", f"absent({ready})", "5m", "warning",
               f"no picker metrics from {stack.names.epp}: the ServiceMonitor is missing or not scraped"),
        _alert("LlmdPickerErrorRatio", f"({errors}) / ({total}) > 0.05", "10m", "warning",
               "more than 5% of requests through the picker fail"),
    ]
    picker.append(_alert("LlmdPickerCannotReadModelServers", expr(stack, "llm_d_epp_datalayer_poll_errors_total",
                                                                   "rate") + " > 0", "10m", "warning",
                         "the picker fails to poll model-server metrics: it routes on stale load"))
    if flow_control(stack):
        picker.append(_alert("LlmdPoolSaturated", expr(stack, "llm_d_epp_flow_control_pool_saturation", "max")
                             + " > 1", "10m", "warning", "the pool is past flow control's set point: scale out"))
    vllm = [
        _alert("LlmdModelServerQueueing", f'max(vllm:num_requests_waiting{{namespace="{ns}",model_name="{model}"}})'
               " > 10", "10m", "warning", f"{model}: requests wait in a vLLM queue"),
        _alert("LlmdKvCacheNearlyFull", f'max(vllm:kv_cache_usage_perc{{namespace="{ns}",model_name="{model}"}})'
               " > 0.9", "10m", "warning", f"{model}: KV cache above 90% (preemptions follow)"),
    ]
    groups = [{"name": f"{stack.spec.metadata.name}.picker", "rules": picker},
              {"name": f"{stack.spec.metadata.name}.vllm", "rules": vllm}]
    if any(isinstance(s.scaler, Wva) for s in scalers):
        groups.append({"name": f"{stack.spec.metadata.name}.wva", "rules": [_alert(
            "LlmdWvaMetricMissing", f'absent(wva_desired_replicas{{namespace="{ns}"}})', "10m", "warning",
            "WVA publishes no desired replicas: the autoscaler sits on its fallback")]})
    return groups


def pod_monitorings(stack: Stack) -> list[dict[str, Any]]:
    """GKE managed Prometheus: the vLLM pods' /metrics (the PodMonitor's counterpart; the router chart renders the
    picker's)."""
    out = []
    for role_name, role in stack.roles:
        container = podspec.container(stack, podspec.pod(stack, role_name, role))
        ports = [p["name"] for p in container["ports"] if p["name"] == podspec.PORT_NAME or "rank" in p["name"]]
        out.append({"apiVersion": cat.GMP_API, "kind": "PodMonitoring",
                    "metadata": {"name": modelservers.name(stack, role_name)},
                    "spec": {"selector": {"matchLabels": modelservers.labels(stack, role_name)},
                             "endpoints": [{"port": p, "path": "/metrics",
                                            "interval": stack.spec.monitoring.podMonitor.interval} for p in ports]}})
    return out


def _rule_object(stack: Stack, platform: str) -> dict[str, Any]:
    gke = platform == "kubernetes" and stack.spec.observability.stack == "gke-managed"
    meta: dict[str, Any] = {"name": f"{stack.spec.metadata.name}-alerts",
                            "labels": {modelservers.GUIDE: stack.spec.metadata.name}}
    return {"apiVersion": cat.GMP_API if gke else cat.MONITORING_API, "kind": "Rules" if gke else "PrometheusRule",
            "metadata": meta, "spec": {"groups": rules(stack)}}


def emit(stack: Stack) -> dict[str, str]:
    obs = stack.spec.observability
    gke = obs.stack == "gke-managed" and "kubernetes" in platforms(stack)
    if not (obs.dashboards or obs.alerts or gke):
        return {}
    files: dict[str, str] = {}
    base: list[str] = []
    if obs.dashboards:
        for uid, board in dashboards(stack).items():
            base.append(f"dashboard-{uid}.yaml")
            files[f"{DIR}/base/{base[-1]}"] = yamlio.dump({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": f"{uid}-dashboard", "labels": {DASHBOARD_LABEL: "1"}},
                "data": {f"{uid}.json": json.dumps(board, indent=2, sort_keys=True) + "\n"}})
    files[f"{DIR}/base/kustomization.yaml"] = yamlio.dump({"apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
                                                           "resources": base})
    for platform in platforms(stack):
        resources = ["../../base"]
        if obs.alerts:
            resources.append("rules.yaml")
            files[f"{DIR}/overlays/{platform}/rules.yaml"] = yamlio.dump(_rule_object(stack, platform))
        if platform == "kubernetes" and gke:
            resources.append("podmonitoring.yaml")
            files[f"{DIR}/overlays/{platform}/podmonitoring.yaml"] = yamlio.dump_all(pod_monitorings(stack))
        files[f"{DIR}/overlays/{platform}/kustomization.yaml"] = yamlio.dump({
            "apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "namespace": stack.names.namespace,
            "resources": resources})
    argo = stack.spec.gitops.argocd
    if argo is not None:
        name = stack.spec.metadata.name
        for key, platform, dest in gitops.targets(stack):
            source = {"repoURL": argo.repoURL, "targetRevision": argo.targetRevision,
                      "path": f"{argo.path}/{name}/{DIR}/overlays/{platform}"}
            files[f"argocd/{key}/45-observability.yaml"] = yamlio.dump(gitops._app(
                stack, f"{name}-{key}-observability", 3, stack.names.namespace, [source], name, dest))
    return files
