"""A local, uncommitted record of what each spec last compiled to, so an unchanged stack is not recompiled.

`out/.llmd-compile-cache` (gitignored) holds, per spec: the digest of llmd-compile's own code, and every input
file (the spec, its bases, its config.json) and output file with its digest, size and mtime. A stack is fresh
only if all of these still hold; a file whose size or mtime moved is hashed again. Without the file (a fresh
clone, CI) everything is compiled. This module imports nothing heavy on purpose: a no-op run must not pay for
pydantic or the emitters.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

from llmd_compile import __version__
from llmd_compile.errors import Diagnostic

CACHE = ".llmd-compile-cache"
_FORMER = ".llmd-compile-cache.json"  # 0.1's single JSON document: never read, removed by the next save
_PACKAGE = Path(__file__).resolve().parent

# The file: a first line with the tool digest (a JSON string), then a line per spec of six JSON texts joined by
# tabs (JSON never holds a raw tab): the spec's absolute path, its stack's name, {input path: [sha256, size,
# mtime_ns]}, [the spec as shown in messages, [[every diagnostic's fields]...]], {output relpath: [sha256,
# size, mtime_ns]} and what the checks of stacks against each other read of those outputs (crossstack.summary:
# `null` when not router-shaped; empty: unknown, read from out/). A run parses only what it checks (the inputs of
# every spec before the outputs of any), and a save writes the lines of specs it did not compile back as read.
#
# The diagnostics are what the compile printed (warnings) or would promote (--strict): a run answered from the
# cache prints them again, and a --strict run compiles a stack that has warnings, so every verdict and message is
# the one a fresh clone gets (tests/unit/test_cache_verdicts.py).


@dataclass
class Memo:
    tool: str = ""
    lines: dict[str, str] = field(default_factory=dict)  # spec key -> the rest of its line


@dataclass(frozen=True)
class Entry:
    """An unchanged spec's record: its stack, the diagnostics its compile found, and the still unparsed outputs."""

    stack: str
    files: str
    diagnostics: tuple[Diagnostic, ...] = ()
    crossstack: str = ""  # crossstack.summary of the outputs (valid once `intact` holds); "": not recorded


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tool_digest() -> str:
    """Digest of llmd-compile's code and version: any change to it invalidates every entry."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _key(spec: Path) -> str:
    return os.path.abspath(spec)


def load(out: Path) -> Memo:
    try:
        text = (out / CACHE).read_text(encoding="utf-8")
        head, _, body = text.partition("\n")
        tool = json.loads(head)
        lines = {}
        for line in body.split("\n"):
            key, tab, rest = line.partition("\t")
            if tab:
                lines[json.loads(key)] = rest
    except (OSError, ValueError):
        return Memo()
    return Memo(tool, lines) if isinstance(tool, str) else Memo()


def save(out: Path, memo: Memo) -> None:
    target = out / CACHE
    if out.is_symlink() or target.is_symlink() or not out.is_dir() or not memo.lines:
        return
    tmp = out / f"{CACHE}.{os.getpid()}.tmp"  # two --check runs may save at once: each its own file
    body = "".join(f"{json.dumps(key)}\t{rest}\n" for key, rest in memo.lines.items())
    tmp.write_text(json.dumps(memo.tool) + "\n" + body, encoding="utf-8")
    os.replace(tmp, target)
    with contextlib.suppress(OSError):
        if not (out / _FORMER).is_symlink():
            (out / _FORMER).unlink()


def _file_ok(path: str, record: list[Any]) -> bool:
    try:
        st = os.lstat(path)  # one call: a symlink is never fresh, and a regular file gives size and mtime
        if not stat.S_ISREG(st.st_mode):
            return False
        if st.st_size == record[1] and st.st_mtime_ns == record[2]:
            return True
        with open(path, "rb") as handle:
            return bool(_sha(handle.read()) == record[0])
    except OSError:
        return False


def _records(text: str) -> dict[str, list[Any]]:
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(r, list) and len(r) == 3 for r in data.values()):
        raise ValueError("not a record of files")
    return data


def _diagnostics(text: str, source: str) -> tuple[Diagnostic, ...] | None:
    """The recorded diagnostics, if they were recorded for the spec as it is shown now."""
    shown, found = json.loads(text)
    if shown != source:  # another working directory or --out: messages and headers name the spec otherwise
        return None
    return tuple(Diagnostic(*fields) for fields in found)


def unchanged(memo: Memo, tool: str, spec: Path, source: str, strict: bool = False) -> Entry | None:
    """The record of `spec` (shown as `source`) if it is known and neither it nor any other input (bases,
    config.json) moved; under `strict`, only if its compile found no warning (those fail it: compile again, so
    the messages are the compiler's)."""
    rest = memo.lines.get(_key(spec)) if memo.tool == tool else None
    if rest is None:
        return None
    try:
        stack_json, inputs_json, diagnostics_json, files, crossstack = rest.split("\t")
        stack = json.loads(stack_json)
        inputs = _records(inputs_json)
        diagnostics = _diagnostics(diagnostics_json, source)
    except (ValueError, TypeError):
        return None
    if diagnostics is None or (strict and any(d.severity != "info" for d in diagnostics)):
        return None
    if not isinstance(stack, str) or not all(_file_ok(path, known) for path, known in inputs.items()):
        return None
    return Entry(stack, files, diagnostics, crossstack)


def intact(entry: Entry, out: Path) -> str | None:
    """The stack name of an unchanged spec's record if every output file is still as written; else None."""
    stack_dir = out / entry.stack
    try:
        files = _records(entry.files)
    except ValueError:
        return None
    if not files or not entry.stack or not stack_dir.is_dir() or stack_dir.is_symlink():
        return None
    base = os.fspath(stack_dir)
    for rel, record in files.items():
        if not _file_ok(f"{base}/{rel}", record):
            return None
    return entry.stack


def _stamp(path: Path) -> list[Any]:
    """[sha256, size, mtime_ns] of an input file, as for outputs (a size or mtime change means: hash again)."""
    data = path.read_bytes()
    st = path.stat()
    return [_sha(data), st.st_size, st.st_mtime_ns]


def record(memo: Memo, tool: str, spec: Path, inputs: list[Path], out: Path, stack: str,
           files: dict[str, str], digests: dict[str, str] | None = None,
           written: Mapping[str, tuple[int, int]] | None = None, source: str = "",
           diagnostics: tuple[Diagnostic, ...] = (), crossstack: str = "") -> None:
    """Remember what `spec` (shown as `source`) compiled to, as it now stands on disk, and what its compile
    reported (call after writing or a clean check). `written`: (size, mtime_ns) of the files this run wrote; the
    others are looked up. `crossstack`: crossstack.summary of `files`."""
    if memo.tool != tool:
        memo.lines.clear()
        memo.tool = tool
    stack_dir = os.fspath(out / stack)
    digests = digests or {}  # what the manifest lists: every file but itself
    outputs: dict[str, list[Any]] = {}
    written = written or {}
    for rel, text in files.items():
        if rel in written:
            size, mtime_ns = written[rel]
        else:
            st = os.stat(f"{stack_dir}/{rel}")
            size, mtime_ns = st.st_size, st.st_mtime_ns
        outputs[rel] = [digests.get(rel) or _sha(text.encode()), size, mtime_ns]
    compact = (",", ":")
    inputs_json = json.dumps({str(p.resolve()): _stamp(p) for p in inputs}, separators=compact)
    found = json.dumps([source, [astuple(d) for d in diagnostics]], separators=compact)
    memo.lines[_key(spec)] = (f"{json.dumps(stack)}\t{inputs_json}\t{found}\t"
                              f"{json.dumps(outputs, separators=compact)}\t{crossstack}")
