"""Stacks against each other: several models behind one Gateway (router shape). Run by the pipeline in the CLI
process after every stack compiled, so it stays light (no pydantic, no compiler): it reads compiled files only.

Each stack is one model with its own InferencePool and picker; stacks of one namespace share its Gateway. Read from
the compiled files of every stack of a run (and, for stacks answered from the cache, from their out/ directory):
* no two pools select the same pods (a pool's selector matching another stack's pod template);
* no route shadows another: two HTTPRoutes on one Gateway with the same matches (the older one takes every request,
  the other model is unreachable);
* one Gateway is created by one stack (the others set gateway.create: false).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmd_compile.errors import Problem

VALUES = "values/router.yaml"
BASE = "modelserver/base/"
GATEWAY = "gateway/base/gateway.yaml"
BASE_MODEL_HEADER = "X-Gateway-Base-Model-Name"


@dataclass(frozen=True)
class Routed:
    """What the cross-stack checks read of one compiled router-shape stack."""

    name: str
    source: str
    namespace: str
    selector: tuple[tuple[str, str], ...]
    pods: tuple[tuple[tuple[str, str], ...], ...]  # label sets of its pod templates
    gateway: tuple[str, str] | None  # (namespace, name) its HTTPRoute attaches to
    matches: frozenset[tuple[str, str]]  # the route's exact header matches
    creates_gateway: bool


def _load(text: str) -> Any:
    from ruamel.yaml import YAML  # only when a router-shape stack is there to read

    # The C parser (libyaml), as check/artifacts.py: the pure-Python one made this pass 3/4 of a 1000-stack fleet.
    return YAML(typ="safe", pure=False).load(str(text))


def routed(name: str, source: str, files: Mapping[str, str]) -> Routed | None:
    """None for a stack that is not router-shaped."""
    if VALUES not in files or f"{BASE}kustomization.yaml" not in files:
        return None
    values = _load(files[VALUES]) or {}
    namespace = str((_load(files[f"{BASE}kustomization.yaml"]) or {}).get("namespace", ""))
    selector = ((values.get("router") or {}).get("modelServers") or {}).get("matchLabels") or {}
    pods = []
    for rel in sorted(files):
        if rel.startswith(BASE) and not rel.endswith("kustomization.yaml") and "kind: Deployment" in str(files[rel]):
            doc = _load(files[rel]) or {}
            if doc.get("kind") == "Deployment":
                labels = ((doc.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
                pods.append(tuple(sorted((str(k), str(v)) for k, v in labels.items())))
    route = values.get("httpRoute") or {}
    gateway = None
    matches: set[tuple[str, str]] = set()
    if route.get("create"):
        gateway = (str(route.get("inferenceGatewayNamespace") or namespace), str(route.get("inferenceGatewayName")))
        matches = {(str(k), str(v)) for k, v in (route.get("headerMatches") or {}).items()}
        if route.get("baseModel"):
            matches.add((BASE_MODEL_HEADER, str(route["baseModel"])))
    return Routed(name, source, namespace, tuple(sorted((str(k), str(v)) for k, v in selector.items())),
                  tuple(pods), gateway, frozenset(matches), GATEWAY in files)


def _describe(matches: frozenset[tuple[str, str]]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(matches)) or "every request (no header match)"


def conflicts(stacks: list[Routed]) -> list[Problem]:
    """Problems of each stack against the stacks before it (so each pair is reported once)."""
    problems: list[Problem] = []
    for i, this in enumerate(stacks):
        for other in stacks[:i]:
            if this.namespace == other.namespace:
                for a, b in ((this, other), (other, this)):
                    if a.selector and any(set(a.selector) <= set(pod) for pod in b.pods):
                        problems.append(Problem(this.source, 0, 0, "metadata.name", f"the InferencePool of {a.name} "
                                                f"({dict(a.selector)}) also selects the pods of {b.name}: two pools "
                                                "would route to one model server"))
            if this.gateway is not None and this.gateway == other.gateway and this.matches == other.matches:
                problems.append(Problem(this.source, 0, 0, "route.match", f"the HTTPRoute of {this.name} takes the "
                                        f"same requests as {other.name}'s on Gateway {this.gateway[1]} "
                                        f"({_describe(this.matches)}): the older route wins and one model is "
                                        "unreachable; set route.match.baseModel (or headers) on each"))
            if this.creates_gateway and other.creates_gateway and this.namespace == other.namespace:
                problems.append(Problem(this.source, 0, 0, "gateway.create", f"{other.name} creates the Gateway of "
                                        f"namespace {this.namespace} too: two Argo CD applications would own it; "
                                        "set gateway.create: false on all stacks but one"))
    return problems
