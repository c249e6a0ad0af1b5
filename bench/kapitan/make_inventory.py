#!/usr/bin/env python3
"""Build a Kapitan project equivalent to a fleet of llmd-compile specs.

    bench/.kapitan-venv/bin/python bench/kapitan/make_inventory.py SPECS_DIR PROJECT_DIR

PROJECT_DIR gets inventory/classes/ and templates/ (copied from this directory) and one
inventory/targets/<stack>.yml per spec. A target holds the spec itself under `stack:` and picks the
classes that carry what llmd-compile keeps in its catalog: the release preset, the chart versions'
facts, the picker's plugin types, the gateway provider and its control plane, and the compile entries
of each platform (parent Application, overlay, child Applications). Choosing those classes is inventory
authoring (what a Kapitan user writes by hand), so it happens here, outside the timed `kapitan compile`.

Runs under the Kapitan venv (it needs PyYAML, which Kapitan brings).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

# Release presets (llmd_compile/catalog/charts.py RELEASES): name -> (infra, inferencepool, modelservice).
RELEASES = {
    "seed": ("v1.3.0", "v0.5.1", "v0.2.7"),
    "v0.3.0": ("v1.3.3", "v1.0.1", "v0.2.10"),
    "v0.4.0": ("v1.3.4", "v1.2.0-rc.1", "v0.3.8"),
    "v0.6": ("v1.4.0", "v1.4.0", "v0.4.9"),
}
# Picker classes by (image family, major.minor): the catalogued tag of the same minor version.
PICKERS = {
    ("sched", "0.2"): "sched_v0_2_1",
    ("sched", "0.3"): "sched_v0_3_2",
    ("sched", "0.4"): "sched_v0_4_0",
    ("sched", "0.6"): "sched_v0_6_0",
    ("sched", "0.7"): "sched_v0_7_1",
    ("sched", "0.8"): "sched_v0_8_0",
    ("gaie", "1.2"): "gaie_v1_2_0",
}

# Gateway control planes (llmd_compile/catalog/providers.py CONTROL_PLANES): release preset (none: v0.6's)
# -> provider -> control-plane class; a provider absent here (gke) needs none.
CONTROL_PLANES = {
    "seed": {"istio": "istio_alpha_bool", "kgateway": "kgateway_v2_0_4", "agentgateway": "agentgateway_v1_0_0"},
    "v0.3.0": {"istio": "istio_alpha", "kgateway": "kgateway_v2_0_4", "agentgateway": "agentgateway_v1_0_0"},
    "v0.4.0": {"istio": "istio_alpha", "kgateway": "kgateway_v2_0_4", "agentgateway": "agentgateway_v1_0_0"},
    "v0.6": {"istio": "istio_1_29_1", "kgateway": "kgateway_agentgateway_v2_2_1",
             "agentgateway": "agentgateway_v1_0_0"},
}


def _cls(version: str) -> str:
    return version.replace(".", "_").replace("-", "_")


def _release(spec: dict) -> str | None:
    if spec.get("release"):
        return spec["release"]
    charts = spec.get("charts", {})
    pins = (charts.get("infra"), charts.get("inferencepool"), charts.get("modelservice"))
    return next((name for name, versions in RELEASES.items() if pins == versions), None)


def _picker(image: str) -> str:
    repo, _, tag = image.rpartition(":")
    family = "gaie" if repo.endswith("gateway-api-inference-extension/epp") else "sched"
    m = re.match(r"v(\d+)\.(\d+)\.", tag)
    if not m or (family, f"{m[1]}.{m[2]}") not in PICKERS:
        raise SystemExit(f"no picker class for {image}")
    return PICKERS[(family, f"{m[1]}.{m[2]}")]


def target(spec: dict) -> dict:
    classes = ["common"]
    release = _release(spec)
    if release:
        classes.append(f"release.{_cls(release)}")
    for key, kind in (("infra", "infra"), ("inferencepool", "pool"), ("modelservice", "ms")):
        pinned = spec.get("charts", {}).get(key)
        if pinned:
            classes.append(f"charts.{kind}.{_cls(pinned)}")
    classes.append(f"picker.{_picker(spec['scheduler']['image'])}")
    provider = spec.get("gateway", {}).get("provider", "istio")
    classes.append(f"provider.{provider}")
    plane = CONTROL_PLANES.get(release or "v0.6", CONTROL_PLANES["v0.6"]).get(provider, "none")
    classes.append(f"controlplane.{plane}")
    platforms = spec.get("platforms", {"kubernetes": {}})
    if "openshift" in platforms:
        classes.append("platform.openshift")
        if platforms["openshift"].get("exposeRoute", True) and provider != "gke":
            classes.append("platform.openshift-route")
    if "kubernetes" in platforms:
        classes.append("platform.kubernetes")
    stack = {k: v for k, v in spec.items() if k not in ("apiVersion", "kind")}
    return {"classes": classes, "parameters": {"target_name": spec["metadata"]["name"], "stack": stack}}


def build(specs: Path, project: Path) -> int:
    for sub in ("inventory", "templates", "compiled"):
        shutil.rmtree(project / sub, ignore_errors=True)
    shutil.copytree(HERE / "inventory" / "classes", project / "inventory" / "classes")
    shutil.copytree(HERE / "templates", project / "templates")
    targets = project / "inventory" / "targets"
    targets.mkdir(parents=True)
    count = 0
    for path in sorted(specs.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        name = spec["metadata"]["name"]
        with open(targets / f"{name}.yml", "w", encoding="utf-8") as handle:
            yaml.safe_dump(target(spec), handle, sort_keys=False, default_flow_style=False)
        count += 1
    return count


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    count = build(Path(argv[0]), Path(argv[1]))
    print(f"wrote {count} Kapitan targets to {argv[1]}/inventory/targets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
