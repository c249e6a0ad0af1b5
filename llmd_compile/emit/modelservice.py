"""llm-d-modelservice values: the model-server roles (decode, and prefill under P/D), shaped per chart version.

Ports follow the chart (CATALOG §b.2): decode vLLM listens behind the routing sidecar (routing.proxy.targetPort)
when the sidecar runs, else on routing.servicePort; prefill vLLM always listens on routing.servicePort.
"""

from __future__ import annotations

from typing import Any

from llmd_compile.emit import sim, widep, workloads
from llmd_compile.emit.workloads import ACCELERATOR_RESOURCE, TPU_ACCELERATOR, model_dir
from llmd_compile.resolve import SERVICE_PORT, Stack
from llmd_compile.spec.models import Workload

__all__ = ["ACCELERATOR_RESOURCE", "TPU_ACCELERATOR", "model_dir", "modelservice_values"]


def _model_uri(stack: Stack) -> str:
    pvc = stack.spec.model.cache.pvc
    if pvc is None:
        return f"hf://{stack.spec.model.name}"
    return f"pvc://{pvc.name}/{model_dir(stack)}"


def _container(stack: Stack, pod: workloads.Pod) -> dict[str, Any]:
    """The pod's vLLM container in the chart's container schema (modelCommand, mountModelVolume)."""
    simulated = stack.spec.accelerator.vendor == "simulated"
    # The simulator takes its own flags; the chart's vllmServe command line is vLLM's.
    command = "custom" if pod.launch else "imageDefault" if simulated else "vllmServe"
    container: dict[str, Any] = {"name": pod.container["name"], "image": pod.container["image"],
                                 "modelCommand": command}
    for key, value in pod.container.items():
        if key == "volumeMounts":
            container["mountModelVolume"] = True
            value = list(value)
        if key not in ("name", "image"):
            container[key] = value
    return container


def _role(stack: Stack, name: str, role: Workload) -> dict[str, Any]:
    ms = stack.ms
    # Decode vLLM listens behind the routing sidecar when it runs; prefill vLLM on the service port.
    pod = workloads.pod(stack, name, role, stack.vllm_port if name == "decode" else SERVICE_PORT)
    container = _container(stack, pod)
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
    if pod.annotations:
        values["podAnnotations"] = pod.annotations
    affinity = stack.spec.accelerator.nodeAffinity
    if affinity is not None:
        values["acceleratorTypes"] = {"labelKey": affinity.labelKey, "labelValues": list(affinity.labelValues)}
    selector = pod.node_selector
    if selector:
        if ms.has_node_selector:
            values["nodeSelector"] = selector
        else:
            values["extraConfig"] = {"nodeSelector": selector}
    tokenizer = sim.tokenizer_image(stack)
    if tokenizer:
        values["initContainers"] = [sim.tokenizer_sidecar(tokenizer)]
    values["containers"] = [container]
    values["volumes"] = list(pod.volumes)
    if tokenizer:
        container["volumeMounts"].append({"name": sim.VOLUME, "mountPath": sim.SOCKET_DIR})
        values["volumes"].append({"name": sim.VOLUME, "emptyDir": {}})
    # MS v0.2.8/v0.2.9 reject any volume but {name, emptyDir: {}} (CATALOG §b.4): there the pods keep the default
    # /dev/shm.
    if pod.shm is not None and not ms.strict_volumes:
        container["volumeMounts"].append(pod.shm[0])
        values["volumes"].append(pod.shm[1])
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
