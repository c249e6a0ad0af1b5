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
    argo = fleet.gitops.argocd
    rows = [f"| `{c.name}` | {c.server} | {c.platform} |" for c in fleet.clusters]
    remote = [c for c in fleet.clusters if c.server != "https://kubernetes.default.svc"]
    placements = f"{argo.path}/*/{PLACEMENT}"
    return "\n".join([
        f"# Fleet `{fleet.metadata.name}`", "",
        "`applicationset.yaml` creates one parent Application per stack placement "
        f"(`{placements}`); each parent syncs that stack's child Applications "
        "in sync waves on its cluster.", "",
        "| cluster | server | platform |", "|---|---|---|", *rows, "",
        "## Deploy", "",
        f"Run these from the repository root (the directory holding `{argo.path}/`), against the cluster where Argo CD "
        f"runs (namespace `{argo.namespace}`). Tools: `kubectl`, and the `argocd` CLI to register clusters.", "",
        "1. Register every cluster with Argo CD under the name this fleet uses"
        + (" (once per cluster):" if remote else ": every cluster is Argo CD's own (`kubernetes.default.svc`)."), "",
        *(["   ```bash", *[f"   argocd cluster add <kube-context-of-{c.name}> --name {c.name}" for c in remote],
           "   ```", ""] if remote else []),
        f"2. Give Argo CD read access to `{argo.repoURL}` if it is private (a repository Secret or "
        "`argocd repo add`).", "",
        "3. Each placed stack's AppProjects (`argocd/projects.yaml`) and its OCI Helm repository entries "
        "(`argocd/repositories.yaml`): its child Applications use them, and the ApplicationSet does not create "
        "them.", "",
        "   ```bash",
        f"   for placed in {placements}; do",
        "     dir=$(dirname \"$placed\")",
        f"     kubectl apply -n {argo.namespace} -f \"$dir/projects.yaml\" -f \"$dir/repositories.yaml\"",
        "   done",
        "   ```", "",
        f"4. The ApplicationSet (its parent Applications are in AppProject `{argo.project}`, which must exist):", "",
        "   ```bash",
        f"   kubectl apply -n {argo.namespace} -f {argo.path}/{fleet.metadata.name}/applicationset.yaml",
        "   ```", ""])


def emit(fleet: Fleet) -> dict[str, str]:
    return {"applicationset.yaml": yamlio.dump(applicationset(fleet)), "README.md": readme(fleet)}
