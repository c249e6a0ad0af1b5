"""Shared by the fidelity tests: read an upstream file, and flatten values to {dotted.path: leaf}."""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml import YAML

from . import oracles as o

# List items with one of these keys, unique across the list, are keyed by it instead of by position.
MERGE_KEYS = ("containerPort", "name")


def read(rel: str) -> Any:
    return YAML(typ="safe").load((o.shared() / rel).read_text(encoding="utf-8"))


def _segment(key: Any) -> str:
    key = str(key)
    return f".{key}" if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'["{key}"]'


def flatten(node: Any, path: str = "", keep_lone_key: bool = False) -> dict[str, Any]:
    """`keep_lone_key`: a keyed list item with nothing but its key still shows up (as that key)."""
    if isinstance(node, dict):
        if not node:
            return {path: {}}
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(flatten(value, path + _segment(key), keep_lone_key))
        return out
    if isinstance(node, list):
        if not node:
            return {}
        if not all(isinstance(item, dict) for item in node):
            return {path: node}
        for field in MERGE_KEYS:
            keys = [item.get(field) for item in node]
            if None not in keys and len(set(keys)) == len(keys):
                out = {}
                for item in node:
                    rest = {k: v for k, v in item.items() if k != field}
                    if keep_lone_key and not rest:
                        rest = {field: item[field]}
                    out.update(flatten(rest, f"{path}[{field}={item[field]}]", keep_lone_key))
                return out
        out = {}
        for index, item in enumerate(node):
            out.update(flatten(item, f"{path}[{index}]", keep_lone_key))
        return out
    return {path: node}
