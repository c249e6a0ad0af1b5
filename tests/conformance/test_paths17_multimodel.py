"""Several models behind one Gateway (specs/multi-model-{qwen,llama}.yaml), read back from the real tools.

Both router releases rendered with the pinned router chart, both model servers and the one Gateway built with
`kubectl kustomize`: both HTTPRoutes attach to the Gateway one stack creates (same namespace, admitted), each sends
only its model's requests (an exact X-Gateway-Base-Model-Name match on the served name) to its own InferencePool, no
route's matches equal another's, and each pool selects its own model's pods and none of the other's. Then the
cross-stack checks (crossstack.py) must fire on broken variants of the pair, as data.
"""

from __future__ import annotations

import shutil
from functools import cache
from typing import Any

import pytest

from llmd_compile import crossstack as multimodel
from tests.conformance import router_oracle as ro
from tests.conformance.oracles import REPO_ROOT, kustomize_build, validate_any

PAIR = ("multi-model-qwen.yaml", "multi-model-llama.yaml")


@cache
def _rendered(spec: str) -> list[dict[str, Any]]:
    stack, files = ro.compiled(spec)
    return ro.render(stack, ro.values_of(files))


def _built(spec: str, part: str) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (kustomize) not on PATH")
    stack, _ = ro.compiled(spec)
    return kustomize_build(REPO_ROOT / "out" / stack.spec.metadata.name / part)


def _labels(doc: dict[str, Any]) -> dict[str, str]:
    return dict(doc["spec"]["template"]["metadata"]["labels"])


def test_one_gateway_routes_each_model_to_its_own_pool() -> None:
    owners = [s for s in PAIR if (REPO_ROOT / "out" / ro.compiled(s)[0].spec.metadata.name / "gateway").is_dir()]
    assert owners == ["multi-model-qwen.yaml"], "exactly one stack creates the Gateway"
    gateways = ro.by_kind(_built(owners[0], "gateway/overlays/kubernetes"), "Gateway")
    assert len(gateways) == 1 and not validate_any(gateways[0])
    gateway = gateways[0]
    pods = {s: [d for d in _built(s, "modelserver/overlays/kubernetes") if d["kind"] == "Deployment"] for s in PAIR}
    seen_matches = []
    for spec in PAIR:
        stack, _ = ro.compiled(spec)
        docs = _rendered(spec)
        route, pool = ro.one(docs, "HTTPRoute"), ro.one(docs, "InferencePool")
        assert not validate_any(route)
        assert [(r["name"], r.get("namespace", route["metadata"]["namespace"])) for r in route["spec"]["parentRefs"]] \
            == [(gateway["metadata"]["name"], stack.names.namespace)]
        (rule,) = route["spec"]["rules"]
        assert rule["backendRefs"] == [{"group": pool["apiVersion"].split("/")[0], "kind": "InferencePool",
                                        "name": pool["metadata"]["name"]}]
        headers = {(h["name"], h["value"]) for m in rule["matches"] for h in m.get("headers", [])
                   if h.get("type", "Exact") == "Exact"}
        assert headers == {(multimodel.BASE_MODEL_HEADER, stack.spec.model.served_name)}
        seen_matches.append(frozenset(headers))
        selector = pool["spec"]["selector"]["matchLabels"]
        for other, deployments in pods.items():
            selected = [d for d in deployments if selector.items() <= _labels(d).items()]
            assert bool(selected) == (other == spec), f"{spec}'s pool and {other}'s pods"
    assert len(set(seen_matches)) == len(seen_matches), "no route shadows another"


def _routed(spec: str, edit: tuple[str, str, str] | None = None) -> multimodel.Routed:
    stack, files = ro.compiled(spec)
    files = dict(files)
    if edit:
        rel, old, new = edit
        assert files[rel].count(old) == 1
        files[rel] = files[rel].replace(old, new)
    found = multimodel.routed(stack.spec.metadata.name, spec, files)
    assert found is not None
    return found


LLAMA_BASE = "baseModel: meta-llama/Llama-3.1-8B-Instruct"
CASES = [
    # (edit of the llama stack's files, expected field of the finding or None)
    (None, None),
    (("values/router.yaml", LLAMA_BASE, "baseModel: Qwen/Qwen3-32B"), "route.match"),
    (("values/router.yaml", "llm-d.ai/guide: multi-model-llama", "llm-d.ai/guide: multi-model-qwen"), "metadata.name"),
]


@pytest.mark.parametrize(("edit", "field"), CASES, ids=["clean", "same-model-route", "pool-overlap"])
def test_cross_stack_checks(edit: tuple[str, str, str] | None, field: str | None) -> None:
    found = multimodel.conflicts([_routed(PAIR[0]), _routed(PAIR[1], edit)])
    assert [p.field for p in found] == ([field] if field else [])


def test_two_gateway_creators() -> None:
    qwen = _routed(PAIR[0])
    creator = multimodel.Routed(**{**qwen.__dict__, "name": "other", "source": "other.yaml",
                                   "matches": frozenset({("x-tenant", "b")}),
                                   "selector": (("llm-d.ai/guide", "other"),), "pods": ()})
    assert [p.field for p in multimodel.conflicts([qwen, creator])] == ["gateway.create"]
