"""Gateway providers against the guides: the control plane in prereqs/helmfile.yaml, and the infra gateway block.

For every release whose guides ship a gateway-provider helmfile (CATALOG §a.7), the seed stack's intent under that
release preset and provider compiles to the same control-plane releases (chart, version, namespace, values,
order) as `guides/prereq/gateway-provider/<provider>.helmfile.yaml`, and to the gateway class and provider of
`common-configurations/<provider>.yaml`. Chart references compare by repository URL + chart name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.emit import gitops, helm
from llmd_compile.resolve import resolve
from llmd_compile.spec.load import load
from llmd_compile.spec.models import Spec

from . import oracles as o

REPO = Path(__file__).resolve().parents[2]
REFS = {"seed": "commit-e52045bd", "v0.3.0": "v0.3.0", "v0.4.0": "v0.4.0", "v0.6": "commit-899f8517"}
PROVIDERS = {"seed": ("istio", "kgateway"), "v0.3.0": ("istio", "kgateway"), "v0.4.0": ("istio", "kgateway"),
             "v0.6": ("istio", "kgateway", "agentgateway")}
CASES = [(release, provider) for release, providers in PROVIDERS.items() for provider in providers]
PREREQ = "upstream/data/llm-d__llm-d/{ref}/guides/prereq/gateway-provider"


def spec_for(release: str, provider: str) -> Spec:
    data = load(REPO / "specs/h100.yaml", "specs/h100.yaml").model_dump(exclude_unset=True)
    data.pop("charts")
    data["scheduler"].pop("image")
    data["release"] = release
    data["gateway"]["provider"] = provider
    return Spec.model_validate(data)


def _releases(helmfile: dict[str, Any]) -> list[dict[str, Any]]:
    repos = {r["name"]: r["url"] for r in helmfile.get("repositories", [])}
    out = []
    for release in helmfile["releases"]:
        alias, _, chart = str(release["chart"]).partition("/")
        ref = release["chart"].removeprefix("oci://") if release["chart"].startswith("oci://") \
            else f"{repos[alias].rstrip('/')}/{chart}"
        values: dict[str, Any] = {}
        for item in release.get("values", []):
            values = o.helm_merge(values, item)
        out.append({"name": release["name"], "namespace": release["namespace"], "chart": ref,
                    "version": str(release["version"]), "needs": release.get("needs", []), "values": values})
    return out


@pytest.mark.parametrize(("release", "provider"), CASES, ids=[f"{r}-{p}" for r, p in CASES])
def test_control_plane_is_the_guides(release: str, provider: str) -> None:
    stack = resolve(spec_for(release, provider), "x")
    path = o.shared() / PREREQ.format(ref=REFS[release]) / f"{provider}.helmfile.yaml"
    theirs = _releases(YAML(typ="safe").load(path.read_text(encoding="utf-8")))
    assert _releases(gitops.prereqs_helmfile(stack)) == theirs


@pytest.mark.parametrize(("release", "provider"), CASES, ids=[f"{r}-{p}" for r, p in CASES])
def test_gateway_block_is_the_guides(release: str, provider: str) -> None:
    stack = resolve(spec_for(release, provider), "x")
    path = o.shared() / PREREQ.format(ref=REFS[release]) / f"common-configurations/{provider}.yaml"
    theirs = YAML(typ="safe").load(path.read_text(encoding="utf-8"))["gateway"]
    ours = helm.infra_values(stack)["gateway"]
    for key in ("provider", "gatewayClassName"):
        if key in theirs:
            assert ours[key] == theirs[key], key
    # The guides' istio tuning (sizing, access log) and the seed's DestinationRule TLS: compared in test_paths.
    assert o.chart_schema_errors("llm-d-infra", stack.infra.version if stack.infra.version != "v1.3.4" else "v1.3.3",
                                 {"gateway": ours}) == []
