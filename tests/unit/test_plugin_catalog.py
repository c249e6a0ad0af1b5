"""The EPP plugin catalog: picker inference from images, renames, hints, per-version flags and parameters."""

from __future__ import annotations

import pytest

from llmd_compile.catalog.plugin_data import PARAM_TYPES, PRE_REQUEST, PROFILE_HANDLER, SCORER
from llmd_compile.catalog.plugins import (
    PICKERS,
    RENAMES,
    Param,
    PickerVersion,
    PluginType,
    picker_for_image,
    suggest,
)

SCHED = "ghcr.io/llm-d/llm-d-inference-scheduler"
GAIE = "registry.k8s.io/gateway-api-inference-extension/epp"
ROUTER = "ghcr.io/llm-d/llm-d-router"


def names(pt: PluginType) -> list[str]:
    assert pt.params is not None, pt.type
    return [p.name for p in pt.params]


def test_picker_keys() -> None:
    assert list(PICKERS) == [
        "gaie-v0.5.1", "gaie-v1.0.1", "gaie-v1.2.0", "gaie-v1.3.0", "gaie-v1.4.0", "gaie-v1.5.0",
        "sched-v0.2.1", "sched-v0.3.2", "sched-v0.4.0", "sched-v0.5.1", "sched-v0.6.0", "sched-v0.7.1",
        "sched-v0.8.0", "router-v0.9.0", "router-v0.10.0",
    ]  # fmt: skip
    for name, picker in PICKERS.items():
        assert picker.name == name


# --- picker_for_image ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (f"{SCHED}:v0.2.1", "sched-v0.2.1"),  # seed era (LD@e52045bd)
        (f"{SCHED}:v0.3.2", "sched-v0.3.2"),
        (f"{SCHED}:v0.3.0", "sched-v0.3.2"),
        (f"{SCHED}:v0.4.0-rc.1", "sched-v0.4.0"),  # LD@v0.4.0
        (f"{SCHED}:v0.5.0", "sched-v0.5.1"),  # LD@e6ee9572
        (f"{SCHED}:v0.5.9", "sched-v0.5.1"),
        (f"{SCHED}:v0.7.0", "sched-v0.7.1"),  # LD@899f8517
        (f"{SCHED}:v0.8.0", "sched-v0.8.0"),
        (f"{SCHED}:0.2.1", "sched-v0.2.1"),
        (f"{SCHED}:v0.2.1@sha256:{'a' * 64}", "sched-v0.2.1"),
        ("quay.io/mirror/llm-d-inference-scheduler:v0.6.0", "sched-v0.6.0"),
        (f"{GAIE}:v0.5.1", "gaie-v0.5.1"),
        (f"{GAIE}:v1.0.0", "gaie-v1.0.1"),
        (f"{GAIE}:v1.0.0-rc.4", "gaie-v1.0.1"),  # LD@56f7546a
        (f"{GAIE}:v1.2.0-rc.1", "gaie-v1.2.0"),
        (f"{GAIE}:v1.5.0", "gaie-v1.5.0"),
        ("localhost:5000/gateway-api-inference-extension/epp:v1.4.0", "gaie-v1.4.0"),
        (f"{ROUTER}:v0.10.0", "router-v0.10.0"),
        (f"{ROUTER}:v0.9.1", "router-v0.9.0"),
        ("ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0", "router-v0.10.0"),
    ],
)
def test_picker_for_image(image: str, expected: str) -> None:
    assert picker_for_image(image).name == expected


@pytest.mark.parametrize(
    "image",
    [
        f"{SCHED}",  # no tag
        f"{SCHED}:latest",
        f"{SCHED}@sha256:{'b' * 64}",
        f"{SCHED}:v0.9.0",  # not catalogued (the family continues as llm-d-router)
        f"{SCHED}:v1.0.0",
        f"{GAIE}:v1.1.0",  # no catalogued 1.1.x
        f"{GAIE}:main",
        f"{ROUTER}:v0.11.0",
        "ghcr.io/llm-d/llm-d-cuda:v0.3.0",  # not a picker image
        "localhost:5000/epp",
    ],
)
def test_picker_for_image_unknown(image: str) -> None:
    with pytest.raises(ValueError, match="cannot tell the picker version from image") as err:
        picker_for_image(image)
    assert "set scheduler.version to one of" in str(err.value)
    assert "sched-v0.2.1" in str(err.value)


def test_explicit_version_wins() -> None:
    assert picker_for_image("anything:latest", version="sched-v0.2.1") is PICKERS["sched-v0.2.1"]
    assert picker_for_image(f"{GAIE}:v1.5.0", version="router-v0.10.0").name == "router-v0.10.0"


@pytest.mark.parametrize("version", ["v0.2.1", "sched-v0.2.0", "SCHED-v0.2.1", ""])
def test_explicit_version_unknown(version: str) -> None:
    with pytest.raises(ValueError, match="unknown scheduler version") as err:
        picker_for_image(f"{SCHED}:v0.2.1", version=version)
    assert "router-v0.10.0" in str(err.value)


# --- flags ------------------------------------------------------------------------------------------------------

FLAGS = {
    # name: (gaie_base, integer_weights, strict_envelope, strict_params, strict_feature_gates)
    "gaie-v0.5.1": ("v0.5.1", True, False, False, False),
    "gaie-v1.0.1": ("v1.0.1", True, True, False, False),
    "gaie-v1.2.0": ("v1.2.0", True, True, False, False),
    "gaie-v1.3.0": ("v1.3.0", True, True, False, False),
    "gaie-v1.4.0": ("v1.4.0", False, True, False, False),
    "gaie-v1.5.0": ("v1.5.0", False, True, False, True),
    "sched-v0.2.1": ("v0.5.1", True, False, False, False),
    "sched-v0.3.2": ("v1.0.1", True, True, False, False),
    "sched-v0.4.0": ("v1.2.0", True, True, False, False),
    "sched-v0.5.1": ("v1.3.0", True, True, False, False),
    "sched-v0.6.0": ("v1.3.0", True, True, False, False),
    "sched-v0.7.1": ("v1.4.0", False, True, False, False),
    "sched-v0.8.0": ("v1.5.0", False, True, False, True),
    "router-v0.9.0": ("", False, True, True, True),
    "router-v0.10.0": ("", False, True, True, True),
}


@pytest.mark.parametrize(("name", "flags"), FLAGS.items())
def test_flags(name: str, flags: tuple[str, bool, bool, bool, bool]) -> None:
    p = PICKERS[name]
    assert (p.gaie_base, p.integer_weights, p.strict_envelope, p.strict_params, p.strict_feature_gates) == flags


CORE = {"plugins", "schedulingProfiles"}


@pytest.mark.parametrize(
    ("name", "fields", "gates"),
    [
        ("gaie-v0.5.1", CORE, set()),
        ("gaie-v1.0.1", CORE, set()),
        ("gaie-v1.2.0", CORE | {"featureGates", "saturationDetector"}, {"dataLayer", "flowControl"}),
        ("gaie-v1.3.0", CORE | {"featureGates", "saturationDetector", "data"},
         {"dataLayer", "flowControl", "prepareDataPlugins"}),
        ("gaie-v1.4.0", CORE | {"featureGates", "saturationDetector", "data", "flowControl"},
         {"dataLayer", "flowControl", "prepareDataPlugins"}),
        ("gaie-v1.5.0", CORE | {"featureGates", "saturationDetector", "dataLayer", "flowControl", "parser"},
         {"dataLayer", "enableLegacyMetrics", "flowControl"}),
        ("sched-v0.7.1", CORE | {"featureGates", "saturationDetector", "data", "flowControl"},
         {"dataLayer", "flowControl", "prepareDataPlugins"}),
        ("router-v0.10.0",
         CORE | {"featureGates", "dataLayer", "flowControl", "requestHandler", "saturationDetector", "parser"},
         {"flowControl", "haPopulateNonLeaderDatastore"}),
    ],
)  # fmt: skip
def test_envelope_and_gates(name: str, fields: set[str], gates: set[str]) -> None:
    assert PICKERS[name].envelope_fields == fields
    assert PICKERS[name].feature_gates == gates


# --- registries -------------------------------------------------------------------------------------------------

def test_registries_are_read_only_and_pickers_hashable() -> None:
    p = PICKERS["sched-v0.2.1"]
    with pytest.raises(TypeError):
        p.plugins["x"] = PluginType("x", SCORER)  # type: ignore[index]
    with pytest.raises(TypeError):
        PICKERS["x"] = p  # type: ignore[index]
    assert len({p, PICKERS["gaie-v0.5.1"]}) == 2
    assert isinstance(p, PickerVersion)


@pytest.mark.parametrize("name", [n for n in PICKERS if n.startswith("sched-")])
def test_sched_is_union_with_its_gaie_base(name: str) -> None:
    picker = PICKERS[name]
    assert set(PICKERS[f"gaie-{picker.gaie_base}"].plugins) <= set(picker.plugins)


def test_type_keys_and_param_types_are_consistent() -> None:
    for picker in PICKERS.values():
        for key, pt in picker.plugins.items():
            assert key == pt.type
            for param in pt.params or ():
                assert isinstance(param, Param)
                assert param.type in PARAM_TYPES, (picker.name, key, param)
            if pt.params:
                assert len({p.name for p in pt.params}) == len(pt.params), (picker.name, key)


@pytest.mark.parametrize(
    ("name", "present", "absent"),
    [
        ("gaie-v0.5.1", {"kv-cache-scorer", "low-queue-filter", "decision-tree-filter"},
         {"kv-cache-utilization-scorer", "weighted-random-picker"}),
        ("gaie-v1.0.1", {"kv-cache-utilization-scorer", "weighted-random-picker", "lora-affinity-scorer"},
         {"kv-cache-scorer", "low-queue-filter"}),
        ("gaie-v1.3.0", {"model-server-protocol-metrics", "predicted-latency-scorer"}, {"core-metrics-extractor"}),
        ("gaie-v1.4.0", {"concurrency-detector", "fcfs-ordering-policy"}, {"utilization-detector"}),
        ("gaie-v1.5.0", {"core-metrics-extractor", "eviction-sheddable-filter", "approx-prefix-cache-producer"},
         {"model-server-protocol-metrics"}),
        ("sched-v0.2.1", {"pd-profile-handler", "prefill-header-handler", "kv-cache-scorer", "by-label"},
         {"precise-prefix-cache-scorer", "active-request-scorer"}),
        ("sched-v0.3.2", {"precise-prefix-cache-scorer", "active-request-scorer", "kv-cache-utilization-scorer"},
         {"kv-cache-scorer", "data-parallel-profile-handler"}),
        ("sched-v0.6.0", {"prefix-based-pd-decider", "model-server-protocol-models"}, {"disagg-profile-handler"}),
        ("sched-v0.7.1", {"disagg-profile-handler", "disagg-headers-handler", "tokenizer", "concurrency-detector"},
         {"token-producer"}),
        ("router-v0.9.0", {"label-selector-filter", "token-producer", "tokenizer", "models-data-extractor"},
         {"model-server-protocol-models", "predicted-latency-scorer", "eviction-sheddable-filter",
          "sheddable-eviction-filter", "header-profile-handler"}),
        ("router-v0.10.0", {"sheddable-eviction-filter", "header-profile-handler", "by-label"},
         {"eviction-sheddable-filter"}),
    ],
)  # fmt: skip
def test_types_per_version(name: str, present: set[str], absent: set[str]) -> None:
    types = set(PICKERS[name].plugins)
    assert present <= types
    assert not absent & types


def test_router_v0_10_0_has_96_types() -> None:
    assert len(PICKERS["router-v0.10.0"].plugins) == 96  # CATALOG.md e.2


# --- parameters -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gaie-v0.5.1", ["hashBlockSize", "maxPrefixBlocksToMatch", "lruCapacityPerServer"]),
        ("gaie-v1.0.1", ["hashBlockSize", "maxPrefixBlocksToMatch", "lruCapacityPerServer"]),
        ("gaie-v1.2.0", ["maxPrefixBlocksToMatch", "lruCapacityPerServer", "autoTune", "blockSize"]),
        ("gaie-v1.3.0", ["maxPrefixBlocksToMatch", "lruCapacityPerServer", "autoTune", "blockSize"]),
        ("gaie-v1.4.0", ["maxPrefixBlocksToMatch", "lruCapacityPerServer", "autoTune", "blockSize",
                         "blockSizeTokens"]),
        ("gaie-v1.5.0", ["autoTune", "blockSizeTokens", "blockSize", "maxPrefixBlocksToMatch",
                         "maxPrefixTokensToMatch", "lruCapacityPerServer"]),
        ("sched-v0.2.1", ["mode", "indexerConfig", "kvEventsConfig", "hashBlockSize", "maxPrefixBlocksToMatch",
                          "lruCapacityPerServer"]),
        ("sched-v0.3.2", ["hashBlockSize", "maxPrefixBlocksToMatch", "lruCapacityPerServer"]),
        ("router-v0.10.0", ["prefixMatchInfoProducerName", "matchLengthWeight", "matchLengthScaleTokens"]),
    ],
)  # fmt: skip
def test_prefix_cache_scorer_params(name: str, expected: list[str]) -> None:
    assert names(PICKERS[name].plugins["prefix-cache-scorer"]) == expected


def test_prefix_cache_defaults() -> None:
    assert PICKERS["gaie-v0.5.1"].plugins["prefix-cache-scorer"].params == (
        Param("hashBlockSize", "int", 64),
        Param("maxPrefixBlocksToMatch", "int", 256),
        Param("lruCapacityPerServer", "int", 31250),
    )
    mode = PICKERS["sched-v0.2.1"].plugins["prefix-cache-scorer"].params
    assert mode is not None and mode[0] == Param("mode", "string", "estimate")
    approx = {p.name: p.default for p in PICKERS["router-v0.10.0"].plugins["approx-prefix-cache-producer"].params or ()}
    assert approx["maxPrefixBlocksToMatch"] == 2048
    assert approx["maxPrefixTokensToMatch"] == 131072
    approx_v09 = PICKERS["router-v0.9.0"].plugins["approx-prefix-cache-producer"].params or ()
    assert {p.name: p.default for p in approx_v09}["maxPrefixBlocksToMatch"] == 256


@pytest.mark.parametrize(
    ("name", "expected", "decider_default"),
    [
        ("sched-v0.2.1", {"threshold", "decodeProfile", "prefillProfile", "hashBlockSize"}, None),
        ("sched-v0.3.2", {"threshold", "decodeProfile", "prefillProfile", "hashBlockSize", "prefixPluginName"},
         None),
        ("sched-v0.4.0", {"threshold", "decodeProfile", "prefillProfile", "hashBlockSize", "prefixPluginName",
                          "primaryPort"}, None),
        ("sched-v0.5.1", {"threshold", "decodeProfile", "prefillProfile", "hashBlockSize", "prefixPluginName",
                          "primaryPort", "prefixPluginType"}, None),
        ("sched-v0.6.0", {"decodeProfile", "prefillProfile", "prefixPluginName", "primaryPort", "prefixPluginType",
                          "deciderPluginName"}, "always-disagg-pd-decider"),
        ("sched-v0.7.1", {"decodeProfile", "prefillProfile", "prefixPluginName", "primaryPort", "prefixPluginType",
                          "deciderPluginName"}, "prefix-based-pd-decider"),
        ("router-v0.10.0", {"decodeProfile", "prefillProfile", "prefixPluginName", "primaryPort",
                            "prefixPluginType", "deciderPluginName", "prefixMatchInfoProducerName"},
         "prefix-based-pd-decider"),
    ],
)  # fmt: skip
def test_pd_profile_handler_params(name: str, expected: set[str], decider_default: str | None) -> None:
    pt = PICKERS[name].plugins["pd-profile-handler"]
    assert set(names(pt)) == expected
    defaults = {p.name: p.default for p in pt.params or ()}
    assert defaults.get("deciderPluginName") == decider_default
    assert defaults["decodeProfile"] == "decode"
    assert bool(pt.deprecated) == (name not in {f"sched-v0.{m}" for m in ("2.1", "3.2", "4.0", "5.1", "6.0")})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sched-v0.3.2", {"indexerConfig", "kvEventsConfig"}),
        ("sched-v0.6.0", {"indexerConfig", "kvEventsConfig"}),
        ("sched-v0.7.1", {"indexerConfig", "kvEventsConfig", "tokenProcessorConfig", "speculativeIndexing",
                          "speculativeTTL"}),
        ("router-v0.10.0", {"indexerConfig", "kvEventsConfig", "tokenProcessorConfig", "speculativeIndexing",
                            "speculativeTTL"}),
    ],
)  # fmt: skip
def test_precise_prefix_cache_scorer_params(name: str, expected: set[str]) -> None:
    assert set(names(PICKERS[name].plugins["precise-prefix-cache-scorer"])) == expected


@pytest.mark.parametrize("name", list(PICKERS))
def test_pickers_and_plain_scorers(name: str) -> None:
    plugins = PICKERS[name].plugins
    for picker_type in ("max-score-picker", "random-picker", "weighted-random-picker"):
        if picker_type in plugins:
            assert plugins[picker_type].params == (Param("maxNumOfEndpoints", "int", 1),)
    for scorer in ("queue-scorer", "kv-cache-utilization-scorer", "kv-cache-scorer", "lora-affinity-scorer",
                   "running-requests-size-scorer"):  # fmt: skip
        if scorer in plugins:
            assert plugins[scorer].params == ()
            assert plugins[scorer].category == SCORER


def test_uncatalogued_params_are_none() -> None:
    assert PICKERS["sched-v0.2.1"].plugins["load-aware-scorer"].params is None
    assert PICKERS["gaie-v1.3.0"].plugins["metrics-data-source"].params is None
    assert PICKERS["router-v0.10.0"].plugins["load-aware-scorer"].params == (Param("threshold", "int", 128),)


def test_categories() -> None:
    router = PICKERS["router-v0.10.0"].plugins
    assert router["disagg-profile-handler"].category == PROFILE_HANDLER
    assert router["prefill-header-handler"].category == PRE_REQUEST
    assert PICKERS["sched-v0.2.1"].plugins["prefill-header-handler"].category == PRE_REQUEST
    handlers = {t for t, pt in router.items() if pt.category == PROFILE_HANDLER}
    assert handlers == {"single-profile-handler", "pd-profile-handler", "disagg-profile-handler",
                        "data-parallel-profile-handler", "header-profile-handler"}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "type_name", "fragment"),
    [
        ("router-v0.10.0", "by-label", "label-selector-filter"),
        ("router-v0.10.0", "by-label-selector", "label-selector-filter"),
        ("router-v0.9.0", "tokenizer", "token-producer"),
        ("router-v0.9.0", "prefill-header-handler", "disagg-profile-handler"),
        ("router-v0.9.0", "disagg-headers-handler", "disagg-profile-handler"),
        ("sched-v0.7.1", "pd-profile-handler", "disagg-profile-handler"),
        ("sched-v0.8.0", "pd-profile-handler", "sched v0.7.0"),
    ],
)
def test_deprecations(name: str, type_name: str, fragment: str) -> None:
    assert fragment in PICKERS[name].plugins[type_name].deprecated


def test_nothing_deprecated_in_gaie() -> None:
    for name, picker in PICKERS.items():
        if name.startswith("gaie-"):
            assert not any(pt.deprecated for pt in picker.plugins.values()), name


# --- renames and suggest() --------------------------------------------------------------------------------------

def test_renames() -> None:
    pairs = {(r.old, r.new) for r in RENAMES if not r.plugin}
    assert pairs == {
        ("kv-cache-scorer", "kv-cache-utilization-scorer"),
        ("prefix-cache-scorer{mode: cache_tracking}", "precise-prefix-cache-scorer"),
        ("pd-profile-handler", "disagg-profile-handler"),
        ("prefill-header-handler", "disagg-headers-handler"),
        ("by-label", "label-selector-filter"),
        ("by-label-selector", "label-selector-filter"),
        ("tokenizer", "token-producer"),
        ("model-server-protocol-metrics", "core-metrics-extractor"),
        ("model-server-protocol-models", "models-data-extractor"),
        ("eviction-sheddable-filter", "sheddable-eviction-filter"),
        ("eviction-priority-then-time-ordering", "priority-then-time-eviction-order-policy"),
    }
    params = [(r.plugin, r.old, r.new) for r in RENAMES if r.plugin]
    assert params == [
        ("prefix-cache-scorer", "hashBlockSize", "blockSize"),
        ("prefix-cache-scorer", "blockSize", "blockSizeTokens"),
    ]


def test_every_type_rename_is_visible_in_the_registries() -> None:
    """Each old name is registered somewhere and each new name too (the renames are not invented)."""
    everywhere = {t for p in PICKERS.values() for t in p.plugins}
    for r in RENAMES:
        if not r.plugin:
            assert r.old.partition("{")[0] in everywhere, r
            assert r.new in everywhere, r


KV_RENAMED = "'kv-cache-scorer' was renamed 'kv-cache-utilization-scorer' in GAIE v1.0.1"


@pytest.mark.parametrize(
    ("name", "type_name", "hint"),
    [
        ("gaie-v1.0.1", "kv-cache-scorer", KV_RENAMED),
        ("sched-v0.8.0", "kv-cache-scorer", KV_RENAMED),
        ("gaie-v0.5.1", "kv-cache-utilization-scorer",
         "'kv-cache-scorer' was renamed 'kv-cache-utilization-scorer' in GAIE v1.0.1; gaie-v0.5.1 predates that: "
         "use 'kv-cache-scorer'"),
        ("sched-v0.2.1", "precise-prefix-cache-scorer",
         "'prefix-cache-scorer{mode: cache_tracking}' was renamed 'precise-prefix-cache-scorer' in sched v0.3.2; "
         "sched-v0.2.1 predates that: use 'prefix-cache-scorer{mode: cache_tracking}'"),
        ("router-v0.10.0", "tokenizer", "'tokenizer' was renamed 'token-producer' in router v0.9.0"),
        ("router-v0.9.0", "prefill-header-handler",
         "'prefill-header-handler' was renamed 'disagg-headers-handler' in sched v0.7.1 (deprecated in router "
         "v0.9.0 (removal v0.11.0); use disagg-profile-handler)"),
        ("router-v0.10.0", "model-server-protocol-models",
         "'model-server-protocol-models' was renamed 'models-data-extractor' in router v0.9.0"),
        ("router-v0.10.0", "eviction-sheddable-filter",
         "'eviction-sheddable-filter' was renamed 'sheddable-eviction-filter' in router v0.10.0"),
        ("gaie-v1.5.0", "model-server-protocol-metrics",
         "'model-server-protocol-metrics' was renamed 'core-metrics-extractor' in GAIE v1.5.0"),
        ("sched-v0.7.1", "pd-profile-handler",
         "'pd-profile-handler' was renamed 'disagg-profile-handler' in sched v0.7.0"),
        ("sched-v0.6.0", "disagg-profile-handler",
         "'pd-profile-handler' was renamed 'disagg-profile-handler' in sched v0.7.0; sched-v0.6.0 predates that: "
         "use 'pd-profile-handler'"),
        # known types, no rename in play
        ("sched-v0.7.1", "tokenizer", ""),
        ("gaie-v0.5.1", "kv-cache-scorer", ""),
        ("sched-v0.2.1", "prefix-cache-scorer", ""),
        ("router-v0.10.0", "queue-scorer", ""),
        # typos
        ("router-v0.10.0", "queue-scorr", "did you mean 'queue-scorer'?"),
        ("gaie-v0.5.1", "max-scor-picker", "did you mean 'max-score-picker'?"),
        ("router-v0.10.0", "zzzzzz", ""),
    ],
)  # fmt: skip
def test_suggest(name: str, type_name: str, hint: str) -> None:
    assert suggest(PICKERS[name], type_name) == hint
