"""Version combinations the catalog knows do not work, as data: each rule names both sides and why.

A rule looks at the pinned chart versions, the endpoint-picker registry and the few spec choices a version
can lack (gateway provider, sidecar switch, accelerator, EPP monitoring). resolve.py reports every rule that
fires, at the first of the rule's spec fields the user wrote (else the first). Sources: CATALOG.md §b-§e.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llmd_compile.catalog.charts import POOL_K8S, InfraChart, ModelServiceChart, PoolChart
from llmd_compile.catalog.plugins import PickerVersion


@dataclass(frozen=True)
class Pins:
    """What the rules look at: resolved versions plus the spec choices that depend on them."""

    infra: InfraChart | None  # None: no llm-d-infra release (gateway.provider none)
    pool: PoolChart
    ms: ModelServiceChart
    picker: PickerVersion
    provider: str  # gateway.provider
    sidecar_disabled: bool  # decode.sidecar.enabled: false
    vendor: str  # accelerator.vendor
    epp_monitoring: bool  # monitoring.epp.enabled
    dra: bool = False  # accelerator.dra
    multinode: bool = False  # a role's parallelism.dataLocal (wide-EP LeaderWorkerSets)


@dataclass(frozen=True)
class Rule:
    name: str
    fields: tuple[str, ...]  # spec fields to report at, in order of preference
    fires: Callable[[Pins], bool]
    message: Callable[[Pins], str]


def _infra(p: Pins) -> InfraChart:
    assert p.infra is not None, "only rules that fire with an infra chart ask for it"
    return p.infra


def _v1_api_picker(p: PickerVersion) -> bool:
    """The picker speaks the GAIE v1.0+ API (--pool-group, inference.networking.k8s.io by default)."""
    return p.family == "router" or p.gaie_base != "v0.5.1"


RULES: tuple[Rule, ...] = (
    Rule(
        "old-picker-new-pool",
        ("scheduler.image", "scheduler.version", "charts.inferencepool", "release"),
        lambda p: not _v1_api_picker(p.picker) and p.pool.passes_pool_group,
        lambda p: (
            f"endpoint picker {p.picker.name} (GAIE v0.5.1 API) cannot run under inferencepool {p.pool.version}: "
            f"that chart passes --pool-group to the EPP, a flag the picker does not define (it exits), and "
            f"renders an {p.pool.pool_api_versions[0]} InferencePool by default (CATALOG §d.3); use a picker "
            f"from sched-v0.3.2 / gaie-v1.0.1 on, or inferencepool v0.5.1"
        ),
    ),
    Rule(
        "new-picker-old-pool",
        ("charts.inferencepool", "scheduler.image", "scheduler.version", "release"),
        lambda p: _v1_api_picker(p.picker) and not p.pool.passes_pool_group,
        lambda p: (
            f"inferencepool {p.pool.version} renders only an {p.pool.pool_api_versions[0]} InferencePool and "
            f"passes no --pool-group, while endpoint picker {p.picker.name} (GAIE v1.0+ API) watches "
            f"{POOL_K8S.split('/')[0]} unless told otherwise and would find no pool (CATALOG §d.3); use "
            f"inferencepool v1.0.1 or newer, or a GAIE v0.5.1 picker (sched-v0.2.1)"
        ),
    ),
    Rule(
        "provider-needs-infra",
        ("gateway.provider", "charts.infra", "release"),
        lambda p: p.infra is not None and p.provider not in p.infra.providers,
        lambda p: (
            f"llm-d-infra {_infra(p).version} renders no {p.provider} gateway (it knows "
            f"{', '.join(sorted(_infra(p).providers))}; kgateway's 'agentgateway-v2' class is not the agentgateway "
            f"provider): {p.provider} needs llm-d-infra v1.4.0 (CATALOG §c.2)"
        ),
    ),
    Rule(
        "sidecar-always-on",
        ("decode.sidecar.enabled", "charts.modelservice", "release"),
        lambda p: p.sidecar_disabled and not p.ms.proxy_toggle,
        lambda p: (
            f"llm-d-modelservice {p.ms.version} always renders the routing sidecar (routing.proxy.enabled "
            f"exists from v0.2.8, CATALOG §b.2); enable the sidecar or pin llm-d-modelservice v0.2.9 or newer"
        ),
    ),
    Rule(
        "accelerator-type",
        ("accelerator.vendor", "charts.modelservice", "release"),
        # simulated pods request no accelerator: any chart runs them (modelservice.py picks "cpu" where it exists).
        lambda p: p.vendor not in p.ms.accelerator_types and p.vendor != "simulated",
        lambda p: (
            f"llm-d-modelservice {p.ms.version} has no accelerator type for {p.vendor!r} (it knows "
            f"{', '.join(p.ms.accelerator_types.values())}; 'intel-gaudi' arrives in v0.2.16, 'cpu' in v0.4.5): "
            f"its templates would fall back to their nvidia GPU default"
        ),
    ),
    Rule(
        "dra",
        ("accelerator.dra", "charts.modelservice", "release"),
        lambda p: p.dra and p.vendor not in p.ms.dra_types,
        lambda p: (
            f"llm-d-modelservice {p.ms.version} has no ResourceClaimTemplate for {p.vendor!r}"
            + (" (accelerator.dra arrives in v0.4.0, CATALOG §b.2)" if not p.ms.dra_types else "")
        ),
    ),
    Rule(
        "multinode",
        ("decode.parallelism.dataLocal", "prefill.parallelism.dataLocal", "charts.modelservice", "release"),
        lambda p: p.multinode and p.ms.lws_size is None,
        lambda p: (
            f"llm-d-modelservice {p.ms.version}: how its LeaderWorkerSet is sized from parallelism is not catalogued "
            f"(parallelism.data in v0.2.x, parallelism.workers in v0.4.x, CATALOG §b.2); pin one of those"
        ),
    ),
    Rule(
        "epp-monitoring",
        ("monitoring.epp.enabled", "charts.inferencepool", "release"),
        lambda p: p.epp_monitoring and p.pool.epp_monitoring == "none",
        lambda p: (
            f"inferencepool {p.pool.version} cannot create a ServiceMonitor for the EPP "
            f"(inferenceExtension.monitoring arrives in v1.0.1, CATALOG §d.2)"
        ),
    ),
)


def incompatibilities(pins: Pins) -> list[tuple[Rule, str]]:
    """Every rule that fires, with its message."""
    return [(rule, rule.message(pins)) for rule in RULES if rule.fires(pins)]
