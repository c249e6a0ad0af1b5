"""The UDS tokenizer sidecar, where the v0.6 guides run it: next to the endpoint picker for precise prefix-cache
scoring (gaie-kv-events values), and next to every simulator pod (ms-sim values).

In both places one socket path must agree three ways: the tokenizer's config (the picker's tokenizer plugin and
the indexer's tokenizersPoolConfig.uds.socketFile, or the simulator's fixed socket), and the directory the sidecar
and its consumer share through one emptyDir. test_paths.py compares the rest of both guides value by value.
"""

from __future__ import annotations

import posixpath
from typing import Any

from ruamel.yaml import YAML

from llmd_compile.catalog import paths

from . import test_paths as tp


def _mounts(container: dict[str, Any]) -> dict[str, str]:
    return {m["name"]: m["mountPath"] for m in container.get("volumeMounts") or []}


def _socket_files(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [*([node["socketFile"]] if "socketFile" in node else []),
                *(f for v in node.values() for f in _socket_files(v))]
    if isinstance(node, list):
        return [f for v in node for f in _socket_files(v)]
    return []


def _shared_dir(a: dict[str, Any], b: dict[str, Any], volumes: list[dict[str, Any]]) -> set[str]:
    """Directories both containers mount from the same emptyDir volume."""
    empty = {v["name"] for v in volumes if "emptyDir" in v}
    ma, mb = _mounts(a), _mounts(b)
    return {ma[n] for n in set(ma) & set(mb) & empty if ma[n] == mb[n]}


def test_picker_and_its_tokenizer_share_the_socket() -> None:
    for side in (tp.guide_side("precise@v0.6")["gaie"], tp.ours("precise@v0.6")["gaie"]):
        ext = side["inferenceExtension"]
        config = YAML(typ="safe").load(ext["pluginsCustomConfig"][ext["pluginsConfigFile"]])
        sockets = set(_socket_files(config))
        assert len(sockets) == 1, sockets  # the tokenizer plugin and the indexer read one socket
        (socket,) = sockets
        epp = {"volumeMounts": ext["volumeMounts"]}
        assert posixpath.dirname(socket) in _shared_dir(epp, ext["sidecar"], ext["volumes"])
    assert socket == paths.UDS_SOCKET


def test_simulator_and_its_tokenizer_share_the_socket() -> None:
    for side in (tp.guide_side("sim@v0.6")["ms"], tp.ours("sim@v0.6")["ms"]):
        for role in ("decode", "prefill"):
            (sidecar,) = side[role]["initContainers"]
            (sim,) = side[role]["containers"]
            assert sidecar["restartPolicy"] == "Always"  # a native sidecar, beside the simulator for the pod's life
            assert _shared_dir(sim, sidecar, side[role]["volumes"]) == {posixpath.dirname(paths.UDS_SOCKET)}


def test_no_tokenizer_sidecar_before_v06() -> None:
    # The seed simulator guide ran without one; so do we (no image, no initContainers in MS v0.2.7).
    for side in (tp.guide_side("sim@seed")["ms"], tp.ours("sim@seed")["ms"]):
        assert not any(side[role].get("initContainers") for role in ("decode", "prefill"))
