"""Gateway control planes and CRD sources a fresh cluster needs before the stack (CATALOG §a.7, §0.1).

Facts per llm-d release: which Istio / kgateway / agentgateway charts the guides' gateway-provider
helmfiles installed, with which values, and where the Gateway API and inference-extension CRDs come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

GATEWAY_API_REPO = "https://github.com/kubernetes-sigs/gateway-api.git"
GAIE_REPO = "https://github.com/kubernetes-sigs/gateway-api-inference-extension.git"
# gateway.provider of a picker-only stack: no llm-d-infra Gateway, no HTTPRoute, no control plane. Every
# inferencepool chart takes `provider.name: none` (the v0.5.1 default; "Options: gke, istio, none" from v1.0.1,
# CATALOG §d.1, §d.2); a gateway the user runs routes to the InferencePool (as the rhoai environment, §h).
NO_GATEWAY = "none"


def has_gateway(provider: str) -> bool:
    return provider != NO_GATEWAY


@dataclass(frozen=True)
class HelmChart:
    release: str
    namespace: str
    repo: str  # Helm repository URL, or OCI registry path without oci://
    chart: str
    version: str
    oci: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)


def _istio(version: str, repo: str, oci: bool, env_key: str, env_value: Any, hub: str) -> tuple[HelmChart, ...]:
    env = {env_key: env_value}
    istiod = {"meshConfig": {"defaultConfig": {"proxyMetadata": env}}, "pilot": {"env": env},
              "tag": version, "hub": hub}
    return (HelmChart("istio-base", "istio-system", repo, "base", version, oci),
            HelmChart("istiod", "istio-system", repo, "istiod", version, oci, istiod))


def _gateway_chart(name: str, repo: str, version: str, **values: Any) -> tuple[HelmChart, ...]:
    system = f"{name}-system"
    return (HelmChart(f"{name}-crds", system, repo, f"{name}-crds", version, True),
            HelmChart(name, system, repo, name, version, True, {"inferenceExtension": {"enabled": True}, **values}))


# kgateway v2.0.4 as the guides install it: restricted-friendly pods (LD@e52045bd kgateway.helmfile.yaml).
_RESTRICTED = {"securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
               "podSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": True}}


_ALPHA = "1.28-alpha.89f30b26ba71bf5e538083a4720d0bc2d8c06401"
# The env value is a YAML bool at LD@e52045bd and the string "true" from LD@v0.3.0 (CATALOG §a.7).
_ISTIO_ALPHA = _istio(_ALPHA, "gcr.io/istio-testing/charts", True, "SUPPORT_GATEWAY_API_INFERENCE_EXTENSION", True,
                      "gcr.io/istio-testing")
_ISTIO_ALPHA_STR = _istio(_ALPHA, "gcr.io/istio-testing/charts", True, "SUPPORT_GATEWAY_API_INFERENCE_EXTENSION",
                          "true", "gcr.io/istio-testing")
_ISTIO_129 = _istio("1.29.1", "https://istio-release.storage.googleapis.com/charts", False,
                    "ENABLE_GATEWAY_API_INFERENCE_EXTENSION", "true", "docker.io/istio")
_KGATEWAY_204 = _gateway_chart("kgateway", "cr.kgateway.dev/kgateway-dev/charts", "v2.0.4", **_RESTRICTED)
_AGENTGATEWAY_100 = _gateway_chart("agentgateway", "cr.agentgateway.dev/charts", "v1.0.0")
# LD@899f8517 kgateway.helmfile.yaml: kgateway's own agentgateway build (deprecated in llm-d; prefer agentgateway).
_KGATEWAY_AGENTGATEWAY_221 = _gateway_chart("agentgateway", "ghcr.io/kgateway-dev/charts", "v2.2.1")

# llm-d v0.8/v0.9 docs/infrastructure/gateway: `istioctl install --set
# values.pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true` (Istio 1.29.2; the same setting through the charts),
# agentgateway v1.1.0 crds + chart with inferenceExtension.enabled (CURRENT §1.4, §2). The deprecated kgateway
# recipe renders agentgateway's class, so it takes the same control plane.
_ISTIO_1292 = _istio("1.29.2", "https://istio-release.storage.googleapis.com/charts", False,
                     "ENABLE_GATEWAY_API_INFERENCE_EXTENSION", "true", "docker.io/istio")
_AGENTGATEWAY_110 = _gateway_chart("agentgateway", "cr.agentgateway.dev/charts", "v1.1.0")
# docs/infrastructure/multi-node.md: LWS 0.9.0 for the wide-EP LeaderWorkerSets.
LWS_090 = HelmChart("lws", "lws-system", "registry.k8s.io/lws/charts", "lws", "0.9.0", True)

# release preset -> provider -> control-plane charts (gke: the cloud provides it).
CONTROL_PLANES: Mapping[str, Mapping[str, tuple[HelmChart, ...]]] = MappingProxyType({
    "seed": {"istio": _ISTIO_ALPHA, "kgateway": _KGATEWAY_204, "agentgateway": _AGENTGATEWAY_100},
    "v0.3.0": {"istio": _ISTIO_ALPHA_STR, "kgateway": _KGATEWAY_204, "agentgateway": _AGENTGATEWAY_100},
    "v0.4.0": {"istio": _ISTIO_ALPHA_STR, "kgateway": _KGATEWAY_204, "agentgateway": _AGENTGATEWAY_100},
    "v0.6": {"istio": _ISTIO_129, "kgateway": _KGATEWAY_AGENTGATEWAY_221, "agentgateway": _AGENTGATEWAY_100},
    "v0.8": {"istio": _ISTIO_1292, "kgateway": _AGENTGATEWAY_110, "agentgateway": _AGENTGATEWAY_110},
    "v0.9": {"istio": _ISTIO_1292, "kgateway": _AGENTGATEWAY_110, "agentgateway": _AGENTGATEWAY_110},
})


def control_plane(release: str | None, provider: str) -> tuple[HelmChart, ...]:
    return CONTROL_PLANES.get(release or "v0.6", CONTROL_PLANES["v0.6"]).get(provider, ())


def prerequisites(release: str | None, provider: str, gateway_api_crds: str, gaie_crds: str) -> str:
    """One sentence for the stack README: the CRD revisions and the control plane the provider needs."""
    if not has_gateway(provider):
        return (f"Prerequisites: inference-extension CRDs {gaie_crds} (InferencePool). This stack installs no Gateway, "
                "so it needs no gateway control plane and no Gateway API CRDs of its own (your gateway brings them).")
    crds = f"Gateway API CRDs {gateway_api_crds} and inference-extension CRDs {gaie_crds}"
    charts = control_plane(release, provider)
    if provider == "istio":
        istiod = charts[-1]
        env = next(iter(dict(istiod.values["pilot"])["env"]))
        plane = (f"upstream Istio {istiod.version} with `{env}=true` (prereqs/helmfile.yaml; OpenShift Service Mesh "
                 "lacks the inference extension)")
    elif charts:
        chart = charts[-1]
        plane = f"{chart.chart} {chart.version} with `inferenceExtension.enabled: true` (prereqs/helmfile.yaml)"
    else:
        plane = "GKE's managed Gateway controller (enable the Gateway API on the cluster)"
    return f"Prerequisites: {crds}, and {plane}."
