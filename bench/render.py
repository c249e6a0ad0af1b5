#!/usr/bin/env python3
"""The cost of `--render` per stack, next to the default mode (BENCHMARKS.md, "Render mode").

    .venv/bin/python bench/render.py [--runs 5] [--charts ../shared/upstream/charts]

Per spec in specs/ (one stack each): wall time of the whole process `llmd-compile SPEC --out <fresh>/out`
(default mode) and of the same with `--render --charts DIR`, each into a fresh directory (1 warm-up, then
--runs measured runs; median, min, max), and, in process, the Helm SDK render of the stack's releases alone
(median over --runs). Results: bench/results/render.json and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).with_name("llmd-compile"))


def _wall(args: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.run([EXE, *args, "--out", f"{tmp}/out"], cwd=REPO, capture_output=True, text=True,
                              check=False)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed: {proc.stderr}")
    return wall


def _stats(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def _helm_only(spec: Path, charts: Path, runs: int) -> tuple[str, float]:
    """Median seconds of rendering the stack's releases in process (out/ as committed)."""
    from llmd_compile import render

    stack = next(s for s in render.stacks_of(REPO / "out", [spec.relative_to(REPO)]))
    samples = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        render.chart_objects(stack, charts)
        samples.append(time.perf_counter() - start)
    return stack.name, statistics.median(samples[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--charts", default=str(REPO.parent / "shared" / "upstream" / "charts"))
    opts = parser.parse_args()
    charts = Path(opts.charts).resolve()
    rows = []
    for spec in sorted((REPO / "specs").glob("*.yaml")):
        rel = str(spec.relative_to(REPO))
        name, helm = _helm_only(spec, charts, opts.runs)
        default, rendered = [], []
        for i in range(opts.runs + 1):
            d = _wall([rel])
            r = _wall([rel, "--render", "--charts", str(charts)])
            if i:
                default.append(d)
                rendered.append(r)
        rows.append({"spec": rel, "stack": name, "default": _stats(default), "render": _stats(rendered),
                     "helm_render_in_process": helm})
        print(f"{name}: default {rows[-1]['default']['median']:.3f} s, --render "
              f"{rows[-1]['render']['median']:.3f} s, Helm SDK {helm * 1000:.1f} ms", file=sys.stderr)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "system": platform.platform(),
               "cpus": __import__("os").cpu_count(), "runs": opts.runs}
    out = REPO / "bench" / "results" / "render.json"
    out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    print("| stack | default: wall median (min–max) | `--render`: wall median (min–max) | extra | Helm SDK render |")
    print("|---|---|---|---:|---:|")
    for r in rows:
        d, x = r["default"], r["render"]
        print(f"| {r['stack']} | {d['median']:.3f} s ({d['min']:.3f}–{d['max']:.3f}) | {x['median']:.3f} s "
              f"({x['min']:.3f}–{x['max']:.3f}) | +{x['median'] - d['median']:.3f} s | "
              f"{r['helm_render_in_process'] * 1000:.1f} ms |")
    meds = [r["render"]["median"] - r["default"]["median"] for r in rows]
    print(f"\nmedian extra per stack: {statistics.median(meds):.3f} s; machine: {machine}")


if __name__ == "__main__":
    main()
