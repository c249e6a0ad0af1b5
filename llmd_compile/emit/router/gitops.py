"""How a router-shape stack reaches a cluster: prerequisites, a helmfile for the router release, Argo CD apps.

prereqs/crds/: a kustomization of the CRD release assets the v0.9 guides apply (GAIE v1-manifests.yaml, Gateway API
standard-install.yaml, the router's llm-d.ai manifests.yaml); prereqs/helmfile.yaml: the gateway control plane (and
LWS for wide-EP). Argo CD (per platform, waves): CRDs (-3) -> control plane (-2, -1) -> Gateway (0) -> router chart
from the OCI registry with `$values` from this repository (1) -> model-server kustomize overlay (2). A picker-only
stack (standalone chart) has no Gateway API CRDs, control plane or Gateway.
"""

from __future__ import annotations

from typing import Any

from llmd_compile import yamlio
from llmd_compile.catalog import providers, router
from llmd_compile.emit import gitops
from llmd_compile.emit.router import autoscaling, gateway, values
from llmd_compile.resolve import Stack

KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"


def _preset(stack: Stack) -> router.RouterRelease:
    assert stack.router is not None, "the router family runs on router-shape stacks only"
    return stack.router


def crd_urls(stack: Stack) -> list[tuple[str, str]]:
    """(what, release asset URL) of the CRDs the stack needs, in the guides' install order (CURRENT §1.2)."""
    preset = _preset(stack)
    urls = [("Gateway API", f"{router.GATEWAY_API_RELEASES}/{preset.gateway_api_crds}/standard-install.yaml"),
            ("InferencePool (GAIE v1-manifests)", f"{router.GAIE_RELEASES}/{preset.gaie_crds}/v1-manifests.yaml"),
            ("llm-d.ai (InferenceObjective, InferenceModelRewrite)",
             f"{router.ROUTER_REPO}/releases/download/{preset.router_crds}/manifests.yaml")]
    return urls if providers.has_gateway(stack.spec.gateway.provider) else urls[1:]


def control_plane(stack: Stack) -> tuple[providers.HelmChart, ...]:
    if not stack.spec.gateway.create:  # the stack that creates the shared Gateway installs them
        return ()
    charts = providers.control_plane(_preset(stack).name, stack.spec.gateway.provider)
    return (*charts, providers.LWS_090) if stack.multinode else charts


def release(stack: Stack) -> dict[str, str]:
    """The router chart release: name, chart, OCI reference, version."""
    chart = values.chart(stack)
    return {"name": stack.spec.metadata.name, "chart": chart, "oci": f"oci://{router.ROUTER_OCI}/{chart}",
            "version": _preset(stack).router_chart}


def helmfile(stack: Stack) -> dict[str, Any]:
    rel = release(stack)
    return {"releases": [{"name": rel["name"], "namespace": stack.names.namespace, "chart": rel["oci"],
                          "version": rel["version"], "values": [values.VALUES_FILE]}]}


def prereqs_helmfile(stack: Stack) -> dict[str, Any]:
    charts = control_plane(stack)
    releases = []
    for i, chart in enumerate(charts):
        ref = f"oci://{chart.repo}/{chart.chart}" if chart.oci else f"{chart.release}-repo/{chart.chart}"
        entry: dict[str, Any] = {"name": chart.release, "namespace": chart.namespace, "chart": ref,
                                 "version": chart.version, "createNamespace": True}
        if i and charts[i - 1].namespace == chart.namespace:
            entry["needs"] = [f"{chart.namespace}/{charts[i - 1].release}"]
        if chart.values:
            entry["values"] = [dict(chart.values)]
        releases.append(entry)
    repos = [{"name": f"{c.release}-repo", "url": c.repo} for c in charts if not c.oci]
    return {"repositories": repos, "releases": releases} if repos else {"releases": releases}


def children(stack: Stack, key: str, platform: str, server: str) -> dict[str, dict[str, Any]]:
    argo = stack.spec.gitops.argocd
    assert argo is not None
    name, ns = stack.spec.metadata.name, stack.names.namespace
    stack_dir = f"{argo.path}/{name}"
    git = {"repoURL": argo.repoURL, "targetRevision": argo.targetRevision}
    app = gitops._app
    apps = {"00-crds.yaml": app(stack, f"{name}-{key}-crds", -3, ns, [{**git, "path": f"{stack_dir}/prereqs/crds"}],
                                f"{name}-prereqs", server)} if stack.spec.gateway.create else {}
    apps.update(gitops.control_plane_apps(stack, control_plane(stack), f"{name}-{key}", f"{name}-prereqs", server))
    if gateway.resources(stack):
        apps["10-gateway.yaml"] = app(stack, f"{name}-{key}-gateway", 0, ns,
                                      [{**git, "path": f"{stack_dir}/gateway/overlays/{platform}"}], name, server)
    rel = release(stack)
    chart_source = {"repoURL": router.ROUTER_OCI, "chart": rel["chart"], "targetRevision": rel["version"],
                    "helm": {"releaseName": rel["name"], "valueFiles": [f"$values/{stack_dir}/{values.VALUES_FILE}"]}}
    apps[f"20-{rel['chart']}.yaml"] = app(stack, f"{name}-{key}-router", 1, ns,
                                          [{**git, "ref": "values"}, chart_source], name, server)
    apps["30-modelserver.yaml"] = autoscaling.with_ignored_replicas(stack, app(
        stack, f"{name}-{key}-modelserver", 2, ns, [{**git, "path": f"{stack_dir}/modelserver/overlays/{platform}"}],
        name, server))
    return apps


def projects(stack: Stack) -> list[dict[str, Any]]:
    argo = stack.spec.gitops.argocd
    assert argo is not None
    name, ns = stack.spec.metadata.name, stack.names.namespace
    charts = control_plane(stack)
    servers = sorted({server for _, _, server in gitops.targets(stack)})
    cp_namespaces = sorted({c.namespace for c in charts})
    return [
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
         "metadata": {"name": name, "namespace": argo.namespace},
         "spec": {"description": f"llm-d stack {name} (generated by llmd-compile)",
                  "sourceRepos": sorted({argo.repoURL, router.ROUTER_OCI}),
                  "destinations": [{"server": server, "namespace": ns} for server in servers],
                  # The router chart's EPP reads pods and pools cluster-wide (routerlib _rbac.yaml ClusterRole).
                  "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"},
                                               {"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"},
                                               {"group": "rbac.authorization.k8s.io", "kind": "ClusterRoleBinding"}]}},
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
         "metadata": {"name": f"{name}-prereqs", "namespace": argo.namespace},
         "spec": {"description": f"cluster prerequisites of llm-d stack {name}: CRDs"
                                 + (" and control planes" if charts else ""),
                  "sourceRepos": sorted({argo.repoURL, *(c.repo for c in charts)}),
                  "destinations": [{"server": server, "namespace": n} for server in servers
                                   for n in sorted({ns, *cp_namespaces})],
                  "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}},
    ]


def oci_repositories(stack: Stack) -> list[dict[str, Any]]:
    return gitops.repository_secrets(stack, {router.ROUTER_OCI, *(c.repo for c in control_plane(stack) if c.oci)})


def emit(stack: Stack) -> dict[str, str]:
    files: dict[str, str] = {
        "helmfile.yaml": yamlio.dump(helmfile(stack)),
        "prereqs/crds/kustomization.yaml": yamlio.dump({"apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
                                                        "resources": [url for _, url in crd_urls(stack)]}),
    }
    if control_plane(stack):
        files["prereqs/helmfile.yaml"] = yamlio.dump(prereqs_helmfile(stack))
    argo = stack.spec.gitops.argocd
    if argo is None:
        return files
    files.update(gitops.argo_files(stack, projects(stack), oci_repositories(stack), children))
    if argo.destination is not None:
        files["argocd/placement.yaml"] = yamlio.dump(gitops.placement(stack))
    return files
