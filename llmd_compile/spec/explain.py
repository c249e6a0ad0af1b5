"""`llmd-compile explain SPEC FIELD`: a field's final value, and the file and line it came from."""

from __future__ import annotations

import json
from typing import Any

from llmd_compile.spec.layers import Layered
from llmd_compile.spec.load import undotted
from llmd_compile.spec.models import Spec


def _value(root: Any, loc: tuple[str | int, ...]) -> tuple[bool, Any]:
    node = root
    for part in loc:
        if (isinstance(node, dict) and isinstance(part, str) and part in node) or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
        elif hasattr(node, str(part)) and not isinstance(node, (dict, list)):
            node = getattr(node, str(part))
        else:
            return False, None
    return True, node


def explain(layered: Layered, spec: Spec, field: str) -> str:
    loc = undotted(field)
    found, value = _value(layered.data, loc)
    if found:
        origin = layered.origin.get(loc, "?")
        line, col = layered.marks.get((*loc, "<value>"), layered.marks.get(loc, (0, 0)))
        return f"{field} = {json.dumps(value, sort_keys=True)}\n  from {origin}:{line}:{col}"
    found, value = _value(spec, loc)
    if not found:
        raise KeyError(field)
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", exclude_none=True)
    return f"{field} = {json.dumps(value, sort_keys=True)}\n  from the spec model's default (no file sets it)"
