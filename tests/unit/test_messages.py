"""Issue 15, item 4: what the checks say about near misses, as tables (spec edits in, findings out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmd_compile import check
from llmd_compile.catalog.hardware import accelerator, near
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.compile import build
from llmd_compile.spec.load import load_text

SPEC = (Path(__file__).resolve().parents[2] / "specs" / "h100.yaml").read_text(encoding="utf-8")
IMAGE = "  image: ghcr.io/llm-d/llm-d-dev:pr-170\n"


def findings(text: str, code: str) -> list[str]:
    spec = load_text(text, "x.yaml")
    stack, files = build(spec, "x.yaml")
    return [f"{d.field}: {d.message}" for d in check.run(Artifacts(stack, files)) if d.code == code]


def with_args(*args: str, tensor: int = 1, expert: str = "") -> str:
    listed = "".join(f"    - {a!r}\n" if " " in a or a.isdigit() else f"    - {a}\n" for a in args)
    text = SPEC.replace(IMAGE, IMAGE + "  args:\n" + listed, 1)
    return text.replace("    tensor: 1", f"    tensor: {tensor}" + expert, 1).replace("gpus: 4", "gpus: 16", 1)


# (args, tensor, expected LLMD313 fields): vLLM's flags in every spelling, against the spec's parallelism.
PARALLEL = [
    (("--tensor-parallel-size=4",), 1, ["decode.args[0]"]),
    (("--tensor-parallel-size", "4"), 1, ["decode.args[0]"]),
    (("--tensor-parallel-size 4",), 1, ["decode.args[0]"]),
    (("-tp=2",), 1, ["decode.args[0]"]),
    (("--max-model-len=4096", "--tensor-parallel-size=2"), 2, []),  # agrees: nothing to say
    (("--pipeline-parallel-size=2",), 1, ["decode.args[0]"]),
    (("--pipeline-parallel-size=1",), 1, []),
    (("--data-parallel-size=2",), 1, ["decode.args[0]"]),
    (("--enable-expert-parallel",), 1, ["decode.args[0]"]),
    (("--tensor-parallel-size-foo=4",), 1, []),  # not vLLM's flag
]


@pytest.mark.parametrize(("args", "tensor", "expected"), PARALLEL, ids=[" ".join(r[0]) for r in PARALLEL])
def test_parallelism_flags_in_args_agree_with_parallelism(args: tuple[str, ...], tensor: int,
                                                          expected: list[str]) -> None:
    found = findings(with_args(*args, tensor=tensor), "LLMD313")
    assert [f.split(":")[0] for f in found] == expected, found


# (written, table entry): common spellings resolve; others get a "did you mean".
ACCELERATORS = [
    ("A100-80GB", "A100"), ("NVIDIA-H100-80GB-HBM3", "H100"), ("H100 SXM5", "H100"), ("h200", "H200"),
    ("A100-40GB", "A100-40GB"), ("TPU v6e", "TPU-v6e"), ("Gaudi 3", "Gaudi3"), ("mi300x", "MI300X"),
    ("H100-94GB", None), ("MI300", None), ("L40", None),
]


@pytest.mark.parametrize(("written", "entry"), ACCELERATORS, ids=[a for a, _ in ACCELERATORS])
def test_accelerator_spellings(written: str, entry: str | None) -> None:
    found = accelerator(written)
    assert (found.name if found else None) == entry


@pytest.mark.parametrize(("written", "message"), [
    ("MI300", "accelerator.model: 'MI300' is not in the accelerator table, so the memory checks were skipped; did you "
              "mean 'MI300X'?"),
    ("H100-94GB", "accelerator.model: 'H100-94GB' is not in the accelerator table, so the memory checks were "
                  "skipped; did you mean 'H100'?"),
])
def test_unknown_accelerator_suggests(written: str, message: str) -> None:
    assert near(written) is not None
    vendor = "amd" if written.startswith("MI") else "nvidia"
    text = SPEC.replace("  model: H100", f"  model: {written}", 1).replace("vendor: nvidia", f"vendor: {vendor}", 1)
    assert findings(text, "LLMD307") == [message]


@pytest.mark.parametrize(("model", "message"), [
    ("meta-llama/Llama-3.1-8b-instruct", "model.name: 'meta-llama/Llama-3.1-8b-instruct' is not in the model table, "
     "so the heads, memory and cache-size checks were skipped; did you mean 'meta-llama/Llama-3.1-8B-Instruct'?"),
    ("swiss-ai/Apertus-8B-Instruct-2509", "model.name: 'swiss-ai/Apertus-8B-Instruct-2509' is not in the model "
     "table, so the heads, memory and cache-size checks were skipped"),
])
def test_unknown_model_is_a_warning_with_a_suggestion(model: str, message: str) -> None:
    assert findings(SPEC.replace("meta-llama/Llama-3.1-8B-Instruct", model, 1), "LLMD306") == [message]
    assert check.rules()["LLMD306"].severity == "warning"  # said at compile time, not only by lint
