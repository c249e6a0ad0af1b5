"""Tiered prefix cache (kvOffload): what vLLM, the pod and the picker need to move evicted KV blocks to CPU RAM and
on to a shared filesystem (LD@e3dbeca1 guides/tiered-prefix-cache).

* vLLM: the native OffloadingConnector (`cpu_bytes_to_use`; with a filesystem tier `TieringOffloadingSpec` and an
  `fs` secondary tier, modelserver/gpu/vllm/native/{cpu,fs}) or LMCacheConnectorV1 sized through its environment
  (modelserver/gpu/vllm/lmcache-connector/{cpu,fs}).
* the pod: the memory the CPU tier takes, the ReadWriteMany claim the filesystem tier writes to (manifests/pvc.yaml).
* the picker: one approximate prefix-cache producer and scorer per tier (router/tiered-prefix-cache-cpu.values.yaml);
  the CPU tier's LRU is sized from the spec because vLLM reports no CPU block metrics.

Router shape only (llm-d v0.8+); aggregated serving only (P/D already owns --kv-transfer-config).
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from llmd_compile.check.capacity import gib
from llmd_compile.errors import Problem, SpecError
from llmd_compile.resolve import Stack

if TYPE_CHECKING:  # workloads imports this module
    from llmd_compile.emit.workloads import Pod

FIELD = "kvOffload"
NATIVE, LMCACHE = "OffloadingConnector", "LMCacheConnectorV1"
STORAGE_VOLUME = "files-storage"
LMCACHE_METRICS = ("lmcache-prometheus-metrics", "/tmp/lmcache_prometheus")
# Hash seeds the guide pins so every pod (and restart) hashes a prefix to the same block keys.
HASH_SEED = {"native": "42", "lmcache": "123"}
FS_THREADS = 16
# The picker side: one producer/scorer pair per tier, named as the guide names them.
PRODUCER, SCORER, NO_HIT = "approx-prefix-cache-producer", "prefix-cache-scorer", "no-hit-lru-scorer"
TIERS = ("gpu", "cpu")


def enabled(stack: Stack) -> bool:
    return stack.spec.kvOffload is not None


def _bytes(quantity: str) -> int:
    return round(gib(quantity) * 2**30)


def _gb(quantity: str) -> str:
    """LMCache sizes are GB as a float string ("100.0")."""
    return f"{gib(quantity):.1f}"


def problems(stack: Stack) -> list[Problem]:
    spec = stack.spec
    if spec.kvOffload is None:
        return []
    found: list[Problem] = []

    def at(message: str) -> Problem:
        return Problem(stack.source, 0, 0, FIELD, message)

    if stack.shape != "router":
        found.append(at("KV offloading is generated for the router shape only (release v0.8 or v0.9)"))
    if stack.disaggregated:
        found.append(at("P/D already sets vLLM's --kv-transfer-config (NixlConnector); combining it with offloading "
                        "needs a MultiConnector, which is not generated: drop kvOffload or prefill"))
    if spec.accelerator.vendor == "google":
        found.append(at("TPUs offload through vLLM's TPU KV-cache connector (guides/tiered-prefix-cache/modelserver/"
                        "tpu), which is not generated yet"))
    if spec.accelerator.vendor in ("simulated", "cpu"):
        found.append(at(f"accelerator.vendor {spec.accelerator.vendor} has no accelerator memory to offload from"))
    if any(a.split("=", 1)[0] == "--kv-transfer-config" for a in spec.decode.args):
        found.append(at("decode.args already set --kv-transfer-config; let kvOffload write it, or drop kvOffload"))
    return found


def transfer_config(stack: Stack) -> dict[str, Any]:
    offload = stack.spec.kvOffload
    assert offload is not None
    if offload.connector == "lmcache":
        return {"kv_connector": LMCACHE, "kv_role": "kv_both"}
    extra: dict[str, Any] = {"cpu_bytes_to_use": _bytes(offload.cpu.size)}
    if offload.filesystem is not None:
        extra = {"spec_name": "TieringOffloadingSpec", **extra, "block_size": offload.fsBlockSize,
                 "secondary_tiers": [{"type": "fs", "root_dir": offload.filesystem.mountPath,
                                      "n_read_threads": FS_THREADS, "n_write_threads": FS_THREADS}]}
    return {"kv_connector": NATIVE, "kv_role": "kv_both", "kv_connector_extra_config": extra}


def vllm_env(stack: Stack) -> list[dict[str, Any]]:
    offload = stack.spec.kvOffload
    assert offload is not None
    env = [{"name": "PYTHONHASHSEED", "value": HASH_SEED[offload.connector]}]
    if offload.connector == "lmcache":
        env.append({"name": "LMCACHE_MAX_LOCAL_CPU_SIZE", "value": _gb(offload.cpu.size)})
        env.append({"name": "PROMETHEUS_MULTIPROC_DIR", "value": LMCACHE_METRICS[1]})
        fs = offload.filesystem
        if fs is not None:
            env.append({"name": "LMCACHE_LOCAL_DISK", "value": f"file://{fs.mountPath.rstrip('/')}/kv-cache/"})
            extra = json.dumps({"use_odirect": "True"}, separators=(",", ":"))
            env.append({"name": "LMCACHE_EXTRA_CONFIG", "value": extra})
            env.append({"name": "LMCACHE_MAX_LOCAL_DISK_SIZE", "value": _gb(fs.size or fs.pvc.size)})
    return env


def memory_request(stack: Stack) -> str:
    """Twice the CPU tier, as the guide requests 200Gi for a 100 GB tier: the tier plus vLLM's own host memory."""
    offload = stack.spec.kvOffload
    assert offload is not None
    return f"{max(1, round(2 * gib(offload.cpu.size)))}Gi"


def pod(stack: Stack, pod: Pod) -> Pod:
    """The decode pod (emit/workloads.Pod) with the offloading connector, its environment, memory and volumes."""
    if stack.spec.kvOffload is None or pod.role != "decode":
        return pod
    found = problems(stack)
    if found:
        raise SpecError(found)
    offload = stack.spec.kvOffload
    container = dict(pod.container)
    container["args"] = [*container["args"], "--kv-transfer-config",
                         json.dumps(transfer_config(stack), separators=(",", ":"))]
    container["env"] = [*container["env"], *vllm_env(stack)]
    resources = {key: dict(value) for key, value in container["resources"].items()}
    if "memory" not in resources["requests"] and "memory" not in resources["limits"]:
        resources["requests"]["memory"] = memory_request(stack)
    container["resources"] = resources
    mounts, volumes = list(container["volumeMounts"]), list(pod.volumes)
    if offload.connector == "lmcache":
        mounts.append({"name": LMCACHE_METRICS[0], "mountPath": LMCACHE_METRICS[1]})
        volumes.append({"name": LMCACHE_METRICS[0], "emptyDir": {}})
    if offload.filesystem is not None:
        mounts.append({"name": STORAGE_VOLUME, "mountPath": offload.filesystem.mountPath})
        volumes.append({"name": STORAGE_VOLUME, "persistentVolumeClaim": {"claimName": offload.filesystem.pvc.name}})
    container["volumeMounts"] = mounts
    return dataclasses.replace(pod, container=container, volumes=volumes)


def storage_claim(stack: Stack) -> dict[str, Any] | None:
    """The shared filesystem tier's ReadWriteMany claim (manifests/pvc.yaml), every decode pod mounts it."""
    offload = stack.spec.kvOffload
    if offload is None or offload.filesystem is None:
        return None
    claim = offload.filesystem.pvc
    spec: dict[str, Any] = {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": claim.size}}}
    if claim.storageClassName:
        spec["storageClassName"] = claim.storageClassName
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim.name, "labels": {"llm-d.ai/guide": stack.spec.metadata.name}}, "spec": spec}


def resources(stack: Stack) -> dict[str, dict[str, Any]]:
    """modelserver/base documents this feature adds."""
    claim = storage_claim(stack)
    return {"kv-cache-pvc.yaml": claim} if claim else {}


# --- the picker ----------------------------------------------------------------------------------------------------


def cpu_blocks(stack: Stack, block_tokens: int) -> int | None:
    """The CPU tier's capacity in prefix blocks per server: cpu.size / (kvBytesPerToken x block tokens)."""
    offload = stack.spec.kvOffload
    assert offload is not None
    if offload.cpuLruCapacityPerServer is not None:
        return offload.cpuLruCapacityPerServer
    if offload.kvBytesPerToken is None:
        return None
    return max(1, _bytes(offload.cpu.size) // (offload.kvBytesPerToken * block_tokens))


def picker_config(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    """Split the approximate prefix-cache producer/scorer of `body` into a GPU and a CPU tier.

    Without prefix-cache scoring there is nothing to split (LLMD620 says the picker is blind to the CPU tier).
    """
    if stack.spec.kvOffload is None:
        return body
    found = problems(stack)
    if found:
        raise SpecError(found)
    plugins = list(body["plugins"])
    types = [p["type"] for p in plugins]
    if SCORER not in types:
        return body
    if PRODUCER not in types:
        raise SpecError([Problem(stack.source, 0, 0, "scheduler.scorers.prefixCache", f"picker {stack.picker.name} "
                                 f"has no {PRODUCER}: a per-tier prefix cache needs router v0.9.0 or later")])
    producer = plugins[types.index(PRODUCER)]
    scorer = plugins[types.index(SCORER)]
    gpu_params = dict(producer.get("parameters", {}))
    cpu_params: dict[str, Any] = {"autoTune": False}
    if "blockSizeTokens" in gpu_params:
        cpu_params["blockSizeTokens"] = gpu_params["blockSizeTokens"]
    blocks = cpu_blocks(stack, gpu_params.get("blockSizeTokens", stack.spec.scheduler.prefixCache.blockSizeTokens))
    if blocks is not None:
        cpu_params["lruCapacityPerServer"] = blocks
    tiered: dict[str, list[dict[str, Any]]] = {
        PRODUCER: [{"type": PRODUCER, "name": f"{tier}-prefix-cache-producer",
                    **({"parameters": params} if params else {})}
                   for tier, params in zip(TIERS, (gpu_params, cpu_params), strict=True)],
        SCORER: [{"type": SCORER, "name": f"{tier}-prefix-cache-scorer",
                  "parameters": {**scorer.get("parameters", {}),
                                 "prefixMatchInfoProducerName": f"{tier}-prefix-cache-producer"}} for tier in TIERS],
    }
    out: list[dict[str, Any]] = []
    for plugin in plugins:
        out += tiered.get(plugin["type"], [plugin]) if "name" not in plugin else [plugin]
    out.insert(1, {"type": NO_HIT})
    profiles = []
    for profile in body["schedulingProfiles"]:
        refs: list[dict[str, Any]] = []
        for ref in profile["plugins"]:
            if ref["pluginRef"] == SCORER:
                refs += [{**ref, "pluginRef": f"{tier}-prefix-cache-scorer"} for tier in TIERS]
                refs.append({"pluginRef": NO_HIT, "weight": ref.get("weight", 1)})
            else:
                refs.append(ref)
        profiles.append({**profile, "plugins": refs})
    return {**body, "plugins": out, "schedulingProfiles": profiles}
