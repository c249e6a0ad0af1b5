"""The model-pod diagnostics run on the router shape's kustomize model servers (llm-d v0.8/v0.9), as a table: a
spec edit in, the codes out.

The checks read the Deployments/LeaderWorkerSets the router family writes (check.artifacts model_server_roles) and
the EndpointPickerConfig it mounts: the v0.9 example specs compile clean, and each edit below breaks exactly one
wiring the router relies on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile import check, yamlio
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.compile import build
from llmd_compile.spec.load import load_text

REPO = Path(__file__).resolve().parents[2]
CODES = {"LLMD114", "LLMD115", "LLMD116", "LLMD117", "LLMD118", "LLMD119", "LLMD120", "LLMD404", "LLMD420",
         "LLMD302", "LLMD303"}


def spec_data(name: str) -> Any:
    return YAML(typ="safe").load((REPO / "specs" / f"{name}.yaml").read_text(encoding="utf-8"))


def diagnostics(data: Any) -> list[check.Diagnostic]:
    stack, files = build(load_text(yamlio.dump(data), "x.yaml"), "x.yaml")
    assert stack.shape == "router"
    return [d for d in check.run(Artifacts(stack, files)) if d.code in CODES]


def _openshift(d: Any) -> None:
    d["platforms"] = {"openshift": {}}


def _decode_block_size(d: Any) -> None:
    d["decode"]["args"] = [*d["decode"].get("args", []), "--block-size=16"]


def _prefill_block_size(d: Any) -> None:
    d["prefill"]["args"] = [a for a in d["prefill"].get("args", []) if "block-size" not in str(a)] + [
        "--block-size=32"]


CASES = [
    ("optimized-baseline", None, set()),
    ("pd-disaggregation", None, set()),
    ("precise-prefix-cache-routing", None, set()),
    ("wide-ep-lws", None, set()),  # the launch script's --kv-transfer-config is read (no LLMD120)
    ("wide-ep-lws", _openshift, {"LLMD420"}),  # IPC_LOCK/SYS_RAWIO as root, named on the ServiceAccount
    ("optimized-baseline", _openshift, set()),  # /.cache and /.config are writable emptyDirs (LLMD404)
    ("precise-prefix-cache-routing", _decode_block_size, {"LLMD116"}),  # the producer's blockSizeTokens
    ("pd-disaggregation", _prefill_block_size, {"LLMD120"}),
]


@pytest.mark.parametrize(("spec", "edit", "codes"), CASES,
                         ids=[f"{s}-{e.__name__ if e else 'as-is'}" for s, e, _ in CASES])
def test_router_model_pod_diagnostics(spec: str, edit: Any, codes: set[str]) -> None:
    data = spec_data(spec)
    if edit is not None:
        edit(data)
    found = diagnostics(data)
    assert {d.code for d in found} == codes, [f"{d.code}: {d.message}" for d in found]


def test_privileges_name_the_kustomize_service_account() -> None:
    data = spec_data("wide-ep-lws")
    _openshift(data)
    (finding, *_) = diagnostics(data)
    assert "ServiceAccount wide-ep-lws-sa in" in finding.message
