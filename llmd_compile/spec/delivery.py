"""Spec parts about where and how a stack is delivered: platforms, monitoring, the benchmark Job, Argo CD,
and which checks apply. Pure data, like models.py (whose Spec holds them).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from llmd_compile.spec.base import GO_DURATION, STRICT, DnsLabel, DnsSubdomain, Image, reject_token


class _Model(BaseModel):
    model_config = STRICT


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
        return reject_token(value)

    @field_validator("targetRevision")
    @classmethod
    def _revision_no_token(cls, value: str) -> str:
        return reject_token(value)

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
