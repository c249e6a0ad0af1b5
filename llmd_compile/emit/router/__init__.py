"""The router family (llm-d v0.8+): router chart values, the Gateway recipe, kustomize model servers.

Shared with the Helm-era family: the EndpointPickerConfig (emit/epp.py). Registered in emit.FAMILIES["router"].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from llmd_compile.emit import epp
from llmd_compile.emit.router import autoscaling, gateway, gitops, modelservers, observability, readme, values
from llmd_compile.resolve import Stack

EMITTERS: Mapping[str, Callable[[Stack], dict[str, str]]] = MappingProxyType({
    "epp": epp.emit,
    "router": values.emit,
    "gateway": gateway.emit,
    "modelservers": modelservers.emit,
    "gitops": gitops.emit,
    "readme": readme.emit,
    "autoscaling": autoscaling.emit,
    "observability": observability.emit,
})
