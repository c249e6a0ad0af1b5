"""One module per artifact family. Each emitter is a pure function: Stack -> {relpath: text}."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from llmd_compile.emit import epp, gitops, helm, kustomize, readme
from llmd_compile.resolve import Stack

Files = dict[str, str]
Emitter = Callable[[Stack], Files]

EMITTERS: Mapping[str, Emitter] = MappingProxyType({
    "helm": helm.emit,
    "epp": epp.emit,
    "kustomize": kustomize.emit,
    "gitops": gitops.emit,
    "readme": readme.emit,
})
