#!/usr/bin/env python3
"""The cache scenarios of bench/run.py alone (run 5: the router-shape fleet's pre-commit case), out/ where --workdir
says (/dev/shm: tmpfs; elsewhere: that disk):

    .venv/bin/python bench/hook.py --release v0.9 --workdir /dev/shm --output bench/results/x.json

Generates the N-stack fleet, compiles it once (timed: the cold compile), then times `--check` on it unchanged and
`llmd-compile specs/` after one spec changed (the spec in the middle, its edit alternating as in run.py), with
run.py's measure(): 1 warm-up, --runs measured, median/min/max.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import fleet  # noqa: E402
from run import ROOT, measure  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", choices=("v0.9",))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--cold-runs", type=int, default=0, help="also time N compiles into an empty out/")
    args = parser.parse_args(argv)
    cli = str(ROOT / ".venv" / "bin" / "llmd-compile")
    root = Path(tempfile.mkdtemp(prefix="llmd-hook-", dir=args.workdir))
    results: dict[str, dict[str, float]] = {}
    try:
        paths = fleet.write_fleet(args.n, root / "specs", release=args.release)
        cold = measure([cli, "specs", "--out", "out"], root)
        results["cold_compile_once"] = {"median": cold.wall_s, "min": cold.wall_s, "max": cold.wall_s}
        if args.cold_runs:
            walls, cpus = [], []
            for _ in range(args.cold_runs):
                shutil.rmtree(root / "cold", ignore_errors=True)
                (root / "cold").mkdir()
                s = measure([cli, "specs", "--out", "cold"], root)
                walls.append(s.wall_s)
                cpus.append(s.user_s + s.sys_s)
            shutil.rmtree(root / "cold", ignore_errors=True)
            results["cold_compile"] = {"median": statistics.median(walls), "min": min(walls), "max": max(walls),
                                       "cpu_median": statistics.median(cpus)}
            print(f"cold_compile: {results['cold_compile']}", file=sys.stderr)
        victim = sorted(paths)[len(paths) // 2]
        original = victim.read_text(encoding="utf-8")
        marker = "\n    users: " if "\n    users: " in original else "\n    targetRevision: "
        head, _, tail = original.partition(marker)
        _, _, rest = tail.partition("\n")
        values = ("3", "5") if "users" in marker else ("bench-a", "bench-b")
        variants = [f"{head}{marker}{v}\n{rest}" for v in values]

        def timed(key: str, cmd: list[str], before=None) -> None:
            walls, cpus = [], []
            for i in range(-1, args.runs):
                if before:
                    before(i)
                s = measure(cmd, root)
                if i >= 0:
                    walls.append(s.wall_s)
                    cpus.append(s.user_s + s.sys_s)
            results[key] = {"median": statistics.median(walls), "min": min(walls), "max": max(walls),
                            "cpu_median": statistics.median(cpus)}
            print(f"{key}: {results[key]}", file=sys.stderr)

        timed("check_unchanged", [cli, "specs", "--check", "--out", "out"])
        timed("one_changed", [cli, "specs", "--out", "out"],
              lambda i: victim.write_text(variants[i % 2], encoding="utf-8"))
        victim.write_text(original, encoding="utf-8")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    args.output.write_text(json.dumps({"release": args.release or "default", "n": args.n, "runs": args.runs,
                                       "workdir": str(args.workdir or tempfile.gettempdir()),
                                       "results": results}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
