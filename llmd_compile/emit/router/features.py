"""Router chart values of the v0.9 feature paths (issue 17): the InferenceObjectives of flow control
(`router.inferenceObjectives`, emit/flow.py) and the latency predictor (`router.latencyPredictor`, emit/latency.py).
The picker side of both lives in the EndpointPickerConfig (emit/epp.py)."""

from __future__ import annotations

from typing import Any

from llmd_compile.emit import flow, latency
from llmd_compile.resolve import Stack


def values(stack: Stack) -> dict[str, Any]:
    """Keys under `router:` this stack adds."""
    out: dict[str, Any] = {}
    objectives = flow.objectives(stack)
    if objectives:
        out["inferenceObjectives"] = objectives
    predictor = latency.predictor_values(stack)
    if predictor:
        out["latencyPredictor"] = predictor
    return out
