"""Spec file -> Spec, or a SpecError listing every problem with `path:line:col`.

The YAML is composed into nodes (C parser when available) and turned into plain data by our
own walk, so we keep a mark for every key and value, and refuse what a stack spec never needs:
anchors/aliases (alias bombs), merge keys, custom tags, duplicate keys, absurd nesting.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from llmd_compile.catalog.hardware import DTYPE_BYTES, facts_from_config
from llmd_compile.errors import Problem, SpecError
from llmd_compile.spec.models import ModelFactsSpec, Spec

MAX_BYTES = 1 << 20
MAX_DEPTH = 32
_STD_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
Loc = tuple[str | int, ...]
Marks = dict[Loc, tuple[int, int]]


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.allow_duplicate_keys = True  # we report duplicates ourselves, with both lines
    return yaml


def _decode(data: bytes, path: str) -> str:
    if len(data) > MAX_BYTES:
        raise SpecError.one(path, "", f"file is {len(data)} bytes; a stack spec is at most {MAX_BYTES}")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError.one(path, "", "not valid UTF-8", line, col) from None
    for number, row in enumerate(text.split("\n"), start=1):
        for col, ch in enumerate(row, start=1):
            if (ord(ch) < 32 and ch not in "\t\r") or ch in "\x7f\ufeff":
                raise SpecError.one(path, "", f"control character U+{ord(ch):04X} is not allowed", number, col)
    return text


def _scalar(node: ScalarNode, yaml: YAML) -> Any:
    # Resolve the scalar the way the safe loader does (YAML 1.2 core schema).
    return yaml.constructor.construct_object(node, deep=True)


def _walk(node: Node, loc: Loc, marks: Marks, seen: set[int], yaml: YAML, path: str) -> Any:
    mark = (node.start_mark.line + 1, node.start_mark.column + 1)
    field = _dotted(loc)
    if len(loc) > MAX_DEPTH:
        raise SpecError.one(path, field, f"nested deeper than {MAX_DEPTH} levels", *mark)
    if id(node) in seen or getattr(node, "anchor", None):
        raise SpecError.one(path, field, "anchors and aliases are not allowed in a stack spec", *mark)
    seen.add(id(node))
    if node.tag not in _STD_TAGS:
        raise SpecError.one(path, field, f"tag {node.tag!r} is not allowed", *mark)
    marks.setdefault(loc, mark)
    if isinstance(node, ScalarNode):
        return _scalar(node, yaml)
    if isinstance(node, SequenceNode):
        return [_walk(item, (*loc, i), marks, seen, yaml, path) for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        kmark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise SpecError.one(path, field, "merge keys (<<) are not allowed; use extends: instead", *kmark)
        if not isinstance(key_node, ScalarNode):
            raise SpecError.one(path, field, "keys must be plain strings", *kmark)
        key = _scalar(key_node, yaml)
        if not isinstance(key, str):
            raise SpecError.one(path, field, f"key {key_node.value!r} must be a string (quote it)", *kmark)
        if key in out:
            first = marks[(*loc, key)]
            raise SpecError.one(path, _dotted((*loc, key)), f"duplicate key (first at line {first[0]})", *kmark)
        marks[(*loc, key)] = kmark
        out[key] = _walk(value_node, (*loc, key), marks, seen, yaml, path)
        if isinstance(value_node, ScalarNode) or value_node.flow_style:
            # Point at a scalar (or flow collection) itself; a block mapping/list at its key.
            marks[(*loc, key, "<value>")] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
    return out


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse(text: str, path: str) -> tuple[Any, Marks]:
    """YAML text -> (plain data, marks by location)."""
    yaml = _yaml()
    try:
        nodes = list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise SpecError.one(path, "", f"YAML syntax: {exc.problem or exc.context}", line, col) from None
    except (YAMLError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError.one(path, "", f"YAML syntax: {first}") from None
    if len(nodes) != 1 or nodes[0] is None:
        raise SpecError.one(path, "", "expected exactly one YAML document")
    marks: Marks = {}
    try:
        data = _walk(nodes[0], (), marks, set(), yaml, path)
    except RecursionError:
        raise SpecError.one(path, "", f"nested deeper than {MAX_DEPTH} levels") from None
    except YAMLError as exc:
        raise SpecError.one(path, "", f"YAML: {str(exc).splitlines()[0]}") from None
    return data, marks


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
        message = err["msg"]
        if unknown:
            message = "unknown field" + _suggest(model, loc, str(loc[-1]))
        elif err["type"] == "missing":
            message = "required field is missing"
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        problems.append(Problem(path, line, col, _dotted(loc) or "(document)", message))
    return problems


def _undotted(field: str) -> Loc:
    loc: list[str | int] = []
    for part in re.split(r"\.(?![^\[]*\])", field):
        name, *indexes = part.split("[")
        if name:
            loc.append(name)
        loc.extend(int(i.rstrip("]")) for i in indexes if i.rstrip("]").isdigit())
    return tuple(loc)


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
    raw: bytes


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
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError.one(shown, "", f"cannot read: {exc.strerror or exc}") from None
    spec, marks = load_text_marked(_decode(data, shown), shown)
    if spec.model.config and spec.model.facts is None:
        spec = _with_config_facts(spec, path.parent, shown, marks)
    return Loaded(spec, marks, data)


def _with_config_facts(spec: Spec, base: Path, shown: str, marks: Marks) -> Spec:
    """Read model.config (a local config.json) into model.facts. Never fetches anything."""
    assert spec.model.config is not None
    target = base / spec.model.config
    line, col = _locate(("model", "config"), marks, unknown_key=False)
    try:
        if target.is_symlink() or target.stat().st_size > MAX_BYTES:
            raise SpecError.one(shown, "model.config", "must be a regular file under 1 MiB", line, col)
        config = json.loads(target.read_text(encoding="utf-8"))
        facts = facts_from_config(config)
    except OSError as exc:
        raise SpecError.one(shown, "model.config", f"cannot read {target}: {exc.strerror}", line, col) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise SpecError.one(shown, "model.config", f"not a usable config.json: {exc}", line, col) from None
    dtype = next((k for k, v in DTYPE_BYTES.items() if v == facts.bytes_per_param), "bfloat16")
    model_facts = ModelFactsSpec(parameters=facts.parameters, dtype=dtype,  # type: ignore[arg-type]
                                 attentionHeads=facts.attention_heads, gated=False)
    return spec.model_copy(update={"model": spec.model.model_copy(update={"facts": model_facts})})


def load(path: Path, display: str | None = None) -> Spec:
    return load_marked(path, display).spec
