"""llm-d v0.8+ as data: the router-chart release presets and what each pinned router chart version reads.

Facts from ../shared/upstream/CURRENT.md (§1 install shape, §2 version matrix, §3 naming, §4 values keys, §5 image
renames) and the verbatim guide trees it cites (`LD@3fa7bfc5` ~ llm-d v0.8.0, `LD@e3dbeca1` = llm-d v0.9.0). A
release preset decides the install shape: Helm-era presets live in `charts.RELEASES` (shape "helm"); these are
shape "router" (one router chart release + a Gateway recipe + kustomize model servers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from llmd_compile.catalog.charts import ACCELERATORS_V045, DRA_V04, POOL_K8S, ModelServiceChart, PoolChart

ROUTER_OCI = "ghcr.io/llm-d/charts"  # oci://ghcr.io/llm-d/charts/llm-d-router-{gateway,standalone} (env.sh)
GATEWAY_CHART = "llm-d-router-gateway"
STANDALONE_CHART = "llm-d-router-standalone"
PICKER_REPO = "ghcr.io/llm-d/llm-d-router-endpoint-picker"  # renamed from llm-d-inference-scheduler (§5)
SIDECAR_REPO = "ghcr.io/llm-d/llm-d-router-disagg-sidecar"  # renamed from llm-d-routing-sidecar (§5)
ROUTER_REPO = "https://github.com/llm-d/llm-d-router"
GAIE_RELEASES = "https://github.com/kubernetes-sigs/gateway-api-inference-extension/releases/download"
GATEWAY_API_RELEASES = "https://github.com/kubernetes-sigs/gateway-api/releases/download"
# Packages that can no longer be pulled (any tag, CURRENT §5): no router-shape stack may emit them.
DEAD_IMAGE_REPOS = ("ghcr.io/llm-d/llm-d-inference-scheduler", "ghcr.io/llm-d/llm-d-routing-sidecar",
                    "ghcr.io/llm-d/llm-d-uds-tokenizer")
# The Gateway every recipe under guides/recipes/gateway/ creates (LD@e3dbeca1 recipes/gateway/base/gateway.yaml).
RECIPE_GATEWAY = "llm-d-inference-gateway"


@dataclass(frozen=True)
class RouterChart:
    """What one published router chart version (gateway and standalone share routerlib) reads and renders."""

    version: str
    # provider.gke.preferredBackends (new in v0.10.0, CURRENT §4).
    gke_preferred_backends: bool = False
    # router.epp.podAnnotations (#1883, v0.10.0).
    pod_annotations: bool = False
    # provider.name=gke implies GMP when router.monitoring.provider.name is unset (v0.9.0, v0.10.0; main drops it).
    gke_implies_gmp: bool = True


ROUTER_CHARTS: Mapping[str, RouterChart] = MappingProxyType({
    "v0.9.0": RouterChart("v0.9.0"),
    "v0.10.0": RouterChart("v0.10.0", gke_preferred_backends=True, pod_annotations=True),
})


@dataclass(frozen=True)
class ControlPlane:
    """Versions of the gateway control planes and cluster add-ons the release's docs install (CURRENT §2)."""

    istio: str = "1.29.2"
    agentgateway: str = "v1.1.0"
    envoy_ai_gateway: str = "v0.7.0"
    lws: str = "0.9.0"


@dataclass(frozen=True)
class RouterRelease:
    """A version set an llm-d release of the router era shipped (CURRENT §2)."""

    name: str
    llm_d: str  # the llm-d release this preset reproduces
    router_chart: str  # ROUTER_CHARTS key (env.sh ROUTER_CHART_VERSION)
    picker_image: str
    sidecar_image: str
    gaie_crds: str  # GAIE release of v1-manifests.yaml (InferencePool v1)
    gateway_api_crds: str  # standard-install.yaml
    router_crds: str  # llm-d-router release of manifests.yaml (llm-d.ai InferenceObjective, ...)
    # vLLM image per accelerator.vendor: the guides' components/images/<accel>-vllm release component.
    vllm_images: Mapping[str, str] = field(default_factory=dict, hash=False)
    # The llm-d CUDA image the wide-EP guide runs (components/images/gpu-vllm/llm-d/release).
    widep_image: str | None = None
    control_plane: ControlPlane = ControlPlane()
    shape: Literal["router"] = "router"

    def image_for(self, vendor: str) -> str | None:
        return self.vllm_images.get(vendor)

    @property
    def chart(self) -> RouterChart:
        return ROUTER_CHARTS[self.router_chart]


# LD@3fa7bfc5 guides/recipes/modelserver/components/images/*/kustomization.yaml (v0.8.0 had one component per
# accelerator, no release/nightly split); no inference-sim image appears in the v0.8 or v0.9 guides.
_V08_IMAGES = {"nvidia": "vllm/vllm-openai:v0.23.0", "amd": "ghcr.io/llm-d/llm-d-rocm:v0.7.0",
               "intel": "ghcr.io/llm-d/llm-d-xpu:v0.7.0", "cpu": "ghcr.io/llm-d/llm-d-cpu:v0.7.0",
               "google": "vllm/vllm-tpu:v0.22.0"}
# LD@e3dbeca1 components/images/<accel>-vllm/release; simulated: the inference-sim the router v0.10.0 CI runs
# (ROUTER@v0.10.0:DEVELOPMENT.md, CURRENT §8).
_V09_IMAGES = {"nvidia": "docker.io/vllm/vllm-openai:v0.26.0", "amd": "docker.io/vllm/vllm-openai-rocm:v0.26.0",
               "intel": "docker.io/vllm/vllm-openai-xpu:v0.26.0", "cpu": "docker.io/vllm/vllm-openai-cpu:v0.26.0",
               "google": "docker.io/vllm/vllm-tpu:v0.26.0",
               "simulated": "ghcr.io/llm-d/llm-d-inference-sim:v0.10.2"}

ROUTER_RELEASES: Mapping[str, RouterRelease] = MappingProxyType({
    "v0.8": RouterRelease("v0.8", "v0.8.0", "v0.9.0", f"{PICKER_REPO}:v0.9.0", f"{SIDECAR_REPO}:v0.9.0",
                          gaie_crds="v1.5.0", gateway_api_crds="v1.5.1", router_crds="v0.9.0",
                          vllm_images=MappingProxyType(_V08_IMAGES), widep_image="ghcr.io/llm-d/llm-d-cuda:v0.8.0"),
    # The v0.9 P/D and wide-EP overlays reference routing-sidecar/nightly (:main); the release component is
    # v0.10.0, which is what a pinned release should run (CURRENT §2).
    "v0.9": RouterRelease("v0.9", "v0.9.0", "v0.10.0", f"{PICKER_REPO}:v0.10.0", f"{SIDECAR_REPO}:v0.10.0",
                          gaie_crds="v1.5.0", gateway_api_crds="v1.5.1", router_crds="v0.10.0",
                          vllm_images=MappingProxyType(_V09_IMAGES), widep_image="ghcr.io/llm-d/llm-d-cuda:v0.9.0"),
})


def chart_name(provider: str) -> str:
    """The gateway chart when there is a Gateway, the standalone chart (Envoy beside the picker) without."""
    return STANDALONE_CHART if provider == "none" else GATEWAY_CHART


def epp_name(release: str) -> str:
    """routerlib `llm-d-router.name`: `.Release.Name | lower | trim | trunc 40` + "-epp" (no trimSuffix)."""
    return release.lower().strip()[:40] + "-epp"


# The only label the v0.9 guides' InferencePool selects (router.modelServers.matchLabels, CURRENT §3); the
# model-server pods also carry llm-d.ai/{role,model,accelerator-vendor,accelerator-variant}.
GUIDE_LABEL = "llm-d.ai/guide"
# The router chart's InferencePool and EPP as Helm-era pool facts: inference.networking.k8s.io/v1 only,
# registry/repository image keys, Istio DestinationRule under provider.istio, default-plugins.yaml in the chart,
# ServiceMonitor secret at monitoring.prometheus.auth.secretName, --pool-group passed (routerlib _deployment.yaml).
# Like inferencepool v1.4.0/v1.5.0, routerlib's GKE template glues its GMP monitoring objects to a `---` that
# kubectl and Argo CD do not split (`---apiVersion: v1` after the GCPBackendPolicy; rendered at v0.9.0 and v0.10.0).
ROUTER_POOL = PoolChart("router", pool_api_versions=(POOL_K8S,), image_keys="registry/repository",
                        has_sidecar=False, gke_monitoring_glued=True)
# The kustomize model servers as Helm-era modelservice facts: every accelerator and DRA claim the guides use,
# pod fields written directly (nodeSelector, initContainers), LeaderWorkerSet size = pods per replica.
KUSTOMIZE_MS = ModelServiceChart("kustomize", serving_label=GUIDE_LABEL, accelerator_types=ACCELERATORS_V045,
                                 has_node_selector=True, dra_types=DRA_V04, init_containers=True)
RENAMED = MappingProxyType({
    "ghcr.io/llm-d/llm-d-inference-scheduler": PICKER_REPO,
    "ghcr.io/llm-d/llm-d-routing-sidecar": SIDECAR_REPO,
    "ghcr.io/llm-d/llm-d-uds-tokenizer": "vLLM `vllm launch render` (vllm/vllm-openai-cpu), the token-producer",
})
