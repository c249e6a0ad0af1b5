"""compile_spec: Spec in, {relpath: text} out. Pure: no disk, no clock, no environment."""

from __future__ import annotations

import functools

from llmd_compile.emit import Files, emitters
from llmd_compile.errors import Problem, SpecError
from llmd_compile.headers import MANIFEST, header
from llmd_compile.resolve import Stack, resolve
from llmd_compile.spec.models import Spec
from llmd_compile.yamlio import YamlText

__all__ = ["MANIFEST", "build", "compile_spec", "header", "with_header"]


@functools.lru_cache(maxsize=64)
def _prefixes(source: str) -> tuple[str, str]:
    """The generated-by header as a Markdown comment and as YAML comments (the same for every file of a stack)."""
    lines = header(source).splitlines()
    return f"<!-- {' '.join(lines)} -->\n\n", "".join(f"# {line}\n" for line in lines)


def with_header(path: str, text: str, source: str) -> str:
    markdown, yaml = _prefixes(source)
    if path.endswith(".md"):
        return markdown + text
    return text.with_prefix(yaml) if isinstance(text, YamlText) else yaml + text


def compile_spec(spec: Spec, source: str) -> Files:
    """All artifacts of one stack, relative to its stack directory, sorted by path (plain text)."""
    return {path: str(text) for path, text in build(spec, source)[1].items()}


def build(spec: Spec, source: str) -> tuple[Stack, Files]:
    """The resolved stack and its artifacts (what checks run over)."""
    stack = resolve(spec, source)
    files: Files = {}
    problems: list[Problem] = []
    for name, emit in emitters(stack).items():
        try:
            produced = emit(stack)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        for path, text in produced.items():
            if path in files:
                raise AssertionError(f"two emitters write {path} (second: {name})")
            files[path] = with_header(path, text, source)
    if problems:
        raise SpecError(problems)
    return stack, dict(sorted(files.items()))
