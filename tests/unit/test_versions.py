"""Version errors as tables: incompatible pins, scheduler intents a picker lacks, and raw EndpointPickerConfigs.

Each case edits a small seed-like spec and expects exactly these `line:col: field:` locations, each with a piece
of its message (the whole message is long: it names both versions, the reason and the fix).
"""

from __future__ import annotations

import pytest

from llmd_compile.catalog import charts
from llmd_compile.catalog.plugins import PICKERS
from llmd_compile.check.plugins import check_config
from llmd_compile.compile import compile_spec
from llmd_compile.errors import SpecError
from llmd_compile.spec.load import load_text_marked, relocate

BASE = """\
apiVersion: llmd-compile/v1alpha1
kind: Stack
metadata:
  name: inference-scheduling
  namespace: llm-d-inference-scheduling
charts:
  infra: v1.3.0
  inferencepool: v0.5.1
  modelservice: v0.2.7
model:
  name: meta-llama/Llama-3.1-8B-Instruct
accelerator:
  vendor: nvidia
  model: H100
decode:
  replicas: 4
  image: ghcr.io/llm-d/llm-d-dev:pr-170
gateway:
  provider: istio
scheduler:
  image: ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1
  scorers:
    queue: 1.0
route:
  name: llm-d-inference-scheduling
"""
V06 = ("charts:\n  infra: v1.3.0\n  inferencepool: v0.5.1\n  modelservice: v0.2.7\n", "release: v0.6\n")
SCHED = "  image: ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1\n"
SCORERS = "  scorers:\n    queue: 1.0\n"
PRESET_V06 = [V06, (SCHED, "")]  # release: v0.6 and its picker (sched-v0.7.1)


def raw(config: str) -> tuple[str, str]:
    """Replace the scorers with an endpointPickerConfig (YAML indented under scheduler:)."""
    body = "".join(f"    {line}\n" if line else "\n" for line in config.strip("\n").splitlines())
    return SCORERS, f"  endpointPickerConfig:\n{body}"


ROUND_ROBIN = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: single-profile-handler
  - type: round-robin-picker
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: round-robin-picker
"""
MULTI_FACTOR = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: single-profile-handler
  - type: queue-scorer
  - type: kv-cache-scorer
  - type: prefix-cache-scorer
    parameters:
      mode: approximate
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins:
      - pluginRef: queue-scorer
        weight: 1.0
      - pluginRef: kv-cache-scorer
        weight: 2.0
      - pluginRef: prefix-cache-scorer
        weight: 3.0
"""


def config(*plugins: str, refs: str = "      - pluginRef: queue-scorer\n", top: str = "") -> str:
    listed = "".join(f"  - {p}\n" for p in plugins)
    return f"{top}plugins:\n  - type: single-profile-handler\n{listed}schedulingProfiles:\n  - name: default\n" \
           f"    plugins:\n{refs}"


# (id, [(old, new) edits], [(line:col: field, message piece)])
CASES: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]] = [
    # --- incompatible pins -----------------------------------------------------------------------------------------
    ("old picker, new pool", [("inferencepool: v0.5.1", "inferencepool: v1.4.0")],
     [("21:10: scheduler.image", "endpoint picker sched-v0.2.1 (GAIE v0.5.1 API) cannot run under inferencepool "
                                 "v1.4.0: that chart passes --pool-group")]),
    ("new picker, old pool", [("scheduler:v0.2.1", "scheduler:v0.7.0")],
     [("8:18: charts.inferencepool", "inferencepool v0.5.1 renders only an inference.networking.x-k8s.io/v1alpha2 "
                                     "InferencePool and passes no --pool-group, while endpoint picker sched-v0.7.1")]),
    ("preset v0.6 with the seed picker", [V06],
     [("18:10: scheduler.image", "sched-v0.2.1 (GAIE v0.5.1 API) cannot run under inferencepool v1.4.0")]),
    ("agentgateway before infra v1.4.0", [("provider: istio", "provider: agentgateway")],
     [("19:13: gateway.provider", "llm-d-infra v1.3.0 renders no agentgateway gateway")]),
    ("sidecar off on MS v0.2.7", [("  replicas: 4\n", "  replicas: 4\n  sidecar:\n    enabled: false\n")],
     [("18:14: decode.sidecar.enabled", "llm-d-modelservice v0.2.7 always renders the routing sidecar")]),
    ("cpu before MS v0.4.5", [("vendor: nvidia", "vendor: cpu")],
     [("13:11: accelerator.vendor", "llm-d-modelservice v0.2.7 has no accelerator type for 'cpu'")]),
    ("EPP ServiceMonitor on inferencepool v0.5.1", [("route:\n", "monitoring:\n  epp:\n    enabled: true\nroute:\n")],
     [("26:14: monitoring.epp.enabled", "inferencepool v0.5.1 cannot create a ServiceMonitor for the EPP")]),
    ("unsupported chart version", [("infra: v1.3.0", "infra: v1.3.5")],
     [("7:10: charts.infra", "v1.3.5 is not a supported version")]),
    ("no picker image and no preset", [(SCHED, ""), ("modelservice: v0.2.7", "modelservice: v0.2.9")],
     [("20:1: scheduler.image", "no image: set it or pick a release:")]),
    # --- scheduler intents the pinned picker lacks ------------------------------------------------------------------
    ("load-aware on the GAIE epp", [("llm-d-inference-scheduler:v0.2.1", "gateway-api-inference-extension/epp:v0.5.1"),
                                    ("queue: 1.0", "loadAware: 1")],
     [("23:16: scheduler.scorers.loadAware", "picker gaie-v0.5.1 has no load-aware-scorer (registered by sched "
                                             "v0.2.1-v0.8.0, router v0.9.0-v0.10.0, not by gaie-v0.5.1)")]),
    ("lora affinity before GAIE v1.0", [("queue: 1.0", "loraAffinity: 1")],
     [("23:19: scheduler.scorers.loraAffinity", "picker sched-v0.2.1 has no lora-affinity-scorer (registered by "
                                                "gaie v1.0.1-v1.5.0")]),
    ("weighted-random before GAIE v1.0", [(SCORERS, SCORERS + "  picker: weighted-random\n")],
     [("24:11: scheduler.picker", "picker sched-v0.2.1 has no weighted-random-picker")]),
    ("fractional weight on integer weights", [("queue: 1.0", "queue: 1.5")],
     [("23:12: scheduler.scorers.queue", "sched-v0.2.1 takes integer weights; 1.5 is not one")]),
    # --- raw EndpointPickerConfig -----------------------------------------------------------------------------------
    ("seed option 3 literally", [raw(ROUND_ROBIN)],
     [("27:15: scheduler.endpointPickerConfig.plugins[1].type",
       "sched-v0.2.1 has no plugin type 'round-robin-picker'; no picker version registers a round-robin picker; "
       "random-picker spreads requests uniformly")]),
    ("seed option 2 literally", [raw(MULTI_FACTOR)],
     [("31:17: scheduler.endpointPickerConfig.plugins[3].parameters.mode",
       "prefix-cache-scorer.mode is one of estimate, cache_tracking in sched-v0.2.1, not 'approximate'; "
       "approximate prefix matching is mode 'estimate', the default: drop mode")]),
    ("seed option 2 on the v0.6 picker", [*PRESET_V06, raw(MULTI_FACTOR)],
     [("24:15: scheduler.endpointPickerConfig.plugins[2].type",
       "'kv-cache-scorer' was renamed 'kv-cache-utilization-scorer' in GAIE v1.0.1"),
      ("27:17: scheduler.endpointPickerConfig.plugins[3].parameters.mode",
       "prefix-cache-scorer has no parameter 'mode' in sched-v0.7.1 (would silently ignore it); prefix-cache-scorer "
       "is the approximate (estimated) scorer here")]),
    ("new name on an old picker", [raw(config("type: kv-cache-utilization-scorer",
                                              refs="      - pluginRef: kv-cache-utilization-scorer\n"))],
     [("25:15: scheduler.endpointPickerConfig.plugins[1].type",
       "'kv-cache-scorer' was renamed 'kv-cache-utilization-scorer' in GAIE v1.0.1; sched-v0.2.1 predates that: "
       "use 'kv-cache-scorer'")]),
    ("renamed parameter", [*PRESET_V06,
                           raw(config("type: prefix-cache-scorer\n    parameters:\n      hashBlockSize: 64",
                                      refs="      - pluginRef: prefix-cache-scorer\n        weight: 2\n"))],
     [("23:26: scheduler.endpointPickerConfig.plugins[1].parameters.hashBlockSize",
       "'hashBlockSize' was renamed 'blockSize' in GAIE v1.2.0")]),
    ("parameter the old picker lacks", [raw(config("type: prefix-cache-scorer\n    parameters:\n"
                                                   "      blockSizeTokens: 16",
                                                   refs="      - pluginRef: prefix-cache-scorer\n"))],
     [("27:28: scheduler.endpointPickerConfig.plugins[1].parameters.blockSizeTokens",
       "has no parameter 'blockSizeTokens' in sched-v0.2.1 (would silently ignore it); 'blockSizeTokens' is the "
       "name from GAIE v1.4.0 on; sched-v0.2.1 reads 'hashBlockSize'")]),
    ("new handler name on an old picker", [(V06[0], "release: v0.4.0\n"), (SCHED, ""),
                                           raw(config("type: disagg-profile-handler"))],
     [("21:15: scheduler.endpointPickerConfig.plugins[1].type",
       "'pd-profile-handler' was renamed 'disagg-profile-handler' in sched v0.7.0; sched-v0.4.0 predates that: "
       "use 'pd-profile-handler'"),
      ("25:24: scheduler.endpointPickerConfig.schedulingProfiles[0].plugins[0].pluginRef",
       "no plugin named 'queue-scorer'")]),
    ("typo in a parameter", [raw(config("type: prefix-cache-scorer\n    parameters:\n"
                                        "      maxPrefixBlockToMatch: 256",
                                        refs="      - pluginRef: prefix-cache-scorer\n"))],
     [("27:34: scheduler.endpointPickerConfig.plugins[1].parameters.maxPrefixBlockToMatch",
       "did you mean 'maxPrefixBlocksToMatch'?")]),
    ("parameters on a parameterless scorer", [raw(config("type: queue-scorer\n    parameters:\n      threshold: 5"))],
     [("26:9: scheduler.endpointPickerConfig.plugins[1].parameters",
       "queue-scorer takes no parameters; sched-v0.2.1 would silently ignore them")]),
    ("dangling pluginRef", [raw(config("type: queue-scorer", refs="      - pluginRef: queue\n"))],
     [("29:24: scheduler.endpointPickerConfig.schedulingProfiles[0].plugins[0].pluginRef",
       "no plugin named 'queue' in plugins")]),
    ("weight on a picker", [raw(config("type: queue-scorer", "type: max-score-picker",
                                       refs="      - pluginRef: queue-scorer\n      - pluginRef: max-score-picker\n"
                                            "        weight: 1\n"))],
     [("32:21: scheduler.endpointPickerConfig.schedulingProfiles[0].plugins[1].weight",
       "weight is read for scorers only; max-score-picker is a picker")]),
    ("top-level field the picker predates", [raw(config("type: queue-scorer", top="featureGates: [dataLayer]\n"))],
     [("23:19: scheduler.endpointPickerConfig.featureGates",
       "unknown top-level field for sched-v0.2.1 (would silently ignore it)")]),
    ("feature gate the picker dropped", [("scheduler:v0.2.1", "scheduler:v0.8.0"),
                                         ("inferencepool: v0.5.1", "inferencepool: v1.5.0"),
                                         raw(config("type: queue-scorer", top="featureGates: [prepareDataPlugins]\n"))],
     [("23:20: scheduler.endpointPickerConfig.featureGates[0]",
       "sched-v0.8.0 has no feature gate 'prepareDataPlugins' (rejects it")]),
    ("removed parameter", [*PRESET_V06, raw(config("type: pd-profile-handler\n    parameters:\n      threshold: 0",
                                           refs="      - pluginRef: queue-scorer\n"))],
     [("23:22: scheduler.endpointPickerConfig.plugins[1].parameters.threshold",
       "pd-profile-handler has no parameter 'threshold' in sched-v0.7.1 (would silently ignore it)"),
      ("27:24: scheduler.endpointPickerConfig.schedulingProfiles[0].plugins[0].pluginRef",
       "no plugin named 'queue-scorer'"),
      ("19:5: scheduler.endpointPickerConfig.plugins",
       "more than one profile handler (single-profile-handler, pd-profile-handler)")]),
    ("both intent and raw config", [(SCORERS, SCORERS + "  endpointPickerConfig:\n" + "".join(
        f"    {line}\n" for line in config("type: queue-scorer").splitlines()))],
     [("22:3: scheduler.scorers", "set either scheduler.scorers or scheduler.endpointPickerConfig, not both")]),
]


def problems(text: str) -> list[str]:
    spec, marks = load_text_marked(text, "x.yaml")
    with pytest.raises(SpecError) as info:
        compile_spec(spec, "x.yaml")
    return [str(p).removeprefix("x.yaml:") for p in relocate(info.value.problems, marks)]


@pytest.mark.parametrize(("edits", "expected"), [(e, x) for _, e, x in CASES], ids=[c[0] for c in CASES])
def test_error_table(edits: list[tuple[str, str]], expected: list[tuple[str, str]]) -> None:
    text = BASE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    found = problems(text)
    assert len(found) == len(expected), found
    for where, piece in expected:
        line = next((f for f in found if f.startswith(f"{where}: ")), None)
        assert line is not None, f"{where} not in {found}"
        assert piece in line, line


@pytest.mark.parametrize("preset", list(charts.RELEASES))
def test_preset_alone_compiles(preset: str) -> None:
    """`release:` and no pins: charts and picker image come from the preset."""
    text = BASE.replace(V06[0], f"release: {preset}\n").replace(SCHED, "")
    spec, _ = load_text_marked(text, "x.yaml")
    files = compile_spec(spec, "x.yaml")
    release = charts.RELEASES[preset]
    assert f"`{release.scheduler_image}`" in files["README.md"]
    assert release.scheduler_image.rpartition(":")[2] in files["values/inferencepool.yaml"]


def test_raw_config_passes_through() -> None:
    """A valid raw config is emitted as written (apiVersion/kind filled in when left out)."""
    text = BASE.replace(*raw(config("type: queue-scorer", "type: random-picker",
                                    refs="      - pluginRef: queue-scorer\n        weight: 1\n"
                                         "      - pluginRef: random-picker\n")))
    spec, _ = load_text_marked(text, "x.yaml")
    out = compile_spec(spec, "x.yaml")["epp/endpoint-picker-config.yaml"]
    assert "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n" in out
    assert "- type: random-picker" in out


@pytest.mark.parametrize("picker", list(PICKERS))
def test_our_intent_configs_pass_our_check(picker: str) -> None:
    """Sanity: the checker accepts the minimal config every picker runs (handler + queue scorer + max-score)."""
    doc = {"apiVersion": "inference.networking.x-k8s.io/v1alpha1", "kind": "EndpointPickerConfig",
           "plugins": [{"type": "single-profile-handler"}, {"type": "queue-scorer"}, {"type": "max-score-picker"}],
           "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": "queue-scorer", "weight": 1},
                                                                  {"pluginRef": "max-score-picker"}]}]}
    assert check_config(PICKERS[picker], doc, "x", "c") == []
