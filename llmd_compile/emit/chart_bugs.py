"""Upstream chart bugs that rendering the charts revealed (issue 14, tests/render), and what the values do
about each: the stack README lists the ones that apply. The facts are in catalog.charts (versions, sources)."""

from __future__ import annotations

from llmd_compile.catalog import charts
from llmd_compile.resolve import Stack


def applying(stack: Stack) -> list[str]:
    spec = stack.spec
    found = []
    if stack.infra is not None and stack.infra.listener_path_bug:
        found.append(f"llm-d-infra {stack.infra.version}: the default Gateway listener carries `path: /`, which is "
                     "no Gateway listener field (strict validation rejects the Gateway; fixed in v1.3.3). "
                     "`values/infra.yaml` sets `gateway.listeners` without it.")
    if charts.gke_monitoring_glued(stack.pool, spec.gateway.provider, spec.monitoring.epp.enabled):
        found.append(f"inferencepool {stack.pool.version} with `provider.name: gke`: `templates/gke.yaml` glues "
                     "`---apiVersion: v1`; kubectl and Argo CD read the GCPBackendPolicy and the metrics reader as "
                     "one bogus object. `values/inferencepool.yaml` switches the chart's EPP monitoring off and "
                     "`base/epp-metrics-*.yaml`, `base/epp-podmonitoring.yaml` carry the same GMP scrape (LLMD432; "
                     "on Autopilot, patch the collector RoleBinding subject namespace to `gke-gmp-system`).")
    tp = max(r.parallelism.tensor for r in (spec.decode, spec.prefill) if r is not None)
    if stack.ms.gpu_from_tensor_bug and spec.accelerator.vendor not in ("nvidia", "simulated") and tp > 1:
        found.append(f"llm-d-modelservice {stack.ms.version}: `parallelism.tensor > 1` adds `nvidia.com/gpu` to "
                     "every pod whatever the accelerator. `values/modelservice.yaml` keeps `parallelism.tensor: 1` "
                     "and passes `--tensor-parallel-size` to vLLM.")
    if spec.gateway.provider == "gke":
        found.append("GKE: a `gke-l7-*` Gateway is a Google Cloud load balancer with no in-cluster Service; the "
                     "smoke test reads the Gateway's address from its status (ServiceAccount, Role and RoleBinding "
                     "`<name>-smoke-test` in `base/`).")
    return found


def readme_lines(stack: Stack) -> list[str]:
    found = applying(stack)
    if not found:
        return []
    return ["", "## Upstream chart workarounds", "", *(f"- {line}" for line in found)]
