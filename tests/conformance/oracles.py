"""Conformance oracles: validate compiler output against the verbatim upstream data in ``../shared``.

The upstream files (chart values/schemas, CRDs) are read in place from ``<repo>/../shared``; nothing is
copied into this repository. When the folder is absent (a user's fresh clone) every helper skips, except
under ``CI=true`` where a missing oracle is a failure. Cached loaders return shared objects: treat the
results of ``crd_index``/``crd_schema`` as read-only.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import subprocess
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import jsonschema
import kubernetes_validate
import pytest
from jsonschema.exceptions import ValidationError, best_match
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource
from ruamel.yaml import YAML

REPO_ROOT: Path = Path(__file__).resolve().parents[2]
SHARED: Path = REPO_ROOT.parent / "shared"
MISSING_SHARED = "../shared not found (a user's fresh clone): conformance oracles unavailable"
WANTED_K8S = "1.32"

_CHART_DIRS = MappingProxyType(
    {
        "llm-d-infra": "llm-d-incubation__llm-d-infra/{v}/charts/llm-d-infra",
        "llm-d-modelservice": "llm-d-incubation__llm-d-modelservice/"
        "llm-d-modelservice-{v}/charts/llm-d-modelservice",
        "inferencepool": "kubernetes-sigs__gateway-api-inference-extension/{v}/config/charts/inferencepool",
    }
)
# API groups served by kube-apiserver itself (validated with kubernetes-validate, not with a CRD).
# fmt: off
_BUILTIN_GROUPS = frozenset(("", "apps", "batch", "autoscaling", "policy", *(f"{g}.k8s.io" for g in (
    "networking", "rbac.authorization", "storage", "scheduling", "coordination", "discovery", "node",
    "admissionregistration", "apiextensions", "certificates", "resource", "flowcontrol.apiserver",
    "apiregistration", "events", "authentication", "authorization", "internal.apiserver", "storagemigration",
))))
# fmt: on
_JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
_QUALIFIED_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the oracles must be present)")
    pytest.skip(reason)


def shared() -> Path:
    """``../shared`` if present; otherwise skip (fail under ``CI=true``)."""
    if not SHARED.is_dir():
        _unavailable(MISSING_SHARED)
    return SHARED


def _yaml() -> YAML:
    y = YAML(typ="safe")
    y.allow_duplicate_keys = True  # MS v0.4.5 values.yaml repeats an identical key; Helm accepts it
    return y


@functools.cache
def _load_yaml(path: Path) -> Any:
    return _yaml().load(path.read_text(encoding="utf-8"))


@functools.cache
def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _chart_dir(chart: str, version: str) -> Path:
    if chart not in _CHART_DIRS:
        raise ValueError(f"unknown chart {chart!r}; expected one of {sorted(_CHART_DIRS)}")
    d = shared() / "upstream" / "data" / _CHART_DIRS[chart].format(v=version)
    if not (d / "values.yaml").is_file():
        _unavailable(f"chart {chart} {version} not in ../shared/upstream/data")
    return d


def chart_values_path(chart: str, version: str) -> Path:
    return _chart_dir(chart, version) / "values.yaml"


def chart_schema(chart: str, version: str) -> dict[str, Any] | None:
    p = _chart_dir(chart, version) / "values.schema.json"
    return copy.deepcopy(_load_json(p)) if p.is_file() else None


def helm_merge(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalesce: maps merge recursively, lists/scalars replace, ``None`` deletes. Inputs untouched."""
    out = copy.deepcopy(defaults)
    for key, val in overrides.items():
        if val is None:
            out.pop(key, None)
        elif isinstance(val, dict):
            base = out.get(key)
            out[key] = helm_merge(base if isinstance(base, dict) else {}, val)
        else:
            out[key] = copy.deepcopy(val)
    return out


def _deepest(err: ValidationError) -> ValidationError:
    while err.context:
        match = best_match(err.context)
        if match is None:
            break
        err = match
    return err


def _fmt(err: ValidationError) -> str:
    err = _deepest(err)
    return f"{err.json_path}: {err.message}"


def chart_schema_errors(chart: str, version: str, values: dict[str, Any]) -> list[str] | None:
    """Draft-7 errors of ``helm_merge(chart values.yaml, values)``; None if the chart ships no schema."""
    schema = chart_schema(chart, version)
    if schema is None:
        return None
    merged = helm_merge(_load_yaml(chart_values_path(chart, version)) or {}, values)
    return sorted(_fmt(e) for e in jsonschema.Draft7Validator(schema).iter_errors(merged))


def _release_key(label: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", label))


@functools.cache
def _crd_entries(data: Path) -> tuple[tuple[tuple[int, ...], str, str, str, dict[str, Any]], ...]:
    """(release key, file path, apiVersion, kind, openAPIV3Schema) per served CRD version, oldest first."""
    entries = []
    for path in sorted([*data.rglob("*.yaml"), *data.rglob("*.yml")]):
        text = path.read_text(encoding="utf-8")
        if "CustomResourceDefinition" not in text:
            continue
        for doc in _yaml().load_all(text):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
            release = path.relative_to(data).parts[1]
            for ver in doc["spec"]["versions"]:
                schema = (ver.get("schema") or {}).get("openAPIV3Schema")
                if ver.get("served") and schema is not None:
                    entries.append(
                        (_release_key(release), path.as_posix(), f"{group}/{ver['name']}", kind, schema)
                    )
    return tuple(sorted(entries, key=lambda e: (e[0], e[1])))


def _crd_data() -> Path:
    return shared() / "upstream" / "data"


def crd_index() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema; the newest release directory wins on duplicates."""
    return {(av, kind): schema for _, _, av, kind, schema in _crd_entries(_crd_data())}


def crd_schema(api_version: str, kind: str, release: str | None = None) -> dict[str, Any]:
    """The CRD schema; ``release`` restricts to files under a ``/<release>/`` directory. KeyError if none."""
    found = [
        schema
        for _, path, av, k, schema in _crd_entries(_crd_data())
        if av == api_version and k == kind and (release is None or f"/{release}/" in path)
    ]
    if not found:
        raise KeyError(f"no CRD for {api_version} {kind}" + (f" in release {release}" if release else ""))
    return found[-1]


def _openapi_to_jsonschema(node: Any, strict: bool = True) -> Any:
    """Structural OpenAPI v3 -> JSON Schema, with the apiserver's strict unknown-field rule on objects.

    Inside allOf/anyOf/oneOf/not (value validations only) no additionalProperties is added (strict=False).
    """
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, val in node.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "description"):
            continue
        if key == "properties":
            out[key] = {name: _openapi_to_jsonschema(sub, strict) for name, sub in val.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = _openapi_to_jsonschema(val, strict)
        elif key == "not":
            out[key] = _openapi_to_jsonschema(val, False)
        elif key in ("allOf", "anyOf", "oneOf"):
            if val is None:  # some CRDs (OpenShift Route) spell "no constraint" as `anyOf: null`
                continue
            out[key] = [_openapi_to_jsonschema(sub, False) for sub in val]
        else:
            out[key] = val
    if node.get("x-kubernetes-int-or-string"):
        out.setdefault("type", ["integer", "string"])
        if out.get("anyOf") == [{"type": "integer"}, {"type": "string"}]:
            del out["anyOf"]  # the usual controller-gen spelling of the same constraint
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if strict and node.get("type") == "object" and "additionalProperties" not in node and not preserve:
        # unknown fields are pruned by the apiserver and rejected by strict field validation (kubectl default)
        out["additionalProperties"] = False
    if node.get("nullable"):
        if any(j in out for j in _JUNCTORS) or "type" not in out:
            return {"anyOf": [{"type": "null"}, out]}
        types = [out["type"]] if isinstance(out["type"], str) else list(out["type"])
        out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _metadata_schema() -> dict[str, Any]:
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 253, "pattern": _DNS_SUBDOMAIN},
            "namespace": {"type": "string", "maxLength": 63, "pattern": _DNS_LABEL},
            "labels": {
                **string_map,
                "propertyNames": {"maxLength": 317, "pattern": _QUALIFIED_KEY},
                "additionalProperties": {"type": "string", "pattern": _LABEL_VALUE},
            },
            "annotations": {**string_map, "propertyNames": {"maxLength": 317, "pattern": _QUALIFIED_KEY}},
        },
    }


@functools.cache
def _custom_validator(data: Path, api_version: str, kind: str, release: str | None) -> Any:
    root = _openapi_to_jsonschema(crd_schema(api_version, kind, release))
    props = root.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})  # always accepted by the apiserver,
    props.setdefault("kind", {"type": "string"})  # even when the CRD schema omits them (Istio)
    props["metadata"] = _metadata_schema()
    root["required"] = sorted({*root.get("required", []), "apiVersion", "kind", "metadata"})
    return jsonschema.Draft202012Validator(root)


def validate_custom(doc: dict[str, Any], release: str | None = None) -> list[str]:
    """Validate a custom resource against its CRD openAPIV3Schema from ../shared (CEL rules not evaluated)."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    data = _crd_data()
    try:
        validator = _custom_validator(data, str(api_version), str(kind), release)
    except KeyError:
        return [f"no CRD for {api_version} {kind} in ../shared"]
    structural = crd_schema(str(api_version), str(kind), release)
    return sorted({_fmt(e) for e in validator.iter_errors(_with_defaults(structural, doc))})


def _with_defaults(schema: dict[str, Any], doc: Any) -> Any:
    """Structural defaulting as the apiserver applies it before validation: absent fields of present
    objects get their schema `default` (e.g. the Route CRD's wildcardPolicy: None)."""
    if isinstance(doc, dict):
        out = dict(doc)
        for key, sub in (schema.get("properties") or {}).items():
            if key in out:
                out[key] = _with_defaults(sub, out[key])
            elif isinstance(sub, dict) and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
        return out
    if isinstance(doc, list) and isinstance(schema.get("items"), dict):
        return [_with_defaults(schema["items"], item) for item in doc]
    return doc


@functools.lru_cache(maxsize=1)
def core_k8s_version() -> str:
    """The bundled kubernetes-validate schema version used: 1.32 if bundled, else the newest bundled."""
    versions = kv_utils.all_versions()
    wanted = [v for v in versions if kv_utils.major_minor(v) == WANTED_K8S]
    return str(kv_utils.major_minor((wanted or versions)[-1]))


@functools.cache
def _core_validator(version: str, api_version: str, kind: str) -> Any:
    # Same files and registry kubernetes_validate.validate() uses, so that every error can be listed
    # (validate() raises only the first one).
    full = next(v for v in kv_utils.all_versions() if kv_utils.major_minor(v) == version)
    folder = f"kubernetes-json-schema/v{full}-local-strict"
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kv_utils.schema_contents(f"{folder}/{kind.lower()}-{group_version}.json", version)
    defs = kv_utils.schema_contents(f"{folder}/_definitions.json", version)
    registry: Registry[Any] = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _envelope_errors(doc: dict[str, Any]) -> list[str]:
    envelope = {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": _metadata_schema(),
        },
    }
    return [_fmt(e) for e in jsonschema.Draft202012Validator(envelope).iter_errors(doc)]


def validate_core(doc: dict[str, Any]) -> list[str]:
    """Strict (no unknown fields) kubernetes-validate check for ``core_k8s_version()``, plus metadata.name."""
    errors = _envelope_errors(doc)
    if not isinstance(doc.get("apiVersion"), str) or not isinstance(doc.get("kind"), str):
        return sorted(set(errors))
    version = core_k8s_version()
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        errors.append(exc.message)
    except kubernetes_validate.ValidationError:
        errors += [_fmt(e) for e in _core_validator(version, doc["apiVersion"], doc["kind"]).iter_errors(doc)]
    return sorted(set(errors))


def is_core(api_version: str) -> bool:
    return api_version.rpartition("/")[0] in _BUILTIN_GROUPS


def validate_any(doc: dict[str, Any], release: str | None = None) -> list[str]:
    """Built-in API groups -> ``validate_core``; everything else -> ``validate_custom``."""
    if is_core(str(doc.get("apiVersion", ""))):
        return validate_core(doc)
    return validate_custom(doc, release)


def kustomize_build(path: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize <path>`` parsed into documents; AssertionError with stderr on failure."""
    proc = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize {path} failed (exit {proc.returncode}):\n{proc.stderr}")
    return [doc for doc in _yaml().load_all(proc.stdout) if doc is not None]
