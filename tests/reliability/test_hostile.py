"""Every hostile or malformed spec in hostile.CASES: exit 2, one located line per problem, no traceback, < 2 s,
and out/ (plus the user components beside it) byte-identical.

The CLI runs in-process for the whole table (a valid spec with pending changes is passed alongside the bad one,
so "nothing was written" is observable), and as a real process for the cases that once crashed or hung it.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile.cli import main

from . import harness, hostile

PROBLEM = re.compile(r"^specs/bad\.yaml:(\d+):(\d+): ")
SUMMARY = re.compile(r"^error: (\d+) problems?; nothing was written(; .*)?$")
BUDGET_S = 2.0


def _params(cases: tuple[hostile.Case, ...]) -> list[object]:
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else [])
            for c in cases]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose out/ holds the base stack, plus a valid spec that would change out/ if written."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "specs").mkdir()
    (root / "specs" / "base.yaml").write_text(hostile.BASE, encoding="utf-8")
    proc = harness.run_cli("specs/base.yaml", cwd=root)
    assert proc.returncode == 0, proc.stderr
    pending = hostile.BASE.replace("replicas: 4", "replicas: 3").replace("name: inference-scheduling", "name: pending")
    (root / "specs" / "pending.yaml").write_text(pending, encoding="utf-8")
    return root


@pytest.fixture
def repo(compiled: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Shared by the cases: none may write (each checks), so a case that does fails itself, not its successors'
    snapshot (they take theirs after it)."""
    monkeypatch.chdir(compiled)
    return compiled


def check_answer(code: int, stderr: str, elapsed: float, expect: tuple[str, ...]) -> None:
    lines = stderr.splitlines()
    assert "Traceback" not in stderr, stderr
    assert code == 2, stderr
    assert elapsed < BUDGET_S, f"answered in {elapsed:.2f} s"
    summary = SUMMARY.match(lines[-1]) if lines else None
    assert summary, lines
    problems = [line for line in lines[:-1] if not line.startswith("specs/pending.yaml")]
    assert len(problems) == int(summary.group(1)), lines
    for line in problems:
        match = PROBLEM.match(line)
        assert match and int(match.group(1)) >= 1 and int(match.group(2)) >= 1, f"not path:line:col: {line}"
    shown = [line.removeprefix("specs/bad.yaml:") for line in problems]
    for wanted in expect:
        assert any(line.startswith(wanted) for line in shown), f"expected {wanted!r} in {shown}"


@pytest.mark.parametrize("case", _params(hostile.CASES))
def test_hostile_input(case: hostile.Case, repo: Path) -> None:
    (repo / "specs" / "bad.yaml").write_bytes(case.data)
    before = harness.snapshot(repo / "out"), harness.snapshot(repo / "overlays")
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["specs/bad.yaml", "specs/pending.yaml"])
    elapsed = time.perf_counter() - started
    if result.exception and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: traceback") from result.exception
    check_answer(result.exit_code, result.stderr, elapsed, case.expect)
    assert (harness.snapshot(repo / "out"), harness.snapshot(repo / "overlays")) == before


@pytest.mark.parametrize("case", _params(tuple(c for c in hostile.CASES if c.process)))
def test_hostile_input_real_process(case: hostile.Case, repo: Path) -> None:
    (repo / "specs" / "bad.yaml").write_bytes(case.data)
    before = harness.snapshot(repo / "out")
    started = time.perf_counter()
    proc = harness.run_cli("specs/bad.yaml", cwd=repo, timeout=30)
    elapsed = time.perf_counter() - started
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}"
    check_answer(proc.returncode, proc.stderr, elapsed, case.expect)
    assert harness.snapshot(repo / "out") == before


def test_corpus_size() -> None:
    assert len(hostile.CASES) >= 60
    assert len({c.id for c in hostile.CASES}) == len(hostile.CASES)


def _address_space(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize(("target", "message"), [
    ("specs/missing.yaml", "cannot read"), ("/dev/zero", "file is more than 1048576 bytes"),
    ("/dev/urandom", "file is more than 1048576 bytes")])
def test_unreadable_and_endless_inputs(repo: Path, target: str, message: str) -> None:
    """A missing file, devices that never end: a clear error; nothing read past 1 MiB. A real process with 2 GB of
    address space, so a regression fails here instead of eating the machine's memory."""
    before = harness.snapshot(repo / "out")
    started = time.perf_counter()
    proc = subprocess.run([*harness.CLI, target], cwd=repo, capture_output=True, text=True, timeout=30, check=False,
                          preexec_fn=lambda: _address_space(2 << 30))
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert time.perf_counter() - started < BUDGET_S + 1  # startup included
    assert harness.snapshot(repo / "out") == before


def test_model_config_fifo_is_refused_not_read(repo: Path) -> None:
    """model.config names a FIFO: reading it would block the compile forever."""
    fifo = repo / "specs" / "config.json"
    if not fifo.exists():
        os.mkfifo(fifo)
    spec = hostile.BASE.replace("  tokenSecret:", "  config: config.json\n  tokenSecret:")
    (repo / "specs" / "bad.yaml").write_text(spec, encoding="utf-8")
    proc = harness.run_cli("specs/bad.yaml", cwd=repo, timeout=10)
    assert proc.returncode == 2
    assert "specs/bad.yaml:17:11: model.config: must be a regular file under 1 MiB" in proc.stderr


@pytest.mark.parametrize(("where", "written", "value"), hostile.TRAPS,
                         ids=[f"{w}={v!r}" for w, _, v in hostile.TRAPS])
def test_yaml_11_trap_comes_out_quoted(where: str, written: str, value: str) -> None:
    """Accepted as the string it is, and every output file gives Helm (YAML 1.1) that same string."""
    _, files, diagnostics = harness.compile_text(hostile.trap_spec(where, written).decode())
    assert harness.errors_of(diagnostics) == []
    places = 0
    for rel, text in files.items():
        if not rel.endswith(".yaml"):
            continue
        docs11 = harness.yaml11(text)
        assert docs11 == harness.yaml12(text), rel
        places += value in _strings(docs11)
        for line in text.splitlines():
            if line.rstrip().endswith(f": {value}") and value and not value.isalnum():
                pytest.fail(f"{rel}: {line!r} is unquoted")
    assert places, f"{value!r} does not reach the output as a string"


def _strings(node: object) -> set[str]:
    if isinstance(node, dict):
        return {s for v in node.values() for s in _strings(v)}
    if isinstance(node, list):
        return {s for v in node for s in _strings(v)}
    return {node} if isinstance(node, str) else set()
