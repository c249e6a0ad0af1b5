"""The compiled artifact set, parsed back from the text we are about to write.

Checks read these objects (not the spec), so what they verify is what lands in git.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML

from llmd_compile.resolve import Stack
from llmd_compile.yamlio import YamlText

ROUTER_VALUES = "values/router.yaml"
MODEL_SERVER_BASE = "modelserver/base/"
ROLE_LABEL = "llm-d.ai/role"
ROLES = ("decode", "prefill")
MODEL_SERVER = "modelserver"  # the vLLM container's name in the kustomize model servers (and the v0.9 guides)


def _walk(node: Any) -> Iterator[Any]:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)


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
    # With charts (`lint --charts`): the releases rendered by Helm, and the (chart, template) pairs Helm and the
    # Kubernetes YAML reader split differently (llmd_compile.render.release_objects); None without charts.
    rendered: tuple[tuple[dict[str, Any], ...], tuple[tuple[str, str], ...]] | None = None
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
        return self.doc("values/modelservice.yaml") or {}

    @property
    def route(self) -> dict[str, Any]:
        return self.doc("base/httproute.yaml") or {}

    # --- shape-neutral accessors: the checks ask these, each shape answers from its own artifacts -------------
    # Helm era: values/{infra,inferencepool,modelservice}.yaml; router shape (llm-d v0.8+): values/router.yaml for
    # the router chart and the kustomize model servers under modelserver/base/.

    @property
    def router(self) -> dict[str, Any]:
        return self.doc(ROUTER_VALUES) or {}

    @property
    def is_router(self) -> bool:
        return ROUTER_VALUES in self.files

    def _epp_values(self) -> dict[str, Any]:
        found = dig(self.router, "router", "epp") if self.is_router else dig(self.pool, "inferenceExtension")
        return found if isinstance(found, dict) else {}

    def epp_config(self) -> dict[str, Any]:
        values = self._epp_values()
        text = dig(values, "pluginsCustomConfig", str(values.get("pluginsConfigFile")))
        if isinstance(text, YamlText):
            return text.data or {}
        return _load(text) if isinstance(text, str) else {}

    def pool_selector(self) -> dict[str, Any]:
        found = dig(self.router, "router", "modelServers", "matchLabels") if self.is_router else \
            dig(self.pool, "inferencePool", "modelServers", "matchLabels")
        return dict(found) if isinstance(found, dict) else {}

    def pool_target_ports(self) -> list[int]:
        if not self.is_router:
            pool = self.pool.get("inferencePool", {}) or {}
            if "targetPortNumber" in pool:
                return [int(pool["targetPortNumber"])]
            return [int(p["number"]) for p in pool.get("targetPorts") or []]
        ports = dig(self.router, "router", "modelServers", "targetPorts", default=[{"number": 8000}]) or []
        return [int(p["number"]) for p in ports if isinstance(p, dict) and "number" in p]

    def model_server_docs(self) -> list[dict[str, Any]]:
        """The kustomize model-server objects (router shape; none in the Helm era)."""
        return [d for rel in sorted(self.files) if rel.startswith(MODEL_SERVER_BASE)
                and not rel.endswith("/kustomization.yaml") if isinstance(d := self.doc(rel), dict)]

    def pod_templates(self) -> list[tuple[str, dict[str, Any]]]:
        """(role label, pod template) of every kustomize Deployment and LeaderWorkerSet (leader and workers)."""
        out = []
        for doc in self.model_server_docs():
            if doc.get("kind") == "Deployment" and dig(doc, "spec", "replicas", default=1) != 0:
                templates = [dig(doc, "spec", "template")]
            elif doc.get("kind") == "LeaderWorkerSet" and dig(doc, "spec", "replicas", default=1) != 0:
                lws = dig(doc, "spec", "leaderWorkerTemplate", default={}) or {}
                templates = [lws.get("leaderTemplate"), lws.get("workerTemplate")]
            else:
                continue
            for template in templates:
                if isinstance(template, dict):
                    out.append((str(dig(template, "metadata", "labels", ROLE_LABEL, default="")), template))
        return out

    def role_pods(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """(role, containers of its pod, the model server first): decode and prefill, in both shapes."""
        out: list[tuple[str, list[dict[str, Any]]]] = []
        if not self.is_router:
            for role in ROLES:
                if dig(self.ms, role, "create") and dig(self.ms, role, "replicas", default=1) != 0:
                    containers = dig(self.ms, role, "containers", default=[]) or []
                    if containers and isinstance(containers[0], dict):
                        out.append((role, list(containers)))
            return out
        seen = set()
        for role, template in self.pod_templates():
            pod = template.get("spec") or {}
            containers = sorted(pod.get("containers") or [], key=lambda c: c.get("name") != MODEL_SERVER)
            if role in ROLES and role not in seen and containers:
                seen.add(role)
                out.append((role, [*containers, *(pod.get("initContainers") or [])]))
        return out

    def role_containers(self) -> list[tuple[str, dict[str, Any]]]:
        """(role, model-server container) per role."""
        return [(role, containers[0]) for role, containers in self.role_pods()]

    def secret_refs(self) -> set[str]:
        """Secrets the model servers read (env secretKeyRef), or the chart's authSecretName in the Helm era."""
        if not self.is_router:
            name = dig(self.ms, "modelArtifacts", "authSecretName")
            return {str(name)} if name else set()
        refs = set()
        for doc in self.model_server_docs():
            for item in _walk(doc):
                ref = item.get("secretKeyRef") if isinstance(item, dict) else None
                if isinstance(ref, dict) and ref.get("name"):
                    refs.add(str(ref["name"]))
        return refs

    def base_docs(self) -> list[dict[str, Any]]:
        """Plain manifests we generate: the Helm era's kustomize base, or the router shape's model servers."""
        return [d for rel in sorted(self.files) if rel.startswith("base/") and rel != "base/kustomization.yaml"
                if isinstance(d := self.doc(rel), dict)] + self.model_server_docs()
