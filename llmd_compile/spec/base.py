"""The strict base of every spec model, and the patterns and checks the spec modules share."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import ConfigDict, Field

# A Kubernetes extended resource name (rdma/ib, rdma/roce_gdr).
RESOURCE_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
LABEL_KEY = r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"

# Every spec model: unknown fields are errors, values are not coerced, instances are immutable.
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)

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


def reject_token(value: str) -> str:
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
