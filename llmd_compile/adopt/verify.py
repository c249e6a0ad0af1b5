"""Does an imported spec compile, and does its picker config equal the source's? (The importer's own checks.)"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from llmd_compile.adopt.picker import same
from llmd_compile.compile import build
from llmd_compile.errors import SpecError
from llmd_compile.spec.load import load_text
from llmd_compile.yamlio import dump

EPP = "epp/endpoint-picker-config.yaml"


def same_picker_config(spec: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Whether the draft's scorer intent compiles to the source's picker config (any problem: it does not)."""
    try:
        stack, files = build(load_text(dump(spec), "(import)"), "(import)")
    except SpecError:
        return False
    ours = YAML(typ="safe").load(str(files[EPP]))
    return same(ours, theirs, stack.picker.name)


def compiles(text: str, shown: str) -> None:
    """The written spec loads and compiles; else the import is refused (nothing is written)."""
    try:
        build(load_text(text, shown), shown)
    except SpecError as exc:
        raise SpecError([*exc.problems]) from None
