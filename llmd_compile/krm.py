"""KRM function: a ResourceList whose functionConfig is a Stack spec -> the stack's kustomize-able resources.

Runs as `kpt fn eval DIR --exec "llmd-compile krm" --fn-config stack.yaml` and as a kustomize exec
generator (the spec carries `config.kubernetes.io/function` in metadata.annotations). Errors come back
as `results` (severity, message, field path), and the function exits 1, as the KRM function spec says.
Pure: ResourceList data in, ResourceList data out.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from llmd_compile.check import run as run_checks
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.compile import build
from llmd_compile.emit.kustomize import platform_resources
from llmd_compile.errors import Problem, SpecError
from llmd_compile.spec.load import problems_from
from llmd_compile.spec.models import Spec

PLATFORM_ANNOTATION = "llmd-compile.io/platform"
PATH_ANNOTATIONS = ("config.kubernetes.io/path", "internal.config.kubernetes.io/path")
SOURCE = "functionConfig"


def _spec_data(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The spec without KRM bookkeeping (annotations live on the function config, not in our schema)."""
    data = copy.deepcopy(config)
    metadata: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    annotations = metadata.pop("annotations", None) or {}
    metadata.pop("labels", None)
    return data, {str(k): str(v) for k, v in annotations.items()}


def _result(problem: Problem, severity: str = "error") -> dict[str, Any]:
    result: dict[str, Any] = {"message": problem.message, "severity": severity}
    if problem.field:
        result["field"] = {"path": problem.field}
    return result


def run(resource_list: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(output ResourceList, ok). Input items pass through; ours are appended (replacing same-id items)."""
    items = list(resource_list.get("items") or [])
    out: dict[str, Any] = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    config = resource_list.get("functionConfig")
    if not isinstance(config, dict):
        out["results"] = [{"message": "functionConfig must be a Stack spec", "severity": "error"}]
        return out, False
    data, annotations = _spec_data(config)
    try:
        spec = Spec.model_validate(data)
        stack, files = build(spec, SOURCE)
    except ValidationError as exc:
        out["results"] = [_result(p) for p in problems_from(exc, {}, SOURCE)]
        return out, False
    except SpecError as exc:
        out["results"] = [_result(p) for p in exc.problems]
        return out, False
    diagnostics = run_checks(Artifacts(stack, files))
    results = [_result(d.as_problem(), d.severity) for d in diagnostics if d.severity != "info"]
    if any(d.severity == "error" for d in diagnostics):
        out["results"] = results
        return out, False
    platforms = spec.platforms.names()
    platform = annotations.get(PLATFORM_ANNOTATION, platforms[0])
    if platform not in platforms:
        out["results"] = [{"message": f"platform {platform!r} is not in the spec's platforms {platforms}",
                           "severity": "error", "field": {"path": "platforms"}}]
        return out, False
    ours = []
    for doc in platform_resources(stack, platform):
        name = doc["metadata"]["name"]
        path = f"{spec.metadata.name}/{doc['kind'].lower()}_{name}.yaml"
        doc["metadata"].setdefault("annotations", {}).update({key: path for key in PATH_ANNOTATIONS})
        ours.append(doc)
    ids = {(d["apiVersion"], d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]) for d in ours}
    kept = [i for i in items if (i.get("apiVersion"), i.get("kind"), (i.get("metadata") or {}).get("namespace"),
                                 (i.get("metadata") or {}).get("name")) not in ids]
    out["items"] = kept + ours
    if results:
        out["results"] = results
    return out, True
