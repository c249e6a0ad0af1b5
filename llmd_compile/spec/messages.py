"""pydantic's validation errors, said for a person: the offending value quoted, patterns in words, "did you mean".

`message(err)` turns one `ValidationError.errors()` entry into the text after `file:line:col: field: `.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from llmd_compile.spec.base import (
    _TOKEN_LIKE,
    CHART_VERSION,
    DNS_LABEL,
    DNS_SUBDOMAIN,
    ENV_NAME,
    GO_DURATION,
    GW_DURATION,
    HF_MODEL,
    IMAGE,
    LABEL_KEY,
    LABEL_VALUE,
    QUANTITY,
    RESOURCE_NAME,
    SECRET_KEY,
)

# What each pattern the spec uses means (Kubernetes API conventions, Gateway API GEP-2257, Go time.ParseDuration).
PATTERN_WORDS = {
    DNS_LABEL: "a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit "
               "(at most 63 characters)",
    DNS_SUBDOMAIN: "a DNS-1123 subdomain: DNS-1123 labels (lower case letters, digits and '-', starting and ending "
                   "with a letter or digit) joined by '.'",
    CHART_VERSION: "a chart version: 'v', then MAJOR.MINOR.PATCH, optionally '-' and a pre-release (v1.3.0, "
                   "v1.2.0-rc.1)",
    QUANTITY: "a Kubernetes quantity: a number with an optional unit (50Gi, 512Mi, 1.5G, 100m)",
    GW_DURATION: "a Gateway API duration: one to four number+unit parts, units h, m, s, ms (0s, 30s, 1h30m)",
    GO_DURATION: "a duration: number+unit parts, units h, m, s, ms (30s, 1m30s)",
    ENV_NAME: "an environment variable name: letters, digits and '_', not starting with a digit",
    SECRET_KEY: "a Secret key: letters, digits, '-', '_' and '.'",
    IMAGE: "an image reference in lower case: registry/repository:tag, optionally @sha256:<64 hex digits>",
    HF_MODEL: "a Hugging Face model id: <organisation>/<name> (letters, digits, '-', '_' and '.')",
    LABEL_KEY: "a label key: an optional DNS subdomain prefix and '/', then a name of letters, digits, '-', '_' "
               "and '.', starting and ending with a letter or digit",
    LABEL_VALUE: "a label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
    RESOURCE_NAME: "an extended resource name: <domain>/<name> (rdma/ib)",
    r"^[1-9][0-9]{0,2}(x[1-9][0-9]{0,2}){1,2}$": "a TPU slice topology: two or three sizes joined by 'x' (2x4, 4x4x4)",
    r"^(sched|gaie|router)-v\d+\.\d+\.\d+$": "a picker registry version: sched-, gaie- or router-, then "
                                            "vMAJOR.MINOR.PATCH (sched-v0.2.1)",
    r"^LLMD[0-9]{3}$": "a diagnostic code: LLMD and three digits (LLMD401)",
    r"^[A-Za-z0-9][-A-Za-z0-9_./]*$": "a relative path: letters, digits, '-', '_', '.' and '/', starting with a "
                                     "letter or digit",
    r"^[A-Za-z0-9_][-A-Za-z0-9_./]*$": "a relative path: letters, digits, '-', '_', '.' and '/', starting with a "
                                      "letter, digit or '_'",
    r"^[A-Za-z0-9_][-A-Za-z0-9_./]*\.json$": "a relative path to a .json file: letters, digits, '-', '_', '.' and "
                                            "'/', starting with a letter, digit or '_'",
    r"^https://[^\s]+$": "an https:// URL",
    r"^(https://|ssh://|git@)[^\s]+$": "a git repository URL (https://, ssh:// or git@)",
    r"^/[A-Za-z0-9/_.-]*$": "an absolute HTTP path: '/', then letters, digits, '/', '_', '.' and '-'",
    r"^[0-9]{1,10}$": "up to ten digits, as a string (quote it: '42')",
}

_TYPES = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "a string", "dict_type": "a mapping", "list_type": "a list", "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def shown(value: Any) -> str:
    """A value as the user wrote it in YAML: strings quoted, booleans and null in YAML spelling."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, str) and _TOKEN_LIKE.search(value):
        return "a value that looks like a secret token"  # never echoed: messages end up in CI logs
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def suggestion(value: str, options: list[str]) -> str:
    """'; did you mean 'x'?' for a near miss among `options` (case and punctuation ignored), else ''."""
    def norm(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    by_norm = {norm(o): o for o in options}
    match = difflib.get_close_matches(norm(value), list(by_norm), n=1, cutoff=0.6)
    return f"; did you mean {by_norm[match[0]]!r}?" if match else ""


def message(err: Any) -> str:
    """The message for one pydantic error entry (missing and unknown fields are said by the loader)."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    text: str = err["msg"]
    if text.startswith("Value error, "):
        return text[len("Value error, "):]
    if kind in _TYPES:
        if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
            return f"{shown(value)} is read as a number here, not a string: quote the value"
        if kind in ("model_type", "dict_type") and value is None:
            return "is empty: give it a mapping ({} for all defaults)"
        if kind.startswith(("int", "float")) and isinstance(value, str) and re.fullmatch(r"-?[0-9.]+", value.strip()):
            return f"{shown(value)} is a string here, not {_TYPES[kind]}: write it without quotes"
        return f"{shown(value)} is not {_TYPES[kind]}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        words = PATTERN_WORDS.get(pattern)
        return f"{shown(value)} is not {words}" if words else f"{shown(value)} does not match {pattern}"
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = suggestion(str(value), options) if isinstance(value, str) else ""
        return f"{shown(value)} is not one of {', '.join(options)}{hint}"
    if kind in ("string_too_long", "string_too_short") and isinstance(value, str):
        return f"{text}; {shown(value)} has {len(value)}"
    if kind in ("too_long", "too_short") and isinstance(value, list | dict):
        return f"{text}; it has {len(value)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number"):
        return f"{text}, not {shown(value)}"
    return text
