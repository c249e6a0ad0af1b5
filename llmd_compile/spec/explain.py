"""`llmd-compile explain SPEC FIELD`: a field's final value, and the file and line it came from."""

from __future__ import annotations

import json
from typing import Any

from llmd_compile.spec.load import Loaded, undotted


def _value(root: Any, loc: tuple[str | int, ...]) -> tuple[bool, Any]:
    node = root
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            return False, None
        node = node[part]
    return True, node


def value_at(data: Any, field: str) -> Any:
    """The value at a dotted field path in plain data; None when absent."""
    return _value(data, undotted(field))[1]


def explain(loaded: Loaded, shown: str, field: str) -> str:
    """Raises KeyError when the spec has no such field."""
    loc = undotted(field)
    found, value = _value(loaded.spec.model_dump(mode="json"), loc)
    if not found:
        raise KeyError(field)
    shown_value = json.dumps(value, sort_keys=True)
    if loc in loaded.marks:
        line, col = loaded.marks.get((*loc, "<value>"), loaded.marks[loc])
        return f"{field} = {shown_value}\n  from {loaded.origin.get(loc, shown)}:{line}:{col}"
    return f"{field} = {shown_value}\n  from the spec model's default (no file sets it)"
