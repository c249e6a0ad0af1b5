"""The only module that writes: ownership manifest, lock, atomic stack swap, prune, check, diff.

A stack directory is replaced as a whole (build beside it, then swap), so a crash leaves either
the complete old tree or the complete new tree. Files in it that we never produced are carried
over untouched; files we produced before and no longer produce are pruned. Symlinks are refused.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import errno
import fcntl
import hashlib
import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from llmd_compile import yamlio
from llmd_compile.errors import SpecError
from llmd_compile.headers import MANIFEST, header

LOCK = ".llmd-compile.lock"
_RENAME_EXCHANGE = 2


def digest(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def manifest_text(source: str, inputs_digest: str, files: dict[str, str]) -> str:
    body = {
        "spec": source,
        "inputsSha256": inputs_digest,
        "files": {path: digest(text) for path, text in sorted(files.items())},
    }
    return yamlio.dump(body, header=header(source))


def with_manifest(source: str, inputs_digest: str, files: dict[str, str]) -> dict[str, str]:
    return {**files, MANIFEST: manifest_text(source, inputs_digest, files)}


def owned(stack_dir: Path) -> set[str]:
    """Paths the previous compile produced (from its manifest), manifest included."""
    from llmd_compile.spec.yamlread import parse, read_bounded  # lazy: a no-op run never needs the parser

    path = stack_dir / MANIFEST
    if _linked(stack_dir, MANIFEST) or not path.is_file():
        return set()
    try:
        # out/ is committed: a manifest may be hostile (a 300 000-deep list crashed the C composer).
        data, _ = parse(read_bounded(path, str(path)).decode("utf-8"), str(path))
    except (SpecError, UnicodeDecodeError):
        return {MANIFEST}  # unreadable: we own only the manifest itself
    files = data.get("files") if isinstance(data, dict) else None
    names = {MANIFEST} | (set(files) if isinstance(files, dict) else set())
    return {n for n in names if isinstance(n, str) and _safe_rel(n)}


def _safe_rel(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def _linked(stack_dir: Path, rel: str) -> bool:
    """Whether reaching stack_dir/rel goes through a symlink (the stack directory included)."""
    path = stack_dir
    for part in ("", *Path(rel).parts):
        path = path / part if part else path
        if path.is_symlink():
            return True
    return False


def _refuse_links(path: Path, root: Path) -> None:
    for candidate in [path, *path.parents]:
        if candidate == root.parent:
            break
        if candidate.is_symlink():
            raise SpecError.one(str(candidate), "", "is a symlink; llmd-compile never writes through links")


@dataclass
class Drift:
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.stale or self.missing or self.extra)


def check(stack_dir: Path, files: dict[str, str]) -> Drift:
    drift = Drift()
    for rel, text in files.items():
        target = stack_dir / rel
        if _linked(stack_dir, rel) or not target.is_file():  # never read through a link
            drift.missing.append(rel)
        elif target.read_bytes() != text.encode():
            drift.stale.append(rel)
    drift.extra = sorted(rel for rel in owned(stack_dir) - set(files)
                         if (stack_dir / rel).is_symlink() or (stack_dir / rel).exists())
    return drift


def diff(stack_dir: Path, files: dict[str, str], label: str) -> str:
    chunks: list[str] = []
    for rel in sorted(set(files) | (owned(stack_dir) - set(files))):
        target = stack_dir / rel
        readable = target.is_file() and not _linked(stack_dir, rel)  # never print a file through a link
        old = target.read_text(encoding="utf-8", errors="replace") if readable else ""
        new = files.get(rel, "")
        if old != new:
            chunks.extend(difflib.unified_diff(
                old.splitlines(keepends=True), new.splitlines(keepends=True),
                fromfile=f"a/{label}/{rel}", tofile=f"b/{label}/{rel}"))
    return "".join(chunks)


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Serializes compiles that share one out/ directory."""
    _refuse_links(out, out)
    out.mkdir(parents=True, exist_ok=True)
    with _flocked(os.open(out / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644), fcntl.LOCK_EX):
        yield


@contextlib.contextmanager
def reading(out: Path) -> Iterator[None]:
    """For --check and --diff: wait while a compile holds the lock, so out/ is never compared mid-swap.

    A shared lock on the lock file when there is one (nothing to wait for otherwise); creates nothing."""
    try:
        fd = os.open(out / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        yield
        return
    with _flocked(fd, fcntl.LOCK_SH):
        yield


@contextlib.contextmanager
def _flocked(fd: int, mode: int) -> Iterator[None]:
    """Hold flock(fd, mode) for the block; the descriptor is closed after."""
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(a))


def _kind(path: Path) -> str | None:
    """'dir', 'link', 'other', or None when nothing is there (one lstat: links are never followed)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    return "link" if stat.S_ISLNK(mode) else "dir" if stat.S_ISDIR(mode) else "other"


def recover(out: Path, name: str) -> None:
    """Finish or undo a swap that a crash interrupted."""
    stack_dir, new, old = out / name, out / f".{name}.new", out / f".{name}.old"
    if _kind(stack_dir) is None and _kind(old) == "dir":
        old.rename(stack_dir)
    for leftover in (new, old):
        if _kind(leftover) == "dir":
            shutil.rmtree(leftover)


def write(out: Path, name: str, files: dict[str, str]) -> list[str]:
    """Replace out/<name> with `files` (plus the user's own files). Returns the changed paths."""
    return write_many(out, {name: files})[name]


# While a fleet is still being staged, a background syncfs every this many staged stacks starts writing them
# back, so the sync before the swaps has little left (on this VM's disk: 0.37 s of a 1000-stack run otherwise).
_WRITEBACK_EVERY = 64

Stamps = dict[str, tuple[int, int]]  # relpath -> (size, mtime_ns) of each file written, as fstat saw it


def write_many(out: Path, stacks: dict[str, dict[str, str]] | Iterable[tuple[str, dict[str, str]]],
               done: Callable[[str, list[str], Stamps], None] | None = None) -> dict[str, list[str]]:
    """Write several stacks: build every changed one beside its directory, make the new trees durable with one
    filesystem sync, then swap each in atomically (`done` hears of each stack as it lands, with the size and
    mtime of every file written). `stacks` may be a stream that is still being compiled: nothing is swapped
    before it ends, and if it raises, every stack built so far is removed again. A failure before the swaps
    changes nothing; a crash at any point leaves each stack the complete old or new tree."""
    changed: dict[str, list[str]] = {}
    stamps: dict[str, Stamps] = {}
    prepared: list[str] = []
    writeback: threading.Thread | None = None
    _refuse_links(out, out)
    try:
        for name, files in (stacks.items() if isinstance(stacks, dict) else stacks):
            changed[name] = []  # seen: recovered on failure even if preparing it fails halfway
            changed[name], stamps[name] = _prepare(out, name, files)
            if changed[name]:
                prepared.append(name)
                if len(prepared) % _WRITEBACK_EVERY == 0 and (writeback is None or not writeback.is_alive()):
                    writeback = threading.Thread(target=_sync, args=(out,), daemon=True)
                    writeback.start()
        if writeback is not None:
            writeback.join()
        if prepared:
            _sync(out)  # one syncfs instead of an fsync per file and directory: same durability before the swaps
        for name, files_changed in changed.items():
            if files_changed:
                _swap(out, name)
            if done is not None:
                done(name, files_changed, stamps.pop(name))
    except BaseException:
        for name in changed:
            recover(out, name)
        raise
    if prepared:
        _fsync(out)
    return changed


def _prepare(out: Path, name: str, files: dict[str, str]) -> tuple[list[str], Stamps]:
    """Build out/.<name>.new if anything changed (out/ itself was checked for links by the caller)."""
    stack_dir, new = out / name, out / f".{name}.new"
    for path in (stack_dir, new, out / f".{name}.old"):
        if _kind(path) == "link":  # a planted .<name>.old link would otherwise be renamed into place
            raise SpecError.one(str(path), "", "is a symlink; llmd-compile never writes through links")
    if _kind(stack_dir) == "other":
        raise SpecError.one(str(stack_dir), "", "exists and is not a directory; llmd-compile writes a directory here")
    recover(out, name)
    if _kind(stack_dir) is None:  # a new stack: everything is missing, nothing to carry over
        new.mkdir()
        return sorted(files), _write_tree(os.fspath(new), files, fresh=True)
    drift = check(stack_dir, files)
    changed = sorted(drift.stale + drift.missing + drift.extra)
    if not changed:
        return [], {}
    previous = owned(stack_dir)
    new.mkdir()
    for path in sorted(stack_dir.rglob("*")):
        rel = path.relative_to(stack_dir).as_posix()
        if path.is_symlink():
            raise SpecError.one(str(path), "", "is a symlink; llmd-compile never writes through links")
        if path.is_file() and rel not in previous and rel not in files:
            (new / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, new / rel)  # the user's file: carried over as it is
    return changed, _write_tree(os.fspath(new), files, fresh=False)


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _write_tree(root: str, files: dict[str, str], fresh: bool) -> Stamps:
    """Create every file under the new directory `root` (plain os calls: this is the hot loop of a fleet), and
    say what each became. Not `fresh`: the user's carried-over files are already there, and may have made some
    directories."""
    made = {""}
    stamps: Stamps = {}
    for rel, text in files.items():
        parent = rel.rpartition("/")[0]
        if parent not in made:
            parts = parent.split("/")
            for depth in range(1, len(parts) + 1):
                sub = "/".join(parts[:depth])
                if sub not in made:
                    if fresh or not os.path.isdir(f"{root}/{sub}"):
                        os.mkdir(f"{root}/{sub}")
                    made.add(sub)
        data = text.encode()
        fd = os.open(f"{root}/{rel}", _CREATE, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            st = os.fstat(fd)  # the last write is done: the mtime the cache will find (a rename keeps it)
            stamps[rel] = (st.st_size, st.st_mtime_ns)
        finally:
            os.close(fd)
    return stamps


def _swap(out: Path, name: str) -> None:
    stack_dir, new = out / name, out / f".{name}.new"
    if not stack_dir.exists():
        new.rename(stack_dir)
    elif not _exchange(new, stack_dir):
        stack_dir.rename(out / f".{name}.old")
        new.rename(stack_dir)
    recover(out, name)


def _sync(path: Path) -> None:
    """Flush the filesystem holding `path` (Linux syncfs), or everything where that is unavailable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if getattr(libc, "syncfs", None) is None or libc.syncfs(fd) != 0:
            os.sync()
    except OSError:
        os.sync()
    finally:
        os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
