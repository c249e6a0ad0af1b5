"""The typed spec (models) and its loader (path -> Spec, with line marks for errors).

Attributes load lazily: the CLI's no-op path imports spec.layers without paying for pydantic.
(`load` is also a submodule name: import the function from llmd_compile.spec.load.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["Spec", "load_text"]


def __getattr__(name: str) -> Any:
    if name == "load_text":
        from llmd_compile.spec.load import load_text

        return load_text
    if name == "Spec":
        from llmd_compile.spec.models import Spec

        return Spec
    raise AttributeError(name)
