"""Endpoint-picker (EPP) versions: plugin registry, EndpointPickerConfig envelope and strictness per tag.

Our own catalog of CATALOG.md §e and §i item 7; the registries themselves live in ``plugin_data``. Three
families: ``gaie-*`` (gateway-api-inference-extension/epp), ``sched-*`` (llm-d-inference-scheduler: its own
types over the GAIE registry of the GAIE version in its go.mod) and ``router-*`` (llm-d-router, which
contains both).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from llmd_compile.catalog.plugin_data import (
    Param,
    PluginType,
    Registry,
    gaie_registries,
    router_registries,
    sched_registries,
)

__all__ = [
    "PICKERS",
    "RENAMES",
    "Param",
    "PickerVersion",
    "PluginType",
    "Rename",
    "picker_for_image",
    "suggest",
]


@dataclass(frozen=True)
class Rename:
    """``old`` became ``new`` at ``since``. With ``plugin`` set, old/new are parameters of that type."""

    old: str
    new: str
    since: str
    note: str = ""
    plugin: str = ""


RENAMES: tuple[Rename, ...] = (
    Rename("kv-cache-scorer", "kv-cache-utilization-scorer", "GAIE v1.0.1"),
    Rename(
        "prefix-cache-scorer{mode: cache_tracking}",
        "precise-prefix-cache-scorer",
        "sched v0.3.2",
        "llm-d's prefix-cache-scorer override in mode cache_tracking became its own type "
        "{indexerConfig, kvEventsConfig}",
    ),
    Rename("pd-profile-handler", "disagg-profile-handler", "sched v0.7.0", "old name deprecated"),
    Rename(
        "prefill-header-handler",
        "disagg-headers-handler",
        "sched v0.7.1",
        "the old name stays as an alias; both are deprecated in router v0.9.0 for disagg-profile-handler",
    ),
    Rename("by-label", "label-selector-filter", "router v0.9.0", "deprecated alias until v0.11.0"),
    Rename("by-label-selector", "label-selector-filter", "router v0.9.0", "deprecated alias until v0.11.0"),
    Rename("tokenizer", "token-producer", "router v0.9.0", "deprecated alias kept (same parameters)"),
    Rename("model-server-protocol-metrics", "core-metrics-extractor", "GAIE v1.5.0"),
    Rename("model-server-protocol-models", "models-data-extractor", "router v0.9.0"),
    Rename("eviction-sheddable-filter", "sheddable-eviction-filter", "router v0.10.0"),
    Rename(
        "eviction-priority-then-time-ordering", "priority-then-time-eviction-order-policy", "router v0.10.0"
    ),
    Rename("hashBlockSize", "blockSize", "GAIE v1.2.0", plugin="prefix-cache-scorer"),
    Rename(
        "blockSize",
        "blockSizeTokens",
        "GAIE v1.4.0",
        "blockSize (characters) is deprecated; blockSizeTokens counts tokens (default 16)",
        plugin="prefix-cache-scorer",
    ),
)


@dataclass(frozen=True)
class PickerVersion:
    name: str  # "sched-v0.2.1", "gaie-v0.5.1", "router-v0.10.0", ...
    gaie_base: str  # GAIE in-tree registry it runs ("" for router-*: the router carries its own copy)
    plugins: Mapping[str, PluginType] = field(hash=False, repr=False)  # type string -> PluginType
    integer_weights: bool  # True up to GAIE v1.3.x; float64 from GAIE v1.4.0 / sched v0.7
    strict_envelope: bool  # unknown top-level/profile keys rejected (GAIE >= v1.0.1)
    strict_params: bool  # unknown plugin parameters rejected (router >= v0.9.0)
    envelope_fields: frozenset[str]  # allowed top-level keys besides apiVersion/kind
    feature_gates: frozenset[str]  # registered feature gates (empty = none)
    strict_feature_gates: bool = False  # unknown gates rejected (GAIE v1.5.0, router)

    @property
    def family(self) -> str:
        return self.name.partition("-")[0]

    @property
    def tag(self) -> str:
        return self.name.partition("-")[2]


# ----------------------------------------------------------------------------------------------------
# Envelope and feature gates (CATALOG.md e.1)

_Semver = tuple[int, int, int, int, tuple[str, ...]]
_SEMVER = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?")


def _semver(tag: str) -> _Semver | None:
    m = _SEMVER.fullmatch(tag)
    if m is None:
        return None
    major, minor, patch, pre = m.groups()
    # A release sorts after its pre-releases.
    return int(major), int(minor), int(patch), 0 if pre else 1, tuple(pre.split(".")) if pre else ()


def _version(picker: PickerVersion) -> _Semver:
    v = _semver(picker.tag)
    assert v is not None, picker.name  # every catalogued tag is a version
    return v


def _at_least(tag: str, floor: str) -> bool:
    a, b = _semver(tag), _semver(floor)
    assert a is not None and b is not None
    return a >= b


_CORE_FIELDS = frozenset({"plugins", "schedulingProfiles"})
_ROUTER_FIELDS = _CORE_FIELDS | {
    "featureGates",
    "dataLayer",
    "flowControl",
    "requestHandler",
    "saturationDetector",  # deprecated, -> flowControl.saturationDetector
    "parser",  # deprecated, -> requestHandler.parsers
}


def _gaie_envelopes() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """GAIE tag -> (top-level fields, registered feature gates)."""
    v1_2 = _CORE_FIELDS | {"featureGates", "saturationDetector"}
    v1_3 = v1_2 | {"data"}
    v1_4 = v1_3 | {"flowControl"}
    v1_5 = (v1_4 - {"data"}) | {"dataLayer", "parser"}  # data -> dataLayer; saturationDetector -> {pluginRef}
    gates_v1_2 = frozenset({"dataLayer", "flowControl"})
    gates_v1_3 = gates_v1_2 | {"prepareDataPlugins"}
    gates_v1_5 = (gates_v1_3 - {"prepareDataPlugins"}) | {"enableLegacyMetrics"}
    none: frozenset[str] = frozenset()
    return {
        "v0.5.1": (_CORE_FIELDS, none),
        "v1.0.1": (_CORE_FIELDS, none),
        "v1.2.0": (v1_2, gates_v1_2),
        "v1.3.0": (v1_3, gates_v1_3),
        "v1.4.0": (v1_4, gates_v1_3),
        "v1.5.0": (v1_5, gates_v1_5),
    }


# SCHED tag -> catalogued GAIE registry it runs (go.mod: v0.3.2 pins GAIE v1.0.0, v0.5.1 v1.3.1 and v0.6.0 a
# pseudo-version after v1.3.0; each maps to the closest catalogued tag).
_SCHED_GAIE_BASE: Mapping[str, str] = MappingProxyType(
    {
        "v0.2.1": "v0.5.1",
        "v0.3.2": "v1.0.1",
        "v0.4.0": "v1.2.0",
        "v0.5.1": "v1.3.0",
        "v0.6.0": "v1.3.0",
        "v0.7.1": "v1.4.0",
        "v0.8.0": "v1.5.0",
    }
)

# router v0.9.0: the catalog lists gates for v0.10.0 only; flowControl is the one gate GAIE v1.5.0 and
# router v0.10.0 share.
_ROUTER_GATES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "v0.9.0": frozenset({"flowControl"}),
        "v0.10.0": frozenset({"flowControl", "haPopulateNonLeaderDatastore"}),
    }
)


def _pickers() -> dict[str, PickerVersion]:
    gaie = gaie_registries()
    sched = sched_registries()
    envelopes = _gaie_envelopes()

    def on_gaie(name: str, base: str, registry: Registry) -> PickerVersion:
        fields, gates = envelopes[base]
        return PickerVersion(
            name=name,
            gaie_base=base,
            plugins=MappingProxyType(registry),
            integer_weights=not _at_least(base, "v1.4.0"),
            strict_envelope=_at_least(base, "v1.0.1"),
            strict_params=False,
            envelope_fields=fields,
            feature_gates=gates,
            strict_feature_gates=_at_least(base, "v1.5.0"),
        )

    out = {f"gaie-{tag}": on_gaie(f"gaie-{tag}", tag, registry) for tag, registry in gaie.items()}
    for tag, base in _SCHED_GAIE_BASE.items():
        out[f"sched-{tag}"] = on_gaie(f"sched-{tag}", base, {**gaie[base], **sched[tag]})
    for tag, registry in router_registries(gaie["v1.5.0"], sched["v0.8.0"]).items():
        out[f"router-{tag}"] = PickerVersion(
            name=f"router-{tag}",
            gaie_base="",
            plugins=MappingProxyType(registry),
            integer_weights=False,
            strict_envelope=True,
            strict_params=True,
            envelope_fields=_ROUTER_FIELDS,
            feature_gates=_ROUTER_GATES[tag],
            strict_feature_gates=True,
        )
    return out


PICKERS: Mapping[str, PickerVersion] = MappingProxyType(_pickers())


# ----------------------------------------------------------------------------------------------------
# Lookups

# Repository suffix -> family. GAIE's EPP image is .../gateway-api-inference-extension/epp; the router charts
# run ghcr.io/llm-d/llm-d-router-endpoint-picker (ROUTER@v0.10.0:config/charts/routerlib/values.yaml).
_FAMILIES = (
    ("llm-d-inference-scheduler", "sched"),
    ("gateway-api-inference-extension/epp", "gaie"),
    ("llm-d-router", "router"),
    ("llm-d-router-endpoint-picker", "router"),
)


def _known() -> str:
    return ", ".join(PICKERS)


def _split_image(image: str) -> tuple[str, str]:
    """``registry:5000/a/b:tag@sha256:...`` -> (``registry:5000/a/b``, ``tag``); tag "" if absent."""
    ref = image.strip().partition("@")[0]
    repo, colon, tag = ref.rpartition(":")
    if not colon or "/" in tag:
        return ref, ""
    return repo, tag


def picker_for_image(image: str, version: str | None = None) -> PickerVersion:
    """The picker an EPP image runs; ``version`` (a PICKERS key) overrides inference from the image.

    Uncatalogued tags map to the catalogued tag of the same family and minor version (the newest one at or
    below the tag, else the closest above): ``sched v0.7.0`` -> ``sched-v0.7.1``,
    ``v0.4.0-rc.1`` -> ``v0.4.0``, ``v0.5.9`` -> ``v0.5.1``.
    """
    if version is not None:
        if version in PICKERS:
            return PICKERS[version]
        raise ValueError(f"unknown scheduler version {version!r}; known versions: {_known()}")

    def fail(why: str) -> ValueError:
        return ValueError(
            f"cannot tell the picker version from image {image!r} ({why}); "
            f"set scheduler.version to one of {_known()}"
        )

    repo, tag = _split_image(image)
    family = next((fam for suffix, fam in _FAMILIES if repo.endswith(suffix)), None)
    if family is None:
        raise fail("not an llm-d-inference-scheduler, llm-d-router or GAIE epp image")
    wanted = _semver(tag)
    if wanted is None:
        raise fail(f"tag {tag!r} is not a version" if tag else "no tag")
    same_minor = sorted((p for p in PICKERS.values() if p.family == family and _version(p)[:2] == wanted[:2]),
                        key=_version)
    if not same_minor:
        raise fail(f"no catalogued {family} version {wanted[0]}.{wanted[1]}.x")
    at_or_below = [p for p in same_minor if _version(p) <= wanted]
    return at_or_below[-1] if at_or_below else same_minor[0]


def suggest(picker: PickerVersion, type_name: str) -> str:
    """A hint for a plugin type in ``picker``: a rename that applies here, else the closest type, or ""."""
    for r in RENAMES:
        if r.plugin:
            continue
        old_type = r.old.partition("{")[0]
        if r.old == type_name and r.new in picker.plugins:
            deprecated = picker.plugins[r.new].deprecated
            return f"{r.old!r} was renamed {r.new!r} in {r.since}" + (f" ({deprecated})" if deprecated else "")
        if r.new == type_name and type_name not in picker.plugins and old_type in picker.plugins:
            return f"{r.old!r} was renamed {r.new!r} in {r.since}; {picker.name} predates that: use {r.old!r}"
    if type_name in picker.plugins:
        return ""
    close = difflib.get_close_matches(type_name, sorted(picker.plugins), n=1)
    return f"did you mean {close[0]!r}?" if close else ""
