"""Our seed values against the seed-era hand-written guide they replace (LD@e52045bd), compared semantically.

The guide side is what its helmfile handed each chart (CATALOG §a.3): the gaie and ms values files, the istio
gateway configuration, the helmfile's extra infra values entry (the EPP DestinationRule host) and its two ms
`set:` items; plus the hand-applied httproute.yaml. Both sides are coalesced with the pinned chart's values.yaml
(Helm semantics, so an explicit chart default is no difference) and flattened to {path: value}. Lists of objects
are keyed by their Kubernetes merge key (containerPort for ports, else name) when every item has a distinct one,
otherwise by index; lists of scalars (args) are values; an empty list equals no list.

INTENDED lists every path that differs, with its reason; every listed path must really differ, so the table
cannot rot. Reasons that upstream data can confirm are confirmed by the tests at the end.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.spec.models import Spec

from . import oracles as o
from .flatten import flatten as shared_flatten
from .flatten import read

GUIDES = "upstream/data/llm-d__llm-d/{ref}/guides"
SEED_REF = "commit-e52045bd"
# The helmfile's defaults and chart pins (CATALOG §a.3): $rn, $ns, and the three versions.
RN, NS = "inference-scheduling", "llm-d-inference-scheduling"
HELMFILE_PINS = {"infra": "v1.3.0", "inferencepool": "v0.5.1", "modelservice": "v0.2.7"}
# Extra infra values entry and ms `set:` items of the helmfile (CATALOG §a.3).
INFRA_EXTRA = {"gateway": {"destinationRule": {"host": f"gaie-{RN}-epp.{NS}.svc.cluster.local"}}}
MS_SETS = {"routing.inferencePool.name": f"gaie-{RN}", "routing.parentRefs[0].name": f"infra-{RN}-inference-gateway"}
# artifact -> (our file, chart whose values.yaml it is coalesced with, spec pin field); None: not a values file
ARTIFACTS = {
    "infra": ("values/infra.yaml", "llm-d-infra", "infra"),
    "gaie": ("values/inferencepool.yaml", "inferencepool", "inferencepool"),
    "ms": ("values/modelservice.yaml", "llm-d-modelservice", "modelservice"),
    "route": ("base/httproute.yaml", None, None),
}

MODEL = "the seed serves meta-llama/Llama-3.1-8B-Instruct (seed guide, 'Model'); the guide serves Qwen/Qwen3-0.6B"
PVC = ("the seed keeps the model on a 50Gi RWX PVC that our download Job fills (specs/h100.yaml model.cache.pvc); "
       "pvc:// mounts the claim, and modelArtifacts.size only sizes the hf:// emptyDir (CATALOG §g.2)")
PARALLELISM = ("TP=1/DP=1 written out from specs/h100.yaml decode.parallelism; unset, the chart helpers default both "
               "to 1, so nothing rendered changes. v0.2.7 reads the --tensor-parallel-size arg from the container's "
               "parallelism and the GPU count from decode.parallelism (CATALOG §b.2), so we set both")
NIXL = ("NIXL KV transfer serves P/D, which this path does not run; seed guide: 'Args: Simplified to match newer "
        "guide', and the LD@899f8517 guide's ms values carry none of it (test_newer_guide_dropped_what_we_dropped)")
EPP = ("our own EndpointPickerConfig, compiled from specs/h100.yaml scheduler (queue-scorer + max-score-picker, the "
       "seed's active 'Queue-Only Scoring' option) and checked against the plugin registry, instead of the chart's "
       "baked-in plugins-v2.yaml")
LABELS = "our ownership labels on everything we generate"
CONTAINER = "decode.containers[name=vllm]"
PROBES = ("the health probes every guide has from LD@v0.4.0 on (startup and readiness on /v1/models, liveness on "
          "/health, on the vLLM port 8200 behind the sidecar; catalog/vllm.py): the seed guide had none")

INTENDED: dict[str, str] = {
    "infra:gateway.listeners[name=default].path": ("llm-d-infra v1.3.0 renders the default listener's `path: /` into "
                                                  "the Gateway, where no such field exists (rendered with the chart "
                                                  "and validated against the Gateway CRD: tests/render); we set the "
                                                  "listeners without it"),
    "ms:modelArtifacts.uri": f"{MODEL}; {PVC}",
    "ms:modelArtifacts.name": MODEL,
    "ms:modelArtifacts.size": PVC,
    "ms:routing.modelName": ("deprecated, read by no v0.2.7 template, rejected by every MS schema from v0.2.8 "
                             "(CATALOG §a.5, §b.4); the seed re-added it only to get past v0.2.9's schema, "
                             "which the v0.2.7 pin already does"),
    "ms:decode.replicas": "seed guide: 4 replicas x TP=1 on 4 GPUs (the guide: 2)",
    "ms:decode.parallelism.tensor": PARALLELISM,
    "ms:decode.parallelism.data": PARALLELISM,
    f"ms:{CONTAINER}.parallelism.tensor": PARALLELISM,
    f"ms:{CONTAINER}.parallelism.data": PARALLELISM,
    f"ms:{CONTAINER}.args": f"{NIXL}; --enforce-eager (no CUDA graphs) is a debugging setting that went with it",
    f"ms:{CONTAINER}.env[name=UCX_TLS].value": NIXL,
    f"ms:{CONTAINER}.env[name=VLLM_NIXL_SIDE_CHANNEL_HOST].valueFrom.fieldRef.fieldPath": NIXL,
    f"ms:{CONTAINER}.env[name=VLLM_NIXL_SIDE_CHANNEL_PORT].value": NIXL,
    f"ms:{CONTAINER}.ports[containerPort=5557].protocol": f"the NIXL side-channel port; {NIXL}",
    f"ms:{CONTAINER}.env[name=CUDA_VISIBLE_DEVICES].value": ("one GPU per pod: the device plugin exposes only the "
                                                             "allocated GPU; gone from the LD@899f8517 guide too"),
    f"ms:{CONTAINER}.env[name=VLLM_LOGGING_LEVEL].value": "DEBUG logging; gone from the LD@899f8517 guide too",
    "ms:decode.monitoring.podmonitor.enabled": ("specs/h100.yaml monitoring.podMonitor.enabled: true; the LD@v0.3.0 "
                                                "guide enables it as well"),
    "gaie:inferenceExtension.pluginsConfigFile": EPP,
    'gaie:inferenceExtension.pluginsCustomConfig["epp-config.yaml"]': EPP,
    'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': (
        "the pool also selects on the label MS v0.2.7 sets to its fullname (CATALOG §a.2), so it never matches "
        "another stack's pods in the same namespace; the guide's values carry this line commented out"),
    "route:metadata.namespace": ("set by kustomize (the kustomization's namespace:) instead of in the file; the "
                                 "LD@v0.3.0 guide's route dropped it as well"),
    'route:metadata.labels["app.kubernetes.io/name"]': LABELS,
    'route:metadata.labels["app.kubernetes.io/part-of"]': LABELS,
    'route:metadata.labels["app.kubernetes.io/managed-by"]': LABELS,
    'route:metadata.annotations["argocd.argoproj.io/sync-wave"]': ("Argo CD applies the route after the charts' "
                                                                    "Gateway and pool (wave 0)"),
    **{f"ms:{CONTAINER}.{probe}.{field}": PROBES
       for probe, fields in (("startupProbe", ("initialDelaySeconds",)), ("livenessProbe", ()), ("readinessProbe", ()))
       for field in ("httpGet.path", "httpGet.port", "periodSeconds", "timeoutSeconds", "failureThreshold", *fields)},
}


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT = _Absent()


def guide(rel: str, ref: str = SEED_REF) -> Any:
    return read(f"{GUIDES.format(ref=ref)}/{rel}")


def flatten(node: Any, path: str = "") -> dict[str, Any]:
    return shared_flatten(node, path, keep_lone_key=False)


def helm_set(values: dict[str, Any], path: str, value: Any) -> None:
    """`helm --set path=value` for paths of keys and list indexes (into existing lists)."""
    tokens = [int(t[1:-1]) if t.startswith("[") else t for t in re.findall(r"\[\d+\]|[^.\[\]]+", path)]
    node: Any = values
    for token, following in itertools.pairwise(tokens):
        node = node[token] if isinstance(token, int) else node.setdefault(
            token, [] if isinstance(following, int) else {})
    node[tokens[-1]] = value


def guide_side() -> dict[str, Any]:
    ms = guide("inference-scheduling/ms-inference-scheduling/values.yaml")
    for path, value in MS_SETS.items():
        helm_set(ms, path, value)
    istio = guide("prereq/gateway-provider/common-configurations/istio.yaml")
    return {
        "infra": o.helm_merge({"gateway": istio["gateway"]}, INFRA_EXTRA),  # the helmfile passes gateway: only
        "gaie": guide("inference-scheduling/gaie-inference-scheduling/values.yaml"),
        "ms": ms,
        "route": guide("inference-scheduling/httproute.yaml"),
    }


def as_the_chart_sees_it(artifact: str, values: dict[str, Any], spec: Spec) -> dict[str, Any]:
    _, chart, pin = ARTIFACTS[artifact]
    if chart is None or pin is None:
        return values
    defaults = YAML(typ="safe").load(o.chart_values_path(chart, getattr(spec.charts, pin)).read_text("utf-8"))
    return o.helm_merge(defaults or {}, values)


@pytest.fixture(scope="module")
def differences(seed_spec: Spec, seed_files: dict[str, str]) -> dict[str, tuple[Any, Any]]:
    """{artifact:path: (guide value, our value)} for every path where the two differ."""
    theirs = guide_side()
    found: dict[str, tuple[Any, Any]] = {}
    for artifact, (rel, _, _) in ARTIFACTS.items():
        ours = YAML(typ="safe").load(seed_files[rel])
        a = flatten(as_the_chart_sees_it(artifact, theirs[artifact], seed_spec))
        b = flatten(as_the_chart_sees_it(artifact, ours, seed_spec))
        for path in sorted(set(a) | set(b)):
            pair = (a.get(path, ABSENT), b.get(path, ABSENT))
            if pair[0] != pair[1]:
                found[f"{artifact}:{path.lstrip('.')}"] = pair
    return found


def test_same_charts_as_the_guide(seed_spec: Spec) -> None:
    # The comparison is only meaningful against the charts the guide's helmfile pinned.
    pins = {field: getattr(seed_spec.charts, field) for field in HELMFILE_PINS}
    assert pins == HELMFILE_PINS
    assert (seed_spec.metadata.name, seed_spec.metadata.namespace) == (RN, NS)


def test_every_difference_is_intended(differences: dict[str, tuple[Any, Any]]) -> None:
    unexplained = {path: f"guide {g!r} / ours {u!r}" for path, (g, u) in differences.items() if path not in INTENDED}
    assert unexplained == {}


def test_every_intended_difference_exists(differences: dict[str, tuple[Any, Any]]) -> None:
    assert sorted(set(INTENDED) - set(differences)) == []


def test_flatten_keys_lists_by_merge_key() -> None:
    ports = {"ports": [{"containerPort": 5557, "protocol": "TCP"}, {"containerPort": 8200, "name": "metrics"}]}
    assert flatten(ports) == {
        ".ports[containerPort=5557].protocol": "TCP",
        ".ports[containerPort=8200].name": "metrics",
    }
    env = {"env": [{"name": "A", "value": "1"}, {"name": "B"}], "args": ["x"], "none": [], "vol": {"emptyDir": {}}}
    assert flatten(env) == {".env[name=A].value": "1", ".env[name=B]": {}, ".args": ["x"], ".vol.emptyDir": {}}
    assert flatten({"m": [{"a": 1}, {"a": 2}]}) == {".m[0].a": 1, ".m[1].a": 2}
    assert flatten({"labels": {"llm-d.ai/model": "x"}}) == {'.labels["llm-d.ai/model"]': "x"}


def test_helm_set() -> None:
    values: dict[str, Any] = {"routing": {"parentRefs": [{"kind": "Gateway"}]}}
    helm_set(values, "routing.parentRefs[0].name", "gw")
    helm_set(values, "routing.inferencePool.name", "pool")
    assert values == {"routing": {"parentRefs": [{"kind": "Gateway", "name": "gw"}], "inferencePool": {"name": "pool"}}}


# --- the explicit seed fix that equals a chart default ------------------------------------------------------


def test_gateway_service_type_is_explicit(seed_files: dict[str, str]) -> None:
    # Seed guide, "Critical Issues Resolved" 3: the gateway Service must be LoadBalancer. That is infra v1.3.0's
    # default (so no difference above), but v1.3.3 changed the default to ClusterIP (CATALOG §c.1): stated
    # explicitly, the value survives a chart bump.
    infra = YAML(typ="safe").load(seed_files["values/infra.yaml"])
    assert infra["gateway"]["service"]["type"] == "LoadBalancer"


# --- reasons in INTENDED that upstream data confirms --------------------------------------------------------


def test_newer_guide_dropped_what_we_dropped() -> None:
    values = guide("inference-scheduling/ms-inference-scheduling/values.yaml", ref="commit-899f8517")
    (container,) = values["decode"]["containers"]
    assert not any("Nixl" in arg or arg == "--enforce-eager" for arg in container.get("args", []))
    dropped = {"UCX_TLS", "VLLM_NIXL_SIDE_CHANNEL_HOST", "VLLM_NIXL_SIDE_CHANNEL_PORT", "CUDA_VISIBLE_DEVICES",
               "VLLM_LOGGING_LEVEL"}
    assert {e["name"] for e in container.get("env", [])} & dropped == set()
    assert 5557 not in {p["containerPort"] for p in container.get("ports", [])}


def test_v030_guide_enables_podmonitor_and_drops_route_namespace() -> None:
    values = guide("inference-scheduling/ms-inference-scheduling/values.yaml", ref="v0.3.0")
    assert values["decode"]["monitoring"]["podmonitor"]["enabled"] is True
    assert "namespace" not in guide("inference-scheduling/httproute.yaml", ref="v0.3.0")["metadata"]


def test_model_name_is_rejected_by_later_schemas() -> None:
    for version in ("v0.2.8", "v0.2.9", "v0.2.10"):
        errors = o.chart_schema_errors("llm-d-modelservice", version, {"routing": {"modelName": "x"}})
        assert errors == ["$.routing: Additional properties are not allowed ('modelName' was unexpected)"], version


def test_guide_hints_at_the_model_label() -> None:
    rel = f"{GUIDES.format(ref=SEED_REF)}/inference-scheduling/gaie-inference-scheduling/values.yaml"
    assert re.search(r"^\s*#\s*llm-d\.ai/model:", (o.shared() / rel).read_text(encoding="utf-8"), re.MULTILINE)
