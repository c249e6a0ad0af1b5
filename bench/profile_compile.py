#!/usr/bin/env python3
"""Where llmd-compile's time goes: import time and a cProfile of a fleet compile.

    .venv/bin/python bench/profile_compile.py [N]        # N stacks, default 100

Prints markdown: the slowest imports of `llmd_compile.cli` (python -X importtime, cumulative), and
the top functions of one N-stack compile into an empty out/ (cProfile, in-process, imports already
done), by cumulative and by own time. Nothing here changes llmd_compile.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import fleet  # noqa: E402

PHASES = (
    ("read + parse + validate the specs", "spec/load.py", "load_marked"),
    ("resolve + emit the artifacts (YAML text)", "llmd_compile/compile.py", "build"),
    ("  of which: YAML emitting", "llmd_compile/yamlio.py", "dump"),
    ("lint checks on the artifacts", "llmd_compile/pipeline.py", "_diagnose"),
    ("  of which: re-parsing emitted YAML (ruamel)", "check/artifacts.py", "_load"),
    ("write out/ (compare, build, swap)", "llmd_compile/outdir.py", "write"),
    ("  of which: fsync", "~", "<built-in method posix.fsync>"),
)


def importtime(top: int = 12) -> str:
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-X", "importtime", "-c",
                           "import llmd_compile.cli"], capture_output=True, text=True, cwd=ROOT, check=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((int(m[2]), int(m[1]), len(m[3]) // 2, m[4]))
    total = sum(c for c, _, depth, _ in rows if depth == 0)
    out = [f"`python -X importtime -c 'import llmd_compile.cli'`: {total / 1000:.0f} ms of imports in all "
           "(one run; top-level modules by cumulative time):", "",
           "| module | cumulative ms | self ms |", "|---|---:|---:|"]
    for cum, self_us, _, name in sorted((r for r in rows if r[2] == 0), reverse=True)[:top]:
        out.append(f"| `{name}` | {cum / 1000:.1f} | {self_us / 1000:.1f} |")
    out += ["", "Heaviest modules anywhere in the tree, by self time:", "",
            "| module | self ms | cumulative ms |", "|---|---:|---:|"]
    for cum, self_us, _, name in sorted(rows, key=lambda r: r[1], reverse=True)[:top]:
        out.append(f"| `{name}` | {self_us / 1000:.1f} | {cum / 1000:.1f} |")
    return "\n".join(out)


def _short(path: str) -> str:
    for marker in ("site-packages/", "llmd_compile/", "lib/python3"):
        if marker in path:
            return path[path.index(marker):].replace("site-packages/", "")
    return path


def profile(n: int, top: int = 10) -> str:
    from llmd_compile.cli import main as cli_main

    with tempfile.TemporaryDirectory(prefix="llmd-profile-") as tmp:
        repo = Path(tmp)
        fleet.write_fleet(n, repo / "specs")
        cwd = os.getcwd()
        os.chdir(repo)
        prof = cProfile.Profile()
        try:
            prof.enable()
            try:
                cli_main(["specs", "--out", "out"], standalone_mode=False)
            finally:
                prof.disable()
        finally:
            os.chdir(cwd)
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    out = [f"cProfile of one {n}-stack compile into an empty out/ (in-process, after imports): "
           f"{total:.2f} s profiled ({total / n * 1000:.1f} ms per stack; cProfile inflates pure-Python code).", "",
           "Phases (cumulative time of the functions named; they nest, so they do not add up):", "",
           "| phase | function | cumulative s | share |", "|---|---|---:|---:|"]
    raw = stats.stats  # type: ignore[attr-defined]
    for phase, file_end, func in PHASES:
        cum = sum(v[3] for (fn, _, name), v in raw.items() if name == func and fn.endswith(file_end))
        if cum:
            out.append(f"| {phase} | `{file_end}:{func}` | {cum:.3f} | {cum / total:.0%} |")
    out.append("")
    for key, title in (("cumulative", "cumulative"), ("tottime", "own time")):
        out += [f"Top {top} by {title}:", "", "| function | calls | own s | cumulative s |", "|---|---:|---:|---:|"]
        width = stats.sort_stats(key)
        items = [(f, width.stats[f]) for f in width.fcn_list]  # type: ignore[attr-defined]
        shown = 0
        for (filename, line, func), (_cc, nc, tt, ct, _) in items:
            if key == "cumulative" and ("click/" in filename or func == "<built-in method builtins.exec>"):
                continue  # the CLI framework's wrappers around compile_command
            where = f"{_short(filename)}:{line}({func})" if filename != "~" else func
            out.append(f"| `{where}` | {nc} | {tt:.3f} | {ct:.3f} |")
            shown += 1
            if shown >= top:
                break
        out.append("")
    return "\n".join(out)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    print(importtime())
    print()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()  # the CLI's per-stack lines and warnings
    try:
        text = profile(n)
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
