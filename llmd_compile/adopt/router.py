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
from ruamel.yaml.error import YAMLError

from llmd_compile.adopt import widep
from llmd_compile.adopt.sources import Piece, Source, merge, read
from llmd_compile.errors import SpecError

_COMPILED_FLAGS = {"v": 2}
OVERLAYS = ("modelserver/gpu/vllm/base", "modelserver/gpu/vllm", "modelserver/cpu/vllm", "modelserver/amd/vllm/base")


def is_router_guide(path: Path) -> bool:
    return path.is_dir() and (path / "router").is_dir() and (path / "modelserver").is_dir()


def chart_version(path: Path) -> str | None:
    """ROUTER_CHART_VERSION in the guides' env.sh (CURRENT.md §1.1; v0.8 sets it, v0.9 defaults it), if any."""
    env = path.parent / "env.sh"
    if not env.is_file():
        return None
    text = env.read_text(encoding="utf-8")
    found = re.search(r"ROUTER_CHART_VERSION=(?:\$\{ROUTER_CHART_VERSION:-)?(v[0-9.]+)", text)
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


def _docs(path: Path, shown: str) -> list[dict[str, Any]]:
    """Model-server manifests: a kustomize overlay directory (built), or a manifests file as `kubectl kustomize` or
    `kubectl get deployment -o yaml` prints it (a v1 List is unpacked)."""
    if path.is_dir():
        if not (path / "kustomization.yaml").is_file():
            raise SpecError.one(shown, "", "a directory without kustomization.yaml: not a model-server overlay")
        return _build(path, shown)
    from llmd_compile.spec.yamlread import decode, read_bounded

    try:
        loaded = [d for d in YAML(typ="safe").load_all(decode(read_bounded(path, shown), shown)) if isinstance(d, dict)]
    except YAMLError as exc:
        raise SpecError.one(shown, "", f"YAML syntax: {exc}", 1, 1) from None
    return [i for d in loaded for i in (d.get("items") or [] if d.get("kind") == "List" else [d])
            if isinstance(i, dict)]


def _ms_piece(docs: list[dict[str, Any]], overlay_shown: str) -> Piece:
    if "REPLACE_" in repr(docs):
        raise SpecError.one(overlay_shown, "", "the overlay leaves an image placeholder (REPLACE_…): it is a base for "
                            "other overlays; pass the leaf you deploy with --overlay (e.g. modelserver/gpu/vllm/gke)")
    roles = dict(_role_values(d, overlay_shown) for d in docs if d.get("kind") == "Deployment")
    roles.update(widep.role_values(d, overlay_shown) for d in docs if d.get("kind") == "LeaderWorkerSet")
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
    return Piece("ms", overlay_shown, ms, {})


def _gaie_piece(data: dict[str, Any], lines: dict[Any, int], own: dict[str, Any], shown: str,
                at: tuple[str, ...] = ("router", "epp")) -> Piece:
    """Router values as the inferencepool values the Helm-era mapping reads. `own` is the epp block the user wrote
    (not base.values.yaml's): its other keys go along so the import reports them as not imported."""
    router = data.get("router") or {}
    epp = router.get("epp") or {}
    ext = {k: v for k, v in {
        "replicas": epp.get("replicas"), "pluginsConfigFile": epp.get("pluginsConfigFile"),
        "pluginsCustomConfig": epp.get("pluginsCustomConfig"), "env": epp.get("env")}.items() if v is not None}
    if (router.get("monitoring") or {}).get("prometheus", {}).get("enabled"):
        ext["monitoring"] = {"prometheus": {"enabled": True}}
    # e.g. v0.8 precise's flags.ha-enable-leader-election: false; the flags every compiled values/router.yaml
    # carries (emit/router/values.py, = base.values.yaml's) are not news.
    own = {**own, "flags": {k: v for k, v in (own.get("flags") or {}).items() if _COMPILED_FLAGS.get(k) != v}}
    ext.update({k: v for k, v in own.items() if k not in ext and k not in ("image", "resources") and v})
    out: dict[str, Any] = {"inferenceExtension": ext}
    if (data.get("provider") or {}).get("name"):  # `--set provider.name=...` at install: `helm get values` shows it
        out["provider"] = {"name": str(data["provider"]["name"])}
    return Piece("gaie", shown, out, {**{("inferenceExtension", k): lines.get((*at, k), 0) for k in epp},
                                      **({("provider",): lines[("provider",)]} if ("provider",) in lines else {})})


def is_router_values(path: Path) -> bool:
    if not path.is_file() or path.suffix not in (".yaml", ".yml", ".txt", ""):
        return False
    try:
        data = read(path, str(path))[0]
    except SpecError:
        return False
    # httpRoute: a router chart key (a `--set httpRoute.create=true` file); the inferencepool chart has none.
    return isinstance(data, dict) and ("router" in data or "httpRoute" in data)


def is_manifests(path: Path) -> bool:
    """A file of Kubernetes manifests (Deployments / LeaderWorkerSets, or a List of them), not values."""
    if not path.is_file():
        return False
    try:
        docs = [d for d in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]
    except (YAMLError, UnicodeDecodeError):
        return False
    return bool(docs) and all("kind" in d and "apiVersion" in d for d in docs)


def picker_release(data: dict[str, Any]) -> str | None:
    """The router chart of the preset whose picker image the values pin (`helm get values --all` prints it)."""
    from llmd_compile.catalog import router as presets

    image = (((data.get("router") or {}).get("epp") or {}).get("image")) or {}
    if not isinstance(image, dict) or not image.get("tag"):
        return None
    ref = f"{image.get('registry', 'ghcr.io/llm-d')}/{image.get('repository', '')}:{image['tag']}"
    return next((r.router_chart for r in presets.ROUTER_RELEASES.values() if r.picker_image == ref), None)


def from_router_values(paths: list[Path], shown: list[str], env: str) -> Source:
    """Router values files one by one (`helm get values <release>` of a router release; later files win), plus at
    most one model-server overlay directory or manifests file."""
    values = [(p, s) for p, s in zip(paths, shown, strict=True) if is_router_values(p)]
    servers = [(p, s) for p, s in zip(paths, shown, strict=True) if not is_router_values(p)]
    if len(servers) != 1:
        where = servers[1][1] if servers else values[-1][1]
        raise SpecError.one(where, "", "router values need exactly one model-server input beside them: the kustomize "
                            "overlay directory you deploy, or its manifests (`kubectl kustomize` / `kubectl get "
                            "deployment -l llm-d.ai/role -o yaml`)" if not servers else
                            "a second model-server input: give one overlay directory or manifests file")
    source = Source()
    merged: dict[str, Any] = {}
    for path, name in values:
        data, lines = read(path, name)
        merged = merge(merged, data)
        source.pieces.append(_gaie_piece(data, lines, (data.get("router") or {}).get("epp") or {}, name))
        source.router_chart = picker_release(data) or source.router_chart
    server_path, server_shown = servers[0]
    source.pieces.append(_ms_piece(_docs(server_path, server_shown), server_shown))
    source.origin = (f"the router values {', '.join(s for _, s in values)} and the model servers of {server_shown} "
                     f"({env} gateway)")
    source.router = True
    return source


def _guide_model_servers(path: Path, shown: str, overlay: str | None) -> tuple[Piece, str]:
    """A guide directory's model-server overlay (the one named, else the first of OVERLAYS), built with kubectl."""
    chosen = path / overlay if overlay else next((path / o for o in OVERLAYS if (path / o / "kustomization.yaml")
                                                 .is_file()), None)
    if chosen is None or not (chosen / "kustomization.yaml").is_file():
        raise SpecError.one(shown, "", "no model-server overlay (modelserver/<accel>/<server>/...): pass --overlay")
    overlay_shown = f"{shown}/{chosen.relative_to(path).as_posix()}"
    return _ms_piece(_build(chosen, overlay_shown), overlay_shown), overlay_shown


def from_router_guide(path: Path, shown: str, env: str, overlay: str | None) -> Source:
    name = path.name
    values_file = path / "router" / f"{name}.values.yaml"
    if not values_file.is_file():
        raise SpecError.one(shown, "", f"no router/{name}.values.yaml: not a router-era guide directory")
    base_file = path.parent / "recipes" / "router" / "base.values.yaml"
    data, lines = read(values_file, f"{shown}/router/{values_file.name}")
    own = (data.get("router") or {}).get("epp") or {}
    if base_file.is_file():
        data = merge(read(base_file, str(base_file))[0], data)
    ms, overlay_shown = _guide_model_servers(path, shown, overlay)
    source = Source(origin=f"the router-era guide directory {shown} (router values, {overlay_shown} built with "
                           f"kubectl kustomize; {env} gateway)")
    source.pieces = [_gaie_piece(data, lines, own, f"{shown}/router/{values_file.name}"), ms]
    source.name = name
    source.router = True
    source.router_chart = chart_version(path)
    return source


# v0.7.0 (LD@08fe5b66): the picker from the GAIE v1.5.0 `standalone`/`inferencepool` charts (inferenceExtension.*),
# image ghcr.io/llm-d/llm-d-inference-scheduler:v0.8.0 and sidecar llm-d-routing-sidecar:v0.8.0, both unpullable
# (CURRENT §1 v0.7.0 differences, §5). No preset reproduces it; the nearest is v0.8 (router chart v0.9.0).
V07_TO = "v0.8"
_GAIE_EPP = ("replicas", "flags", "pluginsConfigFile", "pluginsCustomConfig", "env", "extraServicePorts")


def is_gaie_guide(path: Path) -> bool:
    return path.is_dir() and (path / "scheduler").is_dir() and (path / "modelserver").is_dir()


def from_gaie_guide(path: Path, shown: str, env: str, overlay: str | None) -> Source:
    """A v0.7.0 guide as the v0.8 router release would run it; every change is a note for the user."""
    name = path.name
    values_file = path / "scheduler" / f"{name}.values.yaml"
    if not values_file.is_file():
        raise SpecError.one(shown, "", f"no scheduler/{name}.values.yaml: not a v0.7 (GAIE-chart) guide directory")
    values_shown = f"{shown}/scheduler/{values_file.name}"
    data, lines = read(values_file, values_shown)
    ext = data.get("inferenceExtension") or {}
    own = {k: v for k, v in ext.items() if k in _GAIE_EPP or k not in ("image", "sidecar", "tracing", "resources",
                                                                          "failureMode")}
    base_file = path.parent / "recipes" / "scheduler" / "base.values.yaml"
    merged = merge(read(base_file, str(base_file))[0], data) if base_file.is_file() else data
    epp = {k: v for k, v in (merged.get("inferenceExtension") or {}).items() if k in _GAIE_EPP}
    ms, overlay_shown = _guide_model_servers(path, shown, overlay)
    source = Source(origin=f"the v0.7 guide directory {shown} (GAIE-chart scheduler values, {overlay_shown} built "
                           f"with kubectl kustomize; {env} gateway), moved to release {V07_TO}")
    image = (merged.get("inferenceExtension") or {}).get("image") or {}
    picker = f"{image.get('registry', 'ghcr.io')}/{image.get('repository', '?')}:{image.get('tag', '?')}"
    where = f"{values_shown}:{lines.get(('inferenceExtension',), 1)}"
    source.notes.append((where, f"v0.7 ran the picker {picker} from the GAIE v1.5.0 charts; that image can no longer "
                         f"be pulled: imported as release {V07_TO} (llm-d-router chart v0.9.0, its picker) — review "
                         "the picker config against router v0.9.0"))
    sidecar = ((ms.data.get("routing") or {}).get("proxy") or {}).pop("image", None)
    if sidecar:
        ms.data.pop("routing", None)
        source.notes.append((overlay_shown, f"the P/D sidecar {sidecar} can no longer be pulled: release {V07_TO}'s "
                             "disagg sidecar instead"))
    source.pieces = [_gaie_piece({"router": {"epp": epp}}, lines, own, values_shown, ("inferenceExtension",)), ms]
    source.name = name
    source.router = True
    source.router_chart = "v0.9.0"
    source.epp_key = "inferenceExtension"
    return source
