"""Valid stack specs across the whole spec space, as plain data, drawn through a `Chooser`.

One generator serves two masters: hypothesis (`specs()`, shrinkable) and a seeded `random.Random`
(`fleet()`, for the fault tests' large fleets). Every choice is read from the catalog (chart versions,
release presets, picker registries, accelerators, models), so a new version or preset is covered
without touching this file. Only specs the compiler must accept are produced: version combinations
that catalog.compat refuses are never drawn (tests/conformance/test_version_matrix.py checks that
partition independently), and capacity facts (heads, memory, PVC size, GPU count) are respected so no
error diagnostic fires. Warnings may fire (kgateway on llm-d-infra v1.4.0, Istio on OpenShift, ...).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, get_args

from hypothesis import strategies as st

from llmd_compile import yamlio
from llmd_compile.catalog import charts, compat
from llmd_compile.catalog.hardware import ACCELERATORS, DTYPE_BYTES, MODELS
from llmd_compile.catalog.plugins import PICKERS, PickerVersion, picker_for_image
from llmd_compile.emit.epp import PICKER_TYPES, SCORER_TYPES
from llmd_compile.spec.models import Accelerator, ArgoCD, Role, Scorers, Spec

try:  # the well-lit paths beyond inference scheduling (P/D disaggregation, precise prefix cache)
    from llmd_compile.catalog import paths
except ImportError:  # pragma: no cover - a tree without them
    paths = None  # type: ignore[assignment]

T = TypeVar("T")

PICKER_IMAGES = {"sched": "ghcr.io/llm-d/llm-d-inference-scheduler",
                 "gaie": "registry.k8s.io/gateway-api-inference-extension/epp",
                 "router": "ghcr.io/llm-d/llm-d-router-endpoint-picker"}
PINNED = "pinned"  # the version branch without a release preset: three chart pins
BRANCHES = (*charts.RELEASES, PINNED)
# Strings YAML 1.1 (Helm) or YAML 1.2 (Kubernetes) would read as something else unless quoted.
YAML_TRAPS = ("on", "off", "yes", "no", "y", "n", "true", "False", "null", "~", "0755", "0o17", "0x1F", "1e3",
              "1_000", ".inf", "-.NaN", "12:30:00", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "+12", "=",
              "<<", "", " leading", "trailing ", "a: b", "- x", "#hash", "*star", "&amp", "!bang", "%pct",
              "@at", "`tick`", "{x}", "[x]", "multi\nline", "tab\there", "quote\"d", "back\\slash", "ünï",
              "emoji-\U0001f680")
VLLM_IMAGES = ("ghcr.io/llm-d/llm-d-dev:pr-170", "ghcr.io/llm-d/llm-d-cuda:v0.6.0", "vllm/vllm-openai:v0.11.0",
               "quay.io/example/vllm@sha256:" + "a" * 64)
SIZES_GI = (20, 50, 100, 200, 400, 800, 1600)
VENDORS = frozenset(get_args(Accelerator.model_fields["vendor"].annotation))


class Chooser(Protocol):
    def one(self, options: Sequence[T]) -> T: ...
    def integer(self, low: int, high: int) -> int: ...
    def chance(self, percent: int) -> bool: ...


class RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def one(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def chance(self, percent: int) -> bool:
        return self.rng.randrange(100) < percent


class DrawChooser:
    """Choices through hypothesis, so failing specs shrink towards the first option of every choice."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self.draw = draw

    def one(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(list(options)))  # type: ignore[no-any-return]

    def integer(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))  # type: ignore[no-any-return]

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < percent  # type: ignore[no-any-return]


def decode_fields() -> dict[str, Any]:
    return dict(Role.model_fields)


def _dns_label(c: Chooser, max_len: int) -> str:
    words = ("llm", "d", "prod", "eu", "west", "a1", "chat", "0", "x" * 20, "inference", "scheduling", "team-7")
    name = "-".join(c.one(words) for _ in range(c.integer(1, 4)))
    return name[:max_len].strip("-") or "a"


def _pool_picker_clash(pool: charts.PoolChart, picker: PickerVersion) -> bool:
    v1_api = picker.family == "router" or picker.gaie_base != "v0.5.1"
    return v1_api != pool.passes_pool_group


def _image_for(picker: PickerVersion) -> str:
    return f"{PICKER_IMAGES[picker.family]}:{picker.tag}"


def _versions(c: Chooser, branch: str) -> tuple[dict[str, Any], PickerVersion, dict[str, str]]:
    """release/charts/scheduler-image part of the spec, the picker it runs, and the resolved chart versions."""
    out: dict[str, Any] = {}
    if branch == PINNED:
        pins = {"infra": c.one(list(charts.INFRA)), "inferencepool": c.one(list(charts.POOL)),
                "modelservice": c.one(list(charts.MODELSERVICE))}
        out["charts"] = dict(pins)
        default_image = None
    else:
        preset = charts.RELEASES[branch]
        out["release"] = branch
        pins = {"infra": preset.infra, "inferencepool": preset.inferencepool, "modelservice": preset.modelservice}
        overrides = {}
        tables = (("infra", charts.INFRA), ("inferencepool", charts.POOL), ("modelservice", charts.MODELSERVICE))
        for chart, table in tables:
            if c.chance(15):
                overrides[chart] = c.one(list(table))
        if overrides:
            out["charts"] = overrides
            pins.update(overrides)
        default_image = preset.scheduler_image
    pool = charts.POOL[pins["inferencepool"]]
    compatible = [p for p in PICKERS.values() if not _pool_picker_clash(pool, p)]
    sched: dict[str, str] = {}
    if default_image and not _pool_picker_clash(pool, picker_for_image(default_image)) and c.chance(60):
        picker = picker_for_image(default_image)
    else:
        picker = c.one(compatible)
        if c.chance(15):  # a dev build whose tag says nothing: the version comes from scheduler.version
            sched = {"image": f"{PICKER_IMAGES[picker.family]}:dev-{c.integer(1, 999)}", "version": picker.name}
        else:
            sched = {"image": _image_for(picker)}
    out["scheduler"] = sched
    return out, picker, pins


def _model_and_hardware(c: Chooser, ms: charts.ModelServiceChart) -> dict[str, Any]:
    # simulated (llm-d-inference-sim pods, no accelerator) runs under every modelservice chart
    vendor = c.one(sorted({v for v in ms.accelerator_types if v in VENDORS} | (VENDORS & {"simulated"})))
    accelerators = [a for a in ACCELERATORS.values() if a.vendor == vendor]
    if vendor == "simulated":
        acc_name, memory = "Simulated", 0.0
    elif vendor != "cpu" and (c.chance(10) or not accelerators):
        acc_name, memory = c.one(("Some-Future-GPU", "x1")), 0.0  # not in the table: a warning, checks skipped
    else:
        acc = c.one(accelerators)
        acc_name, memory = acc.name, acc.memory_gib
    choices = []
    for name, facts in MODELS.items():
        tensors = [t for t in (1, 2, 4, 8) if facts.attention_heads % t == 0
                   and (memory == 0 or facts.weights_gib / t + 2.0 <= memory * 0.9)]
        if tensors:
            choices.append((name, facts, tensors))
    model: dict[str, Any]
    if c.chance(15):  # a model the catalog lacks, described by model.facts
        heads = c.one((8, 16, 32, 64))
        params = c.one((0.5e9, 1.0e9, 3.0e9))
        dtype = c.one(list(DTYPE_BYTES))
        weights = params * DTYPE_BYTES[dtype] / 2**30
        tensors = [t for t in (1, 2, 4, 8) if heads % t == 0 and (memory == 0 or weights / t + 2.0 <= memory * 0.9)]
        model = {"name": f"example-org/{_dns_label(c, 30)}", "facts": {
            "parameters": params, "dtype": dtype, "attentionHeads": heads, "gated": c.chance(30)}}
        gated = model["facts"]["gated"]
    else:
        name, facts, tensors = c.one(choices)
        model = {"name": name}
        weights, gated = facts.weights_gib, facts.gated
    tensor = 1 if vendor == "simulated" else c.one(tensors) if vendor != "cpu" else c.one((1, 2))
    data = c.one((1, 1, 2))
    replicas = c.integer(0, 8)
    if c.chance(30):
        model["servedName"] = c.one(("llama", "model-a", "served/name.v1", "on", "0755"))
    if gated or c.chance(50):
        model["tokenSecret"] = {"name": c.one(("llm-d-hf-token", "hf.token-2")), "key": "HF_TOKEN"}
    if c.chance(70):
        size = next(s for s in SIZES_GI if s >= math.ceil(weights * 1.1) + 1)
        pvc: dict[str, Any] = {"name": c.one(("model-cache", "llama-model-storage", "cache.v2")),
                               "size": f"{c.one([s for s in SIZES_GI if s >= size])}Gi"}
        modes = ["ReadWriteMany"] if replicas > 1 else [c.one(("ReadWriteMany", "ReadWriteOnce", "ReadOnlyMany"))]
        if c.chance(60):
            pvc["accessModes"] = modes
        if c.chance(30):
            pvc["path"] = c.one(("models/llama", "hub", "a/b/c"))
        model["cache"] = {"pvc": pvc}
    elif c.chance(50):
        model["cache"] = {"emptyDirSize": c.one(("20Gi", "100Gi", "1Ti"))}
    cluster: dict[str, int] = {}
    if c.chance(60):
        cluster["gpus"] = max(1, replicas * tensor * data) + c.integer(0, 8)
    if c.chance(40):
        cluster["gpusPerNode"] = tensor * c.one((1, 2))
    if c.chance(30):
        cluster["nodes"] = c.integer(1, 64)
    decode: dict[str, Any] = {"replicas": replicas, "parallelism": {"tensor": tensor}, "image": c.one(VLLM_IMAGES)}
    if data > 1:
        decode["parallelism"]["data"] = data
    accelerator: dict[str, Any] = {"vendor": vendor, "model": acc_name}
    if vendor == "google" and "topology" in Accelerator.model_fields and c.chance(30):
        accelerator["topology"] = c.one(("2x2", "2x4", "4x4x4"))
    if "nodeAffinity" in Accelerator.model_fields and c.chance(20):
        accelerator["nodeAffinity"] = {"labelKey": c.one(("node.kubernetes.io/instance-type", "gpu-type")),
                                       "labelValues": [c.one(("a3-highgpu-8g", "H100_80GB", "on"))]}
    if "shmSize" in decode_fields() and c.chance(20):
        decode["shmSize"] = c.one(("1Gi", "64Gi", None))
    spec = {"model": model, "accelerator": accelerator, "decode": decode,
            "_tensors": [1] if vendor == "simulated" else tensors}
    if cluster:
        spec["cluster"] = cluster
    return spec


def _precise(c: Chooser, picker: PickerVersion, pool: charts.PoolChart, branch: str, sched: dict[str, Any]) -> None:
    """Precise prefix-cache scoring (the picker indexes vLLM's KV events), where the picker has it."""
    found = paths.precise(picker) if paths is not None else None
    if found is None or "precisePrefixCache" not in Scorers.model_fields or not c.chance(25):
        return
    if found.scorer == "prefix-cache-scorer" and "prefixCache" in sched.get("scorers", {}):
        return  # sched-v0.2.1: approximate and precise are one plugin type, one or the other
    sched.setdefault("scorers", {})["precisePrefixCache"] = c.integer(1, 5)
    tuning: dict[str, Any] = {"blockSize": c.one((16, 64)), "hashSeed": c.one(("42", "0", "1234567890"))}
    if found.discover_pods and c.chance(50):
        tuning["kvEvents"] = {"discovery": "pods"}
    elif c.chance(30):
        tuning["kvEvents"] = {"discovery": "service", "port": c.one((5557, 6000)), "concurrency": c.integer(1, 8)}
    uds_image = getattr(charts.RELEASES.get(branch), "uds_tokenizer_image", None)
    if found.tokenizer and pool.has_sidecar and uds_image and c.chance(50):
        tuning["tokenizer"] = "uds"
    sched["precisePrefixCache"] = tuning
    # One block size for vLLM (--block-size), the indexer and the approximate scorer's token blocks.
    written = sched.get("prefixCache", {}).get("blockSizeTokens")
    if written is not None:
        tuning["blockSize"] = written
    elif "prefixCache" in sched["scorers"]:
        sched["prefixCache"] = {"blockSizeTokens": tuning["blockSize"]}


def _disaggregation(c: Chooser, picker: PickerVersion, spec: dict[str, Any]) -> None:
    """Prefill/decode disaggregation: prefill pods, the KV transfer (maybe over RDMA), the decider."""
    sched, decode = spec["scheduler"], spec["decode"]
    if paths is None or "prefill" not in Spec.model_fields or paths.disagg(picker) is None:
        return
    if "endpointPickerConfig" in sched or decode.get("sidecar", {}).get("enabled") is False or not c.chance(30):
        return
    tensor = c.one(spec.pop("_tensors"))
    replicas = c.integer(1, 4)
    spec["prefill"] = {"replicas": replicas, "parallelism": {"tensor": tensor}, "image": decode["image"]}
    if "gpus" in spec.get("cluster", {}):
        spec["cluster"]["gpus"] += replicas * tensor
    if "gpusPerNode" in spec.get("cluster", {}):
        spec["cluster"]["gpusPerNode"] = max(spec["cluster"]["gpusPerNode"], tensor)
    transfer: dict[str, Any] = {}
    if c.chance(30):
        transfer["port"] = c.one((5600, 5700))
    if c.chance(40):  # the one privilege a path may ask for: an RDMA device per model pod
        transfer["rdma"] = {"resource": c.one(("rdma/ib", "rdma/roce_gdr")), "count": c.integer(1, 2)}
    if transfer:
        spec["kvTransfer"] = transfer
    if decode.get("args"):  # the same vLLM flags (--block-size above all: the transfer moves whole blocks)
        spec["prefill"]["args"] = list(decode["args"])
    if "prefixCache" not in sched.get("scorers", {}):  # the prefix decider (the default) reads that scorer
        sched["disaggregation"] = {"decider": "always"}
    elif c.chance(60):
        sched["disaggregation"] = {"decider": c.one(("prefix", "always")), "nonCachedTokens": c.one((0, 16, 256))}


def _scheduler(c: Chooser, picker: PickerVersion, sched: dict[str, Any], decode: dict[str, Any]) -> None:
    if c.chance(10):  # the escape hatch: a whole EndpointPickerConfig (types every picker registers)
        sched["endpointPickerConfig"] = {
            "plugins": [{"type": "single-profile-handler"}, {"type": "queue-scorer"}, {"type": "max-score-picker"}],
            "schedulingProfiles": [{"name": "default", "plugins": [
                {"pluginRef": "queue-scorer", "weight": 1}, {"pluginRef": "max-score-picker"}]}],
        }
        return
    pickers = [k for k, t in PICKER_TYPES.items() if t in picker.plugins]
    sched["picker"] = c.one(pickers)
    available = [k for k, types in SCORER_TYPES.items() if any(t in picker.plugins for t in types)]
    scorers: dict[str, int | float] = {}
    for intent in available:
        if c.chance(40):
            weight = c.integer(1, 5)
            scorers[intent] = weight if picker.integer_weights or c.chance(50) else weight / 2 + 0.25
    if scorers or c.chance(50):
        sched["scorers"] = scorers
    if c.chance(30):
        tokens = c.one((16, 32, 64))
        sched["prefixCache"] = {"blockSize": c.one((16, 64, 128)), "blockSizeTokens": tokens,
                                "maxPrefixBlocksToMatch": c.one((64, 256)), "lruCapacityPerServer": 31250}
        if tokens != 16:  # the picker's token blocks must be vLLM's (--block-size, default 16)
            decode["args"] = [*decode.get("args", []), "--block-size", str(tokens)]
    if c.chance(30):
        sched["replicas"] = c.integer(1, 3)


def spec_data(c: Chooser, branch: str, name: str | None = None) -> dict[str, Any]:
    versions, picker, pins = _versions(c, branch)
    infra, pool, ms = charts.INFRA[pins["infra"]], charts.POOL[pins["inferencepool"]], \
        charts.MODELSERVICE[pins["modelservice"]]
    hw = _model_and_hardware(c, ms)
    decode = hw["decode"]
    if c.chance(40):
        decode["args"] = [c.one(("--max-model-len", "--enforce-eager", "--gpu-memory-utilization=0.95")),
                          c.one(("8192", "--disable-log-requests"))]
    if c.chance(40):
        decode["env"] = {f"VAR_{i}": c.one(YAML_TRAPS) for i in range(c.integer(1, 4))}
    if c.chance(30):
        decode["resources"] = {"requests": {"cpu": c.one(("4", "500m", "16")), "memory": c.one(("16Gi", "64Gi"))},
                               "limits": {"memory": c.one(("64Gi", "128Gi"))}}
    if ms.proxy_toggle and c.chance(25):
        decode["sidecar"] = {"enabled": False}
    elif c.chance(15):
        decode["sidecar"] = {"image": "ghcr.io/llm-d/llm-d-routing-sidecar:v0.3.0"}
    sched = versions.pop("scheduler")
    _scheduler(c, picker, sched, decode)
    if "endpointPickerConfig" not in sched:
        _precise(c, picker, pool, branch, sched)
    if "precisePrefixCache" in sched and decode["replicas"] == 0:
        # LLMD115 refuses precise scoring with no decode pod to publish KV events (see docs/reliability.md)
        decode["replicas"] = 1
        cluster = hw.get("cluster", {})
        if "gpus" in cluster:
            p = decode["parallelism"]
            cluster["gpus"] = max(cluster["gpus"], p["tensor"] * p.get("data", 1))
    stack_name = name or _dns_label(c, 40)
    spec: dict[str, Any] = {
        "apiVersion": "llmd-compile/v1alpha1",
        "kind": "Stack",
        "metadata": {"name": stack_name, "namespace": _dns_label(c, 63)},
        **versions,
        **{k: hw[k] for k in ("model", "accelerator", "cluster", "_tensors") if k in hw},
        "decode": decode,
    }
    provider = c.one(sorted(infra.providers))
    gateway: dict[str, Any] = {"provider": provider}
    if c.chance(50):
        gateway["service"] = {"type": c.one(("ClusterIP", "LoadBalancer", "NodePort"))}
    spec["gateway"] = gateway
    spec["scheduler"] = sched
    route: dict[str, Any] = {"name": c.one((stack_name, "llm-d-route", "a.b.c"))}
    if c.chance(50):
        route["timeouts"] = {k: c.one(("0s", "300s", "10m", "1h30m")) for k in ("request", "backendRequest")
                             if c.chance(70)}
    spec["route"] = route
    platforms: dict[str, Any] = {}
    for platform in c.one((("openshift",), ("kubernetes",), ("openshift", "kubernetes"))):
        settings: dict[str, Any] = {}
        if c.chance(70):
            settings["storageClassName"] = c.one(("standard", "ocs-storagecluster-cephfs", "gp3-csi"))
        if platform == "openshift" and c.chance(30):
            settings["exposeRoute"] = c.chance(50)
        platforms[platform] = settings
    spec["platforms"] = platforms
    monitoring: dict[str, Any] = {}
    if c.chance(50):
        monitoring["podMonitor"] = {"enabled": c.chance(50), "interval": c.one(("15s", "30s", "1m"))}
    if pool.epp_monitoring != "none" and c.chance(30):
        monitoring["epp"] = {"enabled": True, "interval": c.one(("10s", "30s"))}
    if monitoring:
        spec["monitoring"] = monitoring
    if c.chance(50):
        bench: dict[str, Any] = {"turns": c.integer(1, 5), "users": c.one((1, 16, 10_000)),
                                 "duration": c.one(("60s", "120s", "5m", "1h"))}
        if c.chance(30):
            bench.update({"namespace": _dns_label(c, 63), "promptTokens": 1024, "outputTokens": 128,
                          "image": "ghcr.io/vllm-project/guidellm:v0.3.0"})
        spec["benchmark"] = {"guidellm": bench}
    if c.chance(60):
        argo: dict[str, Any] = {"repoURL": c.one(("https://github.com/example/gitops.git",
                                                  "git@github.com:example/gitops.git"))}
        if c.chance(50):
            argo.update({"targetRevision": c.one(("main", "v1.2.3", "0755", "on")), "path": c.one(("out", "a/b/out")),
                         "project": "llm-d", "namespace": "openshift-gitops"})
        if "destination" in ArgoCD.model_fields and c.chance(20):
            argo["destination"] = {"name": _dns_label(c, 63), "server": "https://api.prod-1.example.com:6443",
                                   "platform": c.one(sorted(platforms))}
        spec["gitops"] = {"argocd": argo}
    if c.chance(20):
        spec["checks"] = {"ignore": ["LLMD401"]}
    spec["scheduler"] = sched
    _disaggregation(c, picker, spec)
    spec.pop("_tensors", None)
    return spec


def to_text(data: dict[str, Any]) -> str:
    return "# generated by tests/reliability/specgen.py\n" + yamlio.dump(data)


@st.composite
def specs(draw: Callable[[st.SearchStrategy[Any]], Any], branch: str) -> dict[str, Any]:
    return spec_data(DrawChooser(draw), branch)


def fleet(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n specs with distinct names, deterministic in (n, seed); branches in turn."""
    rng = random.Random(f"llmd-reliability:{seed}")
    return [spec_data(RandomChooser(rng), BRANCHES[i % len(BRANCHES)], name=f"stack-{i:04d}") for i in range(n)]


def incompatible(pins: dict[str, str], picker: PickerVersion, spec: dict[str, Any]) -> list[str]:
    """catalog.compat's verdict on a drawn spec (used to assert the generator never draws a refused combo)."""
    rules = compat.incompatibilities(compat.Pins(
        charts.INFRA[pins["infra"]], charts.POOL[pins["inferencepool"]], charts.MODELSERVICE[pins["modelservice"]],
        picker, provider=spec["gateway"]["provider"],
        sidecar_disabled=spec["decode"].get("sidecar", {}).get("enabled", True) is False,
        vendor=spec["accelerator"]["vendor"], epp_monitoring=bool(spec.get("monitoring", {}).get("epp"))))
    return [message for _, message in rules]
