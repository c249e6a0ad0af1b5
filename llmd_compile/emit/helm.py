"""Helm values for the three charts, shaped for the pinned versions (CATALOG §a, §b, §c, §d).

Everything the seed's helmfile passed with `set:` (pool name, gateway parentRef) and the Istio
DestinationRule for the EPP is folded into these files, so a values file is complete on its own.
"""

from __future__ import annotations

from typing import Any

from llmd_compile import yamlio
from llmd_compile.catalog import charts, providers
from llmd_compile.emit import epp, precise
from llmd_compile.emit.modelservice import model_dir, modelservice_values
from llmd_compile.resolve import EPP_GRPC_PORT, GATEWAY_PORT, SERVICE_PORT, Stack

__all__ = ["emit", "inferencepool_values", "infra_values", "model_dir", "modelservice_values"]
ISTIO_EPP_TRAFFIC_POLICY = {"tls": {"mode": "SIMPLE", "insecureSkipVerify": True}}


def _split_image(image: str) -> tuple[str, str, str]:
    """registry/path/name:tag[@digest] -> (hub, name, tag); the charts join them as hub/name:tag.

    A digest rides on the tag (``v0.7.0@sha256:...``, a valid reference); no tag means ``latest``.
    """
    ref, at, digest = image.partition("@")
    last = ref.rsplit("/", 1)[-1]
    ref, _, tag = ref.rpartition(":") if ":" in last else (ref, "", "latest")
    hub, _, name = ref.rpartition("/")
    return hub, name, f"{tag}{at}{digest}"


def infra_values(stack: Stack) -> dict[str, Any]:
    spec = stack.spec
    provider = spec.gateway.provider
    assert stack.infra is not None, "a picker-only stack (gateway.provider none) installs no llm-d-infra"
    gateway: dict[str, Any] = {}
    class_name = {"istio": "istio", "kgateway": "kgateway", "agentgateway": "agentgateway",
                  "gke": "gke-l7-regional-external-managed"}[provider]
    if stack.infra.has_provider:
        gateway["provider"] = "gke-l7-regional-external-managed" if provider == "gke" else provider
        if provider == "kgateway":  # v1.4.0 renders kgateway's class as agentgateway (CATALOG §c.2, §a.7)
            class_name = "agentgateway"
    gateway["gatewayClassName"] = class_name
    gateway["service"] = {"type": spec.gateway.service.type}
    if stack.infra.listener_path_bug:
        # The chart's default listener carries `path: /`, no Gateway field (catalog InfraChart.listener_path_bug).
        gateway["listeners"] = [{"name": "default", "port": GATEWAY_PORT, "protocol": "HTTP",
                                 "allowedRoutes": {"namespaces": {"from": "All"}}}]
    if provider == "istio" and stack.pool.destination_rule == "infra":
        gateway["destinationRule"] = {
            "enabled": True,
            "host": stack.names.epp_host,
            "trafficPolicy": ISTIO_EPP_TRAFFIC_POLICY,
        }
    return {"gateway": gateway}


def inferencepool_values(stack: Stack) -> dict[str, Any]:
    spec = stack.spec
    assert spec.scheduler.image, "resolve() fills in the preset's picker image"
    hub, name, tag = _split_image(spec.scheduler.image)
    if stack.pool.image_keys == "hub/name":
        image: dict[str, Any] = {"name": name, "hub": hub, "tag": tag}
    else:
        registry, _, repository = f"{hub}/{name}".partition("/")
        image = {"registry": registry, "repository": repository, "tag": tag}
    image["pullPolicy"] = "Always"
    config = yamlio.dump(epp.endpoint_picker_config(stack))
    extension: dict[str, Any] = {
        "replicas": spec.scheduler.replicas,
        "image": image,
        "extProcPort": EPP_GRPC_PORT,
        "pluginsConfigFile": epp.CONFIG_FILE,
        "pluginsCustomConfig": {epp.CONFIG_FILE: config},
    }
    if precise.enabled(stack):
        extension.update(precise.pool_extension(stack))
    monitoring = _epp_monitoring(stack)
    if monitoring:
        extension["monitoring"] = monitoring
    pool: dict[str, Any] = {}
    if len(stack.pool.pool_api_versions) > 1:
        pool["apiVersion"] = stack.pool_api_version
    # v1.0.1-v1.4.0 carry both keys and read targetPortNumber only for a v1alpha2 pool (CATALOG §d.3).
    if stack.pool.target_port_key(stack.pool_api_version) == "targetPortNumber":
        pool["targetPortNumber"] = SERVICE_PORT
    else:
        pool["targetPorts"] = [{"number": SERVICE_PORT}]
    pool["modelServerType"] = "vllm"
    pool["modelServers"] = {"matchLabels": stack.pod_labels}
    values: dict[str, Any] = {"inferenceExtension": extension, "inferencePool": pool}
    provider = spec.gateway.provider
    # kgateway, agentgateway and a picker-only stack (none) need nothing provider-specific from the chart.
    provider_name = provider if provider in ("istio", "gke") and stack.pool.destination_rule != "infra" else "none"
    if provider == "gke":
        provider_name = "gke"
    values["provider"] = {"name": provider_name}
    if provider == "istio" and stack.pool.destination_rule != "infra":
        rule = {"host": stack.names.epp_host, "trafficPolicy": ISTIO_EPP_TRAFFIC_POLICY}
        if stack.pool.destination_rule == "istio":
            values["istio"] = {"destinationRule": rule}
        else:
            values["provider"]["istio"] = {"destinationRule": rule}
    return values


def _epp_monitoring(stack: Stack) -> dict[str, Any] | None:
    """inferenceExtension.monitoring under the keys this chart reads (renamed in v1.1.0, CATALOG §d.2)."""
    wanted = stack.spec.monitoring.epp
    if not wanted.enabled:
        return None
    secret = stack.names.epp_metrics_secret
    if stack.pool.epp_monitoring == "secret.name":
        return {"interval": wanted.interval, "secret": {"name": secret}, "prometheus": {"enabled": True}}
    # "none" never gets here: catalog.compat rejects monitoring.epp on such charts.
    if charts.gke_monitoring_glued(stack.pool, stack.spec.gateway.provider, wanted.enabled):
        # The chart's GMP objects come out glued to a `---` that kubectl and Argo CD do not split (catalog
        # PoolChart.gke_monitoring_glued): switched off here, emitted by emit/gmp.py in base/ instead.
        return {"interval": wanted.interval, "prometheus": {"enabled": False}}
    return {"interval": wanted.interval, "prometheus": {"enabled": True, "auth": {"secretName": secret}}}



def emit(stack: Stack) -> dict[str, str]:
    files: dict[str, str] = {
        "values/inferencepool.yaml": yamlio.dump(inferencepool_values(stack)),
        "values/modelservice.yaml": yamlio.dump(modelservice_values(stack)),
    }
    if providers.has_gateway(stack.spec.gateway.provider):
        files["values/infra.yaml"] = yamlio.dump(infra_values(stack))
    return files
