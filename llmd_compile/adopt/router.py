"""A router-era guide (llm-d v0.8+: `router/<guide>.values.yaml` over `recipes/router/base.values.yaml`, and a
kustomize model-server overlay) -> Source pieces the Helm-era mapping reads.

The overlay is built with `kubectl kustomize` (the guides' own install step, CURRENT.md §1.6); its Deployments become
the roles (label llm-d.ai/role), the router values the picker. LeaderWorkerSets (wide-EP) are refused, as in the
Helm era."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from llmd_compile.adopt.sources import Piece, Source, merge, read
from llmd_compile.errors import SpecError

OVERLAYS = ("modelserver/gpu/vllm/base", "modelserver/gpu/vllm", "modelserver/cpu/vllm", "modelserver/amd/vllm/base")


def is_router_guide(path: Path) -> bool:
    return path.is_dir() and (path / "router").is_dir() and (path / "modelserver").is_dir()


def chart_version(path: Path) -> str | None:
    """ROUTER_CHART_VERSION's default in the guides' env.sh (CURRENT.md §1.1), if the checkout has one."""
    env = path.parent / "env.sh"
    if not env.is_file():
        return None
    found = re.search(r"ROUTER_CHART_VERSION=\$\{ROUTER_CHART_VERSION:-(v[0-9.]+)\}", env.read_text(encoding="utf-8"))
    return found.group(1) if found else None


def _build(overlay: Path, shown: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SpecError.one(shown, "", "building the model-server overlay needs kubectl (kubectl kustomize) on PATH")
    done = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120,
                          check=False)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["failed"])[0]
        raise SpecError.one(shown, "", f"kubectl kustomize: {first}")
    return [d for d in YAML(typ="safe").load_all(done.stdout) if isinstance(d, dict)]


def _role_values(doc: dict[str, Any], shown: str) -> tuple[str, dict[str, Any]]:
    """A Deployment as the ms-values shape the Helm-era mapping reads: replicas, containers[0] (vLLM), volumes."""
    pod = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    role = str(((doc.get("metadata") or {}).get("labels") or {}).get("llm-d.ai/role", "decode"))
    containers = [c for c in pod.get("containers") or [] if c.get("name") in ("modelserver", "vllm")] or \
        list(pod.get("containers") or [])
    if not containers:
        raise SpecError.one(shown, "", f"{doc.get('kind')} {doc['metadata'].get('name')}: no container")
    c = dict(containers[0])
    command = [str(x) for x in c.get("command") or []]
    args = [str(x) for x in c.get("args") or []]
    if command[:2] == ["vllm", "serve"]:
        args = command[2:] + args
    model = args.pop(0) if args and not args[0].startswith("-") else None
    c["args"] = args
    c["modelCommand"] = "vllmServe"
    values: dict[str, Any] = {"replicas": int((doc.get("spec") or {}).get("replicas", 1)), "containers": [c],
                              "volumes": pod.get("volumes") or [], "_model": model}
    sidecars = [i for i in pod.get("initContainers") or [] if "disagg-sidecar" in str(i.get("image", "")) or
                "routing-sidecar" in str(i.get("image", ""))]
    if sidecars:
        values["_sidecar"] = str(sidecars[0].get("image"))
    return role, values


def from_router_guide(path: Path, shown: str, env: str, overlay: str | None) -> Source:
    name = path.name
    values_file = path / "router" / f"{name}.values.yaml"
    if not values_file.is_file():
        raise SpecError.one(shown, "", f"no router/{name}.values.yaml: not a router-era guide directory")
    base_file = path.parent / "recipes" / "router" / "base.values.yaml"
    data, lines = read(values_file, f"{shown}/router/{values_file.name}")
    if base_file.is_file():
        data = merge(read(base_file, str(base_file))[0], data)
    chosen = path / overlay if overlay else next((path / o for o in OVERLAYS if (path / o / "kustomization.yaml")
                                                 .is_file()), None)
    if chosen is None or not (chosen / "kustomization.yaml").is_file():
        raise SpecError.one(shown, "", "no model-server overlay (modelserver/<accel>/<server>/...): pass --overlay")
    overlay_shown = f"{shown}/{chosen.relative_to(path).as_posix()}"
    docs = _build(chosen, overlay_shown)
    if "REPLACE_" in repr(docs):
        raise SpecError.one(overlay_shown, "", "the overlay leaves an image placeholder (REPLACE_…): it is a base for "
                            "other overlays; pass the leaf you deploy with --overlay (e.g. modelserver/gpu/vllm/gke)")
    if any(d.get("kind") == "LeaderWorkerSet" for d in docs):
        raise SpecError.one(overlay_shown, "multinode", "wide expert parallelism (LeaderWorkerSets) is not imported "
                            "yet: write parallelism.{data,dataLocal,expert} by hand")
    roles = dict(_role_values(d, overlay_shown) for d in docs if d.get("kind") == "Deployment")
    if "decode" not in roles:
        raise SpecError.one(overlay_shown, "", "no decode Deployment (label llm-d.ai/role: decode) in the overlay")
    decode = roles["decode"]
    model = decode.pop("_model")
    ms: dict[str, Any] = {"modelArtifacts": {"uri": f"hf://{model}"}, "decode": decode,
                          "prefill": {"create": "prefill" in roles, **roles.get("prefill", {})}}
    roles.get("prefill", {}).pop("_model", None)
    secret = next((e["valueFrom"]["secretKeyRef"]["name"] for e in decode["containers"][0].get("env") or []
                   if e.get("name") == "HF_TOKEN" and "secretKeyRef" in (e.get("valueFrom") or {})), None)
    if secret:
        ms["modelArtifacts"]["authSecretName"] = secret
    proxy = decode.pop("_sidecar", None)
    if proxy:
        ms["routing"] = {"proxy": {"image": proxy}}
    router = data.get("router") or {}
    epp = router.get("epp") or {}
    gaie = {"inferenceExtension": {k: v for k, v in {
        "replicas": epp.get("replicas"), "pluginsConfigFile": epp.get("pluginsConfigFile"),
        "pluginsCustomConfig": epp.get("pluginsCustomConfig"), "env": epp.get("env")}.items() if v is not None}}
    # The guide's own other epp keys (not base.values.yaml's, which the compiled chart values carry too) go along, so
    # the import reports them as not imported (e.g. v0.8 precise's flags.ha-enable-leader-election: false).
    own = ((read(values_file, str(values_file))[0].get("router") or {}).get("epp") or {})
    gaie["inferenceExtension"].update({k: v for k, v in own.items() if k not in gaie["inferenceExtension"] and
                                       k not in ("image", "resources")})
    if (router.get("monitoring") or {}).get("prometheus", {}).get("enabled"):
        gaie["inferenceExtension"]["monitoring"] = {"prometheus": {"enabled": True}}
    source = Source(origin=f"the router-era guide directory {shown} (router values, {overlay_shown} built with "
                           f"kubectl kustomize; {env} gateway)")
    source.pieces = [Piece("gaie", f"{shown}/router/{values_file.name}", gaie,
                           {("inferenceExtension", k): lines.get(("router", "epp", k), 0) for k in epp}),
                     Piece("ms", overlay_shown, ms, {})]
    source.name = name
    source.router = True
    return source
