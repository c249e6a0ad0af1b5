"""Bad kvOffload / flowControl / predictedLatency specs, as a table: the CLI exits 2 with the located error and writes
nothing (each row edits a valid router-shape spec)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile.cli import main

GOOD = """\
apiVersion: llmd-compile/v1alpha1
kind: Stack
metadata: {name: feat, namespace: llm-d-feat}
release: v0.9
model: {name: Qwen/Qwen3-32B, tokenSecret: {name: llm-d-hf-token}}
accelerator: {vendor: nvidia, model: H100}
decode:
  replicas: 2
  parallelism: {tensor: 2}
  image: "docker.io/vllm/vllm-openai:v0.26.0"
kvOffload:
  cpu: {size: 100Gi}
  kvBytesPerToken: 262144
gateway: {provider: istio}
scheduler:
  scorers: {prefixCache: 1}
route: {name: feat}
platforms: {kubernetes: {}}
"""

CASES = [
    # (old, new, expected located message)
    ("accelerator: {vendor: nvidia, model: H100}", "accelerator: {vendor: google, model: TPU-v6e}",
     "feat.yaml:11:1: kvOffload: TPUs offload through vLLM's TPU KV-cache connector (guides/tiered-prefix-cache/"
     "modelserver/tpu), which is not generated yet"),
    ("release: v0.9", "release: v0.6",
     "feat.yaml:11:1: kvOffload: KV offloading is generated for the router shape only (release v0.8 or v0.9)"),
    ("  kvBytesPerToken: 262144", "  kvBytesPerToken: 262144\n  cpuLruCapacityPerServer: 1000",
     "feat.yaml:14:28: kvOffload.cpuLruCapacityPerServer: set kvBytesPerToken (the capacity follows "
     "from cpu.size) or cpuLruCapacityPerServer, not both"),
    ('  image: "docker.io/vllm/vllm-openai:v0.26.0"',
     '  image: "docker.io/vllm/vllm-openai:v0.26.0"\n  args: ["--kv-transfer-config={}"]',
     "feat.yaml:12:1: kvOffload: decode.args already set --kv-transfer-config; let kvOffload write it, or drop "
     "kvOffload"),
    ("  scorers: {prefixCache: 1}",
     "  scorers: {prefixCache: 1}\n  flowControl:\n    objectives:\n      - {name: a, priority: 1}\n"
     "      - {name: a, priority: 2}",
     "feat.yaml:18:5: scheduler.flowControl.objectives: objective names must be unique; repeated: a"),
    ("  scorers: {prefixCache: 1}",
     "  scorers: {prefixCache: 1}\n  flowControl:\n    objectives:\n      - {name: a, priority: 1, maxRequests: 5}\n"
     "      - {name: b, priority: 1, maxRequests: 6}",
     "feat.yaml:18:5: scheduler.flowControl.objectives: objectives of priority 1 share one band; give "
     "them one maxRequests"),
    ("  scorers: {prefixCache: 1}",
     "  predictedLatency:\n    slo: {tpotMs: 50}\n    streaming: false",
     "feat.yaml:18:16: scheduler.predictedLatency.streaming: a TPOT SLO is predicted from streamed "
     "inter-token gaps: streaming must be on"),
    ("  scorers: {prefixCache: 1}", "  scorers: {prefixCache: 1}\n  predictedLatency: {}",
     "feat.yaml:16:12: scheduler.scorers: predicted-latency routing scores endpoints by predicted latency "
     "(latency-scorer): drop scheduler.scorers"),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES, ids=[c[2].split(": ")[1] for c in CASES])
def test_bad_feature_spec(old: str, new: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert GOOD.count(old) == 1
    monkeypatch.chdir(tmp_path)
    Path("feat.yaml").write_text(GOOD.replace(old, new), encoding="utf-8")
    result = CliRunner().invoke(main, ["feat.yaml", "--out", "out"])
    assert result.exit_code == 2, result.output
    assert expected in result.output.splitlines(), result.output
    assert "Traceback" not in result.output
    assert not Path("out").exists()


def test_good_spec_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("feat.yaml").write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(main, ["feat.yaml", "--out", "out"])
    assert result.exit_code == 0, result.output
    decode = Path("out/feat/modelserver/base/decode.yaml").read_text(encoding="utf-8")
    # No memory in the spec: the pod requests twice the 100Gi tier, as the guide requests 200Gi for its 100 GB tier
    # (tiered-prefix-cache/modelserver/gpu/vllm/base/patch-vllm.yaml).
    assert "memory: 200Gi" in decode
    assert '"cpu_bytes_to_use":107374182400' in decode.replace("\\", "")


SPECS = Path(__file__).resolve().parents[2] / "specs"


def test_stacks_checked_against_each_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two models behind one Gateway, both creating it and both routing every request: located errors, exit 2."""
    monkeypatch.chdir(tmp_path)
    for name in ("multi-model-qwen.yaml", "multi-model-llama.yaml"):
        text = (SPECS / name).read_text(encoding="utf-8")
        text = text.replace("  create: false\n", "").replace("    baseModel: true", "    baseModel: false")
        Path(name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, [".", "--out", "out"])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("multi-model-qwen.yaml:25:1: gateway.create: multi-model-llama creates the Gateway")
               for line in lines), lines
    assert any(line.startswith("multi-model-qwen.yaml:34:3: route.match: the HTTPRoute of multi-model-qwen takes "
                               "the same requests as multi-model-llama's") for line in lines), lines
    assert not Path("out").exists()
