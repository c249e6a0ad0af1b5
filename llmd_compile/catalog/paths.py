"""How each picker version spells the well-lit paths' scheduling: P/D disaggregation and precise prefix-cache.

Facts from CATALOG §e.4 and §f and the upstream sample configs (`deploy/config/pd-epp-config.yaml` at SCHED
v0.2.1/v0.3.2/v0.8.0 and ROUTER v0.10.0; `epp-precise-prefix-cache-config.yaml` at SCHED v0.8.0), and the guides'
gaie values (pd-disaggregation, precise-prefix-cache-aware at LD@e52045bd, v0.3.0, v0.4.0, 899f8517). Everything
is derived from the picker's registry where the registry says it; the rest is keyed by family and tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from llmd_compile.catalog.plugins import PickerVersion

PD_HANDLER = "pd-profile-handler"
DISAGG_HANDLER = "disagg-profile-handler"
PREFIX_DECIDER = "prefix-based-pd-decider"
ALWAYS_DECIDER = "always-disagg-pd-decider"
PREFILL_FILTER, DECODE_FILTER = "prefill-filter", "decode-filter"
PRECISE_SCORER = "precise-prefix-cache-scorer"
PREFILL_PROFILE, DECODE_PROFILE = "prefill", "decode"
# First tag of each family whose P/D sample config uses disagg-profile-handler {deciders} (SCHED v0.8.0,
# ROUTER v0.10.0 pd-epp-config.yaml); the LD@899f8517 P/D guide still runs pd-profile-handler on picker v0.7.0.
DISAGG_FROM = {"sched": (0, 8, 0), "router": (0, 9, 0)}
# Feature gate the LD@899f8517 P/D guide enables so the prefix scorer's match data reaches the decider.
PREPARE_DATA_GATE = "prepareDataPlugins"
UDS_SOCKET = "/tmp/tokenizer/tokenizer-uds.socket"
TOPIC_FILTER = "kv@"
INDEXER_PORT = 5557  # kvEventsConfig default zmqEndpoint tcp://*:5557 (KVC pkg/kvevents/pool.go)


def _tag(picker: PickerVersion) -> tuple[int, int, int]:
    major, minor, patch = (int(n) for n in re.findall(r"\d+", picker.tag)[:3])
    return major, minor, patch


@dataclass(frozen=True)
class Disagg:
    """The P/D plugins of one picker version."""

    handler: str  # pd-profile-handler or disagg-profile-handler
    headers: str | None  # request-header plugin that tells the decode sidecar where the prefill pod is
    deciders: bool  # decider plugins exist (SCHED v0.6.0+); before, pd-profile-handler takes a threshold


def disagg(picker: PickerVersion) -> Disagg | None:
    """None: the picker has no P/D profiles (GAIE's own epp: "does NOT support PD", CATALOG §f)."""
    plugins = picker.plugins
    if PD_HANDLER not in plugins and DISAGG_HANDLER not in plugins:
        return None
    since = DISAGG_FROM.get(picker.family)
    use_disagg = DISAGG_HANDLER in plugins and since is not None and _tag(picker) >= since
    headers: str | None
    if picker.family == "router":
        headers = None  # deprecated in ROUTER v0.9.0: disagg-profile-handler sets the headers itself
    elif use_disagg and "disagg-headers-handler" in plugins:
        headers = "disagg-headers-handler"
    else:
        headers = "prefill-header-handler"
    return Disagg(DISAGG_HANDLER if use_disagg else PD_HANDLER, headers, PREFIX_DECIDER in plugins)


@dataclass(frozen=True)
class Precise:
    """How one picker version takes precise prefix-cache scoring (the kv-cache indexer's config, CATALOG §e.4)."""

    scorer: str  # prefix-cache-scorer {mode: cache_tracking} (SCHED v0.2.1) or precise-prefix-cache-scorer
    # Where tokenProcessorConfig {blockSize, hashSeed} sits: in indexerConfig (KVC <= v0.3), at the top (SCHED v0.7.1+)
    token_processor: Literal["indexer", "top"]
    # vLLM --prefix-caching-hash-algo the guides of that era paired with the indexer (None: vLLM's default).
    hash_algo: str | None
    # The KV-events topic names the endpoint as <pod IP>:<port> (LD@899f8517) instead of the pod IP alone.
    topic_port: bool
    discover_pods: bool  # kvEventsConfig.discoverPods (KVC v0.7.x)
    tokenizer: str | None  # the tokenizer data producer, if the picker has one
    # llm-d-router (v0.9.0+): the index lives in a data producer that the prefix-cache-scorer reads by name
    # (prefixMatchInfoProducerName), fed by a data-layer source; precise-prefix-cache-scorer is a deprecated
    # wrapper (router #1121, CURRENT §6, §7).
    producer: str | None = None
    notification_source: str | None = None


PRECISE_PRODUCER = "precise-prefix-cache-producer"
TOKEN_PRODUCER = "token-producer"
NOTIFICATION_SOURCE = "endpoint-notification-source"
# LD@e3dbeca1 precise-prefix-cache-routing: vLLM binds the KV-events publisher on 5556 and the replay socket on 5559;
# the picker discovers the pods and connects (kvEventsConfig.podDiscoveryConfig).
ROUTER_EVENTS_PORT = 5556
ROUTER_REPLAY_PORT = 5559


def precise(picker: PickerVersion) -> Precise | None:
    """None: the picker has no precise prefix-cache scorer (GAIE's epp; llm-d-router needs data-layer wiring)."""
    if picker.family == "router":
        if PRECISE_PRODUCER not in picker.plugins or TOKEN_PRODUCER not in picker.plugins:
            return None
        return Precise("prefix-cache-scorer", "top", None, True, True, TOKEN_PRODUCER, PRECISE_PRODUCER,
                       NOTIFICATION_SOURCE)
    if PRECISE_SCORER in picker.plugins:
        params = {p.name for p in picker.plugins[PRECISE_SCORER].params or ()}
        top = "tokenProcessorConfig" in params
        tokenizer = "tokenizer" if "tokenizer" in picker.plugins else None
        return Precise(PRECISE_SCORER, "top" if top else "indexer", None if top else "sha256_cbor", top, top,
                       tokenizer)
    scorer = picker.plugins.get("prefix-cache-scorer")
    if scorer is not None and "mode" in {p.name for p in scorer.params or ()}:
        return Precise("prefix-cache-scorer", "indexer", "sha256_cbor_64bit", False, False, None)
    return None
