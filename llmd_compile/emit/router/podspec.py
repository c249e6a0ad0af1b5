"""The model-server pod of one role, shaped as the llm-d v0.8/v0.9 guides write it (LD@3fa7bfc5, LD@e3dbeca1
guides/recipes/modelserver/base/single-host/{default,pd/base,pd/vllm}, wide-ep-lws/modelserver/gpu/vllm/base):
container `modelserver` with port `modelserver`, probes on that port, the routing proxy as a native sidecar in front
of P/D decode pods, and the wide-EP launch with one port per data-parallel rank behind the vLLM DP supervisor.

The pod's intent comes from emit/workloads.py, as for the Helm-era chart; only the shape is this module's.
"""

from __future__ import annotations

import re
from typing import Any

from llmd_compile.catalog import vllm
from llmd_compile.emit import workloads
from llmd_compile.resolve import SERVICE_PORT, Stack
from llmd_compile.spec.models import Workload

CONTAINER = "modelserver"
PORT_NAME = "modelserver"
SIDECAR = "routing-proxy"
SUPERVISOR = "supervisor"
# The sidecar's flag naming vLLM's port: --vllm-port up to router v0.9.x, --model-server-port from v0.10.0 (the old
# name a deprecated alias there, ROUTER@v0.10.0 pkg/sidecar/proxy/options.go, CURRENT §6).
MODEL_SERVER_PORT_FROM = (0, 10, 0)
KV_CONNECTOR = {"NixlConnector": "nixlv2"}  # vLLM's connector -> the sidecar's --kv-connector
# vLLM images from v0.20 need $USER (vllm-project/vllm#44548): the guides' image components set USER=llm-d for every
# vLLM image but the TPU one (LD@e3dbeca1 recipes/modelserver/components/images/*-vllm/release).
NEEDS_USER = frozenset({"nvidia", "amd", "intel", "intel-gaudi", "cpu"})
# accelerator.dra: the device class each vendor's DRA driver publishes (llm-d-modelservice v0.4.x values
# accelerator.resourceClaimTemplates; the v0.9 XPU guides' claim templates use gpu.intel.com).
DEVICE_CLASS = {"nvidia": "gpu.nvidia.com", "amd": "gpu.amd.com", "google": "tpu.google.com", "intel": "gpu.intel.com",
                "intel-gaudi": "gaudi.intel.com"}
CLAIM = "accelerators"  # the pod's claim on its role's ResourceClaimTemplate
# The v0.9 guides give vLLM 120 startup polls of 30 s (the Helm-era guides 60).
STARTUP_FAILURES = 120
SCRATCH = ({"name": "triton-cache", "mountPath": "/.triton"},)  # Triton's cache under $HOME (restricted SCCs)


def tag(stack: Stack) -> tuple[int, int, int]:
    """The router version the stack runs (its picker's tag)."""
    major, minor, patch = [*(int(n) for n in re.findall(r"\d+", stack.picker.tag)[:3]), 0, 0, 0][:3]
    return major, minor, patch


def vllm_port(stack: Stack, name: str) -> int:
    """Where vLLM listens: behind the routing proxy on P/D decode pods (8200), else the pool's port."""
    return stack.vllm_port if name == "decode" and stack.sidecar else SERVICE_PORT


def _model_args(stack: Stack, args: list[str]) -> list[str]:
    """`vllm serve <model>`: the cached directory on the PVC, else the Hugging Face id."""
    from llmd_compile.emit.widep import model_arg

    model = stack.spec.model
    out = [model_arg(stack)]
    if (model.cache.pvc or model.servedName) and not vllm.has_flag(args, "--served-model-name"):
        out.append(f"--served-model-name={model.served_name}")
    return out


def _simulator_args(stack: Stack, args: list[str], port: int) -> list[str]:
    """The inference simulator's model and port, as the modelservice chart's imageDefault command line gives them
    (`--model <model> --port <port>`); the simulator loads nothing, so the name is all it needs."""
    model = stack.spec.model
    out = []
    if not vllm.has_flag(args, "--model"):
        out.append(f"--model={model.name}")
    if model.servedName and not vllm.has_flag(args, "--served-model-name"):
        out.append(f"--served-model-name={model.served_name}")
    if not vllm.has_flag(args, "--port"):
        out.append(f"--port={port}")
    return out + args


def model_env(stack: Stack) -> list[dict[str, Any]]:
    """The Hugging Face token, and HF_HOME on the model cache (recipes/modelserver/components/model-cache)."""
    model = stack.spec.model
    env: list[dict[str, Any]] = []
    if model.tokenSecret is not None:
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {
            "name": model.tokenSecret.name, "key": model.tokenSecret.key}}})
    if model.cache.pvc is None:  # vLLM downloads into the cache; from a PVC it reads a directory
        env.append({"name": "HF_HOME", "value": "/model-cache"})
    return env


def model_volume(stack: Stack) -> dict[str, Any]:
    cache = stack.spec.model.cache
    if cache.pvc is not None:
        # The download Job fills it once (base/); pods only read.
        return {"name": "model-cache", "persistentVolumeClaim": {"claimName": cache.pvc.name, "readOnly": True}}
    return {"name": "model-cache", "emptyDir": {"sizeLimit": cache.emptyDirSize}}


def image(stack: Stack, role: Workload) -> str:
    """The role's image; the release preset's for the accelerator when the spec leaves it open."""
    preset = stack.router
    if role.image or preset is None:
        return role.image
    vendor = stack.spec.accelerator.vendor
    if stack.multinode and vendor == "nvidia" and preset.widep_image:
        return preset.widep_image
    return preset.image_for(vendor) or role.image


def _named_probes(container: dict[str, Any], port: str, role: Workload, launch: bool) -> None:
    """Probes on the named port, with the v0.9 guides' timings where the spec leaves them open."""
    for key, kind in (("startupProbe", "startup"), ("livenessProbe", "liveness"), ("readinessProbe", "readiness")):
        probe = container.get(key)
        if probe is None:
            continue
        written = getattr(role.probes, kind) if role.probes else None
        probe["httpGet"] = {**probe["httpGet"], "port": port}
        if launch and kind == "readiness" and (written is None or written.path is None):
            probe["httpGet"]["path"] = "/readyz"  # the DP supervisor: ready when every rank serves
        if not launch and kind == "startup" and (written is None or written.failureThreshold is None):
            probe["failureThreshold"] = STARTUP_FAILURES


def container(stack: Stack, pod: workloads.Pod) -> dict[str, Any]:
    """The vLLM (or simulator) container of the role's pod, in the guides' shape."""
    spec = stack.spec
    simulated = spec.accelerator.vendor == "simulated"
    src = pod.container
    out: dict[str, Any] = {"name": CONTAINER, "image": image(stack, pod.workload)}
    env = list(src["env"])
    if not simulated:
        env = model_env(stack) + env
    if spec.accelerator.vendor in NEEDS_USER and not any(e["name"] == "USER" for e in env):
        env.append({"name": "USER", "value": "llm-d"})
    if pod.launch:
        out.update(command=src["command"], args=src["args"])
    elif simulated:
        out["args"] = _simulator_args(stack, list(src["args"]), pod.port)
    else:
        args = list(src["args"])
        sizes = pod.workload.parallelism
        # The chart's vllmServe adds these from parallelism; here the container says them itself.
        for flag, value in (("--tensor-parallel-size", sizes.tensor), ("--data-parallel-size", sizes.data)):
            if (flag == "--tensor-parallel-size" or value > 1) and not vllm.has_flag(args, flag):
                args.append(f"{flag}={value}")
        if pod.port != SERVICE_PORT and not vllm.has_flag(args, "--port"):
            args.append(f"--port={pod.port}")
        out.update(command=["vllm", "serve"], args=_model_args(stack, args) + args)
    out["env"] = env
    out["ports"] = [dict(p) for p in src["ports"]]
    if pod.launch:
        out["ports"] = rank_ports(stack, pod) + out["ports"][1:]
    for key in ("startupProbe", "livenessProbe", "readinessProbe"):
        if key in src:
            out[key] = {**src[key], "httpGet": dict(src[key]["httpGet"])}
    _named_probes(out, SUPERVISOR if pod.launch else PORT_NAME, pod.workload, pod.launch)
    out["resources"] = src["resources"]
    if stack.spec.accelerator.dra and stack.spec.accelerator.vendor in DEVICE_CLASS:
        out["resources"] = {**src["resources"], "claims": [{"name": CLAIM}]}
    mounts = [*src["volumeMounts"], *SCRATCH]
    if not simulated:
        mounts.append({"name": "model-cache", "mountPath": "/model-cache"})
    if pod.shm is not None:
        mounts.insert(0, pod.shm[0])
    out["volumeMounts"] = mounts
    if "securityContext" in src:
        out["securityContext"] = src["securityContext"]
    return out


def volumes(stack: Stack, pod: workloads.Pod) -> list[dict[str, Any]]:
    out = [*([pod.shm[1]] if pod.shm else []), *pod.volumes, *({"name": m["name"], "emptyDir": {}} for m in SCRATCH)]
    if stack.spec.accelerator.vendor != "simulated":
        out.append(model_volume(stack))
    return out


def pod(stack: Stack, name: str, role: Workload) -> workloads.Pod:
    port = vllm_port(stack, name)
    balance = ("--data-parallel-multi-port-external-lb",
               f"--data-parallel-supervisor-port {supervisor_port(stack, role, port)}")
    return workloads.pod(stack, name, role, port, port_name=PORT_NAME, container_name=CONTAINER, balance=balance)


# --- wide-EP: one port per data-parallel rank, the DP supervisor beside them ----------------------------------------


def supervisor_port(stack: Stack, role: Workload, port: int) -> int:
    return port + role.parallelism.local


def rank_ports(stack: Stack, pod: workloads.Pod) -> list[dict[str, Any]]:
    """vLLM's ports on a wide-EP pod: one per local rank (vllm-rank<i>), then the supervisor's."""
    local = pod.workload.parallelism.local
    prefix = "vllm-rank" if pod.port != SERVICE_PORT else "rank"
    ranks = [{"containerPort": pod.port + i, "name": f"{prefix}{i}", "protocol": "TCP"} for i in range(local)]
    return [*ranks, {"containerPort": supervisor_port(stack, pod.workload, pod.port), "name": SUPERVISOR,
                     "protocol": "TCP"}]


# --- the routing proxy in front of P/D decode pods -------------------------------------------------------------------


def sidecar(stack: Stack, role: Workload) -> dict[str, Any]:
    """The routing proxy as a native sidecar: clients and the pool reach it on 8000, it reaches vLLM behind it."""
    port_flag = "--model-server-port" if tag(stack) >= MODEL_SERVER_PORT_FROM else "--vllm-port"
    args = [f"--port={SERVICE_PORT}", f"{port_flag}={stack.vllm_port}"]
    local = role.parallelism.local if stack.multinode else 1
    if local > 1:  # one proxy port per vLLM rank; a prefill rank sampled per request (wide-ep-lws decode.yaml)
        args.append(f"--data-parallel-size={local}")
    args += [f"--kv-connector={KV_CONNECTOR[stack.spec.kvTransfer.connector]}", "--zap-log-level=1",
             "--secure-proxy=false"]
    if local > 1:
        args.append("--enable-prefiller-sampling")
    if local > 1:
        ports = [{"containerPort": SERVICE_PORT + i, "name": f"rank{i}", "protocol": "TCP"} for i in range(local)]
    else:
        ports = [{"containerPort": SERVICE_PORT, "name": "sidecar", "protocol": "TCP"}]
    return {
        "name": SIDECAR,
        "image": stack.sidecar_image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "ports": ports,
        "resources": {},
        "restartPolicy": "Always",  # a native sidecar: started before vLLM, running for the pod's life
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
    }


# --- accelerators claimed through Dynamic Resource Allocation (accelerator.dra) ---------------------------------------


def claim_template(stack: Stack, name: str, role: Workload, template: str) -> dict[str, Any]:
    """One ResourceClaimTemplate per role: every pod claims its tensor x local-rank devices of the vendor's class."""
    vendor = stack.spec.accelerator.vendor
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate", "metadata": {"name": template},
            "spec": {"spec": {"devices": {"requests": [{"name": "accelerator", "exactly": {
                "deviceClassName": DEVICE_CLASS[vendor], "allocationMode": "ExactCount",
                "count": stack.gpus_per_pod(role)}}]}}}}
