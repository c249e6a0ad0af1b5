"""The typed stack spec. Pure data: no I/O, nothing about Kubernetes objects.

Field names of `specs/h100.yaml` are the interface; everything else here extends it.
Defaults live here, never inside an emitter.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from llmd_compile.spec.base import LABEL_KEY, STRICT
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

__all__ = ["Disaggregation", "KvEvents", "KvTransfer", "NodeAffinity", "Parallelism", "PrecisePrefixCache", "Rdma"]

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
CHART_VERSION = r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$"
# Gateway API Duration (GEP-2257), as the HTTPRoute CRD validates it.
GW_DURATION = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"
GO_DURATION = r"^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
SECRET_KEY = r"^[-._a-zA-Z0-9]+$"
IMAGE = r"^[a-z0-9]([-a-z0-9._/:]*[a-z0-9])?(@sha256:[a-f0-9]{64})?$"
# <org>/<name>, or a bare legacy name ("gpt2", the simulator's "random").
HF_MODEL = r"^[A-Za-z0-9][-A-Za-z0-9_.]*(/[A-Za-z0-9][-A-Za-z0-9_.]*)?$"

DnsLabel = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
DnsSubdomain = Annotated[str, Field(pattern=DNS_SUBDOMAIN, max_length=253)]
ChartVersion = Annotated[str, Field(pattern=CHART_VERSION)]
Quantity = Annotated[str, Field(pattern=QUANTITY)]
Image = Annotated[str, Field(pattern=IMAGE, max_length=255)]

# Names that look like tokens; a spec carries references to secrets, never their values.
_TOKEN_LIKE = re.compile(
    r"(hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|sk-[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{20,}|(AKIA|ASIA)[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----)")


class _Model(BaseModel):
    model_config = STRICT


def _reject_token(value: str) -> str:
    if _TOKEN_LIKE.search(value):
        raise ValueError("looks like a secret token; reference a Secret (model.tokenSecret) instead")
    return value


def token_paths(value: Any, at: str) -> list[str]:
    """Dotted paths of token-like strings inside free-form data (e.g. the EndpointPickerConfig escape hatch)."""
    if isinstance(value, str):
        return [at] if _TOKEN_LIKE.search(value) else []
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in token_paths(item, f"{at}.{key}")]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in token_paths(item, f"{at}[{i}]")]
    return []


class Metadata(_Model):
    # The release postfix: releases are infra-<name>, gaie-<name>, ms-<name>.
    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=40)]
    namespace: DnsLabel


class Charts(_Model):
    infra: ChartVersion | None = None
    inferencepool: ChartVersion | None = None
    modelservice: ChartVersion | None = None


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
        return value if value is None else _reject_token(value)

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
        return _reject_token(value)

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
            _reject_token(value)
        return env

    @field_validator("args")
    @classmethod
    def _no_secrets_in_args(cls, args: list[str]) -> list[str]:
        for value in args:
            _reject_token(value)
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


class Timeouts(_Model):
    request: Annotated[str, Field(pattern=GW_DURATION)] | None = None
    backendRequest: Annotated[str, Field(pattern=GW_DURATION)] | None = None


class Route(_Model):
    name: DnsSubdomain
    timeouts: Timeouts = Timeouts()


class Platform(_Model):
    storageClassName: DnsSubdomain | None = None


class OpenShift(Platform):
    # Expose the gateway Service with an OpenShift Route (edge TLS) instead of a cloud load balancer.
    exposeRoute: bool = True


class Platforms(_Model):
    openshift: OpenShift | None = None
    kubernetes: Platform | None = None

    def names(self) -> list[str]:
        return [name for name in ("openshift", "kubernetes") if getattr(self, name) is not None]

    @model_validator(mode="after")
    def _at_least_one(self) -> Platforms:
        if self.openshift is None and self.kubernetes is None:
            raise ValueError("name at least one platform (openshift, kubernetes)")
        return self


class PodMonitor(_Model):
    enabled: bool = False
    interval: Annotated[str, Field(pattern=GO_DURATION)] = "30s"


class EppMonitoring(_Model):
    """Prometheus ServiceMonitor for the endpoint picker's metrics (inferencepool chart >= v1.0.1)."""

    enabled: bool = False
    interval: Annotated[str, Field(pattern=GO_DURATION)] = "10s"


class Monitoring(_Model):
    podMonitor: PodMonitor = PodMonitor()
    epp: EppMonitoring = EppMonitoring()


class Guidellm(_Model):
    image: Image = "ghcr.io/vllm-project/guidellm:v0.3.0"
    namespace: DnsLabel = "bench"
    turns: Annotated[int, Field(ge=1, le=100)] = 1
    users: Annotated[int, Field(ge=1, le=10_000)] = 1
    duration: Annotated[str, Field(pattern=GO_DURATION)] = "60s"
    promptTokens: Annotated[int, Field(ge=1, le=1_000_000)] = 256
    outputTokens: Annotated[int, Field(ge=1, le=1_000_000)] = 256


class Benchmark(_Model):
    guidellm: Guidellm | None = None


class Destination(_Model):
    """The cluster a stack runs on, as Argo CD knows it (a fleet spec lists the same clusters)."""

    name: DnsLabel = "in-cluster"
    server: Annotated[str, Field(pattern=r"^https://[^\s]+$", max_length=500)] = "https://kubernetes.default.svc"
    platform: Literal["openshift", "kubernetes"] | None = None  # default: the stack's first platform


class ArgoCD(_Model):
    repoURL: Annotated[str, Field(pattern=r"^(https://|ssh://|git@)[^\s]+$", max_length=500)]
    targetRevision: Annotated[str, Field(min_length=1, max_length=255)] = "HEAD"
    # Where out/ sits inside repoURL (the Applications read values files from there).
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][-A-Za-z0-9_./]*$", max_length=200)] = "out"
    project: DnsLabel = "default"
    namespace: DnsLabel = "argocd"
    # Set for stacks placed by a fleet's ApplicationSet (see `kind: Fleet`); default: this cluster.
    destination: Destination | None = None

    @field_validator("repoURL")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        if re.match(r"^[a-z+]+://[^/@]+@", value):
            raise ValueError("carries credentials (user@ or user:password@); Argo CD reads them from a repository "
                             "Secret, never from git")
        return _reject_token(value)

    @field_validator("targetRevision")
    @classmethod
    def _revision_no_token(cls, value: str) -> str:
        return _reject_token(value)

    @field_validator("path")
    @classmethod
    def _inside_repo(cls, value: str) -> str:
        if ".." in value.split("/"):
            raise ValueError("must stay inside the repository (no '..')")
        return value.rstrip("/")


class GitOps(_Model):
    argocd: ArgoCD | None = None


class Checks(_Model):
    # Diagnostic codes (docs/diagnostics.md) that do not apply to this stack; say why in a comment.
    ignore: list[Annotated[str, Field(pattern=r"^LLMD[0-9]{3}$")]] = []


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
    # A version set an llm-d release shipped; charts/images pinned below override it.
    release: Literal["seed", "v0.3.0", "v0.4.0", "v0.6"] | None = None
    charts: Charts = Charts()
    model: Model
    accelerator: Accelerator
    cluster: Cluster = Cluster()
    decode: Role
    # Prefill/decode disaggregation: prefill pods, and how their KV cache reaches the decode pods.
    prefill: Prefill | None = None
    kvTransfer: KvTransfer = KvTransfer()
    gateway: Gateway = Gateway()
    scheduler: Scheduler
    # The HTTPRoute from the Gateway to the pool: required, except with gateway.provider none (no Gateway).
    route: Annotated[Route | None, Field(validate_default=True)] = None
    platforms: Platforms = Platforms(kubernetes=Platform())
    monitoring: Monitoring = Monitoring()
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
