"""Our plugin catalog against the upstream registries resolved per tag in ../shared/upstream/plugin-registries.

The JSON registries are the oracle for type names. Where our catalog intentionally differs, the difference
is listed below with the reason. The sample EndpointPickerConfigs each upstream tag ships
(../shared/upstream/data/<repo>/<tag>/deploy/config) are also checked against our types, parameters,
envelope fields and feature gates.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.catalog.plugins import PICKERS, PickerVersion

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
REGISTRIES = SHARED / "upstream" / "plugin-registries"
DATA = SHARED / "upstream" / "data"

# Entries whose type string the resolver could not read (registered through RegisterAsDefaultProducer with a
# constant from another package: "type": null). Resolved from CATALOG.md e.2 (ROUTER v0.10.0 table).
TYPE_OF_CONST = {
    "reqdataprodprefix.ApproxPrefixCachePluginType": "approx-prefix-cache-producer",
    "inflightload.InFlightLoadProducerType": "inflight-load-producer",
    "latencyproducer.LatencyDataProviderPluginType": "predicted-latency-producer",
    "sessionid.SessionIDProducerType": "session-id-producer",
}

# Types we register that the JSON does not list. The JSON was resolved from registerInTreePlugins only;
# these are registered by package init() functions, which CATALOG.md records.
REGISTERED_BY_INIT = {
    # GAIE v1.4.0 pkg/epp/saturationdetector/framework/plugins/concurrencydetector/detector.go (CATALOG e.4);
    # in v1.5.0 it moved into registerInTreePlugins and the JSON lists it.
    "v1.4.0": {"concurrency-detector"},
    # GAIE v1.5.0 pkg/epp/framework/plugins/flowcontrol/eviction/{filtering/sheddable.go,
    # ordering/priority_time.go} (CATALOG e.3).
    "v1.5.0": {"eviction-sheddable-filter", "eviction-priority-then-time-ordering"},
}

# Feature gates are compared only where the JSON lists FeatureGate entries (router-v0.10.0). GAIE gates
# come from CATALOG.md e.1, which the JSON files do not cover; router-v0.9.0's JSON lists none, and our
# catalog assumes {flowControl} there (see plugins._ROUTER_GATES).

# Sample configs that disagree with our catalog, and why. Each is an upstream sample the catalog (or the
# registry JSON) says the picker would not accept as written; keep them listed so a catalog change shows up.
KNOWN_CONFIG_PROBLEMS = {
    # Stale sample: GAIE v1.0.x (which SCHED v0.3.2 runs) registers kv-cache-utilization-scorer only; the
    # LD@v0.3.0 precise guide uses the new name with this image (CATALOG f).
    ("sched-v0.3.2", "epp-precise-prefix-cache-config.yaml"): {"unknown type kv-cache-scorer"},
    # (sched-v0.3.2 sim-epp-kvcache-config.yaml still passes prefix-cache-scorer{mode: cache_tracking}, whose
    # override left in SCHED v0.3 (CATALOG e.4); lenient decoding ignores the keys, so it is no problem here.)
    # CATALOG e.1/f: GAIE v1.5.0 rejects unknown gates and dropped prepareDataPlugins, yet SCHED v0.8.0's own
    # samples still set it. We follow the catalog.
    ("sched-v0.8.0", "pd-epp-config.yaml"): {"unknown feature gate prepareDataPlugins"},
    ("sched-v0.8.0", "sim-epd-epp-config.yaml"): {"unknown feature gate prepareDataPlugins"},
    ("sched-v0.8.0", "sim-epp-external-tokenizer-config.yaml"): {"unknown feature gate prepareDataPlugins"},
    ("sched-v0.8.0", "sim-pd-epp-config.yaml"): {"unknown feature gate prepareDataPlugins"},
    # CATALOG e.2 gives mm-embeddings-cache-producer {cacheSizeInMBPerServer}; the v0.10.0 sample uses
    # cacheSizeInMB. One of the two is wrong; we keep the catalog's name.
    ("router-v0.10.0", "epp-mm-embeddings-cache-config.yaml"): {
        "mm-embeddings-cache-producer: unknown parameter cacheSizeInMB"
    },
}

REPO_FAMILY = {"llm-d__llm-d-inference-scheduler": "sched", "llm-d__llm-d-router": "router"}


@pytest.fixture(scope="module")
def shared() -> Path:
    if not REGISTRIES.is_dir():
        message = f"../shared not found: {REGISTRIES} is missing"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED


def load_registry(stem: str) -> tuple[set[str], set[str]]:
    """(plugin types, feature gates) of plugin-registries/<stem>.json."""
    entries: list[dict[str, Any]] = json.loads((REGISTRIES / f"{stem}.json").read_text())
    types, gates = set(), set()
    for entry in entries:
        if entry["kind"] == "FeatureGate":
            gates.add(entry["type"])
        else:
            types.add(entry["type"] or TYPE_OF_CONST[entry["const"]])
    return types, gates


def expected_types(picker: PickerVersion) -> set[str]:
    types, _ = load_registry(picker.name)
    if picker.family == "sched":
        types |= load_registry(f"gaie-{picker.gaie_base}")[0]
    if picker.family in ("gaie", "sched"):
        types |= REGISTERED_BY_INIT.get(picker.gaie_base, set())
    return types


@pytest.mark.parametrize("name", list(PICKERS))
def test_type_names_match_registry(shared: Path, name: str) -> None:
    picker = PICKERS[name]
    expected = expected_types(picker)
    ours = set(picker.plugins)
    assert not ours - expected, f"{name}: not in the upstream registry: {sorted(ours - expected)}"
    assert not expected - ours, f"{name}: missing from our catalog: {sorted(expected - ours)}"


def test_every_registry_file_has_a_picker(shared: Path) -> None:
    stems = {p.stem for p in REGISTRIES.glob("*.json")}
    assert stems == set(PICKERS)


@pytest.mark.parametrize("name", list(PICKERS))
def test_feature_gates_match_registry(shared: Path, name: str) -> None:
    _, gates = load_registry(name)
    if gates:
        assert PICKERS[name].feature_gates == gates


@pytest.mark.parametrize("name", list(PICKERS))
def test_deprecations_match_registry(shared: Path, name: str) -> None:
    """Every type the registry marks deprecated carries a deprecation note with us."""
    entries = json.loads((REGISTRIES / f"{name}.json").read_text())
    for entry in entries:
        if entry["deprecated"] or entry["kind"].startswith("Deprecated"):
            assert PICKERS[name].plugins[entry["type"]].deprecated, entry


def config_problems(picker: PickerVersion, doc: dict[str, Any]) -> set[str]:
    problems = set()
    if picker.strict_envelope:
        problems |= {f"unknown field {k}" for k in set(doc) - picker.envelope_fields - {"apiVersion", "kind"}}
    if picker.strict_feature_gates:
        gates = set(doc.get("featureGates") or ())
        problems |= {f"unknown feature gate {g}" for g in gates - picker.feature_gates}
    for plugin in doc.get("plugins") or ():
        pt = picker.plugins.get(plugin["type"])
        if pt is None:
            problems.add(f"unknown type {plugin['type']}")
        elif picker.strict_params and pt.params is not None:
            known = {p.name for p in pt.params}
            unknown = set(plugin.get("parameters") or {}) - known
            problems |= {f"{pt.type}: unknown parameter {k}" for k in unknown}
    return problems


def sample_configs() -> list[tuple[str, Path]]:
    out = []
    for repo, family in REPO_FAMILY.items():
        for config in sorted((DATA / repo).glob("*/deploy/config/*.yaml")):
            out.append((f"{family}-{config.parts[-4]}", config))
    return out


def test_sample_configs_found(shared: Path) -> None:
    pickers = {name for name, _ in sample_configs()}
    assert pickers == {"sched-v0.2.1", "sched-v0.3.2", "sched-v0.8.0", "router-v0.10.0"}


@pytest.mark.parametrize(
    ("name", "config"), sample_configs(), ids=[f"{n}/{c.name}" for n, c in sample_configs()]
)
def test_sample_config_against_catalog(shared: Path, name: str, config: Path) -> None:
    picker = PICKERS[name]
    problems: set[str] = set()
    for doc in YAML(typ="safe").load_all(config.read_text()):
        if isinstance(doc, dict) and doc.get("kind") == "EndpointPickerConfig":
            problems |= config_problems(picker, doc)
    assert problems == KNOWN_CONFIG_PROBLEMS.get((name, config.name), set())
