"""Router chart values of the v0.9 feature paths (issue 17): the InferenceObjectives of flow control
(`router.inferenceObjectives`, emit/flow.py) and the latency predictor (`router.latencyPredictor`, emit/latency.py).
The picker side of both lives in the EndpointPickerConfig (emit/epp.py)."""

from __future__ import annotations

from typing import Any

from llmd_compile.emit import flow, latency, multimodel
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


def readme(stack: Stack) -> list[str]:
    """README notes: how clients use what the stack turns on."""
    spec = stack.spec
    lines: list[str] = []
    offload = spec.kvOffload
    if offload is not None:
        connector = "vLLM's OffloadingConnector" if offload.connector == "native" else "the LMCache connector"
        lines.append(f"- Tiered prefix cache: {connector} keeps {offload.cpu.size} of evicted KV blocks per decode pod "
                     "in CPU RAM; the picker scores the GPU and the CPU tier with one prefix-cache producer/scorer "
                     "each.")
        if offload.filesystem is not None:
            claim = offload.filesystem.pvc
            lines.append(f"- The filesystem tier writes to the ReadWriteMany claim `{claim.name}` "
                         f"({claim.size}, mounted at `{offload.filesystem.mountPath}`); nothing evicts from it: the "
                         "storage system or an external evictor bounds it.")
    flow_control = flow.settings(stack)
    if flow_control is not None:
        names = ", ".join(f"`{o.name}` ({o.priority})" for o in flow_control.objectives)
        lines.append(f"- Flow control: clients choose a priority with `x-llm-d-inference-objective: <name>` "
                     f"({names}) and a tenant with `x-llm-d-inference-fairness-id`; strip both at your ingress.")
    latency_settings = spec.scheduler.predictedLatency
    if latency_settings is not None:
        slo = latency_settings.slo
        targets = {"ttft": slo.ttftMs, "tpot": slo.tpotMs} if slo else {}
        headers = [f"`x-llm-d-slo-{name}-ms: {ms}`" for name, ms in targets.items() if ms]
        line = "- Predicted-latency routing: the latency predictor runs in the picker pod."
        if headers:
            line += f" Send the SLO targets as {' and '.join(headers)}; requests of negative priority are shed " \
                    "when no endpoint can meet them."
        if latency_settings.streaming_mode:
            line += ' Send every request with `"stream": true` (TPOT trains on streamed responses).'
        lines.append(line)
    matches = multimodel.header_matches(stack)
    if matches:
        flags = " ".join(f"-H '{k}: {v}'" for k, v in sorted(matches.items()))
        lines.append(f"- The route takes only requests with {flags} (add them to the curl above); other stacks "
                     "serve other models behind the same Gateway.")
    if not spec.gateway.create:
        lines.append(f"- The Gateway `{stack.names.gateway}`, the CRDs and the gateway control plane come from the "
                     "stack that creates them (gateway.create: false here).")
    return lines
