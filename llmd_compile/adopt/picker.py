"""An EndpointPickerConfig -> scorer intent, when the intent compiles back to the same config; else the config
itself (scheduler.endpointPickerConfig).

`candidate` reads the intent a config seems to state; `same` compares two configs as the picker runs them (plugins
by type with the registry's defaults filled in, profiles by the types they reference and their weights). The
importer accepts the intent only when the compiled config is `same` as the source's.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from llmd_compile.catalog.plugins import PICKERS, PickerVersion

# Scorer plugin type -> intent (the inverse of emit/epp.py SCORER_TYPES, every name any picker used).
INTENTS = {"queue-scorer": "queue", "kv-cache-utilization-scorer": "kvCache", "kv-cache-scorer": "kvCache",
           "prefix-cache-scorer": "prefixCache", "load-aware-scorer": "loadAware",
           "session-affinity-scorer": "sessionAffinity", "lora-affinity-scorer": "loraAffinity",
           "precise-prefix-cache-scorer": "precisePrefixCache"}
PICKS = {"max-score-picker": "max-score", "random-picker": "random", "weighted-random-picker": "weighted-random"}
# Configs baked into the inferencepool chart, named by pluginsConfigFile without a custom config, as scorer intents
# (CATALOG §a.4: v0.5.1 plugins-v2.yaml; §e.1: v1.0.1 default-plugins.yaml, three scorers without weights, and
# GAIE v1.4.0's epplib default, the same three at 2 / 2 / 3; the v0.4.0 guide spec reads v1.2.0-rc.1 as v1.0.1).
_ONE_EACH = MappingProxyType({"queue": 1, "kvCache": 1, "prefixCache": 1})
BAKED: Mapping[tuple[str, str], Mapping[str, int]] = MappingProxyType({
    ("v0.5.1", "plugins-v2.yaml"): _ONE_EACH,
    ("v1.0.1", "default-plugins.yaml"): _ONE_EACH,
    ("v1.2.0-rc.1", "default-plugins.yaml"): _ONE_EACH,
    ("v1.2.0", "default-plugins.yaml"): _ONE_EACH,
    ("v1.4.0", "default-plugins.yaml"): MappingProxyType({"queue": 2, "kvCache": 2, "prefixCache": 3}),
})


def _weight(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def _profiles(config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {str(p.get("name")): list(p.get("plugins") or []) for p in config.get("schedulingProfiles") or []}


def candidate(config: dict[str, Any]) -> dict[str, Any] | None:
    """The scheduler fields (scorers, picker, prefixCache, precisePrefixCache, disaggregation) a config seems to
    say, or None when it holds something no intent says."""
    plugins = {str(p.get("name") or p.get("type")): p for p in config.get("plugins") or [] if isinstance(p, dict)}
    profiles = _profiles(config)
    main = profiles.get("decode") or profiles.get("default") or next(iter(profiles.values()), [])
    scheduler: dict[str, Any] = {}
    scorers: dict[str, Any] = {}
    for ref in main:
        plugin = plugins.get(str(ref.get("pluginRef")), {})
        kind = str(plugin.get("type", ref.get("pluginRef")))
        params = plugin.get("parameters") or {}
        if kind in PICKS:
            if PICKS[kind] != "max-score":
                scheduler["picker"] = PICKS[kind]
            continue
        if kind.endswith("-filter"):
            continue
        intent = INTENTS.get(kind)
        if kind == "prefix-cache-scorer" and params.get("mode") == "cache_tracking":
            intent = "precisePrefixCache"
        if intent is None:
            return None
        scorers[intent] = _weight(ref.get("weight", 1))
        if intent == "prefixCache":
            tuning = {k: params[k] for k in ("blockSizeTokens", "maxPrefixBlocksToMatch", "lruCapacityPerServer")
                      if k in params}
            size = params.get("blockSize", params.get("hashBlockSize"))
            if size is not None:
                tuning["blockSize"] = int(size)
            if tuning:
                scheduler["prefixCache"] = tuning
        if intent == "precisePrefixCache":
            processor = (params.get("indexerConfig") or {}).get("tokenProcessorConfig") or \
                params.get("tokenProcessorConfig") or {}
            precise: dict[str, Any] = {}
            if processor.get("blockSize") is not None:
                precise["blockSize"] = int(processor["blockSize"])
            if processor.get("hashSeed") is not None:
                precise["hashSeed"] = str(processor["hashSeed"])
            events = params.get("kvEventsConfig") or {}
            kv: dict[str, Any] = {}
            if events.get("discoverPods"):
                kv["discovery"] = "pods"
            port = str(events.get("zmqEndpoint", "")).rpartition(":")[2]
            if port.isdigit() and int(port) != 5557:
                kv["port"] = int(port)
            if events.get("concurrency") not in (None, 4):
                kv["concurrency"] = int(events["concurrency"])
            if kv:
                precise["kvEvents"] = kv
            pool = (params.get("indexerConfig") or {}).get("tokenizersPoolConfig") or {}
            if pool.get("uds") or any(p.get("type") in ("tokenizer", "token-producer") and
                                      (p.get("parameters") or {}).get("udsTokenizerConfig") for p in plugins.values()):
                precise["tokenizer"] = "uds"
            if precise:
                scheduler["precisePrefixCache"] = precise
    scheduler["scorers"] = scorers
    for plugin in plugins.values():
        params = plugin.get("parameters") or {}
        if plugin.get("type") == "pd-profile-handler" and "threshold" in params:
            threshold = int(params["threshold"])
            scheduler["disaggregation"] = {"decider": "always"} if threshold == 0 else \
                {"decider": "prefix", "nonCachedTokens": threshold}
        if plugin.get("type") == "prefix-based-pd-decider":
            scheduler["disaggregation"] = {"decider": "prefix",
                                           "nonCachedTokens": int(params.get("nonCachedTokens", 16))}
        if plugin.get("type") == "always-disagg-pd-decider":
            scheduler["disaggregation"] = {"decider": "always"}
    return scheduler


# The precise scorers' kvEventsConfig defaults (CATALOG §e: pkg/kvevents/pool.go, SCHED v0.2.1 cache_tracking on).
KV_EVENTS_DEFAULTS = MappingProxyType({"zmqEndpoint": "tcp://*:5557", "topicFilter": "kv@", "concurrency": 4})


def _precise(kind: str, params: dict[str, Any]) -> bool:
    return kind == "precise-prefix-cache-scorer" or (kind == "prefix-cache-scorer" and
                                                       params.get("mode") == "cache_tracking")


def _with_defaults(picker: PickerVersion, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    if _precise(kind, params):
        params = {**params, "kvEventsConfig": {**KV_EVENTS_DEFAULTS, **(params.get("kvEventsConfig") or {})}}
    """The parameters the picker reads, its defaults filled in; parameters it ignores are dropped (a lenient picker
    runs a config with them exactly as without)."""
    known = picker.plugins.get(kind)
    if known is None or known.params is None:
        return dict(params)
    names = {p.name for p in known.params}
    defaults = {p.name: p.default for p in known.params if p.default is not None}
    read = {k: v for k, v in params.items() if k in names or picker.strict_params}
    return {**defaults, **read}


def normal(config: dict[str, Any], picker: PickerVersion) -> dict[str, Any]:
    """A config as the picker runs it: plugin types with their parameters, profiles as {type: weight}."""
    plugins = {str(p.get("name") or p.get("type")): p for p in config.get("plugins") or [] if isinstance(p, dict)}
    types = sorted((str(p.get("type")), repr(sorted(_with_defaults(picker, str(p.get("type")),
                                                                   p.get("parameters") or {}).items())))
                   for p in plugins.values())
    profiles = {}
    for name, refs in _profiles(config).items():
        row = {}
        for ref in refs:
            kind = str(plugins.get(str(ref.get("pluginRef")), {}).get("type", ref.get("pluginRef")))
            scored = "weight" in ref or kind.endswith("scorer")
            row[kind] = _weight(ref.get("weight", 1)) if scored else None
        profiles[name] = row
    return {"plugins": types, "profiles": profiles, "featureGates": sorted(config.get("featureGates") or [])}


def same(ours: dict[str, Any], theirs: dict[str, Any], picker_name: str) -> bool:
    picker = PICKERS[picker_name]
    return normal(ours, picker) == normal(theirs, picker)


def without_ignored(config: dict[str, Any], picker: PickerVersion) -> tuple[dict[str, Any], list[str]]:
    """The config without the plugin parameters a lenient picker ignores (it runs the same), and what was dropped.
    A strict picker rejects them instead: nothing is dropped then (the compile reports them)."""
    if picker.strict_params:
        return config, []
    dropped = []
    plugins = []
    for plugin in config.get("plugins") or []:
        known = picker.plugins.get(str(plugin.get("type")))
        params = plugin.get("parameters")
        if known is None or known.params is None or not isinstance(params, dict):
            plugins.append(plugin)
            continue
        names = {p.name for p in known.params}
        ignored = sorted(set(params) - names)
        if ignored:
            dropped.append(f"{plugin.get('type')} {', '.join(ignored)}")
            kept = {k: v for k, v in params.items() if k in names}
            plugin = {k: v for k, v in plugin.items() if k != "parameters"} | ({"parameters": kept} if kept else {})
        plugins.append(plugin)
    return {**config, "plugins": plugins}, dropped
