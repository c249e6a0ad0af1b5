"""The fast loader (parser events -> data) reads every document exactly as the composing reference does.

`spec.yamlread.parse` builds data and marks straight from the C parser's events; `spec.yamlread.composed` is the
reference (compose nodes, then walk them), still used for `%YAML` documents. Both must give the same data,
the same marks, and the same first problem, for every spec and case file in the repository, every hostile
input, and generated documents full of YAML's typing traps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmd_compile.errors import SpecError
from llmd_compile.spec import yamlread as load

from .hostile import CASES

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for d in ("specs", "tests") for p in (ROOT / d).rglob("*.yaml") if "golden/out" not in p.as_posix())


def fast(text: str) -> Any:
    try:
        return load.parse(text, "f.yaml")
    except SpecError as exc:
        return [str(p) for p in exc.problems]


def reference(text: str) -> Any:
    try:
        load._prescan(text, "f.yaml", load._yaml())  # the limits both paths share
        marks: load.Marks = {}
        try:
            data = load.composed(text, "f.yaml", marks)
        except StopIteration:
            raise SpecError.one("f.yaml", "", "expected exactly one YAML document; found none", 1, 1) from None
        return data, marks
    except SpecError as exc:
        return [str(p) for p in exc.problems]
    except Exception as exc:  # the reference's own YAML errors: compare the kind only
        return type(exc).__name__


def same(text: str) -> None:
    got, want = fast(text), reference(text)
    if isinstance(want, str):  # a YAML error the reference raised raw; parse() turns it into a located problem
        assert isinstance(got, list) and "YAML" in got[0], (got, want)
        return
    assert got == want


def test_the_corpus_is_there() -> None:
    assert len(FILES) > 60, FILES  # specs/, the golden cases, the diagnostics corpus


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_repository_files(path: Path) -> None:
    same(path.read_text(encoding="utf-8"))


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None  # refused before parsing (test_hostile covers it)


HOSTILE = [(c.id, text) for c in CASES if len(c.data) < 1_000_000 and (text := _text(c.data)) is not None]


def test_the_hostile_corpus_is_there() -> None:
    assert len(HOSTILE) > 100


@pytest.mark.parametrize(("case_id", "text"), HOSTILE, ids=[c for c, _ in HOSTILE])
def test_hostile_inputs(case_id: str, text: str) -> None:
    same(text)


TRAPS = ["yes", "no", "on", "off", "True", "NULL", "~", "", "0x1F", "0o17", "017", "1_000", "1e3", "1.5e-3",
         ".inf", "-.inf", ".nan", "12:30", "2001-01-01", "2001-01-01 10:00:00", "'quoted'", '"q"', "!!int '3'",
         "!!str 4", "!!float 1", "!!bool yes", "!!int abc", "!!null ''", "!custom x", "a b", "-1", "+1", "0.",
         "3.", "[]", "{}", "[1, two]", "{a: 1}", "<<", "'<<'", "&a x", "*a", "? complex"]
scalars = st.sampled_from(TRAPS)
keys = st.sampled_from(["a", "b", "replicas", "<<", "2001-01-01", "1", "'1'", "null", "y", "~", "[x]"])


def _inline(value: Any) -> str:
    return ("{}" if isinstance(value, dict) else "[]") if isinstance(value, (dict, list)) else str(value)


def block(value: Any, indent: int = 0) -> str:
    """A block-style YAML document of `value` (whose leaves are YAML source text already)."""
    pad = " " * indent
    rows = value.items() if isinstance(value, dict) else ((None, v) for v in value)
    out = ""
    for key, item in rows:
        lead = f"{pad}{key}:" if key is not None else f"{pad}-"
        nested = isinstance(item, (dict, list)) and item
        out += lead + (f"\n{block(item, indent + 2)}" if nested else f" {_inline(item)}\n")
    return out


documents = st.recursive(st.dictionaries(keys, scalars, min_size=1, max_size=4),
                         lambda inner: st.one_of(st.dictionaries(keys, inner | scalars, min_size=1, max_size=4),
                                                 st.lists(inner | scalars, min_size=1, max_size=3)),
                         max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_generated_documents(doc: Any) -> None:
    same(block(doc))


@pytest.mark.parametrize("text", ["%YAML 1.1\n---\na: yes\nb: 0x1F\n", "%YAML 1.2\n---\na: yes\n"])
def test_yaml_directive_uses_the_reference(text: str) -> None:
    same(text)
