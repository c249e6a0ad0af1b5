"""Spec parts for workload autoscaling and observability (router shape, llm-d v0.8+).

Pure data, like models.py (whose Spec holds `autoscaling` and `observability`). Each scaler is a discriminated
union on `scaler.type`, as the v0.9 guides' paths are: KEDA on the picker's queue or saturation metrics, an HPA on
picker/vLLM metrics through the Prometheus Adapter, or the workload variant autoscaler (WVA) read through KEDA or
an HPA.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from llmd_compile.spec.base import STRICT

# A Prometheus metric name (vllm: and llm_d_epp_ names); histograms by their base name.
METRIC = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
Threshold = Annotated[float, Field(gt=0, le=1_000_000)]


class _Model(BaseModel):
    model_config = STRICT


class ScalePolicy(_Model):
    """One direction of the HPA `behavior`: a stabilization window and the largest step per period."""

    stabilizationSeconds: Annotated[int, Field(ge=0, le=3600)]
    percent: Annotated[int, Field(ge=1, le=1000)] = 100
    periodSeconds: Annotated[int, Field(ge=1, le=1800)] = 15
    # A second limit in pods per podsPeriodSeconds (the WVA guide's Pods policy); the HPA takes the larger step.
    pods: Annotated[int, Field(ge=1, le=1000)] | None = None
    podsPeriodSeconds: Annotated[int, Field(ge=1, le=1800)] = 15


class Keda(_Model):
    """KEDA's Prometheus scaler on the picker's metrics (guides/workload-autoscaling/keda-epp-{queue,saturation}).

    queue: flow-control queue size + running requests per replica; saturation: the pool's saturation level +
    running requests per replica. Both need the picker's flowControl feature gate (the metrics exist only then).
    """

    type: Literal["keda"]
    signal: Literal["queue", "saturation"] = "queue"
    queueSize: Threshold = 1  # queued requests per replica (signal queue)
    saturation: Threshold = 0.7  # pool saturation (signal saturation; 1.0 is the flow-control set point)
    runningRequests: Threshold = 16  # running requests per replica (both signals)
    pollingInterval: Annotated[int, Field(ge=1, le=3600)] = 15
    cooldownPeriod: Annotated[int, Field(ge=0, le=86400)] = 300


class HpaMetric(_Model):
    # A metric the picker or vLLM exports (LLMD601 checks it is exported and scraped).
    metric: Annotated[str, Field(pattern=METRIC, max_length=200)]
    averageValue: Threshold


class Hpa(_Model):
    """A plain HorizontalPodAutoscaler on External metrics served by the Prometheus Adapter (promadapter.md)."""

    type: Literal["hpa"]
    metrics: Annotated[list[HpaMetric], Field(min_length=1, max_length=8)] = [
        HpaMetric(metric="vllm:num_requests_waiting", averageValue=1)]


class Wva(_Model):
    """The workload variant autoscaler publishes wva_desired_replicas; KEDA (recommended) or an HPA acts on it."""

    type: Literal["wva"]
    via: Literal["keda", "hpa"] = "keda"
    # llm-d.ai/variant-cost: WVA adds capacity on the cheapest variant first.
    variantCost: Annotated[float, Field(ge=0, le=1_000_000)] = 10.0
    # Install the WVA controller (kustomize from its repository, namespace-scoped to the stack's namespace).
    controller: bool = True


class Scaler(_Model):
    # The model-server role whose Deployment (LeaderWorkerSet under wide-EP) is scaled.
    target: Literal["decode", "prefill"] = "decode"
    scaler: Annotated[Keda | Hpa | Wva, Field(discriminator="type")]
    # 0: scale to zero (KEDA activates on the queue; an HPA cannot go below 1).
    minReplicas: Annotated[int, Field(ge=0, le=1000)] = 1
    maxReplicas: Annotated[int, Field(ge=1, le=1000)]
    scaleUp: ScalePolicy = ScalePolicy(stabilizationSeconds=0)
    scaleDown: ScalePolicy = ScalePolicy(stabilizationSeconds=300)

    @field_validator("minReplicas")
    @classmethod
    def _zero_needs_keda(cls, value: int, info: ValidationInfo) -> int:
        scaler = info.data.get("scaler")
        if value == 0 and (isinstance(scaler, Hpa) or (isinstance(scaler, Wva) and scaler.via == "hpa")):
            raise ValueError("an HPA cannot scale to zero (minReplicas >= 1); scale to zero through KEDA")
        return value

    @field_validator("maxReplicas")
    @classmethod
    def _max_above_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("minReplicas")
        if low is not None and value < low:
            raise ValueError(f"must be at least minReplicas ({low})")
        return value


class Autoscaling(_Model):
    scalers: Annotated[list[Scaler], Field(min_length=1, max_length=8)]


class Observability(_Model):
    """The monitoring stack, dashboards and alert rules (router shape)."""

    # The kubernetes platform's monitoring stack; the openshift platform always uses user-workload monitoring.
    stack: Literal["prometheus-operator", "gke-managed"] = "prometheus-operator"
    # Where autoscalers query Prometheus on the kubernetes platform; default: the stack's (required on GKE:
    # https://monitoring.googleapis.com/v1/projects/<project>/location/global/prometheus).
    prometheusUrl: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=500)] | None = None
    # Grafana dashboards (ConfigMaps labelled grafana_dashboard: "1") built from the pinned components' metrics.
    dashboards: bool = False
    # Alert rules (PrometheusRule; Rules under GKE managed Prometheus) on the picker's and vLLM's metrics.
    alerts: bool = False
