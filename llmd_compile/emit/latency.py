"""Predicted-latency routing (scheduler.predictedLatency): the router's latency predictor (a training server and
prediction servers beside the picker, `router.latencyPredictor.*`) and the picker pipeline that places requests on
predicted TTFT/TPOT, with SLO-aware admission when the spec names SLO targets (LD@e3dbeca1
guides/predicted-latency-routing/router/predicted-latency{,-slo}.values.yaml).
"""

from __future__ import annotations

from typing import Any

from llmd_compile.errors import Problem, SpecError
from llmd_compile.resolve import Stack

FIELD = "scheduler.predictedLatency"
PRODUCER = "predicted-latency-producer"
PREFIX = "approx-prefix-cache-producer"
AFFINITY = "prefix-cache-affinity-filter"
SCORER, PICKER = "latency-scorer", "weighted-random-picker"
TIER, ADMITTER = "slo-headroom-tier-filter", "latency-slo-admitter"
# Two-gate prefix affinity: near-exact matches before the SLO tier filter, partial matches after it (the guide's
# thresholds and TTFT penalty).
STRICT, LOOSE = ("strict-affinity-filter", 0.99), ("loose-affinity-filter", 0.8)
MAX_TTFT_PENALTY_MS = 5000


def _affinity(name: str, threshold: float) -> dict[str, Any]:
    return {"type": AFFINITY, "name": name, "parameters": {"affinityThreshold": threshold,
                                                           "ttftSource": "latencyPredictor",
                                                           "maxTTFTPenaltyMs": MAX_TTFT_PENALTY_MS}}


def _problems(stack: Stack) -> list[Problem]:
    sched = stack.spec.scheduler
    found: list[Problem] = []

    def at(field: str, message: str) -> Problem:
        return Problem(stack.source, 0, 0, field, message)

    if stack.shape != "router":
        found.append(at(FIELD, "the latency predictor is generated for the router shape only (release v0.8 or "
                               "v0.9)"))
    if stack.disaggregated:
        found.append(at(FIELD, "predicted-latency routing for P/D (predicted-latency-pd.values.yaml) is not "
                               "generated yet: drop prefill or predictedLatency"))
    if sched.scorers.model_dump(exclude_none=True):
        found.append(at("scheduler.scorers", "predicted-latency routing scores endpoints by predicted latency "
                                             "(latency-scorer): drop scheduler.scorers"))
    if "picker" in sched.model_fields_set and sched.picker != "weighted-random":
        found.append(at("scheduler.picker", "predicted-latency routing picks with weighted-random-picker"))
    wanted = [PREFIX, PRODUCER, AFFINITY, SCORER, PICKER, TIER, ADMITTER]
    missing = [t for t in wanted if t not in stack.picker.plugins]
    if missing:
        found.append(at(FIELD, f"picker {stack.picker.name} has no {', '.join(missing)}"))
    return found


def picker_config(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    latency = stack.spec.scheduler.predictedLatency
    if latency is None:
        return body
    found = _problems(stack)
    if found:
        raise SpecError(found)
    slo = latency.slo is not None
    producer: dict[str, Any] = {"type": PRODUCER}
    if latency.streaming_mode:
        producer["parameters"] = {"streamingMode": True}
    plugins: list[dict[str, Any]] = [
        {"type": PREFIX, "parameters": {"maxPrefixTokensToMatch": latency.maxPrefixTokensToMatch}},
        producer,
        *([_affinity(*STRICT)] if slo else []),
        _affinity(*LOOSE),
        {"type": SCORER},
        {"type": PICKER},
        *([{"type": TIER}, {"type": ADMITTER}] if slo else []),
    ]
    refs = [PRODUCER, *([STRICT[0], TIER] if slo else []), LOOSE[0], SCORER, PICKER]
    rest = {k: v for k, v in body.items() if k not in ("plugins", "schedulingProfiles")}
    return {**rest, "plugins": plugins,
            "schedulingProfiles": [{"name": "default", "plugins": [{"pluginRef": r} for r in refs]}]}


def _image(image: str) -> dict[str, Any]:
    ref, at, digest = image.partition("@")
    last = ref.rsplit("/", 1)[-1]
    ref, _, tag = ref.rpartition(":") if ":" in last else (ref, "", "latest")
    registry, _, repository = ref.rpartition("/")
    return {"registry": registry, "repository": repository, "tag": f"{tag}{at}{digest}", "pullPolicy": "IfNotPresent"}


def predictor_values(stack: Stack) -> dict[str, Any] | None:
    """router.latencyPredictor: the chart runs the training and prediction servers in the picker's pod."""
    latency = stack.spec.scheduler.predictedLatency
    if latency is None:
        return None
    out: dict[str, Any] = {"enabled": True}
    if latency.trainingImage:
        out["trainingServer"] = {"image": _image(latency.trainingImage)}
    servers: dict[str, Any] = {}
    if latency.predictionServers != 1:
        servers["count"] = latency.predictionServers
    if latency.predictionImage:
        servers["image"] = _image(latency.predictionImage)
    if servers:
        out["predictionServers"] = servers
    return out
