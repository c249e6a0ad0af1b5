"""Spec layering: `extends:` one or more base specs, merged with explicit rules, with provenance.

Rules (applied base-first, in the order listed, then the file itself):
- mappings merge key by key;
- lists and scalars replace what the base had;
- `null` deletes the key (the base's value and everything under it);
- a mapping over a non-mapping (or the reverse) is a type clash: an error naming both places.
A file with `kind: StackBase` is only meant to be extended: it is never compiled on its own and need not
be complete. Every value remembers the file and line it came from (`llmd-compile explain`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmd_compile.errors import SpecError

Loc = tuple[str | int, ...]
Mark = tuple[int, int]
BASE_KIND = "StackBase"
_MAX_HEAD = 1 << 20


@dataclass
class Layered:
    data: dict[str, Any]
    marks: dict[Loc, Mark] = field(default_factory=dict)  # where each location's final value is written
    origin: dict[Loc, str] = field(default_factory=dict)  # ...and in which file
    inputs: list[Path] = field(default_factory=list)  # every file read, the spec itself last


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _drop(layer: Layered, loc: Loc) -> None:
    for key in [k for k in layer.marks if k[: len(loc)] == loc]:
        layer.marks.pop(key, None)
        layer.origin.pop(key, None)


def _adopt(layer: Layered, loc: Loc, marks: dict[Loc, Mark], shown: str) -> None:
    for key, mark in marks.items():
        if key[: len(loc)] == loc:
            layer.marks[key] = mark
            layer.origin[key] = shown


def merge(base: Layered, data: dict[str, Any], marks: dict[Loc, Mark], shown: str, loc: Loc = ()) -> dict[str, Any]:
    """Merge `data` (one file's mapping at `loc`) over the base mapping at the same place."""
    target: dict[str, Any] = base.data
    for part in loc:
        target = target[str(part)]
    for key, value in data.items():
        here = (*loc, key)
        if value is None:
            target.pop(key, None)
            _drop(base, here)
            base.marks[here] = marks.get(here, (0, 0))
            base.origin[here] = shown
            continue
        old = target.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            base.marks[here] = marks.get(here, (0, 0))
            base.origin[here] = shown
            merge(base, value, marks, shown, here)
            continue
        if key in target and isinstance(old, dict) != isinstance(value, dict):
            where = f"{base.origin.get(here, '?')}:{base.marks.get(here, (0, 0))[0]}"
            line, col = marks.get((*here, "<value>"), marks.get(here, (0, 0)))
            raise SpecError.one(shown, _dotted(here), f"type clash: {where} has {_kind(old)}, "
                                f"this file has {_kind(value)}", line, col)
        _drop(base, here)
        target[key] = value
        _adopt(base, here, marks, shown)
    return base.data


def _kind(value: Any) -> str:
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else "a scalar"


def extends_of(data: dict[str, Any]) -> list[str]:
    raw = data.get("extends")
    if raw is None:
        return []
    return [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else [raw]


def layer(path: Path, shown: str, parse: Any, read: Any, chain: tuple[Path, ...] = ()) -> Layered:
    """Resolve `path` and its bases. `parse(text, shown) -> (data, marks)`, `read(path, shown) -> text`."""
    resolved = path.resolve()
    data, marks = parse(read(path, shown), shown)
    if not isinstance(data, dict):
        raise SpecError.one(shown, "", "a stack spec is a mapping (apiVersion, kind, metadata, ...)", 1, 1)
    result = Layered({}, inputs=[])
    listed = isinstance(data.get("extends"), list)
    for i, entry in enumerate(extends_of(data)):
        line, col = marks.get(("extends", i) if listed else ("extends", "<value>"), (0, 0))
        if not isinstance(entry, str) or not entry or Path(entry).is_absolute():
            raise SpecError.one(shown, "extends", "each base is a relative path to a spec file", line, col)
        base_path = path.parent / entry
        if not base_path.is_file():
            raise SpecError.one(shown, f"extends[{i}]" if listed else "extends", f"base {entry} not found", line, col)
        if base_path.resolve() in (*chain, resolved):
            cycle = " -> ".join(p.name for p in (*chain, resolved, base_path.resolve()))
            raise SpecError.one(shown, f"extends[{i}]" if listed else "extends", f"extends cycle: {cycle}", line, col)
        base_shown = (Path(shown).parent / entry).as_posix()
        base = layer(base_path, base_shown, parse, read, (*chain, resolved))
        merge(result, base.data, base.marks, base_shown, ())
        # keep the base's own provenance, not the merge's placeholder
        for key in base.marks:
            result.marks[key] = base.marks[key]
            result.origin[key] = base.origin[key]
        result.inputs.extend(p for p in base.inputs if p not in result.inputs)
    own = {k: v for k, v in data.items() if k != "extends"}
    merge(result, own, marks, shown, ())
    result.inputs.append(resolved)
    return result


_FIRST_READ = 1 << 16
_KIND = re.compile(rb"^kind:[ \t]*([A-Za-z]+)[ \t]*(#.*)?$", re.MULTILINE)
_API = re.compile(rb"^apiVersion:[ \t]*[\"']?([A-Za-z0-9.-]+)/", re.MULTILINE)
API_GROUP = "llmd-compile"  # every spec, base and fleet says `apiVersion: llmd-compile/<version>`


def sniff(path: Path) -> tuple[str | None, str | None]:
    """The top-level apiVersion group and kind of a YAML file, without parsing it (directory expansion: skip what
    is not a spec, skip bases, find fleets)."""
    try:
        with open(path, "rb") as handle:  # bounded: `llmd-compile /dev/zero` must not read forever
            head = handle.read(_FIRST_READ)  # a spec's kind is near its top: no 1 MiB buffer per file
            match = _KIND.search(head)  # on bytes: the kind is ASCII, and decoding the file to find it is waste
            if len(head) == _FIRST_READ and (match is None or match.end() == len(head)):  # none, or cut short
                head += handle.read(_MAX_HEAD - _FIRST_READ)
                match = _KIND.search(head)
    except OSError:
        return None, None
    api = _API.search(head)
    return (api.group(1).decode("ascii") if api else None), (match.group(1).decode("ascii") if match else None)


def kind_of(path: Path) -> str | None:
    """The top-level kind of a YAML file, without parsing it (directory expansion: skip bases, find fleets)."""
    return sniff(path)[1]
