"""Our compiled values against the llm-d release guides they reproduce (LD@v0.3.0, LD@v0.4.0, LD@899f8517).

For each snapshot, tests/conformance/guides/<ref>.yaml states the guide's inference-scheduling stack as a spec
(its `release:` preset pins the same charts and picker). The guide side is what its helmfile handed each chart
in the istio environment (CATALOG §a.8): the gaie and ms values files, the gateway configuration's `gateway:`
block for infra, the istio-like gaie overlay (provider.name, the DestinationRule block of istio.yaml and its
host), the ms `set:` items (LD@v0.3.0 only), and the hand-applied httproute.yaml. Both sides are coalesced with
the pinned chart's values.yaml as Helm does (a version without a copy in ../shared uses its neighbour, listed in
DEFAULTS_FROM), then flattened to {path: value}: lists of objects keyed by containerPort or name when distinct,
else by index; lists of scalars are values.

INTENDED lists every path that differs, with its reason; each listed path must really differ, so the table
cannot rot. Reasons marked "upstream mistake" are places where the guide's value does not do what it says;
the tests at the end confirm those from upstream data. LD@e52045bd (the seed era) is test_guide_fidelity.py.
"""

from __future__ import annotations

import functools
import itertools
import re
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
from .flatten import flatten as shared_flatten
from .flatten import read

HERE = Path(__file__).parent
GUIDES = "upstream/data/llm-d__llm-d/{ref}/guides"
RN, NS = "inference-scheduling", "llm-d-inference-scheduling"
EPP_HOST = f"gaie-{RN}-epp.{NS}.svc.cluster.local"
REFS = ("v0.3.0", "v0.4.0", "commit-899f8517")
# Chart pins of each snapshot's helmfile (CATALOG §0.1).
PINS = {
    "v0.3.0": {"infra": "v1.3.3", "inferencepool": "v1.0.1", "modelservice": "v0.2.10"},
    "v0.4.0": {"infra": "v1.3.4", "inferencepool": "v1.2.0-rc.1", "modelservice": "v0.3.8"},
    "commit-899f8517": {"infra": "v1.4.0", "inferencepool": "v1.4.0", "modelservice": "v0.4.9"},
}
# No copy in ../shared: coalesce with the neighbour (CATALOG §c.1: v1.3.4 adds listener tls only).
DEFAULTS_FROM = {("llm-d-infra", "v1.3.4"): "v1.3.3", ("inferencepool", "v1.2.0-rc.1"): "v1.2.0"}
ARTIFACTS = {
    "infra": ("values/infra.yaml", "llm-d-infra", "infra"),
    "gaie": ("values/inferencepool.yaml", "inferencepool", "inferencepool"),
    "ms": ("values/modelservice.yaml", "llm-d-modelservice", "modelservice"),
    "route": ("base/httproute.yaml", None, None),
}
CONTAINER = "decode.containers[name=vllm]"

# --- reasons shared by several rows ---------------------------------------------------------------------------------
EPP = ("our own EndpointPickerConfig, compiled from the spec's scorers and checked against the picker's registry, "
       "instead of the chart's baked-in file; test_epp_config_matches_the_charts_default shows it is the same mix")
MS_SET_PARENT = ("upstream mistake: the helmfile's `set: routing.parentRefs[0].name` makes a one-item list that "
                 "replaces the chart's parentRefs (Helm replaces lists), dropping group, kind and namespace; harmless "
                 "only because httpRoute.create is false. We write the whole parentRef")
MODEL_LABEL = ("the pool also selects on llm-d.ai/model, so it never picks up another stack's pods in the namespace "
               "(MS v0.2.x sets it to the fullname; from v0.3.0 we set it in modelArtifacts.labels)")
PARALLELISM = "TP/DP written out from the spec (the chart helpers default both to 1: nothing rendered changes)"
NIXL_HOST = ("the spec's decode.env holds literal values, no fieldRef; the NIXL side channel only carries P/D KV "
             "transfers, which inference-scheduling does not run (vLLM falls back to localhost)")
NIXL_PORT = "decode has one container port (the one the PodMonitor scrapes); the NIXL side-channel port is P/D only"
PROBES = ("the health probes every guide has from LD@v0.4.0 on (startup and readiness on /v1/models, liveness on "
          "/health, on the vLLM port; catalog/vllm.py): the guides of this era had none")
LABELS = "our ownership labels on everything we generate"
SYNC_WAVE = "Argo CD applies the route after the charts' Gateway and pool (wave 0)"
TLS = ("we pass the EPP's TLS policy (SIMPLE, insecureSkipVerify) as the v0.3.0/v0.4.0 gateway configurations did; "
       "the LD@899f8517 one relies on the chart adding it")
POOL_PROVIDER = "the LD@899f8517 istio tuning (huge connection pools for benchmarks) has no spec field; left out"

MODEL_LABELS = ("our pod labels are the serving label plus llm-d.ai/model=<stack name>; the guide adds its own "
                "llm-d.ai/guide and accelerator labels (the spec has no free-form pod labels yet)")
PORT_NAME = ("the vLLM port is named 'metrics' (what the PodMonitor scrapes): the same port, the same pairing of "
             "container port name and portName")
GPUS = ("the GPU request written out from parallelism.tensor; MS v0.4.x fills the same value in when it is "
        "absent (CATALOG §b.2), and writing it keeps every chart version alike")
INFRA_V14 = ("explicit: istio's default class and, for exposure 'internal', its default Service type (CATALOG §c.2); "
             "infra v1.3.x needs both spelled out, so we always do")
GW_TUNING = "the LD@899f8517 gateway sizing and access-log switch have no spec field; left out (chart defaults)"
FLAGS = ("upstream mistake: the guide's `flags:` with no value is null, and Helm's null deletes the chart default "
         "`flags: {v: 1}`; we keep the chart's log verbosity")
SECRET_V04 = ("upstream mistake: inferencepool v1.2.0-rc.1 reads monitoring.prometheus.auth.secretName (renamed from "
              "monitoring.secret.name in v1.1.0, CATALOG §d.2), so the guide's name is ignored and the chart's "
              "default secret name is used; we write the key this chart reads")


def _route(rows: dict[str, str]) -> dict[str, str]:
    return {**rows,
            'route:metadata.labels["app.kubernetes.io/name"]': LABELS,
            'route:metadata.labels["app.kubernetes.io/part-of"]': LABELS,
            'route:metadata.labels["app.kubernetes.io/managed-by"]': LABELS,
            'route:metadata.annotations["argocd.argoproj.io/sync-wave"]': SYNC_WAVE}


def _probes(container: str = CONTAINER) -> dict[str, str]:
    """The probes we add where a guide had none: every field of startupProbe, livenessProbe and readinessProbe."""
    rows = {}
    for probe, fields in (("startupProbe", ("failureThreshold", "httpGet.path", "httpGet.port", "initialDelaySeconds",
                                            "periodSeconds", "timeoutSeconds")),
                          ("livenessProbe", ("failureThreshold", "httpGet.path", "httpGet.port", "periodSeconds",
                                             "timeoutSeconds")),
                          ("readinessProbe", ("failureThreshold", "httpGet.path", "httpGet.port", "periodSeconds",
                                              "timeoutSeconds"))):
        for field in fields:
            rows[f"ms:{container}.{probe}.{field}"] = PROBES
    return rows


INTENDED: dict[str, dict[str, str]] = {
    "v0.3.0": _route({
        "gaie:inferenceExtension.pluginsConfigFile": EPP,
        'gaie:inferenceExtension.pluginsCustomConfig["epp-config.yaml"]': EPP,
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
        f"ms:{CONTAINER}.env[name=VLLM_NIXL_SIDE_CHANNEL_HOST].valueFrom.fieldRef.fieldPath": NIXL_HOST,
        f"ms:{CONTAINER}.ports[containerPort=5557].protocol": NIXL_PORT,
        f"ms:{CONTAINER}.parallelism.tensor": PARALLELISM + "; v0.2.10 reads --tensor-parallel-size from here "
                                                             "(CATALOG §b.2)",
        f"ms:{CONTAINER}.parallelism.data": PARALLELISM,
        "ms:decode.parallelism.tensor": PARALLELISM,
        "ms:decode.parallelism.data": PARALLELISM,
        "ms:routing.parentRefs[name=infra-inference-scheduling-inference-gateway].name": MS_SET_PARENT,
        "ms:routing.parentRefs[name=infra-inference-scheduling-inference-gateway].group": MS_SET_PARENT,
        "ms:routing.parentRefs[name=infra-inference-scheduling-inference-gateway].kind": MS_SET_PARENT,
        **_probes(),
    }),
    "v0.4.0": _route({
        "gaie:inferenceExtension.monitoring.secret.name": SECRET_V04,
        "gaie:inferenceExtension.monitoring.prometheus.auth.secretName": SECRET_V04,
        "gaie:inferenceExtension.pluginsConfigFile": EPP,
        'gaie:inferenceExtension.pluginsCustomConfig["epp-config.yaml"]': EPP,
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
        'ms:modelArtifacts.labels["llm-d.ai/model"]': ("MS v0.3.8's default label is 'random_model' (CATALOG §b.2); "
                                                       "we set it to the stack, and select on it"),
        f"ms:{CONTAINER}.env[name=VLLM_NIXL_SIDE_CHANNEL_HOST].valueFrom.fieldRef.fieldPath": NIXL_HOST,
        f"ms:{CONTAINER}.ports[containerPort=5557].protocol": NIXL_PORT,
        "ms:decode.parallelism.tensor": PARALLELISM,
        "ms:decode.parallelism.data": PARALLELISM,
    }),
    "commit-899f8517": _route({
        "infra:gateway.gatewayClassName": INFRA_V14,
        "infra:gateway.service.type": INFRA_V14,
        "infra:gateway.gatewayParameters.istio.accessLogging": GW_TUNING,
        "infra:gateway.gatewayParameters.resources.limits.cpu": GW_TUNING,
        "infra:gateway.gatewayParameters.resources.limits.memory": GW_TUNING,
        "infra:gateway.gatewayParameters.resources.requests.cpu": GW_TUNING,
        "infra:gateway.gatewayParameters.resources.requests.memory": GW_TUNING,
        "gaie:inferenceExtension.flags.v": FLAGS,
        "gaie:inferenceExtension.pluginsConfigFile": EPP,
        'gaie:inferenceExtension.pluginsCustomConfig["epp-config.yaml"]': EPP,
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/guide"]': MODEL_LABELS,
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
        **{f"gaie:provider.istio.destinationRule.trafficPolicy.connectionPool.{k}": POOL_PROVIDER
           for k in ("http.http1MaxPendingRequests", "http.http2MaxRequests", "http.idleTimeout",
                     "http.maxRequestsPerConnection", "tcp.connectTimeout", "tcp.maxConnectionDuration",
                     "tcp.maxConnections")},
        "gaie:provider.istio.destinationRule.trafficPolicy.tls.insecureSkipVerify": TLS,
        "gaie:provider.istio.destinationRule.trafficPolicy.tls.mode": TLS,
        f"ms:{CONTAINER}.ports[containerPort=8000].name": PORT_NAME,
        "ms:decode.monitoring.podmonitor.portName": PORT_NAME,
        f'ms:{CONTAINER}.resources.limits["nvidia.com/gpu"]': GPUS,
        f'ms:{CONTAINER}.resources.requests["nvidia.com/gpu"]': GPUS,
        **{f'ms:modelArtifacts.labels["llm-d.ai/{k}"]': MODEL_LABELS
           for k in ("accelerator-variant", "accelerator-vendor", "guide", "model")},
    }),
}


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT = _Absent()


@functools.cache
def chart_defaults(chart: str, version: str) -> Any:
    yaml = YAML(typ="safe")
    yaml.allow_duplicate_keys = True  # MS v0.4.5 repeats a key; Helm accepts it
    version = DEFAULTS_FROM.get((chart, version), version)
    return yaml.load(o.chart_values_path(chart, version).read_text(encoding="utf-8")) or {}


def guide(ref: str, rel: str) -> Any:
    return read(f"{GUIDES.format(ref=ref)}/{rel}")


def flatten(node: Any, path: str = "") -> dict[str, Any]:
    return shared_flatten(node, path, keep_lone_key=True)


def helm_set(values: dict[str, Any], path: str, value: Any) -> None:
    """`helm --set path=value`: keys and list indexes, creating what is missing (a new list replaces the chart's)."""
    tokens = [int(t[1:-1]) if t.startswith("[") else t for t in re.findall(r"\[\d+\]|[^.\[\]]+", path)]
    node: Any = values
    for token, following in itertools.pairwise(tokens):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(token, int):
            while len(node) <= token:
                node.append(empty)
            node = node[token]
        else:
            node = node.setdefault(token, empty)
    node[tokens[-1]] = value


def guide_side(ref: str) -> dict[str, Any]:
    istio = guide(ref, "prereq/gateway-provider/common-configurations/istio.yaml")
    gaie = guide(ref, "inference-scheduling/gaie-inference-scheduling/values.yaml")
    ms = guide(ref, "inference-scheduling/ms-inference-scheduling/values.yaml")
    if ref == "v0.3.0":  # GAIE v1.0.x: DestinationRule at the top-level istio: key (CATALOG §a.8)
        overlay = {"provider": {"name": "istio"},
                   "istio": o.helm_merge(istio["istio"], {"destinationRule": {"host": EPP_HOST}})}
        helm_set(ms, "routing.inferencePool.name", f"gaie-{RN}")
        helm_set(ms, "routing.parentRefs[0].name", f"infra-{RN}-inference-gateway")
    else:
        overlay = {"provider": o.helm_merge(istio["provider"], {"istio": {"destinationRule": {"host": EPP_HOST}}})}
    return {
        "infra": {"gateway": istio["gateway"]},  # the helmfile passes the gateway: block only
        "gaie": o.helm_merge(gaie, overlay),
        "ms": ms,
        "route": guide(ref, "inference-scheduling/httproute.yaml"),
    }


PROBE_KEYS = ("startupProbe", "livenessProbe", "readinessProbe")


def named_ports(values: Any) -> Any:
    """ms values with each probe's named port replaced by the number of the container port of that name, as the
    kubelet resolves it (`port: vllm` is the container's port named vllm)."""
    for role in ("decode", "prefill"):
        for container in ((values or {}).get(role) or {}).get("containers") or []:
            numbers = {p["name"]: p["containerPort"] for p in container.get("ports") or [] if "name" in p}
            for key in PROBE_KEYS:
                for action in ("httpGet", "tcpSocket"):
                    target = (container.get(key) or {}).get(action) or {}
                    if isinstance(target.get("port"), str) and target["port"] in numbers:
                        target["port"] = numbers[target["port"]]
    return values


def as_the_chart_sees_it(artifact: str, values: dict[str, Any], ref: str) -> dict[str, Any]:
    _, chart, pin = ARTIFACTS[artifact]
    if chart is None or pin is None:
        return values
    merged = o.helm_merge(chart_defaults(chart, PINS[ref][pin]), values)
    return named_ports(merged) if artifact == "ms" else merged


@functools.cache
def spec_of(ref: str) -> Spec:
    return load(HERE / "guides" / f"{ref}.yaml", f"guides/{ref}.yaml")


@functools.cache
def ours(ref: str) -> dict[str, Any]:
    files = compile_spec(spec_of(ref), f"guides/{ref}.yaml")
    return {artifact: YAML(typ="safe").load(files[rel]) for artifact, (rel, _, _) in ARTIFACTS.items()}


@functools.cache
def differences(ref: str) -> dict[str, tuple[Any, Any]]:
    """{artifact:path: (guide value, our value)} for every path where the two differ."""
    theirs = guide_side(ref)
    found: dict[str, tuple[Any, Any]] = {}
    for artifact in ARTIFACTS:
        a = flatten(as_the_chart_sees_it(artifact, theirs[artifact], ref))
        b = flatten(as_the_chart_sees_it(artifact, ours(ref)[artifact], ref))
        for path in sorted(set(a) | set(b)):
            pair = (a.get(path, ABSENT), b.get(path, ABSENT))
            if pair[0] != pair[1]:
                found[f"{artifact}:{path.lstrip('.')}"] = pair
    return found


@pytest.mark.parametrize("ref", REFS)
def test_same_charts_as_the_guide(ref: str) -> None:
    stack = resolve(spec_of(ref), "x")
    assert {"infra": stack.infra.version, "inferencepool": stack.pool.version,
            "modelservice": stack.ms.version} == PINS[ref]
    image = guide(ref, "inference-scheduling/gaie-inference-scheduling/values.yaml")["inferenceExtension"]["image"]
    assert stack.spec.scheduler.image == f"{image['hub']}/{image['name']}:{image['tag']}"


@pytest.mark.parametrize("ref", REFS)
def test_every_difference_is_intended(ref: str) -> None:
    unexplained = {p: f"guide {g!r} / ours {u!r}" for p, (g, u) in differences(ref).items() if p not in INTENDED[ref]}
    assert unexplained == {}


@pytest.mark.parametrize("ref", REFS)
def test_every_intended_difference_is_real(ref: str) -> None:
    stale = sorted(set(INTENDED[ref]) - set(differences(ref)))
    assert stale == []


# --- the reasons, confirmed from upstream data -----------------------------------------------------------------------


def test_upstream_mistakes_confirmed() -> None:
    # v0.4.0: the chart it pins reads prometheus.auth.secretName; monitoring.secret is gone (CATALOG §d.2).
    monitoring = chart_defaults("inferencepool", "v1.2.0-rc.1")["inferenceExtension"]["monitoring"]
    assert "secret" not in monitoring and "secretName" in monitoring["prometheus"]["auth"]
    assert "secret" in guide("v0.4.0", "inference-scheduling/gaie-inference-scheduling/values.yaml")[
        "inferenceExtension"]["monitoring"]
    # v0.3.0: the `set:` on parentRefs[0] builds a new one-item list; the chart's default item has group/kind.
    assert "parentRefs" not in guide("v0.3.0", "inference-scheduling/ms-inference-scheduling/values.yaml")["routing"]
    assert {"group", "kind", "namespace"} <= set(chart_defaults("llm-d-modelservice", "v0.2.10")["routing"][
        "parentRefs"][0])
    # LD@899f8517: `flags:` is present and null, the chart's default is {v: 1}.
    gaie = guide("commit-899f8517", "inference-scheduling/gaie-inference-scheduling/values.yaml")
    assert "flags" in gaie["inferenceExtension"] and gaie["inferenceExtension"]["flags"] is None
    assert chart_defaults("inferencepool", "v1.4.0")["inferenceExtension"]["flags"] == {"v": 1}


# The chart-baked config each guide used (pluginsConfigFile: default-plugins.yaml), per CATALOG §e.1: GAIE v1.0.1
# queue + kv-cache-utilization + prefix-cache scorers without weights (weight 1), picker and handler injected;
# GAIE v1.4.0 (epplib _config.yaml) the same three weighted 2 / 2 / 3. v1.2.0-rc.1's file is not catalogued: taken
# as v1.0.1's (the guides did not change between the two).
CHART_DEFAULT_MIX = {
    "v0.3.0": {"queue-scorer": 1, "kv-cache-utilization-scorer": 1, "prefix-cache-scorer": 1},
    "v0.4.0": {"queue-scorer": 1, "kv-cache-utilization-scorer": 1, "prefix-cache-scorer": 1},
    "commit-899f8517": {"queue-scorer": 2, "kv-cache-utilization-scorer": 2, "prefix-cache-scorer": 3},
}


@pytest.mark.parametrize("ref", REFS)
def test_epp_config_matches_the_charts_default(ref: str) -> None:
    config = YAML(typ="safe").load(ours(ref)["gaie"]["inferenceExtension"]["pluginsCustomConfig"]["epp-config.yaml"])
    refs = config["schedulingProfiles"][0]["plugins"]
    weights = {r["pluginRef"]: r["weight"] for r in refs if "weight" in r}
    assert weights == CHART_DEFAULT_MIX[ref]
    types = [p["type"] for p in config["plugins"]]
    assert {"single-profile-handler", "max-score-picker"} <= set(types)  # what the loader injects
    prefix = next(p for p in config["plugins"] if p["type"] == "prefix-cache-scorer")
    # Parameters written out are the plugin defaults (CATALOG §e.4), so the behaviour is the chart file's.
    defaults = {p.name: p.default for p in PICKERS[resolve(spec_of(ref), "x").picker.name].plugins[
        "prefix-cache-scorer"].params or () if p.default is not None}
    assert {k: v for k, v in prefix.get("parameters", {}).items() if k in defaults} == {
        k: defaults[k] for k in prefix.get("parameters", {}) if k in defaults}


# --- upstream sample EndpointPickerConfigs through our checker -------------------------------------------------------

SAMPLE_REPOS = {"llm-d__llm-d-inference-scheduler": "sched", "llm-d__llm-d-router": "router"}
# What check/plugins.py reports on the configs each tag ships, and why it is right (CATALOG §e).
SAMPLE_PROBLEMS = {
    # stale sample: GAIE v1.0.x (under SCHED v0.3.2) only has the new name
    ("sched-v0.3.2", "epp-precise-prefix-cache-config.yaml"): {"plugins[3].type"},
    # cache_tracking left the prefix-cache-scorer override in SCHED v0.3 (now precise-prefix-cache-scorer): the
    # sample's mode/indexerConfig/kvEventsConfig are ignored by lenient decoding, i.e. it runs the estimate scorer
    ("sched-v0.3.2", "sim-epp-kvcache-config.yaml"): {"plugins[0].parameters.mode",
                                                      "plugins[0].parameters.indexerConfig",
                                                      "plugins[0].parameters.kvEventsConfig"},
    # GAIE v1.5.0 (under SCHED v0.8.0) dropped prepareDataPlugins and rejects unknown gates
    **{("sched-v0.8.0", name): {"featureGates[0]"} for name in (
        "pd-epp-config.yaml", "sim-epd-epp-config.yaml", "sim-epp-external-tokenizer-config.yaml",
        "sim-pd-epp-config.yaml")},
    # CATALOG e.2 names the parameter cacheSizeInMBPerServer; the sample writes cacheSizeInMB
    ("router-v0.10.0", "epp-mm-embeddings-cache-config.yaml"): {"plugins[4].parameters.cacheSizeInMB"},
}


def sample_configs() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    data = o.SHARED / "upstream" / "data"
    for repo, family in SAMPLE_REPOS.items():
        for path in sorted((data / repo).glob("*/deploy/config/*.yaml")):
            for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")):
                if isinstance(doc, dict) and doc.get("kind") == "EndpointPickerConfig":
                    out.append((f"{family}-{path.parts[-4]}", path.name, doc))
    return out


@pytest.mark.parametrize(("picker", "name", "doc"), sample_configs(), ids=[f"{p}/{n}" for p, n, _ in sample_configs()])
def test_upstream_sample_configs(picker: str, name: str, doc: dict[str, Any]) -> None:
    o.shared()
    found = {p.field.removeprefix("c.") for p in check_config(PICKERS[picker], doc, name, "c")}
    assert found == SAMPLE_PROBLEMS.get((picker, name), set())


def test_xpu_render_group_never_reaches_a_pod() -> None:
    """paths_intended XPU_GROUP: the XPU guides' render group 107 sits where nothing reads it."""
    v06 = guide("commit-899f8517", "inference-scheduling/ms-inference-scheduling/values_xpu.yaml")
    assert v06["decode"]["securityContext"] == {"fsGroup": 107, "supplementalGroups": [107]}
    # The chart's role keys (CATALOG §b.2): the pod's is podSecurityContext; securityContext is a container key.
    catalog = (o.shared() / "upstream" / "CATALOG.md").read_text(encoding="utf-8")
    role_keys = catalog[catalog.index("decode / prefill (same shape"):catalog.index("requester {enable")]
    assert re.search(r"\bpodSecurityContext\b", role_keys)
    assert re.findall(r"(?<!pod)securityContext", role_keys) == ["securityContext"]  # in containers[] {...}
    # LD@v0.3.0/v0.4.0 put it on the container, where Kubernetes has no such field.
    for ref in ("v0.3.0", "v0.4.0"):
        values = guide(ref, "inference-scheduling/ms-inference-scheduling/values_xpu.yaml")
        context = values["decode"]["containers"][0]["securityContext"]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
               "spec": {"containers": [{"name": "vllm", "image": "x", "securityContext": context}]}}
        assert any("fsGroup" in e for e in o.validate_core(pod)), ref
