"""The EPP's Google Managed Prometheus scrape on GKE, as our own manifests, where the chart's would come out glued.

inferencepool v1.2.0-rc.1 to v1.5.0 render these objects for `provider.name: gke` right after a `---` they glue to
(`---apiVersion: v1`, catalog PoolChart.gke_monitoring_glued): Helm splits it, the Kubernetes YAML reader does
not. There the values switch the chart's EPP monitoring off and the base carries the same scrape instead: a
metrics-reader ServiceAccount and its token Secret, the ClusterRole to GET the EPP's /metrics, read access to the
token for GMP's collector, and a PodMonitoring of the EPP pods' `metrics` port with that token as Bearer.
Facts from GAIE@v1.4.0 (the same in v1.2.0-rc.1 .. v1.5.0): config/charts/inferencepool/charts/
inference-extension/templates/_gke.yaml and _helpers.tpl (`selectorLabels`: `inferencepool: <release>-epp`).
On GKE Autopilot GMP's collector runs in `gke-gmp-system`, not `gmp-system` (patch the RoleBinding subject in
your overlay component).
"""

from __future__ import annotations

from typing import Any

from llmd_compile.catalog import charts
from llmd_compile.resolve import Stack

GMP_NAMESPACE = "gmp-system"
RBAC = "rbac.authorization.k8s.io"


def applies(stack: Stack) -> bool:
    spec = stack.spec
    return charts.gke_monitoring_glued(stack.pool, spec.gateway.provider, spec.monitoring.epp.enabled)


def manifests(stack: Stack, labels: dict[str, str]) -> dict[str, dict[str, Any]]:
    """{base file name: object}; empty unless the chart's own GKE monitoring is switched off (applies())."""
    if not applies(stack):
        return {}
    n = stack.names
    reader, secret = f"{n.pool}-metrics-reader", n.epp_metrics_secret
    cluster_role = f"{n.namespace}-{n.pool}-metrics-reader"
    secret_reader = f"{n.pool}-metrics-reader-secret-read"

    def meta(name: str) -> dict[str, Any]:
        return {"name": name, "labels": labels}

    return {
        "epp-metrics-serviceaccount.yaml": {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(reader)},
        "epp-metrics-secret.yaml": {
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {**meta(secret), "annotations": {"kubernetes.io/service-account.name": reader}},
            "type": "kubernetes.io/service-account-token",
        },
        "epp-metrics-clusterrole.yaml": {
            "apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta(cluster_role),
            "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
        },
        "epp-metrics-clusterrolebinding.yaml": {
            "apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": meta(cluster_role),
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": cluster_role},
            "subjects": [{"kind": "ServiceAccount", "name": reader, "namespace": n.namespace}],
        },
        "epp-metrics-secret-role.yaml": {
            "apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": meta(secret_reader),
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [secret],
                       "verbs": ["get", "list", "watch"]}],
        },
        "epp-metrics-secret-rolebinding.yaml": {
            "apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
            "metadata": meta(f"{secret_reader}-gmp-collector"),
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": secret_reader},
            "subjects": [{"kind": "ServiceAccount", "name": "collector", "namespace": GMP_NAMESPACE}],
        },
        "epp-podmonitoring.yaml": {
            "apiVersion": "monitoring.googleapis.com/v1", "kind": "PodMonitoring", "metadata": meta(n.epp),
            "spec": {
                "selector": {"matchLabels": {"inferencepool": n.epp}},
                "endpoints": [{
                    "port": "metrics", "scheme": "http", "interval": stack.spec.monitoring.epp.interval,
                    "path": "/metrics",
                    "authorization": {"type": "Bearer", "credentials": {"secret": {"name": secret, "key": "token"}}},
                }],
            },
        },
    }
