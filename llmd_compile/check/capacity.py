"""Capacity: GPUs, nodes, attention heads, memory and cache size (LLMD3xx)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from llmd_compile.catalog.charts import RELEASES
from llmd_compile.catalog.hardware import DTYPE_BYTES, MODELS, ModelFacts, accelerator, near
from llmd_compile.catalog.releases import PRESETS, release_of
from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts, dig
from llmd_compile.spec.models import Workload

NO_ACCELERATOR = ("cpu", "simulated")
# Extended resources the charts request per accelerator.type (CATALOG §b.2 accelerator.resources).
ACCELERATOR_RESOURCES = frozenset({"nvidia.com/gpu", "amd.com/gpu", "google.com/tpu", "gpu.intel.com/i915",
                                   "gpu.intel.com/xe", "habana.ai/gaudi"})

KV_FLOOR_GIB = 2.0  # per GPU: room for at least a few full-length sequences' KV cache and activations
DEFAULT_UTILIZATION = 0.9  # vLLM --gpu-memory-utilization default
_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "k": 1e3, "M": 1e6, "G": 1e9,
          "T": 1e12, "P": 1e15, "m": 1e-3, "": 1}


def gib(quantity: str) -> float:
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity)
    if not match or match.group(2) not in _UNITS:
        return 0.0
    return float(match.group(1)) * _UNITS[match.group(2)] / 2**30


def model_facts(a: Artifacts) -> ModelFacts | None:
    spec = a.stack.spec
    if spec.model.facts:
        f = spec.model.facts
        return ModelFacts(f.parameters, DTYPE_BYTES[f.dtype], f.attentionHeads, f.gated)
    return MODELS.get(spec.model.name)


def _roles(a: Artifacts) -> list[tuple[str, Workload]]:
    """decode, and prefill when its pods run (P/D)."""
    return [(name, role) for name, role in a.stack.roles if dig(a.ms, name, "create", default=True)]


def _utilization(a: Artifacts, role: str = "decode") -> float:
    args = " ".join(str(x) for x in dig(a.ms, role, "containers", 0, "args", default=[]) or [])
    match = re.search(r"--gpu-memory-utilization[= ]([0-9.]+)", args)
    return float(match.group(1)) if match else DEFAULT_UTILIZATION


def total_gpus(a: Artifacts) -> Iterator[Finding]:
    spec = a.stack.spec
    if spec.accelerator.vendor in NO_ACCELERATOR or spec.cluster.gpus is None:
        return
    parts = [(name, role.replicas, role.parallelism.tensor * role.parallelism.data) for name, role in _roles(a)]
    need = sum(replicas * per_pod for _, replicas, per_pod in parts)
    if need > spec.cluster.gpus:
        how = " + ".join(f"{replicas} {name} x {per_pod}" for name, replicas, per_pod in parts)
        yield Finding("decode.replicas", f"needs {need} accelerators ({how} per replica) but cluster.gpus is "
                                         f"{spec.cluster.gpus}")


def per_node(a: Artifacts) -> Iterator[Finding]:
    per_node = a.stack.spec.cluster.gpusPerNode
    for name, role in _roles(a):
        pod = a.stack.gpus_per_pod(role)
        if per_node is not None and pod > per_node:
            what = "tensor parallelism" if pod == role.parallelism.tensor else "tensor x local data parallelism"
            yield Finding(f"{name}.parallelism.tensor", f"{what} {pod} does not fit a node with {per_node} "
                                                        "accelerators")


def heads(a: Artifacts) -> Iterator[Finding]:
    facts = model_facts(a)
    for name, role in _roles(a):
        tensor = role.parallelism.tensor
        if facts and facts.attention_heads % tensor:
            yield Finding(f"{name}.parallelism.tensor", f"tensor parallelism {tensor} does not divide the model's "
                          f"{facts.attention_heads} attention heads")


def memory(a: Artifacts) -> Iterator[Finding]:
    facts = model_facts(a)
    acc = accelerator(a.stack.spec.accelerator.model)
    if facts is None or acc is None or acc.memory_gib == 0:
        return
    for name, role in _roles(a):
        p = role.parallelism
        # Expert parallelism spreads the (dominant) MoE weights over every data x tensor rank.
        shards = p.tensor * (p.data if p.expert else 1)
        utilization = _utilization(a, name)
        usable = acc.memory_gib * utilization
        need = facts.weights_gib / shards + KV_FLOOR_GIB
        if need > usable:
            yield Finding(f"{name}.parallelism.tensor", f"{facts.weights_gib:.0f} GiB of weights over {shards} "
                          f"GPU(s) + {KV_FLOOR_GIB:.0f} GiB KV floor = {need:.0f} GiB per GPU > {usable:.0f} GiB "
                          f"usable on {acc.name} ({acc.memory_gib:.0f} GiB x {utilization})")


def pvc_size(a: Artifacts) -> Iterator[Finding]:
    facts = model_facts(a)
    pvc = a.stack.spec.model.cache.pvc
    if facts and pvc and gib(pvc.size) < facts.weights_gib * 1.1:
        yield Finding("model.cache.pvc.size", f"{pvc.size} cannot hold {facts.weights_gib:.0f} GiB of weights "
                      "(+10% for tokenizer and metadata)")


def unknown_model(a: Artifacts) -> Iterator[Finding]:
    # A simulator serves any name ('random' included) and has no heads, memory or weights to check.
    if model_facts(a) is None and a.stack.spec.accelerator.vendor != "simulated":
        name = a.stack.spec.model.name
        close = difflib.get_close_matches(name.lower(), [m.lower() for m in MODELS], n=1, cutoff=0.8)
        near = next((m for m in MODELS if close and m.lower() == close[0]), None)
        yield Finding("model.name", f"{name!r} is not in the model table, so the heads, memory and cache-size "
                      "checks were skipped" + (f"; did you mean {near!r}?" if near else ""))


def unknown_accelerator(a: Artifacts) -> Iterator[Finding]:
    name = a.stack.spec.accelerator.model
    if accelerator(name) is None:
        close = near(name)
        yield Finding("accelerator.model", f"{name!r} is not in the accelerator table, so the memory checks were "
                      "skipped" + (f"; did you mean {close!r}?" if close else ""))


def vendor(a: Artifacts) -> Iterator[Finding]:
    acc = accelerator(a.stack.spec.accelerator.model)
    if acc and acc.vendor != a.stack.spec.accelerator.vendor:
        yield Finding("accelerator.vendor", f"{acc.name} is a {acc.vendor} accelerator, not "
                                            f"{a.stack.spec.accelerator.vendor}")


def shared_pvc(a: Artifacts) -> Iterator[Finding]:
    pvc = a.stack.spec.model.cache.pvc
    replicas = sum(role.replicas for _, role in _roles(a))
    if pvc and replicas > 1 and not {"ReadWriteMany", "ReadOnlyMany"} & set(pvc.accessModes):
        yield Finding("model.cache.pvc.accessModes", f"{replicas} replicas share the model "
                      f"cache but {pvc.accessModes} mounts on one node only")


def gpu_request(a: Artifacts) -> Iterator[Finding]:
    containers = dict(a.role_containers()) if a.is_router else \
        {name: dig(a.ms, name, "containers", 0, default={}) or {} for name, _ in _roles(a)}
    for name, role in _roles(a):
        resources = dig(containers.get(name, {}), "resources", "limits", default={}) or {}
        gpus = [v for k, v in resources.items() if k in ACCELERATOR_RESOURCES]
        wanted = a.stack.gpus_per_pod(role)
        if gpus and any(str(v) != str(wanted) for v in gpus):
            yield Finding(f"{name}.resources", f"the container requests {gpus[0]} accelerators but its ranks need "
                          f"{wanted} (tensor {role.parallelism.tensor}"
                          + (f" x {role.parallelism.local} local data-parallel" if a.stack.multinode else "") + ")")


def _image_vendor(image: str) -> str | None:
    """The vendor a release's vLLM image is built for (charts.RELEASES), by repository."""
    repo = image.partition("@")[0].rpartition(":")[0] or image
    for release in RELEASES.values():
        for vendor, known in release.vllm_images.items():
            if known.rpartition(":")[0] == repo:
                return vendor
    return None


def image_vendor(a: Artifacts) -> Iterator[Finding]:
    vendor = a.stack.spec.accelerator.vendor
    for name, role in _roles(a):
        built_for = _image_vendor(role.image)
        if built_for is not None and built_for != vendor:
            yield Finding(f"{name}.image", f"{role.image} is the llm-d release image for {built_for}, not "
                                           f"{vendor}")


def image_release(a: Artifacts) -> Iterator[Finding]:
    """An image another release preset ships for this vendor, in a stack of this release (LLMD311: another vendor)."""
    spec = a.stack.spec
    preset = spec.release or (a.stack.image_release.name if a.stack.image_release else None)
    if preset is None or preset not in PRESETS:
        return
    ours = PRESETS[preset].vllm_images
    vendor = spec.accelerator.vendor
    for name, role in _roles(a):
        others = [r for r, v in release_of(role.image) if v == vendor and r != preset]
        if role.image in ours.values() or not others:
            continue
        shipped = f"ships {ours[vendor]}" if vendor in ours else f"ships no {vendor} image"
        yield Finding(f"{name}.image", f"{role.image!r} is release {', '.join(others)}'s image for {vendor}; this "
                      f"stack is release {preset}, which {shipped}")


# vLLM's parallelism flags (vllm/engine/arg_utils.py) and the spec field each must agree with; None: the spec has no
# such dimension (pipeline stages), so any value above 1 asks for accelerators the pod does not request.
_PARALLEL_FLAGS = {"--tensor-parallel-size": "tensor", "-tp": "tensor", "--data-parallel-size": "data",
                   "-dp": "data", "--data-parallel-size-local": "local", "-dpl": "local",
                   "--pipeline-parallel-size": None, "-pp": None}


def _flags(args: list[str]) -> Iterator[tuple[int, str, str]]:
    """(index, flag, value) of each parallelism flag in `args`: `--flag=N`, `--flag N` in one item, or two items."""
    for i, arg in enumerate(args):
        flag, sep, value = arg.replace(" ", "=", 1).partition("=")
        if flag in _PARALLEL_FLAGS:
            if not sep and i + 1 < len(args):
                value = args[i + 1]
            yield i, flag, value.strip()
        elif flag in ("--enable-expert-parallel", "-ep"):
            yield i, flag, ""


def parallel_args(a: Artifacts) -> Iterator[Finding]:
    for name, role in _roles(a):
        p = role.parallelism
        for i, flag, value in _flags(list(role.args)):
            if flag in ("--enable-expert-parallel", "-ep"):
                if not p.expert:
                    yield Finding(f"{name}.args[{i}]", f"{flag!r} in args but {name}.parallelism.expert is false")
                continue
            dimension = _PARALLEL_FLAGS[flag]
            wanted = 1 if dimension is None else {"tensor": p.tensor, "data": p.data, "local": p.local}[dimension]
            if value != str(wanted):
                field = f"parallelism.{dimension}" if dimension else "parallelism (no pipeline stages)"
                yield Finding(f"{name}.args[{i}]", f"{flag} {value!r} in args, but {name}.{field} is {wanted}: "
                              f"vLLM would start {value} where the pod requests {a.stack.gpus_per_pod(role)} "
                              "accelerator(s) for the spec's parallelism")


RULES = (
    Rule("LLMD301", "error", "more accelerators needed than the cluster has",
         "lower decode.replicas or parallelism, or raise cluster.gpus", total_gpus),
    Rule("LLMD302", "error", "tensor parallelism larger than a node",
         "tensor parallelism must fit one node (cluster.gpusPerNode)", per_node),
    Rule("LLMD303", "error", "tensor parallelism does not divide the attention heads",
         "pick a divisor of the model's attention heads", heads),
    Rule("LLMD304", "error", "the model does not fit in accelerator memory",
         "raise decode.parallelism.tensor or use a larger accelerator", memory),
    Rule("LLMD305", "error", "model cache PVC smaller than the weights",
         "raise model.cache.pvc.size", pvc_size),
    Rule("LLMD306", "warning", "model not in the model table",
         "add model.facts or model.config (a local config.json) to enable the checks", unknown_model),
    Rule("LLMD307", "warning", "accelerator not in the accelerator table",
         "use a name from the accelerator table in docs/diagnostics.md", unknown_accelerator),
    Rule("LLMD308", "error", "accelerator vendor does not match the accelerator model",
         "accelerator.vendor must be the accelerator's maker", vendor),
    Rule("LLMD309", "warning", "several replicas share a ReadWriteOnce model cache",
         "use ReadWriteMany (or ReadOnlyMany after the download)", shared_pvc),
    Rule("LLMD310", "error", "accelerator request differs from tensor parallelism",
         "let llmd-compile set the accelerator count from decode.parallelism", gpu_request),
    Rule("LLMD311", "warning", "vLLM image built for another accelerator",
         "use the release's image for accelerator.vendor (`llmd-compile versions`)", image_vendor),
    Rule("LLMD313", "error", "parallelism flags in args disagree with parallelism",
         "set the role's parallelism and drop the flag from args: llmd-compile derives vLLM's parallelism flags and "
         "the accelerator request from it", parallel_args),
    Rule("LLMD312", "warning", "vLLM image of another release",
         "use this release's image (`llmd-compile versions`), or pin `release:` to the image's release", image_release),
)
