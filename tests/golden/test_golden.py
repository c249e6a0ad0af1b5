"""Golden trees: compile each case in-process and compare with tests/golden/out/<name>/.

These prove stability, not correctness (that is tests/conformance). Regenerate with the tool:
    llmd-compile tests/golden/cases --out tests/golden/out
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmd_compile import outdir
from llmd_compile.compile import MANIFEST, compile_spec
from llmd_compile.spec.load import load

GOLDEN = Path(__file__).parent
CASES = sorted((GOLDEN / "cases").glob("*.yaml"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_tree(case: Path) -> None:
    source = case.relative_to(GOLDEN).as_posix()  # as the CLI shows it: relative to out/'s parent
    spec = load(case, source)
    files = outdir.with_manifest(source, outdir.digest(case.read_bytes()), compile_spec(spec, source))
    tree = GOLDEN / "out" / spec.metadata.name
    on_disk = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()}
    assert on_disk == set(files), "file set differs; regenerate with the tool if intended"
    for rel, text in files.items():
        assert (tree / rel).read_text(encoding="utf-8") == text, f"{rel} differs"
    assert MANIFEST in files


def test_every_case_has_a_tree() -> None:
    names = {load(c).metadata.name for c in CASES}
    assert names == {p.name for p in (GOLDEN / "out").iterdir() if p.is_dir()}
