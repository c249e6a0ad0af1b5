"""Spec file -> Spec, or a SpecError listing every problem with `path:line:col`.

Reading the YAML (with a mark for every key and value) is spec/yamlread.py; here the data meets the models:
layering, validation, and pydantic's errors turned into located problems.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from llmd_compile.catalog.hardware import DTYPE_BYTES, facts_from_config
from llmd_compile.errors import Problem, SpecError
from llmd_compile.spec import messages
from llmd_compile.spec.layers import BASE_KIND, kind_of, layer
from llmd_compile.spec.models import ModelFactsSpec, Spec
from llmd_compile.spec.yamlread import MAX_BYTES, Loc, Marks, decode, dotted, parse, read_bounded

__all__ = ["MAX_BYTES", "Loc", "Marks", "kind_of", "parse", "read_bounded"]  # also what the loader is made of

def _locate(loc: Loc, marks: Marks, unknown_key: bool) -> tuple[int, int]:
    """The deepest node of `loc` that exists in the file (an unknown key: its own line)."""
    for cut in range(len(loc), -1, -1):
        head = loc[:cut]
        if head in marks:
            value = marks.get((*head, "<value>"))
            if cut == len(loc) and not unknown_key and value is not None:
                return value
            return marks[head]
    return (0, 0)


def _suggest(model: type[BaseModel], loc: Loc, key: str) -> str:
    """'did you mean' for an unknown key, from the fields of the model that owns it."""
    owner: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(owner, type) and issubclass(owner, BaseModel)):
            continue
        field = owner.model_fields.get(str(part))
        if field is None:
            return ""
        owner = _model_of(field.annotation)
    if isinstance(owner, type) and issubclass(owner, BaseModel):
        match = difflib.get_close_matches(key, list(owner.model_fields), n=1, cutoff=0.6)
        if match:
            return f"; did you mean {match[0]!r}?"
        return f"; expected one of: {', '.join(owner.model_fields)}"
    return ""


def _model_of(annotation: Any) -> Any:
    for candidate in _flatten(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _flatten(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _flatten(arg)


def problems_from(exc: ValidationError, marks: Marks, path: str, model: type[BaseModel] = Spec) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc: Loc = tuple(part for part in err["loc"] if not (isinstance(part, str) and "[" in part))
        unknown = err["type"] == "extra_forbidden"
        line, col = _locate(loc, marks, unknown)
        if unknown:
            message = "unknown field" + _suggest(model, loc, str(loc[-1]))
        elif err["type"] == "missing":
            message = "required field is missing"
        else:
            message = messages.message(err)
        problems.append(Problem(path, line, col, dotted(loc) or "(document)", message))
    return problems


def _undotted(field: str) -> Loc:
    loc: list[str | int] = []
    for part in re.split(r"\.(?![^\[]*\])", field):
        name, *indexes = part.split("[")
        if name:
            loc.append(name)
        loc.extend(int(i.rstrip("]")) for i in indexes if i.rstrip("]").isdigit())
    return tuple(loc)


undotted = _undotted


def _head(loc: Loc, marks: Marks) -> Loc:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in marks:
            return loc[:cut]
    return ()


def with_origin(problems: list[Problem], marks: Marks, origin: dict[Loc, str]) -> list[Problem]:
    """Point each problem at the file its field's value came from (layered specs)."""
    if not origin:
        return problems
    out = []
    for p in problems:
        source = origin.get(_head(_undotted(p.field), marks)) if p.field else None
        out.append(Problem(source, p.line, p.col, p.field, p.message) if source else p)
    return out


def locate_field(field: str, marks: Marks) -> tuple[int, int]:
    """Line and column of a dotted field path (its deepest part present in the file)."""
    return _locate(_undotted(field), marks, unknown_key=False) if marks else (0, 0)


def relocate(problems: list[Problem], marks: Marks) -> list[Problem]:
    """Give problems found after loading (field path, no line) the line of that field."""
    located = []
    for p in problems:
        if p.line == 0 and p.field and marks:
            line, col = _locate(_undotted(p.field), marks, unknown_key=False)
            p = Problem(p.path, line, col, p.field, p.message)
        located.append(p)
    return located


@dataclass(frozen=True)
class Loaded:
    spec: Spec
    marks: Marks
    raw: bytes  # every input file's bytes (the spec and its bases), for the manifest's inputs digest
    origin: dict[Loc, str] = field(default_factory=dict)  # layered specs: which file set each location
    inputs: tuple[Path, ...] = ()


def load_text_marked(text: str, path: str) -> tuple[Spec, Marks]:
    data, marks = parse(text, path)
    if not isinstance(data, dict):
        raise SpecError.one(path, "", "a stack spec is a mapping (apiVersion, kind, metadata, ...)", 1, 1)
    try:
        return Spec.model_validate(data), marks
    except ValidationError as exc:
        raise SpecError(problems_from(exc, marks, path)) from None


def load_text(text: str, path: str) -> Spec:
    return load_text_marked(text, path)[0]


def load_marked(path: Path, display: str | None = None) -> Loaded:
    shown = display or str(path)
    raw = read_bounded(path, shown)
    data, marks = parse(decode(raw, shown), shown)
    origin: dict[Loc, str] = {}
    inputs: tuple[Path, ...] = (path,)
    if isinstance(data, dict) and "extends" in data:
        layered = layer(path, shown, parse, lambda p, s: decode(read_bounded(p, s), s))
        data, marks, origin, inputs = layered.data, layered.marks, layered.origin, tuple(layered.inputs)
        # Relative names only: the digest is committed in the manifest and must not depend on the checkout path.
        here = path.resolve().parent
        raw = b"\0".join(Path(os.path.relpath(p, here)).as_posix().encode() + b"\0" + p.read_bytes()
                          for p in inputs)
    if not isinstance(data, dict):
        raise SpecError.one(shown, "", "a stack spec is a mapping (apiVersion, kind, metadata, ...)", 1, 1)
    if data.get("kind") == BASE_KIND:
        line, col = marks.get(("kind", "<value>"), (1, 1))
        raise SpecError.one(shown, "kind", "a StackBase is only meant to be extended; compile the specs that "
                            "extend it", line, col)
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(with_origin(problems_from(exc, marks, shown), marks, origin)) from None
    if spec.model.config and spec.model.facts is None:
        spec, config = _with_config_facts(spec, path.parent, shown, marks)
        # config.json is an input too: its digest joins the manifest's and the cache's (relative name, as above).
        inputs = (*inputs, config)
        raw += b"\0" + Path(os.path.relpath(config, path.resolve().parent)).as_posix().encode() + b"\0" + \
            config.read_bytes()
    return Loaded(spec, marks, raw, origin, inputs)


def _with_config_facts(spec: Spec, base: Path, shown: str, marks: Marks) -> tuple[Spec, Path]:
    """Read model.config (a local config.json) into model.facts, and say which file it was. Never fetches."""
    assert spec.model.config is not None
    target = base / spec.model.config
    line, col = _locate(("model", "config"), marks, unknown_key=False)
    try:
        # A regular file only: a FIFO would block the compile forever, a device would never end.
        if target.is_symlink() or not target.is_file() or target.stat().st_size > MAX_BYTES:
            raise SpecError.one(shown, "model.config", "must be a regular file under 1 MiB", line, col)
        config = json.loads(target.read_text(encoding="utf-8"))
        facts = facts_from_config(config)
    except OSError as exc:
        raise SpecError.one(shown, "model.config", f"cannot read {target}: {exc.strerror}", line, col) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise SpecError.one(shown, "model.config", f"not a usable config.json: {exc}", line, col) from None
    dtype = next((k for k, v in DTYPE_BYTES.items() if v == facts.bytes_per_param), "bfloat16")
    model_facts = ModelFactsSpec(parameters=facts.parameters, dtype=dtype,
                                 attentionHeads=facts.attention_heads, gated=False)
    return spec.model_copy(update={"model": spec.model.model_copy(update={"facts": model_facts})}), target


def load(path: Path, display: str | None = None) -> Spec:
    return load_marked(path, display).spec
