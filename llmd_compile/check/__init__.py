"""Diagnostics over the compiled artifact set: wiring, capacity, platform and provider rules.

Each rule has a stable code, a severity, a one-line title and a doc (docs/diagnostics.md is
generated from RULES). A rule reads the parsed artifacts (what we are about to write) and the
resolved Stack, and yields findings that trace back to a spec field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from llmd_compile.check.artifacts import Artifacts
from llmd_compile.errors import Diagnostic, Severity, SpecError

__all__ = ["Diagnostic", "Finding", "Rule", "Severity", "rules", "run"]

@dataclass(frozen=True)
class Finding:
    field: str  # dotted spec field the finding traces back to
    message: str


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str
    hint: str
    check: Callable[[Artifacts], Iterable[Finding]]


def _rules() -> Mapping[str, Rule]:
    from llmd_compile.check import (
        autoscaling,
        capacity,
        charts_rendered,
        features,
        images,
        platform,
        privileges,
        rendered,
        wiring,
    )

    rules: dict[str, Rule] = {}
    for module in (wiring, capacity, platform, privileges, charts_rendered, images, rendered, autoscaling, features):
        for rule in module.RULES:
            if rule.code in rules:
                raise AssertionError(f"duplicate diagnostic code {rule.code}")
            rules[rule.code] = rule
    return MappingProxyType(dict(sorted(rules.items())))


def rules() -> Mapping[str, Rule]:
    return _RULES


def run(artifacts: Artifacts, strict: bool = False) -> list[Diagnostic]:
    """Every finding of every rule, located by field path later (see spec.load.relocate)."""
    found: list[Diagnostic] = []
    ignored = set(artifacts.stack.spec.checks.ignore)
    unknown = sorted(ignored - set(_RULES))
    if unknown:
        raise SpecError.one(artifacts.stack.source, "checks.ignore", f"unknown diagnostic code(s) {unknown}")
    for rule in _RULES.values():
        if rule.code in ignored:
            continue
        for finding in rule.check(artifacts):
            severity: Severity = "error" if strict and rule.severity == "warning" else rule.severity
            found.append(Diagnostic(artifacts.stack.source, 0, 0, rule.code, severity, finding.field,
                                    finding.message, rule.hint))
    return sorted(found)


_RULES = _rules()
