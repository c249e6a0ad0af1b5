"""Render a router-shape stack's values with the REAL llm-d router chart at its pinned version (helm-python-sdk).

Shared by the render conformance and the guide fidelity tests. The charts are the published ones under
../shared/upstream/charts/llm-d-router-{gateway,standalone}/<version>/ (see their README).
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.compile import build
from llmd_compile.resolve import Stack
from llmd_compile.spec.load import load
from tests.conformance.oracles import REPO_ROOT, shared

SPECS = REPO_ROOT / "specs"


def _yaml() -> YAML:
    return YAML(typ="safe", pure=True)


def parse(text: str) -> Any:
    return _yaml().load(io.StringIO(str(text)))


def split_docs(text: str) -> list[dict[str, Any]]:
    """Split on lines that are exactly `---` (as kubectl and Argo CD do), parse each, drop empty ones."""
    docs: list[dict[str, Any]] = []
    chunk: list[str] = []
    for line in [*text.splitlines(), "---"]:
        if line == "---":
            doc = parse("\n".join(chunk)) if chunk else None
            if isinstance(doc, dict):
                docs.append(doc)
            chunk = []
        else:
            chunk.append(line)
    return docs


@functools.cache
def compiled(spec_name: str) -> tuple[Stack, dict[str, str]]:
    path = SPECS / spec_name
    return build(load(path), f"specs/{spec_name}")


def router_specs() -> list[str]:
    """Every spec in specs/ whose release preset is router-shaped (v0.8+)."""
    out = []
    for path in sorted(SPECS.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if "\nrelease: v0.8" in text or "\nrelease: v0.9" in text:
            out.append(path.name)
    return out


def values_of(files: dict[str, str]) -> dict[str, Any]:
    return parse(files["values/router.yaml"])


def chart_dir(stack: Stack) -> Path:
    from llmd_compile.emit.router import gitops

    rel = gitops.release(stack)
    path = shared() / "upstream" / "charts" / rel["chart"] / rel["version"]
    if not path.is_dir():
        pytest.fail(f"no published chart {path}")
    return path


def render(stack: Stack, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object the pinned router chart renders for these values (as `helm template` would)."""
    helm = pytest.importorskip("helm_python", reason="helm-python-sdk (the test extra) renders the chart")
    with helm.Chart.load(str(chart_dir(stack))) as chart:
        files = chart.render(values, name=stack.spec.metadata.name, namespace=stack.names.namespace,
                             is_install=True)
    docs: list[dict[str, Any]] = []
    for name in sorted(files):
        if name.endswith((".yaml", ".yml")):
            docs += split_docs(files[name])
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, rendered {len(found)}"
    return found[0]
