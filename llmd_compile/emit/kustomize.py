"""Kustomize base + one overlay per platform, including the user-owned components.

User components live in the repository's top-level `overlays/<platform>/` (a sibling of out/);
the generated overlays include them, so hand edits there survive every regeneration.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from llmd_compile import yamlio
from llmd_compile.catalog import providers
from llmd_compile.emit import gmp, manifests
from llmd_compile.resolve import Stack

KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"
# From out/<stack>/overlays/<platform>/ up to the repository root.
USER_COMPONENTS = "../../../../overlays"
NON_ROOT_UID = 65532


def platforms(stack: Stack) -> list[str]:
    return stack.spec.platforms.names()


def base_resources(stack: Stack) -> dict[str, dict[str, Any]]:
    # A picker-only stack has no Gateway: nothing for an HTTPRoute to hang from and no entry point to smoke-test.
    gateway = providers.has_gateway(stack.spec.gateway.provider)
    docs = {
        "pvc.yaml": manifests.pvc(stack),
        "model-download-job.yaml": manifests.model_download_job(stack),
        "httproute.yaml": manifests.httproute(stack) if gateway else None,
        "smoke-test-job.yaml": manifests.smoke_test_job(stack) if gateway else None,
        **(manifests.smoke_test_rbac(stack) if gateway else {}),
        **gmp.manifests(stack, manifests.labels(stack, "epp-metrics")),
    }
    return {name: doc for name, doc in docs.items() if doc is not None}


def user_component_kustomization(platform: str) -> dict[str, Any]:
    """The stub the CLI scaffolds once when a user component is missing (never overwritten)."""
    # kustomize refuses a kustomization with nothing but its type; an empty list is a no-op.
    return {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component", "resources": []}


@dataclass(frozen=True)
class Patch:
    """A JSON6902 'add' patch as data: kustomize applies it in the overlay, krm applies it in Python."""

    kind: str
    ops: tuple[tuple[str, Any], ...]  # (path, value)
    name: str | None = None
    label: tuple[str, str] | None = None

    def target(self) -> dict[str, str]:
        target = {"kind": self.kind}
        if self.name:
            target["name"] = self.name
        if self.label:
            target["labelSelector"] = f"{self.label[0]}={self.label[1]}"
        return target

    def matches(self, doc: dict[str, Any]) -> bool:
        meta = doc.get("metadata", {})
        return doc.get("kind") == self.kind and (self.name is None or meta.get("name") == self.name) and (
            self.label is None or meta.get("labels", {}).get(self.label[0]) == self.label[1])

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        for path, value in self.ops:
            *parents, leaf = path.strip("/").split("/")
            node = out
            for part in parents:
                node = node[part]
            node[leaf] = value
        return out


def platform_extras(stack: Stack, platform: str) -> dict[str, dict[str, Any]]:
    settings = getattr(stack.spec.platforms, platform)
    # GKE's gateway has its own load balancer; a picker-only stack has no gateway Service to expose.
    exposable = stack.spec.gateway.provider not in ("gke", providers.NO_GATEWAY)
    if platform == "openshift" and settings.exposeRoute and exposable:
        return {"gateway-route.yaml": manifests.openshift_route(stack)}
    return {}


def platform_patches(stack: Stack, platform: str) -> list[Patch]:
    settings = getattr(stack.spec.platforms, platform)
    patches: list[Patch] = []
    claim = stack.spec.model.cache.pvc
    if claim is not None and settings.storageClassName:
        patches.append(Patch("PersistentVolumeClaim", (("/spec/storageClassName", settings.storageClassName),),
                             name=claim.name))
    if platform == "kubernetes" and any(doc["kind"] == "Job" for doc in base_resources(stack).values()):
        # Images like curlimages/curl name their USER (curl_user): with runAsNonRoot the kubelet refuses
        # them unless the UID is numeric. OpenShift's restricted-v2 assigns one, so only here.
        ops = tuple((f"/spec/template/spec/securityContext/{key}", NON_ROOT_UID)
                    for key in ("runAsUser", "runAsGroup", "fsGroup"))
        patches.append(Patch("Job", ops, label=("app.kubernetes.io/managed-by", "llmd-compile")))
    return patches


def platform_resources(stack: Stack, platform: str) -> list[dict[str, Any]]:
    """What `kubectl kustomize overlays/<platform>` yields (user components aside), built in Python."""
    docs = [*base_resources(stack).values(), *platform_extras(stack, platform).values()]
    out = []
    for doc in docs:
        doc = copy.deepcopy(doc)
        doc["metadata"]["namespace"] = stack.names.namespace
        for patch in platform_patches(stack, platform):
            if patch.matches(doc):
                doc = patch.apply(doc)
        out.append(doc)
    return out


def _overlay(stack: Stack, platform: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    extra = platform_extras(stack, platform)
    kustomization: dict[str, Any] = {
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "namespace": stack.names.namespace,
        "resources": ["../../base", *sorted(extra)],
        "components": [f"{USER_COMPONENTS}/{platform}"],
    }
    patches = [{"target": p.target(), "patch": yamlio.dump([{"op": "add", "path": path, "value": value}
                                                             for path, value in p.ops])}
               for p in platform_patches(stack, platform)]
    if patches:
        kustomization["patches"] = patches
    return kustomization, extra


def emit(stack: Stack) -> dict[str, str]:
    resources = base_resources(stack)
    files: dict[str, str] = {f"base/{name}": yamlio.dump(doc) for name, doc in resources.items()}
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
