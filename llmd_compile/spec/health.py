"""Spec parts of a model-server pod's health and privileges: the vLLM container's probes, and whether it takes
the Linux privileges its well-lit path gives it.

Pure data, like models.py (which puts them on decode and prefill).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from llmd_compile.spec.base import STRICT


class _Model(BaseModel):
    model_config = STRICT


Seconds = Annotated[int, Field(ge=0, le=86_400)]


class Probe(_Model):
    """One httpGet probe on the vLLM port. A field left out takes the well-lit path's value, as the llm-d guides set
    it (catalog/vllm.py PROBES)."""

    path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_.-]*$", max_length=200)] | None = None
    initialDelaySeconds: Seconds | None = None
    periodSeconds: Annotated[int, Field(ge=1, le=86_400)] | None = None
    timeoutSeconds: Annotated[int, Field(ge=1, le=86_400)] | None = None
    failureThreshold: Annotated[int, Field(ge=1, le=100_000)] | None = None


class Probes(_Model):
    """startupProbe, livenessProbe and readinessProbe of the vLLM container; null switches one off."""

    startup: Probe | None = Probe()
    liveness: Probe | None = Probe()
    readiness: Probe | None = Probe()


# path: what the llm-d guides of the stack's path give the vLLM container beyond OpenShift restricted-v2 (CPU:
# SYS_NICE, wide-EP: IPC_LOCK and SYS_RAWIO as root, Gaudi P/D: privileged; the stack README names them);
# none: leave them out (the pods then run without NUMA pinning, GPU-initiated RDMA, ...).
Privileges = Literal["path", "none"]
