"""The cache never changes a verdict: over every spec of the corpus, a run answered from out/.llmd-compile-cache
exits, prints and warns exactly as the same run in a fresh clone (no cache), for every verb that uses the cache.

Issue 15, item 2: `--strict` used to exit 0 from the cache and 2 in CI, and an up-to-date run printed no warnings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile import cache
from llmd_compile.cli import main
from llmd_compile.spec.layers import BASE_KIND, kind_of

REPO = Path(__file__).resolve().parents[2]
CORPUS = ("specs", "tests/golden/cases", "tests/diagnostics/cases")
SPECS = sorted(p.relative_to(REPO).as_posix() for d in CORPUS for p in (REPO / d).rglob("*.yaml")
               if kind_of(p) not in (BASE_KIND, None))
MODES = [("--check",), ("--check", "--strict"), ("--strict",), ()]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    for d in CORPUS:
        shutil.copytree(REPO / d, root / d)
    return root


def test_the_corpus_is_the_corpus() -> None:
    assert len(SPECS) >= 70 and "specs/h100.yaml" in SPECS and "specs/fleet/fleet.yaml" in SPECS


@pytest.mark.parametrize("spec", SPECS)
def test_warm_and_cold_runs_agree(corpus: Path, spec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(corpus)
    out = Path("outs") / spec.replace("/", "_")
    _run("--out", str(out), spec)  # fills the cache when the spec compiles (with or without warnings)
    memo = out / cache.CACHE
    recorded = memo.read_bytes() if memo.exists() else None
    for mode in MODES:
        if recorded is not None:
            memo.write_bytes(recorded)
        warm = _run(*mode, "--out", str(out), spec)
        memo.unlink(missing_ok=True)
        cold = _run(*mode, "--out", str(out), spec)
        assert warm == cold, f"{' '.join(mode) or 'compile'}: the cache changed the verdict"
