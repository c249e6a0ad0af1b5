"""Every stack in out/ and in the golden corpus (tests/golden/out), rendered with the real charts at its pinned
versions (Helm era: llm-d-infra/inferencepool/llm-d-modelservice; router shape: the llm-d router chart) plus each
platform's kustomize overlays built by kubectl kustomize: both splitters agree, every object
validates as the API server would (structural schema, defaults, CEL rules), and every cross-object reference
resolves (tests/render/wiring.py)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.render import helpers, validate, wiring

REPO = Path(__file__).resolve().parents[2]
ROOTS = {"out": REPO / "out", "golden": REPO / "tests" / "golden" / "out"}
CASES = [(f"{root}/{s}", p) for root, d in ROOTS.items() for s in helpers.helm_era_stacks(d)
         for p in helpers.platforms(d / s)]
# Router-shape stacks (llm-d v0.8+): the router chart's release plus every <part>/overlays/<platform>.
ROUTER_CASES = [(f"{root}/{s}", p) for root, d in ROOTS.items() for s in helpers.router_stacks(d)
                for p in helpers.platforms(d / s)]
CASES += ROUTER_CASES
# A stack whose route attaches to another stack's Gateway (spec gateway.create: false): wired together with the
# objects of that stack's gateway/ tree, as they share one cluster.
PEERS = {"out/multi-model-llama": "out/multi-model-qwen"}

# Known defects, strict: each must fail until fixed, then its line goes (issue 14's five are fixed).
KNOWN: dict[tuple[str, str], str] = {}
# Objects whose oracle is not in ../shared, by (stack, kind): listed, never silently passed.
NO_ORACLE: dict[tuple[str, str], str] = {
    ("golden/kgw", "GatewayParameters"): (
        "llm-d-infra v1.3.0 hard-codes GatewayParameters floatingUserId for kgateway v2.0.4 (the prereqs' pin), "
        "whose CRD is not in ../shared; the v2.2.8+ CRDs there no longer have the field (CATALOG §c.1, §c.2)"),
}


def _dir(stack: str) -> Path:
    root, _, name = stack.partition("/")
    return ROOTS[root] / name


@functools.cache
def rendered(stack: str, platform: str) -> helpers.Rendered:
    return helpers.render_stack(_dir(stack), platform)


def _mark(check: str) -> list[object]:
    return [
        pytest.param(s, p, id=f"{s}-{p}", marks=[pytest.mark.xfail(strict=True, reason=KNOWN[(check, s)])]
                     if (check, s) in KNOWN else [])
        for s, p in CASES
    ]


def test_there_are_stacks_to_render() -> None:
    assert len([c for c in CASES if c[0].startswith("out/")]) >= 20, CASES
    assert {"out/optimized-baseline", "out/pd-disaggregation", "out/standalone"} <= {s for s, _ in ROUTER_CASES}
    assert len([c for c in CASES if c[0].startswith("golden/")]) >= 8, CASES


@pytest.mark.parametrize(("stack", "platform"), _mark("split"))
def test_helm_and_kubectl_split_alike(stack: str, platform: str) -> None:
    assert rendered(stack, platform).problems == []


@pytest.mark.parametrize(("stack", "platform"), _mark("valid"))
def test_objects_validate(stack: str, platform: str) -> None:
    r = rendered(stack, platform)
    version = helpers.kubernetes_version(_dir(stack))
    bad = [f"{o!r}: {e}" for o in r.objects if (stack, o.kind) not in NO_ORACLE
           for e in validate.errors(o.doc, version)]
    assert bad == []


@pytest.mark.parametrize(("stack", "platform"), _mark("wiring"))
def test_wiring(stack: str, platform: str) -> None:
    r = rendered(stack, platform)
    if stack in PEERS:
        peer, _ = helpers.kustomize(_dir(PEERS[stack]), platform)
        r = helpers.Rendered(r.stack, platform, [*r.objects, *(o for o in peer if o.source.startswith("gateway/"))])
    assert wiring.problems(r, _dir(stack)) == []


def test_peer_gateway_is_needed() -> None:
    """Without its peer's Gateway the shared-gateway stack's route dangles (so PEERS is not decoration)."""
    for stack in PEERS:
        assert any("parentRef Gateway" in p for p in wiring.problems(rendered(stack, "kubernetes"), _dir(stack)))


@pytest.mark.parametrize(("stack", "kind"), sorted(NO_ORACLE))
def test_every_missing_oracle_is_rendered(stack: str, kind: str) -> None:
    """An exemption names an object that is really rendered (so the table cannot rot)."""
    assert any(o.kind == kind for p in helpers.platforms(_dir(stack)) for o in rendered(stack, p).objects)
