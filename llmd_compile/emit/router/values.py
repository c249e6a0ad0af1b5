"""values/router.yaml: one values file for the llm-d router chart the stack installs (CURRENT §1.5, §4).

`llm-d-router-gateway` when the stack has a Gateway, `llm-d-router-standalone` (Envoy beside the picker) with
`gateway.provider: none`. The file is the guides' `recipes/router/base.values.yaml` + `<guide>.values.yaml` +
the `--set provider.name/httpRoute.*` flags folded into one, shaped for the pinned chart version. The legacy
GAIE keys the router charts reject (top-level inferenceExtension, inferencePool, experimentalHttpRoute,
inferenceObjectives) are never written.
"""

from __future__ import annotations

from typing import Any

from llmd_compile import yamlio
from llmd_compile.catalog import charts, providers, router
from llmd_compile.emit import epp, multimodel, precise
from llmd_compile.emit.router import features
from llmd_compile.resolve import SERVICE_PORT, Stack

VALUES_FILE = "values/router.yaml"
LEGACY_KEYS = ("inferenceExtension", "inferencePool", "experimentalHttpRoute", "inferenceObjectives")
# recipes/router/base.values.yaml: EPP and proxy sizing, log verbosity 2.
EPP_RESOURCES = {"requests": {"cpu": "4", "memory": "8Gi"}, "limits": {"memory": "16Gi"}}
ENVOY_ARGS = ["--service-node", "envoy-sidecar", "--log-level", "warn", "--concurrency", "8", "--drain-strategy",
              "immediate", "--drain-time-s", "60", "-c", "/etc/envoy/envoy.yaml"]
# The Envoy listener the standalone chart runs beside the picker; the guides expose it as Service port 80.
PROXY_LISTENER = 8081
SERVICE_HTTP_PORT = 80
# gateway.provider -> the chart's provider.name. Only istio and gke render objects; agentgateway is what the
# guides pass (it renders like none, CURRENT §4); kgateway's recipes are the deprecated ones.
PROVIDER_NAMES = {"istio": "istio", "gke": "gke", "agentgateway": "agentgateway", "kgateway": "agentgateway"}


def chart(stack: Stack) -> str:
    return router.chart_name(stack.spec.gateway.provider)


def plugins_file(stack: Stack) -> str:
    """The guides name the custom config `<guide>-plugins.yaml`."""
    return f"{stack.spec.metadata.name}-plugins.yaml"


def target_ports(stack: Stack) -> list[int]:
    """The pool's target ports: the routing proxy / vLLM on 8000, and every local DP rank under wide-EP."""
    if not stack.multinode:
        return [SERVICE_PORT]
    local = max(role.parallelism.local for _, role in stack.roles)
    return [SERVICE_PORT + i for i in range(local)]


def _image(image: str) -> dict[str, Any]:
    ref, at, digest = image.partition("@")
    last = ref.rsplit("/", 1)[-1]
    ref, _, tag = ref.rpartition(":") if ":" in last else (ref, "", "latest")
    registry, _, repository = ref.rpartition("/")
    return {"registry": registry, "repository": repository, "tag": f"{tag}{at}{digest}", "pullPolicy": "IfNotPresent"}


def _epp(stack: Stack) -> dict[str, Any]:
    spec = stack.spec
    assert spec.scheduler.image, "resolve() fills in the preset's picker image"
    name = plugins_file(stack)
    out: dict[str, Any] = {
        "replicas": spec.scheduler.replicas,
        "image": _image(spec.scheduler.image),
        "flags": {"v": 2},
        "pluginsConfigFile": name,
        "pluginsCustomConfig": {name: yamlio.dump(epp.endpoint_picker_config(stack))},
        "resources": EPP_RESOURCES,
    }
    secret = spec.model.tokenSecret
    if precise.enabled(stack) and secret is not None:
        # The token-producer renders prompts through vLLM, which may need the token for a gated model's tokenizer.
        out["env"] = [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret.name, "key": secret.key}}}]
    return out


def _monitoring(stack: Stack) -> dict[str, Any] | None:
    """recipes/router/features/monitoring.values.yaml, with the spec's interval."""
    epp_monitoring = stack.spec.monitoring.epp
    if not epp_monitoring.enabled or charts.gke_monitoring_glued(stack.pool, stack.spec.gateway.provider, True):
        # GKE: the chart's GMP objects come glued to a `---` kubectl and Argo CD do not split (LLMD433): left out.
        return None
    if stack.spec.gateway.provider == "gke" or stack.spec.observability.stack == "gke-managed":
        # provider.name=gke implies GMP in router v0.9/v0.10 unless set; say it, so main's change (#2374) is moot.
        # The chart renders the GMP PodMonitoring only with auth enabled (routerlib _gke.yaml): keep the default.
        return {"interval": epp_monitoring.interval, "provider": {"name": "gmp"}, "prometheus": {"enabled": True}}
    return {"interval": epp_monitoring.interval, "prometheus": {"enabled": True, "auth": {"enabled": False}}}


def router_values(stack: Stack) -> dict[str, Any]:
    spec = stack.spec
    provider = spec.gateway.provider
    standalone = not providers.has_gateway(provider)
    body: dict[str, Any] = {}
    if standalone:
        body["extraServicePorts"] = [{"name": "http", "port": SERVICE_HTTP_PORT, "protocol": "TCP",
                                      "targetPort": PROXY_LISTENER}]
    body["epp"] = _epp(stack)
    body["inferencePool"] = {"failureMode": "FailOpen"}
    body["modelServers"] = {
        "type": "vllm",
        "protocol": "http",
        "targetPorts": [{"number": port} for port in target_ports(stack)],
        "matchLabels": dict(stack.pod_labels),
    }
    body.update(features.values(stack))
    if standalone:
        body["proxy"] = {"proxyType": "envoy", "args": list(ENVOY_ARGS), "resources": EPP_RESOURCES}
    monitoring = _monitoring(stack)
    if monitoring:
        body["monitoring"] = monitoring
    values: dict[str, Any] = {"router": body}
    if not standalone:
        values["provider"] = {"name": PROVIDER_NAMES[provider]}
        route: dict[str, Any] = {"create": True, "inferenceGatewayName": stack.names.gateway}
        timeout = spec.route.timeouts.request if spec.route else None
        route["requestTimeout"] = timeout or "0s"  # recipes/router/features/httproute-flags.yaml
        route.update(multimodel.route_values(stack))
        values["httpRoute"] = route
    assert not set(values) & set(LEGACY_KEYS)
    return values


def emit(stack: Stack) -> dict[str, str]:
    return {VALUES_FILE: yamlio.dump(router_values(stack))}
