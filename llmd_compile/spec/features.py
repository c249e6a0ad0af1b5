"""Spec parts of the router-shape paths of llm-d v0.9 (issue 17): tiered prefix cache (KV offloading), flow
control with InferenceObjectives, predicted-latency routing.

Pure data, like models.py (which hooks them in: `kvOffload`, `scheduler.flowControl`,
`scheduler.predictedLatency`). What they compile to: emit/offload.py, emit/flow.py, emit/latency.py.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from llmd_compile.spec.base import DNS_LABEL, DNS_SUBDOMAIN, GO_DURATION, IMAGE, QUANTITY, STRICT

Quantity = Annotated[str, Field(pattern=QUANTITY)]
Name = Annotated[str, Field(pattern=DNS_SUBDOMAIN, max_length=253)]


class _Model(BaseModel):
    model_config = STRICT


# --- tiered prefix cache (guides/tiered-prefix-cache) -------------------------------------------------------------


class CpuTier(_Model):
    # CPU RAM per pod for offloaded KV blocks (vLLM cpu_bytes_to_use / LMCACHE_MAX_LOCAL_CPU_SIZE).
    size: Quantity


class KvStorage(_Model):
    """The ReadWriteMany claim the filesystem tier writes to (guides/tiered-prefix-cache/manifests/pvc.yaml)."""

    name: Name = "llm-d-kv-cache-storage"
    size: Quantity
    # A class whose provisioner serves ReadWriteMany (Lustre, EFS, CephFS); null: the cluster default.
    storageClassName: Name | None = None


class FsTier(_Model):
    # What one pod may write to the shared tier (LMCache LMCACHE_MAX_LOCAL_DISK_SIZE); native: unbounded (the
    # connector never evicts; the claim's size bounds it).
    size: Quantity | None = None
    pvc: KvStorage
    mountPath: Annotated[str, Field(pattern=r"^/[-A-Za-z0-9_./]*$", max_length=200)] = "/mnt/files-storage"


class KvOffload(_Model):
    """Evicted KV blocks move from accelerator memory to CPU RAM (and on to a shared filesystem)."""

    # native: vLLM's OffloadingConnector (the guide's recommendation); lmcache: the LMCache connector.
    connector: Literal["native", "lmcache"] = "native"
    cpu: CpuTier
    filesystem: FsTier | None = None
    # KV bytes one token takes in the cache (2 x layers x KV heads x head dim x dtype bytes): sizes the picker's
    # CPU-tier LRU (lruCapacityPerServer), which vLLM cannot report (the guide sets it by hand).
    kvBytesPerToken: Annotated[int, Field(ge=1, le=1 << 30)] | None = None
    # Or the CPU tier's capacity in blocks, as the guide writes it.
    cpuLruCapacityPerServer: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    # Block size of the native filesystem tier (TieringOffloadingSpec block_size, in tokens).
    fsBlockSize: Annotated[int, Field(ge=1, le=8192)] = 256

    @field_validator("cpuLruCapacityPerServer")
    @classmethod
    def _one_sizing(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("kvBytesPerToken") is not None:
            raise ValueError("set kvBytesPerToken (the capacity follows from cpu.size) or cpuLruCapacityPerServer, "
                             "not both")
        return value


# --- flow control (guides/flow-control) ---------------------------------------------------------------------------


class Objective(_Model):
    """One InferenceObjective (llm-d.ai/v1alpha2): a priority clients pick with x-llm-d-inference-objective."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
    priority: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    # The band's queue bound for this priority (flowControl.priorityBands[].maxRequests).
    maxRequests: Annotated[int, Field(ge=1, le=10_000_000)] | None = None


class Saturation(_Model):
    # concurrency: the guide's concurrency-detector (no telemetry lag); utilization: the picker's default.
    detector: Literal["concurrency", "utilization"] = "concurrency"
    maxConcurrency: Annotated[int, Field(ge=1, le=1_000_000)] = 132
    mode: Literal["requests", "tokens"] = "requests"
    headroom: Annotated[float, Field(ge=0, le=1)] = 0.0


class FlowControl(_Model):
    objectives: Annotated[list[Objective], Field(min_length=1)]
    fairness: Literal["round-robin", "global-strict"] = "round-robin"
    ordering: Literal["fcfs"] = "fcfs"
    saturation: Saturation = Saturation()
    maxBytes: Quantity = "10Gi"
    maxRequests: Annotated[int, Field(ge=1, le=100_000_000)] = 1000
    defaultRequestTTL: Annotated[str, Field(pattern=GO_DURATION)] = "60s"

    @field_validator("objectives")
    @classmethod
    def _unique(cls, value: list[Objective]) -> list[Objective]:
        names = [o.name for o in value]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"objective names must be unique; repeated: {', '.join(dup)}")
        bounds: dict[int, int | None] = {}
        for objective in value:
            seen = bounds.setdefault(objective.priority, objective.maxRequests)
            if seen != objective.maxRequests:
                raise ValueError(f"objectives of priority {objective.priority} share one band; give them one "
                                 "maxRequests")
        return value


# --- predicted-latency routing (guides/predicted-latency-routing) -------------------------------------------------


class Slo(_Model):
    """The latency targets clients send (x-llm-d-slo-ttft-ms / x-llm-d-slo-tpot-ms): with them the picker admits and
    places requests against their SLO (predicted-latency-slo.values.yaml)."""

    ttftMs: Annotated[int, Field(ge=1, le=3_600_000)] | None = None
    tpotMs: Annotated[int, Field(ge=1, le=600_000)] | None = None


class PredictedLatency(_Model):
    slo: Slo | None = None
    # Train TPOT on streamed responses (every request must then be sent with "stream": true); required for a TPOT
    # SLO. Default: on with an SLO, off without.
    streaming: bool | None = None
    maxPrefixTokensToMatch: Annotated[int, Field(ge=1, le=10_000_000)] = 262144
    predictionServers: Annotated[int, Field(ge=1, le=16)] = 1
    # The predictor images; default: the router chart's (a mutable :latest tag, LLMD621 warns).
    trainingImage: Annotated[str, Field(pattern=IMAGE, max_length=255)] | None = None
    predictionImage: Annotated[str, Field(pattern=IMAGE, max_length=255)] | None = None

    @field_validator("streaming")
    @classmethod
    def _tpot_needs_streaming(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        slo = info.data.get("slo")
        if value is False and slo is not None and slo.tpotMs is not None:
            raise ValueError("a TPOT SLO is predicted from streamed inter-token gaps: streaming must be on")
        return value

    @property
    def streaming_mode(self) -> bool:
        return self.streaming if self.streaming is not None else self.slo is not None


# --- several models behind one Gateway (guides/workload-autoscaling/multi-inference-pool) --------------------------

HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$"  # Gateway API HTTPHeaderName (RFC 7230 token)


class RouteMatch(_Model):
    """What requests this stack's HTTPRoute takes, so several stacks (one model each) share one Gateway."""

    # Only requests whose X-Gateway-Base-Model-Name is this stack's served model name (router chart
    # httpRoute.baseModel); clients send it, or a body-based router on the gateway sets it from "model".
    baseModel: bool = False
    # More exact header matches (router chart httpRoute.headerMatches).
    headers: dict[Annotated[str, Field(pattern=HEADER_NAME, max_length=256)],
                  Annotated[str, Field(min_length=1, max_length=4096)]] = {}
