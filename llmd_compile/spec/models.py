"""The typed stack spec. Pure data: no I/O, nothing about Kubernetes objects.

Field names of `specs/h100.yaml` are the interface; everything else here extends it.
Defaults live here, never inside an emitter.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from llmd_compile.spec.autoscaling import Autoscaling, Observability
from llmd_compile.spec.base import (
    CHART_VERSION,
    DNS_LABEL,
    DNS_SUBDOMAIN,
    ENV_NAME,
    GO_DURATION,
    GW_DURATION,
    HF_MODEL,
    IMAGE,
    LABEL_KEY,
    QUANTITY,
    SECRET_KEY,
    STRICT,
    ChartVersion,
    DnsLabel,
    DnsSubdomain,
    Image,
    Quantity,
    reject_token,
    token_paths,
)
from llmd_compile.spec.delivery import (
    ArgoCD,
    Benchmark,
    Checks,
    Destination,
    EppMonitoring,
    GitOps,
    Guidellm,
    Monitoring,
    OpenShift,
    Platform,
    Platforms,
    PodMonitor,
)
from llmd_compile.spec.features import FlowControl, KvOffload, PredictedLatency, RouteMatch
from llmd_compile.spec.health import Privileges, Probes
from llmd_compile.spec.paths import (
    Disaggregation,
    KvEvents,
    KvTransfer,
    NodeAffinity,
    Parallelism,
    PrecisePrefixCache,
    Rdma,
)

__all__ = [  # defined beside this module, part of the spec all the same
    "CHART_VERSION", "DNS_LABEL", "DNS_SUBDOMAIN", "ENV_NAME", "GO_DURATION", "GW_DURATION", "HF_MODEL", "IMAGE",
    "QUANTITY", "SECRET_KEY", "ArgoCD", "Benchmark", "ChartVersion", "Checks", "Destination", "Disaggregation",
    "DnsLabel", "DnsSubdomain", "EppMonitoring", "GitOps", "Guidellm", "Image", "KvEvents", "KvTransfer", "Monitoring",
    "NodeAffinity", "OpenShift", "Parallelism", "Platform", "Platforms", "PodMonitor", "PrecisePrefixCache",
    "Quantity", "Rdma", "token_paths",
]

class _Model(BaseModel):
    model_config = STRICT


_MetaKey = Annotated[str, Field(pattern=LABEL_KEY, max_length=253)]


class Metadata(_Model):
    # The release postfix: releases are infra-<name>, gaie-<name>, ms-<name>.
    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=40)]
    namespace: DnsLabel
    # For tools that also read the spec, e.g. kpt's function config (`llmd-compile.io/platform`); the compiler
    # ignores both, so one file can be a compile input and a KRM function config.
    annotations: dict[_MetaKey, Annotated[str, Field(max_length=4096)]] = {}
    labels: dict[_MetaKey, Annotated[str, Field(max_length=63)]] = {}

    @field_validator("annotations", "labels")
    @classmethod
    def _no_token(cls, value: dict[str, str]) -> dict[str, str]:
        for item in value.values():
            reject_token(item)
        return value


class Charts(_Model):
    infra: ChartVersion | None = None
    inferencepool: ChartVersion | None = None
    modelservice: ChartVersion | None = None
    # llm-d-router-{gateway,standalone} chart (releases v0.8+, which install the router chart instead of the three
    # Helm-era charts).
    router: ChartVersion | None = None


class TokenSecret(_Model):
    name: DnsSubdomain
    key: Annotated[str, Field(pattern=SECRET_KEY, max_length=253)] = "HF_TOKEN"


class Pvc(_Model):
    name: DnsSubdomain
    size: Quantity
    accessModes: Annotated[
        list[Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]],
        Field(min_length=1),
    ] = ["ReadWriteMany"]
    # Directory inside the volume that holds the downloaded model (default: the model name).
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9][-A-Za-z0-9_./]*$", max_length=200)] | None = None

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None and ".." in value.split("/"):
            raise ValueError("must stay inside the volume (no '..')")
        return value


class Cache(_Model):
    pvc: Pvc | None = None
    # Without a PVC each pod downloads the model into an emptyDir of this size (modelArtifacts.size).
    emptyDirSize: Quantity = "20Gi"


class ModelFactsSpec(_Model):
    """Size facts for a model the catalog does not know (else taken from model.config)."""

    parameters: Annotated[float, Field(gt=0, le=1e13)]
    dtype: Literal["float32", "bfloat16", "float16", "fp8", "int8", "int4", "mxfp4"] = "bfloat16"
    attentionHeads: Annotated[int, Field(ge=1, le=1024)]
    gated: bool = False


class Model(_Model):
    name: Annotated[str, Field(pattern=HF_MODEL, max_length=200)]
    # The name clients send as "model"; default: the model name.
    servedName: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    tokenSecret: TokenSecret | None = None
    cache: Cache = Cache()
    # A local Hugging Face config.json (relative to the spec file) for models the catalog lacks.
    config: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][-A-Za-z0-9_./]*\.json$", max_length=300)] | None = None
    facts: ModelFactsSpec | None = None

    @field_validator("config")
    @classmethod
    def _config_inside(cls, value: str | None) -> str | None:
        if value is not None and ".." in value.split("/"):
            raise ValueError("must be a path below the spec's directory (no '..')")
        return value

    @field_validator("name", "servedName")
    @classmethod
    def _no_token(cls, value: str | None) -> str | None:
        return value if value is None else reject_token(value)

    @property
    def served_name(self) -> str:
        return self.servedName or self.name


class Accelerator(_Model):
    # intel: XPU (gpu.intel.com/i915); intel-gaudi: Gaudi HPUs (habana.ai/gaudi); simulated: llm-d-inference-sim
    # pods without any accelerator (a CPU-only cluster).
    vendor: Literal["nvidia", "amd", "google", "intel", "intel-gaudi", "cpu", "simulated"] = "nvidia"
    model: Annotated[str, Field(min_length=1, max_length=63)]

    @field_validator("model")
    @classmethod
    def _model_no_token(cls, value: str) -> str:
        return reject_token(value)

    # Google TPU slice topology (e.g. 2x4): the GKE node selector cloud.google.com/gke-tpu-topology.
    topology: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,2}(x[1-9][0-9]{0,2}){1,2}$")] | None = None
    nodeAffinity: NodeAffinity | None = None
    # Claim the accelerators through Dynamic Resource Allocation (ResourceClaimTemplates, llm-d-modelservice
    # v0.4.0+) instead of device-plugin resources.
    dra: bool = False

    @field_validator("topology")
    @classmethod
    def _tpu_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("vendor") != "google":
            raise ValueError("a slice topology is a Google TPU setting (accelerator.vendor: google)")
        return value


class Cluster(_Model):
    gpus: PositiveInt | None = None
    gpusPerNode: PositiveInt | None = None
    nodes: PositiveInt | None = None
    # The cluster's Kubernetes minor version ("1.34"): API versions the stack renders are checked against it.
    kubernetesVersion: Annotated[str, Field(pattern=r"^1\.[0-9]{1,2}$")] | None = None
    # Host memory of one node (allocatable): checks the CPU KV tiers of the pods a node takes (kvOffload).
    memoryPerNode: Quantity | None = None


class Resources(_Model):
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}


class Sidecar(_Model):
    """The llm-d routing sidecar in front of vLLM on decode pods."""

    enabled: bool = True
    image: Image | None = None  # default: the release's sidecar image


class Workload(_Model):
    """What decode and prefill pods share."""

    replicas: Annotated[int, Field(ge=0, le=1000)] = 1
    parallelism: Parallelism = Parallelism()
    # vLLM image, built for accelerator.vendor (LLMD311 checks; `llmd-compile versions` lists the releases' images).
    image: Image
    args: list[Annotated[str, Field(max_length=4096)]] = []
    env: dict[Annotated[str, Field(pattern=ENV_NAME)], Annotated[str, Field(max_length=4096)]] = {}
    resources: Resources = Resources()
    # Memory-backed /dev/shm: for multi-GPU pods (parallelism.tensor > 1: NCCL), or whenever written; null: none.
    shmSize: Quantity | None = "20Gi"
    # Pod annotations, e.g. k8s.v1.cni.cncf.io/networks for a Multus secondary (RDMA) network.
    podAnnotations: dict[Annotated[str, Field(pattern=LABEL_KEY, max_length=253)],
                         Annotated[str, Field(max_length=4096)]] = {}
    # Health probes of the vLLM container (httpGet on its port); what is left out takes the path's values, as the
    # llm-d guides set them (catalog/vllm.py PROBES); null: no probes.
    probes: Probes | None = Probes()
    # path: the Linux privileges the llm-d guides give the vLLM container on this path (spec/health.py); none: drop.
    privileges: Privileges = "path"

    @field_validator("env")
    @classmethod
    def _no_secrets_in_env(cls, env: dict[str, str]) -> dict[str, str]:
        for value in env.values():
            reject_token(value)
        return env

    @field_validator("args")
    @classmethod
    def _no_secrets_in_args(cls, args: list[str]) -> list[str]:
        for value in args:
            reject_token(value)
        return args


class Role(Workload):
    """The decode role: the pods the pool routes to, behind the routing sidecar."""

    sidecar: Sidecar = Sidecar()


class Prefill(Workload):
    """The prefill role of prefill/decode disaggregation: vLLM pods that compute the prompt's KV cache, which the
    decode pod's routing sidecar asks for and pulls over the KV transfer (kvTransfer)."""


class GatewayService(_Model):
    type: Literal["LoadBalancer", "ClusterIP", "NodePort"] = "ClusterIP"


class Gateway(_Model):
    # none: a picker-only stack (InferencePool, endpoint picker, model servers): no llm-d-infra Gateway, no
    # HTTPRoute, inferencepool provider.name none; a gateway you run routes to the InferencePool.
    provider: Literal["istio", "kgateway", "agentgateway", "gke", "none"] = "istio"
    service: GatewayService = GatewayService()
    # Router shape: false when another stack of the namespace creates the Gateway (and the cluster prerequisites) and
    # this one only attaches its route (several models behind one Gateway; route.match tells them apart).
    create: bool = True


ScorerWeight = Annotated[float, Field(gt=0, le=1000)]


class Scorers(_Model):
    """Scorer intents and their weights; each compiles to the pinned picker's plugin type."""

    queue: ScorerWeight | None = None
    kvCache: ScorerWeight | None = None
    prefixCache: ScorerWeight | None = None  # approximate (estimated) prefix-cache affinity
    loadAware: ScorerWeight | None = None
    sessionAffinity: ScorerWeight | None = None
    loraAffinity: ScorerWeight | None = None
    # precise prefix-cache affinity from vLLM's KV-cache events (scheduler.precisePrefixCache)
    precisePrefixCache: ScorerWeight | None = None
    # queued prefill tokens per endpoint (router token-load-scorer, fed by its in-flight load producer)
    tokenLoad: ScorerWeight | None = None
    # in-flight requests per endpoint (active-request-scorer)
    activeRequest: ScorerWeight | None = None


class PrefixCache(_Model):
    """Approximate prefix-cache scorer tuning (used when scorers.prefixCache is set)."""

    # Hash block size in characters (hashBlockSize / blockSize, pickers on GAIE <= v1.3).
    blockSize: Annotated[int, Field(ge=1, le=8192)] = 64
    # Block size in tokens (blockSizeTokens, GAIE >= v1.4); must match vLLM --block-size.
    blockSizeTokens: Annotated[int, Field(ge=1, le=8192)] = 16
    maxPrefixBlocksToMatch: Annotated[int, Field(ge=1, le=1_000_000)] = 256
    lruCapacityPerServer: Annotated[int, Field(ge=1, le=100_000_000)] = 31250


class Scheduler(_Model):
    # Endpoint picker image; default: the release preset's (`llmd-compile versions`).
    image: Image | None = None
    # Picker version when the image tag does not say it (e.g. a dev build): sched-v0.2.1, gaie-v0.5.1.
    version: Annotated[str, Field(pattern=r"^(sched|gaie|router)-v\d+\.\d+\.\d+$")] | None = None
    replicas: Annotated[int, Field(ge=1, le=20)] = 1
    scorers: Scorers = Scorers()
    picker: Literal["max-score", "random", "round-robin", "weighted-random"] = "max-score"
    prefixCache: PrefixCache = PrefixCache()
    precisePrefixCache: PrecisePrefixCache = PrecisePrefixCache()
    disaggregation: Disaggregation = Disaggregation()
    # Escape hatch: a whole EndpointPickerConfig instead of scorers/picker/prefixCache. It is checked
    # against the pinned picker's plugin registry like the generated one.
    endpointPickerConfig: dict[str, Any] | None = None
    # Router shape (v0.8+): queue by priority band behind InferenceObjectives (spec/features.py).
    flowControl: FlowControl | None = None
    # Router shape (v0.8+): route on the latency predictor's TTFT/TPOT, optionally against SLOs.
    predictedLatency: PredictedLatency | None = None


class Timeouts(_Model):
    request: Annotated[str, Field(pattern=GW_DURATION)] | None = None
    backendRequest: Annotated[str, Field(pattern=GW_DURATION)] | None = None


class Route(_Model):
    name: DnsSubdomain
    timeouts: Timeouts = Timeouts()
    # Router shape: which requests the route takes (several models behind one Gateway).
    match: RouteMatch = RouteMatch()


class Spec(_Model):
    # For editors: route is required unless gateway.provider is none, and absent then (the validator below).
    model_config = ConfigDict(**STRICT, json_schema_extra={
        "if": {"properties": {"gateway": {"properties": {"provider": {"const": "none"}}, "required": ["provider"]}},
               "required": ["gateway"]},
        "then": {"not": {"required": ["route"]}},
        "else": {"required": ["route"]},
    })
    apiVersion: Literal["llmd-compile/v1alpha1"]
    kind: Literal["Stack"]
    # Base specs merged first (relative paths; see README "Layering"). The loader applies them.
    extends: str | list[str] | None = None
    metadata: Metadata
    # A version set an llm-d release shipped; charts/images pinned below override it. It decides the install shape:
    # seed..v0.6 the Helm-era charts, v0.8/v0.9 the llm-d router chart + kustomize model servers.
    release: Literal["seed", "v0.3.0", "v0.4.0", "v0.6", "v0.8", "v0.9"] | None = None
    charts: Charts = Charts()
    model: Model
    accelerator: Accelerator
    cluster: Cluster = Cluster()
    decode: Role
    # Prefill/decode disaggregation: prefill pods, and how their KV cache reaches the decode pods.
    prefill: Prefill | None = None
    kvTransfer: KvTransfer = KvTransfer()
    # Router shape (v0.8+): tiered prefix cache, KV blocks offloaded to CPU RAM / a shared filesystem.
    kvOffload: KvOffload | None = None
    gateway: Gateway = Gateway()
    scheduler: Scheduler
    # The HTTPRoute from the Gateway to the pool: required, except with gateway.provider none (no Gateway).
    route: Annotated[Route | None, Field(validate_default=True)] = None
    platforms: Platforms = Platforms(kubernetes=Platform())
    monitoring: Monitoring = Monitoring()
    # Workload autoscaling (router shape): KEDA, HPA or WVA per model-server role (spec/autoscaling.py).
    autoscaling: Autoscaling | None = None
    observability: Observability = Observability()
    benchmark: Benchmark = Benchmark()
    gitops: GitOps = GitOps()
    checks: Checks = Checks()

    @field_validator("route")
    @classmethod
    def _route_needs_gateway(cls, value: Route | None, info: ValidationInfo) -> Route | None:
        gateway = info.data.get("gateway")
        if gateway is None:  # gateway itself is invalid: reported there
            return value
        if value is None and gateway.provider != "none":
            raise PydanticCustomError("missing", "Field required")
        if value is not None and gateway.provider == "none":
            raise ValueError("a picker-only stack (gateway.provider: none) has no Gateway to route from: drop route "
                             "and attach your own HTTPRoute to the InferencePool (see the stack README)")
        return value
