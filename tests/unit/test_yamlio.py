"""yamlio: what we emit reads back as exactly the data we meant, under YAML 1.2 and YAML 1.1."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from llmd_compile import yamlio


def read12(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def read11(text: str) -> Any:
    """What Helm (go-yaml v2, YAML 1.1 rules) would resolve."""
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 1)
    return yaml.load(io.StringIO("%YAML 1.1\n---\n" + text))


# (value, exact text) — YAML 1.1 traps must be quoted so Helm and Kubernetes read strings.
SCALARS = [
    ("on", '"on"'),
    ("no", '"no"'),
    ("Yes", '"Yes"'),
    ("0755", '"0755"'),
    ("1e3", '"1e3"'),
    ("8.0", '"8.0"'),
    ("0x1F", '"0x1F"'),
    ("1:20", '"1:20"'),
    ("2025-09-12", '"2025-09-12"'),
    ("null", '"null"'),
    ("~", '"~"'),
    ("", '""'),
    ("true", '"true"'),
    ("a: b", '"a: b"'),
    ("trailing:", '"trailing:"'),
    ("#comment", '"#comment"'),
    ("- item", '"- item"'),
    ("50Gi", "50Gi"),
    ("0s", "0s"),
    ("v0.2.1", "v0.2.1"),
    ("nvidia.com/gpu", "nvidia.com/gpu"),
    ("ghcr.io/llm-d/llm-d-dev:pr-170", "ghcr.io/llm-d/llm-d-dev:pr-170"),
    ("$values/out/x.yaml", "$values/out/x.yaml"),
    (8000, "8000"),
    (1.0, "1.0"),
    (True, "true"),
    (None, "null"),
]


@pytest.mark.parametrize(("value", "text"), SCALARS)
def test_scalar_text(value: Any, text: str) -> None:
    assert yamlio.scalar(value) == text
    doc = yamlio.dump({"k": value})
    assert read12(doc) == {"k": value}
    assert read11(doc) == {"k": value}


def test_block_layout() -> None:
    doc = {"a": {"b": [1, {"c": "x", "d": []}], "e": {}}, "f": "line1\nline2\n"}
    assert yamlio.dump(doc) == (
        "a:\n"
        "  b:\n"
        "    - 1\n"
        "    - c: x\n"
        "      d: []\n"
        "  e: {}\n"
        "f: |\n"
        "  line1\n"
        "  line2\n"
    )


def test_refuses_non_string_keys_and_nan() -> None:
    with pytest.raises(TypeError):
        yamlio.dump({1: "x"})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        yamlio.dump({"x": float("nan")})


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_scalars = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | _text | st.floats(
    allow_nan=False, allow_infinity=False, width=64)
_data = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_text, _data, max_size=5))
def test_round_trip_yaml12_and_yaml11(doc: dict[str, Any]) -> None:
    text = yamlio.dump(doc)
    assert read12(text) == doc
    assert read11(text) == doc
