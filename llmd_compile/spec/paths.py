"""Spec parts of the well-lit paths: parallelism (wide-EP), node affinity, the P/D KV transfer and decisions,
precise prefix-cache scoring.

Pure data, like models.py (which composes them into the Stack spec).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, PositiveInt, ValidationInfo, field_validator

from llmd_compile.spec.base import LABEL_KEY, LABEL_VALUE, RESOURCE_NAME, STRICT


class _Model(BaseModel):
    model_config = STRICT


class Parallelism(_Model):
    tensor: PositiveInt = 1
    data: PositiveInt = 1
    # Data-parallel ranks per pod; below `data`, each replica is a LeaderWorkerSet of data/dataLocal pods (wide-EP).
    dataLocal: PositiveInt | None = None
    # Expert parallelism for MoE layers over the data x tensor ranks (vLLM --enable-expert-parallel).
    expert: bool = False

    @field_validator("dataLocal")
    @classmethod
    def _divides(cls, value: int | None, info: ValidationInfo) -> int | None:
        data = info.data.get("data", 1)
        if value is not None and (value > data or data % value):
            raise ValueError(f"must divide parallelism.data ({data}): each pod runs the same number of ranks")
        return value

    @property
    def local(self) -> int:
        """Data-parallel ranks in one pod."""
        return self.dataLocal or self.data

    @property
    def workers(self) -> int:
        """Pods per replica (the LeaderWorkerSet group size)."""
        return self.data // self.local


class NodeAffinity(_Model):
    """Model pods run only on nodes whose label `labelKey` has one of `labelValues` (acceleratorTypes)."""

    labelKey: Annotated[str, Field(pattern=LABEL_KEY, max_length=253)]
    labelValues: Annotated[list[Annotated[str, Field(pattern=LABEL_VALUE, max_length=63)]], Field(min_length=1)]


class Rdma(_Model):
    """An RDMA device per model pod for the KV transfer (resource name as the cluster's device plugin names it)."""

    resource: Annotated[str, Field(pattern=RESOURCE_NAME, max_length=253)] = "rdma/ib"
    count: Annotated[int, Field(ge=1, le=64)] = 1
    # Linux capabilities the vLLM containers add for the RDMA transfer, and whether they run as root: the llm-d
    # OpenShift RDMA environment (values_ocp_rdma.yaml) adds all four as root, its Kubernetes environments none.
    capabilities: list[Literal["IPC_LOCK", "SYS_RAWIO", "NET_ADMIN", "NET_RAW"]] = []
    runAsRoot: bool = False


class KvTransfer(_Model):
    """KV-cache transfer from prefill to decode pods (vLLM --kv-transfer-config); used when prefill is set."""

    connector: Literal["NixlConnector"] = "NixlConnector"
    # NIXL side-channel port (VLLM_NIXL_SIDE_CHANNEL_PORT; vLLM's default 5600), a named container port.
    port: Annotated[int, Field(ge=1024, le=65535)] = 5600
    rdma: Rdma | None = None


class KvEvents(_Model):
    """How vLLM's KV-cache events reach the picker over ZMQ."""

    # service: every vLLM pod publishes to the picker's Service (derived name); pods: vLLM binds the port and the
    # picker discovers the pods (picker v0.7+).
    discovery: Literal["service", "pods"] = "service"
    port: Annotated[int, Field(ge=1024, le=65535)] = 5557
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4


class PrecisePrefixCache(_Model):
    """Precise prefix-cache scoring (scorers.precisePrefixCache): the picker indexes vLLM's KV-cache events."""

    # Tokens per KV block: vLLM --block-size and the indexer's block size get this one value.
    blockSize: Annotated[int, Field(ge=1, le=1024)] = 16
    # PYTHONHASHSEED of vLLM and the indexer's hashSeed: block hashes only match with the same seed.
    hashSeed: Annotated[str, Field(pattern=r"^[0-9]{1,10}$")] = "42"
    # hf: the picker loads the tokenizer from Hugging Face (model.tokenSecret); uds: a tokenizer sidecar next to
    # the picker (picker v0.7+, inferencepool v1.2.0+).
    tokenizer: Literal["hf", "uds"] = "hf"
    kvEvents: KvEvents = KvEvents()


class Disaggregation(_Model):
    """When the picker sends a request through a prefill pod first (used when prefill is set)."""

    # always: every request; prefix: when more than nonCachedTokens prompt tokens are not cached on the decode pod.
    decider: Literal["always", "prefix"] = "prefix"
    nonCachedTokens: Annotated[int, Field(ge=0, le=1_000_000)] = 16
