"""`llmd-compile upgrade` over every spec in specs/ and the tests' spec corpus, to the newest preset of each install
shape this llmd-compile has: the upgraded spec compiles; model, roles, replicas, parallelism, scorer intent, route
and platforms are what they were; every comment survives byte for byte; a second upgrade has nothing to do."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from llmd_compile.adopt.upgrade import presets, upgrade_text, verify
from llmd_compile.errors import SpecError
from llmd_compile.spec.load import load

REPO = Path(__file__).resolve().parents[2]
CORPUS = sorted([*(REPO / "specs").glob("*.yaml"), *(REPO / "tests" / "golden" / "cases").glob("*.yaml"),
                 *(REPO / "tests" / "conformance" / "guides").glob("*.yaml")])
# The newest preset of each install shape (v0.9 joins when the router-era presets exist).
TARGETS = [name for name in ("v0.6", "v0.9") if name in presets()]
KEPT = ("model", "decode.replicas", "decode.parallelism", "prefill.replicas", "prefill.parallelism",
        "scheduler.scorers", "scheduler.picker", "route", "platforms", "gateway")
ORDER = list(presets())  # oldest first: the Helm-era presets, then the router-era ones


def weights(spec: object) -> object:
    """A hand-written picker config's scoring: profiles as {pluginRef: weight} (plugin renames may touch the rest)."""
    config = _field(spec, "scheduler.endpointPickerConfig") or {}
    return {p["name"]: {r["pluginRef"]: r.get("weight") for r in p.get("plugins") or []}
            for p in config.get("schedulingProfiles") or []}  # type: ignore[union-attr]


def comments(text: str) -> list[str]:
    """Every comment (from `#` to the end of its line) outside quotes."""
    found = []
    for line in text.splitlines():
        match = re.search(r"(?:^|\s)(#.*)$", line)
        if match and line[:match.start(1)].count('"') % 2 == 0 and line[:match.start(1)].count("'") % 2 == 0:
            found.append(match.group(1))
    return found


def _field(spec: object, dotted: str) -> object:
    for part in dotted.split("."):
        spec = getattr(spec, part, None)
    return spec


def _copy(tmp_path: Path, spec: Path) -> Path:
    target = tmp_path / spec.relative_to(REPO)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(spec, target)
    return target


def _release(spec: Path) -> str:
    found = re.search(r"^release: *(\S+)", spec.read_text(encoding="utf-8"), re.MULTILINE)
    return found.group(1) if found else "seed"  # no release: the seed's chart pins (or a layer's)


# (spec, target): every target not older than the spec's release (a downgrade is not what upgrade is for).
PAIRS = [(spec, target) for spec in CORPUS for target in TARGETS
         if ORDER.index(target) >= ORDER.index(_release(spec))]


@pytest.mark.parametrize(("spec", "target"), PAIRS, ids=[f"{p.relative_to(REPO)}->{t}" for p, t in PAIRS])
def test_upgrade_keeps_intent_and_comments(tmp_path: Path, spec: Path, target: str) -> None:
    path = _copy(tmp_path, spec)
    text = path.read_text(encoding="utf-8")
    before = load(path)
    if before.release == target:
        with pytest.raises(SpecError, match=f"already at release {target}"):
            upgrade_text(path, spec.name, text, target)
        return
    upgraded = upgrade_text(path, spec.name, text, target)
    verify(path, spec.name, upgraded.text)  # compiles
    path.write_text(upgraded.text, encoding="utf-8")
    after = load(path)
    assert after.release == target
    for dotted in KEPT:
        assert _field(after, dotted) == _field(before, dotted), dotted
    assert weights(after) == weights(before)
    for comment in comments(text):
        assert comment in upgraded.text
    with pytest.raises(SpecError, match=f"already at release {target}"):
        upgrade_text(path, spec.name, upgraded.text, target)  # upgrading twice changes nothing


@pytest.mark.parametrize("target", TARGETS)
def test_fleet_base_upgrades_and_every_stack_compiles(tmp_path: Path, target: str) -> None:
    shutil.copytree(REPO / "specs" / "fleet", tmp_path / "fleet")
    base = tmp_path / "fleet" / "base.yaml"
    text = base.read_text(encoding="utf-8")
    upgraded = upgrade_text(base, "base.yaml", text, target)
    base.write_text(upgraded.text, encoding="utf-8")
    for comment in comments(text):
        assert comment in upgraded.text
    from llmd_compile.compile import build

    for leaf in sorted((tmp_path / "fleet").glob("*-*.yaml")):
        spec = load(leaf)
        assert spec.release == target
        build(spec, leaf.name)
