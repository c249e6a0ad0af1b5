"""A local, uncommitted record of what each spec last compiled to, so an unchanged stack is not recompiled.

`out/.llmd-compile-cache.json` (gitignored) maps a spec path to: the digest of llmd-compile's own code, and
every input file (the spec, its bases, its config.json) and output file with its digest, size and mtime.
A stack is fresh only if all of these still hold; a file whose size or mtime moved is hashed again. Without
the file (a fresh clone, CI) everything is compiled. This module imports nothing heavy on purpose: a no-op
run must not pay for pydantic or the emitters.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from llmd_compile import __version__

CACHE = ".llmd-compile-cache.json"
_PACKAGE = Path(__file__).resolve().parent


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tool_digest() -> str:
    """Digest of llmd-compile's code and version: any change to it invalidates every entry."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


# The file: {"tool": digest, "specs": {absolute spec path: {"stack": name,
#   "inputs": {absolute input path: [sha256, size, mtime_ns]}, "files": {relpath: [sha256, size, mtime_ns]}}}}


def load(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(out: Path, data: dict[str, Any]) -> None:
    target = out / CACHE
    if out.is_symlink() or target.is_symlink() or not out.is_dir() or not data.get("specs"):
        return
    tmp = out / f"{CACHE}.{os.getpid()}.tmp"  # two --check runs may save at once: each its own file
    tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")  # local: compact beats readable
    os.replace(tmp, target)


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


def fresh(data: dict[str, Any], tool: str, spec: Path, out: Path) -> str | None:
    """The stack name if `spec` is known, unchanged, and its outputs are intact; else None."""
    if data.get("tool") != tool:
        return None
    entry = data.get("specs", {}).get(str(spec.resolve()))
    if not isinstance(entry, dict):
        return None
    for path, known in entry.get("inputs", {}).items():
        if not _file_ok(path, known if isinstance(known, list) else [known, -1, -1]):
            return None
    stack_dir = out / str(entry.get("stack", ""))
    if not entry.get("files") or not stack_dir.is_dir() or stack_dir.is_symlink():
        return None
    base = os.fspath(stack_dir)
    for rel, record in entry["files"].items():
        if not _file_ok(f"{base}/{rel}", record):
            return None
    return str(entry["stack"])


def _stamp(path: Path) -> list[Any]:
    """[sha256, size, mtime_ns] of an input file, as for outputs (a size or mtime change means: hash again)."""
    data = path.read_bytes()
    st = path.stat()
    return [_sha(data), st.st_size, st.st_mtime_ns]


def record(data: dict[str, Any], tool: str, spec: Path, inputs: list[Path], out: Path, stack: str,
           files: dict[str, str], digests: dict[str, str] | None = None) -> None:
    """Remember what `spec` compiled to, as it now stands on disk (call after writing or a clean check)."""
    if data.get("tool") != tool:
        data.clear()
        data["tool"] = tool
    stack_dir = os.fspath(out / stack)
    digests = digests or {}  # what the manifest lists: every file but itself
    outputs: dict[str, list[Any]] = {}
    for rel, text in files.items():
        st = os.stat(f"{stack_dir}/{rel}")
        outputs[rel] = [digests.get(rel) or _sha(text.encode()), st.st_size, st.st_mtime_ns]
    data.setdefault("specs", {})[str(spec.resolve())] = {
        "stack": stack,
        "inputs": {str(p.resolve()): _stamp(p) for p in inputs},
        "files": outputs,
    }
