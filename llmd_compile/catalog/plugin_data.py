"""Endpoint-picker (EPP) plugin registries as data: the plugin types each picker version registers.

Facts from ``../shared/upstream/CATALOG.md`` §e (e.2 ROUTER v0.10.0 table, e.3 GAIE v1.5.0, e.4 history); type
names are checked against ``plugin-registries/*.json`` by tests/conformance/test_plugin_registry_conformance.
Each registry is the previous one of its family plus a delta. Parameters use a compact ``name:type=default``
notation; ``None`` = the catalog does not state them (accept anything), ``""`` = the plugin takes none.
Parameters stated for one tag carry forward within a family until the catalog records a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

PARAM_TYPES = frozenset({"int", "float", "string", "bool", "object", "list", "duration"})

# Categories: CATALOG.md e.2 "category" column, one token each.
SCORER, PICKER, FILTER, PROFILE_HANDLER = "scorer", "picker", "filter", "profile-handler"
PD_DECIDER, DATA_PRODUCER, ADMITTER, SCREENER = "pd-decider", "data-producer", "admitter", "screener"
DATALAYER_SOURCE, DATALAYER_EXTRACTOR, PARSER = "datalayer-source", "datalayer-extractor", "parser"
SATURATION_DETECTOR, FAIRNESS_POLICY = "saturation-detector", "fairness-policy"
ORDERING_POLICY, USAGE_LIMIT_POLICY = "ordering-policy", "usage-limit-policy"
EVICTION_FILTER, EVICTION_ORDERING = "eviction-filter", "eviction-ordering"
ENDPOINT_DISCOVERY, REQUEST_HEADER, REPORTER = "endpoint-discovery", "request-header", "reporter"
RESPONSE_VERIFIER = "response-verifier"
# prefill-header-handler / disagg-headers-handler only set request headers (a PreRequest plugin in SCHED's
# pkg/plugins/pre-request); e.2 files them under "profile-handler", but they never pick profiles.
PRE_REQUEST = "pre-request"


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "int" | "float" | "string" | "bool" | "object" | "list" | "duration"
    default: object = None


@dataclass(frozen=True)
class PluginType:
    type: str  # registered type string, e.g. "queue-scorer"
    category: str
    params: tuple[Param, ...] | None = ()  # None = parameters not catalogued (accept any object)
    deprecated: str = ""


Registry = dict[str, PluginType]


def _default(type_: str, text: str) -> object:
    if type_ == "int":
        return int(text)
    if type_ == "float":
        return float(text)
    if type_ == "bool" and text in ("true", "false"):
        return text == "true"
    if type_ in ("string", "duration"):
        return text
    raise ValueError(f"bad default {text!r} for a {type_} parameter")


def params(spec: str | None) -> tuple[Param, ...] | None:
    """Parse ``"threshold:int=128 label:string"`` into Params; ``None`` stays ``None``."""
    if spec is None:
        return None
    out: list[Param] = []
    for item in spec.split():
        decl, has_default, text = item.partition("=")
        name, _, type_ = decl.partition(":")
        if type_ not in PARAM_TYPES:
            raise ValueError(f"{item!r}: unknown parameter type {type_!r}")
        out.append(Param(name, type_, _default(type_, text) if has_default else None))
    return tuple(out)


def plugin(type_: str, category: str, spec: str | None = "", deprecated: str = "") -> PluginType:
    return PluginType(type_, category, params(spec), deprecated)


def with_params(
    pt: PluginType, add: str = "", drop: Iterable[str] = (), deprecated: str | None = None
) -> PluginType:
    """Delta on a type's parameters: drop names, then add or replace (a replaced name keeps its place)."""
    if pt.params is None:
        raise ValueError(f"{pt.type}: cannot patch uncatalogued parameters")
    gone = set(drop)
    new = {p.name: p for p in params(add) or ()}
    kept = [new.pop(p.name, p) for p in pt.params if p.name not in gone]
    dep = pt.deprecated if deprecated is None else deprecated
    return replace(pt, params=(*kept, *new.values()), deprecated=dep)


def evolve(base: Mapping[str, PluginType], *changes: PluginType, drop: Iterable[str] = ()) -> Registry:
    """A new registry: ``base`` minus ``drop``, plus (or overridden by) ``changes``."""
    gone = set(drop)
    if gone - base.keys():
        raise ValueError(f"cannot drop unregistered types {sorted(gone - base.keys())}")
    out = {name: pt for name, pt in base.items() if name not in gone}
    out.update((pt.type, pt) for pt in changes)
    return out


# ----------------------------------------------------------------------------------------------------
# GAIE in-tree registries (e.4 table; e.3 for v1.5.0)

_PICKER = "maxNumOfEndpoints:int=1"
_PREFIX_V0 = "hashBlockSize:int=64 maxPrefixBlocksToMatch:int=256 lruCapacityPerServer:int=31250"
# From v1.5.0 prefix-cache-scorer parameters are forwarded to the auto-created approx-prefix-cache-producer.
_APPROX_PREFIX = (
    "autoTune:bool blockSizeTokens:int=16 blockSize:int maxPrefixBlocksToMatch:int=256"
    " maxPrefixTokensToMatch:int lruCapacityPerServer:int=31250"
)
_DECISION_TREE = "current:object nextOnSuccess:object nextOnFailure:object nextOnSuccessOrFailure:object"
_LATENCY_SCORER = (
    "ttftWeight:float tpotWeight:float headroomSelectionStrategy:string compositeKVWeight:float"
    " compositeQueueWeight:float compositePrefixWeight:float"
)
_CONCURRENCY = (
    "maxConcurrency:int=100 headroom:float=0.0 concurrencyMode:string=requests"
    " maxTokenConcurrency:int=1000000"
)
_SOURCE_TLS = "insecureSkipVerify:bool=true caCertPath:string clientCertPath:string clientKeyPath:string"


def gaie_registries() -> dict[str, Registry]:
    """GAIE tag (``"v1.2.0"``) -> registry."""
    v0_5_1 = evolve(
        {},
        plugin("decision-tree-filter", FILTER, _DECISION_TREE),
        plugin("least-kv-cache-filter", FILTER, None),
        plugin("least-queue-filter", FILTER, None),
        plugin("lora-affinity-filter", FILTER, "threshold:float"),
        plugin("low-queue-filter", FILTER, "threshold:int"),
        plugin("prefix-cache-scorer", SCORER, _PREFIX_V0),
        plugin("max-score-picker", PICKER, _PICKER),
        plugin("random-picker", PICKER, _PICKER),
        plugin("single-profile-handler", PROFILE_HANDLER),
        plugin("kv-cache-scorer", SCORER),  # old name of kv-cache-utilization-scorer (no parameters)
        plugin("queue-scorer", SCORER),
        plugin("header-based-testing-filter", FILTER),
    )
    v1_0_1 = evolve(
        v0_5_1,
        plugin("kv-cache-utilization-scorer", SCORER),
        plugin("weighted-random-picker", PICKER, _PICKER),
        plugin("lora-affinity-scorer", SCORER),
        drop=("decision-tree-filter", "least-kv-cache-filter", "least-queue-filter", "lora-affinity-filter",
              "low-queue-filter", "kv-cache-scorer"),
    )
    v1_2_0 = evolve(
        v1_0_1,
        with_params(v1_0_1["prefix-cache-scorer"], add="autoTune:bool blockSize:int=64",
                    drop=["hashBlockSize"]),  # renamed blockSize
        plugin("destination-endpoint-served-verifier", RESPONSE_VERIFIER),
    )
    v1_3_0 = evolve(
        v1_2_0,
        plugin("running-requests-size-scorer", SCORER),
        plugin("predicted-latency-scorer", SCORER, None),
        plugin("metrics-data-source", DATALAYER_SOURCE, None),
        plugin("model-server-protocol-metrics", DATALAYER_EXTRACTOR, None),
    )
    v1_4_0 = evolve(
        v1_3_0,
        with_params(v1_3_0["prefix-cache-scorer"], add="blockSizeTokens:int=16"),  # blockSize deprecated
        plugin("global-strict-fairness-policy", FAIRNESS_POLICY),
        plugin("round-robin-fairness-policy", FAIRNESS_POLICY),
        plugin("fcfs-ordering-policy", ORDERING_POLICY),
        plugin("edf-ordering-policy", ORDERING_POLICY),
        plugin("k8s-notification-source", DATALAYER_SOURCE, None),
        plugin("request-attribute-reporter", REPORTER, None),
        # Registered by an init() in pkg/epp/saturationdetector/framework/plugins/concurrencydetector.
        plugin("concurrency-detector", SATURATION_DETECTOR, None),
    )
    v1_5_0 = evolve(
        v1_4_0,
        plugin("prefix-cache-scorer", SCORER, _APPROX_PREFIX),
        plugin("approx-prefix-cache-producer", DATA_PRODUCER, _APPROX_PREFIX),
        plugin("token-load-scorer", SCORER, "queueThresholdTokens:int=4194304"),
        plugin("slo-deadline-ordering-policy", ORDERING_POLICY),
        plugin("static-usage-limit-policy", USAGE_LIMIT_POLICY, None),
        plugin("predicted-latency-scorer", SCORER, None),  # e.3 names its parameters only loosely
        plugin("predicted-latency-producer", DATA_PRODUCER, None),
        plugin("inflight-load-producer", DATA_PRODUCER, None),
        plugin("latency-slo-admitter", ADMITTER, None),
        plugin("prefix-cache-affinity-filter", FILTER,
               "affinityThreshold:float=0.8 explorationProbability:float=0 maxTTFTPenaltyMs:float=18000"),
        plugin("slo-headroom-tier-filter", FILTER, None),
        plugin("latency-scorer", SCORER, _LATENCY_SCORER),
        plugin("metrics-data-source", DATALAYER_SOURCE,
               "scheme:string=http path:string=/metrics insecureSkipVerify:bool=true"),
        plugin("core-metrics-extractor", DATALAYER_EXTRACTOR, None),
        plugin("endpoint-notification-source", DATALAYER_SOURCE, None),
        plugin("openai-parser", PARSER),
        plugin("vllmgrpc-parser", PARSER),
        plugin("passthrough-parser", PARSER),
        plugin("concurrency-detector", SATURATION_DETECTOR, _CONCURRENCY),
        plugin("utilization-detector", SATURATION_DETECTOR, None),
        # Registered by init() in pkg/epp/framework/plugins/flowcontrol/eviction/{filtering,ordering} (e.3).
        plugin("eviction-sheddable-filter", EVICTION_FILTER),
        plugin("eviction-priority-then-time-ordering", EVICTION_ORDERING),
        drop=("model-server-protocol-metrics",),  # -> core-metrics-extractor
    )
    return {"v0.5.1": v0_5_1, "v1.0.1": v1_0_1, "v1.2.0": v1_2_0, "v1.3.0": v1_3_0, "v1.4.0": v1_4_0,
            "v1.5.0": v1_5_0}


# ----------------------------------------------------------------------------------------------------
# llm-d-inference-scheduler's own types (e.4 SCHED table); plugins.py merges them over the GAIE base registry.

_PD_V0_2 = "threshold:int decodeProfile:string=decode prefillProfile:string=prefill hashBlockSize:int"
_PRECISE_V0_3 = "indexerConfig:object kvEventsConfig:object"
_PD_DEPRECATED = "deprecated in sched v0.7.0; use disagg-profile-handler"


def sched_registries() -> dict[str, Registry]:
    """SCHED tag -> llm-d's own types (without the GAIE base)."""
    v0_2_1 = evolve(
        {},
        plugin("by-label", FILTER, None),
        plugin("by-label-selector", FILTER, None),
        plugin("decode-filter", FILTER),
        plugin("prefill-filter", FILTER),
        plugin("prefill-header-handler", PRE_REQUEST, "prefillProfile:string=prefill"),
        plugin("pd-profile-handler", PROFILE_HANDLER, _PD_V0_2),
        # Overrides GAIE's type: mode estimate (default; GAIE params) or cache_tracking (indexer/kvEvents).
        plugin("prefix-cache-scorer", SCORER, f"mode:string=estimate {_PRECISE_V0_3} {_PREFIX_V0}"),
        plugin("load-aware-scorer", SCORER, None),
        plugin("session-affinity-scorer", SCORER, None),
    )
    v0_3_2 = evolve(
        v0_2_1,
        with_params(v0_2_1["pd-profile-handler"], add="prefixPluginName:string"),
        plugin("precise-prefix-cache-scorer", SCORER, _PRECISE_V0_3),
        plugin("active-request-scorer", SCORER, None),
        drop=("prefix-cache-scorer",),  # back to GAIE's; cache_tracking became precise-prefix-cache-scorer
    )
    v0_4_0 = evolve(
        v0_3_2,
        with_params(v0_3_2["pd-profile-handler"], add="primaryPort:int"),
        plugin("data-parallel-profile-handler", PROFILE_HANDLER, "primaryPort:int"),
        plugin("no-hit-lru-scorer", SCORER, None),
    )
    v0_5_1 = evolve(v0_4_0, with_params(v0_4_0["pd-profile-handler"], add="prefixPluginType:string"))
    v0_6_0 = evolve(
        v0_5_1,
        with_params(v0_5_1["pd-profile-handler"], add="deciderPluginName:string=always-disagg-pd-decider",
                    drop=("threshold", "hashBlockSize")),
        plugin("models-data-source", DATALAYER_SOURCE, None),
        plugin("model-server-protocol-models", DATALAYER_EXTRACTOR),
        plugin("prefix-based-pd-decider", PD_DECIDER, None),
        plugin("always-disagg-pd-decider", PD_DECIDER),
    )
    v0_7_1 = evolve(
        v0_6_0,
        with_params(v0_6_0["pd-profile-handler"], add="deciderPluginName:string=prefix-based-pd-decider",
                    deprecated=_PD_DEPRECATED),
        with_params(v0_6_0["precise-prefix-cache-scorer"],
                    add="tokenProcessorConfig:object speculativeIndexing:bool speculativeTTL:string"),
        plugin("prefix-based-pd-decider", PD_DECIDER, "nonCachedTokens:int promptTokens:int"),
        plugin("encode-filter", FILTER),
        # prefill-header-handler is now an alias of disagg-headers-handler; parameters at this tag not stated.
        plugin("disagg-headers-handler", PRE_REQUEST, None),
        plugin("prefill-header-handler", PRE_REQUEST, None),
        plugin("disagg-profile-handler", PROFILE_HANDLER, None),
        plugin("tokenizer", DATA_PRODUCER, None),
        plugin("always-disagg-multimodal-decider", PD_DECIDER),
        plugin("context-length-aware", SCORER, None),
    )
    v0_8_0 = evolve(v0_7_1)  # same set, moved to pkg/epp/framework/plugins/...
    return {"v0.2.1": v0_2_1, "v0.3.2": v0_3_2, "v0.4.0": v0_4_0, "v0.5.1": v0_5_1, "v0.6.0": v0_6_0,
            "v0.7.1": v0_7_1, "v0.8.0": v0_8_0}


# ----------------------------------------------------------------------------------------------------
# llm-d-router = GAIE v1.5.0 + SCHED v0.8.0 in one tree. Parameters are the e.2 (ROUTER v0.10.0) sets; the
# catalog has no separate v0.9.0 parameter table, so v0.9.0 uses them too.

_ROUTER_DEPRECATED = "deprecated in router v0.9.0 (removal v0.11.0); use {}"
_LABEL_SELECTOR = "matchLabels:object matchExpressions:list"
_SESSION_AFFINITY = (
    "strategy:string=encoded_endpoint_header encodedEndpointHeaderConfig:object sessionIdConfig:object"
    " profileName:string"
)
_DISAGG_HEADERS = "prefillProfile:string=prefill encodeProfile:string=encode"
_PD_ROUTER = (
    "decodeProfile:string=decode prefillProfile:string=prefill prefixPluginType:string prefixPluginName:string"
    " primaryPort:int deciderPluginName:string=prefix-based-pd-decider prefixMatchInfoProducerName:string"
)
# profiles{decode,prefill,encode}, deciders{prefill,encode}; the legacy flat keys are still parsed.
_DISAGG_PROFILE = (
    "stageOrder:string=decode-first profiles:object deciders:object decodeProfile:string"
    " prefillProfile:string encodeProfile:string prefillDeciderPluginName:string"
    " encodeDeciderPluginName:string deciderPluginName:string"
)
_TOKEN_PRODUCER = "modelName:string udsTokenizerConfig:object vllm:object estimate:object"
_PRECISE_ROUTER = (
    f"tokenProcessorConfig:object {_PRECISE_V0_3} speculativeIndexing:bool speculativeTTL:string"
)
_PREDICTED_LATENCY_PRODUCER = (
    "samplingMean:float maxDecodeTokenSamplesForPrediction:int sloBufferFactor:float contextTTL:duration"
    " streamingMode:bool endpointRoleLabel:string predictInProduce:bool prefixMatchInfoProducerName:string"
    " inFlightLoadProducerName:string useEncoderCacheFeatures:bool encoderCacheMatchInfoProducerName:string"
)
_PROGRAM_AWARE = (
    "strategy:string evictionTtlSeconds:float evictionSweepSeconds:float lasWeightService:float"
    " lasWeightHeadWait:float lasDecayFactor:float lasHalfLifeSeconds:float"
)
_INFLIGHT = (
    "addEstimatedOutputTokens:bool outputRatio:float=1.5 maxEstimatedOutputTokens:int"
    " prefixMatchInfoProducerName:string syncCrossReplicaState:bool"
)
_AFFINITY_FILTER_EXTRA = (
    "ttftSource:string peakPrefillThroughput:float=15928 prefixMatchInfoProducerName:string"
    " latencyPredictionInfoProducerName:string inFlightLoadProducerName:string"
)
_UTILIZATION = (
    "queueDepthThreshold:int=5 kvCacheUtilThreshold:float=0.8 metricsStalenessThreshold:duration"
    " headroom:float=0.0"
)
_METRICS_SOURCE = "scheme:string={} path:string=/metrics port:int interval:string " + _SOURCE_TLS
_NOTIFICATION_SOURCE = "group:string version:string kind:string"
_BURST_PREFIX = (
    "windowDurationMs:int=100 maxPerReplica:int blockSizeTokens:int=64 maxPrefixTokensToMatch:int"
    " minColocateBlocks:int=0 maxBatchSize:int=1000 balanceBy:string"
)


def router_registries(gaie_v1_5_0: Mapping[str, PluginType], sched_v0_8_0: Mapping[str, PluginType]) -> dict[
    str, Registry
]:
    """ROUTER tag -> full registry."""
    label_dep = _ROUTER_DEPRECATED.format("label-selector-filter")
    headers_dep = _ROUTER_DEPRECATED.format("disagg-profile-handler")
    v0_9_0 = evolve(
        {**gaie_v1_5_0, **sched_v0_8_0},
        plugin("label-selector-filter", FILTER, _LABEL_SELECTOR),
        plugin("by-label-selector", FILTER, _LABEL_SELECTOR, label_dep),
        plugin("by-label", FILTER, "label:string validValues:list allowsNoLabel:bool", label_dep),
        plugin("session-affinity-filter", FILTER, _SESSION_AFFINITY),
        plugin("session-affinity-scorer", SCORER, _SESSION_AFFINITY),
        plugin("load-aware-scorer", SCORER, "threshold:int=128"),
        plugin("context-length-aware", SCORER,
               "label:string=llm-d.ai/context-length-range enableFiltering:bool"),
        plugin("models-data-source", DATALAYER_SOURCE,
               "scheme:string=http path:string=/v1/models interval:string " + _SOURCE_TLS),
        plugin("models-data-extractor", DATALAYER_EXTRACTOR),
        plugin("prefix-cache-scorer", SCORER,
               "prefixMatchInfoProducerName:string matchLengthWeight:float=0.0"
               " matchLengthScaleTokens:int=8192"),
        plugin("disagg-headers-handler", PRE_REQUEST, _DISAGG_HEADERS, headers_dep),
        plugin("prefill-header-handler", PRE_REQUEST, _DISAGG_HEADERS, headers_dep),
        plugin("pd-profile-handler", PROFILE_HANDLER, _PD_ROUTER, _PD_DEPRECATED),
        plugin("disagg-profile-handler", PROFILE_HANDLER, _DISAGG_PROFILE),
        plugin("prefix-based-pd-decider", PD_DECIDER, "nonCachedTokens:int=0 promptTokens:int=0"),
        with_params(gaie_v1_5_0["token-load-scorer"], add="inFlightLoadProducerName:string"),
        plugin("no-hit-lru-scorer", SCORER,
               "prefixPluginType:string prefixPluginName:string lruSize:int=1024"
               " prefixMatchInfoProducerName:string"),
        plugin("active-request-scorer", SCORER,  # requestTimeout is deprecated and ignored
               "requestTimeout:string idleThreshold:int=0 maxBusyScore:float=1.0"
               " inFlightLoadProducerName:string"),
        plugin("precise-prefix-cache-scorer", SCORER, _PRECISE_ROUTER),
        plugin("mm-embeddings-cache-scorer", SCORER, "producerName:string"),
        with_params(plugin("precise-prefix-cache-producer", DATA_PRODUCER, _PRECISE_ROUTER),
                    add="speculativeTTL:string=2s"),
        plugin("program-aware-fairness", FAIRNESS_POLICY, _PROGRAM_AWARE),
        plugin("static-usage-limit-policy", USAGE_LIMIT_POLICY, "threshold:float=1.0"),
        plugin("inflight-load-producer", DATA_PRODUCER, _INFLIGHT),
        plugin("predicted-latency-producer", DATA_PRODUCER, _PREDICTED_LATENCY_PRODUCER),
        plugin("tokenizer", DATA_PRODUCER, _TOKEN_PRODUCER, _ROUTER_DEPRECATED.format("token-producer")),
        plugin("token-producer", DATA_PRODUCER, _TOKEN_PRODUCER),
        plugin("mm-embeddings-cache-producer", DATA_PRODUCER, "cacheSizeInMBPerServer:int=4096"),
        plugin("session-id-producer", DATA_PRODUCER, "headerName:string cookieName:string"),
        plugin("latency-slo-admitter", ADMITTER, "latencyPredictionInfoProducerName:string"),
        plugin("probabilistic-admitter", ADMITTER,
               "queueDepthThreshold:int=5 kvCacheUtilThreshold:float=0.8 power:float=5.0 k:float=300.0"),
        with_params(gaie_v1_5_0["prefix-cache-affinity-filter"], add=_AFFINITY_FILTER_EXTRA),
        plugin("slo-headroom-tier-filter", FILTER,
               "epsilonExploreNeg:float latencyPredictionInfoProducerName:string"),
        with_params(gaie_v1_5_0["latency-scorer"],
                    add="latencyPredictionInfoProducerName:string prefixMatchInfoProducerName:string"),
        plugin("metrics-data-source", DATALAYER_SOURCE, _METRICS_SOURCE.format("http")),
        plugin("core-metrics-extractor", DATALAYER_EXTRACTOR,
               "engineLabelKey:string=llm-d.ai/engine-type defaultEngine:string=vllm engineConfigs:list"),
        plugin("k8s-notification-source", DATALAYER_SOURCE, _NOTIFICATION_SOURCE),
        plugin("endpoint-notification-source", DATALAYER_SOURCE, _NOTIFICATION_SOURCE),
        plugin("request-attribute-reporter", REPORTER, "attributes:list"),
        plugin("anthropic-parser", PARSER),
        plugin("vllmhttp-parser", PARSER),
        plugin("vertexai-parser", PARSER),
        with_params(gaie_v1_5_0["concurrency-detector"], add="inFlightLoadProducerName:string"),
        plugin("utilization-detector", SATURATION_DETECTOR, _UTILIZATION),
        plugin("file-discovery", ENDPOINT_DISCOVERY, "path:string watchFile:bool"),
        plugin("agent-identity", REQUEST_HEADER, "additionalSessionHeaders:list"),
        drop=("model-server-protocol-models", "predicted-latency-scorer",
              # renamed in v0.10.0; the v0.9.0 registry has neither name
              "eviction-sheddable-filter", "eviction-priority-then-time-ordering"),
    )
    v0_10_0 = evolve(
        v0_9_0,
        with_params(v0_9_0["approx-prefix-cache-producer"],
                    add="maxPrefixBlocksToMatch:int=2048 maxPrefixTokensToMatch:int=131072"),
        plugin("disaggregatedset-rollout-screener", SCREENER,
               "scope:object headerSelectors:list revisionGating:object"),
        plugin("endpoint-attribute-filter", FILTER,
               "attribute:string onMissing:string fallbackOnEmpty:bool algorithm:object"),
        plugin("topology-affinity-filter", FILTER, "minAffinity:string topologyProducerName:string"),
        plugin("utilization-filter", FILTER,
               "conditions:list fallbackOnEmpty:bool inFlightLoadProducerName:string"),
        plugin("header-label-affinity-scorer", SCORER, "headerName:string labelKey:string"),
        plugin("topology-extractor", DATALAYER_EXTRACTOR),
        plugin("dcgm-data-source", DATALAYER_SOURCE, "scheme:string=http path:string=/metrics port:int=9400"
               " insecureSkipVerify:bool=true useNodeAddress:bool interval:string"),
        plugin("dcgm-extractor", DATALAYER_EXTRACTOR),
        plugin("header-profile-handler", PROFILE_HANDLER,
               "headerName:string=EPP-Profile defaultProfile:string=decode"),
        plugin("endpoint-attribute-scorer", SCORER, "attributeKey:string algorithm:object"),
        plugin("topology-affinity-scorer", SCORER, "topologyProducerName:string"),
        plugin("burst-prefix-cache-producer", DATA_PRODUCER, _BURST_PREFIX),
        plugin("p2p-source-producer", DATA_PRODUCER,
               "prefixMatchInfoProducerName:string minCachedTokenDelta:int=1"
               " prefillProfileName:string=prefill"),
        # "multicluster variant" rows: e.2 does not list their parameters.
        plugin("multicluster-session-affinity-filter", FILTER, None),
        plugin("multicluster-queue-scorer", SCORER, None),
        plugin("multicluster-kv-cache-utilization-scorer", SCORER, None),
        plugin("multicluster-prefix-cache-scorer", SCORER, None),
        plugin("multicluster-approx-prefix-cache-producer", DATA_PRODUCER, None),
        plugin("multicluster-file-discovery", ENDPOINT_DISCOVERY, None),
        plugin("multicluster-metrics-data-source", DATALAYER_SOURCE, _METRICS_SOURCE.format("https")),
        plugin("multicluster-metrics-extractor", DATALAYER_EXTRACTOR,
               "kvCacheUtilizationMetric:string=llm_d_epp_average_kv_cache_utilization"
               " queueSizeMetric:string=llm_d_epp_average_queue_size"),
        plugin("sheddable-eviction-filter", EVICTION_FILTER),
        plugin("priority-then-time-eviction-order-policy", EVICTION_ORDERING),
        plugin("priority-holdback-policy", USAGE_LIMIT_POLICY,
               "shape:string=linear domain:string=rank minCeiling:float maxCeiling:float=1.0"),
        plugin("soft-reflective-ceiling-policy", USAGE_LIMIT_POLICY, None),  # no params struct: ignored
    )
    return {"v0.9.0": v0_9_0, "v0.10.0": v0_10_0}
