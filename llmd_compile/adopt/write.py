"""The imported spec as text: the schema modeline, where it came from, and a comment over each part."""

from __future__ import annotations

import os
from pathlib import Path

from llmd_compile.adopt.helmera import Draft
from llmd_compile.yamlio import dump

SCHEMA = Path("schema") / "stack.schema.json"


def modeline(out: Path) -> str:
    """`# yaml-language-server: $schema=...`, relative to the spec, to the nearest schema/stack.schema.json above it
    (the repository's), else where specs/ finds it."""
    here = out.resolve().parent
    for folder in (here, *here.parents):
        if (folder / SCHEMA).is_file():
            return f"# yaml-language-server: $schema={Path(os.path.relpath(folder / SCHEMA, here)).as_posix()}"
    return f"# yaml-language-server: $schema=../{SCHEMA.as_posix()}"


def render(draft: Draft, origin: str, out: Path) -> str:
    lines = [modeline(out),
             f"# Imported by `llmd-compile import` from {origin}.",
             "# Review it, then commit it with the out/ it compiles to. Each part says where it came from; what the",
             "# spec derives (names, ports, labels, pool wiring) was read and left to the compiler."]
    for key, value in draft.spec.items():
        comment = draft.comments.get(key)
        if comment:
            lines.append(f"# {comment}")
        lines.append(dump({key: value}).rstrip("\n"))
    return "\n".join(lines) + "\n"
