"""Reading out/ back: is each stack directory a complete tree, and which one (old or new)?

A tree is complete when its file set is exactly the ownership manifest's list (plus the user's own files)
and every file's sha256 is the one the manifest records; `inputsSha256` then says which spec produced it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from llmd_compile.compile import MANIFEST

from . import harness

LEFTOVER = re.compile(r"^\.[a-z0-9-]+\.(new|old)$")


def files_of(stack_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(stack_dir).as_posix(): p.read_bytes()
            for p in sorted(stack_dir.rglob("*")) if p.is_file() and not p.is_symlink()}


def complete(tree: dict[str, bytes], user_files: frozenset[str] = frozenset()) -> str | None:
    """The inputsSha256 of a complete tree, or None if anything is missing, extra or altered."""
    if MANIFEST not in tree:
        return None
    manifest = harness.yaml12(tree[MANIFEST].decode())[0]
    listed = manifest.get("files") or {}
    if set(tree) != {MANIFEST, *listed, *user_files}:
        return None
    if any(hashlib.sha256(tree[rel]).hexdigest() != digest for rel, digest in listed.items()):
        return None
    return str(manifest["inputsSha256"])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def classify(out: Path, name: str, old: dict[str, bytes] | None, new_input: str,
             user_files: frozenset[str] = frozenset()) -> str:
    """'old' (byte-identical to the tree before), 'new' (complete, from the new spec), 'absent' (never
    existed and still does not), or 'BROKEN: why'."""
    stack_dir = out / name
    if not stack_dir.exists():
        return "absent" if old is None else "BROKEN: stack directory missing"
    tree = files_of(stack_dir)
    got = complete(tree, user_files)
    if got == new_input:
        return "new"
    if old is not None and tree == old:
        return "old"
    return f"BROKEN: {'incomplete or altered' if got is None else 'complete tree of an unexpected spec'}"


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if LEFTOVER.match(p.name))
