"""Kustomize base + one overlay per platform, including the user-owned components.

User components live in the repository's top-level `overlays/<platform>/` (a sibling of out/);
the generated overlays include them, so hand edits there survive every regeneration.
"""

from __future__ import annotations

from typing import Any

from llmd_compile import yamlio
from llmd_compile.emit import manifests
from llmd_compile.resolve import Stack

KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"
# From out/<stack>/overlays/<platform>/ up to the repository root.
USER_COMPONENTS = "../../../../overlays"
NON_ROOT_UID = 65532


def platforms(stack: Stack) -> list[str]:
    return stack.spec.platforms.names()


def base_resources(stack: Stack) -> dict[str, dict[str, Any]]:
    docs = {
        "pvc.yaml": manifests.pvc(stack),
        "model-download-job.yaml": manifests.model_download_job(stack),
        "httproute.yaml": manifests.httproute(stack),
        "smoke-test-job.yaml": manifests.smoke_test_job(stack),
    }
    return {name: doc for name, doc in docs.items() if doc is not None}


def user_component_kustomization(platform: str) -> dict[str, Any]:
    """The stub the CLI scaffolds once when a user component is missing (never overwritten)."""
    # kustomize refuses a kustomization with nothing but its type; an empty list is a no-op.
    return {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component", "resources": []}


def _overlay(stack: Stack, platform: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    settings = getattr(stack.spec.platforms, platform)
    extra: dict[str, dict[str, Any]] = {}
    if platform == "openshift" and settings.exposeRoute and stack.spec.gateway.provider != "gke":
        extra["gateway-route.yaml"] = manifests.openshift_route(stack)
    kustomization: dict[str, Any] = {
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "namespace": stack.names.namespace,
        "resources": ["../../base", *sorted(extra)],
        "components": [f"{USER_COMPONENTS}/{platform}"],
    }
    patches: list[dict[str, Any]] = []
    claim = stack.spec.model.cache.pvc
    if claim is not None and settings.storageClassName:
        patch = [{"op": "add", "path": "/spec/storageClassName", "value": settings.storageClassName}]
        patches.append({
            "target": {"kind": "PersistentVolumeClaim", "name": claim.name},
            "patch": yamlio.dump(patch),
        })
    if platform == "kubernetes":
        # Images like curlimages/curl name their USER (curl_user): with runAsNonRoot the kubelet refuses
        # them unless the UID is numeric. OpenShift's restricted-v2 assigns one, so only here.
        ids = [{"op": "add", "path": f"/spec/template/spec/securityContext/{key}", "value": NON_ROOT_UID}
               for key in ("runAsUser", "runAsGroup", "fsGroup")]
        patches.append({"target": {"kind": "Job", "labelSelector": "app.kubernetes.io/managed-by=llmd-compile"},
                        "patch": yamlio.dump(ids)})
    if patches:
        kustomization["patches"] = patches
    return kustomization, extra


def emit(stack: Stack) -> dict[str, str]:
    resources = base_resources(stack)
    files = {f"base/{name}": yamlio.dump(doc) for name, doc in resources.items()}
    files["base/kustomization.yaml"] = yamlio.dump({
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "namespace": stack.names.namespace,
        "resources": sorted(resources),
    })
    for platform in platforms(stack):
        kustomization, extra = _overlay(stack, platform)
        files[f"overlays/{platform}/kustomization.yaml"] = yamlio.dump(kustomization)
        for name, doc in extra.items():
            files[f"overlays/{platform}/{name}"] = yamlio.dump(doc)
    return files
