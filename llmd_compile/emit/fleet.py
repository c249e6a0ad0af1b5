"""A fleet's ApplicationSet: one parent Application per placed stack, from the stacks' placement files."""

from __future__ import annotations

from typing import Any

from llmd_compile import yamlio
from llmd_compile.spec.fleet import Fleet

PLACEMENT = "argocd/placement.yaml"


def applicationset(fleet: Fleet) -> dict[str, Any]:
    argo = fleet.gitops.argocd
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": fleet.metadata.name, "namespace": argo.namespace},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            # Every stack placed on a cluster writes out/<stack>/argocd/placement.yaml: a list of
            # {stack, cluster, server, platform, path, project}; each element becomes one parent Application.
            "generators": [{"git": {"repoURL": argo.repoURL, "revision": argo.targetRevision,
                                    "files": [{"path": f"{argo.path}/*/{PLACEMENT}"}]}}],
            "template": {
                "metadata": {"name": "{{.stack}}-{{.cluster}}",
                             "labels": {"llmd-compile.io/fleet": fleet.metadata.name,
                                        "llmd-compile.io/cluster": "{{.cluster}}"}},
                "spec": {
                    "project": argo.project,
                    "source": {"repoURL": argo.repoURL, "targetRevision": argo.targetRevision, "path": "{{.path}}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": argo.namespace},
                    "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
                },
            },
        },
    }


def readme(fleet: Fleet) -> str:
    rows = [f"| `{c.name}` | {c.server} | {c.platform} |" for c in fleet.clusters]
    return "\n".join([
        f"# Fleet `{fleet.metadata.name}`", "",
        "`applicationset.yaml` creates one parent Application per stack placement "
        f"(`{fleet.gitops.argocd.path}/*/{PLACEMENT}`); each parent syncs that stack's child Applications "
        "in sync waves on its cluster.", "",
        "| cluster | server | platform |", "|---|---|---|", *rows, "",
        f"Apply once: `kubectl apply -n {fleet.gitops.argocd.namespace} -f applicationset.yaml`.", ""])


def emit(fleet: Fleet) -> dict[str, str]:
    return {"applicationset.yaml": yamlio.dump(applicationset(fleet)), "README.md": readme(fleet)}
