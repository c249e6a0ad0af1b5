"""Tiered prefix cache, flow control and predicted latency on the router shape (LLMD71x-73x).

Each rule reads the compiled artifacts (values/router.yaml, the EndpointPickerConfig inside it, the kustomize model
servers) and checks the wiring a hand-written install gets wrong: the CPU tier against the pod's memory and the
node's, the filesystem tier against its claim, every prefix-cache scorer against a producer, every
InferenceObjective against a priority band, the SLO-aware plugins against the latency predictor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts, dig
from llmd_compile.check.capacity import gib

PRODUCER, SCORER = "approx-prefix-cache-producer", "prefix-cache-scorer"
LATENCY_TYPES = frozenset({"predicted-latency-producer", "latency-scorer", "slo-headroom-tier-filter",
                           "latency-slo-admitter"})
MUTABLE_TAGS = ("latest", "main")


def _decode_container(a: Artifacts) -> dict[str, Any] | None:
    for role, template in a.pod_templates():
        if role == "decode":
            containers = dig(template, "spec", "containers", default=[]) or []
            return containers[0] if containers and isinstance(containers[0], dict) else None
    return None


def _plugins(a: Artifacts) -> list[dict[str, Any]]:
    plugins = a.epp_config().get("plugins") or []
    return [p for p in plugins if isinstance(p, dict)]


# --- tiered prefix cache -------------------------------------------------------------------------------------------


def cpu_tier_memory(a: Artifacts) -> Iterator[Finding]:
    """The CPU tier lives in the vLLM container's memory: a limit below it kills the pod (OOM) once the tier fills."""
    offload = a.stack.spec.kvOffload
    container = _decode_container(a)
    if offload is None or container is None:
        return
    tier = gib(offload.cpu.size)
    resources = container.get("resources") or {}
    limit = dig(resources, "limits", "memory")
    request = dig(resources, "requests", "memory")
    if isinstance(limit, str) and gib(limit) < tier:
        yield Finding("decode.resources.limits.memory", f"memory limit {limit} is below the {offload.cpu.size} CPU "
                      "KV tier: the container is OOM-killed once the tier fills")
    elif isinstance(request, str) and gib(request) < tier:
        yield Finding("decode.resources.requests.memory", f"memory request {request} is below the "
                      f"{offload.cpu.size} CPU KV tier: the scheduler may place the pod on a node without the RAM")


def node_memory(a: Artifacts) -> Iterator[Finding]:
    """Pods a node takes (by accelerators) x what each holds in host memory must fit the node."""
    spec = a.stack.spec
    offload, per_node_gib = spec.kvOffload, spec.cluster.memoryPerNode
    container = _decode_container(a)
    if offload is None or per_node_gib is None or container is None:
        return
    request = dig(container, "resources", "requests", "memory")
    per_pod = max(gib(offload.cpu.size), gib(request) if isinstance(request, str) else 0.0)
    gpus = a.stack.gpus_per_pod(spec.decode)
    pods = max(1, spec.cluster.gpusPerNode // gpus) if spec.cluster.gpusPerNode and gpus else 1
    pods = min(pods, spec.decode.replicas)
    if pods * per_pod > gib(per_node_gib):
        yield Finding("kvOffload.cpu.size", f"{pods} decode pod(s) per node x {per_pod:.0f} GiB host memory "
                      f"(CPU KV tier / memory request) > cluster.memoryPerNode {per_node_gib}")


def storage_claim(a: Artifacts) -> Iterator[Finding]:
    """The filesystem tier is a ReadWriteMany claim every decode pod mounts at the tier's directory."""
    offload = a.stack.spec.kvOffload
    container = _decode_container(a)
    if offload is None or offload.filesystem is None or container is None:
        return
    fs = offload.filesystem
    claims = {d["metadata"]["name"]: d for d in a.model_server_docs() if d.get("kind") == "PersistentVolumeClaim"}
    template = next(t for role, t in a.pod_templates() if role == "decode")
    volumes = {v.get("name"): v for v in dig(template, "spec", "volumes", default=[]) or [] if isinstance(v, dict)}
    mounted = [m.get("name") for m in container.get("volumeMounts") or [] if m.get("mountPath") == fs.mountPath]
    claim_names = [dig(volumes.get(name) or {}, "persistentVolumeClaim", "claimName") for name in mounted]
    if not any(claim_names):
        yield Finding("kvOffload.filesystem.mountPath", f"no claim is mounted at {fs.mountPath}, where the "
                      "connector writes the filesystem tier")
        return
    for name in claim_names:
        claim = claims.get(str(name))
        if claim is None:
            yield Finding("kvOffload.filesystem.pvc.name", f"the decode pods mount claim {name!r}, which the stack "
                          "does not create")
        elif "ReadWriteMany" not in (dig(claim, "spec", "accessModes", default=[]) or []):
            yield Finding("kvOffload.filesystem.pvc", f"claim {name} is not ReadWriteMany: every decode pod shares "
                          "the filesystem tier")


def blind_picker(a: Artifacts) -> Iterator[Finding]:
    offload = a.stack.spec.kvOffload
    if offload is None or not a.is_router:
        return
    types = {p.get("type") for p in _plugins(a)}
    if SCORER not in types:
        yield Finding("kvOffload", "no prefix-cache scorer: the picker does not see what the CPU tier holds, so "
                      "requests do not follow their offloaded prefixes")


def prefix_wiring(a: Artifacts) -> Iterator[Finding]:
    """Every prefix-cache scorer names a producer that exists."""
    if not a.is_router:
        return
    plugins = _plugins(a)
    registry = a.stack.picker.plugins
    producers = {p.get("name", p.get("type")) for p in plugins
                 if p.get("type") in registry and registry[str(p.get("type"))].category == "data-producer"}
    for plugin in plugins:
        wanted = dig(plugin, "parameters", "prefixMatchInfoProducerName")
        if plugin.get("type") == SCORER and wanted is not None and wanted not in producers:
            yield Finding("scheduler.scorers.prefixCache", f"{plugin.get('name', SCORER)} reads prefix matches from "
                          f"{wanted!r}, which is no data producer of the picker config")


def cpu_lru(a: Artifacts) -> Iterator[Finding]:
    offload = a.stack.spec.kvOffload
    if offload is None or not a.is_router:
        return
    cpu = next((p for p in _plugins(a) if p.get("name") == "cpu-prefix-cache-producer"), None)
    if cpu is not None and "lruCapacityPerServer" not in (cpu.get("parameters") or {}):
        yield Finding("kvOffload", "the CPU tier's producer keeps the default LRU size: vLLM reports no CPU block "
                      "metrics, so set kvOffload.kvBytesPerToken (or cpuLruCapacityPerServer) to size it")


# --- flow control ---------------------------------------------------------------------------------------------------


def objective_bands(a: Artifacts) -> Iterator[Finding]:
    """Every InferenceObjective's priority has a band, and the bands' policies and detector are plugins."""
    if not a.is_router:
        return
    objectives = dig(a.router, "router", "inferenceObjectives", default=[]) or []
    config = a.epp_config()
    control = config.get("flowControl")
    if not objectives and control is None:
        return
    if not isinstance(control, dict):
        yield Finding("scheduler.flowControl", "InferenceObjectives without a flowControl section: the picker "
                      "does not queue by their priorities")
        return
    if "flowControl" not in (config.get("featureGates") or []):
        yield Finding("scheduler.flowControl", "flowControl is configured but the flowControl feature gate is off: "
                      "the picker ignores it")
    bands = {b.get("priority") for b in control.get("priorityBands") or [] if isinstance(b, dict)}
    for objective in objectives:
        if objective.get("priority") not in bands:
            yield Finding("scheduler.flowControl.objectives", f"InferenceObjective {objective.get('name')} has "
                          f"priority {objective.get('priority')}, for which flowControl has no priority band")
    names = {p.get("name", p.get("type")) for p in _plugins(a)}
    refs = [dig(control, "saturationDetector", "pluginRef")]
    for band in control.get("priorityBands") or []:
        refs += [band.get("fairnessPolicyRef"), band.get("orderingPolicyRef")]
    for ref in sorted({str(r) for r in refs if r is not None} - names):
        yield Finding("scheduler.flowControl", f"flowControl refers to plugin {ref!r}, which the picker config "
                      "does not define")


# --- predicted latency ----------------------------------------------------------------------------------------------


def predictor(a: Artifacts) -> Iterator[Finding]:
    if not a.is_router:
        return
    uses = sorted(LATENCY_TYPES & {p.get("type") for p in _plugins(a)})
    enabled = dig(a.router, "router", "latencyPredictor", "enabled") is True
    if uses and not enabled:
        yield Finding("scheduler.predictedLatency", f"the picker runs {', '.join(uses)} but the router release "
                      "runs no latency predictor (router.latencyPredictor.enabled)")


def predictor_images(a: Artifacts) -> Iterator[Finding]:
    latency = a.stack.spec.scheduler.predictedLatency
    if latency is None or not a.is_router:
        return
    unpinned = []
    for field, image in (("trainingImage", latency.trainingImage), ("predictionImage", latency.predictionImage)):
        if image is None:
            unpinned.append(field)
        elif image.rpartition(":")[2] in MUTABLE_TAGS:
            yield Finding(f"scheduler.predictedLatency.{field}", f"{image} is a mutable tag")
    if unpinned:
        yield Finding("scheduler.predictedLatency", f"no {' or '.join(unpinned)}: the router chart's default "
                      "predictor images are -dev builds on a mutable tag (latest, pullPolicy Always), so a restart "
                      "may run another build")


RULES = (
    Rule("LLMD710", "error", "the CPU KV tier does not fit the pod's memory",
         "raise decode.resources memory to at least kvOffload.cpu.size (plus vLLM's own host memory), or shrink "
         "the tier", cpu_tier_memory),
    Rule("LLMD711", "error", "the CPU KV tiers of a node's pods exceed its memory",
         "shrink kvOffload.cpu.size or the memory request, or use nodes with more memory (cluster.memoryPerNode)",
         node_memory),
    Rule("LLMD712", "error", "the filesystem KV tier is not a shared claim the pods mount",
         "let kvOffload.filesystem.pvc create the ReadWriteMany claim; mount it at filesystem.mountPath",
         storage_claim),
    Rule("LLMD713", "warning", "KV offloading without prefix-cache scoring",
         "add scheduler.scorers.prefixCache: the picker then scores the GPU and the CPU tier", blind_picker),
    Rule("LLMD714", "error", "a prefix-cache scorer is not wired to its producer",
         "each prefix-cache-scorer's prefixMatchInfoProducerName names an approx-prefix-cache-producer",
         prefix_wiring),
    Rule("LLMD715", "warning", "the CPU KV tier's picker LRU keeps its default size",
         "set kvOffload.kvBytesPerToken (or cpuLruCapacityPerServer)", cpu_lru),
    Rule("LLMD720", "error", "InferenceObjectives and flow control do not go together",
         "one priority band per objective priority, the flowControl feature gate on, every policy and detector a "
         "plugin (scheduler.flowControl generates all of it)", objective_bands),
    Rule("LLMD730", "error", "latency-based plugins without the latency predictor",
         "scheduler.predictedLatency turns on router.latencyPredictor with the plugins", predictor),
    Rule("LLMD731", "warning", "latency predictor on a mutable image",
         "pin scheduler.predictedLatency.trainingImage and predictionImage to released tags", predictor_images),
)
