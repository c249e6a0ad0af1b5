"""vLLM facts the compiler and the checks share: defaults, how to read a flag back from container args, and the
health probes the llm-d guides give the vLLM container per well-lit path.

Defaults are vLLM's own (`vllm/envs.py`, `vllm/config`): the KV block size on CUDA, the NIXL side-channel
port. Flags are read the way vLLM's argparse reads them: `--flag value` or `--flag=value`, and `_` and `-`
are the same in a flag name (`--kv_transfer_config` is `--kv-transfer-config`).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

DEFAULT_BLOCK_SIZE = 16  # --block-size on CUDA when not given
NIXL_DEFAULT_PORT = 5600  # VLLM_NIXL_SIDE_CHANNEL_PORT default
KV_EVENTS_FLAG = "--kv-events-config"
KV_TRANSFER_FLAG = "--kv-transfer-config"
BLOCK_SIZE_FLAG = "--block-size"


def _norm(flag: str) -> str:
    return "--" + flag.lstrip("-").replace("_", "-")


def flag_value(args: Sequence[Any], flag: str) -> str | None:
    """The value of the last `flag` in `args` (vLLM keeps the last one), or None when absent."""
    wanted = _norm(flag)
    found: str | None = None
    items = [str(a) for a in args]
    for i, item in enumerate(items):
        name, eq, value = item.partition("=")
        if not name.startswith("--") or _norm(name) != wanted:
            continue
        if eq:
            found = value
        elif i + 1 < len(items):
            found = items[i + 1]
    return found


def has_flag(args: Sequence[Any], flag: str) -> bool:
    wanted = _norm(flag)
    return any(str(a).startswith("--") and _norm(str(a).partition("=")[0]) == wanted for a in args)


def json_flag(args: Sequence[Any], flag: str) -> dict[str, Any] | None:
    """A flag whose value is a JSON object (--kv-events-config, --kv-transfer-config); None if absent or not JSON."""
    text = flag_value(args, flag)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def block_size(args: Sequence[Any]) -> int | None:
    """--block-size as an int (None if not a number); vLLM's default when absent."""
    text = flag_value(args, BLOCK_SIZE_FLAG)
    if text is None:
        return DEFAULT_BLOCK_SIZE
    return int(text) if text.isdigit() else None


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def container_args(container: dict[str, Any]) -> list[str]:
    """vLLM's argv of a modelservice container: its args, or for a custom `vllm serve` script (wide-EP) the words
    of the serve line (shell continuation lines joined)."""
    args = [str(a) for a in container.get("args", []) or []]
    # modelservice's modelCommand: custom, or a plain container running a shell script (kustomize LeaderWorkerSets).
    script = container.get("modelCommand") == "custom" or list(container.get("command") or [])[-1:] == ["-c"]
    if not script or len(args) != 1 or "vllm serve" not in args[0]:
        return args
    line = args[0].replace("\\\n", " ").split("vllm serve", 1)[1]
    try:
        return shlex.split(line)
    except ValueError:
        return args


# --- health probes of the vLLM container, per well-lit path, as the llm-d guides set them ----------------------------
# Each probe is an httpGet on the vLLM port; a field absent here is Kubernetes' default.
ProbeTable = Mapping[str, Mapping[str, Any]]
# Every vllmServe guide from LD@v0.4.0 to LD@899f8517: inference-scheduling on each accelerator, P/D, precise prefix
# cache and the simulator (ms values, e.g. LD@899f8517 inference-scheduling/ms-inference-scheduling/values_amd.yaml).
# Ready and started mean the model is served (/v1/models); alive means the server answers (/health).
STANDARD_PROBES: ProbeTable = MappingProxyType({
    "startup": MappingProxyType({"path": "/v1/models", "initialDelaySeconds": 15, "periodSeconds": 30,
                                 "timeoutSeconds": 5, "failureThreshold": 60}),
    "liveness": MappingProxyType({"path": "/health", "periodSeconds": 10, "timeoutSeconds": 5,
                                  "failureThreshold": 3}),
    "readiness": MappingProxyType({"path": "/v1/models", "periodSeconds": 5, "timeoutSeconds": 2,
                                   "failureThreshold": 3}),
})
# Wide-EP LeaderWorkerSets (LD@899f8517 wide-ep-lws/manifests/modelserver/base/{decode,prefill}.yaml): a 1 s
# startup poll of /health for up to 2700 s while the expert-parallel group forms.
WIDE_EP_PROBES: ProbeTable = MappingProxyType({
    "startup": MappingProxyType({"path": "/health", "initialDelaySeconds": 0, "periodSeconds": 1,
                                 "timeoutSeconds": 5, "failureThreshold": 2700}),
    "liveness": MappingProxyType({"path": "/health", "periodSeconds": 30, "timeoutSeconds": 5,
                                  "failureThreshold": 3}),
    "readiness": MappingProxyType({"path": "/v1/models", "periodSeconds": 10, "timeoutSeconds": 5,
                                   "failureThreshold": 3}),
})
_SLOW_PD = MappingProxyType({
    "startup": MappingProxyType({"initialDelaySeconds": 30, "timeoutSeconds": 10}),
    "liveness": MappingProxyType({"periodSeconds": 30, "timeoutSeconds": 10, "failureThreshold": 20}),
    "readiness": MappingProxyType({"periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6}),
})
# P/D roles on some accelerators, over STANDARD_PROBES (LD@899f8517 pd-disaggregation/ms-pd/values_tpu.yaml, also
# LD@v0.4.0; values_xpu.yaml and values_hpu.yaml).
PD_PROBES: Mapping[str, ProbeTable] = MappingProxyType({
    "google": MappingProxyType({"startup": MappingProxyType({"path": "/health", "failureThreshold": 120})}),
    "intel": _SLOW_PD,
    "intel-gaudi": _SLOW_PD,
})


def probe_defaults(vendor: str, multinode: bool, disaggregated: bool) -> dict[str, dict[str, Any]]:
    """{startup|liveness|readiness: {path, timings}} of the path the stack runs."""
    if multinode:
        return {kind: dict(fields) for kind, fields in WIDE_EP_PROBES.items()}
    extra = PD_PROBES.get(vendor, {}) if disaggregated else {}
    return {kind: {**fields, **extra.get(kind, {})} for kind, fields in STANDARD_PROBES.items()}
