"""Health probes of the vLLM container: the path's startup/liveness/readiness probes (catalog/vllm.py), with
what the spec's role.probes overrides.

The chart copies a container's startupProbe/livenessProbe/readinessProbe into the pod as written (CATALOG §b.2,
every supported llm-d-modelservice version). They probe vLLM itself, on its own port: behind the routing sidecar
that is routing.proxy.targetPort, as the LD@v0.4.0 guides wrote it.
"""

from __future__ import annotations

from typing import Any

from llmd_compile.catalog import vllm
from llmd_compile.resolve import Stack
from llmd_compile.spec.models import Workload

KEYS = {"startup": "startupProbe", "liveness": "livenessProbe", "readiness": "readinessProbe"}
TIMINGS = ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold")


def probes(stack: Stack, role: Workload, port: int) -> dict[str, Any]:
    """{startupProbe, livenessProbe, readinessProbe} for the role's vLLM container ({} with probes: null)."""
    if role.probes is None:
        return {}
    defaults = vllm.probe_defaults(stack.spec.accelerator.vendor, stack.multinode, stack.disaggregated)
    out: dict[str, Any] = {}
    for kind, key in KEYS.items():
        probe = getattr(role.probes, kind)
        if probe is None:
            continue
        fields = {**defaults[kind], **probe.model_dump(exclude_none=True)}
        out[key] = {"httpGet": {"path": fields["path"], "port": port},
                    **{name: fields[name] for name in TIMINGS if name in fields}}
    return out
