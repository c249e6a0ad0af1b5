"""Issue 15, a newcomer's first hour: one row per item, each driving the CLI entry point in a fresh folder.

A row: files to create, then the commands to run in order; each command states its exit code and text that must
(or must not) appear in its stdout or stderr. The deeper tests of each item live beside it (test_expand,
test_cache_verdicts, test_init, test_lint_formats, test_messages).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile.cli import main

_EXE = Path(sys.executable).with_name("llmd-compile")
CLI = [str(_EXE)] if _EXE.is_file() else [sys.executable, "-m", "llmd_compile"]

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
    rename: tuple[str, str] | None = None  # renamed after the first step
    cwd: str = ""  # where the commands run, below the folder


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
    Row("6 two specs, one name, separate runs", {"a.yaml": SEED, "b.yaml": SEED}, (
        Step(("a.yaml",), 0),
        Step(("b.yaml",), 2, err=("b.yaml: metadata.name: 'inference-scheduling': out/inference-scheduling/ was "
                                  "compiled from a.yaml, which still exists",)),
        Step(("--check", "b.yaml"), 2, err=("was compiled from a.yaml",)),
        Step(("a.yaml",), 0, out=("inference-scheduling: up to date",)),
    )),
    Row("6 a moved spec takes its stack along", {"a.yaml": SEED}, (
        Step(("a.yaml",), 0), Step(("moved.yaml",), 0, out=("inference-scheduling: ", " changed, 0 unchanged")),
    ), rename=("a.yaml", "moved.yaml")),
    Row("6 paths in messages are relative to the working directory", {
        "specs/h100.yaml": SEED.replace("gpus: 4", "gpus: 2", 1)}, (
        Step(("--out", "../out", "h100.yaml"), 2, err=("h100.yaml:31:13: decode.replicas: error LLMD301",),
             absent=("specs/h100.yaml",)),
    ), cwd="specs"),
    Row("6 explain shows what the release preset sets", {"pd.yaml": (REPO / "specs" / "pd.yaml").read_text()}, (
        Step(("explain", "pd.yaml", "scheduler.image"), 0,
             out=('scheduler.image = "ghcr.io/llm-d/llm-d-inference-scheduler:v0.7.0"\n  from release preset v0.6',),
             absent=("null",)),
        Step(("explain", "pd.yaml", "charts.modelservice"), 0, out=('charts.modelservice = "v0.4.9"',)),
    )),
    Row("6 a KRM function config is also a compile input", {
        "fn.yaml": SEED.replace("  namespace: llm-d-inference-scheduling\n", "  namespace: llm-d-inference-scheduling\n"
                                "  annotations:\n    llmd-compile.io/platform: kubernetes\n"
                                "    config.kubernetes.io/local-config: 'true'\n", 1)}, (
        Step(("fn.yaml",), 0, out=("inference-scheduling: ",)), Step(("--check", "fn.yaml"), 0),
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


def _process(args: tuple[str, ...], cwd: Path) -> tuple[int, str, str]:
    """The installed console script in a child process: what a user's shell runs."""
    proc = subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "NO_COLOR": "1"})
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("entry", ["in-process", "console script"])
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_first_hour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row: Row, entry: str) -> None:
    monkeypatch.chdir(tmp_path)
    for rel, text in row.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path / row.cwd)
    for i, step in enumerate(row.steps):
        code, out, err = _run(step.args) if entry == "in-process" else _process(step.args, tmp_path / row.cwd)
        shown = f"{' '.join(step.args)}\n--- stdout\n{out}--- stderr\n{err}"
        assert code == step.code, shown
        assert all(text in out for text in step.out), shown
        assert all(text in err for text in step.err), shown
        assert not any(text in out + err for text in step.absent), shown
        assert "Traceback" not in out + err
        if i == 0:
            for rel in row.remove:
                (tmp_path / rel).unlink()
            if row.rename:
                (tmp_path / row.rename[0]).rename(tmp_path / row.rename[1])


def test_out_gitignore_keeps_local_files_out_of_git_and_is_written_once(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import subprocess

    monkeypatch.chdir(tmp_path)
    (tmp_path / "h100.yaml").write_text(SEED, encoding="utf-8")
    assert _run(("h100.yaml",))[0] == 0
    ignore = tmp_path / "out" / ".gitignore"
    if shutil.which("git") is None:  # pragma: no cover - git is on every machine of the project
        pytest.fail("git is needed to check what git ignores")
    subprocess.run(["git", "init", "-q"], check=True)
    local = ["out/.llmd-compile-cache", "out/.llmd-compile.lock", "out/.inference-scheduling.new/x"]
    (tmp_path / "out" / ".inference-scheduling.new").mkdir()
    (tmp_path / "out" / ".inference-scheduling.new" / "x").write_text("", encoding="utf-8")
    ignored = subprocess.run(["git", "check-ignore", *local, "out/inference-scheduling/README.md"],
                             capture_output=True, text=True, check=False).stdout.split()
    assert ignored == local  # the cache, the lock and a half-built stack; never the output itself
    ignore.write_text(ignore.read_text(encoding="utf-8") + "mine\n", encoding="utf-8")
    assert _run(("h100.yaml",))[0] == 0
    assert ignore.read_text(encoding="utf-8").endswith("mine\n")  # written once: the user's from then on
