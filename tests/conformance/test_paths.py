"""The well-lit-path example specs against the llm-d guides they reproduce, compared semantically, both directions.

Each case names a spec in specs/ and the guide it stands for (LD@e52045bd, the seed era, and LD@899f8517, the
v0.6 release). The spec's release postfix is set to the guide's ($rn: pd, kv-events, sim, inference-scheduling)
so the derived names are the guide's. The guide side is what its helmfile handed each chart in the istio
environment (CATALOG §a.3, §a.8, §f), as tests/conformance/test_upstream_guides.py builds it. Both sides are
coalesced with the pinned chart's values.yaml (Helm semantics) and normalised before they are flattened:

* vLLM args become {flag: value}: `--flag value` and `--flag=value` are one flag, JSON values are parsed (the
  KV-transfer and KV-events configs compare as objects, not as strings with other spacing);
* resource quantities compare as strings (`rdma/ib: 1` and `"1"` are one quantity);
* the EndpointPickerConfig (a string in pluginsCustomConfig, under the guide's own file name) is parsed into
  {featureGates, plugins by name with their parameters, profiles by name with their weighted references}; a
  config baked into the chart is named, not expanded.

INTENDED lists every path that differs, with its reason; an entry ending in `*` covers a subtree. Each entry must
match a real difference, so the table cannot rot. Reasons marked "upstream mistake" are confirmed at the end.
"""

from __future__ import annotations

import functools
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.catalog.plugins import PICKERS
from llmd_compile.check.plugins import check_config
from llmd_compile.compile import compile_spec
from llmd_compile.resolve import resolve
from llmd_compile.spec.load import load
from llmd_compile.spec.models import Spec

from . import oracles as o
from . import test_upstream_guides as ug
from .paths_intended import INTENDED

REPO = Path(__file__).resolve().parents[2]
GUIDES = "upstream/data/llm-d__llm-d/{ref}/guides"
SEED, V06 = "commit-e52045bd", "commit-899f8517"
PINS = {SEED: {"infra": "v1.3.0", "inferencepool": "v0.5.1", "modelservice": "v0.2.7"},
        V06: {"infra": "v1.4.0", "inferencepool": "v1.4.0", "modelservice": "v0.4.9"}}
ARTIFACTS = {
    "infra": ("values/infra.yaml", "llm-d-infra", "infra"),
    "gaie": ("values/inferencepool.yaml", "inferencepool", "inferencepool"),
    "ms": ("values/modelservice.yaml", "llm-d-modelservice", "modelservice"),
    "route": ("base/httproute.yaml", None, None),
}


@dataclass(frozen=True)
class Case:
    spec: str  # under specs/
    ref: str
    guide: str  # guides/<guide>/
    rn: str  # the guide helmfile's RELEASE_NAME_POSTFIX default
    ns: str
    gaie: str
    ms: str | None
    route: str | None = "httproute.yaml"
    # helmfile `set:` items on the ms release beyond the seed-era routing names (CATALOG §f)
    ms_sets: dict[str, Any] = field(default_factory=dict)
    env: str = "istio"  # the helmfile environment: its gateway configuration file (common-configurations/<env>.yaml)


IS, IS_GAIE = "inference-scheduling", "gaie-inference-scheduling/values.yaml"


def _accelerator(spec: str, ref: str, ms: str, env: str = "istio", route: str = "httproute.yaml") -> Case:
    """An inference-scheduling environment that swaps in an accelerator's ms values file (CATALOG §a.8)."""
    return Case(spec, ref, IS, IS, "llm-d-inference-scheduling", IS_GAIE, f"ms-inference-scheduling/{ms}", route,
                env=env)


CASES = {
    "pd@seed": Case("pd-seed.yaml", SEED, "pd-disaggregation", "pd", "llm-d-pd", "gaie-pd/values.yaml",
                    "ms-pd/values.yaml"),
    "pd@v0.6": Case("pd.yaml", V06, "pd-disaggregation", "pd", "llm-d-pd", "gaie-pd/values.yaml",
                    "ms-pd/values.yaml"),
    "precise@seed": Case("precise-prefix-seed.yaml", SEED, "precise-prefix-cache-aware", "kv-events",
                         "llm-d-precise", "gaie-kv-events/values.yaml", "ms-kv-events/values.yaml", route=None),
    "precise@v0.6": Case("precise-prefix.yaml", V06, "precise-prefix-cache-aware", "kv-events", "llm-d-precise",
                         "gaie-kv-events/values.yaml", "ms-kv-events/values.yaml",
                         ms_sets={"decode.containers[0].env[0].value": "kv-events"}),
    "sim@seed": Case("sim-seed.yaml", SEED, "simulated-accelerators", "sim", "llm-d-sim", "gaie-sim/values.yaml",
                     "ms-sim/values.yaml", route=None),
    "sim@v0.6": Case("sim.yaml", V06, "simulated-accelerators", "sim", "llm-d-sim", "gaie-sim/values.yaml",
                     "ms-sim/values.yaml"),
    "tpu@seed": _accelerator("tpu-seed.yaml", SEED, "values_tpu.yaml", "gke_tpu", "httproute.gke.yaml"),
    "tpu@v0.6": _accelerator("tpu.yaml", V06, "values_tpu_v6.yaml", "gke", "httproute.gke.yaml"),
    "gke@v0.6": _accelerator("gke.yaml", V06, "values.yaml", "gke", "httproute.gke.yaml"),
    "amd@v0.6": _accelerator("amd.yaml", V06, "values_amd.yaml"),
    "xpu@v0.6": _accelerator("xpu.yaml", V06, "values_xpu.yaml"),
    "gaudi@v0.6": _accelerator("gaudi.yaml", V06, "values-hpu.yaml"),
    "cpu@v0.6": _accelerator("cpu.yaml", V06, "values_cpu.yaml"),
    # The v0.6 wide-EP guide is kustomize manifests: its picker values compare here, its LeaderWorkerSets below.
    "wide-ep@v0.6": Case("wide-ep.yaml", V06, "wide-ep-lws", "wide-ep", "llm-d-wide-ep",
                         "manifests/inferencepool.values.yaml", None, route=None, env="none"),
}
# Chart-baked configs the guides name in pluginsConfigFile, as the picker loads them (handler and picker injected
# by GAIE v1.0.1+ for one profile): GAIE v1.4.0's epplib default (CATALOG §e.1: queue, kv-cache-utilization and
# prefix-cache scorers weighted 2 / 2 / 3); inferencepool v0.5.1's plugins-v2.yaml (the same three at weight 1,
# under v0.5.1's kv-cache-scorer name; README "default approximate prefix"). Others stay named, not expanded.
_BAKED = """apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins: [{{type: single-profile-handler}}, {{type: queue-scorer}}, {{type: {kv}}}, {{type: prefix-cache-scorer}},
          {{type: max-score-picker}}]
schedulingProfiles:
- name: default
  plugins: [{{pluginRef: queue-scorer, weight: {w[0]}}}, {{pluginRef: {kv}, weight: {w[1]}}},
            {{pluginRef: prefix-cache-scorer, weight: {w[2]}}}, {{pluginRef: max-score-picker}}]
"""
CHART_BAKED = {("v1.4.0", "default-plugins.yaml"): _BAKED.format(kv="kv-cache-utilization-scorer", w=(2, 2, 3)),
               ("v0.5.1", "plugins-v2.yaml"): _BAKED.format(kv="kv-cache-scorer", w=(1, 1, 1))}


def guide(case: Case, rel: str) -> Any:
    return YAML(typ="safe").load((o.shared() / GUIDES.format(ref=case.ref) / rel).read_text(encoding="utf-8"))


@functools.cache
def spec_of(name: str) -> Spec:
    case = CASES[name]
    spec = load(REPO / "specs" / case.spec, f"specs/{case.spec}")
    return spec.model_copy(update={"metadata": spec.metadata.model_copy(update={"name": case.rn})})


def guide_side(name: str) -> dict[str, Any]:
    case = CASES[name]
    gaie = guide(case, f"{case.guide}/{case.gaie}")
    if case.ms is None:  # no helmfile: the picker's values as they are
        return {"infra": None, "gaie": gaie, "ms": None, "route": None}
    env = guide(case, f"prereq/gateway-provider/common-configurations/{case.env}.yaml")
    host = f"gaie-{case.rn}-epp.{case.ns}.svc.cluster.local"
    ms = guide(case, f"{case.guide}/{case.ms}")
    gke = case.env.startswith("gke")
    if case.ref == SEED:  # CATALOG §a.3: the host rides on the infra values, the names on ms `set:`
        infra = o.helm_merge({"gateway": env["gateway"]}, {"gateway": {"destinationRule": {"host": host}}})
        if gke:
            gaie = o.helm_merge(gaie, {"provider": {"name": env["provider"]["name"]}})
        ug.helm_set(ms, "routing.inferencePool.name", f"gaie-{case.rn}")
        ug.helm_set(ms, "routing.parentRefs[0].name", f"infra-{case.rn}-inference-gateway")
    elif gke:  # CATALOG §a.8: gaie GKE overlay, and the PodMonitor switched off on the ms release
        infra = {"gateway": env["gateway"]}
        gaie = o.helm_merge(gaie, {"provider": env["provider"],
                                   "inferenceExtension": {"monitoring": {"prometheus": {"enabled": True}}}})
        ug.helm_set(ms, "decode.monitoring.podmonitor.enabled", False)
    else:  # CATALOG §a.8: provider block of the istio configuration and the DestinationRule host on gaie
        infra = {"gateway": env["gateway"]}
        gaie = o.helm_merge(gaie, {"provider": o.helm_merge(env["provider"],
                                                            {"istio": {"destinationRule": {"host": host}}})})
    for path, value in case.ms_sets.items():
        ug.helm_set(ms, path, value)
    route = guide(case, f"{case.guide}/{case.route}") if case.route else None
    return {"infra": infra, "gaie": gaie, "ms": ms, "route": route}


@functools.cache
def ours(name: str) -> dict[str, Any]:
    files = compile_spec(spec_of(name), f"specs/{CASES[name].spec}")
    return {artifact: YAML(typ="safe").load(str(files[rel])) for artifact, (rel, _, _) in ARTIFACTS.items()}


# --- normalisation --------------------------------------------------------------------------------------------------


def _value(text: str) -> Any:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


def args_map(args: list[Any]) -> dict[str, Any]:
    """vLLM argv -> {flag: value}; a flag without a value is True; a non-flag word stays under its index."""
    out: dict[str, Any] = {}
    items = [str(a) for a in args]
    i = 0
    while i < len(items):
        item = items[i]
        if item.startswith("--"):
            name, eq, value = item.partition("=")
            flag = "--" + name[2:].replace("_", "-")
            if eq:
                out[flag] = _value(value)
            elif i + 1 < len(items) and not items[i + 1].startswith("--"):
                out[flag] = _value(items[i + 1])
                i += 1
            else:
                out[flag] = True
        else:
            out[f"argv[{i}]"] = item
        i += 1
    return out


def _with_defaults(picker: str, type_name: str, params: dict[str, Any]) -> dict[str, Any]:
    """A plugin's parameters with the registry's defaults filled in: a default written out is no difference."""
    known = PICKERS[picker].plugins.get(type_name)
    defaults = {p.name: p.default for p in (known.params or ()) if p.default is not None} if known else {}
    return {**defaults, **params}


def epp_config(text: str, picker: str) -> dict[str, Any]:
    doc = YAML(typ="safe").load(text)
    plugins = {p.get("name", p["type"]): {"type": p["type"],
                                          "parameters": _with_defaults(picker, p["type"], p.get("parameters") or {})}
               for p in doc.get("plugins", [])}
    profiles = {p["name"]: {r["pluginRef"]: float(r.get("weight", 1)) if "weight" in r or
                            plugins.get(r["pluginRef"], {}).get("type", "").endswith("scorer") else None
                            for r in p.get("plugins", [])} for p in doc.get("schedulingProfiles", [])}
    return {"apiVersion": doc.get("apiVersion"), "featureGates": sorted(doc.get("featureGates") or []),
            "plugins": plugins, "profiles": profiles}


def _vllm_serve(container: dict[str, Any]) -> None:
    """A `custom` shell command `vllm serve <model> --flags...` is the chart's vllmServe with those flags (the chart
    adds the model, --host and --port itself, CATALOG §b.2); anything else is left as it is."""
    script = " ".join(str(a) for a in container.get("args") or [])
    if container.get("modelCommand") != "custom" or not script.lstrip().startswith("vllm serve"):
        return
    tokens = shlex.split(script.replace("\\\n", " "))[3:]
    flags = args_map(tokens)
    for implied in ("--host", "--port", "--served-model-name"):
        flags.pop(implied, None)
    container.update({"modelCommand": "vllmServe", "args": flags})
    container.pop("command", None)


def normalise(artifact: str, values: Any, picker: str, pool: str) -> Any:
    if artifact == "ms":
        ug.named_ports(values)
        for role in ("decode", "prefill"):
            for container in (values.get(role) or {}).get("containers") or []:
                _vllm_serve(container)
                if isinstance(container.get("args"), list):
                    container["args"] = args_map(container["args"])
                if not container.get("args"):
                    container.pop("args", None)
                resources = container.get("resources") or {}
                for kind in ("limits", "requests"):
                    quantities = resources.get(kind) or {}
                    for key in list(quantities):
                        quantities[key] = str(quantities[key])
                    if kind in resources and not quantities:
                        del resources[kind]
                if "resources" in container and not resources:
                    del container["resources"]
    if artifact == "gaie":
        ext = values.get("inferenceExtension", {})
        name = ext.get("pluginsConfigFile")
        custom = ext.pop("pluginsCustomConfig", None) or {}
        if name in custom:
            ext["epp"] = epp_config(custom[name], picker)
        elif (pool, name) in CHART_BAKED:
            ext["epp"] = epp_config(CHART_BAKED[(pool, name)], picker)
        elif name is not None:
            ext["epp"] = {"chart-baked": name}
    return values


@functools.cache
def differences(name: str) -> dict[str, tuple[Any, Any]]:
    case = CASES[name]
    theirs = guide_side(name)
    stack = resolve(spec_of(name), "x")
    found: dict[str, tuple[Any, Any]] = {}
    for artifact, (_, chart, pin) in ARTIFACTS.items():
        if theirs[artifact] is None:
            continue
        sides = []
        for values in (theirs[artifact], ours(name)[artifact]):
            merged = o.helm_merge(ug.chart_defaults(chart, PINS[case.ref][pin]), values) if chart and pin else values
            sides.append(ug.flatten(normalise(artifact, merged, stack.picker.name, stack.pool.version)))
        a, b = sides
        for path in sorted(set(a) | set(b)):
            pair = (a.get(path, ug.ABSENT), b.get(path, ug.ABSENT))
            if pair[0] != pair[1]:
                found[f"{artifact}:{path.lstrip('.')}"] = pair
    return found


def _explained(name: str, path: str) -> bool:
    return any(path == key or (key.endswith("*") and path.startswith(key[:-1])) for key in INTENDED[name])


# --- the tests ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_same_charts_and_names_as_the_guide(name: str) -> None:
    case = CASES[name]
    stack = resolve(spec_of(name), "x")
    assert {"infra": stack.infra.version, "inferencepool": stack.pool.version,
            "modelservice": stack.ms.version} == PINS[case.ref]
    assert stack.names.namespace == case.ns and stack.names.pool == f"gaie-{case.rn}"


@pytest.mark.parametrize("name", list(CASES))
def test_every_difference_is_intended(name: str) -> None:
    unexplained = {p: f"guide {g!r} / ours {u!r}" for p, (g, u) in differences(name).items()
                   if not _explained(name, p)}
    assert unexplained == {}


@pytest.mark.parametrize("name", list(CASES))
def test_every_intended_difference_is_real(name: str) -> None:
    paths = list(differences(name))
    stale = [key for key in INTENDED[name]
             if not any(p == key or (key.endswith("*") and p.startswith(key[:-1])) for p in paths)]
    assert stale == []


def test_args_map() -> None:
    assert args_map(["--block-size", "128", "--kv_transfer_config", '{"a": 1}', "--enforce-eager",
                     "--x=2"]) == {"--block-size": "128", "--kv-transfer-config": {"a": 1}, "--enforce-eager": True,
                                   "--x": "2"}


# --- the upstream mistakes, confirmed from upstream data ------------------------------------------------------------


def _guide_epp(name: str) -> dict[str, Any]:
    ext = guide_side(name)["gaie"]["inferenceExtension"]
    return YAML(typ="safe").load(ext["pluginsCustomConfig"][ext["pluginsConfigFile"]])  # type: ignore[no-any-return]


def test_seed_pd_queue_scorer_parameters_are_ignored() -> None:
    found = {p.field for p in check_config(PICKERS["sched-v0.2.1"], _guide_epp("pd@seed"), "g", "c")}
    assert found == {"c.plugins[4].parameters"}  # queue-scorer: "takes no parameters; would silently ignore them"


def test_v06_precise_block_sizes_disagree() -> None:
    scorer = next(p for p in _guide_epp("precise@v0.6")["plugins"] if p["type"] == "precise-prefix-cache-scorer")
    (container,) = guide_side("precise@v0.6")["ms"]["decode"]["containers"]
    assert scorer["parameters"]["tokenProcessorConfig"]["blockSize"] == 64
    assert args_map(container["args"])["--block-size"] == "16"
    sample = o.shared() / "upstream/data/llm-d__llm-d-inference-scheduler/v0.8.0/deploy/config"
    assert "must match vLLM block size" in (sample / "epp-precise-prefix-cache-config.yaml").read_text("utf-8")


def test_v06_precise_speculative_indexing_is_misplaced() -> None:
    scorer = next(p for p in _guide_epp("precise@v0.6")["plugins"] if p["type"] == "precise-prefix-cache-scorer")
    assert "speculativeIndexing" in scorer["parameters"]["indexerConfig"]
    params = {p.name for p in PICKERS["sched-v0.7.1"].plugins["precise-prefix-cache-scorer"].params or ()}
    assert "speculativeIndexing" in params  # read at the top level of the scorer's parameters


def test_sim_guides_never_disaggregate() -> None:
    # Prefill pods run, but the guides' configs have no P/D handler: GAIE's epp registers none, and both use the
    # chart-baked single-profile default-plugins.yaml.
    for name in ("sim@seed", "sim@v0.6"):
        ext = guide_side(name)["gaie"]["inferenceExtension"]
        assert ext["pluginsConfigFile"] == "default-plugins.yaml" and "pluginsCustomConfig" not in ext
        assert guide_side(name)["ms"]["prefill"]["create"] is True
    assert not {"pd-profile-handler", "disagg-profile-handler"} & set(PICKERS["gaie-v0.5.1"].plugins)


# --- wide-EP: the LeaderWorkerSets our values become, against the guide's --------------------------------------------


def test_wide_ep_groups_are_the_guides() -> None:
    """Per role: LeaderWorkerSet size and replicas, GPUs per pod, the data-parallel group, expert parallelism, the
    vLLM and NIXL ports, as LD@899f8517 wide-ep-lws/manifests/modelserver/base/<role>.yaml declares them."""
    from llmd_compile.catalog import vllm

    values = ours("wide-ep@v0.6")["ms"]
    assert values["multinode"] is True
    for role in ("decode", "prefill"):
        lws = guide(CASES["wide-ep@v0.6"], f"wide-ep-lws/manifests/modelserver/base/{role}.yaml")
        pod = lws["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]
        (theirs,) = pod["containers"]
        env = {e["name"]: e.get("value") for e in theirs["env"]}
        mine = values[role]
        (container,) = mine["containers"]
        argv = args_map(vllm.container_args(container))
        assert mine["replicas"] == lws["spec"]["replicas"]
        assert mine["parallelism"]["workers"] == lws["spec"]["leaderWorkerTemplate"]["size"]
        assert argv["--data-parallel-size-local"] == env["DP_SIZE_LOCAL"]
        assert int(argv["--data-parallel-size"]) == lws["spec"]["leaderWorkerTemplate"]["size"] * int(
            env["DP_SIZE_LOCAL"])
        assert argv["--tensor-parallel-size"] == env["TP_SIZE"]
        assert "--enable-expert-parallel" in argv and "--enable-expert-parallel" in theirs["args"][0]
        assert container["resources"]["limits"]["nvidia.com/gpu"] == theirs["resources"]["limits"]["nvidia.com/gpu"]
        assert {p["containerPort"] for p in container["ports"]} == {p["containerPort"] for p in theirs["ports"]}
        assert argv["--port"] == str(next(p["containerPort"] for p in theirs["ports"] if p["name"] == "vllm"))
        sidecars = [c for c in pod.get("initContainers", []) if c["name"] == "routing-proxy"]
        assert bool(sidecars) == (role == "decode")  # the chart adds the routing proxy to decode pods only


def test_v06_wide_ep_threshold_is_ignored() -> None:
    found = {p.field for p in check_config(PICKERS["sched-v0.7.1"], _guide_epp("wide-ep@v0.6"), "g", "c")}
    assert found == {"c.plugins[4].parameters.threshold", "c.plugins[4].parameters.hashBlockSize"}
    handler = PICKERS["sched-v0.7.1"].plugins["pd-profile-handler"]
    assert {p.name: p.default for p in handler.params or ()}["deciderPluginName"] == "prefix-based-pd-decider"
