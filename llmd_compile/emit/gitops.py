"""How the compiled stack reaches a cluster: helmfiles, and Argo CD apps-of-apps per platform.

Argo CD layout (per platform): `argocd/<platform>.yaml` is the parent Application; it syncs the child
Applications in `argocd/<platform>/`, ordered by sync waves so that what a later object needs exists first:
CRDs (-3) -> gateway control plane (-2, -1) -> Gateway (0) -> InferencePool + EPP (1) -> cache PVC, model
download, HTTPRoute, smoke-test hook (2) -> model servers (3). A picker-only stack (gateway.provider none) has
no Gateway API CRDs, control plane, Gateway, HTTPRoute or smoke test: inference-extension CRDs (-3) ->
InferencePool + EPP (1) -> cache PVC and download (2) -> model servers (3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from llmd_compile import yamlio
from llmd_compile.catalog import providers
from llmd_compile.catalog.charts import INFRA_REPO, MS_REPO, POOL_OCI
from llmd_compile.emit.kustomize import platforms
from llmd_compile.resolve import Stack

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
IN_CLUSTER = "https://kubernetes.default.svc"


def _charts(stack: Stack) -> list[dict[str, Any]]:
    """The stack's releases (three; two without a Gateway) in install order, with their Argo CD sync wave."""
    names = stack.names
    infra = [] if stack.infra is None else [
        {"release": names.infra_release, "helmfile": "llm-d-infra/llm-d-infra", "repo": INFRA_REPO,
         "chart": "llm-d-infra", "version": stack.infra.version, "values": "values/infra.yaml", "wave": 0}]
    return [
        *infra,
        {"release": names.pool, "helmfile": f"oci://{POOL_OCI}/inferencepool", "repo": POOL_OCI,
         "chart": "inferencepool", "version": stack.pool.version, "values": "values/inferencepool.yaml", "wave": 1},
        {"release": names.ms_release, "helmfile": "llm-d-modelservice/llm-d-modelservice", "repo": MS_REPO,
         "chart": "llm-d-modelservice", "version": stack.ms.version, "values": "values/modelservice.yaml", "wave": 3},
    ]


def crd_revisions(stack: Stack) -> tuple[str, str]:
    release = stack.release
    if release:
        return release.gateway_api_crds, release.gaie_crds
    return "v1.3.0", stack.pool.version


def _crds(stack: Stack) -> list[tuple[str, str, str]]:
    """(name, repository, revision) of the CRD sets the stack needs; without a Gateway only the InferencePool's."""
    gateway_api, gaie = crd_revisions(stack)
    crds = [("gateway-api-crds", providers.GATEWAY_API_REPO, gateway_api),
            ("inference-extension-crds", providers.GAIE_REPO, gaie)]
    return crds if providers.has_gateway(stack.spec.gateway.provider) else crds[1:]


def helmfile(stack: Stack) -> dict[str, Any]:
    namespace = stack.names.namespace
    releases = []
    previous: list[str] = []
    for chart in _charts(stack):
        release: dict[str, Any] = {"name": chart["release"], "namespace": namespace, "chart": chart["helmfile"],
                                   "version": chart["version"]}
        if previous:
            release["needs"] = list(previous)
        release["values"] = [chart["values"]]
        releases.append(release)
        previous.append(f"{namespace}/{chart['release']}")
    repos = [{"name": "llm-d-infra", "url": INFRA_REPO}] if stack.infra is not None else []
    return {"repositories": [*repos, {"name": "llm-d-modelservice", "url": MS_REPO}], "releases": releases}


def _control_plane(stack: Stack) -> tuple[providers.HelmChart, ...]:
    return providers.control_plane(stack.release.name if stack.release else None, stack.spec.gateway.provider)


def prereqs_helmfile(stack: Stack) -> dict[str, Any]:
    """The gateway control plane, for clusters without Argo CD (CRDs: see the stack README)."""
    releases = []
    for i, chart in enumerate(_control_plane(stack)):
        ref = f"oci://{chart.repo}/{chart.chart}" if chart.oci else f"{chart.release}-repo/{chart.chart}"
        release: dict[str, Any] = {"name": chart.release, "namespace": chart.namespace, "chart": ref,
                                   "version": chart.version, "createNamespace": True}
        if i:
            release["needs"] = [f"{chart.namespace}/{_control_plane(stack)[i - 1].release}"]
        if chart.values:
            release["values"] = [dict(chart.values)]
        releases.append(release)
    repos = [{"name": f"{c.release}-repo", "url": c.repo} for c in _control_plane(stack) if not c.oci]
    return {"repositories": repos, "releases": releases} if repos else {"releases": releases}


def targets(stack: Stack) -> list[tuple[str, str, str]]:
    """(directory key, platform, cluster server) per Argo CD target: a fleet destination, or each platform here."""
    argo = stack.spec.gitops.argocd
    if argo is not None and argo.destination is not None:
        dest = argo.destination
        return [(dest.name, dest.platform or platforms(stack)[0], dest.server)]
    return [(platform, platform, IN_CLUSTER) for platform in platforms(stack)]


def _app(stack: Stack, name: str, wave: int, namespace: str, sources: list[dict[str, Any]],
         project: str, server: str = IN_CLUSTER) -> dict[str, Any]:
    argo = stack.spec.gitops.argocd
    assert argo is not None
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": argo.namespace, "annotations": {SYNC_WAVE: str(wave)},
                     "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
        "spec": {
            "project": project,
            "destination": {"server": server, "namespace": namespace},
            "sources": sources,
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                "retry": {"limit": 5, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "10m"}},
            },
        },
    }


def children(stack: Stack, key: str, platform: str, server: str) -> dict[str, dict[str, Any]]:
    """The child Applications of one target, by file name."""
    argo = stack.spec.gitops.argocd
    assert argo is not None
    name, ns = stack.spec.metadata.name, stack.names.namespace
    stack_dir = f"{argo.path}/{name}"
    git = {"repoURL": argo.repoURL, "targetRevision": argo.targetRevision}
    apps: dict[str, dict[str, Any]] = {}
    target = key
    for crd, repo, rev in _crds(stack):
        apps[f"00-{crd}.yaml"] = _app(stack, f"{name}-{target}-{crd}", -3, ns,
                                      [{"repoURL": repo, "targetRevision": rev, "path": "config/crd"}],
                                      f"{name}-prereqs", server)
    apps.update(control_plane_apps(stack, _control_plane(stack), f"{name}-{target}", f"{name}-prereqs", server))
    for release in _charts(stack):
        source = {"repoURL": release["repo"], "chart": release["chart"], "targetRevision": release["version"],
                  "helm": {"releaseName": release["release"],
                           "valueFiles": [f"$values/{stack_dir}/{release['values']}"]}}
        apps[f"{10 + 10 * release['wave']}-{release['chart']}.yaml"] = _app(
            stack, f"{name}-{target}-{release['chart']}", release["wave"], ns, [{**git, "ref": "values"}, source],
            name, server)
    apps["30-stack.yaml"] = _app(stack, f"{name}-{target}-stack", 2, ns,
                                 [{**git, "path": f"{stack_dir}/overlays/{platform}"}], name, server)
    return apps


def parent(stack: Stack, key: str) -> dict[str, Any]:
    argo = stack.spec.gitops.argocd
    assert argo is not None
    source = {"repoURL": argo.repoURL, "targetRevision": argo.targetRevision,
              "path": f"{argo.path}/{stack.spec.metadata.name}/argocd/{key}"}
    app = _app(stack, f"{stack.spec.metadata.name}-{key}", 0, argo.namespace, [source], argo.project)
    del app["metadata"]["annotations"]
    return app


def projects(stack: Stack) -> list[dict[str, Any]]:
    """A namespaced project for the stack, and a cluster-wide one for its prerequisites only."""
    argo = stack.spec.gitops.argocd
    assert argo is not None
    name, ns = stack.spec.metadata.name, stack.names.namespace
    stack_repos = sorted({argo.repoURL, POOL_OCI, MS_REPO, *(c["repo"] for c in _charts(stack))})
    prereq_repos = sorted({*(repo for _, repo, _ in _crds(stack)), *(c.repo for c in _control_plane(stack))})
    cp_namespaces = sorted({c.namespace for c in _control_plane(stack)})
    prereqs = "CRDs and gateway control plane" if providers.has_gateway(stack.spec.gateway.provider) else "CRDs"
    return [
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
         "metadata": {"name": name, "namespace": argo.namespace},
         "spec": {"description": f"llm-d stack {name} (generated by llmd-compile)",
                  "sourceRepos": stack_repos,
                  "destinations": [{"server": server, "namespace": ns} for server in _servers(stack)],
                  # Namespace for CreateNamespace; the EPP's RBAC is cluster-scoped in the inferencepool chart.
                  "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"},
                                               {"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"},
                                               {"group": "rbac.authorization.k8s.io", "kind": "ClusterRoleBinding"}]}},
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
         "metadata": {"name": f"{name}-prereqs", "namespace": argo.namespace},
         "spec": {"description": f"cluster prerequisites of llm-d stack {name}: {prereqs}",
                  "sourceRepos": prereq_repos,
                  "destinations": [{"server": server, "namespace": n} for server in _servers(stack)
                                   for n in sorted({ns, *cp_namespaces})],
                  "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}},
    ]


def _servers(stack: Stack) -> list[str]:
    return sorted({server for _, _, server in targets(stack)})


def placement(stack: Stack) -> list[dict[str, str]]:
    """What a fleet's ApplicationSet reads (git files generator): one element per placement."""
    argo = stack.spec.gitops.argocd
    assert argo is not None
    return [{"stack": stack.spec.metadata.name, "cluster": key, "server": server, "platform": platform,
             "path": f"{argo.path}/{stack.spec.metadata.name}/argocd/{key}", "project": argo.project}
            for key, platform, server in targets(stack)]


def control_plane_apps(stack: Stack, charts: Iterable[providers.HelmChart], prefix: str, project: str,
                       server: str) -> dict[str, dict[str, Any]]:
    """The gateway control plane's Helm charts as Argo CD children in waves -2 (the first) and -1 (the rest)."""
    apps: dict[str, dict[str, Any]] = {}
    for i, chart in enumerate(charts):
        source: dict[str, Any] = {"repoURL": chart.repo, "chart": chart.chart, "targetRevision": chart.version,
                                  "helm": {"releaseName": chart.release}}
        if chart.values:
            source["helm"]["valuesObject"] = dict(chart.values)
        apps[f"0{i + 1}-{chart.release}.yaml"] = _app(stack, f"{prefix}-{chart.release}", -2 + min(i, 1),
                                                      chart.namespace, [source], project, server)
    return apps


def oci_repositories(stack: Stack) -> list[dict[str, Any]]:
    return repository_secrets(stack, {POOL_OCI, *(c.repo for c in _control_plane(stack) if c.oci)})


def repository_secrets(stack: Stack, registries: set[str]) -> list[dict[str, Any]]:
    """Argo CD reads Helm charts from an OCI registry only through a repository entry with enableOCI."""
    argo = stack.spec.gitops.argocd
    assert argo is not None
    return [{
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"llmd-compile-oci-{registry.split('/')[0].replace('.', '-')}-{i}",
                     "namespace": argo.namespace, "labels": {"argocd.argoproj.io/secret-type": "repository"}},
        "stringData": {"name": registry.rsplit("/", 1)[-1], "type": "helm", "url": registry, "enableOCI": "true"},
    } for i, registry in enumerate(sorted(registries))]


def argo_files(stack: Stack, project_docs: list[dict[str, Any]], repository_docs: list[dict[str, Any]],
               children_of: Callable[[Stack, str, str, str], dict[str, dict[str, Any]]]) -> dict[str, str]:
    """argocd/: the AppProjects, the repository entries, and per target a parent Application with its children."""
    files: dict[str, str] = {"argocd/projects.yaml": yamlio.dump_all(project_docs),
                             "argocd/repositories.yaml": yamlio.dump_all(repository_docs)}
    for key, platform, server in targets(stack):
        files[f"argocd/{key}.yaml"] = yamlio.dump(parent(stack, key))
        for file, app in children_of(stack, key, platform, server).items():
            files[f"argocd/{key}/{file}"] = yamlio.dump(app)
    return files


def emit(stack: Stack) -> dict[str, str]:
    files: dict[str, str] = {"helmfile.yaml": yamlio.dump(helmfile(stack))}
    if _control_plane(stack):
        files["prereqs/helmfile.yaml"] = yamlio.dump(prereqs_helmfile(stack))
    argo = stack.spec.gitops.argocd
    if argo is None:
        return files
    files.update(argo_files(stack, projects(stack), oci_repositories(stack), children))
    if argo.destination is not None:
        files["argocd/placement.yaml"] = yamlio.dump(placement(stack))
    return files
