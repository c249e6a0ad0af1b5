"""Concurrent compiles, a full disk, a read-only out/: a clear error and a consistent out/ every time.

Each test writes fleet A into out/, puts fleet B (same stack names, other content) in specs/, and runs the real
CLI under the fault. Afterwards every stack directory must be the complete A tree or the complete B tree.
Read-only and ENOSPC use a private mount namespace (`unshare -m`, needs root) when available; without it the
read-only case falls back to file modes and the ENOSPC case is skipped.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmd_compile import outdir

from . import harness, specgen, trees
from .test_kill import write_specs

N = 5


def _namespaces() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        return False
    probe = subprocess.run([unshare, "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt 2>/dev/null || "
                            "mount -t tmpfs -o size=1m tmpfs /tmp"], capture_output=True, check=False)
    return probe.returncode == 0


NAMESPACES = _namespaces()


def fleet_root(root: Path, n: int = N, big: int | None = None,
               only: int | None = None) -> tuple[dict[str, dict[str, bytes]], dict[str, str]]:
    """out/ holds fleet A; specs/ holds fleet B. Returns (A trees by name, B inputsSha256 by name).

    B is another fleet with the same names, or (only=i) fleet A with stacks i.. changed (i: the big one)."""
    fleet_a = specgen.fleet(n, seed=11)
    write_specs(root, fleet_a)
    proc = harness.run_cli("specs", cwd=root)
    assert proc.returncode == 0, proc.stderr
    old = {p.name: trees.files_of(p) for p in (root / "out").iterdir() if p.is_dir()}
    fleet = specgen.fleet(n, seed=12)
    if only is not None:
        fleet = [*fleet_a[:only], *fleet[only:]]
    if big is not None:  # one stack with a 120 kB values file (bigger than any other file of the fleet)
        fleet[big]["decode"]["env"] = {f"BIG_{i}": "x" * 4000 for i in range(30)}
    return old, write_specs(root, fleet)


def states(root: Path, old: dict[str, dict[str, bytes]], new: dict[str, str]) -> dict[str, str]:
    found = {name: trees.classify(root / "out", name, old.get(name), new[name]) for name in new}
    assert not [s for s in found.values() if s.startswith("BROKEN")], found
    return found


def _limit_file_size(size: int) -> Any:
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def test_two_concurrent_compiles_serialize(tmp_path: Path) -> None:
    """Two processes, two versions of the same 8 stacks (two spec trees with the same names), one out/: they
    serialize on out/'s lock; the first writes its version whole, and the second, finding every stack directory
    written from specs that still exist, refuses as a whole (issue 15: no silent overwrite between runs)."""
    versions = {}
    for label, seed in (("one", 21), ("two", 22)):
        versions[label] = write_specs(tmp_path / label, specgen.fleet(8, seed=seed))
        shutil.move(tmp_path / label / "specs", tmp_path / f"specs-{label}")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [subprocess.Popen([*harness.CLI, f"specs-{label}"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for label in versions]
    results = [p.communicate(timeout=300) for p in procs]
    assert sorted(p.returncode for p in procs) == [0, 2], results
    (loser,) = [err for p, (_, err) in zip(procs, results, strict=True) if p.returncode == 2]
    assert loser.count("which still exists") == 8 and loser.splitlines()[-1].startswith("error: 8 problems"), loser
    out = tmp_path / "out"
    winners = set()
    for name in versions["one"]:
        got = trees.complete(trees.files_of(out / name))
        assert got in (versions["one"][name], versions["two"][name]), name
        winners.add("one" if got == versions["one"][name] else "two")
    assert len(winners) == 1, "stacks from both runs: the writes interleaved"
    (winner,) = winners
    check = harness.run_cli("--check", f"specs-{winner}", cwd=tmp_path)
    assert check.returncode == 0, check.stdout
    assert trees.leftovers(out) == []


@contextlib.contextmanager
def _lock_held(lock: Path) -> Iterator[None]:
    """Another process holds out/'s lock (exclusively, as a compile does) until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n", str(lock)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
        holder.stdout.close()


def _start_waiting(args: list[str], cwd: Path, lock: Path) -> subprocess.Popen[str]:
    """Start the CLI and return once it has opened the lock file (and 0.3 s more): it must still be running."""
    proc = subprocess.Popen([*harness.CLI, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _has_open(proc.pid, lock) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    return proc


def test_a_compile_waits_for_the_lock(tmp_path: Path) -> None:
    old, new = fleet_root(tmp_path, n=3)
    lock = tmp_path / "out" / outdir.LOCK
    with _lock_held(lock):
        cli = _start_waiting(["specs"], tmp_path, lock)
        assert cli.poll() is None, "the compile did not wait for the lock"
        assert set(states(tmp_path, old, new).values()) == {"old"}, "written while another process held the lock"
    _, stderr = cli.communicate(timeout=120)
    assert cli.returncode == 0, stderr
    assert set(states(tmp_path, old, new).values()) == {"new"}


@pytest.mark.parametrize("mode", ["--check", "--diff"])
def test_check_waits_for_a_compile_holding_the_lock(tmp_path: Path, mode: str) -> None:
    """--check/--diff compare out/ only when no compile is swapping stacks in (a shared lock), and create nothing."""
    fleet_root(tmp_path, n=2)
    lock = tmp_path / "out" / outdir.LOCK
    with _lock_held(lock):
        before = harness.snapshot(tmp_path / "out")
        checker = _start_waiting([mode, "specs"], tmp_path, lock)
        assert checker.poll() is None, f"{mode} did not wait for the compile's lock"
    _, stderr = checker.communicate(timeout=120)
    assert checker.returncode == 1, stderr  # specs/ holds fleet B: out of date
    assert "Traceback" not in stderr
    assert {k: v for k, v in harness.snapshot(tmp_path / "out").items() if "cache" not in k} == \
        {k: v for k, v in before.items() if "cache" not in k}


def _has_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def test_file_size_limit_on_the_first_file(tmp_path: Path) -> None:
    """RLIMIT_FSIZE below every file: EFBIG on the first write; out/ exactly as it was."""
    fleet_root(tmp_path)
    before = harness.snapshot(tmp_path / "out")
    proc = subprocess.run([*harness.CLI, "specs"], cwd=tmp_path, capture_output=True, text=True, check=False,
                          preexec_fn=_limit_file_size(256))
    assert proc.returncode == 2, proc.stderr
    assert "error: cannot write" in proc.stderr and "File too large" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert harness.snapshot(tmp_path / "out") == before


def test_file_size_limit_in_the_middle_of_a_fleet(tmp_path: Path) -> None:
    """The third of five stacks cannot be written: every stack is built beside its directory before any is
    swapped in, so a failed run leaves all five old; a rerun finishes."""
    old, new = fleet_root(tmp_path, big=2)
    proc = subprocess.run([*harness.CLI, "specs"], cwd=tmp_path, capture_output=True, text=True, check=False,
                          preexec_fn=_limit_file_size(64 * 1024))
    assert proc.returncode == 2 and "File too large" in proc.stderr, proc.stderr
    names = sorted(new)
    assert [states(tmp_path, old, new)[n] for n in names] == ["old", "old", "old", "old", "old"]
    assert trees.leftovers(tmp_path / "out") == []
    assert harness.run_cli("specs", cwd=tmp_path).returncode == 0
    assert set(states(tmp_path, old, new).values()) == {"new"}


@pytest.mark.skipif(not NAMESPACES, reason="needs root and `unshare -m` to mount a small tmpfs")
def test_disk_full(tmp_path: Path) -> None:
    """A real ENOSPC: out/ on a tmpfs with 100 kB left; stacks 1-2 are unchanged, stack 3 needs a 120 kB file."""
    work, result = tmp_path / "work", tmp_path / "result"
    work.mkdir()
    result.mkdir()
    source = tmp_path / "source"
    source.mkdir()
    old, new = fleet_root(source, big=2, only=2)
    script = f"""
set -e
mount -t tmpfs -o size=8m tmpfs {work}
cp -a {source}/. {work}/
avail=$(df --output=avail -B1 {work} | tail -1)
head -c $((avail - 100000)) /dev/zero > {work}/filler || true
cd {work}
set +e
{" ".join(harness.CLI)} specs > {result}/stdout 2> {result}/stderr
echo $? > {result}/rc
cp -a {work}/out {result}/out
"""
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=300)
    stderr = (result / "stderr").read_text()
    assert (result / "rc").read_text().strip() == "2", stderr
    assert "error: cannot write" in stderr and "No space left on device" in stderr, stderr
    assert "Traceback" not in stderr
    found = states(result, old, new)
    assert [found[name] for name in sorted(new)] == ["new", "new", "old", "old", "old"], found
    assert trees.leftovers(result / "out") == []


def _read_only(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if NAMESPACES:
        out = root / "out"
        script = f"mount --bind -o ro {out} {out} && exec {' '.join(harness.CLI)} {' '.join(args)}"
        return subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=root, capture_output=True, text=True,
                              check=False, timeout=300)
    for path in [root / "out", *(root / "out").rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)
    try:
        return harness.run_cli(*args, cwd=root)
    finally:
        for path in [root / "out", *(root / "out").rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)


@pytest.mark.skipif(not NAMESPACES and os.geteuid() == 0, reason="root ignores file modes and cannot unshare")
def test_read_only_out(tmp_path: Path) -> None:
    fleet_root(tmp_path)
    before = harness.snapshot(tmp_path / "out")
    proc = _read_only(tmp_path, "specs")
    assert proc.returncode == 2, proc.stderr
    assert "error: cannot write" in proc.stderr, proc.stderr
    assert ("Read-only file system" if NAMESPACES else "Permission denied") in proc.stderr
    assert "Traceback" not in proc.stderr
    assert harness.snapshot(tmp_path / "out") == before
    check = _read_only(tmp_path, "--check", "specs")  # checking needs no write access
    assert check.returncode == 1 and "stale" in check.stdout, check.stderr
