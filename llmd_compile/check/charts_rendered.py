"""What rendering the charts showed (issue 14, tests/render): API versions the cluster must serve and chart
output we had to leave out (LLMD43x)."""

from __future__ import annotations

from collections.abc import Iterator

from llmd_compile.catalog.charts import API_SERVED_FROM, gke_monitoring_glued
from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts, dig


def _api_versions(a: Artifacts) -> dict[str, tuple[str, str]]:
    """apiVersion -> (what renders it, the spec field behind it): our base manifests and the chart objects the
    catalog knows of."""
    found = {str(d.get("apiVersion")): (f"base {d.get('kind')}", "metadata.name") for d in a.base_docs()}
    if dig(a.ms, "accelerator", "dra"):
        found[a.stack.ms.dra_api_version] = (f"llm-d-modelservice {a.stack.ms.version} ResourceClaimTemplate",
                                             "accelerator.dra")
    return {v: what for v, what in found.items() if v in API_SERVED_FROM}


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def api_not_served(a: Artifacts) -> Iterator[Finding]:
    wanted = a.stack.spec.cluster.kubernetesVersion
    if wanted is None:
        return
    for api, (what, _) in sorted(_api_versions(a).items()):
        floor = API_SERVED_FROM[api]
        if _version(wanted) < floor:
            yield Finding("cluster.kubernetesVersion", f"{what} is {api}, served from Kubernetes "
                          f"{floor[0]}.{floor[1]}; the cluster runs {wanted}")


def api_floor_unchecked(a: Artifacts) -> Iterator[Finding]:
    if a.stack.spec.cluster.kubernetesVersion is not None:
        return
    for api, (what, field) in sorted(_api_versions(a).items()):
        floor = API_SERVED_FROM[api]
        yield Finding(field, f"{what} is {api}, served from Kubernetes {floor[0]}.{floor[1]}; "
                      "cluster.kubernetesVersion is unset, so this is not checked")


def gke_monitoring_ours(a: Artifacts) -> Iterator[Finding]:
    spec = a.stack.spec
    if gke_monitoring_glued(a.stack.pool, spec.gateway.provider, spec.monitoring.epp.enabled):
        if a.is_router:
            return  # LLMD433: the router chart's are left out, not replaced
        yield Finding("monitoring.epp.enabled", f"inferencepool {a.stack.pool.version} glues its GKE metrics objects "
                      "to a `---` that kubectl and Argo CD do not split (templates/gke.yaml `---apiVersion`): the "
                      "chart's EPP monitoring is off and base/epp-metrics-*.yaml + base/epp-podmonitoring.yaml carry "
                      "the same GMP scrape")


def gke_monitoring_left_out(a: Artifacts) -> Iterator[Finding]:
    spec = a.stack.spec
    if a.is_router and gke_monitoring_glued(a.stack.pool, spec.gateway.provider, spec.monitoring.epp.enabled):
        yield Finding("monitoring.epp.enabled", "the router chart glues its GKE metrics objects "
                      "to a `---` that kubectl and Argo CD do not split (templates/gke.yaml `---apiVersion`), so "
                      "the chart's EPP monitoring (GMP PodMonitoring, metrics-reader ServiceAccount, Secret and "
                      "RBAC) is switched off")


RULES = (
    Rule("LLMD430", "error", "an API version the cluster does not serve",
         "raise cluster.kubernetesVersion if the cluster is newer, or drop the feature (e.g. accelerator.dra)",
         api_not_served),
    Rule("LLMD431", "info", "API version floor not checked",
         "set cluster.kubernetesVersion (e.g. \"1.34\") so the compiler checks what the cluster serves",
         api_floor_unchecked),
    Rule("LLMD432", "info", "GKE EPP monitoring generated in base/: the chart glues a document separator",
         "nothing to do; on GKE Autopilot patch the collector RoleBinding's subject namespace to gke-gmp-system",
         gke_monitoring_ours),
    Rule("LLMD433", "warning", "GKE EPP monitoring left out: the router chart glues a document separator",
         "apply a PodMonitoring for the EPP's metrics port yourself; set monitoring.epp.enabled: false to silence "
         "this", gke_monitoring_left_out),
)
