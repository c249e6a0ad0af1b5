"""Every Helm-era stack in out/, rendered with the real charts at its pinned versions plus each platform
overlay built by kubectl kustomize: both splitters agree, every object validates as the API server would
(structural schema, defaults, CEL rules), and every cross-object reference resolves (tests/render/wiring.py)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.render import helpers, validate, wiring

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "out"
CASES = [(s, p) for s in helpers.helm_era_stacks(OUT) for p in helpers.platforms(OUT / s)]
IDS = [f"{s}-{p}" for s, p in CASES]

# Known defects (issue 14), strict: each must fail until fixed, then its line goes.
KNOWN: dict[tuple[str, str], str] = {}


@functools.cache
def rendered(stack: str, platform: str) -> helpers.Rendered:
    return helpers.render_stack(OUT / stack, platform)


def _mark(check: str) -> list[object]:
    return [
        pytest.param(s, p, id=f"{s}-{p}", marks=[pytest.mark.xfail(strict=True, reason=KNOWN[(check, s)])]
                     if (check, s) in KNOWN else [])
        for s, p in CASES
    ]


def test_there_are_stacks_to_render() -> None:
    assert len(CASES) >= 20, CASES


@pytest.mark.parametrize(("stack", "platform"), _mark("split"))
def test_helm_and_kubectl_split_alike(stack: str, platform: str) -> None:
    assert rendered(stack, platform).problems == []


@pytest.mark.parametrize(("stack", "platform"), _mark("valid"))
def test_objects_validate(stack: str, platform: str) -> None:
    r = rendered(stack, platform)
    version = helpers.kubernetes_version(OUT / stack)
    bad = [f"{o!r}: {e}" for o in r.objects for e in validate.errors(o.doc, version)]
    assert bad == []


@pytest.mark.parametrize(("stack", "platform"), _mark("wiring"))
def test_wiring(stack: str, platform: str) -> None:
    assert wiring.problems(rendered(stack, platform), OUT / stack) == []
