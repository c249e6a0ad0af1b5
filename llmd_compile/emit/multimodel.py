"""Several models behind one Gateway (LD@e3dbeca1 guides/workload-autoscaling/multi-inference-pool): one stack per
model, each its own InferencePool and picker (router release) selecting only its own pods, each HTTPRoute matching
its model (`route.match`: X-Gateway-Base-Model-Name and more exact header matches, the router chart's
httpRoute.baseModel/headerMatches); one stack creates the Gateway and the cluster prerequisites, the others set
`gateway.create: false`. crossstack.py checks the stacks of a run against each other.
"""

from __future__ import annotations

from typing import Any

from llmd_compile.errors import Problem, SpecError
from llmd_compile.resolve import Stack

BASE_MODEL_HEADER = "X-Gateway-Base-Model-Name"  # what the router chart matches httpRoute.baseModel on


def route_values(stack: Stack) -> dict[str, Any]:
    """httpRoute keys of route.match."""
    route = stack.spec.route
    if route is None:
        return {}
    out: dict[str, Any] = {}
    if route.match.baseModel:
        out["baseModel"] = stack.spec.model.served_name
    if route.match.headers:
        out["headerMatches"] = dict(sorted(route.match.headers.items()))
    return out


def header_matches(stack: Stack) -> dict[str, str]:
    """The exact header matches of the stack's route, as the chart renders them."""
    values = route_values(stack)
    found = dict(values.get("headerMatches", {}))
    if "baseModel" in values:
        found[BASE_MODEL_HEADER] = values["baseModel"]
    return found


def picker_config(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    """No picker change: the shape guard for route.match / gateway.create, run once per stack with the picker."""
    spec = stack.spec
    if stack.shape == "router":
        return body
    problems = []
    if spec.route is not None and "match" in spec.route.model_fields_set:
        problems.append(Problem(stack.source, 0, 0, "route.match", "route matches are generated for the router "
                                "shape only (release v0.8 or v0.9)"))
    if not spec.gateway.create:
        problems.append(Problem(stack.source, 0, 0, "gateway.create", "a shared Gateway is generated for the "
                                "router shape only (release v0.8 or v0.9)"))
    if problems:
        raise SpecError(problems)
    return body
