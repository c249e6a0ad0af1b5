"""Diagnostics as `lint --format` prints them: text (colour on a terminal), JSON, SARIF 2.1.0, GitHub annotations.

Pure: diagnostics in, text out. A problem that stopped a spec before its checks (schema, versions) is reported as
a diagnostic with code `SPEC`, so every format carries everything lint found.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmd_compile import __version__
from llmd_compile.errors import Diagnostic, Problem

FORMATS = ("text", "json", "sarif", "github")
SPEC_CODE = "SPEC"  # invalid input: the spec does not load or resolve, so its checks did not run

# One object per diagnostic in `--format json` (a JSON array of these).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "llmd-compile lint --format json",
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "severity", "file", "line", "column", "field", "message", "hint"],
        "properties": {
            "code": {"type": "string", "pattern": "^(LLMD[0-9]{3}|SPEC)$"},
            "severity": {"enum": ["error", "warning", "info"]},
            "file": {"type": "string", "minLength": 1},
            "line": {"type": "integer", "minimum": 0, "description": "1-based; 0: unknown"},
            "column": {"type": "integer", "minimum": 0, "description": "1-based; 0: unknown"},
            "field": {"type": "string", "description": "dotted spec field; empty: the file as a whole"},
            "message": {"type": "string", "minLength": 1},
            "hint": {"type": "string"},
        },
    },
}

_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def from_problem(problem: Problem) -> Diagnostic:
    return Diagnostic(problem.path, problem.line, problem.col, SPEC_CODE, "error", problem.field, problem.message, "")


def text(d: Diagnostic, colour: bool = False) -> str:
    """The one-line form (errors.Diagnostic), the severity coloured on a terminal."""
    if d.code == SPEC_CODE:
        return str(Problem(d.path, d.line, d.col, d.field, d.message))
    line = str(d)
    if not colour:
        return line
    import click

    word = f"{d.severity} {d.code}"
    return line.replace(word, click.style(word, fg=_COLOURS[d.severity], bold=d.severity == "error"), 1)


def as_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([{"code": d.code, "severity": d.severity, "file": d.path, "line": d.line, "column": d.col,
                        "field": d.field, "message": d.message, "hint": d.hint} for d in diagnostics], indent=2) + "\n"


def as_sarif(diagnostics: list[Diagnostic], rules: Mapping[str, tuple[str, str, str]]) -> str:
    """One SARIF 2.1.0 run; `rules`: code -> (title, hint, severity) for every code that may appear."""
    used = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(used)}
    descriptors = []
    for code in used:
        title, hint, severity = rules.get(code, ("invalid spec: the spec does not load or resolve", "", "error"))
        descriptor: dict[str, Any] = {"id": code, "shortDescription": {"text": title},
                                      "defaultConfiguration": {"level": _SARIF_LEVEL[severity]}}
        if hint:
            descriptor["help"] = {"text": hint}
        descriptors.append(descriptor)
    results = []
    for d in diagnostics:
        location: dict[str, Any] = {"artifactLocation": {"uri": d.path}}
        if d.line:
            location["region"] = {"startLine": d.line, **({"startColumn": d.col} if d.col else {})}
        said = f"{d.field}: {d.message}" if d.field else d.message
        results.append({"ruleId": d.code, "ruleIndex": index[d.code], "level": _SARIF_LEVEL[d.severity],
                        "message": {"text": said + (f" (hint: {d.hint})" if d.hint else "")},
                        "locations": [{"physicalLocation": location}]})
    log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "llmd-compile", "version": __version__, "rules": descriptors}},
                     "results": results}]}
    return json.dumps(log, indent=2) + "\n"


def _escape(value: str, property_value: bool = False) -> str:
    """GitHub workflow command escaping (actions/toolkit core/src/command.ts escapeData / escapeProperty)."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if property_value else value


def as_github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command: an annotation on the spec line in the pull request."""
    props = [f"file={_escape(d.path, True)}"]
    if d.line:
        props.append(f"line={d.line}")
        if d.col:
            props.append(f"col={d.col}")
    props.append(f"title={_escape(f'llmd-compile {d.code}', True)}")
    said = (f"{d.field}: {d.message}" if d.field else d.message) + (f" (hint: {d.hint})" if d.hint else "")
    return f"::{_GITHUB_COMMAND[d.severity]} {','.join(props)}::{_escape(said)}"


def summary(diagnostics: list[Diagnostic], stacks: int) -> str:
    count = {"error": 0, "warning": 0, "info": 0}
    for d in diagnostics:
        count[d.severity] += 1
    head = f"{stacks} stacks: " if stacks > 1 else ""
    failing = len({d.path for d in diagnostics if d.severity == "error"})
    tail = f" ({failing} file{'s' if failing != 1 else ''} with errors)" if stacks > 1 and failing else ""
    return f"{head}{count['error']} errors, {count['warning']} warnings, {count['info']} notes{tail}"
