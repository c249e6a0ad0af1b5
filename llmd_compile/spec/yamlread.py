"""YAML text -> plain data and a mark (line, column) for every key and value, or a located SpecError.

The C parser's events are turned into plain data by our own builder (no composing), and what a stack spec never
needs is refused: anchors/aliases (alias bombs), merge keys, custom tags, duplicate keys, absurd nesting, more than
one document, control characters, files over 1 MiB. Used for specs, fleets and our own manifests in out/.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from llmd_compile.errors import SpecError

MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_NODES = 10_000  # a stack spec has a few hundred; this bounds the work a hostile file can cause
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_STD_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")  # C0 controls but tab, LF, CR; DEL; BOM
Loc = tuple[str | int, ...]
Marks = dict[Loc, tuple[int, int]]


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.allow_duplicate_keys = True  # we report duplicates ourselves, with both lines
    return yaml


def _too_big(path: str, size: int | None) -> SpecError:
    what = f"{size} bytes" if size is not None else f"more than {MAX_BYTES} bytes"
    return SpecError.one(path, "", f"file is {what}; a stack spec is at most {MAX_BYTES}", 1, 1)


def read_bounded(path: Path, shown: str) -> bytes:
    """A file's bytes, never more than MAX_BYTES + 1 of them (a 20 GB file or /dev/zero is refused, not read)."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size if stat.S_ISREG(os.fstat(handle.fileno()).st_mode) else None
            if size is not None and size > MAX_BYTES:
                raise _too_big(shown, size)
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError.one(shown, "", f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise _too_big(shown, size)
    return data


def decode(data: bytes, path: str) -> str:
    if len(data) > MAX_BYTES:
        raise _too_big(path, len(data))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError.one(path, "", "not valid UTF-8", line, col) from None
    bad = _CONTROL.search(text)
    if bad:
        at = bad.start()
        line, col = text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
        raise SpecError.one(path, "", f"control character U+{ord(bad.group()):04X} is not allowed", line, col)
    return text


def _scalar(node: ScalarNode, yaml: YAML, path: str, field: str) -> Any:
    # Resolve the scalar the way the safe loader does (YAML 1.2 core schema).
    try:
        return yaml.constructor.construct_object(node, deep=True)
    except (ValueError, TypeError, ArithmeticError) as exc:  # `!!int abc`, `!!float x`
        kind = str(node.tag).rpartition(":")[2]
        raise SpecError.one(path, field, f"{node.value!r} is not a valid {kind} ({exc})",
                            node.start_mark.line + 1, node.start_mark.column + 1) from None


def _walk(node: Node, loc: Loc, marks: Marks, seen: set[int], yaml: YAML, path: str) -> Any:
    mark = (node.start_mark.line + 1, node.start_mark.column + 1)
    field = dotted(loc)
    if len(loc) > MAX_DEPTH:
        raise SpecError.one(path, field, f"nested deeper than {MAX_DEPTH} levels", *mark)
    if id(node) in seen or getattr(node, "anchor", None):
        raise SpecError.one(path, field, "anchors and aliases are not allowed in a stack spec", *mark)
    seen.add(id(node))
    if node.tag == _TIMESTAMP and isinstance(node, ScalarNode) and not node.style:
        raise SpecError.one(path, field, f"{node.value} reads as a date in YAML; quote it (\"{node.value}\")", *mark)
    if node.tag not in _STD_TAGS:
        raise SpecError.one(path, field, f"tag {node.tag!r} is not allowed", *mark)
    marks.setdefault(loc, mark)
    if isinstance(node, ScalarNode):
        return _scalar(node, yaml, path, field)
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
        key = _scalar(key_node, yaml, path, field)
        if not isinstance(key, str):
            raise SpecError.one(path, field, f"key {key_node.value!r} must be a string (quote it)", *kmark)
        if key in out:
            first = marks[(*loc, key)]
            raise SpecError.one(path, dotted((*loc, key)), f"duplicate key (first at line {first[0]})", *kmark)
        marks[(*loc, key)] = kmark
        out[key] = _walk(value_node, (*loc, key), marks, seen, yaml, path)
        if isinstance(value_node, ScalarNode) or value_node.flow_style:
            # Point at a scalar (or flow collection) itself; a block mapping/list at its key.
            marks[(*loc, key, "<value>")] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
    return out


def composed(text: str, path: str, marks: Marks) -> Any:
    """The reference reading: compose nodes, then `_walk` them (only after `_prescan` accepted the text).

    `parse` builds the same data and marks straight from the parser's events, which is about twice as fast;
    it uses this for documents with a `%YAML` directive, and the tests compare the two on every corpus."""
    return _walk(next(iter(_yaml().compose_all(text))), (), marks, set(), _yaml(), path)


def dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _prescan(text: str, path: str, yaml: YAML) -> list[Any]:
    """Refuse anchors/aliases, deep nesting, extra documents and absurd node counts; return the events.

    Nothing here composes: composing recurses once per nesting level (the C composer on the C stack:
    100 000 nested `[` in a 200 kB file kill the process with SIGSEGV), so nothing deeper than MAX_DEPTH
    may reach a composer. The field of a problem is worked out only when there is one.
    """
    events: list[Any] = []
    parts: list[Any] = []  # per open collection: [is_mapping, part, at_key]
    documents = nodes = 0
    for event in yaml.parse(text):
        events.append(event)
        kind = type(event)
        if kind is ScalarEvent or kind is MappingStartEvent or kind is SequenceStartEvent or kind is AliasEvent:
            nodes += 1
            top = parts[-1] if parts else None
            if top is not None and top[0] and top[2]:
                top[1] = event.value if kind is ScalarEvent else "?"
            if kind is AliasEvent or event.anchor or len(parts) > MAX_DEPTH or nodes > MAX_NODES:
                _refuse(event, parts, nodes, path)
            if kind is ScalarEvent:
                if top is not None:
                    if top[0]:
                        top[2] = not top[2]
                    else:
                        top[1] += 1
            else:
                parts.append([kind is MappingStartEvent, "?" if kind is MappingStartEvent else 0, True])
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            parts.pop()
            if parts:
                top = parts[-1]
                if top[0]:
                    top[2] = not top[2]
                else:
                    top[1] += 1
        elif kind is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise SpecError.one(path, "", "expected exactly one YAML document; found a second one here",
                                    event.start_mark.line + 1, event.start_mark.column + 1)
    return events


def _refuse(event: Any, parts: list[Any], nodes: int, path: str) -> None:
    mark = (event.start_mark.line + 1, event.start_mark.column + 1)
    if nodes > MAX_NODES:
        raise SpecError.one(path, "", f"more than {MAX_NODES} YAML nodes; a stack spec has a few hundred", *mark)
    field = dotted(tuple(frame[1] for frame in parts))
    if isinstance(event, AliasEvent) or event.anchor:
        raise SpecError.one(path, field, "anchors and aliases are not allowed in a stack spec", *mark)
    raise SpecError.one(path, field, f"nested deeper than {MAX_DEPTH} levels", *mark)


_SIMPLE_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                          "tag:yaml.org,2002:null"})


@functools.cache
def _shared() -> YAML:
    """One YAML object for this process: each parse() makes its own parser from it, and resolving or constructing
    a single scalar is pure (making a YAML() costs ~0.2 ms: it looks for plug-ins on disk)."""
    return _yaml()


@functools.lru_cache(maxsize=8192)
def _implicit(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag YAML 1.2 gives an untagged scalar (the resolver the composer would use; pure, so memoized)."""
    return str(_shared().resolver.resolve(ScalarNode, value, implicit))


@functools.lru_cache(maxsize=8192)
def _simple(tag: str, value: str) -> Any:
    """An int/float/bool/null scalar, constructed as the safe constructor does (immutable results only)."""
    return _shared().constructor.construct_object(ScalarNode(tag, value), deep=True)


class _Builder:
    """Plain data and marks from the event list `_prescan` returned (what composing and `_walk` give)."""

    def __init__(self, events: list[Any], yaml: YAML, path: str, marks: Marks) -> None:
        self.events, self.yaml, self.path, self.marks = events, yaml, path, marks
        self.at = 0

    def _tag(self, event: Any) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            if type(event) is ScalarEvent:
                return _implicit(event.value, event.implicit)
            return _MAP if type(event) is MappingStartEvent else _SEQ
        return str(tag)

    def _scalar(self, event: Any, tag: str, field: str) -> Any:
        if tag == _STR:
            return event.value
        try:
            if tag in _SIMPLE_TAGS:
                return _simple(tag, event.value)
            node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            return self.yaml.constructor.construct_object(node, deep=True)
        except (ValueError, TypeError, ArithmeticError) as exc:  # `!!int abc`, `!!float x`
            kind = tag.rpartition(":")[2]
            raise SpecError.one(self.path, field, f"{event.value!r} is not a valid {kind} ({exc})",
                                event.start_mark.line + 1, event.start_mark.column + 1) from None

    def node(self, loc: Loc) -> Any:
        event = self.events[self.at]
        self.at += 1
        mark = (event.start_mark.line + 1, event.start_mark.column + 1)
        tag = self._tag(event)
        kind = type(event)
        if (tag == _TIMESTAMP and kind is ScalarEvent and not event.style) or tag not in _STD_TAGS:
            field = dotted(loc)
            if tag == _TIMESTAMP and kind is ScalarEvent and not event.style:
                raise SpecError.one(self.path, field, f"{event.value} reads as a date in YAML; quote it "
                                    f"(\"{event.value}\")", *mark)
            raise SpecError.one(self.path, field, f"tag {tag!r} is not allowed", *mark)
        marks = self.marks
        marks.setdefault(loc, mark)
        if kind is ScalarEvent:
            return self._scalar(event, tag, dotted(loc)) if tag != _STR else event.value
        events = self.events
        if kind is SequenceStartEvent:
            items: list[Any] = []
            while type(events[self.at]) is not SequenceEndEvent:
                items.append(self.node((*loc, len(items))))
            self.at += 1
            return items
        out: dict[str, Any] = {}
        while type(events[self.at]) is not MappingEndEvent:
            key_event = events[self.at]
            self.at += 1
            kmark = (key_event.start_mark.line + 1, key_event.start_mark.column + 1)
            key_tag = self._tag(key_event)
            if key_tag == _MERGE:
                raise SpecError.one(self.path, dotted(loc), "merge keys (<<) are not allowed; use extends: "
                                    "instead", *kmark)
            if type(key_event) is not ScalarEvent:
                raise SpecError.one(self.path, dotted(loc), "keys must be plain strings", *kmark)
            key = self._scalar(key_event, key_tag, dotted(loc))
            if not isinstance(key, str):
                raise SpecError.one(self.path, dotted(loc), f"key {key_event.value!r} must be a string (quote it)",
                                    *kmark)
            here = (*loc, key)
            if key in out:
                raise SpecError.one(self.path, dotted(here), f"duplicate key (first at line {marks[here][0]})",
                                    *kmark)
            marks[here] = kmark
            value_event = events[self.at]
            out[key] = self.node(here)
            if type(value_event) is ScalarEvent or value_event.flow_style:
                # Point at a scalar (or flow collection) itself; a block mapping/list at its key.
                marks[(*here, "<value>")] = (value_event.start_mark.line + 1, value_event.start_mark.column + 1)
        self.at += 1
        return out


def _syntax(exc: MarkedYAMLError) -> str:
    """The parser's problem, and where the construct it was reading started (an unclosed quote: its line)."""
    context, where, at = exc.context, exc.context_mark, exc.problem_mark
    if not exc.problem or not context or where is None or (at and (where.line, where.column) == (at.line, at.column)):
        return str(exc.problem or context)
    return f"{exc.problem} ({context} at line {where.line + 1}, column {where.column + 1})"


def parse(text: str, path: str) -> tuple[Any, Marks]:
    """YAML text -> (plain data, marks by location)."""
    text = str(text)  # the C parser takes an exact str only (yamlio's text subclass included)
    yaml = _shared()  # parse() makes a new parser per call: the YAML object itself is reusable
    try:
        events = _prescan(text, path, yaml)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        said = _syntax(exc)
        lines = text.split("\n")
        if 0 < line <= len(lines) and "\t" in lines[line - 1][: max(col, 1)]:  # a tab where indentation goes
            said = "a tab character; YAML indents with spaces only (replace each tab with spaces)"
        raise SpecError.one(path, "", f"YAML syntax: {said}", line, col) from None
    except (YAMLError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError.one(path, "", f"YAML syntax: {first}", 1, 1) from None
    start = next((i for i, event in enumerate(events) if type(event) is DocumentStartEvent), None)
    if start is None:
        raise SpecError.one(path, "", "expected exactly one YAML document; found none", 1, 1)
    marks: Marks = {}
    try:
        if events[start].version is not None:  # `%YAML 1.1`: let the composer resolve scalars for that version
            data = composed(text, path, marks)
        else:
            builder = _Builder(events, yaml, path, marks)
            builder.at = start + 1
            data = builder.node(())
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecError.one(path, "", f"YAML: {exc.problem or exc.context}", line, col) from None
    except YAMLError as exc:
        raise SpecError.one(path, "", f"YAML: {str(exc).splitlines()[0]}", 1, 1) from None
    return data, marks
