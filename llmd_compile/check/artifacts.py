"""The compiled artifact set, parsed back from the text we are about to write.

Checks read these objects (not the spec), so what they verify is what lands in git.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML

from llmd_compile.resolve import Stack
from llmd_compile.yamlio import YamlText


def _load(text: str) -> Any:
    return YAML(typ="safe", pure=False).load(str(text))  # the C parser wants an exact str


def dig(data: Any, *path: str | int, default: Any = None) -> Any:
    for key in path:
        if isinstance(data, dict) and isinstance(key, str) and key in data:
            data = data[key]
            continue
        if isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
            continue
        return default
    return data


@dataclass(frozen=True)
class Artifacts:
    stack: Stack
    files: dict[str, str]
    _parsed: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def doc(self, rel: str) -> Any:
        """One generated YAML file, parsed (None if we did not generate it)."""
        if rel not in self._parsed:
            text = self.files.get(rel)
            # Our emitters hand over the data behind the text; anything else is parsed.
            self._parsed[rel] = None if text is None else text.data if isinstance(text, YamlText) else _load(text)
        return self._parsed[rel]

    @property
    def infra(self) -> dict[str, Any]:
        return self.doc("values/infra.yaml") or {}

    @property
    def pool(self) -> dict[str, Any]:
        return self.doc("values/inferencepool.yaml") or {}

    @property
    def ms(self) -> dict[str, Any]:
        if self.stack.shape == "router":
            return self.model_server_roles()
        return self.doc("values/modelservice.yaml") or {}

    def model_server_roles(self) -> dict[str, Any]:
        """Router shape: each role's Deployment/LeaderWorkerSet (modelserver/base/<role>.yaml) as the
        {role: {create, replicas, containers}} the model-pod checks read (vLLM first, as in the chart's values)."""
        out: dict[str, Any] = {}
        for role in ("decode", "prefill"):
            doc = self.doc(f"modelserver/base/{role}.yaml")
            if not isinstance(doc, dict):
                continue
            spec = doc.get("spec") or {}
            template = dig(spec, "leaderWorkerTemplate", "workerTemplate") or dig(spec, "template") or {}
            out[role] = {"create": True, "replicas": spec.get("replicas", 1),
                         "containers": list(dig(template, "spec", "containers", default=[]) or []),
                         "serviceAccountName": dig(template, "spec", "serviceAccountName"),
                         "monitoring": {"podmonitor": {
                             "enabled": f"modelserver/base/{role}-podmonitor.yaml" in self.files}}}
        return out

    @property
    def route(self) -> dict[str, Any]:
        return self.doc("base/httproute.yaml") or {}

    def epp_config(self) -> dict[str, Any]:
        if self.stack.shape == "router":  # the same config the router values mount (emit/epp.py)
            return self.doc("epp/endpoint-picker-config.yaml") or {}
        name = dig(self.pool, "inferenceExtension", "pluginsConfigFile")
        text = dig(self.pool, "inferenceExtension", "pluginsCustomConfig", name)
        if isinstance(text, YamlText):
            return text.data or {}
        return _load(text) if isinstance(text, str) else {}

    def base_docs(self) -> list[dict[str, Any]]:
        return [d for rel in sorted(self.files) if rel.startswith("base/") and rel != "base/kustomization.yaml"
                if isinstance(d := self.doc(rel), dict)]
