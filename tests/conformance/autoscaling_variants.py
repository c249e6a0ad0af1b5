"""The autoscaling paths as spec variants of specs/workload-autoscaling.yaml, compiled and built with kubectl.

Shared by test_autoscaling.py (CRDs, kustomize, wiring) and test_autoscaling_fidelity.py (the v0.9 guides).
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.compile import build
from llmd_compile.emit.kustomize import user_component_kustomization
from llmd_compile.resolve import Stack
from llmd_compile.spec.models import Spec
from llmd_compile.yamlio import dump
from tests.conformance.oracles import REPO_ROOT, kustomize_build, shared

EXAMPLE = REPO_ROOT / "specs" / "workload-autoscaling.yaml"
GKE_URL = "https://monitoring.googleapis.com/v1/projects/example/location/global/prometheus"


def _scaler(scaler: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"autoscaling": {"scalers": [{"target": "decode", "scaler": scaler, "minReplicas": 1, "maxReplicas": 8,
                                         **extra}]}}


# variant -> changes to the example spec (top-level keys replaced).
VARIANTS: dict[str, dict[str, Any]] = {
    "keda-queue": {},
    "keda-saturation": _scaler({"type": "keda", "signal": "saturation", "saturation": 0.7, "runningRequests": 16},
                               maxReplicas=10),
    "hpa": _scaler({"type": "hpa", "metrics": [{"metric": "vllm:num_requests_waiting", "averageValue": 1},
                                                {"metric": "llm_d_epp_request_running", "averageValue": 16}]}),
    "wva-keda": _scaler({"type": "wva", "via": "keda", "variantCost": 30}, maxReplicas=10,
                        scaleUp={"stabilizationSeconds": 0, "percent": 100, "periodSeconds": 30, "pods": 5},
                        scaleDown={"stabilizationSeconds": 60, "percent": 100, "periodSeconds": 30, "pods": 5}),
    "wva-hpa": _scaler({"type": "wva", "via": "hpa", "variantCost": 30}, maxReplicas=2,
                       scaleUp={"stabilizationSeconds": 120}, scaleDown={"stabilizationSeconds": 120}),
    # wide-EP: the decode role is a LeaderWorkerSet (one group of data/dataLocal pods per replica).
    "lws": {"decode": {"replicas": 1, "parallelism": {"tensor": 1, "data": 4, "dataLocal": 2, "expert": True},
                       "image": "docker.io/vllm/vllm-openai:v0.26.0"}, "cluster": {"gpus": 16, "gpusPerNode": 8}},
    "gke": {"platforms": {"kubernetes": {}},
            "observability": {"stack": "gke-managed", "prometheusUrl": GKE_URL, "dashboards": True, "alerts": True}},
}


def _yaml() -> YAML:
    return YAML(typ="safe", pure=True)


@functools.cache
def compiled(variant: str) -> tuple[Stack, dict[str, str]]:
    data = _yaml().load(EXAMPLE.read_text(encoding="utf-8"))
    data = {**copy.deepcopy(data), **copy.deepcopy(VARIANTS[variant])}
    return build(Spec.model_validate(data), "specs/workload-autoscaling.yaml")


@functools.cache
def written(variant: str, root: Path) -> Path:
    """The stack's files under <root>/out/<name>/, with the user component stubs the overlays include."""
    stack, files = compiled(variant)
    out = root / variant
    for rel, text in files.items():
        path = out / "out" / stack.spec.metadata.name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(text), encoding="utf-8")
    for platform in ("kubernetes", "openshift"):
        stub = out / "overlays" / platform / "kustomization.yaml"
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(dump(user_component_kustomization(platform)), encoding="utf-8")
    return out / "out" / stack.spec.metadata.name


def wva_local(stack_dir: Path, platform: str) -> Path:
    """The WVA controller overlay with its remote base swapped for the v0.9.0 copy in ../shared."""
    path = stack_dir / "autoscaling" / "wva" / platform / "kustomization.yaml"
    data = _yaml().load(path.read_text(encoding="utf-8"))
    flavour = "openshift" if platform == "openshift" else "kubernetes"
    local = (shared() / "upstream" / "data" / "llm-d__llm-d-workload-variant-autoscaler" / "commit-d5d58640" / "config"
             / "overlays" / "namespace-scoped" / flavour)
    assert len(data["resources"]) == 1 and data["resources"][0].startswith("https://github.com/llm-d/")
    copy_dir = path.parent.parent / f"local-{platform}"
    copy_dir.mkdir(exist_ok=True)
    data["resources"] = [os.path.relpath(local, copy_dir)]  # kustomize refuses an absolute base
    (copy_dir / "kustomization.yaml").write_text(dump(data), encoding="utf-8")
    return copy_dir


def built(path: Path) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (kustomize) not on PATH")
    return kustomize_build(path)


def platforms(variant: str) -> list[str]:
    return compiled(variant)[0].spec.platforms.names()
