"""Capacity: GPUs, nodes, attention heads, memory and cache size (LLMD3xx)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmd_compile.catalog.hardware import DTYPE_BYTES, MODELS, ModelFacts, accelerator
from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts, dig

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


def _gpus_per_pod(a: Artifacts) -> int:
    p = a.stack.spec.decode.parallelism
    return p.tensor * p.data


def _utilization(a: Artifacts) -> float:
    args = " ".join(str(x) for x in dig(a.ms, "decode", "containers", 0, "args", default=[]) or [])
    match = re.search(r"--gpu-memory-utilization[= ]([0-9.]+)", args)
    return float(match.group(1)) if match else DEFAULT_UTILIZATION


def total_gpus(a: Artifacts) -> Iterator[Finding]:
    spec = a.stack.spec
    if spec.accelerator.vendor == "cpu" or spec.cluster.gpus is None:
        return
    need = spec.decode.replicas * _gpus_per_pod(a)
    if need > spec.cluster.gpus:
        yield Finding("decode.replicas", f"needs {need} accelerators ({spec.decode.replicas} replicas x "
                      f"{_gpus_per_pod(a)} per pod) but cluster.gpus is {spec.cluster.gpus}")


def per_node(a: Artifacts) -> Iterator[Finding]:
    spec = a.stack.spec
    per_node = spec.cluster.gpusPerNode
    if per_node is not None and spec.decode.parallelism.tensor > per_node:
        yield Finding("decode.parallelism.tensor", f"tensor parallelism {spec.decode.parallelism.tensor} does not "
                      f"fit a node with {per_node} accelerators")


def heads(a: Artifacts) -> Iterator[Finding]:
    facts = model_facts(a)
    tensor = a.stack.spec.decode.parallelism.tensor
    if facts and facts.attention_heads % tensor:
        yield Finding("decode.parallelism.tensor", f"tensor parallelism {tensor} does not divide the model's "
                      f"{facts.attention_heads} attention heads")


def memory(a: Artifacts) -> Iterator[Finding]:
    facts = model_facts(a)
    acc = accelerator(a.stack.spec.accelerator.model)
    if facts is None or acc is None or acc.memory_gib == 0:
        return
    tensor = a.stack.spec.decode.parallelism.tensor
    usable = acc.memory_gib * _utilization(a)
    need = facts.weights_gib / tensor + KV_FLOOR_GIB
    if need > usable:
        yield Finding("decode.parallelism.tensor", f"{facts.weights_gib:.0f} GiB of weights over {tensor} GPU(s) "
                      f"+ {KV_FLOOR_GIB:.0f} GiB KV floor = {need:.0f} GiB per GPU > {usable:.0f} GiB usable on "
                      f"{acc.name} ({acc.memory_gib:.0f} GiB x {_utilization(a)})")


def pvc_size(a: Artifacts) -> Iterator[Finding]:
    facts = model_facts(a)
    pvc = a.stack.spec.model.cache.pvc
    if facts and pvc and gib(pvc.size) < facts.weights_gib * 1.1:
        yield Finding("model.cache.pvc.size", f"{pvc.size} cannot hold {facts.weights_gib:.0f} GiB of weights "
                      "(+10% for tokenizer and metadata)")


def unknown_model(a: Artifacts) -> Iterator[Finding]:
    if model_facts(a) is None:
        yield Finding("model.name", f"{a.stack.spec.model.name} is not in the model table; heads, memory and "
                      "cache-size checks were skipped")


def unknown_accelerator(a: Artifacts) -> Iterator[Finding]:
    if accelerator(a.stack.spec.accelerator.model) is None:
        yield Finding("accelerator.model", f"{a.stack.spec.accelerator.model!r} is not in the accelerator table; "
                      "memory checks were skipped")


def vendor(a: Artifacts) -> Iterator[Finding]:
    acc = accelerator(a.stack.spec.accelerator.model)
    if acc and acc.vendor != a.stack.spec.accelerator.vendor:
        yield Finding("accelerator.vendor", f"{acc.name} is a {acc.vendor} accelerator, not "
                                            f"{a.stack.spec.accelerator.vendor}")


def shared_pvc(a: Artifacts) -> Iterator[Finding]:
    pvc = a.stack.spec.model.cache.pvc
    if pvc and a.stack.spec.decode.replicas > 1 and not {"ReadWriteMany", "ReadOnlyMany"} & set(pvc.accessModes):
        yield Finding("model.cache.pvc.accessModes", f"{a.stack.spec.decode.replicas} replicas share the model "
                      f"cache but {pvc.accessModes} mounts on one node only")


def gpu_request(a: Artifacts) -> Iterator[Finding]:
    resources = dig(a.ms, "decode", "containers", 0, "resources", "limits", default={}) or {}
    gpus = [v for k, v in resources.items() if k.endswith("/gpu") or k.endswith("/tpu")]
    tensor = a.stack.spec.decode.parallelism.tensor
    if gpus and any(str(v) != str(tensor) for v in gpus):
        yield Finding("decode.resources", f"the container requests {gpus[0]} accelerators but tensor parallelism "
                      f"is {tensor}")


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
    Rule("LLMD306", "info", "model not in the model table",
         "add model.facts or model.config (a local config.json) to enable the checks", unknown_model),
    Rule("LLMD307", "warning", "accelerator not in the accelerator table",
         "use a name from the accelerator table in docs/diagnostics.md", unknown_accelerator),
    Rule("LLMD308", "error", "accelerator vendor does not match the accelerator model",
         "accelerator.vendor must be the accelerator's maker", vendor),
    Rule("LLMD309", "warning", "several replicas share a ReadWriteOnce model cache",
         "use ReadWriteMany (or ReadOnlyMany after the download)", shared_pvc),
    Rule("LLMD310", "error", "accelerator request differs from tensor parallelism",
         "let llmd-compile set the accelerator count from decode.parallelism", gpu_request),
)
