"""The CRDs' CEL rules (``x-kubernetes-validations``) evaluated as the apiserver does on create, with celpy.

Rules are evaluated at every schema node present in the (defaulted) object with ``self`` bound to that node;
a rule that mentions ``oldSelf`` is a transition rule, skipped on create (``oldSelf`` is absent). The
Kubernetes CEL library functions the CRDs we render use are provided below; a rule that still does not
compile is reported, never silently skipped.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import celpy
from celpy import celtypes

from tests.conformance import oracles


def _is_ip(s: Any) -> celtypes.BoolType:
    try:
        ipaddress.ip_address(str(s))
    except ValueError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


def _is_cidr(s: Any) -> celtypes.BoolType:
    try:
        ipaddress.ip_network(str(s), strict=False)
    except ValueError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


def _is_url(s: Any) -> celtypes.BoolType:
    u = urlparse(str(s))
    return celtypes.BoolType(bool(u.scheme) and bool(u.netloc or u.path))


# Kubernetes CEL libraries (k8s.io/apiserver/pkg/cel/library): the ones the rendered CRDs' rules call.
_FUNCTIONS: dict[str, Any] = {
    "isIP": _is_ip,
    "isCIDR": _is_cidr,
    "isURL": _is_url,
    "ip": lambda s: celtypes.StringType(str(ipaddress.ip_address(str(s)))),
    "cidr": lambda s: celtypes.StringType(str(ipaddress.ip_network(str(s), strict=False))),
    "lowerAscii": lambda s: celtypes.StringType(str(s).lower()),
    "upperAscii": lambda s: celtypes.StringType(str(s).upper()),
    "trim": lambda s: celtypes.StringType(str(s).strip()),
    "indexOf": lambda s, sub: celtypes.IntType(str(s).find(str(sub))),
    "split": lambda s, sep: celtypes.ListType([celtypes.StringType(p) for p in str(s).split(str(sep))]),
    "join": lambda lst, sep="": celtypes.StringType(str(sep).join(str(x) for x in lst)),
    "replace": lambda s, a, b: celtypes.StringType(str(s).replace(str(a), str(b))),
    "substring": lambda s, a, b=None: celtypes.StringType(str(s)[int(a): None if b is None else int(b)]),
}


@functools.cache
def _program(rule: str) -> Any:
    env = celpy.Environment()
    return env.program(env.compile(rule), functions=_FUNCTIONS)


def _nodes(schema: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, dict[str, Any], Any]]:
    yield path, schema, value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if key in props:
                yield from _nodes(props[key], sub, f"{path}.{key}")
            elif isinstance(extra, dict):
                yield from _nodes(extra, sub, f"{path}[{key}]")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, sub in enumerate(value):
            yield from _nodes(schema["items"], sub, f"{path}[{i}]")


def cel_errors(doc: dict[str, Any]) -> list[str]:
    """Every failed (or unevaluable) CEL rule of the object's CRD; [] for built-in kinds or no CRD."""
    api_version, kind = str(doc.get("apiVersion")), str(doc.get("kind"))
    if oracles.is_core(api_version):
        return []
    try:
        schema = oracles.crd_schema(api_version, kind)
    except KeyError:
        return []
    defaulted = oracles._with_defaults(schema, doc)
    errors: list[str] = []
    for path, node, value in _nodes(schema, defaulted, ""):
        for v in node.get("x-kubernetes-validations") or []:
            rule = v["rule"]
            if re.search(r"\boldSelf\b", rule):
                continue  # a transition rule: oldSelf is absent on create
            try:
                result = _program(rule).evaluate({"self": celpy.json_to_cel(value)})
            except Exception as exc:  # a rule we cannot compile: say so (it would hide a real violation)
                errors.append(f"{path or '.'}: CEL rule not evaluable ({type(exc).__name__}): {rule}")
                continue
            if isinstance(result, celpy.CELEvalError):
                errors.append(f"{path or '.'}: CEL rule errored ({result.args[0]}): {rule}")
            elif not bool(result):
                errors.append(f"{path or '.'}: {v.get('message') or rule}")
    return errors
