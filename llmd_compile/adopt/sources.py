"""What `llmd-compile import` reads: values files as the Helm-era guides and `helm get values` write them, a guide
directory, or a helmfile, each value with the file and line it came from."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from llmd_compile.errors import Problem, SpecError
from llmd_compile.spec.yamlread import Loc, decode, read_bounded

Kind = Literal["infra", "gaie", "ms", "route"]
CHARTS: dict[str, Kind] = {"llm-d-infra": "infra", "inferencepool": "gaie", "llm-d-modelservice": "ms"}
# Top-level keys that tell each chart's values apart (CATALOG §b-§d values.yaml); `gateway` alone is llm-d-infra.
_MS_KEYS = {"modelArtifacts", "decode", "prefill", "multinode", "routing", "accelerator"}
_GAIE_KEYS = {"inferenceExtension", "inferencePool"}
# `helm get values RELEASE` prints this line before the values (read as a comment, so lines keep their numbers).
_HELM_GET = re.compile(r"\AUSER-SUPPLIED VALUES:[ \t]*$", re.MULTILINE)


@dataclass
class Piece:
    """One source file's values for one chart (or the HTTPRoute), with a line per location."""

    kind: Kind
    path: str  # as shown to the user
    data: dict[str, Any]
    lines: dict[Loc, int] = field(default_factory=dict)


@dataclass
class Source:
    """Everything read: the pieces per chart in the order Helm applies them, and what a helmfile said."""

    pieces: list[Piece] = field(default_factory=list)
    name: str | None = None  # release postfix
    namespace: str | None = None
    pins: dict[str, str] = field(default_factory=dict)  # infra/inferencepool/modelservice -> chart version
    origin: str = ""  # what was imported, for the spec's header comment
    router: bool = False  # a router-era guide (router values + kustomize model servers)
    router_chart: str | None = None  # the router chart that ran (env.sh, or the picker image the values pin)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file:line, message) the reading itself decided
    epp_key: str | None = None  # how the source spells the picker's values block, for notes (router.epp, ...)

    def of(self, kind: Kind) -> list[Piece]:
        return [p for p in self.pieces if p.kind == kind]

    def values(self, kind: Kind) -> dict[str, Any] | None:
        """The chart's values as Helm merges them (later files win, maps merge), or None when none was given."""
        found = self.of(kind)
        if not found:
            return None
        merged: dict[str, Any] = {}
        for piece in found:
            merged = merge(merged, piece.data)
        return merged

    def where(self, kind: Kind, *loc: str | int) -> str:
        """`file:line` of the last piece that sets a location (or its nearest parent)."""
        for piece in reversed(self.of(kind)):
            for end in range(len(loc), 0, -1):
                if loc[:end] in piece.lines:
                    return f"{piece.path}:{piece.lines[loc[:end]]}"
        found = self.of(kind)
        return found[-1].path if found else "(not in the source)"


def merge(base: Any, over: Any) -> Any:
    """Helm's values coalescing: maps merge key by key, anything else is replaced; null deletes."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def _plain(node: Any, loc: Loc, lines: dict[Loc, int]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                lines[(*loc, str(key))] = node.lc.key(key)[0] + 1
            out[str(key)] = _plain(value, (*loc, str(key)), lines)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for index, value in enumerate(node):
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                lines[(*loc, index)] = node.lc.item(index)[0] + 1
            out_list.append(_plain(value, (*loc, index), lines))
        return out_list
    if isinstance(node, str):
        return str(node)
    return node


def read(path: Path, shown: str) -> tuple[Any, dict[Loc, int]]:
    """A YAML file as plain data, and the 1-based line of every key and list item (anchors allowed: helmfiles
    use them)."""
    text = _HELM_GET.sub("# USER-SUPPLIED VALUES:", decode(read_bounded(path, shown), shown))
    yaml = YAML(typ="rt")
    try:
        docs = [d for d in yaml.load_all(text) if d is not None]
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecError.one(shown, "", f"YAML syntax: {getattr(exc, 'problem', None) or exc}", line, col) from None
    if len(docs) != 1:
        raise SpecError.one(shown, "", f"expected one YAML document, found {len(docs)}", 1, 1)
    lines: dict[Loc, int] = {}
    return _plain(docs[0], (), lines), lines


def classify(data: Any, shown: str) -> Kind:
    """Which chart a values file is for, from its top-level keys; another chart's values are an error."""
    if isinstance(data, dict) and data.get("kind") == "HTTPRoute":
        return "route"
    if isinstance(data, dict) and str(data.get("apiVersion", "")).startswith("llmd-compile/"):
        raise SpecError.one(shown, "apiVersion", "already an llmd-compile spec: nothing to import (move it to "
                            "another release with `llmd-compile upgrade`)", 1, 1)
    keys = set(data) if isinstance(data, dict) else set()
    if keys & _MS_KEYS:
        return "ms"
    if keys & _GAIE_KEYS:
        return "gaie"
    if "gateway" in keys:
        return "infra"
    if "router" in keys:
        raise SpecError.one(shown, "router", "values of the llm-d-router charts (llm-d v0.8+) among Helm-era values: "
                            "import router values with their model-server overlay or manifests only", 1, 1)
    shown_keys = ", ".join(sorted(keys)[:6]) or "(none)"
    raise SpecError.one(shown, "", "not the values of an llm-d chart (llm-d-infra, inferencepool, llm-d-modelservice)"
                        f" nor an HTTPRoute: top-level keys {shown_keys}", 1, 1)


def piece(path: Path, shown: str, kind: Kind | None = None) -> Piece:
    data, lines = read(path, shown)
    found = classify(data, shown)
    if kind is not None and found != kind and not (kind == "infra" and found in ("gaie", "ms")):
        raise SpecError.one(shown, "", f"expected {kind} values here, found {found} values", 1, 1)
    return Piece(kind or found, shown, data, lines)


def problem(where: str, field: str, message: str) -> Problem:
    """A Problem at `file:line` as Source.where gives it."""
    path, _, line = where.rpartition(":")
    if path and line.isdigit():
        return Problem(path, int(line), 1, field, message)
    return Problem(where, 0, 0, field, message)
