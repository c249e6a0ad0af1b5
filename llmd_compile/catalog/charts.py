"""Upstream chart facts as data: what each supported chart version accepts and renders.

Sources are cited per fact as `REPO@ref:path` in ../shared/upstream/CATALOG.md (§b modelservice,
§c llm-d-infra, §d inferencepool). Emitters branch on these facts, never on version strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

INFRA_REPO = "https://llm-d-incubation.github.io/llm-d-infra/"
MS_REPO = "https://llm-d-incubation.github.io/llm-d-modelservice/"
# OCI registry of the inferencepool chart (helmfile: oci://<this>/inferencepool).
POOL_OCI = "registry.k8s.io/gateway-api-inference-extension/charts"

POOL_X_K8S = "inference.networking.x-k8s.io/v1alpha2"
POOL_K8S = "inference.networking.k8s.io/v1"


@dataclass(frozen=True)
class InfraChart:
    version: str
    has_schema: bool = True
    # v1.4.0 renamed the gateway selection: gateway.provider + exposure (CATALOG §c.2).
    has_provider: bool = False
    # Default of gateway.service.type: LoadBalancer in v1.3.0-v1.3.2, ClusterIP from v1.3.3.
    default_service_type: str = "ClusterIP"
    # Gateway providers the chart renders. v1.3.x knows the classes istio, kgateway (+ kgateway's
    # "agentgateway-v2" from v1.3.5) and gke-l7-*; an agentgateway provider arrives in v1.4.0 (#272, CATALOG §c).
    providers: frozenset[str] = frozenset({"istio", "kgateway", "gke"})
    # v1.3.0 annotates an Istio Gateway `networking.istio.io/service-type: ClusterIP`, so Istio makes a ClusterIP
    # Service whatever gateway.service.type says (the seed saw exactly that: CATALOG §c.1, §j). The gateway template
    # of later v1.3.x (listener tls, so v1.3.4+) has no such annotation; v1.3.3 is not known either way.
    istio_clusterip_annotation: bool = False
    # Upstream bug: the default gateway.listeners[0] carries `path: /` and the Gateway template renders it, but a
    # Gateway listener has no `path` field, so strict field validation (kubectl's default) rejects the Gateway.
    # INFRA@v1.3.0:charts/llm-d-infra/values.yaml (gateway.listeners) + templates/gateway-infrastructure/
    # gateway.yaml (`with $l.path`); also in v1.2.4; gone from v1.3.3 (neither key nor template line). Found by
    # rendering (tests/render, issue 14): we set the listeners without it.
    listener_path_bug: bool = False


@dataclass(frozen=True)
class PoolChart:
    version: str
    # InferencePool apiVersions this chart can render; the first is what it renders by default.
    pool_api_versions: tuple[str, ...] = (POOL_K8S, POOL_X_K8S)
    image_keys: Literal["hub/name", "registry/repository"] = "hub/name"
    # Where the Istio DestinationRule for the EPP is configured (CATALOG §a.3, §d.2).
    destination_rule: Literal["infra", "istio", "provider.istio"] = "provider.istio"
    # Name of the plugins file baked into the chart's ConfigMap.
    default_plugins_file: str = "default-plugins.yaml"
    # EPP ServiceMonitor + metrics-reader secret (CATALOG §d.2): none in v0.5.1, monitoring.secret.name in
    # v1.0.x, monitoring.prometheus.auth.secretName from v1.1.0. The chart has no schema: a wrong key is ignored.
    epp_monitoring: Literal["none", "secret.name", "prometheus.auth.secretName"] = "prometheus.auth.secretName"
    # The chart passes --pool-group to the EPP (v1.0.1+; CATALOG §d.3), a flag GAIE v0.5.1 pickers lack.
    passes_pool_group: bool = True
    # inferenceExtension.sidecar (a container next to the EPP, e.g. the UDS tokenizer): v1.2.0+ (CATALOG §d.2, §f).
    has_sidecar: bool = True
    # Upstream bug: with provider.name gke and EPP monitoring on (prometheus.enabled + auth.enabled),
    # templates/gke.yaml ends in `---` and `{{- include "inference-extension.gke" . -}}` glues the GMP metrics
    # reader's first line to it (`---apiVersion: v1`): Helm's splitter separates it, the Kubernetes YAML reader
    # (kubectl, Argo CD) does not. GAIE@v1.2.0-rc.1 .. GAIE@v1.5.0:config/charts/inferencepool/templates/gke.yaml
    # (every catalogued version with GMP monitoring; v1.0.1 has none for gke). Found by rendering (tests/render,
    # issue 14); the charts in ../shared render it for each of these versions.
    gke_monitoring_glued: bool = False

    @staticmethod
    def target_port_key(api_version: str) -> Literal["targetPortNumber", "targetPorts"]:
        """The inferencePool key the chart reads for the rendered apiVersion (CATALOG §d.3)."""
        return "targetPortNumber" if api_version == POOL_X_K8S else "targetPorts"


# accelerator.type per spec vendor (the keys of accelerator.resources in each chart's values.yaml).
ACCELERATORS_V02 = MappingProxyType({"nvidia": "nvidia", "amd": "amd", "google": "google", "intel": "intel"})
# intel-i915 / intel-xe / intel-gaudi from v0.2.12-v0.2.16 (CATALOG §b.2); the v0.3.0 values.yaml has all three.
ACCELERATORS_V03 = MappingProxyType({**ACCELERATORS_V02, "intel": "intel-i915", "intel-gaudi": "intel-gaudi"})
ACCELERATORS_V045 = MappingProxyType({**ACCELERATORS_V03, "cpu": "cpu"})
# accelerator.resourceClaimTemplates keys (MS v0.4.x values.yaml): XPUs claim as "intel" (intel-i915 deprecated).
DRA_V04 = MappingProxyType({"nvidia": "nvidia", "amd": "amd", "google": "google", "intel": "intel",
                            "intel-gaudi": "intel-gaudi"})


@dataclass(frozen=True)
class ModelServiceChart:
    version: str
    has_schema: bool = True
    # routing.{parentRefs,inferencePool,inferenceModel,httpRoute,epp}: v0.2.x only (removed v0.3.0).
    routing_gaie_keys: bool = False
    # routing.proxy.enabled exists from v0.2.8 (before, the sidecar is always rendered).
    proxy_toggle: bool = True
    # v0.2.7-v0.2.14 read --tensor-parallel-size from a container-level `parallelism`
    # but the GPU count from decode.parallelism (fixed in v0.2.15, CATALOG §b.2).
    container_parallelism_quirk: bool = False
    # The pod label the pool selects on, and whether modelArtifacts.labels exists / is open.
    serving_label: str = "llm-d.ai/inference-serving"
    model_label_is_fullname: bool = False
    has_labels_key: bool = True
    custom_labels: bool = True
    # v0.2.8/v0.2.9 reject volumes other than {name, emptyDir: {}}.
    strict_volumes: bool = False
    has_accelerator_block: bool = True
    # accelerator.type per spec vendor: the keys of accelerator.resources (intel -> intel-i915 from v0.2.12;
    # "cpu" is a type from v0.4.5, `# Supported types:` comment in values.yaml). Absent vendor: not supported.
    accelerator_types: Mapping[str, str] = field(default_factory=lambda: ACCELERATORS_V03, hash=False)
    # decode|prefill.nodeSelector (schema since v0.3.7); before, pod fields go through extraConfig (CATALOG §b.2).
    has_node_selector: bool = False
    # accelerator.dra + accelerator.resourceClaimTemplates (v0.4.0 "Refactor DRA implementation"): the template
    # keys per spec vendor (intel XPUs claim as "intel").
    dra_types: Mapping[str, str] = field(default_factory=dict, hash=False)
    # multinode: true renders a LeaderWorkerSet per replica; its size is parallelism.data in v0.2.x (the wide-EP
    # guide's "hack": data = pods) and parallelism.workers in v0.4.x (CATALOG §b.2); v0.3.x: not catalogued.
    lws_size: Literal["data", "workers"] | None = "workers"
    # Upstream bug: decode|prefill.parallelism.tensor > 1 adds `nvidia.com/gpu: <tensor>` to the pod's limits and
    # requests whatever the accelerator (MS@llm-d-modelservice-v0.2.7:charts/llm-d-modelservice/templates/
    # _helpers.tpl, `llm-d-modelservice.resources`; v0.2.8 replaced it with accelerator.resources). A TPU pod
    # then asks for TPUs and GPUs and never schedules; the seed TPU guide passed TP as a vLLM flag instead.
    gpu_from_tensor_bug: bool = False
    # apiVersion of the ResourceClaimTemplate accelerator.dra renders: resource.k8s.io/v1 in v0.3.8-v0.4.12
    # (MS@llm-d-modelservice-v0.4.9:charts/llm-d-modelservice/templates/resource-claim-template.yaml).
    dra_api_version: str = "resource.k8s.io/v1"
    # decode|prefill.initContainers, rendered after the routing sidecar (schema since v0.3.11, CATALOG §b.2; the
    # LD@899f8517 sim guide runs its UDS tokenizer there on v0.4.9).
    init_containers: bool = False


INFRA: Mapping[str, InfraChart] = MappingProxyType({
    "v1.3.0": InfraChart("v1.3.0", default_service_type="LoadBalancer", istio_clusterip_annotation=True,
                         listener_path_bug=True),
    "v1.3.3": InfraChart("v1.3.3"),
    "v1.3.4": InfraChart("v1.3.4"),
    "v1.3.6": InfraChart("v1.3.6"),
    "v1.3.10": InfraChart("v1.3.10"),
    "v1.4.0": InfraChart("v1.4.0", has_provider=True,
                         providers=frozenset({"istio", "kgateway", "agentgateway", "gke"})),
})

POOL: Mapping[str, PoolChart] = MappingProxyType({
    "v0.5.1": PoolChart("v0.5.1", pool_api_versions=(POOL_X_K8S,), destination_rule="infra",
                        default_plugins_file="plugins-v2.yaml", epp_monitoring="none", passes_pool_group=False,
                        has_sidecar=False),
    "v1.0.1": PoolChart("v1.0.1", destination_rule="istio", epp_monitoring="secret.name", has_sidecar=False),
    "v1.2.0": PoolChart("v1.2.0", gke_monitoring_glued=True),
    "v1.2.0-rc.1": PoolChart("v1.2.0-rc.1", gke_monitoring_glued=True),
    "v1.3.0": PoolChart("v1.3.0", gke_monitoring_glued=True),
    "v1.4.0": PoolChart("v1.4.0", gke_monitoring_glued=True),
    "v1.5.0": PoolChart("v1.5.0", pool_api_versions=(POOL_K8S,), image_keys="registry/repository",
                        gke_monitoring_glued=True),
})

_V02 = {"routing_gaie_keys": True, "lws_size": "data", "accelerator_types": ACCELERATORS_V02,
        "serving_label": "llm-d.ai/inferenceServing", "model_label_is_fullname": True, "has_labels_key": False,
        "custom_labels": False}
MODELSERVICE: Mapping[str, ModelServiceChart] = MappingProxyType({
    "v0.2.7": ModelServiceChart("v0.2.7", has_schema=False, proxy_toggle=False, container_parallelism_quirk=True,
                                has_accelerator_block=False, gpu_from_tensor_bug=True, **_V02),  # type: ignore[arg-type]
    "v0.2.9": ModelServiceChart("v0.2.9", container_parallelism_quirk=True, strict_volumes=True,
                                **_V02),  # type: ignore[arg-type]
    "v0.2.10": ModelServiceChart("v0.2.10", container_parallelism_quirk=True, **_V02),  # type: ignore[arg-type]
    "v0.2.11": ModelServiceChart("v0.2.11", container_parallelism_quirk=True, **_V02),  # type: ignore[arg-type]
    # v0.3.0 "Remove gaie (#145)": routing is {proxy, servicePort}; labels become modelArtifacts.labels.
    "v0.3.0": ModelServiceChart("v0.3.0", serving_label="llm-d.ai/inferenceServing", custom_labels=False,
                                lws_size=None),
    # v0.3.8's schema has decode.nodeSelector closed with no properties ({} only): use extraConfig there.
    "v0.3.8": ModelServiceChart("v0.3.8", serving_label="llm-d.ai/inferenceServing", custom_labels=False,
                                lws_size=None),
    "v0.4.5": ModelServiceChart("v0.4.5", accelerator_types=ACCELERATORS_V045, has_node_selector=True,
                                dra_types=DRA_V04, init_containers=True),
    "v0.4.9": ModelServiceChart("v0.4.9", accelerator_types=ACCELERATORS_V045, has_node_selector=True,
                                dra_types=DRA_V04, init_containers=True),
    "v0.4.12": ModelServiceChart("v0.4.12", accelerator_types=ACCELERATORS_V045, has_node_selector=True,
                                 dra_types=DRA_V04, init_containers=True),
})


@dataclass(frozen=True)
class Release:
    """A version set an llm-d release shipped (CATALOG §0.1)."""

    name: str
    infra: str
    inferencepool: str
    modelservice: str
    scheduler_image: str  # the gaie values' inferenceExtension.image (CATALOG §0.1)
    vllm_image: str
    # The ms values' routing.proxy.image: LD@v0.3.0 v0.3.0, LD@v0.4.0 v0.4.0-rc.1, LD@899f8517 v0.7.1 (P/D guide).
    routing_sidecar_image: str
    gateway_api_crds: str
    gaie_crds: str
    # InferencePool group the guides of that release rendered (they forced v1alpha2 up to v0.4.0).
    pool_api_version: str
    # vLLM image per accelerator.vendor in that release's guides (ms values, values_<accelerator>.yaml).
    vllm_images: Mapping[str, str] = field(default_factory=dict, hash=False)
    # The UDS tokenizer sidecar of the precise prefix-cache guide (LD@899f8517 gaie-kv-events values).
    uds_tokenizer_image: str | None = None

    def image_for(self, vendor: str) -> str | None:
        return self.vllm_images.get(vendor)


_SEED_IMAGES = {"nvidia": "ghcr.io/llm-d/llm-d-dev:pr-170",
                "google": "vllm/vllm-tpu:e92694b6fe264a85371317295bca6643508034ef",
                "simulated": "ghcr.io/llm-d/llm-d-inference-sim:v0.3.0"}
_V030_IMAGES = {"nvidia": "ghcr.io/llm-d/llm-d-cuda:v0.3.0", "intel": "ghcr.io/llm-d/llm-d-xpu:v0.3.0",
                "google": "vllm/vllm-tpu:e92694b6fe264a85371317295bca6643508034ef",
                "simulated": "ghcr.io/llm-d/llm-d-inference-sim:v0.5.1"}
_V040_IMAGES = {"nvidia": "ghcr.io/llm-d/llm-d-cuda:v0.3.1", "intel": "ghcr.io/llm-d/llm-d-xpu:v0.3.1",
                "intel-gaudi": "opea/vllm-gaudi:1.22.0", "google": "vllm/vllm-tpu:v0.11.1",
                "simulated": "ghcr.io/llm-d/llm-d-inference-sim:v0.6.1"}
_V06_IMAGES = {"nvidia": "ghcr.io/llm-d/llm-d-cuda:v0.6.0", "amd": "ghcr.io/llm-d/llm-d-rocm:v0.6.0",
               "intel": "ghcr.io/llm-d/llm-d-xpu:v0.6.0", "intel-gaudi": "ghcr.io/llm-d/llm-d-hpu:v0.6.0",
               "cpu": "ghcr.io/llm-d/llm-d-cpu:v0.6.0", "google": "vllm/vllm-tpu:v0.11.1",
               "simulated": "ghcr.io/llm-d/llm-d-inference-sim:v0.8.2"}

RELEASES: Mapping[str, Release] = MappingProxyType({
    "seed": Release("seed", "v1.3.0", "v0.5.1", "v0.2.7", "ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1",
                    "ghcr.io/llm-d/llm-d-dev:pr-170", "ghcr.io/llm-d/llm-d-routing-sidecar:v0.2.0",
                    "v1.3.0", "v0.5.1", POOL_X_K8S, MappingProxyType(_SEED_IMAGES)),
    "v0.3.0": Release("v0.3.0", "v1.3.3", "v1.0.1", "v0.2.10", "ghcr.io/llm-d/llm-d-inference-scheduler:v0.3.2",
                      "ghcr.io/llm-d/llm-d-cuda:v0.3.0", "ghcr.io/llm-d/llm-d-routing-sidecar:v0.3.0",
                      "v1.3.0", "v1.0.1", POOL_X_K8S, MappingProxyType(_V030_IMAGES)),
    "v0.4.0": Release("v0.4.0", "v1.3.4", "v1.2.0-rc.1", "v0.3.8",
                      "ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0-rc.1", "ghcr.io/llm-d/llm-d-cuda:v0.3.1",
                      "ghcr.io/llm-d/llm-d-routing-sidecar:v0.4.0-rc.1", "v1.3.0", "v1.2.0-rc.1", POOL_X_K8S,
                      MappingProxyType(_V040_IMAGES)),
    "v0.6": Release("v0.6", "v1.4.0", "v1.4.0", "v0.4.9", "ghcr.io/llm-d/llm-d-inference-scheduler:v0.7.0",
                    "ghcr.io/llm-d/llm-d-cuda:v0.6.0", "ghcr.io/llm-d/llm-d-routing-sidecar:v0.7.1",
                    "v1.5.1", "v1.4.0", POOL_K8S, MappingProxyType(_V06_IMAGES),
                    "ghcr.io/llm-d/llm-d-uds-tokenizer:v0.7.1"),
})

# First Kubernetes minor that serves an API version the stacks may render (Kubernetes release notes: DRA
# resource.k8s.io/v1beta1 in 1.32, v1beta2 in 1.33, GA v1 in 1.34).
API_SERVED_FROM: Mapping[str, tuple[int, int]] = MappingProxyType({
    "resource.k8s.io/v1beta1": (1, 32),
    "resource.k8s.io/v1beta2": (1, 33),
    "resource.k8s.io/v1": (1, 34),
})


def gke_monitoring_glued(pool: PoolChart, provider: str, epp_monitoring: bool) -> bool:
    """The chart would glue its GKE monitoring objects to a `---` (PoolChart.gke_monitoring_glued)."""
    return provider == "gke" and epp_monitoring and pool.gke_monitoring_glued
