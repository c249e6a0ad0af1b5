"""Precise prefix-cache-aware routing: vLLM publishes KV-cache events, the picker indexes them (CATALOG §f).

Both sides come from one spec block (scheduler.precisePrefixCache), so they agree by construction: the block
size (vLLM --block-size, the indexer's tokenProcessorConfig.blockSize), the hash seed (PYTHONHASHSEED, hashSeed),
and the ZMQ wiring. With `discovery: service` vLLM publishes to the EPP Service we name (the picker binds the
port, which its Service exposes); with `discovery: pods` vLLM binds and the picker discovers the pods.
"""

from __future__ import annotations

from typing import Any

from llmd_compile.catalog import paths, vllm
from llmd_compile.errors import Problem, SpecError
from llmd_compile.resolve import SERVICE_PORT, Stack

FIELD = "scheduler.scorers.precisePrefixCache"
TOKENIZER_SIDECAR = "tokenizer-uds"
RENDER_SERVICE = "render"  # the guide's render/ Service (kustomize namePrefix + "render")
ROUTER_BLOCK_SIZE = 64  # the v0.9 guide's blockSizeTokens / vLLM --block-size
ROUTER_CONCURRENCY = 8


def enabled(stack: Stack) -> bool:
    sched = stack.spec.scheduler
    return sched.scorers.precisePrefixCache is not None and sched.endpointPickerConfig is None


def layout(stack: Stack) -> paths.Precise:
    found = paths.precise(stack.picker)
    if found is None:
        raise SpecError([Problem(stack.source, 0, 0, FIELD, (
            f"picker {stack.picker.name} has no precise prefix-cache scorer: it is llm-d-inference-scheduler's "
            "(sched-v0.2.1 as prefix-cache-scorer mode cache_tracking, precise-prefix-cache-scorer from sched-v0.3.2); "
            "llm-d-router needs data-layer wiring llmd-compile does not generate yet"))])
    problems = []
    tuning = stack.spec.scheduler.precisePrefixCache
    if found.producer is not None:
        return _router_layout(stack, found)
    if tuning.kvEvents.discovery == "pods" and not found.discover_pods:
        problems.append(Problem(stack.source, 0, 0, "scheduler.precisePrefixCache.kvEvents.discovery",
                                f"picker {stack.picker.name} cannot discover vLLM pods (kvEventsConfig.discoverPods "
                                "arrives with sched-v0.7.1): use discovery: service"))
    if tuning.kvEvents.discovery == "pods" and tuning.kvEvents.port != paths.INDEXER_PORT:
        problems.append(Problem(stack.source, 0, 0, "scheduler.precisePrefixCache.kvEvents.port",
                                f"with pod discovery the picker connects to port {paths.INDEXER_PORT} on each pod"))
    if tuning.tokenizer == "uds" and (found.tokenizer is None or not stack.pool.has_sidecar or not _uds_image(stack)):
        problems.append(Problem(stack.source, 0, 0, "scheduler.precisePrefixCache.tokenizer",
                                "the UDS tokenizer sidecar needs picker sched-v0.7.1+ (tokenizer plugin), "
                                "inferencepool v1.2.0+ (inferenceExtension.sidecar) and release v0.6 (its image)"))
    if problems:
        raise SpecError(problems)
    return found


def _router_layout(stack: Stack, found: paths.Precise) -> paths.Precise:
    """llm-d-router: pod discovery only (the v0.9 guide); the UDS tokenizer is gone (CURRENT §5, §7)."""
    tuning = stack.spec.scheduler.precisePrefixCache
    problems = []
    if "discovery" in tuning.kvEvents.model_fields_set and tuning.kvEvents.discovery == "service":
        problems.append(Problem(stack.source, 0, 0, "scheduler.precisePrefixCache.kvEvents.discovery",
                                f"picker {stack.picker.name} subscribes to each vLLM pod (pod discovery); drop "
                                "discovery: service"))
    if tuning.tokenizer == "uds":
        problems.append(Problem(stack.source, 0, 0, "scheduler.precisePrefixCache.tokenizer",
                                f"picker {stack.picker.name} has no UDS tokenizer (llm-d-uds-tokenizer is gone); its "
                                "token-producer renders prompts through vLLM: drop tokenizer: uds"))
    if problems:
        raise SpecError(problems)
    return found


def router_events(stack: Stack) -> tuple[int, int, int, int]:
    """(events port, replay port, block size tokens, concurrency) for the router picker: the spec's where it says
    so, else the v0.9 guide's (LD@e3dbeca1 precise-prefix-cache-routing: 5556, 5559, 64, 8)."""
    tuning = stack.spec.scheduler.precisePrefixCache
    events = tuning.kvEvents
    port = events.port if "port" in events.model_fields_set else paths.ROUTER_EVENTS_PORT
    block = tuning.blockSize if "blockSize" in tuning.model_fields_set else ROUTER_BLOCK_SIZE
    concurrency = events.concurrency if "concurrency" in events.model_fields_set else ROUTER_CONCURRENCY
    return port, paths.ROUTER_REPLAY_PORT, block, concurrency


def render_url(stack: Stack) -> str:
    """The render Service the token-producer calls: the model servers' own /v1/*/render behind `<prefix>render`."""
    return f"http://{stack.names.ms_fullname}-{RENDER_SERVICE}:{SERVICE_PORT}"


def _router_plugins(stack: Stack, found: paths.Precise) -> list[dict[str, Any]]:
    port, replay, block, concurrency = router_events(stack)
    assert found.producer and found.tokenizer and found.notification_source
    producer = {
        "tokenProcessorConfig": {"blockSizeTokens": block},
        "speculativeIndexing": True,
        "indexerConfig": {"kvBlockIndexConfig": {"enableMetrics": True}},
        "kvEventsConfig": {"topicFilter": paths.TOPIC_FILTER, "concurrency": concurrency, "discoverPods": True,
                           "podDiscoveryConfig": {"socketPort": port, "replaySocketPort": replay}},
    }
    return [{"type": found.tokenizer, "parameters": {"modelName": stack.spec.model.name,
                                                     "vllm": {"url": render_url(stack)}}},
            {"type": found.notification_source},
            {"type": found.producer, "parameters": producer}]


def data_layer(stack: Stack) -> dict[str, Any] | None:
    """The router's dataLayer: pod notifications feed the precise producer's index (the v0.9 guide)."""
    if not enabled(stack):
        return None
    found = paths.precise(stack.picker)
    if found is None or found.producer is None:
        return None
    return {"sources": [{"pluginRef": found.notification_source, "extractors": [{"pluginRef": found.producer}]}]}


def _uds_image(stack: Stack) -> str | None:
    release = stack.release or stack.image_release
    return release.uds_tokenizer_image if release else None


def endpoint(stack: Stack) -> str:
    """Where vLLM's ZMQ publisher connects (service) or binds (pods)."""
    events = stack.spec.scheduler.precisePrefixCache.kvEvents
    host = stack.names.epp_host if events.discovery == "service" else "*"
    return f"tcp://{host}:{events.port}"


def topic(stack: Stack, found: paths.Precise) -> str:
    """kv@<pod>@<model>: the pod as the picker knows the endpoint (its IP, and the pool's target port from v0.7)."""
    pod = f"$(POD_IP):{SERVICE_PORT}" if found.topic_port else "$(POD_IP)"
    return f"{paths.TOPIC_FILTER}{pod}@{stack.spec.model.served_name}"


def _token_processor(stack: Stack) -> dict[str, Any]:
    tuning = stack.spec.scheduler.precisePrefixCache
    return {"blockSize": tuning.blockSize, "hashSeed": tuning.hashSeed}


def _tokenizers_pool(stack: Stack) -> dict[str, Any]:
    pool: dict[str, Any] = {"modelName": stack.spec.model.name}
    if stack.spec.scheduler.precisePrefixCache.tokenizer == "uds":
        # null switches off the indexer's default local/HF tokenizers (LD@899f8517 gaie-kv-events values).
        pool.update({"local": None, "hf": None, "uds": {"socketFile": paths.UDS_SOCKET}})
    return pool


def _kv_events(stack: Stack, found: paths.Precise) -> dict[str, Any]:
    events = stack.spec.scheduler.precisePrefixCache.kvEvents
    config: dict[str, Any] = {"topicFilter": paths.TOPIC_FILTER, "concurrency": events.concurrency}
    if found.discover_pods:
        config["discoverPods"] = events.discovery == "pods"
    if events.discovery == "pods":
        selector = ",".join(f"{k}={v}" for k, v in stack.pod_labels.items())
        config["podDiscoveryConfig"] = {"podLabelSelector": selector, "podNamespace": stack.names.namespace}
    else:
        config["zmqEndpoint"] = f"tcp://*:{events.port}"
    return config


def scorer_parameters(stack: Stack, found: paths.Precise) -> dict[str, Any]:
    if found.producer is not None:
        return {"prefixMatchInfoProducerName": found.producer}
    params: dict[str, Any] = {}
    if found.scorer == "prefix-cache-scorer":
        params["mode"] = "cache_tracking"
    if found.token_processor == "top":
        params["tokenProcessorConfig"] = _token_processor(stack)
        params["indexerConfig"] = {"tokenizersPoolConfig": _tokenizers_pool(stack)}
    else:
        params["indexerConfig"] = {"tokenProcessorConfig": _token_processor(stack)}
    params["kvEventsConfig"] = _kv_events(stack, found)
    return params


def extra_plugins(stack: Stack, found: paths.Precise) -> list[dict[str, Any]]:
    """The tokenizer data producer (SCHED v0.7.1+), on the same tokenizer as the indexer."""
    if found.producer is not None:
        return _router_plugins(stack, found)
    if found.tokenizer is None:
        return []
    params: dict[str, Any] = {"modelName": stack.spec.model.name}
    if stack.spec.scheduler.precisePrefixCache.tokenizer == "uds":
        params["udsTokenizerConfig"] = {"socketFile": paths.UDS_SOCKET}
    return [{"type": found.tokenizer, "parameters": params}]


# --- the model-server side ------------------------------------------------------------------------------------------


def _router_vllm_args(stack: Stack, args: list[str]) -> list[str]:
    """LD@e3dbeca1 precise-prefix-cache-routing patch-vllm.yaml: vLLM binds the publisher and replay sockets."""
    port, replay, block, _ = router_events(stack)
    out = list(args)
    if not vllm.has_flag(args, vllm.BLOCK_SIZE_FLAG):
        out.append(f"{vllm.BLOCK_SIZE_FLAG}={block}")
    events = {"enable_kv_cache_events": True, "publisher": "zmq", "endpoint": f"tcp://*:{port}",
              "replay_endpoint": f"tcp://*:{replay}",
              "topic": f"{paths.TOPIC_FILTER}$(POD_IP):$(POD_PORT)@{stack.spec.model.served_name}"}
    return [*out, vllm.KV_EVENTS_FLAG, vllm.compact_json(events)]


def vllm_args(stack: Stack, args: list[str]) -> list[str]:
    found = layout(stack)
    if found.producer is not None:
        return _router_vllm_args(stack, args)
    tuning = stack.spec.scheduler.precisePrefixCache
    out = list(args)
    # A --block-size the user wrote wins; LLMD116 reports it if it differs from the indexer's.
    if not vllm.has_flag(args, vllm.BLOCK_SIZE_FLAG):
        out.append(f"{vllm.BLOCK_SIZE_FLAG}={tuning.blockSize}")
    if found.hash_algo and not vllm.has_flag(args, "--prefix-caching-hash-algo"):
        out += ["--prefix-caching-hash-algo", found.hash_algo]
    events = {"enable_kv_cache_events": True, "publisher": "zmq", "endpoint": endpoint(stack),
              "topic": topic(stack, found)}
    out += [vllm.KV_EVENTS_FLAG, vllm.compact_json(events)]
    return out


def vllm_env(stack: Stack) -> list[dict[str, Any]]:
    if stack.picker.family == "router":
        # No hash seed to share any more: the router recomputes block keys from token ids (router #1494, §7).
        return [{"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
                {"name": "POD_PORT", "value": str(SERVICE_PORT)}]
    return [
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
        {"name": "PYTHONHASHSEED", "value": stack.spec.scheduler.precisePrefixCache.hashSeed},
    ]


def vllm_ports(stack: Stack) -> list[dict[str, Any]]:
    if stack.picker.family == "router":
        port, replay, _, _ = router_events(stack)
        return [{"containerPort": port, "name": "kv-events", "protocol": "TCP"},
                {"containerPort": replay, "name": "kv-replay", "protocol": "TCP"}]
    events = stack.spec.scheduler.precisePrefixCache.kvEvents
    if events.discovery != "pods":
        return []
    return [{"containerPort": events.port, "name": "kv-events", "protocol": "TCP"}]


# --- the picker side (inferencepool values) -------------------------------------------------------------------------


def pool_extension(stack: Stack) -> dict[str, Any]:
    """inferenceExtension keys: the ZMQ port the picker binds, its token Secret, the UDS tokenizer sidecar."""
    spec = stack.spec
    tuning = spec.scheduler.precisePrefixCache
    out: dict[str, Any] = {}
    if tuning.kvEvents.discovery == "service" and stack.picker.family != "router":  # the router dials the pods
        port = tuning.kvEvents.port
        out["extraContainerPorts"] = [{"name": "zmq", "containerPort": port, "protocol": "TCP"}]
        out["extraServicePorts"] = [{"name": "zmq", "port": port, "targetPort": port, "protocol": "TCP"}]
    secret = spec.model.tokenSecret
    if secret is not None:
        out["env"] = [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret.name, "key": secret.key}}}]
    if tuning.tokenizer == "uds":
        socket_dir = paths.UDS_SOCKET.rsplit("/", 1)[0]
        out["sidecar"] = {
            "enabled": True,
            "image": _uds_image(stack),
            "imagePullPolicy": "IfNotPresent",
            "name": TOKENIZER_SIDECAR,
            "configMap": {"name": f"{TOKENIZER_SIDECAR}-config", "data": {"placeholder": ""}},
            # HF_HOME and TOKENIZERS_DIR must name the same directory (LD@899f8517 gaie-kv-events values).
            "env": [{"name": "TOKENIZERS_DIR", "value": "/tokenizers"}, {"name": "HF_HOME", "value": "/tokenizers"}],
            "volumeMounts": [{"mountPath": "/tokenizers", "name": "tokenizers"},
                             {"mountPath": socket_dir, "name": TOKENIZER_SIDECAR}],
        }
        out["volumes"] = [{"name": "tokenizers", "emptyDir": {}}, {"name": TOKENIZER_SIDECAR, "emptyDir": {}}]
        out["volumeMounts"] = [{"mountPath": socket_dir, "name": TOKENIZER_SIDECAR}]
    return out
