"""Accelerators and common models: the facts capacity checks need. Never fetched at compile time.

Accelerator memory is the vendor's published per-device HBM/GDDR capacity. Model facts are from
each model's Hugging Face config.json and model card (parameter count, weight dtype, attention
heads, whether the repository is gated). Models not listed here can be described with
`model.config` (a local config.json) or `model.facts` in the spec.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Accelerator:
    name: str
    vendor: str
    memory_gib: float


@dataclass(frozen=True)
class ModelFacts:
    parameters: float  # count
    bytes_per_param: float  # 2 for bf16/fp16, 1 for fp8/int8, ~0.53 for mxfp4
    attention_heads: int
    gated: bool

    @property
    def weights_gib(self) -> float:
        return self.parameters * self.bytes_per_param / 2**30


ACCELERATORS: Mapping[str, Accelerator] = MappingProxyType({a.name: a for a in (
    Accelerator("H100", "nvidia", 80),
    Accelerator("H200", "nvidia", 141),
    Accelerator("B200", "nvidia", 180),
    Accelerator("A100", "nvidia", 80),
    Accelerator("A100-40GB", "nvidia", 40),
    Accelerator("L40S", "nvidia", 48),
    Accelerator("L4", "nvidia", 24),
    Accelerator("A10G", "nvidia", 24),
    Accelerator("MI300X", "amd", 192),
    Accelerator("MI325X", "amd", 256),
    Accelerator("MI250X", "amd", 128),
    Accelerator("TPU-v5e", "google", 16),
    Accelerator("TPU-v6e", "google", 32),
    Accelerator("TPU-v5p", "google", 95),
    # Gaudi HPUs are their own accelerator type in the charts (intel-gaudi, habana.ai/gaudi; CATALOG §b.2).
    Accelerator("Gaudi2", "intel-gaudi", 96),
    Accelerator("Gaudi3", "intel-gaudi", 128),
    Accelerator("Max-1550", "intel", 128),
    Accelerator("CPU", "cpu", 0),
    # llm-d-inference-sim pods: no accelerator, no memory to check.
    Accelerator("Simulated", "simulated", 0),
)})

DTYPE_BYTES: Mapping[str, float] = MappingProxyType({
    "float32": 4, "bfloat16": 2, "float16": 2, "fp8": 1, "int8": 1, "int4": 0.5, "mxfp4": 0.53,
})

MODELS: Mapping[str, ModelFacts] = MappingProxyType({
    "meta-llama/Llama-3.1-8B-Instruct": ModelFacts(8.03e9, 2, 32, gated=True),
    "meta-llama/Llama-3.1-8B": ModelFacts(8.03e9, 2, 32, gated=True),
    "meta-llama/Llama-3.1-70B-Instruct": ModelFacts(70.6e9, 2, 64, gated=True),
    "meta-llama/Llama-3.1-70B": ModelFacts(70.6e9, 2, 64, gated=True),
    "meta-llama/Llama-3.3-70B-Instruct": ModelFacts(70.6e9, 2, 64, gated=True),
    "meta-llama/Llama-3.2-3B-Instruct": ModelFacts(3.21e9, 2, 24, gated=True),
    "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic": ModelFacts(70.6e9, 1, 64, gated=False),
    "Qwen/Qwen3-0.6B": ModelFacts(0.75e9, 2, 16, gated=False),
    "Qwen/Qwen3-8B": ModelFacts(8.2e9, 2, 32, gated=False),
    "Qwen/Qwen3-32B": ModelFacts(32.8e9, 2, 64, gated=False),
    "Qwen/Qwen3-30B-A3B": ModelFacts(30.5e9, 2, 32, gated=False),
    "openai/gpt-oss-20b": ModelFacts(21e9, 0.6, 64, gated=False),
    "openai/gpt-oss-120b": ModelFacts(117e9, 0.55, 64, gated=False),
    "deepseek-ai/DeepSeek-R1": ModelFacts(671e9, 1, 128, gated=False),
    "deepseek-ai/DeepSeek-R1-0528": ModelFacts(671e9, 1, 128, gated=False),
    "mistralai/Mistral-7B-Instruct-v0.3": ModelFacts(7.25e9, 2, 32, gated=True),
})


def facts_from_config(config: Mapping[str, Any]) -> ModelFacts:
    """Estimate a model's size from a Hugging Face config.json (dense decoder transformer)."""
    hidden = int(config["hidden_size"])
    layers = int(config["num_hidden_layers"])
    heads = int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads", heads))
    intermediate = int(config.get("intermediate_size", 4 * hidden))
    vocab = int(config.get("vocab_size", 32000))
    head_dim = int(config.get("head_dim", hidden // heads))
    attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2
    mlp = 3 * hidden * intermediate
    experts = int(config.get("num_local_experts", config.get("num_experts", 1)) or 1)
    embeddings = vocab * hidden * (1 if config.get("tie_word_embeddings") else 2)
    parameters = float(layers * (attention + mlp * experts) + embeddings)
    dtype = str(config.get("torch_dtype", "bfloat16"))
    quant = config.get("quantization_config") or {}
    method = str(quant.get("quant_method", "")) if isinstance(quant, Mapping) else ""
    bytes_per_param = DTYPE_BYTES.get("fp8" if method == "fp8" else "mxfp4" if method == "mxfp4" else dtype, 2)
    if not math.isfinite(parameters) or parameters <= 0:
        raise ValueError("config.json gives no positive parameter estimate")
    return ModelFacts(parameters, bytes_per_param, heads, gated=False)


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


# Words in common spellings of an accelerator that do not tell two table entries apart: the maker and product line
# (the GPU feature discovery label `nvidia.com/gpu.product` reads e.g. NVIDIA-H100-80GB-HBM3) and the form factor.
_NOISE = re.compile(r"^(nvidia|amd|instinct|intel|habana|google|cloud|tesla|datacenter|gpu|sxm\d?|pcie|nvl|hbm\d?e?"
                    r"|oam)$")
_MEMORY = re.compile(r"^(\d+)gb?$")


def accelerator(name: str) -> Accelerator | None:
    """Look up an accelerator by a loose name: 'H100', 'h100', 'TPU v6e', 'v6e', 'mi300x', and common spellings
    that add the maker, the form factor or the table's own memory size: 'A100-80GB', 'NVIDIA-H100-80GB-HBM3',
    'H100 SXM5' (a memory size the table does not have, 'H100-94GB', is not the table's H100)."""
    wanted = _norm(name)
    for key, acc in ACCELERATORS.items():
        if _norm(key) in (wanted, "tpu" + wanted):
            return acc
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w and not _NOISE.match(w)]
    sizes = [int(m[1]) for w in words if (m := _MEMORY.match(w))]
    core = "".join(w for w in words if not _MEMORY.match(w))
    for key, acc in ACCELERATORS.items():
        if core and _norm(key) in (core, "tpu" + core) and all(size == acc.memory_gib for size in sizes):
            return acc
    return None


def near(name: str) -> str | None:
    """The table's accelerator closest to an unknown name ('A100-94GB' -> 'A100'), if one is close."""
    import difflib

    by_norm = {_norm(key): key for key in ACCELERATORS}
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w and not _NOISE.match(w) and not _MEMORY.match(w)]
    for candidate in ("".join(words), _norm(name)):
        match = difflib.get_close_matches(candidate, list(by_norm), n=1, cutoff=0.6)
        if match:
            return by_norm[match[0]]
    return None
