"""Stacks against each other: several models behind one Gateway (router shape). Run by the pipeline in the CLI
process after every stack compiled, so it stays light (no pydantic, no compiler): it reads compiled files only.

Each stack is one model with its own InferencePool and picker; stacks of one namespace share its Gateway. Read from
the compiled files of every stack of a run (and, for stacks answered from the cache, from their out/ directory):
* no two pools select the same pods (a pool's selector matching another stack's pod template);
* no route shadows another: two HTTPRoutes on one Gateway with the same matches (the older one takes every request,
  the other model is unreachable);
* one Gateway is created by one stack (the others set gateway.create: false).

What a stack shows these checks is its summary (`Routed`); the local cache keeps it per spec as JSON
(`summary`/`from_summary`), so a run where one stack changed reads no other stack's files. Stacks are compared only
within a namespace or a Gateway (indexed), not all pairs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
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


def _data(text: str) -> Any:
    """The document of a compiled file: the data it was dumped from when it still carries it (yamlio.YamlText, in
    the process that compiled it), else parsed."""
    data = getattr(text, "data", None)
    return data if isinstance(data, dict) else _load(text)


def routed(name: str, source: str, files: Mapping[str, str]) -> Routed | None:
    """None for a stack that is not router-shaped."""
    if VALUES not in files or f"{BASE}kustomization.yaml" not in files:
        return None
    values = _data(files[VALUES]) or {}
    namespace = str((_data(files[f"{BASE}kustomization.yaml"]) or {}).get("namespace", ""))
    selector = ((values.get("router") or {}).get("modelServers") or {}).get("matchLabels") or {}
    pods = []
    for rel in sorted(files):
        if rel.startswith(BASE) and not rel.endswith("kustomization.yaml") and "kind: Deployment" in str(files[rel]):
            doc = _data(files[rel]) or {}
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


def summary(found: Routed | None) -> str:
    """What the cache keeps of a stack for these checks (JSON; `null`: not router-shaped)."""
    if found is None:
        return "null"
    return json.dumps([found.namespace, found.selector, found.pods, found.gateway, sorted(found.matches),
                       found.creates_gateway], separators=(",", ":"))


def _pairs(items: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(items, list) or not all(isinstance(p, list) and len(p) == 2 for p in items):
        raise ValueError("not a list of pairs")
    return tuple((str(k), str(v)) for k, v in items)


def from_summary(name: str, source: str, text: str) -> Routed | None:
    """The summary `summary` wrote, for stack `name` shown as `source`; ValueError if it is not one."""
    data = json.loads(text)
    if data is None:
        return None
    if not isinstance(data, list) or len(data) != 6 or not isinstance(data[2], list):
        raise ValueError("not a cross-stack summary")
    namespace, selector, pods, gateway, matches, creates = data
    if gateway is not None and not (isinstance(gateway, list) and len(gateway) == 2):
        raise ValueError("not a gateway")
    return Routed(name, source, str(namespace), _pairs(selector), tuple(_pairs(p) for p in pods),
                  None if gateway is None else (str(gateway[0]), str(gateway[1])), frozenset(_pairs(matches)),
                  creates is True)


def _recorded(name: str, source: str, text: str) -> tuple[bool, Routed | None]:
    """(whether the summary could be read, what it says)."""
    if not text:
        return False, None
    try:
        return True, from_summary(name, source, text)
    except (ValueError, TypeError):
        return False, None


def compiled(name: str, source: str, summary: str, files: Mapping[str, str]) -> Routed | None:
    """A stack compiled now: from the summary its compile made, else from its files."""
    read, found = _recorded(name, source, summary)
    return found if read else routed(name, source, files)


def answered(name: str, source: str, summary: str, folder: Path) -> Routed | None:
    """A stack answered from the cache: from its record's summary (its outputs are intact, so the summary of
    them holds), else, as a fresh clone does, from its files in out/ (`folder`)."""
    read, found = _recorded(name, source, summary)
    if read:
        return found
    if not (folder / VALUES).is_file():
        return None
    files = {rel: (folder / rel).read_text(encoding="utf-8")
             for rel in [VALUES, GATEWAY, *(f"{BASE}{p.name}" for p in sorted((folder / BASE).glob("*.yaml")))]
             if (folder / rel).is_file()}
    return routed(name, source, files)


def _describe(matches: frozenset[tuple[str, str]]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(matches)) or "every request (no header match)"


def conflicts(stacks: list[Routed]) -> list[Problem]:
    """Problems of each stack against the stacks before it (so each pair is reported once)."""
    problems: list[Problem] = []
    # Only stacks of one namespace (pools, Gateway owners) or one Gateway (routes) can conflict: each stack meets
    # the earlier ones of its namespace and of its Gateway, in their order (so problems come as all pairs give).
    by_namespace: dict[str, list[int]] = {}
    by_gateway: dict[tuple[str, str], list[int]] = {}
    for i, this in enumerate(stacks):
        earlier = set(by_namespace.get(this.namespace, ()))
        if this.gateway is not None:
            earlier.update(by_gateway.get(this.gateway, ()))
        by_namespace.setdefault(this.namespace, []).append(i)
        if this.gateway is not None:
            by_gateway.setdefault(this.gateway, []).append(i)
        for other in (stacks[j] for j in sorted(earlier)):
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
