"""Fidelity: for the v0.9 guides, a spec reproduces the guide's router values semantically.

The guide's values are what its README installs in gateway mode (LD@e3dbeca1, CURRENT §1.5): the merge of
guides/recipes/router/base.values.yaml and guides/<guide>/router/<guide>.values.yaml, plus `--set
provider.name=istio --set httpRoute.create=true --set httpRoute.inferenceGatewayName=llm-d-inference-gateway`,
installed with `--version ${ROUTER_CHART_VERSION}` from env.sh (v0.10.0). Every difference — in the values and in
the EndpointPickerConfig's plugin types — must be listed below with its reason, and every listed difference must
still exist (so the table cannot go stale). Slips of the guides themselves are listed as such.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.compile import build
from llmd_compile.emit.router import gitops
from llmd_compile.spec.load import load
from tests.conformance.oracles import helm_merge, shared

CASES = Path(__file__).parent / "router_guides"
GUIDE_COMMIT = "commit-e3dbeca1"  # llm-d v0.9.0 pin commit (CURRENT §0)
SET_FLAGS = {"provider": {"name": "istio"},
             "httpRoute": {"create": True, "inferenceGatewayName": "llm-d-inference-gateway"}}

# Differences every guide shares.
_COMMON = {
    "router.epp.image": "we pin the picker image the preset names (the published v0.10.0 chart defaults to the same "
                        "tag) so scheduler.image overrides land and the artifact shows what runs",
    "router.proxy": "base.values.yaml is shared by both charts; the proxy is the standalone chart's Envoy, which the "
                    "gateway chart does not run, so we write it for llm-d-router-standalone only",
    "router.extraServicePorts": "the guide exposes the Envoy listener (8081) as EPP Service port 80: standalone mode "
                                "only, the gateway chart has no Envoy",
    "router.tracing": "base.values.yaml sets an OTel endpoint and sampling while tracing stays disabled: no effect",
    "httpRoute.requestTimeout": "we follow recipes/router/features/httproute-flags.yaml ('0s', the provider's "
                                "maximum) unless route.timeouts.request says otherwise; the --set form leaves the "
                                "chart's 300s",
}
_FILE_NAME = {
    "router.epp.pluginsConfigFile": "we name the custom config <metadata.name>-plugins.yaml for every guide; these "
                                    "guides name it otherwise (pd-config.yaml, wide-ep-lws-config.yaml)",
}
_DEFAULT_KEYS = {
    "router.modelServers.type": "the chart default (vllm) written out",
    "router.modelServers.targetPorts": "the chart default ([8000]) written out; the pool's port is part of the wiring",
}
_EXPLICIT = {
    "single-profile-handler": "written explicitly (the router injects it for one profile)",
    "max-score-picker": "written explicitly (the router's default picker)",
}
_AFFINITY = {
    "prefix-cache-affinity-filter": "the guide's sticky-prefix filter with its saturation override has no scorer "
                                    "intent; the spec's prefixCache compiles to the weighted prefix-cache-scorer",
    "prefix-cache-scorer": "scheduler.scorers.prefixCache (see prefix-cache-affinity-filter)",
}
_PD = {
    "disagg-headers-handler": "deprecated in router v0.9.0, removed in v0.11.0: disagg-profile-handler sets the "
                              "headers itself (the guide still lists it; llm-d main dropped it in #2320)",
}


@dataclass(frozen=True)
class Guide:
    values: str  # guides/<guide>/router/<file>
    values_diff: dict[str, str] = field(default_factory=dict)  # dotted prefix -> reason
    plugins_diff: dict[str, str] = field(default_factory=dict)  # plugin type in one config only -> reason


GUIDES = {
    "optimized-baseline": Guide(
        "optimized-baseline/router/optimized-baseline.values.yaml",
        {**_COMMON, **_DEFAULT_KEYS},
        {**_EXPLICIT, **_AFFINITY}),
    "pd-disaggregation": Guide(
        "pd-disaggregation/router/pd-disaggregation.values.yaml",
        {**_COMMON, **_DEFAULT_KEYS, **_FILE_NAME},
        {**_AFFINITY, **_PD}),
    "precise-prefix-cache-routing": Guide(
        "precise-prefix-cache-routing/router/precise-prefix-cache-routing.values.yaml",
        {**_COMMON,
         "router.epp.flags.ha-enable-leader-election": "the guide forces active-active off for replicas > 1; with "
                                                       "scheduler.replicas 1 (the guide's own) it is a no-op"},
        {**_EXPLICIT,
         "prefix-cache-affinity-filter": _AFFINITY["prefix-cache-affinity-filter"],
         "prefix-cache-scorer": "scheduler.scorers.precisePrefixCache: the scorer reads the precise producer "
                                "(prefixMatchInfoProducerName), as router #1121 recommends"}),
    "wide-ep-lws": Guide(
        "wide-ep-lws/router/wide-ep-lws.values.yaml",
        {**_COMMON, **_FILE_NAME, "router.modelServers.type": _DEFAULT_KEYS["router.modelServers.type"]},
        {**_PD, "max-score-picker": _EXPLICIT["max-score-picker"],
         "approx-prefix-cache-producer": "written explicitly with the spec's prefix-cache tuning (blockSizeTokens, "
                                         "maxPrefixBlocksToMatch, lruCapacityPerServer); the guide leaves the router "
                                         "to create it with its defaults"}),
}
# A slip of the guides, not a difference in the values: each README exports ROUTER_CHART_VERSION=v0 *before*
# sourcing env.sh (whose ${VAR:-default} then keeps v0), so a literal run installs the newest main chart, not v0.10.0.
# We pin the release's chart, as env.sh intends.
PINNED_CHART = "v0.10.0"


def _yaml() -> YAML:
    return YAML(typ="safe", pure=True)


def _read(path: Path) -> Any:
    return _yaml().load(path.read_text(encoding="utf-8"))


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict) and node:
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: node}


def _split_config(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values without the plugins text, the parsed EndpointPickerConfig it selects)."""
    epp = values["router"]["epp"]
    text = epp["pluginsCustomConfig"][epp["pluginsConfigFile"]]
    rest = {**values, "router": {**values["router"], "epp": {k: v for k, v in epp.items()
                                                             if k != "pluginsCustomConfig"}}}
    return rest, _yaml().load(io.StringIO(str(text)))


def _guide_values(guide: Guide) -> dict[str, Any]:
    root = shared() / "upstream" / "data" / "llm-d__llm-d" / GUIDE_COMMIT / "guides"
    merged = helm_merge(_read(root / "recipes/router/base.values.yaml"), _read(root / guide.values))
    return helm_merge(merged, SET_FLAGS)


@pytest.mark.parametrize("name", sorted(GUIDES))
def test_router_values_match_the_guide(name: str) -> None:
    guide = GUIDES[name]
    stack, files = build(load(CASES / f"{name}.yaml"), f"{name}.yaml")
    assert gitops.release(stack)["version"] == PINNED_CHART
    ours, our_config = _split_config(_read_text(files["values/router.yaml"]))
    theirs, their_config = _split_config(_guide_values(guide))
    a, b = _flat(ours), _flat(theirs)
    differing = {p for p in a.keys() | b.keys() if a.get(p) != b.get(p)}
    unexplained = sorted(p for p in differing if not any(p == k or p.startswith(k + ".") for k in guide.values_diff))
    assert not unexplained, {p: (a.get(p), b.get(p)) for p in unexplained}
    stale = sorted(k for k in guide.values_diff if not any(p == k or p.startswith(k + ".") for p in differing))
    assert not stale, f"listed as different but equal now: {stale}"
    # The picker config: same envelope and profiles; plugin types differ exactly as listed.
    assert our_config["apiVersion"] == their_config["apiVersion"] == "llm-d.ai/v1alpha1"
    assert [p["name"] for p in our_config["schedulingProfiles"]] == \
        [p["name"] for p in their_config["schedulingProfiles"]]
    types = {p["type"] for p in our_config["plugins"]} ^ {p["type"] for p in their_config["plugins"]}
    assert types == set(guide.plugins_diff), {"unlisted": sorted(types - set(guide.plugins_diff)),
                                              "stale": sorted(set(guide.plugins_diff) - types)}


def _read_text(text: str) -> Any:
    return _yaml().load(io.StringIO(str(text)))
