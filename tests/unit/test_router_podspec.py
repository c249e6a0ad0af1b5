"""Flags the router shape's model-server pods get from the spec, as a table: a spec edit in, container args out.

Expected values come from upstream: the routing proxy names vLLM's port --vllm-port on router v0.9.0 (LD@3fa7bfc5
recipes/modelserver/base/single-host/pd/vllm/patch-sidecar.yaml) and --model-server-port from v0.10.0 (the old name a
deprecated alias, CURRENT §6); the simulator takes --model and --port as llm-d-modelservice's imageDefault command
line gives them (upstream/charts/llm-d-modelservice/*/templates/_helpers.tpl imageDefaultModelCommand).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile import yamlio
from llmd_compile.emit.router import modelservers
from llmd_compile.resolve import resolve
from llmd_compile.spec.load import load_text

REPO = Path(__file__).resolve().parents[2]


def _pod(spec: str, role: str, edit: dict[str, Any]) -> dict[str, Any]:
    data = YAML(typ="safe").load((REPO / "specs" / f"{spec}.yaml").read_text(encoding="utf-8"))
    for path, value in edit.items():
        *parents, leaf = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[leaf] = value
    stack = resolve(load_text(yamlio.dump(data), "x.yaml"), "x.yaml")
    doc = YAML(typ="safe").load(str(modelservers.emit(stack)[f"modelserver/base/{role}.yaml"]))
    template = doc["spec"]["template"] if doc["kind"] == "Deployment" else \
        doc["spec"]["leaderWorkerTemplate"]["workerTemplate"]
    return template["spec"]  # type: ignore[no-any-return]


CASES = [
    ("pd-disaggregation", {}, "init", ["--port=8000", "--model-server-port=8200"]),
    ("pd-disaggregation", {"release": "v0.8"}, "init", ["--port=8000", "--vllm-port=8200"]),
    ("standalone", {}, "main", ["--model=random", "--port=8000"]),
    ("standalone", {"model.servedName": "sim"}, "main", ["--model=random", "--served-model-name=sim", "--port=8000"]),
    ("standalone", {"decode.args": ["--port", "9000"]}, "main", ["--model=random", "--port", "9000"]),
]


@pytest.mark.parametrize(("spec", "edit", "container", "leading"), CASES,
                         ids=[f"{s}-{c}-{i}" for i, (s, _, c, _) in enumerate(CASES)])
def test_leading_args(spec: str, edit: dict[str, Any], container: str, leading: list[str]) -> None:
    pod = _pod(spec, "decode", edit)
    found = pod["initContainers"][0] if container == "init" else pod["containers"][0]
    assert found["args"][:len(leading)] == leading
