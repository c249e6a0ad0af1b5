"""Every YAML output decision lives here: key order, quoting, indentation, literal blocks.

We emit YAML ourselves instead of through a general dumper: the output is plain data (dicts in
the order the emitters built them, lists, str/int/float/bool/None), the bytes must be identical
on every machine, and a string must never be read back as another type by Helm (YAML 1.1) or
by Kubernetes (YAML 1.2). Any string that a YAML 1.1 or 1.2 reader could take for a bool, null,
number or timestamp is double-quoted.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"[A-Za-z0-9_/.$][A-Za-z0-9_./:@+=$-]*")
# Strings a YAML 1.1 or 1.2 reader resolves to something other than a string.
_RESERVED = {
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "=", "<<",
    ".inf", "-.inf", "+.inf", ".nan",
}
_NUMBERISH = re.compile(r"[-+]?[.0-9][0-9a-fA-FxXoO_:.,+-]*")
_INDENT = "  "
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")  # ISO dates and timestamps (YAML 1.1 !!timestamp)


def _needs_quotes(text: str) -> bool:
    if not text or not _PLAIN.fullmatch(text):
        return True
    if text.lower() in _RESERVED or _NUMBERISH.fullmatch(text) or text.endswith(":"):
        return True
    return bool(_DATE.match(text))


# What YAML deems non-printable: the complement of c-printable (json.dumps has escaped tab and line breaks), and the
# byte-order mark. Spelled as the small ranges it is: the complement form takes ~2.5 ms to compile at import.
_NONPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_NONPRINTABLE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _quote(text: str) -> str:
    """A YAML double-quoted scalar: JSON escapes, plus escapes for what YAML deems non-printable."""
    return _NONPRINTABLE.sub(_escape, json.dumps(text, ensure_ascii=False))


@functools.lru_cache(maxsize=8192)
def _string(text: str) -> str:
    # Pure and bounded: the same keys and values recur across every stack of a fleet.
    return _quote(text) if _needs_quotes(text) else text


def scalar(value: Any) -> str:
    """One scalar as YAML text (no multi-line strings here)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"refusing to emit non-finite float {value!r}")
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        # YAML 1.1 floats need a dot in the mantissa and a signed exponent.
        return f"{mantissa if '.' in mantissa else mantissa + '.0'}{e}{exponent}"
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"cannot emit {type(value).__name__} as YAML")


def _literal_ok(text: str) -> bool:
    """A multi-line string that a literal block (`|` or `|-`) reproduces exactly."""
    if "\n" not in text or text.startswith((" ", "\n")) or text.endswith("\n\n"):
        return False
    # Printable throughout, and no line ends in a space (a literal block would drop it).
    return not _NONPRINTABLE_BUT_NEWLINE.search(text) and " \n" not in text and not text.endswith(" ")


def _block_scalar(text: str, indent: str) -> list[str]:
    head = "|" if text.endswith("\n") else "|-"
    body = text[:-1] if text.endswith("\n") else text
    return [head] + [(indent + line) if line else "" for line in body.split("\n")]


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Append the block lines of a mapping or sequence at `indent`."""
    # The hot loop of a fleet (every key of every file): the common leaves and containers inline, exact types.
    child = indent + _INDENT
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"mapping keys must be str, got {key!r}")
            prefix = f"{indent}{_string(key)}:"
            kind = type(item)
            if kind is str and "\n" not in item:
                out.append(f"{prefix} {_string(item)}")
            elif (kind is dict or kind is list) and item:
                out.append(prefix)
                _emit(item, child, out)
            elif kind is int:
                out.append(f"{prefix} {item}")
            elif kind is bool:
                out.append(f"{prefix} {'true' if item else 'false'}")
            else:
                _emit_entry(prefix, item, indent, out)
    else:
        dash = f"{indent}-"
        for item in value:
            kind = type(item)
            if kind is str and "\n" not in item:
                out.append(f"{dash} {_string(item)}")
            elif kind is dict and item:
                # First key on the dash line, the rest aligned under it.
                first = len(out)
                _emit(item, child, out)
                out[first] = f"{dash} {out[first][len(child):]}"
            else:
                _emit_entry(dash, item, indent, out, in_list=True)


def _emit_entry(prefix: str, item: Any, indent: str, out: list[str], in_list: bool = False) -> None:
    # The rarer cases of _emit: multi-line strings, empty or non-dict/list containers, other scalars.
    kind = type(item)
    if isinstance(item, str):
        if "\n" in item and _literal_ok(item):
            lines = _block_scalar(item, indent + _INDENT)
            out.append(f"{prefix} {lines[0]}")
            out.extend(lines[1:])
        else:
            out.append(f"{prefix} {_string(str(item))}")
    elif kind is dict or isinstance(item, Mapping):
        if not item:
            out.append(f"{prefix} {{}}")
        elif in_list:
            child = indent + _INDENT
            first = len(out)
            _emit(item if kind is dict else dict(item), child, out)
            out[first] = f"{prefix} {out[first][len(child):]}"
        else:
            out.append(prefix)
            _emit(item if kind is dict else dict(item), indent + _INDENT, out)
    elif kind is list or kind is tuple:
        if item:
            out.append(prefix)
            _emit(item, indent + _INDENT, out)
        else:
            out.append(f"{prefix} []")
    else:
        out.append(f"{prefix} {scalar(item)}")


class YamlText(str):
    """YAML text that still carries the data it was dumped from, so checks need not parse it back.

    The data is what the emitter built; nobody mutates it after dumping.
    """

    data: Any
    documents: tuple[Any, ...]

    def __new__(cls, text: str, documents: tuple[Any, ...]) -> YamlText:
        obj = super().__new__(cls, text)
        obj.documents = documents
        obj.data = documents[0] if len(documents) == 1 else None
        return obj

    def with_prefix(self, prefix: str) -> YamlText:
        return YamlText(prefix + self, self.documents)


def dump(doc: Mapping[str, Any] | Sequence[Any], header: str = "") -> YamlText:
    """One YAML document; `header` lines are emitted as comments first."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    body: list[str] = []
    _emit(doc, "", body)
    if not body:
        body = ["{}" if isinstance(doc, Mapping) else "[]"]
    return YamlText("\n".join(lines + body) + "\n", (doc,))


def dump_all(docs: Sequence[Mapping[str, Any]], header: str = "") -> YamlText:
    """Several documents separated by `---`."""
    parts = [dump(doc) for doc in docs]
    head = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) if header else ""
    return YamlText(head + "---\n".join(parts), tuple(docs))
