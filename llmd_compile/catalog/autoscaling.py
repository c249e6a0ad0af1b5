"""Workload autoscaling and monitoring stacks as data (llm-d v0.9 guides, CURRENT §10).

Sources: `LD@e3dbeca1:guides/workload-autoscaling/{keda-epp-queue,keda-epp-saturation,wva}/...`,
`guides/recipes/autoscaling/metrics-reader/`, `guides/workload-autoscaling/promadapter.md` and
`components/prometheus-adapter/*.yaml`; WVA `config/` at commit d5d58640 ("Prepare for release v0.9.0").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

KEDA_API = "keda.sh/v1alpha1"
KEDA_VERSION = "2.20.1"  # guides/workload-autoscaling/slo-aware pins KEDA_VERSION=2.20.1 (CURRENT §10)
HPA_API = "autoscaling/v2"
MONITORING_API = "monitoring.coreos.com/v1"
GMP_API = "monitoring.googleapis.com/v1"

# The WVA controller is installed with kustomize from its own repository (no chart, no CRD in v0.9.0).
WVA_REPO = "github.com/llm-d/llm-d-workload-variant-autoscaler"
WVA_REF = "v0.9.0"  # the guides use ?ref=release-0.9; a tag is what a GitOps pin wants
WVA_IMAGE = "ghcr.io/llm-d/llm-d-workload-variant-autoscaler:v0.9.0"  # config/base/manager images: newTag v0.9.0
WVA_CONTROLLER = "wva-controller-manager"  # namePrefix wva- + controller-manager
WVA_TOKEN_SECRET = "wva-controller-manager-token"  # OpenShift component's SA token (wva/keda/ocp TriggerAuth)
# WVA discovers a variant by these annotations on its ScaledObject/HPA (wva/optimized-baseline/*).
WVA_MANAGED = "llm-d.ai/managed"
WVA_MODEL_ID = "llm-d.ai/model-id"
WVA_VARIANT_COST = "llm-d.ai/variant-cost"
WVA_ACCELERATOR = "inference.optimization/acceleratorName"

# recipes/autoscaling/metrics-reader: the OpenShift Thanos credentials KEDA borrows.
METRICS_READER_SA = "keda-epp-metrics-reader"
METRICS_READER_SECRET = "keda-epp-metrics-reader-token"
CLUSTER_MONITORING_VIEW = "cluster-monitoring-view"

# prometheus-community/prometheus-adapter: installed with no pinned chart version (promadapter.md).
ADAPTER_CHART = "prometheus-community/prometheus-adapter"
ADAPTER_REPO = "https://prometheus-community.github.io/helm-charts"


@dataclass(frozen=True)
class MonitoringStack:
    """Where a platform's Prometheus answers queries and how KEDA authenticates to it."""

    name: str
    url: str | None  # None: the spec must say (GKE managed Prometheus is per project)
    auth: str  # "ca": a CA Secret; "bearer": a ServiceAccount token with cluster-monitoring-view; "gcp": workload id
    monitors: str  # the monitor CRDs it reads: "prometheus-operator" (PodMonitor/ServiceMonitor/PrometheusRule), "gmp"


STACKS: Mapping[str, MonitoringStack] = MappingProxyType({
    # The bundled llm-d kube-prometheus-stack (docs/operations/observability/setup.md, TLS on): the queue guide's
    # serverAddress and its CA-only TriggerAuthentication (Secret keda-prometheus-auth, key ca.crt).
    "prometheus-operator": MonitoringStack(
        "prometheus-operator", "https://llmd-kube-prometheus-stack-prometheus.llm-d-monitoring.svc.cluster.local:9090",
        "ca", "prometheus-operator"),
    # OpenShift user-workload monitoring: Thanos Querier :9091 rejects unauthenticated queries (the ocp overlays).
    "openshift-user-workload": MonitoringStack(
        "openshift-user-workload", "https://thanos-querier.openshift-monitoring.svc.cluster.local:9091", "bearer",
        "prometheus-operator"),
    # GKE managed Prometheus: PodMonitoring/Rules (monitoring.googleapis.com), the query frontend per project.
    "gke-managed": MonitoringStack("gke-managed", None, "gcp", "gmp"),
})
KEDA_CA_SECRET = "keda-prometheus-auth"  # keda-epp-queue/base/scaledobject.yaml
