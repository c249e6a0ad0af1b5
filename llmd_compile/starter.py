"""`llmd-compile init`: a commented starter spec for the newest release preset, which compiles as written.

Pure: text in, text out (cli.py writes it). The images are the preset's own (catalog/releases.py), so a new release
preset changes the starter without an edit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from llmd_compile.catalog.releases import PRESETS

# What a new user is most likely to run per vendor: the accelerator model the llm-d guides use, and the slice
# topology a TPU stack needs (one v6e host of 8 chips).
_ACCELERATOR = {"nvidia": "H100", "amd": "MI300X", "google": "TPU-v6e", "intel": "Max-1550", "intel-gaudi": "Gaudi3",
                "cpu": "CPU", "simulated": "Simulated"}
_CHIPS = {"google": 8}  # a TPU-v6e 2x4 slice is one pod of 8 chips (tensor 8)
_NO_ACCELERATOR = ("cpu", "simulated")
_MODEL = "Qwen/Qwen3-0.6B"  # small and not gated: the starter runs without a Hugging Face token


@dataclass(frozen=True)
class Starter:
    preset: str
    vendor: str
    provider: str
    name: str = "my-stack"
    namespace: str = "llm-d"
    schema: str = "../schema/stack.schema.json"


def choices() -> tuple[list[str], list[str]]:
    """Every accelerator vendor and gateway provider the spec accepts (the `init` flags' choices)."""
    from llmd_compile.spec.models import Accelerator, Gateway

    return [str(v) for v in get_args(Accelerator.model_fields["vendor"].annotation)], \
        [str(p) for p in get_args(Gateway.model_fields["provider"].annotation)]


def presets() -> list[str]:
    """Every preset a spec's `release:` accepts."""
    from llmd_compile.spec.models import Spec

    return [str(a) for arg in get_args(Spec.model_fields["release"].annotation) for a in get_args(arg)]


def vendors(preset: str) -> list[str]:
    """Accelerator vendors the preset ships a model-server image for (the ones a starter can offer)."""
    return [v for v in _ACCELERATOR if v in PRESETS[preset].vllm_images]


def render(s: Starter) -> str:
    image = PRESETS[s.preset].vllm_images[s.vendor]
    tensor = _CHIPS.get(s.vendor, 1)
    replicas = 2
    lines = [
        f"# yaml-language-server: $schema={s.schema}",
        f"# A starter llm-d stack (`llmd-compile init`, release preset {s.preset}). Decide the fields marked DECIDE,",
        "# then `llmd-compile <this file>` writes out/<metadata.name>/; `llmd-compile lint <this file>` explains every",
        "# check. Every field: README.md \"The spec\" and schema/stack.schema.json.",
        "apiVersion: llmd-compile/v1alpha1",
        "kind: Stack",
        "metadata:",
        f"  name: {s.name}                       # DECIDE: the stack's name (out/<name>/, release names)",
        f"  namespace: {s.namespace}                      # DECIDE: where every object goes",
        f"release: {s.preset}                          # the llm-d release whose charts and images to use "
        "(`llmd-compile versions`)",
        "model:",
        f"  name: {_MODEL}               # DECIDE: the Hugging Face model id",
        "  # A gated model (e.g. meta-llama/...) needs the Secret holding your Hugging Face token:",
        "  # tokenSecret: {name: llm-d-hf-token, key: HF_TOKEN}",
        "accelerator:",
        f"  vendor: {s.vendor}   # DECIDE: nvidia, amd, google, intel, intel-gaudi, cpu, simulated",
        f"  model: {_ACCELERATOR[s.vendor]}                          # DECIDE: the accelerator your nodes have",
    ]
    if s.vendor == "google":
        lines.append("  topology: 2x4                       # the TPU slice per pod (GKE node selectors)")
    if s.vendor not in _NO_ACCELERATOR:
        lines += ["cluster:   # your inventory: the capacity checks compare against it",
                  f"  gpus: {replicas * tensor}   # DECIDE: accelerators in the cluster"]
    lines += [
        "decode:",
        f"  replicas: {replicas}                         # DECIDE: model-server pods",
        "  parallelism:",
        f"    tensor: {tensor}                           # accelerators per pod (vLLM --tensor-parallel-size)",
        f"  image: {image}",
        f"  # ^ release {s.preset}'s model-server image for {s.vendor}; its images for other vendors:",
    ]
    images = PRESETS[s.preset].vllm_images
    lines += [f"  #   {vendor}: {other}" for vendor, other in images.items() if vendor != s.vendor]
    lines += [
        "gateway:",
        f"  provider: {s.provider}                      # DECIDE: istio, kgateway, agentgateway, gke, or none "
        "(no Gateway: picker only)",
        "scheduler:",
        "  scorers: {queue: 1, kvCache: 1, prefixCache: 1}   # how the endpoint picker ranks model servers",
    ]
    if s.provider != "none":
        lines += ["route:", f"  name: {s.name}                       # the HTTPRoute from the Gateway to the pool"]
    lines += [
        "platforms:                            # one kustomize overlay per platform you deploy to",
        "  kubernetes: {}",
        "  # openshift: {storageClassName: ocs-storagecluster-cephfs}",
    ]
    return "\n".join(_align(line) for line in lines) + "\n"


def _align(line: str) -> str:
    """Comments after a value start in one column (38), or one space after a longer value."""
    code, sep, comment = line.partition("   # ") if not line.lstrip().startswith("#") else (line, "", "")
    if not sep:
        return line
    code = code.rstrip()
    return f"{code.ljust(37)} # {comment.strip()}" if len(code) < 37 else f"{code} # {comment.strip()}"
