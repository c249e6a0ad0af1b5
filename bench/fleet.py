#!/usr/bin/env python3
"""Fleet generator: `python bench/fleet.py N DIR [--seed S]` writes N valid stack specs into DIR.

Deterministic: stack i depends only on (seed, i), so the 10-stack fleet is a prefix of the 100-stack
fleet, which is a prefix of the 1000-stack one. Standard library only (it runs under any Python,
including the Kapitan venv).

What varies per stack: model (and served name), accelerator, decode replicas / tensor and data
parallelism / image / env, gateway provider and Service type, scheduler scorers and weights and
picker, scheduler replicas, route timeouts, platforms (openshift, kubernetes or both, each with a
storageClassName, openshift's exposeRoute), chart versions (a `release:` preset, a preset plus a
chart override, or three explicit pins), PVC size, monitoring, and guidellm settings.

Only combinations the compiler accepts are generated (checked by compiling fleets):
- a scorer is drawn only from those the pinned picker registers: sched-v0.2.1 (seed) has no
  loraAffinity scorer and no weighted-random picker; GAIE's own epp image has no loadAware or
  sessionAffinity scorer;
- pickers before GAIE v1.4.0 / sched v0.7 take integer weights only, so those stacks get integers;
- scorers go with max-score / weighted-random only (random / round-robin ignore them);
- the agentgateway provider only with llm-d-infra v1.4.0 (older infra charts render no agentgateway
  Gateway: an error), kgateway only before it (v1.4.0 renders agentgateway for it: a warning);
- models from the compiler's model table, with a tensor parallelism that divides their attention heads
  and fits the accelerator's memory, cluster.gpus = replicas x tensor x data, and a cache PVC that holds
  the weights; ReadWriteOnce caches only for one replica; no route timeouts on GKE; a picker
  blockSizeTokens other than 16 comes with the same vLLM --block-size; no PodMonitor on GKE; AMD stacks
  run a ROCm image; Istio on llm-d-infra v1.3.0 asks for the ClusterIP Service it gets anyway.
The one warning left on purpose: Istio on OpenShift (specs/h100.yaml has it too).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ALL_SCORERS = ("queue", "kvCache", "prefixCache", "loadAware", "sessionAffinity", "loraAffinity")
ALL_PICKERS = ("max-score", "random", "round-robin", "weighted-random")
SCHED = "ghcr.io/llm-d/llm-d-inference-scheduler"


@dataclass(frozen=True)
class Profile:
    """One version set: how a stack pins its charts, and what its picker accepts."""

    key: str
    release: str | None
    charts: dict[str, str]
    scheduler_image: str
    vllm_images: tuple[str, ...]
    scorers: tuple[str, ...]
    pickers: tuple[str, ...]
    integer_weights: bool

    @property
    def infra(self) -> str:
        return self.charts.get("infra") or {"seed": "v1.3.0", "v0.3.0": "v1.3.3", "v0.4.0": "v1.3.4",
                                            "v0.6": "v1.4.0"}.get(self.release or "", "")

    @property
    def router(self) -> bool:
        """llm-d v0.8+: the router chart + kustomize model servers (no llm-d-infra, no guidellm Job)."""
        return self.release in ("v0.8", "v0.9")

    @property
    def providers(self) -> tuple[str, ...]:
        if self.router:  # the v0.9 gateway recipes (kgateway's is deprecated: a warning)
            return ("istio", "agentgateway", "gke")
        infra = self.infra
        # llm-d-infra v1.4.0 renders agentgateway for kgateway (a warning); older ones know no agentgateway.
        drop = "kgateway" if infra == "v1.4.0" else "agentgateway"
        return tuple(p for p in PROVIDERS if p != drop)


NO_LORA = tuple(s for s in ALL_SCORERS if s != "loraAffinity")
GAIE_SCORERS = ("queue", "kvCache", "prefixCache", "loraAffinity")

PROFILES: tuple[Profile, ...] = (
    Profile("seed", "seed", {}, f"{SCHED}:v0.2.1", ("ghcr.io/llm-d/llm-d-dev:pr-170",),
            NO_LORA, ("max-score", "random", "round-robin"), True),
    Profile("seed-pinned", None, {"infra": "v1.3.0", "inferencepool": "v0.5.1", "modelservice": "v0.2.7"},
            f"{SCHED}:v0.2.1", ("ghcr.io/llm-d/llm-d-dev:pr-170", "ghcr.io/llm-d/llm-d:v0.2.0"),
            NO_LORA, ("max-score", "random", "round-robin"), True),
    Profile("v0.3.0", "v0.3.0", {}, f"{SCHED}:v0.3.2", ("ghcr.io/llm-d/llm-d-cuda:v0.3.0",),
            ALL_SCORERS, ALL_PICKERS, True),
    Profile("v0.3.0-ms", "v0.3.0", {"modelservice": "v0.2.9"}, f"{SCHED}:v0.3.2",
            ("ghcr.io/llm-d/llm-d-cuda:v0.3.0",), ALL_SCORERS, ALL_PICKERS, True),
    Profile("v0.4.0", "v0.4.0", {}, f"{SCHED}:v0.4.0-rc.1", ("ghcr.io/llm-d/llm-d-cuda:v0.3.1",),
            ALL_SCORERS, ALL_PICKERS, True),
    Profile("v0.6", "v0.6", {}, f"{SCHED}:v0.7.0", ("ghcr.io/llm-d/llm-d-cuda:v0.6.0",),
            ALL_SCORERS, ALL_PICKERS, False),
    Profile("v0.6-ms", "v0.6", {"modelservice": "v0.4.12"}, f"{SCHED}:v0.7.0",
            ("ghcr.io/llm-d/llm-d-cuda:v0.6.0",), ALL_SCORERS, ALL_PICKERS, False),
    Profile("pinned-1.3", None, {"infra": "v1.3.10", "inferencepool": "v1.3.0", "modelservice": "v0.4.5"},
            f"{SCHED}:v0.6.0", ("ghcr.io/llm-d/llm-d-cuda:v0.4.0", "vllm/vllm-openai:v0.10.2"),
            ALL_SCORERS, ALL_PICKERS, True),
    Profile("pinned-1.5", None, {"infra": "v1.4.0", "inferencepool": "v1.5.0", "modelservice": "v0.4.12"},
            f"{SCHED}:v0.8.0", ("ghcr.io/llm-d/llm-d-cuda:v0.6.0", "vllm/vllm-openai:v0.11.0"),
            ALL_SCORERS, ALL_PICKERS, False),
    Profile("gaie-epp", None, {"infra": "v1.3.6", "inferencepool": "v1.2.0", "modelservice": "v0.3.8"},
            "registry.k8s.io/gateway-api-inference-extension/epp:v1.2.0",
            ("ghcr.io/llm-d/llm-d-cuda:v0.3.1",), GAIE_SCORERS, ALL_PICKERS, True),
)

# The router shape (llm-d v0.9): a fleet of its own (`--release v0.9`), so the default fleet stays the one
# BENCHMARKS.md measured.
ROUTER_PROFILES: tuple[Profile, ...] = (
    Profile("v0.9", "v0.9", {}, "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0",
            ("docker.io/vllm/vllm-openai:v0.26.0",), ALL_SCORERS, ALL_PICKERS, False),
)

# (HF model, tensor-parallel choices, smallest PVC that holds its weights + 10%): models in the compiler's
# model table, so its capacity checks (heads, memory, cache size) run, and pass, on every stack.
MODELS: tuple[tuple[str, tuple[int, ...], str], ...] = (
    ("meta-llama/Llama-3.1-8B-Instruct", (1, 2), "50Gi"),
    ("meta-llama/Llama-3.3-70B-Instruct", (4, 8), "200Gi"),
    ("meta-llama/Llama-3.1-70B-Instruct", (4, 8), "200Gi"),
    ("RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic", (2, 4), "100Gi"),
    ("Qwen/Qwen3-0.6B", (1,), "50Gi"),
    ("Qwen/Qwen3-8B", (1, 2), "50Gi"),
    ("Qwen/Qwen3-32B", (2, 4), "100Gi"),
    ("Qwen/Qwen3-30B-A3B", (2, 4), "100Gi"),
    ("mistralai/Mistral-7B-Instruct-v0.3", (1,), "50Gi"),
    ("openai/gpt-oss-20b", (1, 2), "50Gi"),
    ("openai/gpt-oss-120b", (4, 8), "100Gi"),
)
ACCELERATORS = (("nvidia", "H100"), ("nvidia", "H200"), ("nvidia", "A100"), ("nvidia", "L40S"),
                ("amd", "MI300X"))
PROVIDERS = ("istio", "kgateway", "agentgateway", "gke")
SERVICE_TYPES = ("ClusterIP", "LoadBalancer", "NodePort")
OPENSHIFT_SC = ("ocs-storagecluster-cephfs", "ocs-storagecluster-ceph-rbd", "gp3-csi")
KUBERNETES_SC = ("standard", "standard-rwx", "premium-rwo", "gp3", "longhorn")
TEAMS = ("search", "chat", "agents", "coding", "eval", "platform", "research", "batch")
TIMEOUTS = ("0s", "300s", "10m", "1h")
PVC_SIZES = ("50Gi", "100Gi", "200Gi", "400Gi", "1Ti")
BLOCK_SIZES = (16, 16, 32, 64)


def _slug(model: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", model.split("/")[1].lower()).strip("-")


def _weight(rng: random.Random, integer: bool) -> int | float:
    if integer:
        return rng.randint(1, 5)
    return rng.choice((0.5, 1.0, 1.5, 2.0, 2.5, 3.0))


def stack(seed: int, i: int, profiles: tuple[Profile, ...] = PROFILES) -> dict:
    """The spec of stack i (plain data, in the key order of specs/h100.yaml)."""
    rng = random.Random(f"llmd-fleet:{seed}:{i}")
    profile = profiles[rng.randrange(len(profiles))]
    model, tps, min_pvc = MODELS[rng.randrange(len(MODELS))]
    vendor, accel = ACCELERATORS[rng.randrange(len(ACCELERATORS))]
    tensor = rng.choice(tps)
    data = rng.choice((1, 1, 1, 2))
    replicas = rng.choice((1, 2, 2, 4, 4, 8, 16))
    team = rng.choice(TEAMS)
    name = f"{team}-{_slug(model)}"[:33].rstrip("-") + f"-{i:05d}"
    provider = rng.choice(profile.providers)

    spec: dict = {
        "apiVersion": "llmd-compile/v1alpha1",
        "kind": "Stack",
        # Router shape: the Gateway recipe is per namespace and routes without a header match collide across
        # stacks behind one Gateway (the cross-stack check), so each stack gets its namespace (as the guides do).
        "metadata": {"name": name, "namespace": f"llm-d-{team}-{i:05d}" if profile.router else f"llm-d-{team}"},
    }
    if profile.release:
        spec["release"] = profile.release
    if profile.charts:
        spec["charts"] = dict(profile.charts)
    model_block: dict = {"name": model}
    if rng.random() < 0.3:
        model_block["servedName"] = _slug(model)
    model_block["tokenSecret"] = {"name": "llm-d-hf-token", "key": "HF_TOKEN"}
    model_block["cache"] = {"pvc": {
        "name": f"{_slug(model)}-cache"[:60],
        "size": rng.choice(PVC_SIZES[PVC_SIZES.index(min_pvc):]),
        # several replicas share the cache: ReadWriteOnce only for a single replica
        "accessModes": [rng.choice(("ReadWriteMany", "ReadWriteMany", "ReadWriteOnce") if replicas == 1
                                   else ("ReadWriteMany",))],
    }}
    spec["model"] = model_block
    spec["accelerator"] = {"vendor": vendor, "model": accel}
    spec["cluster"] = {"gpus": replicas * tensor * data}

    decode: dict = {"replicas": replicas, "parallelism": {"tensor": tensor}}
    if data > 1:
        decode["parallelism"]["data"] = data
    image = rng.choice(profile.vllm_images)
    if vendor == "amd":  # the vendor's own image (LLMD311 warns about another vendor's)
        rocm = "docker.io/vllm/vllm-openai-rocm:v0.26.0" if profile.router else "ghcr.io/llm-d/llm-d-rocm:v0.6.0"
        image = image.replace("llm-d-cuda", "llm-d-rocm") if "llm-d-cuda" in image else rocm
    decode["image"] = image
    args: list[str] = []
    if rng.random() < 0.4:
        args = ["--max-model-len", str(rng.choice((8192, 16384, 32768))),
                "--gpu-memory-utilization", rng.choice(("0.85", "0.9", "0.95"))]
    if rng.random() < 0.3:
        decode["env"] = {"VLLM_LOGGING_LEVEL": rng.choice(("INFO", "DEBUG")),
                         "VLLM_USE_V1": "1"}
    spec["decode"] = decode  # args are added below, with the scheduler's block size

    service_type = rng.choice(SERVICE_TYPES)
    if provider == "istio" and profile.infra == "v1.3.0":  # its Istio Gateway is ClusterIP whatever is asked (LLMD413)
        service_type = "ClusterIP"
    spec["gateway"] = {"provider": provider, "service": {"type": service_type}}

    picker = rng.choice(profile.pickers)
    scheduler: dict = {"image": profile.scheduler_image}
    if rng.random() < 0.25:
        scheduler["replicas"] = rng.choice((2, 3))
    if picker in ("max-score", "weighted-random"):
        count = rng.randint(1, min(4, len(profile.scorers)))
        chosen = sorted(rng.sample(profile.scorers, count), key=ALL_SCORERS.index)
        scheduler["scorers"] = {s: _weight(rng, profile.integer_weights) for s in chosen}
    scheduler["picker"] = picker
    if "prefixCache" in scheduler.get("scorers", {}) and rng.random() < 0.5:
        tokens = rng.choice(BLOCK_SIZES)
        scheduler["prefixCache"] = {"blockSize": rng.choice((16, 64, 128)), "blockSizeTokens": tokens}
        if tokens != 16:  # the picker's token blocks must be vLLM's (--block-size, default 16)
            args += ["--block-size", str(tokens)]
    if args:
        decode["args"] = args
    spec["scheduler"] = scheduler

    spec["route"] = {"name": name}
    if provider != "gke":  # GKE gateways reject route timeouts
        timeout = rng.choice(TIMEOUTS)
        spec["route"]["timeouts"] = {"request": timeout, "backendRequest": timeout}

    which = rng.choice(("openshift", "kubernetes", "both", "both"))
    platforms: dict = {}
    if which in ("openshift", "both"):
        platforms["openshift"] = {"storageClassName": rng.choice(OPENSHIFT_SC)}
        if rng.random() < 0.25:
            platforms["openshift"]["exposeRoute"] = False
    if which in ("kubernetes", "both"):
        platforms["kubernetes"] = {"storageClassName": rng.choice(KUBERNETES_SC)}
    spec["platforms"] = platforms

    # GKE scrapes with Managed Prometheus: no PodMonitor there (LLMD411).
    spec["monitoring"] = {"podMonitor": {"enabled": provider != "gke" and rng.random() < 0.7,
                                         "interval": rng.choice(("15s", "30s", "60s"))}}
    if profile.router:  # the router shape generates no guidellm Job
        spec["gitops"] = {"argocd": {"repoURL": "https://github.com/example/llm-d-gitops.git",
                                     "targetRevision": rng.choice(("main", "HEAD", "release-1"))}}
        return spec
    spec["benchmark"] = {"guidellm": {
        "turns": rng.randint(1, 5),
        "users": rng.choice((1, 4, 16, 64)),
        "duration": rng.choice(("60s", "120s", "300s")),
        "promptTokens": rng.choice((128, 256, 1024)),
        "outputTokens": rng.choice((128, 256, 512)),
    }}
    spec["gitops"] = {"argocd": {"repoURL": "https://github.com/example/llm-d-gitops.git",
                                 "targetRevision": rng.choice(("main", "HEAD", "release-1"))}}
    return spec


_PLAIN = re.compile(r"^[A-Za-z][-A-Za-z0-9_./:]*$")
_RESERVED = {"y", "yes", "n", "no", "true", "false", "on", "off", "null"}


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text)


def to_yaml(value: object, indent: str = "") -> list[str]:
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines.append(f"{indent}{key}:")
                lines.extend(to_yaml(item, indent + "  "))
            elif isinstance(item, list) and item:
                if all(not isinstance(x, (dict, list)) for x in item):
                    lines.append(f"{indent}{key}: [{', '.join(_scalar(x) for x in item)}]")
                else:
                    lines.append(f"{indent}{key}:")
                    lines.extend(to_yaml(item, indent + "  "))
            else:
                lines.append(f"{indent}{key}: {_scalar(item) if item not in ({}, []) else json.dumps(item)}")
    else:
        for item in value:  # type: ignore[union-attr]
            sub = to_yaml(item, indent + "  ")
            lines.append(f"{indent}- {sub[0].lstrip()}")
            lines.extend(sub[1:])
    return lines


def write_fleet(n: int, out: Path, seed: int = 0, release: str | None = None) -> list[Path]:
    """`release` "v0.9": the router-shape fleet (ROUTER_PROFILES) instead of the default mix."""
    profiles = ROUTER_PROFILES if release == "v0.9" else PROFILES
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        spec = stack(seed, i, profiles)
        path = out / f"{spec['metadata']['name']}.yaml"
        text = f"# bench/fleet.py stack {i} (seed {seed})\n" + "\n".join(to_yaml(spec)) + "\n"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of stacks")
    parser.add_argument("dir", type=Path, help="directory to write the specs into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--release", choices=("v0.9",), help="a fleet of router-shape (llm-d v0.9) stacks")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be >= 0")
    paths = write_fleet(args.n, args.dir, args.seed, args.release)
    print(f"wrote {len(paths)} specs to {args.dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
