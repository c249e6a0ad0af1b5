"""The diagnostics corpus: one broken stack per case, each stating the exact code, field and location.

A case is a spec file with header comments:
  # tamper: ["<artifact path>", "<old text>", "<new text>"]   (optional; edits the compiled artifacts,
                                                              for breakages the compiler itself never emits)
  # expect: <CODE> <field>@<line>:<col>
  # render: charts                                            (optional; the LLMD44x rules see the rendered charts)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmd_compile import check
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.compile import build
from llmd_compile.spec.load import load_marked, locate_field

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


def _header(case: Path) -> tuple[list[list[str]], list[str]]:
    tamper, expect = [], []
    for line in case.read_text(encoding="utf-8").splitlines():
        if line.startswith("# tamper: "):
            tamper.append(json.loads(line[len("# tamper: "):]))
        elif line.startswith("# expect: "):
            expect.append(line[len("# expect: "):].strip())
    return tamper, expect


def _rendered(case: Path, files: dict[str, str]) -> Any:
    """`# render: charts` cases (LLMD44x) see the releases rendered with the real charts, as `lint --charts`."""
    if "\n# render: charts\n" not in case.read_text(encoding="utf-8"):
        return None
    from llmd_compile import render
    from tests.conformance import oracles

    objects, disagreements = render.release_objects(files, oracles.shared() / "upstream" / "charts")
    return tuple(objects), tuple(disagreements)


def diagnose(case: Path) -> list[str]:
    loaded = load_marked(case, case.name)
    stack, files = build(loaded.spec, case.name)
    tamper, _ = _header(case)
    for rel, old, new in tamper:
        assert files[rel].count(old) == 1, f"tamper text must occur once in {rel}: {old!r}"
        files[rel] = files[rel].replace(old, new)
    found = []
    for d in check.run(Artifacts(stack, files, _rendered(case, files))):
        line, col = locate_field(d.field, loaded.marks)
        found.append(f"{d.code} {d.field}@{line}:{col}")
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case(case: Path) -> None:
    _, expect = _header(case)
    assert expect, "a case states what it expects"
    found = diagnose(case)
    for wanted in expect:
        assert wanted in found, f"expected {wanted}; found {found}"


def test_every_code_has_a_case() -> None:
    covered = {c.stem.split("-")[0] for c in CASES}
    assert set(check.rules()) <= covered
    assert len(CASES) >= 25


def test_seed_and_goldens_have_no_errors() -> None:
    repo = Path(__file__).resolve().parents[2]
    for spec in [repo / "specs" / "h100.yaml", *sorted((repo / "tests" / "golden" / "cases").glob("*.yaml"))]:
        loaded = load_marked(spec)
        stack, files = build(loaded.spec, spec.name)
        errors = [d for d in check.run(Artifacts(stack, files)) if d.severity == "error"]
        assert errors == [], f"{spec.name}: {errors}"


def test_docs_page_is_current() -> None:
    from llmd_compile.check.docs import render

    page = Path(__file__).resolve().parents[2] / "docs" / "diagnostics.md"
    assert page.read_text(encoding="utf-8") == render(), "regenerate: llmd-compile diagnostics > docs/diagnostics.md"
    for code in check.rules():
        assert f"`{code}`" in render()


# Stacks that are unusual but right: no error may fire (a check that errs here is a false alarm).
# (example spec, text in it, replacement, why it is right)
CLEAN = [
    ("precise-prefix.yaml", "decode:\n  replicas: 8\n", "decode:\n  replicas: 0\n",
     "scaled to zero: no model server runs, so none publishes KV events yet (LLMD115 used to err)"),
]


@pytest.mark.parametrize(("example", "old", "new", "why"), CLEAN, ids=[c[3].split(":")[0] for c in CLEAN])
def test_unusual_but_right_stacks_have_no_errors(tmp_path: Path, example: str, old: str, new: str, why: str) -> None:
    repo = Path(__file__).resolve().parents[2]
    text = (repo / "specs" / example).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{example} no longer holds {old!r}"
    spec = tmp_path / example
    spec.write_text(text.replace(old, new), encoding="utf-8")
    loaded = load_marked(spec)
    stack, files = build(loaded.spec, spec.name)
    errors = [d for d in check.run(Artifacts(stack, files)) if d.severity == "error"]
    assert errors == [], f"{why}: {errors}"
