"""Wide expert parallelism: one vLLM data-parallel group over the pods of a LeaderWorkerSet (CATALOG §f).

Each replica of a role is a LeaderWorkerSet of parallelism.data / dataLocal pods (multinode: true); every pod runs
dataLocal ranks and finds the group through the variables the LeaderWorkerSet controller sets (LWS_LEADER_ADDRESS,
LWS_WORKER_INDEX). The launch line is the guides' (LD@e52045bd ms-wide-ep, LD@899f8517 wide-ep-lws manifests) with
the sizes written in at compile time instead of read from env.
"""

from __future__ import annotations

import shlex
from typing import Any

from llmd_compile.resolve import Stack
from llmd_compile.spec.models import Workload

DP_RPC_PORT = 5555  # --data-parallel-rpc-port in both guides


def parallelism(stack: Stack, role: Workload) -> dict[str, int]:
    """The role's parallelism block: v0.2.x sizes the LeaderWorkerSet by `data` (pods), v0.4.x by `workers`."""
    p = role.parallelism
    if stack.ms.lws_size == "data":
        return {"tensor": p.tensor, "data": p.workers}
    return {"tensor": p.tensor, "data": p.data, "dataLocal": p.local, "workers": p.workers}


def model_arg(stack: Stack) -> str:
    """What vllm serve loads: the mounted cache directory for pvc://, else the Hugging Face id (into HF_HOME)."""
    from llmd_compile.emit.workloads import model_dir

    return f"/model-cache/{model_dir(stack)}" if stack.spec.model.cache.pvc else stack.spec.model.name


HYBRID_LB = ("--data-parallel-hybrid-lb",)  # one port per pod, vLLM balances over its local ranks


def launch(stack: Stack, role: Workload, port: int, args: list[str],
           balance: tuple[str, ...] = HYBRID_LB) -> dict[str, Any]:
    """The container's command and its one script argument."""
    p = role.parallelism
    lines = [
        f"START_RANK=$(( ${{LWS_WORKER_INDEX:-0}} * {p.local} ))",
        f"exec vllm serve {shlex.quote(model_arg(stack))}",
        f"--served-model-name {shlex.quote(stack.spec.model.served_name)}",
        f"--port {port}",
        f"--tensor-parallel-size {p.tensor}",
        f"--data-parallel-size {p.data}",
        f"--data-parallel-size-local {p.local}",
        "--data-parallel-address ${LWS_LEADER_ADDRESS}",
        f"--data-parallel-rpc-port {DP_RPC_PORT}",
        "--data-parallel-start-rank $START_RANK",
        *balance,
    ]
    if p.expert:
        lines.append("--enable-expert-parallel")
    i = 0
    while i < len(args):  # one line per flag, its value beside it
        if args[i].startswith("--") and "=" not in args[i] and i + 1 < len(args) and not args[i + 1].startswith("--"):
            lines.append(f"{shlex.quote(args[i])} {shlex.quote(args[i + 1])}")
            i += 2
        else:
            lines.append(shlex.quote(args[i]))
            i += 1
    script = lines[0] + "\n" + " \\\n  ".join(lines[1:]) + "\n"
    return {"command": ["/bin/bash", "-c"], "args": [script]}
