#!/usr/bin/env python3
"""How much of Kapitan's per-target time is Jinja2 compiling templates, not rendering them.

    cd PROJECT_DIR && bench/.kapitan-venv/bin/python bench/kapitan/template_cost.py [TARGET...]

PROJECT_DIR is a project from make_inventory.py. For each target (default: the first 5) it renders
every template the way `kapitan compile` does (kapitan.utils.render_jinja2: a new jinja2.Environment
per file, so every template and every template it imports is compiled again), then with the shared
templates/lib/ compiled once (each output template still compiled per file: about what inlining the
shared code would cost), then with every compiled template reused (pure rendering). Prints milliseconds
per target for both. Diagnostics only: the benchmark itself runs plain `kapitan compile`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import jinja2
import yaml
from kapitan.utils import render_jinja2


def render(inventory: dict) -> float:
    """Every jinja2 compile entry of the target, with its input_params, as `kapitan compile` runs them."""
    entries = [e for e in inventory["parameters"]["kapitan"]["compile"] if e.get("input_type") == "jinja2"]
    start = time.perf_counter()
    for entry in entries:
        ctx = {"inventory": inventory, "inventory_global": {}, "input_params": dict(entry.get("input_params", {}))}
        for path in entry["input_paths"]:
            render_jinja2(path, ctx, search_paths=["."])
    return time.perf_counter() - start


def main(targets: list[str]) -> int:
    if not targets:
        targets = sorted(p.stem for p in Path("inventory/targets").glob("*.yml"))[:5]
    kapitan = str(Path(sys.executable).parent / "kapitan")
    plain, libs, cached = [], [], []
    for name in targets:
        text = subprocess.run([kapitan, "inventory", "-t", name], capture_output=True, text=True, check=True).stdout
        inventory = yaml.safe_load(text)
        render(inventory)  # warm the file system and imports
        plain.append(min(render(inventory) for _ in range(3)))
        original = jinja2.FileSystemLoader.load
        for only_libs, out in ((True, libs), (False, cached)):
            compiled: dict[str, jinja2.Template] = {}

            def load(self, environment, name, globals=None, _orig=original, _libs=only_libs, _c=compiled):
                if _libs and not name.startswith("templates/lib/"):
                    return _orig(self, environment, name, globals)
                if name not in _c:
                    _c[name] = _orig(self, environment, name, globals)
                return _c[name]

            jinja2.FileSystemLoader.load = load
            try:
                render(inventory)
                out.append(min(render(inventory) for _ in range(3)))
            finally:
                jinja2.FileSystemLoader.load = original
    p, lb, c = (statistics.median(x) * 1000 for x in (plain, libs, cached))
    print(f"{len(targets)} targets, median ms per target: as kapitan renders {p:.0f}; "
          f"shared libraries (templates/lib/) compiled once {lb:.0f}; all templates compiled once {c:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
