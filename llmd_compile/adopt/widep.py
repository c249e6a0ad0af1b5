"""Wide expert parallelism as the router-era guides deploy it: a LeaderWorkerSet per role whose pods run a bash
launch script around `vllm serve` (wide-ep-lws/modelserver). The script's flags are read as the shell runs them
(the pod's env, LWS_GROUP_SIZE = the group size, `$(( a * b ))`), and the data-parallel layout becomes
parallelism.{tensor,data,dataLocal,expert}; the flags the compiler derives from it (emit/widep.py) are dropped."""

from __future__ import annotations

import re
import shlex
from typing import Any

from llmd_compile.errors import SpecError

# Flags emit/widep.py and emit/router/podspec.py write from parallelism and the pod's ports.
DERIVED = {"--port", "--served-model-name", "--tensor-parallel-size", "--data-parallel-size",
           "--data-parallel-size-local", "--data-parallel-address", "--data-parallel-rpc-port",
           "--data-parallel-start-rank", "--data-parallel-multi-port-external-lb", "--data-parallel-supervisor-port",
           "--data-parallel-hybrid-lb", "--enable-expert-parallel"}
# Env the launch script only reads for the sizes the spec's parallelism now says.
SIZE_ENV = {"DP_SIZE_LOCAL", "TP_SIZE"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_ARITH = re.compile(r"\$\(\(([^()]*)\)\)")


def _expand(text: str, env: dict[str, str]) -> str:
    def var(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        return env.get(name, m.group(2) if m.group(2) is not None else m.group(0))

    def arith(m: re.Match[str]) -> str:
        expr = re.sub(r"\b([A-Za-z_][A-Za-z0-9_]*)\b", lambda v: env.get(v.group(1), v.group(1)),
                      _VAR.sub(var, m.group(1)))
        if not re.fullmatch(r"[0-9+*/ -]+", expr):
            return m.group(0)
        total = 1
        for factor in expr.split("*"):  # the guides multiply; nothing else is read
            if not factor.strip().isdigit():
                return m.group(0)
            total *= int(factor)
        return str(total)

    return _VAR.sub(var, _ARITH.sub(arith, text))


def serve_words(script: str, env: dict[str, str], size: int, shown: str) -> list[str]:
    """The words after `vllm serve` in a launch script (continuation lines joined, comments dropped)."""
    if "vllm serve" not in script:
        raise SpecError.one(shown, "multinode", "the LeaderWorkerSet's launch script runs no `vllm serve`")
    tail = script.split("vllm serve", 1)[1].replace("\\\n", " ")  # continuation lines joined
    command = ""
    for line in tail.splitlines():  # the command ends at the first newline outside quotes
        command += line + "\n"
        try:
            return shlex.split(_expand(command, {**env, "LWS_GROUP_SIZE": str(size)}), comments=True)
        except ValueError:
            continue
    raise SpecError.one(shown, "multinode", "the launch script's `vllm serve` line has an unclosed quotation")


def role_values(doc: dict[str, Any], shown: str) -> tuple[str, dict[str, Any]]:
    """A LeaderWorkerSet as the ms-values shape the Helm-era mapping reads, with `_widep` parallelism."""
    spec = doc.get("spec") or {}
    lwt = spec.get("leaderWorkerTemplate") or {}
    size = int(lwt.get("size", 1))
    pod = ((lwt.get("workerTemplate") or lwt.get("leaderTemplate") or {}).get("spec")) or {}
    role = str(((doc.get("metadata") or {}).get("labels") or {}).get("llm-d.ai/role", "decode"))
    main = [c for c in pod.get("containers") or [] if c.get("name") in ("modelserver", "vllm")] or \
        list(pod.get("containers") or [])
    if not main:
        raise SpecError.one(shown, "multinode", f"LeaderWorkerSet {doc['metadata'].get('name')}: no container")
    c = dict(main[0])
    env = {str(e["name"]): str(e["value"]) for e in c.get("env") or [] if "value" in e}
    script = "\n".join(str(a) for a in [*(c.get("command") or [])[2:], *(c.get("args") or [])])
    words = serve_words(script, env, size, shown)
    model = words.pop(0) if words and not words[0].startswith("-") else None
    flags: dict[str, str | None] = {}
    kept: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        flag, eq, value = word.partition("=")
        has_value = not eq and i + 1 < len(words) and not words[i + 1].startswith("--")
        if has_value:
            value = words[i + 1]
        norm = flag.replace("_", "-")
        if norm in DERIVED:
            flags[norm] = value if (eq or has_value) else None
        else:
            kept += [word, words[i + 1]] if has_value else [word]
        i += 2 if has_value else 1
    try:
        tensor = int(flags.get("--tensor-parallel-size") or 1)
        data = int(flags["--data-parallel-size"] or 0)
        local = int(flags["--data-parallel-size-local"] or 0)
    except (KeyError, ValueError):
        raise SpecError.one(shown, "multinode", f"LeaderWorkerSet {doc['metadata'].get('name')}: the launch script's "
                            "data-parallel sizes are not plain numbers after expansion: write "
                            "parallelism.{data,dataLocal,expert} by hand") from None
    if data != size * local:
        raise SpecError.one(shown, "multinode", f"LeaderWorkerSet {doc['metadata'].get('name')}: "
                            f"--data-parallel-size {data} is not size {size} x --data-parallel-size-local {local}")
    c["args"] = kept
    c["modelCommand"] = "vllmServe"
    c["env"] = [e for e in c.get("env") or [] if e.get("name") not in SIZE_ENV]
    parallelism = {"tensor": tensor, "data": data, "dataLocal": local,
                   **({"expert": True} if "--enable-expert-parallel" in flags else {})}
    return role, {"replicas": int(spec.get("replicas", 1)), "containers": [c], "volumes": pod.get("volumes") or [],
                  "_model": model, "_widep": parallelism}
