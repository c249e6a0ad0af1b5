"""The autoscaler objects of one spec scaler: a KEDA ScaledObject, or an autoscaling/v2 HPA, on a model-server
workload of the stack, shaped as the v0.9 guides write them (LD@e3dbeca1 guides/workload-autoscaling/).

Pure functions of the Stack; names and queries derive from the names the rest of the stack uses (the workload
from emit/router/modelservers.py, the EPP Service and the pool from resolve), never typed twice.
"""

from __future__ import annotations

from typing import Any

from llmd_compile.catalog import autoscaling as cat
from llmd_compile.catalog import metrics
from llmd_compile.emit.router import modelservers
from llmd_compile.resolve import Stack
from llmd_compile.spec.autoscaling import Hpa, Keda, ScalePolicy, Scaler, Wva

TRIGGER_AUTH = cat.KEDA_CA_SECRET  # one TriggerAuthentication per namespace, as keda-epp-queue names it


def num(value: float) -> str:
    """A threshold as KEDA and the HPA read it: "16", "0.7"."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def workload(stack: Stack, scaler: Scaler) -> dict[str, Any]:
    """The Deployment / LeaderWorkerSet the scaler targets (the object modelservers emits)."""
    role = stack.spec.prefill if scaler.target == "prefill" else stack.spec.decode
    assert role is not None, "check: a prefill scaler needs prefill (LLMD602)"
    return modelservers.workload(stack, scaler.target, role)


def target_ref(stack: Stack, scaler: Scaler) -> dict[str, str]:
    obj = workload(stack, scaler)
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"]}


def name(stack: Stack, scaler: Scaler) -> str:
    """The ScaledObject / HPA name: `<workload>-<variant>` (a plain HPA takes the workload's name, as the WVA
    guide's hpa.yaml does)."""
    base = target_ref(stack, scaler)["name"]
    by = scaler.scaler
    if isinstance(by, Hpa) or (isinstance(by, Wva) and by.via == "hpa"):
        return base
    return f"{base}-{by.signal if isinstance(by, Keda) else 'wva'}"


def _behavior(up: ScalePolicy, down: ScalePolicy) -> dict[str, Any]:
    def one(p: ScalePolicy) -> dict[str, Any]:
        policies = [{"type": "Percent", "value": p.percent, "periodSeconds": p.periodSeconds}]
        if p.pods is not None:
            policies.append({"type": "Pods", "value": p.pods, "periodSeconds": p.podsPeriodSeconds})
        return {"stabilizationWindowSeconds": p.stabilizationSeconds, "policies": policies}
    return {"scaleUp": one(up), "scaleDown": one(down)}


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def queries(stack: Stack, keda: Keda) -> list[tuple[str, str, str]]:
    """(trigger name, PromQL, threshold) of a KEDA-on-picker scaler; every query pins the namespace (a cluster-wide
    store otherwise sums other tenants' pickers) and returns one element."""
    ns, epp, pool = stack.names.namespace, stack.names.epp, stack.names.pool
    model = stack.spec.model.served_name
    running = "sum(llm_d_epp_request_running{" + _selector({"namespace": ns, "service": epp, "model_name": model}) \
        + "})"
    if keda.signal == "queue":  # trigger names as keda-epp-queue and keda-epp-saturation name them
        queue = ("epp-queue-size", "sum(llm_d_epp_flow_control_queue_size{"
                 + _selector({"namespace": ns, "service": epp, "model_name": model}) + "})", num(keda.queueSize))
        return [queue, ("epp-running-requests", running, num(keda.runningRequests))]
    saturation = ("pool-saturation", "max(llm_d_epp_flow_control_pool_saturation{"
                  + _selector({"inference_pool": pool, "namespace": ns}) + "})", num(keda.saturation))
    return [saturation, ("running-requests", running, num(keda.runningRequests))]


def _wva_meta(stack: Stack, so_name: str, cost: float, keda_for: str | None = None) -> dict[str, Any]:
    """WVA finds a variant by its annotations and copies these labels onto it (wva/optimized-baseline/*)."""
    keda = {"app": keda_for, "scaler": "keda-workload-variant-autoscaler"} if keda_for else {}
    return {
        "name": so_name,
        "annotations": {cat.WVA_MANAGED: "true", cat.WVA_MODEL_ID: stack.spec.model.served_name,
                        cat.WVA_VARIANT_COST: f"{float(cost):.1f}"},
        "labels": {cat.WVA_ACCELERATOR: stack.spec.accelerator.model, "llm-d.ai/inference-serving": "true",
                   modelservers.GUIDE: stack.spec.metadata.name, **keda},
    }


def scaled_object(stack: Stack, scaler: Scaler, server: str) -> dict[str, Any]:
    by = scaler.scaler
    assert isinstance(by, Keda | Wva)
    so_name = name(stack, scaler)
    hpa = {"name": f"keda-hpa-{so_name}", "behavior": _behavior(scaler.scaleUp, scaler.scaleDown)}
    meta: dict[str, Any] = {"name": so_name, "labels": {modelservers.GUIDE: stack.spec.metadata.name}}
    spec: dict[str, Any] = {"scaleTargetRef": target_ref(stack, scaler)}
    if isinstance(by, Keda):
        spec.update({"pollingInterval": by.pollingInterval, "cooldownPeriod": by.cooldownPeriod})
        triggers = [{"type": "prometheus", "name": trigger, "metricType": "AverageValue",
                     "metadata": {"serverAddress": server, "query": query, "threshold": threshold},
                     "authenticationRef": {"name": TRIGGER_AUTH}} for trigger, query, threshold in queries(stack, by)]
    else:
        meta = _wva_meta(stack, so_name, by.variantCost, spec["scaleTargetRef"]["name"])
        # wva/optimized-baseline/keda/base: a short poll, the fallback keeps capacity when Prometheus is away.
        spec.update({"pollingInterval": 5, "cooldownPeriod": 30, "initialCooldownPeriod": 30,
                     "fallback": {"failureThreshold": 3,
                                  "replicas": min(max(scaler.minReplicas, 2), scaler.maxReplicas),
                                  "behavior": "currentReplicasIfHigher"}})
        query = "wva_desired_replicas{" + _selector({"variant_name": so_name,
                                                      "namespace": stack.names.namespace}) + "}"
        # AverageValue: for External metrics a Value target is multiplied by the replica count (runaway growth).
        triggers = [{"type": "prometheus", "name": "wva-desired-replicas", "metricType": "AverageValue",
                     "metadata": {"serverAddress": server, "query": query, "threshold": "1",
                                  "activationThreshold": "0"},
                     "authenticationRef": {"name": TRIGGER_AUTH}}]
    spec.update({"minReplicaCount": scaler.minReplicas, "maxReplicaCount": scaler.maxReplicas,
                 "advanced": {"horizontalPodAutoscalerConfig": hpa}, "triggers": triggers})
    return {"apiVersion": cat.KEDA_API, "kind": "ScaledObject", "metadata": meta, "spec": spec}


def external_name(metric: str) -> str:
    """The External metric name the Prometheus Adapter serves (no ':' in a Kubernetes metric name)."""
    return metric.replace(":", "_")


def metric_selector(stack: Stack, metric: str) -> dict[str, str]:
    """The series of this stack only: by served model, or by pool for the picker's pool gauges."""
    known = metrics.exported(stack.router.router_chart if stack.router else "v0.10.0").get(metric)
    labels = known.labels if known else ("model_name",)
    if "model_name" in labels:
        return {"model_name": stack.spec.model.served_name}
    if "inference_pool" in labels:
        return {"inference_pool": stack.names.pool}
    return {"name": stack.names.pool} if "name" in labels else {}


def hpa(stack: Stack, scaler: Scaler) -> dict[str, Any]:
    by = scaler.scaler
    assert isinstance(by, Hpa | Wva)
    hpa_name = name(stack, scaler)
    meta: dict[str, Any] = {"name": hpa_name, "labels": {modelservers.GUIDE: stack.spec.metadata.name}}
    if isinstance(by, Hpa):
        targets = [(external_name(m.metric), metric_selector(stack, m.metric), num(m.averageValue))
                   for m in by.metrics]
    else:
        meta = _wva_meta(stack, hpa_name, by.variantCost)
        targets = [("wva_desired_replicas", {"variant_name": hpa_name, "exported_namespace": stack.names.namespace},
                    "1")]
    return {"apiVersion": cat.HPA_API, "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": {
        "scaleTargetRef": target_ref(stack, scaler),
        "minReplicas": scaler.minReplicas,
        "maxReplicas": scaler.maxReplicas,
        "behavior": _behavior(scaler.scaleUp, scaler.scaleDown),
        "metrics": [{"type": "External", "external": {
            "metric": {"name": metric, **({"selector": {"matchLabels": sel}} if sel else {})},
            "target": {"type": "AverageValue", "averageValue": value}}} for metric, sel, value in targets],
    }}


def uses_keda(scaler: Scaler) -> bool:
    by = scaler.scaler
    return isinstance(by, Keda) or (isinstance(by, Wva) and by.via == "keda")


def adapter_rules(stack: Stack) -> list[dict[str, Any]]:
    """prometheus-adapter `rules.external` for every HPA metric (components/prometheus-adapter/*-values.yaml)."""
    scalers = stack.spec.autoscaling.scalers if stack.spec.autoscaling else []
    wanted: list[str] = []
    for scaler in scalers:
        by = scaler.scaler
        if isinstance(by, Hpa):
            wanted += [m.metric for m in by.metrics]
        elif isinstance(by, Wva) and by.via == "hpa":
            wanted.append("wva_desired_replicas")
    rules = []
    for metric in dict.fromkeys(wanted):
        # wva_desired_replicas carries the workload's namespace as exported_namespace (the WVA controller's
        # namespace is the scrape label); the others are scraped in the stack's namespace.
        ns_label = "exported_namespace" if metric == "wva_desired_replicas" else "namespace"
        rules.append({
            "seriesQuery": f'{metric}{{{ns_label}!=""}}',
            "resources": {"overrides": {ns_label: {"resource": "namespace"}}},
            "name": {"matches": f"^{metric}$", "as": external_name(metric)},
            "metricsQuery": "sum(<<.Series>>{<<.LabelMatchers>>})",
        })
    return rules
