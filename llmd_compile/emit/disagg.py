"""Prefill/decode disaggregation: the picker's P/D profiles, and the KV transfer between the two roles.

The picker runs two profiles (prefill, decode), each behind its role filter; a profile handler (and, from SCHED
v0.6.0, a decider) decides per request whether a prefill pod runs first. The decode pod's routing sidecar reads
the prefill pod from a request header and pulls its KV cache over NIXL (CATALOG §e.4, §f).
"""

from __future__ import annotations

from typing import Any

from llmd_compile.catalog import paths, vllm
from llmd_compile.errors import Problem, SpecError
from llmd_compile.resolve import Stack

FIELD = "prefill"


def plan(stack: Stack) -> paths.Disagg:
    found = paths.disagg(stack.picker)
    if found is None:
        raise SpecError([Problem(stack.source, 0, 0, FIELD, (
            f"picker {stack.picker.name} has no prefill/decode profiles (GAIE's epp image does not support P/D, "
            "CATALOG §f): use an llm-d-inference-scheduler or llm-d-router image"))])
    sched = stack.spec.scheduler
    if sched.disaggregation.decider == "prefix" and sched.scorers.prefixCache is None:
        raise SpecError([Problem(stack.source, 0, 0, "scheduler.disaggregation.decider", (
            "the prefix decider reads the prefix-cache scorer's matches: set scheduler.scorers.prefixCache, "
            "or decider: always"))])
    return found


def _handler(stack: Stack, found: paths.Disagg) -> tuple[list[dict[str, Any]], list[str]]:
    """(decider + handler plugins, feature gates)."""
    tuning = stack.spec.scheduler.disaggregation
    picker = stack.picker
    handler_params = {p.name for p in picker.plugins[found.handler].params or ()}
    plugins: list[dict[str, Any]] = []
    gates: list[str] = []
    if found.deciders:
        decider = paths.PREFIX_DECIDER if tuning.decider == "prefix" else paths.ALWAYS_DECIDER
        if decider == paths.PREFIX_DECIDER:
            plugins.append({"type": decider, "parameters": {"nonCachedTokens": tuning.nonCachedTokens}})
            if paths.PREPARE_DATA_GATE in picker.feature_gates:
                gates.append(paths.PREPARE_DATA_GATE)
        else:
            plugins.append({"type": decider})
        if found.handler == paths.DISAGG_HANDLER:
            params: dict[str, Any] = {"deciders": {"prefill": decider}}
        else:
            params = {"primaryPort": 0, "deciderPluginName": decider}
    else:
        # Before deciders: prefill when more than `threshold` prompt tokens are uncached (0: always).
        params = {"threshold": tuning.nonCachedTokens if tuning.decider == "prefix" else 0}
        if tuning.decider == "prefix" and "hashBlockSize" in handler_params:
            params["hashBlockSize"] = stack.spec.scheduler.prefixCache.blockSize
        if "primaryPort" in handler_params:
            params["primaryPort"] = 0
    plugins.append({"type": found.handler, "parameters": params})
    return plugins, gates


def config(stack: Stack, scorer_plugins: list[dict[str, Any]], refs: list[dict[str, Any]],
           picker_type: str) -> dict[str, Any]:
    """The plugins/profiles part of a P/D EndpointPickerConfig: both profiles score alike behind their filter."""
    found = plan(stack)
    handler, gates = _handler(stack, found)
    plugins = ([{"type": found.headers}] if found.headers else []) + scorer_plugins + [
        {"type": paths.PREFILL_FILTER}, {"type": paths.DECODE_FILTER}, {"type": picker_type}, *handler]
    profiles = [{"name": name, "plugins": [{"pluginRef": role_filter}, {"pluginRef": picker_type}, *refs]}
                for name, role_filter in ((paths.PREFILL_PROFILE, paths.PREFILL_FILTER),
                                          (paths.DECODE_PROFILE, paths.DECODE_FILTER))]
    out: dict[str, Any] = {}
    if gates:
        out["featureGates"] = gates
    out.update({"plugins": plugins, "schedulingProfiles": profiles})
    return out


# --- the KV transfer on the model servers ---------------------------------------------------------------------------


def kv_args(stack: Stack, args: list[str]) -> list[str]:
    if vllm.has_flag(args, vllm.KV_TRANSFER_FLAG):
        return list(args)  # the user's own transfer config; LLMD120 compares the roles
    transfer = {"kv_connector": stack.spec.kvTransfer.connector, "kv_role": "kv_both"}
    return [*args, vllm.KV_TRANSFER_FLAG, vllm.compact_json(transfer)]


def kv_env(stack: Stack) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "VLLM_NIXL_SIDE_CHANNEL_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
    if stack.spec.kvTransfer.port != vllm.NIXL_DEFAULT_PORT:
        env.append({"name": "VLLM_NIXL_SIDE_CHANNEL_PORT", "value": str(stack.spec.kvTransfer.port)})
    return env


def kv_ports(stack: Stack) -> list[dict[str, Any]]:
    return [{"containerPort": stack.spec.kvTransfer.port, "name": "nixl", "protocol": "TCP"}]


def rdma_resources(stack: Stack) -> dict[str, str]:
    rdma = stack.spec.kvTransfer.rdma
    return {rdma.resource: str(rdma.count)} if rdma else {}
