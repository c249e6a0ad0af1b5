"""specs/h100.yaml's intent compiled under every release preset and every pin combination, checked against upstream.

The matrix is the full product infra x inferencepool x modelservice x picker registry (plus variants of the
intent that some versions lack: gateway providers, the sidecar switch, accelerator vendors, EPP monitoring).
A combination either compiles or is rejected by a compatibility rule; which ones are rejected is re-derived
here from CATALOG.md facts, not read back from catalog/compat.py. For every compiled combination:

* llm-d-infra and llm-d-modelservice values validate against that chart version's values.schema.json, merged
  with its values.yaml as Helm does (oracles.chart_schema_errors); charts without a schema (MS v0.2.7, every
  inferencepool) get a key check against their values.yaml instead, with the template-read extras listed;
* the HTTPRoute backendRef group is the group the pinned inferencepool chart renders (CATALOG §d.3), and that
  chart version's CRDs serve an InferencePool in it;
* the pool selector matches the labels the pinned modelservice chart puts on decode pods (CATALOG §a.2,
  merged with the chart's own modelArtifacts.labels defaults);
* every EndpointPickerConfig plugin type is in ../shared/upstream/plugin-registries/<picker>.json. Those files
  list types only; parameters are checked against our catalog (plugin_data, from CATALOG §e).

Versions without upstream data (llm-d-infra v1.3.4, inferencepool v1.2.0-rc.1) are skipped by the per-version
tests and validated against their nearest neighbours by test_versions_without_data_bracketed.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.catalog import charts
from llmd_compile.catalog.plugins import PICKERS
from llmd_compile.compile import compile_spec
from llmd_compile.emit import epp, helm, manifests
from llmd_compile.errors import SpecError
from llmd_compile.resolve import Stack, resolve
from llmd_compile.spec.load import load
from llmd_compile.spec.models import Spec

from . import oracles as o

REPO = Path(__file__).resolve().parents[2]
SEED = load(REPO / "specs/h100.yaml", "specs/h100.yaml")
IMAGES = {"sched": "ghcr.io/llm-d/llm-d-inference-scheduler",
          "gaie": "registry.k8s.io/gateway-api-inference-extension/epp",
          "router": "ghcr.io/llm-d/llm-d-router-endpoint-picker"}
INFRA, POOL, MS = "llm-d-infra", "inferencepool", "llm-d-modelservice"
X_K8S, K8S = "inference.networking.x-k8s.io", "inference.networking.k8s.io"
# Pickers on the GAIE v0.5.1 API (CATALOG §e.4: SCHED v0.2.1 runs GAIE v0.5.1).
V051_API = {"gaie-v0.5.1", "sched-v0.2.1"}
# Versions with no copy under ../shared/upstream/data, and the neighbours that bracket them (CATALOG §c.1: v1.3.4
# only adds listener tls; §d.2 lists v1.2.0-rc.1 under v1.2.0).
NO_DATA = {(INFRA, "v1.3.4"): ("v1.3.3", "v1.3.6"), (POOL, "v1.2.0-rc.1"): ("v1.2.0",)}

Combo = tuple[str, str, str, str]  # infra, inferencepool, modelservice, picker


@functools.cache
def chart_defaults(chart: str, version: str) -> dict[str, Any]:
    """The chart's values.yaml (MS v0.4.5 repeats a key; Helm accepts that, so we do too)."""
    yaml = YAML(typ="safe")
    yaml.allow_duplicate_keys = True
    return yaml.load(o.chart_values_path(chart, version).read_text(encoding="utf-8")) or {}


def picker_image(name: str) -> str:
    family, _, tag = name.partition("-")
    return f"{IMAGES[family]}:{tag}"


def variant(combo: Combo, **spec_changes: Any) -> Spec:
    infra, pool, ms, picker = combo
    data = SEED.model_dump(exclude_unset=True)
    data["charts"] = {"infra": infra, "inferencepool": pool, "modelservice": ms}
    data["scheduler"]["image"] = picker_image(picker)
    for dotted, value in spec_changes.items():
        node = data
        *parents, last = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return Spec.model_validate(data)


def rejected_fields(combo: Combo, changes: dict[str, Any]) -> set[str]:
    """Spec fields a combination must be rejected at, from CATALOG facts (independent of catalog/compat.py)."""
    infra, pool, ms, picker = combo
    out = set()
    if (pool == "v0.5.1") != (picker in V051_API):  # --pool-group / default pool group (§d.3)
        out.add("charts.inferencepool" if pool == "v0.5.1" else "scheduler.image")
    if changes.get("gateway__provider") == "agentgateway" and infra != "v1.4.0":  # §c.2
        out.add("gateway.provider")
    if changes.get("decode__sidecar") == {"enabled": False} and ms == "v0.2.7":  # §b.2 proxy.enabled since v0.2.8
        out.add("decode.sidecar.enabled")
    if changes.get("accelerator__vendor") == "cpu" and ms not in ("v0.4.5", "v0.4.9", "v0.4.12"):  # §b.2
        out.add("accelerator.vendor")
    if changes.get("monitoring__epp") and pool == "v0.5.1":  # §d.2 monitoring from v1.0.1
        out.add("monitoring.epp.enabled")
    return out


ALL: list[Combo] = list(itertools.product(charts.INFRA, charts.POOL, charts.MODELSERVICE, PICKERS))


def _compatible_picker(pool: str) -> str:
    return "sched-v0.2.1" if pool == "v0.5.1" else "sched-v0.7.1"


def _cases() -> Iterator[tuple[Combo, dict[str, Any]]]:
    for combo in ALL:
        yield combo, {}
    for infra, pool, provider in itertools.product(charts.INFRA, charts.POOL, ("istio", "kgateway", "agentgateway",
                                                                              "gke")):
        yield (infra, pool, "v0.4.9", _compatible_picker(pool)), {"gateway__provider": provider}
    for ms, vendor, sidecar in itertools.product(charts.MODELSERVICE, ("nvidia", "amd", "google", "intel", "cpu"),
                                                 (True, False)):
        yield ("v1.4.0", "v1.4.0", ms, "sched-v0.7.1"), {"accelerator__vendor": vendor,
                                                          "decode__sidecar": {"enabled": sidecar}}
    for pool, picker in itertools.product(charts.POOL, PICKERS):
        yield ("v1.4.0", pool, "v0.4.9", picker), {"monitoring__epp": {"enabled": True}}


CASES = list(_cases())


class Compiled:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.infra = helm.infra_values(stack)
        self.pool = helm.inferencepool_values(stack)
        self.ms = helm.modelservice_values(stack)
        self.route = manifests.httproute(stack)
        self.epp = epp.endpoint_picker_config(stack)


@pytest.fixture(scope="module")
def matrix() -> dict[int, Compiled | SpecError]:
    out: dict[int, Compiled | SpecError] = {}
    for i, (combo, changes) in enumerate(CASES):
        try:
            out[i] = Compiled(resolve(variant(combo, **changes), "matrix"))
        except SpecError as exc:
            out[i] = exc
    return out


def compiled(matrix: dict[int, Compiled | SpecError]) -> Iterator[Compiled]:
    return (c for c in matrix.values() if isinstance(c, Compiled))


def distinct(values: Iterator[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """version -> distinct values dicts."""
    seen: dict[str, dict[str, dict[str, Any]]] = {}
    for version, doc in values:
        seen.setdefault(version, {})[json.dumps(doc, sort_keys=True)] = doc
    return {v: list(docs.values()) for v, docs in seen.items()}


# --- which combinations compile ------------------------------------------------------------------------------------


def test_matrix_partition(matrix: dict[int, Compiled | SpecError]) -> None:
    """Every combination compiles, except those CATALOG facts say cannot work; those name both versions."""
    wrong = []
    for i, (combo, changes) in enumerate(CASES):
        expected = rejected_fields(combo, changes)
        result = matrix[i]
        got = {p.field for p in result.problems} if isinstance(result, SpecError) else set()
        if got != expected:
            wrong.append((combo, changes, expected, [str(p) for p in getattr(result, "problems", [])]))
        if isinstance(result, SpecError) and "charts.inferencepool" in expected | got and expected == got:
            message = result.problems[0].message
            assert combo[1] in message and combo[3] in message, message  # names both versions, and why
    assert wrong == []
    assert sum(isinstance(r, Compiled) for r in matrix.values()) >= 4000


@pytest.mark.parametrize("preset", list(charts.RELEASES))
def test_preset_compiles(preset: str) -> None:
    """h100's intent under `release: <preset>` with no chart or image pins: the preset's versions everywhere."""
    data = SEED.model_dump(exclude_unset=True)
    data.pop("charts")
    data["release"] = preset
    data["scheduler"].pop("image")
    spec = Spec.model_validate(data)
    release = charts.RELEASES[preset]
    files = compile_spec(spec, "matrix")
    readme = files["README.md"]
    for version in (release.infra, release.inferencepool, release.modelservice, release.scheduler_image):
        assert version in readme
    assert f"version: {release.inferencepool}" in files["helmfile.yaml"]
    assert release.scheduler_image.rpartition(":")[2] in files["values/inferencepool.yaml"]
    group = release.pool_api_version.split("/")[0]
    assert f"group: {group}" in files["base/httproute.yaml"]


# --- chart values against the chart's own schema ------------------------------------------------------------------


def with_data(chart: str, table: Any) -> list[str]:
    """Versions that have upstream data to validate against; the others are bracketed by their neighbours
    in test_versions_without_data_bracketed (a parametrized skip would hide a check that never ran)."""
    return [v for v in table if (chart, v) not in NO_DATA]


@pytest.mark.parametrize("version", with_data(INFRA, charts.INFRA))
def test_infra_values_validate(matrix: dict[int, Compiled | SpecError], version: str) -> None:
    docs = distinct((c.stack.infra.version, c.infra) for c in compiled(matrix))[version]
    for doc in docs:
        assert o.chart_schema_errors(INFRA, version, doc) == [], doc


@pytest.mark.parametrize("version", with_data(MS, charts.MODELSERVICE))
def test_modelservice_values_validate(matrix: dict[int, Compiled | SpecError], version: str) -> None:
    docs = distinct((c.stack.ms.version, c.ms) for c in compiled(matrix))[version]
    assert docs
    for doc in docs:
        errors = o.chart_schema_errors(MS, version, doc)
        if errors is None:  # v0.2.7 ships no values.schema.json (CATALOG §b.4): check the keys instead
            assert unknown_keys(MS, version, doc) == [], doc
        else:
            assert errors == [], doc


# Keys the charts' templates read that their values.yaml does not carry (or only in a comment).
TEMPLATE_READ = {
    MS: {  # CATALOG §b.2 key tree
        "modelArtifacts.authSecretName": "env HF_TOKEN from that secret; in values.yaml from v0.2.8",
        "routing.proxy.secure": "sidecar --secure-proxy",
        "routing.inferencePool.name": "pool the v0.2.x EPP/route would target",
        "decode.parallelism": "GPU count and DP/TP env (read since v0.2.x)",
    },
    POOL: {  # CATALOG §d.1, §d.2
        "inferenceExtension.pluginsCustomConfig": "commented example in values.yaml; read by the ConfigMap template",
        "inferencePool.modelServers": "REQUIRED, commented in values.yaml",
    },
}
# Maps whose keys are free-form (label selectors, file names, Istio traffic policy).
OPEN_MAPS = ("inferencePool.modelServers.matchLabels", "inferenceExtension.pluginsCustomConfig",
             "destinationRule.trafficPolicy", "modelArtifacts.labels")


def unknown_keys(chart: str, version: str, doc: dict[str, Any]) -> list[str]:
    defaults = chart_defaults(chart, version)
    out: list[str] = []

    def walk(ours: Any, theirs: Any, path: str) -> None:
        if any(path.endswith(m) for m in OPEN_MAPS) or path in TEMPLATE_READ.get(chart, {}):
            return
        if not isinstance(ours, dict):
            return
        for key, value in ours.items():
            here = f"{path}.{key}" if path else key
            if here in TEMPLATE_READ.get(chart, {}):
                continue
            if not isinstance(theirs, dict) or key not in theirs:
                out.append(here)
                continue
            walk(value, theirs[key], here)

    walk(doc, defaults, "")
    return out


@pytest.mark.parametrize("version", with_data(POOL, charts.POOL))
def test_inferencepool_values_use_this_versions_keys(matrix: dict[int, Compiled | SpecError], version: str) -> None:
    """inferencepool has no schema in any version, so a renamed key fails silently (CATALOG §i.4): check them."""
    docs = distinct((c.stack.pool.version, c.pool) for c in compiled(matrix))[version]
    for doc in docs:
        assert unknown_keys(POOL, version, doc) == [], doc
        api = doc["inferencePool"].get("apiVersion", f"{K8S}/v1" if version != "v0.5.1" else f"{X_K8S}/v1alpha2")
        # §d.3: v1alpha2 reads targetPortNumber, v1 reads targetPorts[].number
        assert set(doc["inferencePool"]) & {"targetPortNumber", "targetPorts"} == (
            {"targetPortNumber"} if api.startswith(X_K8S) else {"targetPorts"})


# --- wiring between the charts ------------------------------------------------------------------------------------


def rendered_pool_group(version: str, values: dict[str, Any]) -> str:
    """CATALOG §d.3: the group of the InferencePool the inferencepool chart renders."""
    if version == "v0.5.1":
        return X_K8S
    if version == "v1.5.0":
        return K8S
    asked = values.get("inferencePool", {}).get("apiVersion", f"{K8S}/v1")
    return X_K8S if asked == f"{X_K8S}/v1alpha2" else K8S


def test_route_group_is_the_rendered_pool_group(matrix: dict[int, Compiled | SpecError]) -> None:
    seen = set()
    for c in compiled(matrix):
        group = rendered_pool_group(c.stack.pool.version, c.pool)
        backends = [ref for rule in c.route["spec"]["rules"] for ref in rule["backendRefs"]]
        assert [ref["group"] for ref in backends] == [group], (c.stack.pool.version, c.pool)
        seen.add((c.stack.pool.version, group))
    for version, group in sorted(seen):
        crds = o.shared() / "upstream/data/kubernetes-sigs__gateway-api-inference-extension" / version
        if crds.is_dir() and (crds / "config/crd").is_dir():
            served = "v1alpha2" if group == X_K8S else "v1"
            assert o.crd_schema(f"{group}/{served}", "InferencePool", release=version)


def decode_pod_labels(c: Compiled) -> dict[str, str]:
    """CATALOG §a.2: v0.2.x hard-codes the labels; from v0.3.0 modelArtifacts.labels (chart defaults merged)."""
    version = c.stack.ms.version
    defaults = chart_defaults(MS, version)
    if "labels" not in defaults.get("modelArtifacts", {}):
        return {"llm-d.ai/inferenceServing": "true", "llm-d.ai/model": c.stack.names.ms_fullname,
                "llm-d.ai/role": "decode"}
    merged = o.helm_merge(defaults, c.ms)
    return {**merged["modelArtifacts"]["labels"], "llm-d.ai/role": "decode"}


def test_pool_selector_matches_decode_pods(matrix: dict[int, Compiled | SpecError]) -> None:
    checked = set()
    for c in compiled(matrix):
        selector = c.pool["inferencePool"]["modelServers"]["matchLabels"]
        key = (c.stack.ms.version, json.dumps(selector, sort_keys=True), json.dumps(c.ms.get("modelArtifacts")))
        if key in checked:
            continue
        checked.add(key)
        labels = decode_pod_labels(c)
        assert selector.items() <= labels.items(), (c.stack.ms.version, selector, labels)


# --- the EndpointPickerConfig against the registries --------------------------------------------------------------

REGISTRIES = "upstream/plugin-registries"
# Registered by init() functions the JSON (resolved from registerInTreePlugins) misses; CATALOG §e.3, §e.4.
BY_INIT = {"v1.4.0": {"concurrency-detector"},
           "v1.5.0": {"eviction-sheddable-filter", "eviction-priority-then-time-ordering"}}
TYPE_OF_CONST = {"reqdataprodprefix.ApproxPrefixCachePluginType": "approx-prefix-cache-producer",
                 "inflightload.InFlightLoadProducerType": "inflight-load-producer",
                 "latencyproducer.LatencyDataProviderPluginType": "predicted-latency-producer",
                 "sessionid.SessionIDProducerType": "session-id-producer"}


def registry_types(name: str) -> set[str]:
    def load_types(stem: str) -> set[str]:
        entries = json.loads((o.shared() / REGISTRIES / f"{stem}.json").read_text(encoding="utf-8"))
        return {e["type"] or TYPE_OF_CONST[e["const"]] for e in entries if e["kind"] != "FeatureGate"}

    picker = PICKERS[name]
    types = load_types(name)
    if picker.family == "sched":
        types |= load_types(f"gaie-{picker.gaie_base}")
    return types | BY_INIT.get(picker.gaie_base, set())


INTENTS: dict[str, dict[str, Any]] = {
    "queue-only": {"scorers": {"queue": 1}, "picker": "max-score"},
    "multi-factor": {"scorers": {"queue": 1, "kvCache": 2, "prefixCache": 3}},
    "round-robin": {"scorers": {}, "picker": "round-robin"},
    "approximate-prefix": {"scorers": {"queue": 1, "kvCache": 1, "prefixCache": 1}},
    "load-aware": {"scorers": {"loadAware": 1}},
    "session-affinity": {"scorers": {"sessionAffinity": 1, "queue": 1}},
    "lora-affinity": {"scorers": {"loraAffinity": 1}},
    "weighted-random": {"scorers": {"queue": 1}, "picker": "weighted-random"},
}
SCORER_FIELDS = {"queue": "queue-scorer", "kvCache": "kv-cache-utilization-scorer",
                 "prefixCache": "prefix-cache-scorer", "loadAware": "load-aware-scorer",
                 "sessionAffinity": "session-affinity-scorer", "loraAffinity": "lora-affinity-scorer"}


@pytest.mark.parametrize(("picker", "intent"), list(itertools.product(PICKERS, INTENTS)))
def test_picker_config_in_registry(picker: str, intent: str) -> None:
    combo = ("v1.4.0", "v0.5.1" if picker in V051_API else "v1.4.0", "v0.4.9", picker)
    spec = variant(combo, **{f"scheduler__{k}": v for k, v in INTENTS[intent].items()})
    stack = resolve(spec, "matrix")
    types = registry_types(picker)
    try:
        config = epp.endpoint_picker_config(stack)
    except SpecError as exc:
        # Only for a plugin the registry really lacks (kv-cache-scorer is kvCache's GAIE v0.5.1 name).
        for problem in exc.problems:
            wanted = (SCORER_FIELDS.get(problem.field.rpartition(".")[2])
                      or epp.PICKER_TYPES[INTENTS[intent]["picker"]])
            assert wanted not in types and not (wanted == "kv-cache-utilization-scorer" and "kv-cache-scorer" in types)
        return
    catalog = PICKERS[picker].plugins
    for plugin in config["plugins"]:
        assert plugin["type"] in types, plugin
        params = catalog[plugin["type"]].params
        assert params is None or set(plugin.get("parameters", {})) <= {p.name for p in params}, plugin


@pytest.mark.parametrize(("chart", "version"), list(NO_DATA))
def test_versions_without_data_bracketed(matrix: dict[int, Compiled | SpecError], chart: str, version: str) -> None:
    """What we emit for an uncopied version validates against the copied versions around it."""
    attr = {INFRA: "infra", POOL: "pool"}[chart]
    docs = distinct((getattr(c.stack, attr).version, getattr(c, attr)) for c in compiled(matrix))[version]
    for neighbour in NO_DATA[(chart, version)]:
        for doc in docs:
            if chart == INFRA:
                assert o.chart_schema_errors(chart, neighbour, doc) == [], (neighbour, doc)
            else:
                assert unknown_keys(chart, neighbour, doc) == [], (neighbour, doc)
