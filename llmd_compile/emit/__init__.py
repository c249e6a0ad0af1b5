"""Emitter families: one per install shape. Each emitter is a pure function: Stack -> {relpath: text}.

The stack's shape (decided by its release preset) picks the family. Shape-neutral emitters (the
EndpointPickerConfig) appear in several families; a new shape is one more package and one more entry in
FAMILIES, with no edit to an existing emitter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from llmd_compile.emit import epp, gitops, helm, kustomize, readme, router
from llmd_compile.resolve import Stack

Files = dict[str, str]
Emitter = Callable[[Stack], Files]

# Helm era (seed..v0.6): llm-d-infra / inferencepool / llm-d-modelservice values + kustomize base/overlays.
EMITTERS: Mapping[str, Emitter] = MappingProxyType({
    "helm": helm.emit,
    "epp": epp.emit,
    "kustomize": kustomize.emit,
    "gitops": gitops.emit,
    "readme": readme.emit,
})

FAMILIES: Mapping[str, Mapping[str, Emitter]] = MappingProxyType({
    "helm": EMITTERS,
    "router": router.EMITTERS,
})


def emitters(stack: Stack) -> Mapping[str, Emitter]:
    return FAMILIES[stack.shape]
