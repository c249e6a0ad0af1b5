"""Fidelity: our autoscaling objects vs the llm-d v0.9 guides' (LD@e3dbeca1 guides/workload-autoscaling/), both built
with the real `kubectl kustomize`, compared field by field after mapping our names onto the guide's.

Every remaining difference is listed below with its reason; the test fails on an unlisted difference and on a
listed one that no longer occurs. PromQL is compared as (function, metric, label matchers), whitespace and matcher
order aside.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conformance import autoscaling_variants as av
from tests.conformance.flatten import flatten
from tests.conformance.oracles import kustomize_build, shared

GUIDES = "upstream/data/llm-d__llm-d/commit-e3dbeca1/guides/workload-autoscaling"
# (variant, platform, guide overlay)
PAIRS = [
    ("keda-queue", "kubernetes", "keda-epp-queue/optimized-baseline/k8s"),
    ("keda-queue", "openshift", "keda-epp-queue/optimized-baseline/ocp"),
    ("keda-saturation", "kubernetes", "keda-epp-saturation/optimized-baseline/k8s"),
    ("keda-saturation", "openshift", "keda-epp-saturation/optimized-baseline/ocp"),
    ("wva-keda", "kubernetes", "wva/optimized-baseline/keda/k8s"),
    ("wva-keda", "openshift", "wva/optimized-baseline/keda/ocp"),
    ("wva-hpa", "kubernetes", "wva/optimized-baseline/hpa"),
    ("wva-hpa", "openshift", "wva/optimized-baseline/hpa"),
]
# Our names -> the guide's (longest first): the example spec is named workload-autoscaling, the guides'
# optimized-baseline, and the guides' overlay names its Deployment <guide>-nvidia-gpu-vllm-decode.
NAMES = [("workload-autoscaling-decode", "optimized-baseline-nvidia-gpu-vllm-decode"),
         ("llm-d-workload-autoscaling", "llm-d-optimized-baseline"),
         ("workload-autoscaling", "optimized-baseline")]

NAMING = "our names: <workload>-<queue|saturation|wva> and keda-hpa-<ScaledObject> for every path, one " \
         "TriggerAuthentication (keda-prometheus-auth) per namespace"
NAMESPACE = "our overlays set the stack's namespace; the guide's base leaves it to `kubectl apply -n`"
GUIDE_LABEL = "every object we generate carries llm-d.ai/guide: <stack> (the guides label only some)"
CRB = "the ClusterRoleBinding name carries the namespace: recipes/autoscaling/README.md asks for a " \
      "namespace-unique name when a guide is deployed to several namespaces"
BEHAVIOR = "the spec's scale-up/scale-down behaviour and cooldown are always written (KEDA's implicit HPA " \
           "defaults otherwise)"
KEDA_DEFAULTS = "KEDA defaults left out: activationThreshold 0, unsafeSsl false, restoreToOriginalReplicaCount false"
CA_AUTH = "one Prometheus credential for every scaler: the CA-only TriggerAuthentication of keda-epp-queue (the " \
          "saturation guide copies a Prometheus ServiceAccount token instead)"
WVA_AUTH = "WVA's trigger authenticates like the others (kube-prometheus-stack service, its CA) instead of " \
           "prometheus-operated with unsafeSsl: true; on OpenShift the dedicated metrics reader replaces the " \
           "borrowed WVA controller token"
METRIC_TYPE = "the guide writes metricType inside trigger metadata, where KEDA ignores it; ours is the trigger's " \
              "metricType field (AverageValue, also KEDA's default there)"
SERVICE_PIN = "the running-requests query also pins service=<EPP Service>, as keda-epp-queue's does"
APP_LABEL = "the saturation guide's `app` label is not read by anything; we leave it out"
METRICS_READER = "WVA on OpenShift: the metrics-reader recipe (ServiceAccount, token Secret, " \
                 "cluster-monitoring-view binding) instead of the WVA controller's token"

# (variant, platform glob, path glob) -> reason
INTENDED: dict[tuple[str, str, str], str] = {
    ("*", "*", "*.metadata.namespace"): NAMESPACE,
    ("keda-*", "*", "ScaledObject.metadata.name"): NAMING,
    ("wva-keda", "*", "ScaledObject.metadata.name"): NAMING,
    # wva_desired_replicas{variant_name} is the ScaledObject's name, so the query follows our naming.
    ("wva-keda", "*", "ScaledObject.spec.triggers[name=wva-desired-replicas].metadata.query"): NAMING,
    ("*", "*", "ScaledObject.spec.advanced.horizontalPodAutoscalerConfig.name"): NAMING,
    ("*", "*", 'ScaledObject.metadata.labels["llm-d.ai/guide"]'): GUIDE_LABEL,
    ("keda-saturation", "*", "TriggerAuthentication.metadata.name"): NAMING,
    ("keda-saturation", "*", "ScaledObject.spec.triggers[*].authenticationRef.name"): NAMING,
    ("wva-keda", "openshift", "TriggerAuthentication.metadata.name"): NAMING,
    ("*", "openshift", "ClusterRoleBinding.metadata.name"): CRB,
    ("keda-saturation", "*", "ScaledObject.spec.advanced.horizontalPodAutoscalerConfig.behavior.*"): BEHAVIOR,
    ("keda-saturation", "*", "ScaledObject.spec.cooldownPeriod"): BEHAVIOR,
    ("keda-saturation", "*", "ScaledObject.spec.triggers[*].metadata.activationThreshold"): KEDA_DEFAULTS,
    ("keda-saturation", "*", "ScaledObject.spec.triggers[*].metadata.unsafeSsl"): KEDA_DEFAULTS,
    ("wva-keda", "*", "ScaledObject.spec.advanced.restoreToOriginalReplicaCount"): KEDA_DEFAULTS,
    ("keda-saturation", "kubernetes", "TriggerAuthentication.spec.secretTargetRef*"): CA_AUTH,
    ("keda-saturation", "*", "ScaledObject.spec.triggers[name=running-requests].metadata.query"): SERVICE_PIN,
    ("keda-saturation", "*", "ScaledObject.metadata.labels.app"): APP_LABEL,
    ("wva-keda", "*", "ScaledObject.spec.triggers[*].metadata.metricType"): METRIC_TYPE,
    ("wva-keda", "*", "ScaledObject.spec.triggers[*].metricType"): METRIC_TYPE,
    ("wva-keda", "*", "ScaledObject.spec.triggers[*].authenticationRef.name"): WVA_AUTH,
    ("wva-keda", "kubernetes", "ScaledObject.spec.triggers[*].metadata.serverAddress"): WVA_AUTH,
    ("wva-keda", "kubernetes", "ScaledObject.spec.triggers[*].metadata.unsafeSsl"): WVA_AUTH,
    ("wva-keda", "kubernetes", "TriggerAuthentication.*"): WVA_AUTH,
    ("wva-keda", "openshift", "TriggerAuthentication.spec.secretTargetRef*"): WVA_AUTH,
    ("wva-keda", "openshift", "ServiceAccount.*"): METRICS_READER,
    ("wva-keda", "openshift", "Secret.*"): METRICS_READER,
    ("wva-keda", "openshift", "ClusterRoleBinding.*"): METRICS_READER,
}


def _promql(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    compact = re.sub(r"\s+", "", text)
    head, _, rest = compact.partition("{")
    matchers, _, tail = rest.partition("}")
    return head + "{}" + tail, tuple(sorted(re.findall(r'([a-z_]+)="([^"]*)"', matchers)))


def _normal(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    for ours, theirs in NAMES:
        value = value.replace(ours, theirs)
    return _promql(value) if "{" in value and "}" in value else value


def _flat(docs: list[dict[str, Any]], normal: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in sorted({d["kind"] for d in docs}):
        same = [d for d in docs if d["kind"] == kind]
        assert len(same) == 1, f"one {kind} per side"
        out.update({f"{kind}{k}": (_normal(v) if normal else v) for k, v in flatten(same[0]).items()})
    return out


def differences(variant: str, platform: str, guide: str, root: Path) -> set[str]:
    ours = _flat(av.built(av.written(variant, root) / "autoscaling" / "overlays" / platform), normal=True)
    theirs = _flat(kustomize_build(shared() / GUIDES / guide), normal=False)
    theirs = {k: (_promql(v) if isinstance(v, str) and "{" in v else v) for k, v in theirs.items()}
    return {k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)}


def _intended(variant: str, platform: str) -> dict[str, str]:
    return {path: reason for (v, p, path), reason in INTENDED.items()
            if fnmatch.fnmatchcase(variant, v) and fnmatch.fnmatchcase(platform, p)}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fidelity")


@pytest.fixture(scope="module")
def found(root: Path) -> dict[tuple[str, str], set[str]]:
    return {(v, p): differences(v, p, g, root) for v, p, g in PAIRS}


@pytest.mark.parametrize(("variant", "platform", "guide"), PAIRS, ids=[f"{v}-{p}" for v, p, _ in PAIRS])
def test_only_intended_differences(variant: str, platform: str, guide: str,
                                   found: dict[tuple[str, str], set[str]]) -> None:
    patterns = _intended(variant, platform)
    unexplained = sorted(d for d in found[(variant, platform)]
                         if not any(fnmatch.fnmatchcase(d, pat.replace("[", "[[]")) for pat in patterns))
    assert unexplained == []


def test_every_intended_difference_occurs(found: dict[tuple[str, str], set[str]]) -> None:
    stale = []
    for (v, p, path), _ in INTENDED.items():
        hit = any(fnmatch.fnmatchcase(variant, v) and fnmatch.fnmatchcase(platform, p)
                  and any(fnmatch.fnmatchcase(d, path.replace("[", "[[]")) for d in diffs)
                  for (variant, platform), diffs in found.items())
        if not hit:
            stale.append((v, p, path))
    assert stale == []


def test_the_guides_scale_what_we_scale(found: dict[tuple[str, str], set[str]]) -> None:
    """The fields that make a scaler what it is never differ: target, bounds, thresholds, queries' metrics."""
    essential = ("ScaledObject.spec.scaleTargetRef.*", "ScaledObject.spec.minReplicaCount",
                 "ScaledObject.spec.maxReplicaCount", "*.metadata.threshold", "HorizontalPodAutoscaler.spec.*",
                 "ScaledObject.spec.triggers[[]name=epp-queue-size].metadata.query",
                 "ScaledObject.spec.triggers[[]name=pool-saturation].metadata.query")
    for diffs in found.values():
        assert not [d for d in diffs if any(fnmatch.fnmatchcase(d, e) for e in essential)]


ALERTS = "upstream/data/llm-d__llm-d/commit-e3dbeca1/guides/recipes/observability/alerts/epp-alerting-rules.yaml"
# Metrics the guide's alert rules watch that ours do not, and why (the rule text is never copied; what is watched is).
ALERT_METRICS_LEFT_OUT = {
    "llm_d_epp_datalayer_extract_errors_total": "an extractor failure also shows up as a poll error, which we alert on",
    "llm_d_epp_extproc_streams_total": "opt-in gRPC stream metric (grpc_stream_metrics.go), off unless the picker "
                                       "is started with it",
}


def test_alerts_watch_what_the_guide_watches(root: Path) -> None:
    guide = read_yaml(shared() / ALERTS)
    watched = {m for g in guide["spec"]["groups"] for r in g["rules"]
               for m in re.findall(r"(llm_d_epp_[a-z_]+|vllm:[a-z_]+)", r["expr"])}
    ours_doc = av.built(av.written("keda-queue", root) / "observability" / "overlays" / "kubernetes")
    rules = next(d for d in ours_doc if d["kind"] == "PrometheusRule")
    ours = {m for g in rules["spec"]["groups"] for r in g["rules"]
            for m in re.findall(r"(llm_d_epp_[a-z_]+|vllm:[a-z_]+)", r["expr"])}
    assert watched - ours == set(ALERT_METRICS_LEFT_OUT)
    assert not set(ALERT_METRICS_LEFT_OUT) & ours


def read_yaml(path: Path) -> dict[str, Any]:
    from ruamel.yaml import YAML

    doc: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return doc
