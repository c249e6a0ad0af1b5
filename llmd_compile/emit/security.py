"""The vLLM container's securityContext: the privileges the stack's well-lit path asks for beyond OpenShift
restricted-v2 (catalog/privileges.py, dropped with <role>.privileges: none), and those kvTransfer.rdma asks for.

Nothing else ever adds a privilege: a stack without these fields and paths gets no securityContext on its model
servers (tests/reliability checks every generated stack for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmd_compile.catalog.privileges import CAPABILITIES, Grant, path_grants
from llmd_compile.resolve import Stack
from llmd_compile.spec.models import Workload


@dataclass(frozen=True)
class Ask:
    role: str  # decode or prefill
    field: str  # the spec field that asks for it (and drops it)
    grant: Grant


def asks(stack: Stack, name: str, role: Workload) -> list[Ask]:
    spec = stack.spec
    vendor = spec.accelerator.vendor
    out = []
    if role.privileges == "path":
        out += [Ask(name, f"{name}.privileges", g) for g in path_grants(vendor, stack.multinode, stack.disaggregated)]
    rdma = spec.kvTransfer.rdma
    if stack.disaggregated and vendor != "simulated" and rdma and (rdma.capabilities or rdma.runAsRoot):
        out.append(Ask(name, "kvTransfer.rdma", Grant(
            tuple(rdma.capabilities), rdma.runAsRoot,
            why=f"RDMA for the {spec.kvTransfer.connector} KV-cache transfer", source="kvTransfer.rdma")))
    return out


def stack_asks(stack: Stack) -> list[Ask]:
    return [a for name, role in stack.roles for a in asks(stack, name, role)]


def context(grants: list[Grant]) -> dict[str, Any]:
    """One container securityContext holding every grant ({} for none)."""
    ctx: dict[str, Any] = {}
    if any(g.privileged for g in grants):
        ctx["privileged"] = True
    caps = {c for g in grants for c in g.capabilities}
    if caps:
        ctx["capabilities"] = {"add": [c for c in CAPABILITIES if c in caps]}
    if any(g.root for g in grants):
        ctx.update(runAsUser=0, runAsGroup=0)
    seccomp = next((g.seccomp for g in grants if g.seccomp), None)
    if seccomp:
        ctx["seccompProfile"] = {"type": seccomp}
    return ctx


def container_context(stack: Stack, name: str, role: Workload) -> dict[str, Any]:
    return context([a.grant for a in asks(stack, name, role)])


def describe(grant: Grant) -> str:
    """The privilege in words, as restricted-v2 would name what it refuses."""
    parts = []
    if grant.privileged:
        parts.append("privileged")
    if grant.capabilities:
        parts.append("capabilities " + ", ".join(grant.capabilities))
    if grant.root:
        parts.append("runAsUser 0 (root)")
    if grant.seccomp:
        parts.append(f"seccompProfile {grant.seccomp}")
    return "; ".join(parts)


def rows(stack: Stack) -> list[tuple[str, str, str]]:
    """(pods, privilege, why) per distinct grant, for the stack README's privileges table."""
    merged: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for ask in stack_asks(stack):
        roles, fields = merged.setdefault((describe(ask.grant), ask.grant.why), ([], []))
        roles.append(ask.role)
        if ask.field not in fields:
            fields.append(ask.field)
    return [(f"model pods ({', '.join(roles)})", what, f"{why} ({', '.join(fields)})")
            for (what, why), (roles, fields) in merged.items()]
