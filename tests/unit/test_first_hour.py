"""Issue 15, a newcomer's first hour: one row per item, each driving the CLI entry point in a fresh folder.

A row: files to create, then the commands to run in order; each command states its exit code and text that must
(or must not) appear in its stdout or stderr. The deeper tests of each item live beside it (test_expand,
test_cache_verdicts, test_init, test_lint_formats, test_messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile.cli import main

REPO = Path(__file__).resolve().parents[2]
SEED = (REPO / "specs" / "h100.yaml").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Step:
    args: tuple[str, ...]
    code: int
    out: tuple[str, ...] = ()  # each must appear in stdout
    err: tuple[str, ...] = ()  # each must appear in stderr
    absent: tuple[str, ...] = ()  # none may appear in stdout or stderr


@dataclass(frozen=True)
class Row:
    id: str
    files: dict[str, str] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    remove: tuple[str, ...] = ()  # removed after the first step (e.g. the cache: a fresh clone)


ROWS = [
    Row("1 compile . beside its own out/", {"specs/h100.yaml": SEED}, (
        Step(("specs/h100.yaml",), 0),
        Step((".",), 0, out=(".: 1 spec found (skipped 1 output directory)",), absent=("required field",)),
        Step(("--check", "."), 0), Step(("lint", "."), 0, out=("0 errors",)),
    )),
    Row("1 an empty folder is an error", {"empty/.keep": ""}, (
        Step(("empty",), 2, err=("error: empty: no llmd-compile spec found",)),
    )),
    Row("2 --strict from the cache is --strict in CI", {"specs/h100.yaml": SEED}, (
        Step(("specs/",), 0, err=("warning LLMD413",)),
        Step(("specs/",), 0, out=("inference-scheduling: up to date",), err=("warning LLMD413",)),
        Step(("--strict", "specs/"), 2, err=("LLMD413", "nothing was written")),
        Step(("--check", "--strict", "specs/"), 2, err=("LLMD413",)),
    )),
    Row("3 init, then compile, then --check", {}, (
        Step(("init",), 0, out=("wrote specs/stack.yaml",)),
        Step(("specs/",), 0, out=("my-stack: ",)), Step(("--check", "specs/"), 0),
        Step(("init",), 2, err=("exists; llmd-compile init never overwrites",)),
    )),
    Row("3 versions lists each preset's model-server images", {}, (
        Step(("versions",), 0, out=("v0.6: nvidia ghcr.io/llm-d/llm-d-cuda:v0.6.0, amd ghcr.io/llm-d/llm-d-rocm",)),
    )),
    Row("3 an image of another release is a located warning", {
        "t.yaml": SEED.replace("  image: ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1\n", "").replace(
            "charts:\n  infra: v1.3.0\n  inferencepool: v0.5.1\n  modelservice: v0.2.7\n", "release: v0.6\n"),
    }, (
        Step(("lint", "t.yaml"), 0, err=("t.yaml:", "decode.image: warning LLMD312: 'ghcr.io/llm-d/llm-d-dev:pr-170' "
                                          "is release seed's image for nvidia; this stack is release v0.6",)),
    )),
    Row("names: a typo is not a spec path", {}, (
        Step(("lnt", "specs"), 2, err=("error: 'lnt': no such command or file; did you mean lint?",),
             absent=("cannot read",)),
        Step(("--help",), 0, out=("Common flags", "--check", "--strict", "Examples:", "llmd-compile init")),
    )),
]


def _run(args: tuple[str, ...]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_first_hour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row: Row) -> None:
    monkeypatch.chdir(tmp_path)
    for rel, text in row.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    for i, step in enumerate(row.steps):
        code, out, err = _run(step.args)
        shown = f"{' '.join(step.args)}\n--- stdout\n{out}--- stderr\n{err}"
        assert code == step.code, shown
        assert all(text in out for text in step.out), shown
        assert all(text in err for text in step.err), shown
        assert not any(text in out + err for text in step.absent), shown
        assert "Traceback" not in out + err
        if i == 0:
            for rel in row.remove:
                (tmp_path / rel).unlink()
