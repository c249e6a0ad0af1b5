"""Copies of committed stacks, each broken in one way, must be caught by the render conformance checks.

A case names a stack and platform, one text edit of a committed file (the old text must occur), and a fragment
of the problem the checks must report. The unbroken stacks pass (test_render_conformance), so each catch here is
the edit's doing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.render import helpers, validate, wiring

REPO = Path(__file__).resolve().parents[2]

# (id, stack, platform, file, old, new, expected problem fragment)
CASES = [
    ("pool-label", "sim", "kubernetes", "values/inferencepool.yaml",
     "      llm-d.ai/model: sim\n", "      llm-d.ai/model: simm\n", "matches no rendered pod template"),
    ("parent-ref", "sim", "kubernetes", "base/httproute.yaml",
     "name: infra-sim-inference-gateway", "name: infra-sim-gateway", "parentRef Gateway infra-sim-gateway"),
    ("target-port", "sim", "kubernetes", "values/inferencepool.yaml",
     "    - number: 8000", "    - number: 8001", "target port(s) [8001]"),
    ("epp-config", "sim", "kubernetes", "epp/endpoint-picker-config.yaml",
     "  - name: decode\n", "  - name: decoding\n", "differs from epp/endpoint-picker-config.yaml"),
    ("pvc-name", "inference-scheduling", "kubernetes", "base/pvc.yaml",
     "name: llama-model-storage", "name: llama-models", "claims PVC llama-model-storage"),
    ("destination-rule-host", "inference-scheduling", "kubernetes", "values/infra.yaml",
     "host: gaie-inference-scheduling-epp.", "host: gaie-inference-scheduling.", "is no rendered Service"),
    ("glued-separator", "gke", "kubernetes", "values/inferencepool.yaml",
     "      enabled: false\n", "      enabled: true\n", "kubectl/Argo CD cannot read a document"),
    ("second-accelerator", "tpu-seed", "kubernetes", "values/modelservice.yaml",
     "  parallelism:\n    tensor: 1\n", "  parallelism:\n    tensor: 8\n", "more than one accelerator kind"),
    ("cel-route-timeouts", "inference-scheduling", "kubernetes", "base/httproute.yaml",
     "request: 0s\n        backendRequest: 0s", "request: 10s\n        backendRequest: 20s",
     "backendRequest timeout cannot be longer than request timeout"),
    ("rbac-group", "gke", "kubernetes", "base/smoke-test-role.yaml",
     "- gateway.networking.k8s.io", "- gateway.networking.x-k8s.io", "may not get Gateway"),
    ("monitor-port", "inference-scheduling", "kubernetes", "values/modelservice.yaml",
     "portName: metrics", "portName: vllm-metrics", "endpoint port vllm-metrics"),
    ("listener-path", "inference-scheduling", "kubernetes", "values/infra.yaml",
     "  listeners:\n    - name: default\n", "  listeners:\n    - name: default\n      path: /\n",
     "'path' was unexpected"),
    ("gateway-smoke-service", "gke", "kubernetes", "base/smoke-test-job.yaml",
     "/gateways/infra-gke-inference-gateway", "/gateways/infra-gke-gateway", "which is not rendered"),
    # Router shape (llm-d v0.8+): the router chart's objects wired to the kustomize model servers and Gateway.
    ("router-pool-label", "optimized-baseline", "kubernetes", "values/router.yaml",
     "llm-d.ai/guide: optimized-baseline", "llm-d.ai/guide: optimized", "matches no rendered pod template"),
    ("router-parent-ref", "optimized-baseline", "kubernetes", "values/router.yaml",
     "inferenceGatewayName: llm-d-inference-gateway", "inferenceGatewayName: llm-d-gateway",
     "parentRef Gateway llm-d-gateway"),
    ("router-target-port", "optimized-baseline", "openshift", "values/router.yaml",
     "      - number: 8000", "      - number: 8001", "target port(s) [8001]"),
    ("router-epp-config", "pd-disaggregation", "kubernetes", "epp/endpoint-picker-config.yaml",
     "type: prefix-cache-scorer", "type: precise-prefix-cache-scorer",
     "differs from epp/endpoint-picker-config.yaml"),
    ("router-pvc-name", "optimized-baseline", "kubernetes", "modelserver/base/pvc.yaml",
     "name: llama-model-storage", "name: llama-models", "claims PVC llama-model-storage"),
    ("router-second-accelerator", "optimized-baseline", "kubernetes", "modelserver/base/decode.yaml",
     '            requests:\n              nvidia.com/gpu: "1"\n',
     '            requests:\n              nvidia.com/gpu: "1"\n              amd.com/gpu: "1"\n',
     "more than one accelerator kind"),
    ("router-standalone-pool-label", "standalone", "openshift", "values/router.yaml",
     "llm-d.ai/guide: standalone", "llm-d.ai/guide: alone", "matches no rendered pod template"),
]


def problems(stack: Path, platform: str) -> list[str]:
    r = helpers.render_stack(stack, platform)
    version = helpers.kubernetes_version(stack)
    return [*r.problems, *(f"{o!r}: {e}" for o in r.objects for e in validate.errors(o.doc, version)),
            *wiring.problems(r, stack)]


def test_enough_ways_to_break() -> None:
    assert len({c[0] for c in CASES}) >= 10


@pytest.mark.parametrize(("stack", "platform", "rel", "old", "new", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_copy_is_caught(tmp_path: Path, stack: str, platform: str, rel: str, old: str, new: str,
                               expected: str) -> None:
    copy = helpers.copy_stack(REPO, stack, tmp_path)
    target = copy / rel
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {rel}"
    target.write_text(text.replace(old, new), encoding="utf-8")
    found = problems(copy, platform)
    assert any(expected in p for p in found), found
