"""Every release preset a spec can name (`release:`), whatever install shape it has, and which is the newest.

`llmd-compile init` starts from the newest preset, `versions` lists each preset's model-server images and `LLMD312`
warns about an image of another release: all three read this table, so a preset added here (a new release, a new
install shape) reaches them without another edit. tests/unit/test_init.py fails when the spec accepts a `release`
this table lacks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

from llmd_compile.catalog import charts, router


class Preset(Protocol):
    """What every install shape's preset says about its model servers."""

    @property
    def name(self) -> str: ...

    @property
    def vllm_images(self) -> Mapping[str, str]: ...


PRESETS: Mapping[str, Preset] = MappingProxyType({**charts.RELEASES, **router.ROUTER_RELEASES})

_VERSION = re.compile(r"^v(\d+)\.(\d+)(?:\.(\d+))?$")


def version_key(name: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a preset named for an llm-d release (`v0.6`, `v0.3.0`); None for `seed`."""
    match = _VERSION.match(name)
    return None if match is None else (int(match[1]), int(match[2]), int(match[3] or 0))


def newest(names: list[str] | None = None) -> str:
    """The preset of the newest llm-d release among `names` (default: every preset)."""
    versioned = [n for n in (names if names is not None else list(PRESETS)) if version_key(n) is not None]
    return max(versioned, key=lambda n: version_key(n) or (0, 0, 0))


def release_of(image: str) -> list[tuple[str, str]]:
    """(preset, vendor) of every preset whose model-server image for a vendor is exactly `image`."""
    return [(p.name, vendor) for p in PRESETS.values() for vendor, known in p.vllm_images.items() if known == image]
