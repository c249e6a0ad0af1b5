"""The strict base of every spec model, and patterns the spec modules share."""

from __future__ import annotations

from pydantic import ConfigDict

# A Kubernetes extended resource name (rdma/ib, rdma/roce_gdr).
RESOURCE_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
LABEL_KEY = r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"

# Every spec model: unknown fields are errors, values are not coerced, instances are immutable.
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)
