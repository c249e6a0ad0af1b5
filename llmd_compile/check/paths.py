"""Well-lit paths' wiring (LLMD115-LLMD120): precise prefix-cache KV events, and prefill/decode disaggregation.

As in wiring.py, every expected value is re-derived from the artifacts: the EPP Service from the helmfile's
inferencepool release (catalog.naming), the picker's ZMQ port from its EndpointPickerConfig and Service ports,
vLLM's settings from the container args and env the modelservice values carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from llmd_compile.catalog import naming, paths, vllm
from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts, dig

ROLES = ("decode", "prefill")
DEFAULT_TOPIC_FILTER = "kv@"


def _releases(a: Artifacts) -> dict[str, str]:
    out = {}
    for release in dig(a.doc("helmfile.yaml"), "releases", default=[]) or []:
        out[str(release.get("chart", "")).rsplit("/", 1)[-1]] = str(release.get("name", ""))
    return out


def containers(a: Artifacts) -> Iterator[tuple[str, dict[str, Any]]]:
    """(role, vLLM container) of every role the stack runs (modelservice values, or the kustomize model servers)."""
    yield from a.role_containers()


def _env(container: dict[str, Any], name: str) -> str | None:
    for item in container.get("env", []) or []:
        if isinstance(item, dict) and item.get("name") == name:
            return None if "value" not in item else str(item["value"])
    return None


def _plugins(a: Artifacts) -> list[dict[str, Any]]:
    return [p for p in a.epp_config().get("plugins", []) or [] if isinstance(p, dict)]


def precise_scorer(a: Artifacts) -> dict[str, Any] | None:
    """Parameters of the precise prefix-cache scorer in the picker config (SCHED v0.2.1: prefix-cache-scorer
    mode cache_tracking), or None."""
    for plugin in _plugins(a):
        params = plugin.get("parameters") or {}
        # llm-d-router: the index (and its kvEventsConfig) lives in the precise-prefix-cache-producer.
        if plugin.get("type") in (paths.PRECISE_SCORER, paths.PRECISE_PRODUCER) or (
                plugin.get("type") == "prefix-cache-scorer" and params.get("mode") == "cache_tracking"):
            return dict(params)
    return None


def _token_processor(params: dict[str, Any]) -> dict[str, Any]:
    top = params.get("tokenProcessorConfig")
    if isinstance(top, dict):
        return top
    return dig(params, "indexerConfig", "tokenProcessorConfig", default={}) or {}


def _epp_zmq_ports(a: Artifacts) -> dict[int, int]:
    """EPP Service port -> container port, for the ports the pool values add."""
    ports = dig(a.pool, "inferenceExtension", "extraServicePorts", default=[]) or []
    return {int(p["port"]): int(p.get("targetPort") or p["port"]) for p in ports if isinstance(p, dict) and "port" in p}


def kv_events_endpoint(a: Artifacts) -> Iterator[Finding]:
    params = precise_scorer(a)
    events = dict((params or {}).get("kvEventsConfig") or {})
    discover = bool(events.get("discoverPods"))
    bind = urlsplit(str(events.get("zmqEndpoint", f"tcp://*:{paths.INDEXER_PORT}")))
    epp = naming.epp_service(_releases(a).get("inferencepool", ""))
    field = "scheduler.precisePrefixCache.kvEvents"
    publishers = 0
    for role, container in containers(a):
        config = vllm.json_flag(vllm.container_args(container), vllm.KV_EVENTS_FLAG)
        if config is None:
            continue
        publishers += 1
        if params is None:
            yield Finding(field, f"{role} vLLM publishes KV events but the picker runs no precise prefix-cache scorer")
            continue
        topic = str(config.get("topic", ""))
        wanted_filter = str(events.get("topicFilter", DEFAULT_TOPIC_FILTER))
        if not topic.startswith(wanted_filter):
            yield Finding(field, f"{role} vLLM publishes topic {topic!r}; the picker subscribes to {wanted_filter!r}")
        url = urlsplit(str(config.get("endpoint", "")))
        if url.hostname in (None, "*", "0.0.0.0"):
            ports = {p.get("containerPort") for p in container.get("ports", []) or []}
            if not discover:
                yield Finding(field, f"{role} vLLM binds {url.netloc} and waits to be discovered, but the picker's "
                                     "kvEventsConfig does not discover pods (discoverPods)")
            elif url.port not in ports:
                yield Finding(field, f"{role} vLLM binds port {url.port} but its container does not expose it")
            elif (dials := dig(events, "podDiscoveryConfig", "socketPort")) not in (None, url.port):
                yield Finding(field, f"{role} vLLM binds port {url.port} but the picker dials {dials} "
                                     "(podDiscoveryConfig.socketPort)")
            continue
        host = url.hostname.split(".")
        namespace = a.stack.names.namespace
        if host[0] != epp or (len(host) > 1 and host[1] != namespace):
            yield Finding(field, f"{role} vLLM publishes KV events to {url.hostname!r}; the picker's Service is "
                                 f"{epp}.{namespace}.svc.cluster.local")
            continue
        service = _epp_zmq_ports(a)
        if url.port not in service:
            yield Finding(field, f"{role} vLLM publishes to port {url.port}, which the picker's Service does not "
                                 f"expose (extraServicePorts: {sorted(service) or 'none'})")
        elif service[url.port] != bind.port:
            yield Finding(field, f"the picker's Service forwards {url.port} to {service[url.port]} but the indexer "
                                 f"binds {bind.port}")
    if params is not None and publishers == 0 and next(containers(a), None) is not None:
        # (no model server at all, every role scaled to zero: nothing is wired wrong, nothing publishes yet)
        yield Finding(field, "the picker runs a precise prefix-cache scorer but no vLLM pod publishes KV events "
                             f"({vllm.KV_EVENTS_FLAG})")


def kv_block_size(a: Artifacts) -> Iterator[Finding]:
    params = precise_scorer(a)
    if params is None:
        return
    processor = _token_processor(params)
    # llm-d-router reads blockSizeTokens (blockSize is its deprecated alias, CURRENT §7).
    indexer = processor.get("blockSizeTokens", processor.get("blockSize", vllm.DEFAULT_BLOCK_SIZE))
    for role, container in containers(a):
        block = vllm.block_size(vllm.container_args(container))
        if block != indexer:
            yield Finding("scheduler.precisePrefixCache.blockSize", f"the indexer hashes {indexer}-token blocks but "
                                                                    f"{role} vLLM uses --block-size {block}")


def kv_hash_seed(a: Artifacts) -> Iterator[Finding]:
    params = precise_scorer(a)
    if params is None:
        return
    seed = _token_processor(params).get("hashSeed")
    if seed is None and a.is_router:
        return  # llm-d-router recomputes block keys from token ids: no seed to share with vLLM (router #1494, §7)
    for role, container in containers(a):
        env = _env(container, "PYTHONHASHSEED")
        if str(seed or "") != str(env or ""):
            yield Finding("scheduler.precisePrefixCache.hashSeed", f"the indexer's hashSeed is {seed!r} but {role} "
                                                                   f"vLLM runs with PYTHONHASHSEED={env!r}")


def _pd_handler(a: Artifacts) -> str | None:
    return next((str(p["type"]) for p in _plugins(a) if p.get("type") in (paths.PD_HANDLER, paths.DISAGG_HANDLER)),
                None)


def _prefill(a: Artifacts) -> bool:
    return any(role == "prefill" for role, _ in containers(a))


def pd_profiles(a: Artifacts) -> Iterator[Finding]:
    handler = _pd_handler(a)
    if _prefill(a) and handler is None:
        yield Finding("prefill", "prefill pods run, but the picker config has no P/D profile handler: no request "
                                 "is sent through a prefill pod")
    elif handler is not None and not _prefill(a):
        yield Finding("prefill", f"the picker config runs {handler} but no prefill pod exists")


def pd_sidecar(a: Artifacts) -> Iterator[Finding]:
    if a.is_router:
        decode = next((pod for role, pod in a.role_pods() if role == "decode"), [])
        # The routing proxy runs as a native sidecar (restartPolicy: Always init container) beside vLLM.
        if _prefill(a) and not any(c.get("restartPolicy") == "Always" for c in decode[1:]):
            yield Finding("decode.sidecar.enabled", "prefill pods run but decode pods have no routing proxy to pull "
                                                    "their KV cache")
        return
    proxy = dig(a.ms, "routing", "proxy", default={}) or {}
    if _prefill(a) and a.stack.ms.proxy_toggle and proxy.get("enabled", True) is False:
        yield Finding("decode.sidecar.enabled", "prefill pods run but decode pods have no routing sidecar to pull "
                                                "their KV cache")


def pd_kv_transfer(a: Artifacts) -> Iterator[Finding]:
    if not _prefill(a) or a.stack.spec.accelerator.vendor == "simulated":
        return
    roles = dict(containers(a))
    configs = {role: vllm.json_flag(vllm.container_args(c), vllm.KV_TRANSFER_FLAG) for role, c in roles.items()}
    missing = sorted(role for role, config in configs.items() if config is None)
    if missing:
        yield Finding("kvTransfer", f"{' and '.join(missing)} vLLM has no {vllm.KV_TRANSFER_FLAG}: the decode pod "
                                    "cannot pull the prefill KV cache")
        return
    connectors = {role: config.get("kv_connector") for role, config in configs.items() if config is not None}
    if len(set(connectors.values())) > 1:
        yield Finding("kvTransfer", f"the roles use different KV connectors: {connectors}")
    blocks = {role: vllm.block_size(vllm.container_args(c)) for role, c in roles.items()}
    if len(set(blocks.values())) > 1:
        yield Finding("kvTransfer", f"prefill and decode use different --block-size {blocks}: the transfer moves "
                                    "whole KV blocks")


# Deprecations of llm-d-router the registry does not mark on the type itself (CURRENT §6): a wrapper type, and a
# parameter of a current type.
ROUTER_DEPRECATED_TYPES = {paths.PRECISE_SCORER: "a deprecated wrapper (router #1121); use "
                           "precise-prefix-cache-producer + prefix-cache-scorer{prefixMatchInfoProducerName}"}
ROUTER_DEPRECATED_PARAMS = {(paths.DISAGG_HANDLER, "deciderPluginName"): "deciders.prefill (llm-d main dropped the old "
                                                                          "key, #2320)"}


def deprecated_plugins(a: Artifacts) -> Iterator[Finding]:
    """Plugin types and parameters llm-d-router deprecates (most for removal in v0.11.0), with their replacement."""
    picker = a.stack.picker
    if picker.family != "router":
        return
    field = "scheduler.endpointPickerConfig" if a.stack.spec.scheduler.endpointPickerConfig is not None else \
        "scheduler.scorers"
    for plugin in _plugins(a):
        kind = str(plugin.get("type"))
        registered = picker.plugins.get(kind)
        why = registered.deprecated if registered is not None and registered.deprecated else \
            ROUTER_DEPRECATED_TYPES.get(kind, "")
        if why:
            yield Finding(field, f"plugin {kind!r}: {why}")
        params = plugin.get("parameters")
        for key in sorted(params) if isinstance(params, dict) else ():
            replacement = ROUTER_DEPRECATED_PARAMS.get((kind, key))
            if replacement:
                yield Finding(field, f"{kind} parameter {key!r} is deprecated; use {replacement}")


RULES = (
    Rule("LLMD121", "warning", "the picker config uses a plugin llm-d-router deprecates",
         "use the replacement the message names (llmd-compile emits only current plugins from scheduler.scorers)",
         deprecated_plugins),
    Rule("LLMD115", "error", "vLLM's KV-events endpoint does not reach the picker's ZMQ subscriber",
         "let llmd-compile derive the endpoint (scheduler.precisePrefixCache.kvEvents): "
         "tcp://<pool release>-epp.<namespace>.svc.cluster.local:<port>", kv_events_endpoint),
    Rule("LLMD116", "error", "precise prefix-cache block size differs from vLLM --block-size",
         "set scheduler.precisePrefixCache.blockSize and leave --block-size out of the args", kv_block_size),
    Rule("LLMD117", "error", "precise prefix-cache hash seed differs from vLLM's PYTHONHASHSEED",
         "set scheduler.precisePrefixCache.hashSeed; llmd-compile sets PYTHONHASHSEED to match", kv_hash_seed),
    Rule("LLMD118", "error", "prefill pods and the picker's P/D profiles do not go together",
         "with prefill set, llmd-compile writes the picker's prefill/decode profiles", pd_profiles),
    Rule("LLMD119", "error", "prefill pods without the routing sidecar on decode",
         "keep decode.sidecar.enabled for prefill/decode disaggregation", pd_sidecar),
    Rule("LLMD120", "error", "the KV transfer between prefill and decode is missing or differs",
         "set kvTransfer and leave --kv-transfer-config out of the args", pd_kv_transfer),
)
