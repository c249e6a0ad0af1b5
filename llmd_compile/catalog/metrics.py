"""Metrics the pinned components export, as data: what autoscalers, dashboards and alert rules may query.

Sources (facts, not code):
- picker (llm-d-router endpoint picker): `pkg/epp/metrics/llm_d_router_metrics.go` at router tags v0.9.0 and v0.10.0
  (subsystem `llm_d_epp`, label sets `modelLabelsWithFairnessPriority` = model_name, target_model_name,
  fairness_id, priority; `poolLabels` = name; flow-control gauges carry `inference_pool`); the llm-d v0.9 metric
  reference `LD@e3dbeca1:docs/operations/observability/metrics.md` lists the same names.
- vLLM: the "Key vLLM Metrics" table of the same reference (`vllm:` prefix; `model_name` label).
- WVA: `wva_desired_replicas{variant_name, namespace}` (LD@e3dbeca1 guides/workload-autoscaling/wva, and the
  controller's ServiceMonitor, WVA commit d5d58640 config/base/monitoring/servicemonitor.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Exporter = Literal["picker", "vllm", "wva"]


@dataclass(frozen=True)
class Metric:
    name: str
    exporter: Exporter
    kind: Literal["counter", "gauge", "histogram"]
    labels: tuple[str, ...] = ()


_MODEL = ("model_name", "target_model_name", "fairness_id", "priority")
_POOL = ("name",)
_FLOW = ("fairness_id", "priority", "inference_pool", "model_name", "target_model_name")

# Picker metrics present in both router v0.9.0 and v0.10.0 (llm_d_router_metrics.go).
_PICKER_COMMON: tuple[Metric, ...] = (
    Metric("llm_d_epp_request_total", "picker", "counter", _MODEL),
    Metric("llm_d_epp_request_error_total", "picker", "counter", (*_MODEL, "error_code")),
    Metric("llm_d_epp_request_duration_seconds", "picker", "histogram", _MODEL),
    Metric("llm_d_epp_request_input_tokens", "picker", "histogram", _MODEL),
    Metric("llm_d_epp_request_output_tokens", "picker", "histogram", _MODEL),
    Metric("llm_d_epp_request_running", "picker", "gauge", _MODEL),
    Metric("llm_d_epp_request_ttft_seconds", "picker", "histogram", _MODEL),
    Metric("llm_d_epp_request_ntpot_seconds", "picker", "histogram", _MODEL),
    Metric("llm_d_epp_average_kv_cache_utilization", "picker", "gauge", _POOL),
    Metric("llm_d_epp_average_queue_size", "picker", "gauge", _POOL),
    Metric("llm_d_epp_average_running_requests", "picker", "gauge", _POOL),
    Metric("llm_d_epp_ready_endpoints", "picker", "gauge", _POOL),
    Metric("llm_d_epp_scheduler_attempts_total", "picker", "counter"),
    Metric("llm_d_epp_plugin_duration_seconds", "picker", "histogram"),
    Metric("llm_d_epp_flow_control_queue_size", "picker", "gauge", _FLOW),
    Metric("llm_d_epp_flow_control_queue_bytes", "picker", "gauge", _FLOW),
    Metric("llm_d_epp_flow_control_pool_saturation", "picker", "gauge", ("inference_pool",)),
    Metric("llm_d_epp_flow_control_request_queue_duration_seconds", "picker", "histogram"),
    Metric("llm_d_epp_datalayer_poll_errors_total", "picker", "counter", ("source_type",)),
    Metric("llm_d_epp_datalayer_extract_errors_total", "picker", "counter", ("source_type", "extractor_type")),
    Metric("llm_d_epp_info", "picker", "gauge", ("commit", "build_ref")),
)
# New in router v0.10.0.
_PICKER_V010: tuple[Metric, ...] = (
    Metric("llm_d_epp_std_dev_queue_size", "picker", "gauge", _POOL),
    Metric("llm_d_epp_std_dev_kv_cache_utilization", "picker", "gauge", _POOL),
    Metric("llm_d_epp_flow_control_stale_endpoints", "picker", "gauge", ("detector",)),
    Metric("llm_d_epp_flow_control_requests_total", "picker", "counter", ("outcome", "priority", "inference_pool")),
)

# router chart version -> the picker's metrics (the chart pins the picker of the same version).
PICKER: Mapping[str, tuple[Metric, ...]] = MappingProxyType({
    "v0.9.0": _PICKER_COMMON,
    "v0.10.0": _PICKER_COMMON + _PICKER_V010,
})

VLLM: tuple[Metric, ...] = (
    Metric("vllm:num_requests_running", "vllm", "gauge", ("model_name",)),
    Metric("vllm:num_requests_waiting", "vllm", "gauge", ("model_name",)),
    Metric("vllm:kv_cache_usage_perc", "vllm", "gauge", ("model_name",)),
    Metric("vllm:time_to_first_token_seconds", "vllm", "histogram", ("model_name",)),
    Metric("vllm:inter_token_latency_seconds", "vllm", "histogram", ("model_name",)),
    Metric("vllm:prefix_cache_hits_total", "vllm", "counter", ("model_name",)),
    Metric("vllm:prefix_cache_queries_total", "vllm", "counter", ("model_name",)),
    Metric("vllm:prompt_tokens_total", "vllm", "counter", ("model_name",)),
    Metric("vllm:generation_tokens_total", "vllm", "counter", ("model_name",)),
)

WVA: tuple[Metric, ...] = (Metric("wva_desired_replicas", "wva", "gauge", ("variant_name", "namespace")),)


def exported(router_chart: str) -> Mapping[str, Metric]:
    """Every metric name the stack's pinned picker, vLLM and WVA export."""
    return MappingProxyType({m.name: m for m in (*PICKER[router_chart], *VLLM, *WVA)})


def base_name(series: str) -> str:
    """A histogram's series (`_bucket`, `_sum`, `_count`) -> its metric name."""
    for suffix in ("_bucket", "_sum", "_count"):
        if series.endswith(suffix):
            return series[: -len(suffix)]
    return series
