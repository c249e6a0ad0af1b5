"""The README's pre-commit snippet for another repository names hooks this repository offers, with a pinned rev."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]


def test_the_snippet_uses_our_hooks_and_pins_a_tag() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## pre-commit, from another repository", 1)[1].split("\n## ", 1)[0]
    (snippet,) = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    config = YAML(typ="safe", pure=True).load(snippet)
    (repo,) = config["repos"]
    offered = {hook["id"] for hook in YAML(typ="safe", pure=True).load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {hook["id"] for hook in repo["hooks"]} <= offered
    assert "llmd-compile-check" in snippet and "llmd-compile-check" in offered  # the commented alternative exists
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.MULTILINE)
    assert version and repo["rev"] == f"v{version.group(1)}"  # a tag of this version, not a branch
