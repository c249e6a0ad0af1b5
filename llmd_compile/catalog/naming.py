"""The charts' naming helpers, as functions (CATALOG §a.2). Shared by resolve and the checks."""

from __future__ import annotations

MS_CHART = "llm-d-modelservice"


def trunc(name: str, limit: int) -> str:
    """Helm's `trunc N | trimSuffix "-"`."""
    return name[:limit].rstrip("-")


def gateway_name(infra_release: str, name_override: str = "", fullname_override: str = "") -> str:
    """llm-d-infra `gateway.fullname`: <release>-<nameOverride | inference-gateway>."""
    if fullname_override:
        return trunc(fullname_override, 63)
    return trunc(f"{infra_release}-{name_override or 'inference-gateway'}", 63)


def gateway_service(gateway: str, provider: str) -> str:
    """The Service the gateway controller creates: Istio appends the class name, others reuse the name."""
    return f"{gateway}-istio" if provider == "istio" else gateway


def epp_service(pool_release: str) -> str:
    """inferencepool `gateway-api-inference-extension.name` + "-epp" (release trunc 40)."""
    return trunc(pool_release.lower(), 40) + "-epp"


def ms_fullname(ms_release: str) -> str:
    """llm-d-modelservice `fullname`: release + chart name unless the release contains it (trunc 55)."""
    return trunc(ms_release if MS_CHART in ms_release else f"{ms_release}-{MS_CHART}", 55)
