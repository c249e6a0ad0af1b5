"""The autoscaling and observability spec sections, as tables: bad input gives exactly these located problems, and
each scaler variant compiles to the objects its path needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmd_compile.compile import build
from llmd_compile.errors import SpecError
from llmd_compile.spec.load import load_text_marked, relocate

EXAMPLE = (Path(__file__).resolve().parents[2] / "specs" / "workload-autoscaling.yaml").read_text(encoding="utf-8")
SCALER = """        type: keda
        signal: queue
        queueSize: 1
        runningRequests: 16
      minReplicas: 1
      maxReplicas: 8
"""


def _problems(text: str) -> list[str]:
    try:
        spec, marks = load_text_marked(text, "x.yaml")
        build(spec, "x.yaml")
    except SpecError as exc:
        located = relocate(exc.problems, marks) if "marks" in locals() else exc.problems
        return [f"{p.line}:{p.col}: {p.field}: {p.message}" for p in located]
    return []


# (case, replacement of SCALER or of another line, expected problem lines)
CASES = [
    ("max below min", (SCALER, SCALER.replace("maxReplicas: 8", "maxReplicas: 0")),
     ["69:20: autoscaling.scalers[0].maxReplicas: Input should be greater than or equal to 1, not 0"]),
    ("max under min", (SCALER, SCALER.replace("minReplicas: 1", "minReplicas: 9")),
     ["69:20: autoscaling.scalers[0].maxReplicas: must be at least minReplicas (9)"]),
    ("HPA to zero", (SCALER, "        type: hpa\n      minReplicas: 0\n      maxReplicas: 8\n"),
     ["65:20: autoscaling.scalers[0].minReplicas: an HPA cannot scale to zero (minReplicas >= 1); "
      "scale to zero through KEDA"]),
    ("unknown variant", (SCALER, "        type: vpa\n      maxReplicas: 8\n"),
     ["63:7: autoscaling.scalers[0].scaler: Input tag 'vpa' found using 'type' does not match any of the expected "
      "tags: 'keda', 'hpa', 'wva'"]),
    ("prefill without prefill", ("    - target: decode", "    - target: prefill"),
     ["62:15: autoscaling.scalers[0].target: prefill pods exist only with prefill/decode disaggregation: set "
      "prefill, or target decode"]),
    ("GKE without a query endpoint", ("observability:\n", "observability:\n  stack: gke-managed\n"),
     ["72:1: observability.prometheusUrl: GKE managed Prometheus has a query endpoint per project: set "
      "https://monitoring.googleapis.com/v1/projects/<project>/location/global/prometheus"]),
]


@pytest.mark.parametrize(("old_new", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_autoscaling(old_new: tuple[str, str], expected: list[str]) -> None:
    old, new = old_new
    assert EXAMPLE.count(old) == 1
    assert _problems(EXAMPLE.replace(old, new)) == expected


def test_example_compiles() -> None:
    assert _problems(EXAMPLE) == []


# variant -> (scaler text, files that must exist, files that must not)
VARIANTS = [
    ("keda", SCALER,
     ["autoscaling/base/triggerauthentication.yaml", "autoscaling/overlays/openshift/metrics-reader.yaml"],
     ["autoscaling/prometheus-adapter/values-kubernetes.yaml", "autoscaling/wva/kubernetes/kustomization.yaml"]),
    ("hpa", "        type: hpa\n      maxReplicas: 8\n",
     ["autoscaling/prometheus-adapter/values-kubernetes.yaml", "autoscaling/prometheus-adapter/values-openshift.yaml"],
     ["autoscaling/base/triggerauthentication.yaml", "autoscaling/wva/kubernetes/kustomization.yaml"]),
    ("wva", "        type: wva\n      maxReplicas: 8\n",
     ["autoscaling/wva/kubernetes/kustomization.yaml", "argocd/kubernetes/35-wva-controller.yaml"],
     ["autoscaling/prometheus-adapter/values-kubernetes.yaml"]),
    ("wva-hpa", "        type: wva\n        via: hpa\n        controller: false\n      maxReplicas: 8\n",
     ["autoscaling/prometheus-adapter/values-kubernetes.yaml"],
     ["autoscaling/wva/kubernetes/kustomization.yaml", "autoscaling/base/triggerauthentication.yaml"]),
]


@pytest.mark.parametrize(("scaler", "present", "absent"), [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_variant_files(scaler: str, present: list[str], absent: list[str]) -> None:
    spec, _ = load_text_marked(EXAMPLE.replace(SCALER, scaler), "x.yaml")
    files = build(spec, "x.yaml")[1]
    assert set(present) <= set(files)
    assert not set(absent) & set(files)


@pytest.mark.parametrize(("min_replicas", "alerted"), [(1, True), (0, False)])
def test_empty_pool_alert_follows_scale_to_zero(min_replicas: int, alerted: bool) -> None:
    text = EXAMPLE.replace("      minReplicas: 1\n", f"      minReplicas: {min_replicas}\n")
    spec, _ = load_text_marked(text, "x.yaml")
    rules = build(spec, "x.yaml")[1]["observability/overlays/kubernetes/rules.yaml"]
    assert ("LlmdPoolWithoutEndpoints" in rules) is alerted
    assert "LlmdPickerMetricsMissing" in rules
