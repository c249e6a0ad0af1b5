"""How the compiled stack gets to a cluster: a helmfile, and Argo CD Applications per platform."""

from __future__ import annotations

from typing import Any

from llmd_compile import yamlio
from llmd_compile.catalog.charts import INFRA_REPO, MS_REPO, POOL_OCI
from llmd_compile.emit.kustomize import platforms
from llmd_compile.resolve import Stack


def _charts(stack: Stack) -> list[dict[str, str]]:
    """(release, helmfile chart ref, Argo repoURL, chart name, version, values file) in install order."""
    names = stack.names
    return [
        {"release": names.infra_release, "helmfile": "llm-d-infra/llm-d-infra", "repo": INFRA_REPO,
         "chart": "llm-d-infra", "version": stack.infra.version, "values": "values/infra.yaml"},
        {"release": names.pool, "helmfile": f"oci://{POOL_OCI}/inferencepool", "repo": POOL_OCI,
         "chart": "inferencepool", "version": stack.pool.version, "values": "values/inferencepool.yaml"},
        {"release": names.ms_release, "helmfile": "llm-d-modelservice/llm-d-modelservice", "repo": MS_REPO,
         "chart": "llm-d-modelservice", "version": stack.ms.version, "values": "values/modelservice.yaml"},
    ]


def helmfile(stack: Stack) -> dict[str, Any]:
    namespace = stack.names.namespace
    releases = []
    previous: list[str] = []
    for chart in _charts(stack):
        release: dict[str, Any] = {
            "name": chart["release"],
            "namespace": namespace,
            "chart": chart["helmfile"],
            "version": chart["version"],
        }
        if previous:
            release["needs"] = list(previous)
        release["values"] = [chart["values"]]
        releases.append(release)
        previous.append(f"{namespace}/{chart['release']}")
    return {
        "repositories": [
            {"name": "llm-d-infra", "url": INFRA_REPO},
            {"name": "llm-d-modelservice", "url": MS_REPO},
        ],
        "releases": releases,
    }


def application(stack: Stack, platform: str) -> dict[str, Any]:
    argo = stack.spec.gitops.argocd
    assert argo is not None
    stack_dir = f"{argo.path}/{stack.spec.metadata.name}"
    sources: list[dict[str, Any]] = [{"repoURL": argo.repoURL, "targetRevision": argo.targetRevision, "ref": "values"}]
    for chart in _charts(stack):
        sources.append({
            "repoURL": chart["repo"],
            "chart": chart["chart"],
            "targetRevision": chart["version"],
            "helm": {"releaseName": chart["release"], "valueFiles": [f"$values/{stack_dir}/{chart['values']}"]},
        })
    sources.append({"repoURL": argo.repoURL, "targetRevision": argo.targetRevision,
                    "path": f"{stack_dir}/overlays/{platform}"})
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": f"{stack.spec.metadata.name}-{platform}",
            "namespace": argo.namespace,
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": argo.project,
            "destination": {"server": "https://kubernetes.default.svc", "namespace": stack.names.namespace},
            "sources": sources,
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                "retry": {"limit": 5, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "10m"}},
            },
        },
    }


def oci_repository(stack: Stack) -> dict[str, Any]:
    """Argo CD reads Helm charts from an OCI registry only through a repository entry with enableOCI."""
    argo = stack.spec.gitops.argocd
    assert argo is not None
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "llmd-compile-inferencepool-oci",
            "namespace": argo.namespace,
            "labels": {"argocd.argoproj.io/secret-type": "repository"},
        },
        "stringData": {"name": "inferencepool", "type": "helm", "url": POOL_OCI, "enableOCI": "true"},
    }


def emit(stack: Stack) -> dict[str, str]:
    files = {"helmfile.yaml": yamlio.dump(helmfile(stack))}
    if stack.spec.gitops.argocd is not None:
        files["argocd/repository-inferencepool-oci.yaml"] = yamlio.dump(oci_repository(stack))
        for platform in platforms(stack):
            files[f"argocd/{platform}.yaml"] = yamlio.dump(application(stack, platform))
    return files
