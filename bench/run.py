#!/usr/bin/env python3
"""Benchmark llmd-compile as whole processes: wall time and peak RSS, against baselines.

    .venv/bin/python bench/run.py            # the full run (several minutes; BENCHMARKS.md numbers)
    .venv/bin/python bench/run.py --quick    # smoke: 2 runs, fleets up to 100, Kapitan at 10

Each scenario runs 1 warm-up and then --runs measured runs (median, min, max). Every command is a
child process started with subprocess.Popen and reaped with os.wait4, which gives its exit status
and rusage: wall time is time.perf_counter around Popen..wait4, peak RSS is the child's ru_maxrss
(on Linux the largest resident set of the child or any descendant it waited for; not a sum over
processes). Outputs go to fresh temporary directories (under $TMPDIR), so every "empty out/" is
really empty; a run's output is moved aside, not deleted, and goes with the workspace at the end
(see Workspace: on ext4 a file created right after a large deletion costs far more).
Results: bench/results/latest.json (--quick: bench/results/latest-quick.json) and a markdown table
on stdout.

Scenarios:
  1. llmd-compile specs/h100.yaml into an empty out/
  2. the fleet (bench/fleet.py) at N = 10, 100, 1000 into an empty out/; per-stack slope; on ext4 also
     the largest fleet right after `rm -rf out` of the previous run
  3. --check on the unchanged 1000-stack fleet
  4. the 1000-stack fleet after one spec changed (the whole fleet compiled, as a pre-commit hook
     that runs `llmd-compile specs/` does), and the same change with only that spec passed
  5. baselines: `python -c pass`, `python -c "import pydantic, ruamel.yaml, click"`,
     `llmd-compile --version` (import + CLI start, no compile), and Kapitan compiling an equivalent
     fleet (bench/kapitan/) with bench/.kapitan-venv/bin/kapitan, if that venv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import fleet  # noqa: E402

KAPITAN_VENV = BENCH / ".kapitan-venv"
RETRIES, RETRY_PAUSE_S = 3, 30
KAPITAN_HINT = ("python3 -m venv bench/.kapitan-venv && bench/.kapitan-venv/bin/pip install kapitan")


# ----------------------------------------------------------------------------------------------------------
# Measuring one process


@dataclass
class Sample:
    wall_s: float
    maxrss_kib: int
    user_s: float
    sys_s: float
    rc: int


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Sample:
    """Run cmd to completion; wall time around Popen..wait4, rusage of the child from wait4."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting
        rc = proc.returncode
        if rc not in (0,):
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(cmd)} exited {rc} in {cwd}:\n{tail}")
    return Sample(wall, usage.ru_maxrss, usage.ru_utime, usage.ru_stime, rc)


@dataclass
class Result:
    key: str
    label: str
    stacks: int
    runs: int
    warmup: int
    wall_s: dict[str, float] = field(default_factory=dict)
    maxrss_mib: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    samples: list[dict[str, float]] = field(default_factory=list)
    files: int = 0  # files the command wrote, counted after the last run (0: not counted)
    note: str = ""


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def count_files(path: Path) -> int:
    return sum(1 for p in path.rglob("*") if p.is_file() and p.name != ".llmd-compile.lock")


def bench(key: str, label: str, stacks: int, runs: int, warmup: int, setup, note: str = "",
          output: Path | None = None) -> Result:
    """setup(i) -> (cmd, cwd): prepares run i (i < 0: warm-up) and returns what to run.

    output: a directory whose files are counted after the last run (what one run wrote).
    """
    samples: list[Sample] = []
    for i in range(-warmup, runs):
        for attempt in range(RETRIES + 1):
            cmd, cwd = setup(i)
            # Untimed: flush what earlier runs (and their clean-up) left to write back, so one run's deletions
            # are not paid for by the next run's file creations (this VM's ext4 makes that cost large).
            os.sync()
            try:
                sample = measure(cmd, cwd)
                break
            except RuntimeError as exc:
                # The package is edited while we run: a failed run is retried after a pause, not timed.
                if attempt == RETRIES:
                    raise
                print(f"  run failed, retrying in {RETRY_PAUSE_S} s: {str(exc).splitlines()[-1]}", file=sys.stderr)
                time.sleep(RETRY_PAUSE_S)
        if i >= 0:
            samples.append(sample)
    result = Result(key, label, stacks, runs, warmup, note=note)
    if output is not None and output.is_dir():
        result.files = count_files(output)
    result.wall_s = _stats([s.wall_s for s in samples])
    result.maxrss_mib = _stats([s.maxrss_kib / 1024 for s in samples])
    result.cpu_s = _stats([s.user_s + s.sys_s for s in samples])
    result.samples = [{"wall_s": s.wall_s, "maxrss_kib": s.maxrss_kib, "user_s": s.user_s, "sys_s": s.sys_s}
                      for s in samples]
    w, r = result.wall_s, result.maxrss_mib
    print(f"  {label}: {w['median']:.3f} s [{w['min']:.3f}-{w['max']:.3f}], "
          f"{r['median']:.1f} MiB, cpu {result.cpu_s['median']:.3f} s", file=sys.stderr, flush=True)
    return result


# ----------------------------------------------------------------------------------------------------------
# Scenarios


# ext4 does not hand out an inode freed less than 30 s ago (35 s while its table block is dirty) and checks each
# candidate's deletion time to know (fs/ext4/ialloc.c, recently_deleted()): right after a 30 000-file tree is
# deleted, every file created scans those inodes. That kernel profile (`perf record -a -g`: find_inode_bit ->
# recently_deleted) is what made 1000-stack runs on this disk take 30 s instead of 3 s.
RECENTLY_DELETED_S = 36


def _fs_type(path: Path) -> str:
    lines = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True).stdout.splitlines()
    return lines[-1].split()[1] if len(lines) > 1 else "unknown"


class Workspace:
    """Temporary directories: fleets of specs are generated once per size; outputs are fresh per run.

    A run's output is moved aside into trash/ (a rename frees no inode) rather than deleted before the next
    run, and trash/ goes with the whole workspace at the end. Only the `after_rm` scenario deletes on purpose;
    the next scenario first waits until ext4 no longer counts those inodes as recently deleted. So no timed run
    pays for an earlier run's clean-up, except where that is what is measured.
    """

    def __init__(self, root: Path, release: str | None = None) -> None:
        self.root = root
        self.release = release  # None: the default mix; "v0.9": router-shape stacks only (bench/fleet.py)
        self.fleets: dict[int, Path] = {}
        self.trash = root / "trash"
        self.trash.mkdir()
        self.discarded = 0
        self.deleted_at = 0.0
        self.wait_s = RECENTLY_DELETED_S if _fs_type(root) == "ext4" else 0

    def discard(self, path: Path) -> None:
        if path.exists() or path.is_symlink():
            path.rename(self.trash / str(self.discarded))
            self.discarded += 1

    def delete(self, path: Path) -> None:
        _rm(path)
        self.deleted_at = time.monotonic()

    def settle(self) -> None:
        left = self.deleted_at + self.wait_s - time.monotonic()
        if left > 0:
            os.sync()
            time.sleep(left)

    def fleet(self, n: int) -> Path:
        """A repo-like directory with specs/ holding the n-stack fleet."""
        if n not in self.fleets:
            repo = self.root / f"fleet-{n}"
            fleet.write_fleet(n, repo / "specs", release=self.release)
            self.fleets[n] = repo
        return self.fleets[n]

    def fresh(self, prefix: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.root))


def _rm(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def run_llmd(args: argparse.Namespace, ws: Workspace, results: list[Result]) -> None:
    py = str(ROOT / ".venv" / "bin" / "python")
    cli = str(ROOT / ".venv" / "bin" / "llmd-compile")
    runs, warm = args.runs, args.warmup

    print("baselines", file=sys.stderr)
    results.append(bench("python_pass", "`python -c pass`", 0, runs, warm, lambda i: ([py, "-c", "pass"], ROOT)))
    results.append(bench("deps_import", "`python -c \"import pydantic, ruamel.yaml, click\"`", 0, runs, warm,
                         lambda i: ([py, "-c", "import pydantic, ruamel.yaml, click"], ROOT)))
    results.append(bench("cli_version", "`llmd-compile --version` (imports + CLI, no compile)", 0, runs, warm,
                         lambda i: ([cli, "--version"], ROOT)))

    print("single stack", file=sys.stderr)
    single = ws.fresh("single-")
    (single / "specs").mkdir()
    shutil.copy(ROOT / "specs" / "h100.yaml", single / "specs" / "h100.yaml")

    def single_setup(i: int) -> tuple[list[str], Path]:
        ws.discard(single / "out")
        ws.discard(single / "overlays")
        return [cli, "specs/h100.yaml", "--out", "out"], single

    ws.settle()
    results.append(bench("single", "`llmd-compile specs/h100.yaml`, empty out/", 1, runs, warm, single_setup,
                         output=single / "out"))

    print("fleet, empty out/", file=sys.stderr)
    for n in args.sizes:
        repo = ws.fleet(n)

        def setup(i: int, repo: Path = repo) -> tuple[list[str], Path]:
            ws.discard(repo / "out")
            ws.discard(repo / "overlays")
            (repo / "out").mkdir()  # an empty out/, as in a repository that commits it
            return [cli, "specs", "--out", "out"], repo

        ws.settle()
        results.append(bench(f"fleet_{n}", f"fleet N={n}, empty out/", n, runs, warm, setup, output=repo / "out"))

    big = max(args.sizes)
    repo = ws.fleet(big)

    def no_out(i: int) -> tuple[list[str], Path]:
        ws.discard(repo / "out")
        ws.discard(repo / "overlays")
        return [cli, "specs", "--out", "out"], repo

    ws.settle()
    results.append(bench(f"fleet_{big}_no_out", f"fleet N={big}, no out/ yet (compiles all before creating it)",
                         big, runs, warm, no_out, output=repo / "out"))
    shm = Path("/dev/shm")
    if shm.is_dir():
        ram = Path(tempfile.mkdtemp(prefix="llmd-bench-", dir=shm))

        def tmpfs(i: int) -> tuple[list[str], Path]:
            _rm(ram / "out")
            ws.discard(repo / "overlays")
            (ram / "out").mkdir()
            return [cli, "specs", "--out", str(ram / "out")], repo

        try:
            results.append(bench(f"fleet_{big}_tmpfs", f"fleet N={big}, empty out/ on tmpfs (no disk)", big, runs,
                                 warm, tmpfs, output=ram / "out"))
        finally:
            _rm(ram)

    if ws.wait_s:
        def after_rm(i: int) -> tuple[list[str], Path]:
            ws.delete(repo / "out")  # deleted just before, as `rm -rf out && llmd-compile specs/` does
            ws.discard(repo / "overlays")
            (repo / "out").mkdir()
            return [cli, "specs", "--out", "out"], repo

        ws.discard(repo / "out")
        (repo / "out").mkdir()
        measure([cli, "specs", "--out", "out"], repo)  # so that the first run, too, follows a deletion
        results.append(bench(f"fleet_{big}_after_rm", f"fleet N={big}, right after `rm -rf out` of the previous "
                             "run (ext4: recently deleted inodes)", big, runs, warm, after_rm, output=repo / "out"))

    ws.discard(repo / "out")
    ws.discard(repo / "overlays")
    ws.settle()
    measure([cli, "specs", "--out", "out"], repo)  # the committed state: out/ current with specs/

    print(f"--check, unchanged {big}-stack fleet", file=sys.stderr)
    results.append(bench(f"check_{big}", f"`--check`, unchanged N={big} fleet", big, runs, warm,
                         lambda i: ([cli, "specs", "--check", "--out", "out"], repo)))

    print(f"{big}-stack fleet, one spec changed", file=sys.stderr)
    victim = sorted((repo / "specs").glob("*.yaml"))[len(list((repo / "specs").glob("*.yaml"))) // 2]
    original = victim.read_text(encoding="utf-8")
    # A one-line edit that keeps the spec valid: the guidellm benchmark's user count (the fleet uses 1, 4, 16, 64);
    # a router-shape (v0.9) spec has no benchmark: its Argo CD targetRevision (main, HEAD or release-1) then.
    marker = "\n    users: " if "\n    users: " in original else "\n    targetRevision: "
    assert marker in original, victim
    head, _, tail = original.partition(marker)
    old_value, _, rest = tail.partition("\n")
    values = ("3", "5") if "users" in marker else ("bench-a", "bench-b")
    variants = [f"{head}{marker}{v}\n{rest}" for v in values]
    assert all(v != original for v in variants) and old_value not in values

    def changed_setup(i: int, only: bool) -> tuple[list[str], Path]:
        victim.write_text(variants[i % 2], encoding="utf-8")  # differs from what out/ holds: one spec changed
        target = f"specs/{victim.name}" if only else "specs"
        return [cli, target, "--out", "out"], repo

    results.append(bench(f"changed_{big}", f"N={big} fleet, one spec changed (`llmd-compile specs/`)", big,
                         runs, warm, lambda i: changed_setup(i, only=False)))
    results.append(bench(f"changed_{big}_only", f"N={big} fleet, one spec changed, only that spec passed", 1,
                         runs, warm, lambda i: changed_setup(i, only=True)))
    victim.write_text(original, encoding="utf-8")


def run_kapitan(args: argparse.Namespace, ws: Workspace, results: list[Result]) -> str | None:
    kapitan = KAPITAN_VENV / "bin" / "kapitan"
    if not kapitan.exists():
        msg = (f"Kapitan baseline skipped: {kapitan} not found. Create it with:\n  {KAPITAN_HINT}")
        print(msg, file=sys.stderr)
        return msg
    kpy = str(KAPITAN_VENV / "bin" / "python")
    for n in args.kapitan_sizes:
        project = ws.root / f"kapitan-{n}"
        subprocess.run([kpy, str(BENCH / "kapitan" / "make_inventory.py"), str(ws.fleet(n) / "specs"),
                        str(project)], check=True, stderr=subprocess.DEVNULL)

        def setup(i: int, project: Path = project) -> tuple[list[str], Path]:
            ws.discard(project / "compiled")
            return [str(kapitan), "compile", "--output-path", ".", "--quiet"], project

        ws.settle()

        big = n > 100
        runs = args.kapitan_big_runs if big else args.runs
        warm = 0 if big else args.warmup
        note = "" if not big else f"{runs} run(s), no warm-up (each run takes minutes)"
        results.append(bench(f"kapitan_{n}", f"Kapitan, equivalent fleet N={n}, empty compiled/", n, runs, warm,
                             setup, note=note, output=project / "compiled"))
        if args.compare and n == min(args.kapitan_sizes):
            llmd_repo = ws.fleet(n)
            _rm(llmd_repo / "out")
            measure([str(ROOT / ".venv" / "bin" / "llmd-compile"), "specs", "--out", "out"], llmd_repo)
            subprocess.run([str(kapitan), "compile", "--output-path", ".", "--quiet"], cwd=project, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cmp = subprocess.run([sys.executable, str(BENCH / "kapitan" / "compare.py"), str(llmd_repo / "out"),
                                  str(project / "compiled")], capture_output=True, text=True)
            print("  equivalence: " + cmp.stdout.strip().splitlines()[-1], file=sys.stderr)
            results[-1].note = (results[-1].note + "; " if results[-1].note else "") + \
                "output vs llmd-compile: " + cmp.stdout.strip().splitlines()[-1]
    return None


# ----------------------------------------------------------------------------------------------------------
# Report


def machine(workdir: Path | None = None) -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    pyver = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", "import sys; print(sys.version.split()[0])"],
                           capture_output=True, text=True).stdout.strip()
    kver = ""
    if (KAPITAN_VENV / "bin" / "kapitan").exists():
        kver = subprocess.run([str(KAPITAN_VENV / "bin" / "kapitan"), "--version"], capture_output=True,
                              text=True).stdout.strip()
    src = hashlib.sha256()
    for path in sorted((ROOT / "llmd_compile").rglob("*.py")):
        src.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    where = str(workdir or tempfile.gettempdir())
    fs = subprocess.run(["df", "-T", where], capture_output=True, text=True).stdout.splitlines()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": pyver,
        "kernel": platform.release(),
        "kapitan": kver,
        "tmp_fs": fs[-1].split()[1] if len(fs) > 1 else "",
        "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "llmd_compile_sources_sha256": src.hexdigest()[:16],
    }


def _fmt(stats: dict[str, float], unit: str, digits: int) -> str:
    return f"{stats['median']:.{digits}f} {unit} ({stats['min']:.{digits}f}–{stats['max']:.{digits}f})"


def table(results: list[Result]) -> str:
    rows = ["| scenario | stacks | files written | runs | wall: median (min–max) | CPU user+sys (median) "
            "| peak RSS: median (min–max) |",
            "|---|---:|---:|---:|---|---:|---|"]
    for r in results:
        rows.append(f"| {r.label}{' ¹' if r.note and 'run(s)' in r.note else ''} | {r.stacks} | "
                    f"{r.files or ''} | {r.runs} | "
                    f"{_fmt(r.wall_s, 's', 3)} | {r.cpu_s['median']:.3f} s | {_fmt(r.maxrss_mib, 'MiB', 1)} |")
    return "\n".join(rows)


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares line t = a + b*N."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def derived(results: list[Result], sizes: list[int]) -> dict[str, object]:
    by = {r.key: r for r in results}
    out: dict[str, object] = {}
    med = {k: r.wall_s["median"] for k, r in by.items()}
    fleet_pts = [(n, med[f"fleet_{n}"]) for n in sizes if f"fleet_{n}" in med]
    if len(fleet_pts) >= 2:
        a, b = _fit(fleet_pts)
        out["fleet_fit"] = {"intercept_s": a, "per_stack_ms": b * 1000}
        out["fleet_marginal_ms"] = {f"{n0}->{n1}": (t1 - t0) / (n1 - n0) * 1000
                                   for (n0, t0), (n1, t1) in itertools.pairwise(fleet_pts)}
        out["fleet_per_stack_ms"] = {str(n): t / n * 1000 for n, t in fleet_pts}
        rss = [(n, by[f"fleet_{n}"].maxrss_mib["median"]) for n in sizes if f"fleet_{n}" in by]
        ra, rb = _fit(rss)
        out["fleet_rss_fit"] = {"intercept_mib": ra, "per_stack_kib": rb * 1024}
    kap_pts = [(r.stacks, r.wall_s["median"]) for r in results if r.key.startswith("kapitan_")]
    if len(kap_pts) >= 2:
        a, b = _fit(kap_pts)
        out["kapitan_fit"] = {"intercept_s": a, "per_stack_ms": b * 1000}
    if "deps_import" in med and "single" in med:
        out["single_vs_deps_floor"] = med["single"] / med["deps_import"]
        out["single_vs_python_pass"] = med["single"] / med["python_pass"]
    if "fleet_fit" in out and "kapitan_fit" in out:
        out["kapitan_over_llmd_per_stack"] = out["kapitan_fit"]["per_stack_ms"] / out["fleet_fit"]["per_stack_ms"]
    # Files per stack: when the two write different numbers of files, compare per file too.
    big_llmd = max((r for r in results if r.key.startswith("fleet_") and r.files), key=lambda r: r.stacks,
                   default=None)
    big_kap = max((r for r in results if r.key.startswith("kapitan_") and r.files), key=lambda r: r.stacks,
                  default=None)
    if big_llmd and big_kap:
        fl, fk = big_llmd.files / big_llmd.stacks, big_kap.files / big_kap.stacks
        out["files_per_stack"] = {"llmd": fl, "kapitan": fk}
        if "kapitan_over_llmd_per_stack" in out:
            out["kapitan_over_llmd_per_file"] = out["kapitan_over_llmd_per_stack"] * fl / fk
    for n, t in kap_pts:
        if f"fleet_{n}" in med:
            out[f"kapitan_over_llmd_N{n}"] = t / med[f"fleet_{n}"]
    return out


def targets(results: list[Result], d: dict[str, object], big: int) -> list[tuple[str, str, str, bool | None]]:
    med = {r.key: r.wall_s["median"] for r in results}
    rss = {r.key: r.maxrss_mib["median"] for r in results}
    rows: list[tuple[str, str, str, bool | None]] = []

    def add(name: str, target: str, value: float | None, limit: float, fmt: str) -> None:
        if value is None:
            rows.append((name, target, "not measured", None))
        else:
            rows.append((name, target, fmt.format(value), value <= limit))

    add("single stack / dependency-import floor", "≤ 2.5×", d.get("single_vs_deps_floor"), 2.5, "{:.2f}×")
    add(f"N={big} full compile, empty out/", "≤ 3 s", med.get(f"fleet_{big}"), 3.0, "{:.2f} s")
    add(f"N={big} full compile, empty out/ on tmpfs", "≤ 3 s", med.get(f"fleet_{big}_tmpfs"), 3.0, "{:.2f} s")
    add(f"--check, unchanged N={big}", "≤ 1 s", med.get(f"check_{big}"), 1.0, "{:.2f} s")
    add(f"one spec changed, N={big} (`specs/`)", "≤ 0.5 s", med.get(f"changed_{big}"), 0.5, "{:.2f} s")
    add(f"peak RSS, N={big} full compile", "≤ 250 MB", (rss.get(f"fleet_{big}") or 0) * 1.048576 or None, 250,
        "{:.0f} MB")
    ratio = d.get("kapitan_over_llmd_per_stack")
    rows.append(("Kapitan per-stack time / llmd-compile per-stack time", "≥ 10×",
                 "not measured" if ratio is None else f"{ratio:.1f}×", None if ratio is None else ratio >= 10))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs, fleets 10 and 100, Kapitan at 10 only")
    parser.add_argument("--release", choices=("v0.9",), help="benchmark a router-shape (llm-d v0.9) fleet")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per scenario (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs per scenario (default 1)")
    parser.add_argument("--sizes", default="10,100,1000", help="fleet sizes (default 10,100,1000)")
    parser.add_argument("--kapitan-sizes", default="10,100,1000",
                        help="Kapitan fleet sizes (default 10,100,1000; empty to skip Kapitan)")
    parser.add_argument("--kapitan-big-runs", type=int, default=1,
                        help="runs for Kapitan sizes > 100, without warm-up (default 1: each takes minutes)")
    parser.add_argument("--no-compare", dest="compare", action="store_false",
                        help="skip checking Kapitan's output against llmd-compile's")
    parser.add_argument("--output", type=Path, help="results JSON (default bench/results/latest.json)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--workdir", type=Path, help="where the temporary directory goes (default: the system's "
                        "temp dir; /dev/shm measures without the disk)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.sizes, args.kapitan_sizes = 2, "10,100", "10"
    args.sizes = [int(x) for x in args.sizes.split(",") if x]
    args.kapitan_sizes = [int(x) for x in args.kapitan_sizes.split(",") if x]
    output = args.output or BENCH / "results" / ("latest-quick.json" if args.quick else "latest.json")

    info = machine(args.workdir)
    # An installed package carries compiled bytecode; an editable one under PYTHONDONTWRITEBYTECODE=1 (set on
    # these machines) would compile every module from source on every run. Compile once, as an install would.
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "compileall", "-q", str(ROOT / "llmd_compile")],
                   check=True)
    info["bytecode"] = "precompiled (compileall) before the runs"
    print(f"machine: {info}", file=sys.stderr)
    root = Path(tempfile.mkdtemp(prefix="llmd-bench-", dir=args.workdir))
    results: list[Result] = []
    kapitan_msg = None
    started = time.time()
    try:
        ws = Workspace(root, args.release)
        run_llmd(args, ws, results)
        if args.kapitan_sizes:
            print("Kapitan baseline", file=sys.stderr)
            kapitan_msg = run_kapitan(args, ws, results)
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    info["loadavg_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    big = max(args.sizes)
    d = derived(results, args.sizes)
    report = {
        "command": "bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": info,
        "results": [asdict(r) for r in results],
        "derived": d,
        "targets": [{"what": a, "target": b, "measured": c, "met": m} for a, b, c, m in targets(results, d, big)],
        "kapitan": kapitan_msg or "measured",
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print(table(results))
    for r in results:
        if r.note:
            print(f"\n{r.label}: {r.note}")
    print("\n| target | goal | measured | met |\n|---|---|---|---|")
    for what, goal, value, met in targets(results, d, big):
        print(f"| {what} | {goal} | {value} | {'—' if met is None else ('yes' if met else 'no')} |")
    print("\nderived: " + json.dumps(d, indent=2))
    if kapitan_msg:
        print("\n" + kapitan_msg)
    print(f"\nwrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
