"""Validate a rendered object as the API server would on create: null pruning, defaults, strict structural
schema (kubernetes-validate for built-in kinds, the CRDs in ../shared for the rest) and the CRDs' CEL rules."""

from __future__ import annotations

import copy
from typing import Any

from tests.conformance import oracles
from tests.render.cel import cel_errors

# Kinds whose CRD is not in ../shared (vendor-managed on GKE; Istio's Telemetry is not copied): listed here so
# a new kind without an oracle fails instead of passing unvalidated.
NO_ORACLE = frozenset({
    ("networking.gke.io/v1", "HealthCheckPolicy"),
    ("networking.gke.io/v1", "GCPBackendPolicy"),
    ("monitoring.googleapis.com/v1", "PodMonitoring"),
    ("monitoring.googleapis.com/v1", "ClusterPodMonitoring"),
    ("telemetry.istio.io/v1", "Telemetry"),
})
# RBAC object names are path segments (k8s.io/apiserver ValidatePathSegmentName), not DNS subdomains:
# the GMP collector RoleBinding `gmp-system:collector:...` is valid.
_PATH_SEGMENT_KINDS = frozenset({"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"})


def prune_nulls(node: Any) -> Any:
    """JSON null in a map field means unset: a typed decoder leaves the zero value, and the apiserver prunes
    nulls of non-nullable CRD fields before validation (`annotations:` with nothing under it renders null)."""
    if isinstance(node, dict):
        return {k: prune_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [prune_nulls(v) for v in node]
    return node


def errors(doc: dict[str, Any], k8s_version: str | None = None) -> list[str]:
    doc = prune_nulls(doc)
    api_version, kind = str(doc.get("apiVersion")), str(doc.get("kind"))
    found: list[str] = []
    if kind in _PATH_SEGMENT_KINDS and api_version.startswith("rbac.authorization.k8s.io/"):
        name = str(doc.get("metadata", {}).get("name", ""))
        if name in ("", ".", "..") or "/" in name or "%" in name:
            found.append(f"$.metadata.name: {name!r} is no valid path segment")
        doc = copy.deepcopy(doc)
        doc["metadata"]["name"] = "rbac-name-checked-above"
    if (api_version, kind) in NO_ORACLE:
        return found
    if oracles.is_core(api_version):
        found += validate_core(doc, k8s_version)
    else:
        found += oracles.validate_custom(doc)
        found += cel_errors(doc)
    return sorted(found)


def validate_core(doc: dict[str, Any], k8s_version: str | None) -> list[str]:
    """kubernetes-validate at the cluster's version (the stack's cluster.kubernetesVersion) or the default."""
    if k8s_version is None:
        return oracles.validate_core(doc)
    import kubernetes_validate

    try:
        kubernetes_validate.validate(doc, k8s_version, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [exc.message]
    except kubernetes_validate.ValidationError as exc:
        return [f"{'.'.join(str(p) for p in exc.path)}: {exc.message}"]
    return []
