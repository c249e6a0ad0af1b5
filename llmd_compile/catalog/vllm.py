"""vLLM facts the compiler and the checks share: defaults, and how to read a flag back from container args.

Defaults are vLLM's own (`vllm/envs.py`, `vllm/config`): the KV block size on CUDA, the NIXL side-channel
port. Flags are read the way vLLM's argparse reads them: `--flag value` or `--flag=value`, and `_` and `-`
are the same in a flag name (`--kv_transfer_config` is `--kv-transfer-config`).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
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
    if container.get("modelCommand") != "custom" or len(args) != 1 or "vllm serve" not in args[0]:
        return args
    line = args[0].replace("\\\n", " ").split("vllm serve", 1)[1]
    try:
        return shlex.split(line)
    except ValueError:
        return args
