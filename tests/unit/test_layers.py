"""Spec layering: merge rules, provenance, and the errors, as tables over real files in a temp dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmd_compile.errors import SpecError
from llmd_compile.spec.layers import layer
from llmd_compile.spec.load import parse


def _read(path: Path, shown: str) -> str:
    return path.read_text(encoding="utf-8")


def build(tmp_path: Path, files: dict[str, str], top: str = "stack.yaml") -> Any:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return layer(tmp_path / top, top, parse, _read)


# (case, files, expected merged data)
MERGES = [
    ("maps merge", {"base.yaml": "a: {x: 1, y: 2}\n", "stack.yaml": "extends: base.yaml\na: {y: 3, z: 4}\n"},
     {"a": {"x": 1, "y": 3, "z": 4}}),
    ("lists replace", {"base.yaml": "l: [1, 2, 3]\n", "stack.yaml": "extends: base.yaml\nl: [9]\n"}, {"l": [9]}),
    ("null deletes", {"base.yaml": "a: {x: 1, y: {deep: 1}}\n", "stack.yaml": "extends: base.yaml\na: {y: null}\n"},
     {"a": {"x": 1}}),
    ("bases in order, file last", {"b1.yaml": "v: 1\nw: 1\n", "b2.yaml": "v: 2\n",
                                   "stack.yaml": "extends: [b1.yaml, b2.yaml]\nu: 0\n"}, {"v": 2, "w": 1, "u": 0}),
    ("bases extend bases", {"root.yaml": "r: 1\nv: root\n", "mid.yaml": "extends: root.yaml\nv: mid\n",
                            "stack.yaml": "extends: mid.yaml\n"}, {"r": 1, "v": "mid"}),
    ("subdirectories", {"bases/base.yaml": "v: 1\n", "stack.yaml": "extends: bases/base.yaml\n"}, {"v": 1}),
]


@pytest.mark.parametrize(("files", "expected"), [m[1:] for m in MERGES], ids=[m[0] for m in MERGES])
def test_merge_rules(tmp_path: Path, files: dict[str, str], expected: dict[str, Any]) -> None:
    assert build(tmp_path, files).data == expected


def test_provenance_points_at_the_file_that_set_the_value(tmp_path: Path) -> None:
    got = build(tmp_path, {"base.yaml": "a:\n  x: 1\n  y: 2\n", "stack.yaml": "extends: base.yaml\na:\n  y: 3\n"})
    assert (got.origin[("a", "x")], got.marks[("a", "x")]) == ("base.yaml", (2, 3))
    assert (got.origin[("a", "y")], got.marks[("a", "y")]) == ("stack.yaml", (3, 3))
    assert [p.name for p in got.inputs] == ["base.yaml", "stack.yaml"]


# (case, files, expected error line)
ERRORS = [
    ("cycle", {"a.yaml": "extends: stack.yaml\n", "stack.yaml": "extends: a.yaml\n"},
     "a.yaml:1:10: extends: extends cycle: stack.yaml -> a.yaml -> stack.yaml"),
    ("self", {"stack.yaml": "extends: stack.yaml\n"},
     "stack.yaml:1:10: extends: extends cycle: stack.yaml -> stack.yaml"),
    ("missing base", {"stack.yaml": "v: 1\nextends: nope.yaml\n"},
     "stack.yaml:2:10: extends: base nope.yaml not found"),
    ("missing base in list", {"stack.yaml": "extends:\n  - nope.yaml\n"},
     "stack.yaml:2:5: extends[0]: base nope.yaml not found"),
    ("absolute base", {"stack.yaml": "extends: /etc/passwd\n"},
     "stack.yaml:1:10: extends: each base is a relative path to a spec file"),
    ("type clash", {"base.yaml": "a: {x: 1}\n", "stack.yaml": "extends: base.yaml\na: 5\n"},
     "stack.yaml:2:4: a: type clash: base.yaml:1 has a mapping, this file has a scalar"),
]


@pytest.mark.parametrize(("files", "expected"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_layering_errors(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    with pytest.raises(SpecError) as info:
        build(tmp_path, files)
    assert [str(p) for p in info.value.problems] == [expected]
