"""An EndpointPickerConfig checked against one picker version's registry (CATALOG.md §e).

Everything the pinned picker would reject is a problem, and so is everything it would accept and then
silently ignore (unknown parameters under lenient decoding, top-level fields before GAIE v1.0.1, weights on
plugins that are not scorers): the config would run, but not as written. Problems carry the dotted field path
of the offending node below ``at`` (``scheduler.endpointPickerConfig.plugins[2].type``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from llmd_compile.catalog.plugin_data import PICKER, PROFILE_HANDLER, SCORER
from llmd_compile.catalog.plugins import PICKERS, RENAMES, PickerVersion, PluginType, suggest
from llmd_compile.errors import Problem

CONFIG_KIND = "EndpointPickerConfig"
API_X_K8S = "inference.networking.x-k8s.io/v1alpha1"
API_LLM_D = "llm-d.ai/v1alpha1"  # preferred by router v0.10.0 (CATALOG §e.1)
PLUGIN_FIELDS = frozenset({"name", "type", "parameters"})
PROFILE_FIELDS = frozenset({"name", "plugins"})
REF_FIELDS = frozenset({"pluginRef", "weight"})

# Names people write that no picker registers, and what to write instead.
NOT_A_PLUGIN: Mapping[str, str] = {
    "round-robin-picker": "no picker version registers a round-robin picker; random-picker spreads requests "
    "uniformly (what scheduler.picker: round-robin compiles to)",
}
# Values of parameters that take a fixed set (CATALOG §e.4: llm-d's prefix-cache-scorer override, sched v0.2.1).
ENUMS: Mapping[tuple[str, str], tuple[str, ...]] = {("prefix-cache-scorer", "mode"): ("estimate", "cache_tracking")}
ENUM_HINTS: Mapping[tuple[str, str, str], str] = {
    ("prefix-cache-scorer", "mode", "approximate"): "approximate prefix matching is mode 'estimate', the default: "
    "drop mode",
}
PARAM_HINTS: Mapping[tuple[str, str], str] = {
    ("prefix-cache-scorer", "mode"): "prefix-cache-scorer is the approximate (estimated) scorer here; "
    "precise matching (cache_tracking) is precise-prefix-cache-scorer",
}
# Router v0.9.0+: the prefix-cache scorer only scores; hashing and the LRU index live in the producer (CATALOG §e.2).
PRODUCER_OF = {"prefix-cache-scorer": "approx-prefix-cache-producer"}


def api_versions(picker: PickerVersion) -> tuple[str, ...]:
    """EndpointPickerConfig apiVersions this picker loads, preferred first."""
    # router v0.9.0 loads llm-d.ai too: the v0.9.0 chart's own default-plugins.yaml and the LD@3fa7bfc5 (llm-d
    # v0.8) guides use it.
    return (API_LLM_D, API_X_K8S) if picker.family == "router" else (API_X_K8S,)


def registered_in(type_name: str) -> list[str]:
    """Picker versions that register a type, in catalog order."""
    return [name for name, p in PICKERS.items() if type_name in p.plugins]


def type_hint(picker: PickerVersion, type_name: str) -> str:
    """Why a type is not in this picker, and what to use."""
    if type_name in NOT_A_PLUGIN:
        return NOT_A_PLUGIN[type_name]
    hint = suggest(picker, type_name)
    if hint and "renamed" in hint:
        return hint
    elsewhere = registered_in(type_name)
    return f"registered by {_span(elsewhere)}, not by {picker.name}" if elsewhere else hint


def _span(names: list[str]) -> str:
    by_family: dict[str, list[str]] = {}
    for name in names:
        family, _, tag = name.partition("-")
        by_family.setdefault(family, []).append(tag)
    return ", ".join(f"{fam} {tags[0]}" + (f"-{tags[-1]}" if len(tags) > 1 else "") for fam, tags in by_family.items())


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("string", "duration"):
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    return True


def _param_hint(picker: PickerVersion, pt: PluginType, key: str) -> str:
    names = {p.name for p in pt.params or ()}
    renames = [r for r in RENAMES if r.plugin == pt.type]
    for r in renames:
        if r.old == key and r.new in names:
            return f"{key!r} was renamed {r.new!r} in {r.since}" + (f" ({r.note})" if r.note else "")
    # A newer name: walk the rename chain back to the name this version reads.
    older, since = key, ""
    while (step := next((r for r in renames if r.new == older), None)) is not None:
        older, since = step.old, since or step.since
        if older in names:
            return f"{key!r} is the name from {since} on; {picker.name} reads {older!r}"
    producer = picker.plugins.get(PRODUCER_OF.get(pt.type, ""))
    if producer and key in {p.name for p in producer.params or ()}:
        return f"{pt.type} no longer takes it in {picker.name}: set it on {producer.type}"
    if (pt.type, key) in PARAM_HINTS:
        return PARAM_HINTS[(pt.type, key)]
    close = difflib.get_close_matches(key, [p.name for p in pt.params or ()], n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def _parameters(picker: PickerVersion, pt: PluginType, params: Any, at: str) -> Iterator[tuple[str, str]]:
    if params is None:
        return
    if not isinstance(params, dict):
        yield at, "parameters is a mapping"
        return
    if pt.params is None:  # the catalog does not list this type's parameters: accept them
        return
    if not pt.params and params:
        fate = "rejects them" if picker.strict_params else "would silently ignore them"
        yield at, f"{pt.type} takes no parameters; {picker.name} {fate}"
        return
    known = {p.name: p for p in pt.params}
    for key, value in params.items():
        here = f"{at}.{key}"
        if key not in known:
            fate = "rejects it" if picker.strict_params else "would silently ignore it"
            hint = _param_hint(picker, pt, key)
            yield here, f"{pt.type} has no parameter {key!r} in {picker.name} ({fate})" + (f"; {hint}" if hint else "")
            continue
        param = known[key]
        if not _type_ok(value, param.type):
            yield here, f"{pt.type}.{key} is a {param.type}, not {value!r}"
        allowed = ENUMS.get((pt.type, key))
        if allowed and value not in allowed:
            hint = ENUM_HINTS.get((pt.type, key, str(value)), "")
            yield here, (f"{pt.type}.{key} is one of {', '.join(allowed)} in {picker.name}, not {value!r}"
                         + (f"; {hint}" if hint else ""))


def _plugins(picker: PickerVersion, plugins: Any, at: str, types: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Problems of the plugin list; fills ``types`` (plugin name -> type) for the profile checks."""
    if not isinstance(plugins, list) or not plugins:
        yield at, "plugins is a non-empty list"
        return
    seen: dict[str, int] = {}
    for i, item in enumerate(plugins):
        here = f"{at}[{i}]"
        if not isinstance(item, dict):
            yield here, "a plugin is a mapping {type, name, parameters}"
            continue
        for key in sorted(set(item) - PLUGIN_FIELDS):
            yield f"{here}.{key}", f"unknown plugin field; expected {', '.join(sorted(PLUGIN_FIELDS))}"
        type_name = item.get("type")
        if not isinstance(type_name, str) or not type_name:
            yield f"{here}.type", "required: the registered plugin type"
            continue
        name = item.get("name", type_name)
        if not isinstance(name, str) or not name:
            yield f"{here}.name", "a plugin name is a non-empty string"
            continue
        if name in seen:
            yield f"{here}.name", f"plugin name {name!r} is already used by plugins[{seen[name]}]"
        seen[name] = i
        types[name] = type_name
        pt = picker.plugins.get(type_name)
        if pt is None:
            hint = type_hint(picker, type_name)
            yield f"{here}.type", f"{picker.name} has no plugin type {type_name!r}" + (f"; {hint}" if hint else "")
            continue
        yield from _parameters(picker, pt, item.get("parameters"), f"{here}.parameters")


def _profiles(picker: PickerVersion, profiles: Any, types: dict[str, str], at: str) -> Iterator[tuple[str, str]]:
    if not isinstance(profiles, list) or not profiles:
        yield at, "schedulingProfiles is a non-empty list"
        return
    names: set[str] = set()
    for i, profile in enumerate(profiles):
        here = f"{at}[{i}]"
        if not isinstance(profile, dict):
            yield here, "a profile is a mapping {name, plugins}"
            continue
        for key in sorted(set(profile) - PROFILE_FIELDS):
            yield f"{here}.{key}", f"unknown profile field; expected {', '.join(sorted(PROFILE_FIELDS))}"
        name = profile.get("name")
        if not isinstance(name, str) or not name:
            yield f"{here}.name", "required: the profile name"
        elif name in names:
            yield f"{here}.name", f"profile {name!r} is defined twice"
        else:
            names.add(name)
        refs = profile.get("plugins")
        if not isinstance(refs, list):
            yield f"{here}.plugins", "a list of {pluginRef, weight}"
            continue
        pickers = 0
        for j, ref in enumerate(refs):
            rat = f"{here}.plugins[{j}]"
            if not isinstance(ref, dict):
                yield rat, "a profile plugin is a mapping {pluginRef, weight}"
                continue
            for key in sorted(set(ref) - REF_FIELDS):
                yield f"{rat}.{key}", "unknown field; expected pluginRef, weight"
            target = ref.get("pluginRef")
            if target not in types:
                known = ", ".join(sorted(types)) or "none"
                yield f"{rat}.pluginRef", f"no plugin named {target!r} in plugins (defined: {known})"
                continue
            pt = picker.plugins.get(types[target])
            if pt is None:
                continue  # reported at its type
            pickers += pt.category == PICKER
            if "weight" in ref:
                yield from _weight(picker, pt, ref["weight"], f"{rat}.weight")
        if pickers > 1:
            yield f"{here}.plugins", "a profile takes at most one picker"


def _weight(picker: PickerVersion, pt: PluginType, weight: Any, at: str) -> Iterator[tuple[str, str]]:
    if pt.category != SCORER:
        yield at, f"weight is read for scorers only; {pt.type} is a {pt.category} ({picker.name} ignores it)"
    elif not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
        yield at, f"weight is a non-negative number, not {weight!r}"
    elif picker.integer_weights and float(weight) != int(weight):
        yield at, f"{picker.name} takes integer weights (float64 from GAIE v1.4.0 / sched v0.7); {weight} is not one"


def _envelope(picker: PickerVersion, doc: dict[str, Any], at: str) -> Iterator[tuple[str, str]]:
    accepted = api_versions(picker)
    if doc.get("apiVersion") not in accepted:
        wrote = doc.get("apiVersion")
        yield f"{at}.apiVersion", f"{picker.name} loads apiVersion {' or '.join(accepted)}, not {wrote!r}"
    if doc.get("kind") != CONFIG_KIND:
        yield f"{at}.kind", f"must be {CONFIG_KIND}"
    allowed = picker.envelope_fields | {"apiVersion", "kind"}
    for key in sorted(set(doc) - allowed):
        fate = "rejects it (strict decoding)" if picker.strict_envelope else "would silently ignore it"
        yield f"{at}.{key}", (f"unknown top-level field for {picker.name} ({fate}); "
                              f"it reads {', '.join(sorted(picker.envelope_fields))}")
    gates = doc.get("featureGates")
    if "featureGates" in allowed and gates is not None:
        if not isinstance(gates, list):
            yield f"{at}.featureGates", "a list of feature gate names"
            return
        for i, gate in enumerate(gates):
            name = str(gate).partition("=")[0]
            if name not in picker.feature_gates:
                fate = "rejects it" if picker.strict_feature_gates else "ignores it"
                known = ", ".join(sorted(picker.feature_gates)) or "none"
                yield f"{at}.featureGates[{i}]", f"{picker.name} has no feature gate {name!r} ({fate}; known: {known})"


def check_config(picker: PickerVersion, doc: Any, source: str, at: str) -> list[Problem]:
    """Every problem of ``doc`` as an EndpointPickerConfig for ``picker``; empty when it runs as written."""
    if not isinstance(doc, dict):
        return [Problem(source, 0, 0, at, "an EndpointPickerConfig is a mapping")]
    found: list[tuple[str, str]] = list(_envelope(picker, doc, at))
    types: dict[str, str] = {}
    found += _plugins(picker, doc.get("plugins"), f"{at}.plugins", types)
    profiles = doc.get("schedulingProfiles")
    found += _profiles(picker, profiles, types, f"{at}.schedulingProfiles")
    count = len(profiles) if isinstance(profiles, list) else 0
    handlers = [t for t in types.values() if t in picker.plugins and picker.plugins[t].category == PROFILE_HANDLER]
    if len(handlers) > 1:
        found.append((f"{at}.plugins", f"more than one profile handler ({', '.join(handlers)})"))
    elif handlers == ["single-profile-handler"] and count > 1:
        found.append((f"{at}.plugins", "single-profile-handler runs exactly one profile; this config has "
                                       f"{count} (CATALOG §e.1)"))
    # GAIE v1.0.1+ inject single-profile-handler for one profile; v0.5.1 needs it written (CATALOG §e.1).
    elif not handlers and (count > 1 or picker.gaie_base == "v0.5.1"):
        why = "several profiles" if count > 1 else f"{picker.name} injects no default"
        found.append((f"{at}.plugins", f"a profile handler is required ({why})"))
    return [Problem(source, 0, 0, field, message) for field, message in found]
