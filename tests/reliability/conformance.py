"""Every artifact of a compiled stack against the upstream oracles in ../shared (tests/conformance/oracles.py).

Generic on purpose: each YAML document that is a Kubernetes object is validated by its apiVersion/kind
(built-in groups against the Kubernetes schemas, everything else against its CRD), values files against
their chart's values.schema.json, and the EndpointPickerConfig against the picker's upstream plugin
registry. A new artifact family is covered without touching this file.
"""

from __future__ import annotations

import functools
import json
from typing import Any

try:  # tests/ is a package
    from ..conformance import oracles as o
except ImportError:  # tests/ on sys.path (rootdir-relative imports)
    from conformance import oracles as o  # type: ignore[no-redef]
from ruamel.yaml import YAML

from llmd_compile.resolve import Stack

CHART_OF = {"values/infra.yaml": ("llm-d-infra", "infra"), "values/modelservice.yaml": ("llm-d-modelservice", "ms")}
NOT_OBJECTS = {"Kustomization", "Component"}  # kustomize's own files: checked by `kubectl kustomize`, not here
# Kinds we emit whose CRD is not copied into ../shared (tests/render/validate.py NO_ORACLE lists the rendered ones).
NO_ORACLE = {("monitoring.googleapis.com/v1", "PodMonitoring")}
TYPE_OF_CONST = {"reqdataprodprefix.ApproxPrefixCachePluginType": "approx-prefix-cache-producer",
                 "inflightload.InFlightLoadProducerType": "inflight-load-producer",
                 "latencyproducer.LatencyDataProviderPluginType": "predicted-latency-producer",
                 "sessionid.SessionIDProducerType": "session-id-producer"}
# Registered by init() functions the registry JSON misses (tests/conformance/test_version_matrix.py BY_INIT).
BY_INIT = {"v1.4.0": {"concurrency-detector"},
           "v1.5.0": {"eviction-sheddable-filter", "eviction-priority-then-time-ordering"}}


def load_all(text: str) -> list[Any]:
    yaml = YAML(typ="safe")
    return [doc for doc in yaml.load_all(str(text)) if doc is not None]


@functools.cache
def registry_types(picker: str, gaie_base: str) -> frozenset[str]:
    def types(stem: str) -> set[str]:
        path = o.shared() / "upstream/plugin-registries" / f"{stem}.json"
        entries = json.loads(path.read_text(encoding="utf-8"))
        return {e["type"] or TYPE_OF_CONST[e["const"]] for e in entries if e["kind"] != "FeatureGate"}

    found = types(picker)
    if picker.startswith("sched-"):
        found |= types(f"gaie-{gaie_base}")
    return frozenset(found | BY_INIT.get(gaie_base, set()))


def _crd_release(doc: dict[str, Any], stack: Stack) -> str | None:
    if str(doc.get("apiVersion", "")).startswith("gateway.networking.k8s.io/") and stack.release:
        wanted = stack.release.gateway_api_crds
        if (o.shared() / "upstream/data/kubernetes-sigs__gateway-api" / wanted).is_dir():
            return wanted
    return None


def errors(stack: Stack, files: dict[str, str], skipped: list[str] | None = None) -> list[str]:
    """Every validation error of the artifact set, as `path: message`; [] when it all conforms."""
    found: list[str] = []
    skipped = skipped if skipped is not None else []
    for rel, text in sorted(files.items()):
        if not rel.endswith(".yaml") or rel == ".llmd-compile.yaml":
            continue
        if rel in CHART_OF:
            chart, attr = CHART_OF[rel]
            version = getattr(stack, attr).version
            if not (o.SHARED / "upstream/data").is_dir() or (chart, version) in _NO_DATA:
                skipped.append(f"{chart} {version}: no upstream copy")
                continue
            result = o.chart_schema_errors(chart, version, load_all(text)[0])
            if result is None:
                skipped.append(f"{chart} {version}: no values.schema.json")
            found += [f"{rel}: {e}" for e in result or []]
            continue
        for doc in load_all(text):
            if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                continue
            kind = doc["kind"]
            if kind in NOT_OBJECTS:
                continue
            if (doc["apiVersion"], kind) in NO_ORACLE:  # e.g. GKE's GMP PodMonitoring (emit/gmp.py): no CRD copy
                skipped.append(f"{rel}: {kind}: no CRD in ../shared")
                continue
            if kind == "EndpointPickerConfig":
                known = registry_types(stack.picker.name, stack.picker.gaie_base)
                found += [f"{rel}: plugin type {p['type']!r} not in the {stack.picker.name} registry"
                          for p in doc.get("plugins", []) if p.get("type") not in known]
                continue
            found += [f"{rel}: {kind}: {e}" for e in o.validate_any(doc, _crd_release(doc, stack))]
    return found


# Chart versions without a copy under ../shared/upstream/data (test_version_matrix.NO_DATA).
_NO_DATA = {("llm-d-infra", "v1.3.4")}
