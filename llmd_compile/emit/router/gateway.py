"""gateway/: the Gateway the llm-d v0.9 recipes create, per provider, applied with kustomize (CURRENT §1.4).

Every recipe under guides/recipes/gateway/ creates Gateway `llm-d-inference-gateway` with one HTTP listener on
port 80 that admits routes from all namespaces (base/gateway.yaml); the provider recipes add the class and, for
Istio, the inference ext-proc label and a ConfigMap parametersRef that shapes the gateway Deployment and
Service. We write the merged objects (not the recipe's patches), so what lands in git is what is applied.
"""

from __future__ import annotations

from typing import Any

from llmd_compile import yamlio
from llmd_compile.catalog import providers
from llmd_compile.resolve import GATEWAY_PORT, Stack

KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"
AGENTGATEWAY_PARAMS = "agentgateway-params"
# gateway.provider -> gatewayClassName (recipes istio, agentgateway, gke-l7-regional-external-managed; the
# deprecated kgateway recipe renders agentgateway's class).
CLASSES = {"istio": "istio", "agentgateway": "agentgateway", "kgateway": "agentgateway",
           "gke": "gke-l7-regional-external-managed"}
# recipes/gateway/istio/configmap.yaml: quiet proxy logs and a sized gateway pod.
_ISTIO_PROXY = {
    "name": "istio-proxy",
    "args": ["proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel", "warn",
             "--proxyComponentLogLevel", "misc:warn", "--log_output_level", "default:warn"],
    "resources": {"limits": {"cpu": "8", "memory": "16Gi"}, "requests": {"cpu": 2, "memory": "4Gi"}},
}


def gateway(stack: Stack) -> dict[str, Any]:
    provider = stack.spec.gateway.provider
    name = stack.names.gateway
    metadata: dict[str, Any] = {"name": name}
    spec: dict[str, Any] = {"gatewayClassName": CLASSES[provider]}
    if provider == "istio":
        metadata["labels"] = {"istio.io/enable-inference-extproc": "true"}
        spec["infrastructure"] = {"parametersRef": {"name": name, "group": "", "kind": "ConfigMap"}}
    spec["listeners"] = [{"port": GATEWAY_PORT, "protocol": "HTTP", "name": "default",
                          "allowedRoutes": {"namespaces": {"from": "All"}}}]
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": metadata, "spec": spec}


def istio_parameters(stack: Stack) -> dict[str, Any]:
    name = stack.names.gateway
    deployment = {"spec": {"template": {"spec": {"containers": [_ISTIO_PROXY]}}}}
    service = {"spec": {"type": stack.spec.gateway.service.type}}
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/gateway": name,
                                                  "app.kubernetes.io/component": "inference-gateway"}},
            "data": {"deployment": yamlio.dump(deployment), "service": yamlio.dump(service)}}


def agentgateway_openshift(stack: Stack) -> dict[str, Any]:
    """recipes/gateway/agentgateway-openshift: a ClusterIP data plane without a fixed UID (restricted SCC)."""
    restricted = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True,
                  "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    pod = {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
           "containers": [{"name": "agentgateway", "securityContext": {"$patch": "replace", **restricted}}]}
    return {"apiVersion": "agentgateway.dev/v1alpha1", "kind": "AgentgatewayParameters",
            "metadata": {"name": AGENTGATEWAY_PARAMS, "labels": {"app.kubernetes.io/component": "inference-gateway"}},
            "spec": {"deployment": {"spec": {"template": {"spec": pod}}},
                     "service": {"spec": {"type": stack.spec.gateway.service.type}}}}


def resources(stack: Stack) -> dict[str, dict[str, Any]]:
    if not providers.has_gateway(stack.spec.gateway.provider) or not stack.spec.gateway.create:
        return {}
    docs = {"gateway.yaml": gateway(stack)}
    if stack.spec.gateway.provider == "istio":
        docs["configmap.yaml"] = istio_parameters(stack)
    return docs


def _overlay(stack: Stack, platform: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    kustomization: dict[str, Any] = {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
                                     "namespace": stack.names.namespace, "resources": ["../../base"]}
    extra: dict[str, dict[str, Any]] = {}
    if platform == "openshift" and stack.spec.gateway.provider in ("agentgateway", "kgateway"):
        extra["gateway-parameters.yaml"] = agentgateway_openshift(stack)
        kustomization["resources"].append("gateway-parameters.yaml")
        ref = {"name": AGENTGATEWAY_PARAMS, "group": "agentgateway.dev", "kind": "AgentgatewayParameters"}
        kustomization["patches"] = [{"target": {"kind": "Gateway"}, "patch": yamlio.dump(
            [{"op": "add", "path": "/spec/infrastructure", "value": {"parametersRef": ref}}])}]
    return kustomization, extra


def emit(stack: Stack) -> dict[str, str]:
    """gateway/base/ (the provider's recipe) and gateway/overlays/<platform>/ (the OpenShift variant where the
    recipes have one)."""
    docs = resources(stack)
    if not docs:
        return {}
    files: dict[str, str] = {f"gateway/base/{name}": yamlio.dump(doc) for name, doc in docs.items()}
    files["gateway/base/kustomization.yaml"] = yamlio.dump({"apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
                                                            "namespace": stack.names.namespace,
                                                            "resources": sorted(docs)})
    for platform in stack.spec.platforms.names():
        kustomization, extra = _overlay(stack, platform)
        files[f"gateway/overlays/{platform}/kustomization.yaml"] = yamlio.dump(kustomization)
        for name, doc in extra.items():
            files[f"gateway/overlays/{platform}/{name}"] = yamlio.dump(doc)
    return files
