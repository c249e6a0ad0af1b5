"""Crashes during the write: every stack directory is the complete old tree or the complete new tree.

* A real `llmd-compile` process writing a generated fleet (60 stacks by default, 200 in the large run) is killed
  with SIGKILL at points spread over its write phase (after a given number of stacks reported, plus a random
  sub-delay); after each kill every stack is checked, and the next run (which recovers) is killed further on.
* In-process, for a small fleet, the write is forked and the child dies (os._exit, no cleanup) right before
  its k-th file-system call, for every k (`_exchange` real, and forced to the two-rename fallback).

LLMD_RELIABILITY_FLEET and LLMD_RELIABILITY_KILLS scale the real-process run (docs/reliability.md quotes a
larger run); LLMD_RELIABILITY_EVERY=1 makes the in-process sweep take every crash point, not a sample.
"""

from __future__ import annotations

import builtins
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llmd_compile import cache, outdir
from llmd_compile.compile import build
from llmd_compile.spec.load import load_text

from . import harness, specgen, trees

FLEET = int(os.environ.get("LLMD_RELIABILITY_FLEET", "60"))
KILLS = int(os.environ.get("LLMD_RELIABILITY_KILLS", "3"))
EVERY = os.environ.get("LLMD_RELIABILITY_EVERY") == "1"
SAMPLE = 24  # crash points per variant in the default run (every one with LLMD_RELIABILITY_EVERY=1)
PROGRESS = re.compile(r"^(stack-\d+): ")


def write_specs(root: Path, fleet: list[dict[str, Any]]) -> dict[str, str]:
    """specs/<name>.yaml for each spec; returns name -> sha256 of the bytes (the manifest's inputsSha256)."""
    (root / "specs").mkdir(parents=True, exist_ok=True)
    digests = {}
    for data in fleet:
        text = specgen.to_text(data).encode()
        (root / "specs" / f"{data['metadata']['name']}.yaml").write_bytes(text)
        digests[data["metadata"]["name"]] = trees.sha(text)
    return digests


def test_sigkill_during_the_write_of_a_large_fleet(tmp_path: Path) -> None:
    rng = random.Random(FLEET * 1000 + KILLS)
    write_specs(tmp_path, specgen.fleet(FLEET, seed=0))
    first = harness.run_cli("specs", cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(names) == FLEET
    old = {name: trees.files_of(out / name) for name in names}
    new_input = write_specs(tmp_path, specgen.fleet(FLEET, seed=1))  # same names, other content
    seen: Counter[str] = Counter()
    new_trees: dict[str, dict[str, bytes]] = {}
    for k in range(KILLS):
        target = (k + 1) * FLEET // (KILLS + 1)  # stacks reported before the kill: spread over the write
        proc = subprocess.Popen([*harness.CLI, "specs"], cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert proc.stdout is not None
        reported = 0
        for line in proc.stdout:
            reported += bool(PROGRESS.match(line))
            if reported >= target:
                break
        time.sleep(rng.uniform(0, 0.02))  # land inside the next stack's write, not between stacks
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL, "the compile finished before the kill: raise the fleet size"
        for name in names:
            state = trees.classify(out, name, old[name], new_input[name])
            assert not state.startswith("BROKEN"), f"after kill {k} (at stack {target}): {name}: {state}"
            seen[state] += 1
            if state == "new":
                new_trees.setdefault(name, trees.files_of(out / name))
        local = {outdir.LOCK, cache.CACHE, ".gitignore"}  # .gitignore: written once by the first compile
        assert set(os.listdir(out)) - set(names) - local <= {f".{n}.{s}" for n in names for s in ("new", "old")}
    final = harness.run_cli("specs", cwd=tmp_path, timeout=600)
    assert final.returncode == 0, final.stderr[-2000:]
    assert trees.leftovers(out) == []
    for name in names:
        assert trees.classify(out, name, old[name], new_input[name]) == "new"
    for name, tree in new_trees.items():  # a tree seen as new mid-crash is the one a clean run writes
        assert tree == trees.files_of(out / name), name
    assert seen["old"] and seen["new"], seen
    print(f"\nSIGKILL: fleet {FLEET}, {KILLS} kills, stack states after kills {dict(seen)}")


# --- in-process: die before the k-th file-system call --------------------------------------------------------

CRASHED = 77
# Everything outdir.write reaches the disk through (pathlib and shutil call these at call time).
CALLS: tuple[tuple[Any, str], ...] = (
    (os, "open"), (os, "write"), (os, "fsync"), (os, "mkdir"), (os, "rename"), (os, "replace"), (os, "unlink"),
    (os, "rmdir"), (builtins, "open"), (outdir, "_exchange"),
)


def _fleet_case(root: Path) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, bytes] | None],
                                     dict[str, str], frozenset[str]]:
    """out/ with three old stacks (one gains a user file), and the files the new specs compile to.

    stack-0000 changes, stack-0001 is unchanged, stack-0002 changes its platforms (files pruned), stack-0003 is new.
    """
    old_specs = specgen.fleet(3, seed=7)
    new_specs = [specgen.fleet(4, seed=8)[0], old_specs[1], dict(old_specs[2]), specgen.fleet(4, seed=8)[3]]
    platforms = new_specs[2]["platforms"]
    new_specs[2] = {**new_specs[2], "platforms": {"kubernetes": {}} if "openshift" in platforms
                    else {"openshift": {}}, "metadata": old_specs[2]["metadata"]}
    out = root / "out"
    with outdir.locked(out):
        for data in old_specs:
            outdir.write(out, data["metadata"]["name"], _files(data))
    user = "notes/NOTES.md"
    (out / "stack-0000" / "notes").mkdir()
    (out / "stack-0000" / user).write_text("the user's own file\n", encoding="utf-8")
    new_files = {d["metadata"]["name"]: _files(d) for d in new_specs}
    old = {name: (trees.files_of(out / name) if (out / name).exists() else None) for name in new_files}
    inputs = {name: trees.sha(specgen.to_text(d).encode()) for name, d in zip(new_files, new_specs, strict=True)}
    return new_files, old, inputs, frozenset({user})


def _files(data: dict[str, Any]) -> dict[str, str]:
    text = specgen.to_text(data)
    source = f"specs/{data['metadata']['name']}.yaml"
    _, files = build(load_text(text, source), source)
    return outdir.with_manifest(source, trees.sha(text.encode()), files)


def _write_all(out: Path, new_files: dict[str, dict[str, str]]) -> None:
    with outdir.locked(out):
        for name, files in new_files.items():
            outdir.write(out, name, files)


def _in_child(action: Callable[[], None]) -> int:
    """Run action in a forked child; its exit status (CRASHED when it died on purpose)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns into pytest
        try:
            action()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _dying_at(k: int, counter: list[int], fallback: bool) -> None:
    """Patch the file-system calls (in the child only) so that the k-th one never happens."""
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def inner(*args: Any, **kwargs: Any) -> Any:
            counter[0] += 1
            if counter[0] == k:
                os._exit(CRASHED)
            return fn(*args, **kwargs)
        return inner

    for module, name in CALLS:
        setattr(module, name, wrap(getattr(module, name)))
    if fallback:  # as on a file system without renameat2(RENAME_EXCHANGE)
        outdir._exchange = lambda a, b: False  # type: ignore[assignment]


def _count_calls(out: Path, new_files: dict[str, dict[str, str]], fallback: bool) -> int:
    read, write = os.pipe()

    def count() -> None:
        counter = [0]
        _dying_at(-1, counter, fallback)
        _write_all(out, new_files)
        os.write(write, str(counter[0]).encode())

    assert _in_child(count) == 0
    os.close(write)
    total = int(os.read(read, 64).decode())
    os.close(read)
    return total


@pytest.fixture
def shm_path(tmp_path: Path) -> Iterator[Path]:
    """A scratch directory on tmpfs when there is one: fsync is free there, and this test fsyncs a lot."""
    if not Path("/dev/shm").is_dir():
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="llmd-reliability-", dir="/dev/shm"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("fallback", [False, True], ids=["renameat2-exchange", "two-renames-fallback"])
def test_death_before_every_file_system_call(shm_path: Path, fallback: bool) -> None:
    tmp_path = shm_path
    base = tmp_path / "base"
    new_files, old, inputs, user = _fleet_case(base)
    total = _count_calls(_copy(base, tmp_path / "count") / "out", new_files, fallback)
    points = range(1, total + 1) if EVERY else sorted({1, total, *random.Random(total).sample(range(1, total), SAMPLE)})
    states: Counter[str] = Counter()
    missing_until_recovered = 0
    for k in points:
        root = _copy(base, tmp_path / f"k{k}")
        out = root / "out"

        def crash(out: Path = out, k: int = k) -> None:
            _dying_at(k, [0], fallback)
            _write_all(out, new_files)

        assert _in_child(crash) == CRASHED
        found = {name: trees.classify(out, name, old[name], inputs[name], user if name == "stack-0000" else frozenset())
                 for name in new_files}
        if fallback and any(s == "BROKEN: stack directory missing" for s in found.values()):
            # Between the fallback's two renames the stack sits at out/.<name>.old; recover() moves it back.
            missing_until_recovered += 1
            for name in new_files:
                outdir.recover(out, name)
            found = {name: trees.classify(out, name, old[name], inputs[name],
                                          user if name == "stack-0000" else frozenset()) for name in new_files}
        assert not any(s.startswith("BROKEN") for s in found.values()), (k, found)
        states.update(found.values())
        _write_all(out, new_files)  # the next run recovers and finishes
        assert trees.leftovers(out) == []
        for name in new_files:
            assert trees.classify(out, name, old[name], inputs[name],
                                  user if name == "stack-0000" else frozenset()) == "new", (k, name)
        assert (out / "stack-0000" / "notes" / "NOTES.md").read_text(encoding="utf-8") == "the user's own file\n"
        shutil.rmtree(root)
    assert states["old"] and states["new"]
    if not fallback:
        assert missing_until_recovered == 0
    print(f"\ncrash points {len(points)} of {total} ({'fallback' if fallback else 'exchange'}): stack states "
          f"{dict(states)}; stack dir missing until recover(): {missing_until_recovered}")


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def test_sigkill_while_stacks_are_staged_during_the_compile(tmp_path: Path) -> None:
    """With out/ in place, stacks are staged while the rest still compile (in worker processes for a fleet this
    size). A kill in that phase leaves every stack its old tree, and the next run cleans up and finishes."""
    write_specs(tmp_path, specgen.fleet(FLEET, seed=0))
    assert harness.run_cli("specs", cwd=tmp_path, timeout=600).returncode == 0
    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    old = {name: trees.files_of(out / name) for name in names}
    new_input = write_specs(tmp_path, specgen.fleet(FLEET, seed=1))
    staged_seen = 0
    for k in range(KILLS):
        proc = subprocess.Popen([*harness.CLI, "specs"], cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 120
        while not any(p.name.endswith(".new") for p in out.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.005)  # until the first stack is staged
        time.sleep(0.02 * k)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        landed = [line for line in proc.stdout.read().splitlines() if PROGRESS.match(line)]
        proc.stdout.close()
        staged_seen += sum(p.name.endswith(".new") for p in out.iterdir())
        for name in names:
            state = trees.classify(out, name, old[name], new_input[name])
            assert not state.startswith("BROKEN"), f"after kill {k}: {name}: {state}"
            if not landed:  # killed before any swap: nothing is new yet
                assert state == "old", (k, name, state)
    assert staged_seen, "no kill landed while stacks were staged: the phase was not exercised"
    assert harness.run_cli("specs", cwd=tmp_path, timeout=600).returncode == 0
    assert trees.leftovers(out) == []
    assert all(trees.classify(out, name, old[name], new_input[name]) == "new" for name in names)
