"""llm-d-modelservice values: the model-server roles (decode, and prefill under P/D), shaped per chart version.

Ports follow the chart (CATALOG §b.2): decode vLLM listens behind the routing sidecar (routing.proxy.targetPort)
when the sidecar runs, else on routing.servicePort; prefill vLLM always listens on routing.servicePort.
"""

from __future__ import annotations

from typing import Any

from llmd_compile.emit import disagg, precise, probes, security, sim, widep
from llmd_compile.resolve import SERVICE_PORT, Stack
from llmd_compile.spec.models import Workload

# The extended resource each accelerator.type requests (the charts' accelerator.resources, CATALOG §b.2).
ACCELERATOR_RESOURCE = {
    "nvidia": "nvidia.com/gpu",
    "amd": "amd.com/gpu",
    "google": "google.com/tpu",
    "intel": "gpu.intel.com/i915",
    "intel-gaudi": "habana.ai/gaudi",
}
# GKE TPU node labels (cloud.google.com/gke-tpu-accelerator values per TPU generation).
TPU_ACCELERATOR = {"TPU-v5e": "tpu-v5-lite-podslice", "TPU-v5p": "tpu-v5p-slice", "TPU-v6e": "tpu-v6e-slice"}


def _resources(stack: Stack, role: Workload) -> dict[str, Any]:
    spec = stack.spec
    requests = dict(role.resources.requests)
    limits = dict(role.resources.limits)
    # With DRA the chart adds resourceClaims for the accelerators; no device-plugin resource then.
    resource = None if spec.accelerator.dra else ACCELERATOR_RESOURCE.get(spec.accelerator.vendor)
    extra: dict[str, str] = {}
    if resource:
        extra[resource] = str(stack.gpus_per_pod(role))
    if stack.disaggregated and spec.accelerator.vendor != "simulated":
        extra.update(disagg.rdma_resources(stack))
    for name, count in extra.items():
        requests.setdefault(name, count)
        limits.setdefault(name, count)
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


def _node_selector(stack: Stack) -> dict[str, str]:
    acc = stack.spec.accelerator
    if acc.vendor != "google" or acc.topology is None:
        return {}
    from llmd_compile.catalog.hardware import accelerator

    known = accelerator(acc.model)
    selector = {"cloud.google.com/gke-tpu-topology": acc.topology}
    if known is not None and known.name in TPU_ACCELERATOR:
        selector["cloud.google.com/gke-tpu-accelerator"] = TPU_ACCELERATOR[known.name]
    return selector


def _container(stack: Stack, name: str, role: Workload) -> dict[str, Any]:
    spec = stack.spec
    port = stack.vllm_port if name == "decode" else SERVICE_PORT
    simulated = spec.accelerator.vendor == "simulated"
    args = list(role.args)
    env: list[dict[str, Any]] = []
    ports = [{"containerPort": port, "name": "metrics", "protocol": "TCP"}]
    if stack.disaggregated and not simulated:
        args = disagg.kv_args(stack, args)
        env += disagg.kv_env(stack)
        ports += disagg.kv_ports(stack)
    if precise.enabled(stack):
        args = precise.vllm_args(stack, args)
        env += precise.vllm_env(stack)
        ports += precise.vllm_ports(stack)
    env += [{"name": k, "value": v} for k, v in sorted(role.env.items())]
    container: dict[str, Any] = {
        "name": "vllm",
        "image": role.image,
        # The simulator takes its own flags; the chart's vllmServe command line is vLLM's.
        "modelCommand": "imageDefault" if simulated else "vllmServe",
        "args": args,
        "env": env,
        "ports": ports,
        **probes.probes(stack, role, port),
        "resources": _resources(stack, role),
        "mountModelVolume": True,
        # vLLM and torch write caches under $HOME; these stay writable under any UID (OpenShift).
        "volumeMounts": [
            {"name": "metrics-volume", "mountPath": "/.config"},
            {"name": "torch-compile-cache", "mountPath": "/.cache"},
        ],
    }
    context = security.container_context(stack, name, role)
    if context:
        container["securityContext"] = context
    if stack.multinode and not simulated:
        launch = widep.launch(stack, role, port, args)
        container = {"name": "vllm", "image": role.image, **launch,
                     **{k: v for k, v in container.items() if k not in ("name", "image", "modelCommand", "args")}}
    return container


def _role(stack: Stack, name: str, role: Workload) -> dict[str, Any]:
    ms = stack.ms
    container = _container(stack, name, role)
    parallelism: dict[str, int] = {"tensor": role.parallelism.tensor, "data": role.parallelism.data}
    if stack.multinode:
        parallelism = widep.parallelism(stack, role)
    if _tensor_as_flag(stack, role):
        # issue 14: MS v0.2.7 turns parallelism.tensor > 1 into nvidia.com/gpu on any accelerator (catalog
        # ModelServiceChart.gpu_from_tensor_bug); pass TP to vLLM as a flag, as the seed TPU guide did.
        parallelism = {**parallelism, "tensor": 1}
        container["args"] = [f"--tensor-parallel-size={role.parallelism.tensor}", *container["args"]]
    if ms.container_parallelism_quirk:
        container["parallelism"] = parallelism
    podmonitor = stack.spec.monitoring.podMonitor
    values: dict[str, Any] = {
        "create": role.replicas > 0,
        "replicas": role.replicas,
        "parallelism": parallelism,
        "monitoring": {"podmonitor": {
            "enabled": podmonitor.enabled, "portName": "metrics", "path": "/metrics", "interval": podmonitor.interval,
        }},
    }
    if role.podAnnotations:
        values["podAnnotations"] = dict(sorted(role.podAnnotations.items()))
    affinity = stack.spec.accelerator.nodeAffinity
    if affinity is not None:
        values["acceleratorTypes"] = {"labelKey": affinity.labelKey, "labelValues": list(affinity.labelValues)}
    selector = _node_selector(stack)
    if selector:
        if ms.has_node_selector:
            values["nodeSelector"] = selector
        else:
            values["extraConfig"] = {"nodeSelector": selector}
    tokenizer = sim.tokenizer_image(stack)
    if tokenizer:
        values["initContainers"] = [sim.tokenizer_sidecar(tokenizer)]
    values["containers"] = [container]
    values["volumes"] = [
        {"name": "metrics-volume", "emptyDir": {}},
        {"name": "torch-compile-cache", "emptyDir": {}},
    ]
    if tokenizer:
        container["volumeMounts"].append({"name": sim.VOLUME, "mountPath": sim.SOCKET_DIR})
        values["volumes"].append({"name": sim.VOLUME, "emptyDir": {}})
    # Tensor-parallel workers talk through /dev/shm (64Mi by default). MS v0.2.8/v0.2.9 reject any volume but
    # {name, emptyDir: {}} (CATALOG §b.4), so there the pods keep the default.
    wants_shm = role.parallelism.tensor > 1 or "shmSize" in role.model_fields_set
    if role.shmSize and wants_shm and not ms.strict_volumes:
        container["volumeMounts"].append({"name": "shm", "mountPath": "/dev/shm"})
        values["volumes"].append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": role.shmSize}})
    return values


def _tensor_as_flag(stack: Stack, role: Workload) -> bool:
    vendor = stack.spec.accelerator.vendor
    return (stack.ms.gpu_from_tensor_bug and vendor not in ("nvidia", "simulated") and not stack.multinode
            and role.parallelism.tensor > 1)


def _accelerator_type(stack: Stack) -> str | None:
    vendor = stack.spec.accelerator.vendor
    if vendor == "simulated":
        # No accelerator: "cpu" where the chart has it (v0.4.5+), else the chart's default with tensor 1.
        return stack.ms.accelerator_types.get("cpu")
    # catalog.compat rejects vendors the chart has no accelerator type for.
    return stack.ms.accelerator_types[vendor]


def modelservice_values(stack: Stack) -> dict[str, Any]:
    spec = stack.spec
    names = stack.names
    ms = stack.ms
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
    values: dict[str, Any] = {"multinode": stack.multinode, "modelArtifacts": artifacts}
    accelerator_type = _accelerator_type(stack) if ms.has_accelerator_block else None
    if spec.accelerator.dra:
        # catalog.compat rejects DRA where the chart has no claim template for the vendor.
        values["accelerator"] = {"type": ms.dra_types[spec.accelerator.vendor], "dra": True}
    elif accelerator_type is not None:
        values["accelerator"] = {"type": accelerator_type}
    values["routing"] = routing
    values["decode"] = _role(stack, "decode", spec.decode)
    values["prefill"] = _role(stack, "prefill", spec.prefill) if spec.prefill is not None else {"create": False}
    return values
