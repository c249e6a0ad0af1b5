"""Helm values for the three charts, shaped for the pinned versions (CATALOG §a, §b, §c, §d).

Everything the seed's helmfile passed with `set:` (pool name, gateway parentRef) and the Istio
DestinationRule for the EPP is folded into these files, so a values file is complete on its own.
"""

from __future__ import annotations

from typing import Any

from llmd_compile import yamlio
from llmd_compile.emit import epp
from llmd_compile.resolve import EPP_GRPC_PORT, SERVICE_PORT, Stack

GPU_RESOURCE = {
    "nvidia": "nvidia.com/gpu",
    "amd": "amd.com/gpu",
    "google": "google.com/tpu",
    "intel": "gpu.intel.com/i915",
}
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
    gateway: dict[str, Any] = {}
    class_name = {"istio": "istio", "kgateway": "kgateway", "agentgateway": "agentgateway",
                  "gke": "gke-l7-regional-external-managed"}[provider]
    if stack.infra.has_provider:
        gateway["provider"] = "gke-l7-regional-external-managed" if provider == "gke" else provider
    gateway["gatewayClassName"] = class_name
    gateway["service"] = {"type": spec.gateway.service.type}
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
    return {"interval": wanted.interval, "prometheus": {"enabled": True, "auth": {"secretName": secret}}}


def _resources(stack: Stack) -> dict[str, Any]:
    spec = stack.spec
    role = spec.decode
    requests = dict(role.resources.requests)
    limits = dict(role.resources.limits)
    resource = GPU_RESOURCE.get(spec.accelerator.vendor)
    if resource:
        count = str(role.parallelism.tensor)
        requests.setdefault(resource, count)
        limits.setdefault(resource, count)
    return {"limits": limits, "requests": requests}


def _model_uri(stack: Stack) -> str:
    pvc = stack.spec.model.cache.pvc
    if pvc is None:
        return f"hf://{stack.spec.model.name}"
    return f"pvc://{pvc.name}/{model_dir(stack)}"


def model_dir(stack: Stack) -> str:
    """Directory inside the cache PVC that holds the model's files."""
    pvc = stack.spec.model.cache.pvc
    return (pvc.path if pvc and pvc.path else f"models/{stack.spec.model.name}").strip("/")


def modelservice_values(stack: Stack) -> dict[str, Any]:
    spec = stack.spec
    names = stack.names
    ms = stack.ms
    role = spec.decode
    artifacts: dict[str, Any] = {"uri": _model_uri(stack), "name": spec.model.served_name}
    if spec.model.cache.pvc is None:
        artifacts["size"] = spec.model.cache.emptyDirSize
    if spec.model.tokenSecret:
        artifacts["authSecretName"] = spec.model.tokenSecret.name
    if ms.has_labels_key:
        artifacts["labels"] = stack.pod_labels
    routing: dict[str, Any] = {"servicePort": SERVICE_PORT}
    proxy: dict[str, Any] = {}
    if ms.proxy_toggle:
        proxy["enabled"] = stack.sidecar
    if stack.sidecar:
        if stack.sidecar_image:
            proxy["image"] = stack.sidecar_image
        proxy.update({"targetPort": stack.vllm_port, "connector": "nixlv2", "secure": False})
    else:
        proxy["targetPort"] = SERVICE_PORT
    routing["proxy"] = proxy
    if ms.routing_gaie_keys:
        routing["parentRefs"] = [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": names.gateway}]
        routing["inferenceModel"] = {"create": False}
        routing["inferencePool"] = {"create": False, "name": names.pool}
        routing["httpRoute"] = {"create": False}
        routing["epp"] = {"create": False}
    container: dict[str, Any] = {
        "name": "vllm",
        "image": role.image,
        "modelCommand": "vllmServe",
        "args": list(role.args),
        "env": [{"name": k, "value": v} for k, v in sorted(role.env.items())],
        "ports": [{"containerPort": stack.vllm_port, "name": "metrics", "protocol": "TCP"}],
        "resources": _resources(stack),
        "mountModelVolume": True,
        # vLLM and torch write caches under $HOME; these stay writable under any UID (OpenShift).
        "volumeMounts": [
            {"name": "metrics-volume", "mountPath": "/.config"},
            {"name": "torch-compile-cache", "mountPath": "/.cache"},
        ],
    }
    parallelism = {"tensor": role.parallelism.tensor, "data": role.parallelism.data}
    if ms.container_parallelism_quirk:
        container["parallelism"] = parallelism
    podmonitor = spec.monitoring.podMonitor
    decode: dict[str, Any] = {
        "create": role.replicas > 0,
        "replicas": role.replicas,
        "parallelism": parallelism,
        "monitoring": {"podmonitor": {
            "enabled": podmonitor.enabled, "portName": "metrics", "path": "/metrics", "interval": podmonitor.interval,
        }},
        "containers": [container],
        "volumes": [
            {"name": "metrics-volume", "emptyDir": {}},
            {"name": "torch-compile-cache", "emptyDir": {}},
        ],
    }
    # Tensor-parallel workers talk through /dev/shm (64Mi by default). MS v0.2.8/v0.2.9 reject any volume but
    # {name, emptyDir: {}} (CATALOG §b.4), so there the pods keep the default.
    if role.shmSize and role.parallelism.tensor > 1 and not ms.strict_volumes:
        container["volumeMounts"].append({"name": "shm", "mountPath": "/dev/shm"})
        decode["volumes"].append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": role.shmSize}})
    values: dict[str, Any] = {"multinode": False, "modelArtifacts": artifacts}
    if ms.has_accelerator_block:
        # catalog.compat rejects vendors the chart has no accelerator type for.
        values["accelerator"] = {"type": ms.accelerator_types[spec.accelerator.vendor]}
    values["routing"] = routing
    values["decode"] = decode
    values["prefill"] = {"create": False}
    return values


def emit(stack: Stack) -> dict[str, str]:
    return {
        "values/infra.yaml": yamlio.dump(infra_values(stack)),
        "values/inferencepool.yaml": yamlio.dump(inferencepool_values(stack)),
        "values/modelservice.yaml": yamlio.dump(modelservice_values(stack)),
    }
