"""Flow control (scheduler.flowControl): the picker queues requests per priority band and dispatches them when the
pool has room (LD@e3dbeca1 guides/flow-control/router/flow-control.values.yaml), and the InferenceObjectives that give
requests their priority (guides/flow-control/objectives.yaml, llm-d.ai/v1alpha2).

The objectives are installed by the router chart (`router.inferenceObjectives`), which points each at the release's
own InferencePool; one priority band per distinct objective priority, highest first.
"""

from __future__ import annotations

from typing import Any

from llmd_compile.errors import Problem, SpecError
from llmd_compile.resolve import Stack
from llmd_compile.spec.features import FlowControl

FIELD = "scheduler.flowControl"
GATE = "flowControl"
FAIRNESS = {"round-robin": "round-robin-fairness-policy", "global-strict": "global-strict-fairness-policy"}
ORDERING = {"fcfs": "fcfs-ordering-policy"}
DETECTOR = {"concurrency": "concurrency-detector", "utilization": "utilization-detector"}


def settings(stack: Stack) -> FlowControl | None:
    return stack.spec.scheduler.flowControl


def bands(flow: FlowControl) -> list[tuple[int, int | None]]:
    """(priority, maxRequests) per band, highest priority first."""
    found: dict[int, int | None] = {}
    for objective in flow.objectives:
        found.setdefault(objective.priority, objective.maxRequests)
    return sorted(found.items(), key=lambda item: -item[0])


def _detector(flow: FlowControl) -> dict[str, Any]:
    sat = flow.saturation
    plugin: dict[str, Any] = {"type": DETECTOR[sat.detector]}
    if sat.detector == "concurrency":
        plugin["parameters"] = {"maxConcurrency": sat.maxConcurrency, "concurrencyMode": sat.mode,
                                "headroom": sat.headroom}
    elif sat.headroom:
        plugin["parameters"] = {"headroom": sat.headroom}
    return plugin


def picker_config(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    flow = settings(stack)
    if flow is None:
        return body
    if stack.shape != "router":
        raise SpecError([Problem(stack.source, 0, 0, FIELD, "flow control with llm-d.ai InferenceObjectives is "
                                 "generated for the router shape only (release v0.8 or v0.9)")])
    missing = [t for t in (FAIRNESS[flow.fairness], ORDERING[flow.ordering], DETECTOR[flow.saturation.detector])
               if t not in stack.picker.plugins]
    if missing or GATE not in stack.picker.feature_gates:
        raise SpecError([Problem(stack.source, 0, 0, FIELD, f"picker {stack.picker.name} has no flow control "
                                 f"({', '.join(missing) or 'feature gate ' + GATE})")])
    fairness, ordering = FAIRNESS[flow.fairness], ORDERING[flow.ordering]
    detector = _detector(flow)
    plugins = [*body["plugins"], {"type": fairness}, {"type": ordering}, detector]
    priority_bands = []
    for priority, max_requests in bands(flow):
        band: dict[str, Any] = {"priority": priority}
        if max_requests is not None:
            band["maxRequests"] = str(max_requests)
        band.update(fairnessPolicyRef=fairness, orderingPolicyRef=ordering)
        priority_bands.append(band)
    control = {"maxBytes": flow.maxBytes, "maxRequests": str(flow.maxRequests),
               "defaultRequestTTL": flow.defaultRequestTTL, "saturationDetector": {"pluginRef": detector["type"]},
               "priorityBands": priority_bands}
    gates = [*body.get("featureGates", []), GATE]
    return {"featureGates": gates, **body, "plugins": plugins, "flowControl": control}


def objectives(stack: Stack) -> list[dict[str, Any]]:
    """router.inferenceObjectives: the chart renders each as an InferenceObjective on the release's pool."""
    flow = settings(stack)
    return [] if flow is None else [{"name": o.name, "priority": o.priority} for o in flow.objectives]
