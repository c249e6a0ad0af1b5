"""The typed spec (models) and its loader (path -> Spec, with line marks for errors)."""

from llmd_compile.spec.load import load, load_text
from llmd_compile.spec.models import Spec

__all__ = ["Spec", "load", "load_text"]
