"""PLACEHOLDER (router core, for the seam): the model-server engineer owns this module and replaces it.

Entry point `emit(stack) -> files` writing modelserver/base/*.yaml (+ kustomization) and
modelserver/overlays/<platform>/kustomization.yaml.
"""

from __future__ import annotations

from typing import Any

from llmd_compile import yamlio
from llmd_compile.resolve import SERVICE_PORT, Stack

KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"


def _deployment(stack: Stack, role: str) -> dict[str, Any]:
    spec = stack.spec
    labels = {**stack.pod_labels, "llm-d.ai/role": role}
    workload = spec.decode if role == "decode" else spec.prefill
    assert workload is not None
    container = {"name": "modelserver", "image": workload.image,
                 "args": [spec.model.name, f"--port={SERVICE_PORT}"],
                 "ports": [{"containerPort": SERVICE_PORT, "name": "modelserver", "protocol": "TCP"}]}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": role, "labels": labels},
            "spec": {"replicas": workload.replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}}


def emit(stack: Stack) -> dict[str, str]:
    files: dict[str, str] = {f"modelserver/base/{role}.yaml": yamlio.dump(_deployment(stack, role))
                             for role, _ in stack.roles}
    files["modelserver/base/kustomization.yaml"] = yamlio.dump({
        "apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "namePrefix": f"{stack.names.ms_fullname}-",
        "resources": sorted(f"{role}.yaml" for role, _ in stack.roles)})
    for platform in stack.spec.platforms.names():
        files[f"modelserver/overlays/{platform}/kustomization.yaml"] = yamlio.dump({
            "apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "namespace": stack.names.namespace,
            "resources": ["../../base"]})
    return files
