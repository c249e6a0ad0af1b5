"""Edits to a spec's text at the positions ruamel's round-trip loader gives, so every line not edited stays byte for
byte (ruamel's own dumper reflows multi-line flow lists and rewrites `null`: 7 of the 367 spec files in this
repository did not survive a load/dump unchanged). Comments on a removed line are kept as comment lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

Path_ = tuple[str | int, ...]


def load(text: str) -> Any:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml.load(text)


def node_at(doc: Any, path: Path_) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def has(doc: Any, path: Path_) -> bool:
    try:
        node_at(doc, path)
        return True
    except (KeyError, IndexError, TypeError):
        return False


def _token_end(line: str, col: int, flow: bool) -> int:
    """End column of the scalar token starting at col (quoted, or plain up to a comment, or , ] } in flow)."""
    if col < len(line) and line[col] in "\"'":
        quote = line[col]
        i = col + 1
        while i < len(line):
            if line[i] == quote and not (quote == "'" and line[i + 1:i + 2] == "'"):
                return i + 1
            i += 2 if (quote == '"' and line[i] == "\\") or (quote == "'" and line[i:i + 2] == "''") else 1
        return len(line)
    stop = re.compile(r"\s+#|[,\]}]" if flow else r"\s+#")
    found = stop.search(line, col)
    end = found.start() if found else len(line)
    return len(line[:end].rstrip())


@dataclass
class Editor:
    text: str
    doc: Any = None
    lines: list[str] = field(default_factory=list)
    spans: list[tuple[int, int, int, int, str]] = field(default_factory=list)  # (l0, c0, l1, c1, new)

    def __post_init__(self) -> None:
        self.doc = load(self.text)
        self.lines = self.text.splitlines(keepends=True)

    def _value_pos(self, path: Path_) -> tuple[int, int, bool]:
        parent = node_at(self.doc, path[:-1])
        key = path[-1]
        if isinstance(parent, CommentedSeq):
            line, col = parent.lc.item(key)
            return line, col, bool(parent.fa.flow_style())
        assert isinstance(parent, CommentedMap)
        line, col = parent.lc.value(key)
        return line, col, bool(parent.fa.flow_style())

    def scalar(self, path: Path_) -> str:
        line, col, flow = self._value_pos(path)
        text = self.lines[line]
        return text[col:_token_end(text.rstrip("\n"), col, flow)]

    def replace(self, path: Path_, new: str) -> None:
        """Replace a scalar value (a map value or a list item) with new YAML text."""
        line, col, flow = self._value_pos(path)
        end = _token_end(self.lines[line].rstrip("\n"), col, flow)
        self.spans.append((line, col, line, end, new))

    def _block_end(self, line: int, indent: int) -> int:
        """First line after the block that starts at `line` (its deeper-indented lines and comments)."""
        end = line + 1
        last = line + 1
        while end < len(self.lines):
            row = self.lines[end]
            stripped = row.strip()
            if stripped and len(row) - len(row.lstrip(" ")) <= indent:
                break
            end += 1
            if stripped:
                last = end
        return last

    def delete(self, path: Path_) -> None:
        """Remove a key of a block mapping with its value; a comment on its lines stays, as a comment line."""
        parent = node_at(self.doc, path[:-1])
        assert isinstance(parent, CommentedMap) and not parent.fa.flow_style(), "only block mappings"
        line, col = parent.lc.key(path[-1])
        end = self._block_end(line, col)
        kept = []
        for row in self.lines[line:end]:
            match = re.search(r"(?:^|\s)(#.*)$", row.rstrip("\n"))
            if match and not _in_quotes(row, match.start(1)):
                kept.append(" " * col + match.group(1) + "\n")
        self.spans.append((line, 0, end, 0, "".join(kept)))

    def insert_after(self, path: Path_, text: str) -> None:
        """Insert lines (at the key's indentation) after the block of a key."""
        parent = node_at(self.doc, path[:-1])
        line, col = parent.lc.key(path[-1])
        end = self._block_end(line, col)
        self.spans.append((end, 0, end, 0, "".join(" " * col + row + "\n" for row in text.splitlines())))

    def insert_item_after(self, path: Path_, text: str) -> None:
        """Insert a block-list item (YAML text at column 0, starting with `- `) after item `path` of a block list."""
        seq = node_at(self.doc, path[:-1])
        assert isinstance(seq, CommentedSeq) and not seq.fa.flow_style(), "only block lists"
        line, _ = seq.lc.item(path[-1])
        row = self.lines[line]
        dash = len(row) - len(row.lstrip(" "))
        end = self._block_end(line, dash)
        self.spans.append((end, 0, end, 0, "".join(" " * dash + part + "\n" for part in text.splitlines())))

    def result(self) -> str:
        lines = list(self.lines)
        text = "".join(lines)
        offsets = [0]
        for row in lines:
            offsets.append(offsets[-1] + len(row))

        def at(line: int, col: int) -> int:
            return offsets[line] + col if line < len(lines) else len(text)

        for l0, c0, l1, c1, new in sorted(self.spans, key=lambda s: (s[0], s[1], s[2], s[3]), reverse=True):
            text = text[:at(l0, c0)] + new + text[at(l1, c1):]
        return text


def _in_quotes(row: str, index: int) -> bool:
    before = row[:index]
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1
