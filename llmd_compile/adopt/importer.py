"""Adopt a running llm-d deployment: `import` reads it as the guides write it and writes a spec that compiles back
to it; `upgrade` (adopt/upgrade.py) moves a spec to another release preset, as a reviewed diff."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from llmd_compile.adopt import helmera, picker, router
from llmd_compile.adopt.helmera import Draft, Note
from llmd_compile.adopt.helmfile import discover
from llmd_compile.adopt.sources import Source, piece, problem
from llmd_compile.adopt.write import render
from llmd_compile.catalog import charts
from llmd_compile.catalog.plugins import picker_for_image
from llmd_compile.errors import SpecError

__all__ = ["Imported", "Note", "Options", "import_source"]


# The spec's own field order (spec/models.py Spec).
ORDER = ("apiVersion", "kind", "metadata", "release", "charts", "model", "accelerator", "decode", "prefill",
         "kvTransfer", "gateway", "scheduler", "route", "platforms", "monitoring")


@dataclass(frozen=True)
class Options:
    env: str = "istio"  # a guide's gateway environment (common-configurations/<env>.yaml, helmfile -e)
    name: str | None = None
    namespace: str | None = None
    release: str | None = None
    accelerator: str | None = None
    overlay: str | None = None  # a router-era guide's model-server overlay, relative to the guide


@dataclass(frozen=True)
class Imported:
    text: str
    notes: list[Note]


def gather(paths: list[Path], shown: list[str], options: Options) -> Source:
    """One directory or helmfile, or values files given one by one."""
    if len(paths) == 1 and router.is_gaie_guide(paths[0]):
        return router.from_gaie_guide(paths[0], shown[0].rstrip("/"), options.env, options.overlay)
    if len(paths) == 1 and router.is_router_guide(paths[0]):
        return router.from_router_guide(paths[0], shown[0].rstrip("/"), options.env, options.overlay)
    if any(router.is_router_values(p) for p in paths) and \
            all(router.is_router_values(p) or p.is_dir() or router.is_manifests(p) for p in paths):
        return router.from_router_values(paths, shown, options.env)
    if len(paths) == 1 and (paths[0].is_dir() or paths[0].name.startswith("helmfile")):
        return discover(paths[0], shown[0], options.env, options.name, options.namespace)
    source = Source(origin="the values files " + ", ".join(shown))
    for path, name in zip(paths, shown, strict=True):
        if path.is_dir():
            raise SpecError.one(name, "", "a directory among values files: import a directory on its own")
        source.pieces.append(piece(path, name))
    source.pieces.sort(key=lambda p: ("infra", "gaie", "ms", "route").index(p.kind))
    return source


def _required(source: Source, kind: str, what: str) -> dict[str, Any]:
    values = source.values(kind)  # type: ignore[arg-type]
    if values is None:
        first = source.pieces[0].path if source.pieces else "(no input)"
        raise SpecError.one(first, "", f"no {what} values among the inputs: an llm-d deployment needs them")
    return values


def _name(source: Source, ms: dict[str, Any], options: Options) -> str:
    if options.name or source.name:
        return str(options.name or source.name)
    pool = helmera._dig(ms, "routing", "inferencePool", "name")
    if isinstance(pool, str) and pool.startswith("gaie-"):
        return pool.removeprefix("gaie-")
    if source.router:
        raise SpecError.one(source.pieces[0].path, "metadata.name", "the router release name is not in its values: "
                            "pass --name (the NAME of `helm get values NAME`)")
    raise SpecError.one(source.pieces[0].path, "metadata.name", "the release postfix is not in the values: pass "
                        "--name (the X of releases infra-X, gaie-X, ms-X)")


def paths_of(source: Source) -> Path:
    return Path(source.pieces[0].path).parent.parent  # <guide>/router/<guide>.values.yaml -> <guide>


def _router_release(source: Source, guide: Path, vllm_image: str | None, wanted: str | None) -> str:
    """A router-era preset: asked for, the guides' env.sh ROUTER_CHART_VERSION, else the vLLM image it ships."""
    from llmd_compile.catalog import router as presets

    if wanted:
        if wanted not in presets.ROUTER_RELEASES:
            raise SpecError.one("--release", "release", f"{wanted} is no router-era preset "
                                f"({', '.join(presets.ROUTER_RELEASES)})")
        return wanted
    version = source.router_chart
    for name, r in presets.ROUTER_RELEASES.items():
        if version == r.router_chart or (version is None and vllm_image in r.vllm_images.values()):
            return name
    raise SpecError.one(source.pieces[0].path, "release", "cannot tell the release (router chart "
                        f"{version or 'unknown'}, vLLM image {vllm_image}): pass --release")


def _gateway(source: Source, draft: Draft, gaie: dict[str, Any], env: str = "istio") -> None:
    if source.router:  # the router chart's provider is a --set at install time: the values or the environment say it
        given = helmera._dig(gaie, "provider", "name")
        if given in ("istio", "kgateway", "agentgateway", "gke", "none"):
            draft.spec["gateway"] = {"provider": str(given)}
            draft.comments["gateway"] = f"provider.name from {source.where('gaie', 'provider')}"
            return
        draft.spec["gateway"] = {"provider": env if env in ("istio", "kgateway", "agentgateway", "gke", "none")
                                 else "istio"}
        draft.comments["gateway"] = f"the {env} gateway recipe (--env)"
        return
    infra = source.values("infra") or {}
    gw = infra.get("gateway") or {}
    provider = helmera.CLASS_PROVIDER.get(str(gw.get("gatewayClassName") or gw.get("provider") or ""))
    if helmera._dig(gaie, "provider", "name") == "gke":
        provider = "gke"
    gateway: dict[str, Any] = {}
    if provider is None and source.pins and "infra" not in source.pins:
        provider = "none"  # a helmfile without an llm-d-infra release: picker-only, no Gateway
    if provider is None:
        provider = "istio"
        draft.note(source.where("infra", "gateway") if infra else source.where("gaie", "provider"),
                   "the gateway provider is not in the source (no llm-d-infra gatewayClassName): assumed istio")
    gateway["provider"] = provider
    service = helmera._dig(gw, "service", "type")
    infra_version = str(draft.spec.get("charts", {}).get("infra") or
                        (charts.RELEASES[draft.spec["release"]].infra if draft.spec.get("release") in charts.RELEASES
                         else ""))
    if not service and infra_version in charts.INFRA and infra:
        # Unset, the chart's own default ran (LoadBalancer on llm-d-infra v1.3.0-v1.3.2), not the spec's ClusterIP.
        service = charts.INFRA[infra_version].default_service_type
    if service and service != "ClusterIP":
        gateway["service"] = {"type": str(service)}
    draft.spec["gateway"] = gateway
    draft.comments["gateway"] = f"from {source.where('infra', 'gateway') if infra else '(assumed)'}"


def _scheduler(source: Source, draft: Draft, gaie: dict[str, Any], release: str | None,
               verify: Any) -> None:
    ext = gaie.get("inferenceExtension") or {}
    image = helmera._image(ext.get("image"))
    preset = charts.RELEASES.get(release) if release else None
    scheduler: dict[str, Any] = {}
    if image and not (preset and preset.scheduler_image == image):
        scheduler["image"] = image
    if ext.get("replicas") not in (None, 1):
        scheduler["replicas"] = int(ext["replicas"])
    pool_version = draft.spec.get("charts", {}).get("inferencepool") or (preset.inferencepool if preset else "")
    file = ext.get("pluginsConfigFile") or (charts.POOL[pool_version].default_plugins_file
                                            if pool_version in charts.POOL else None)
    custom = (ext.get("pluginsCustomConfig") or {}).get(file) if file else None
    where = source.where("gaie", "inferenceExtension", "pluginsCustomConfig" if custom else "pluginsConfigFile")
    if custom is None:
        baked = picker.BAKED.get((pool_version, str(file)))
        if baked is None:
            raise SpecError([problem(where, "inferenceExtension.pluginsConfigFile", f"{file}, baked into "
                                     f"inferencepool {pool_version}, is not in the catalog: pass its content in "
                                     "pluginsCustomConfig")])
        draft.spec["scheduler"] = {**scheduler, "scorers": dict(baked)}
        draft.comments["scheduler"] = f"{file} baked into inferencepool {pool_version} (CATALOG §a.4, §e.1); " \
                                      f"from {where}"
        return
    config = YAML(typ="safe").load(str(custom))
    intent = picker.candidate(config) if isinstance(config, dict) else None
    if intent is not None:
        draft.spec["scheduler"] = {**scheduler, **intent}
        if verify(draft.spec, config):
            draft.comments["scheduler"] = f"scorer intent of {file}; it compiles to the same picker config; from " \
                                          f"{where}"
            return
    used = image or (preset.scheduler_image if preset else None)
    if used:
        config, dropped = picker.without_ignored(config, picker_for_image(used, scheduler.get("version")))
        for what in dropped:
            draft.note(where, f"{file}: {what}: parameters {used} ignores; dropped")
    draft.spec["scheduler"] = {**scheduler, "endpointPickerConfig": config}
    draft.comments["scheduler"] = f"{file} as written: no scorer intent compiles to it; from {where}"
    draft.note(where, f"the picker config {file} maps to no scorer intent: kept as scheduler.endpointPickerConfig")


# inferenceExtension keys the spec says (image, replicas, plugins, monitoring) or derives from the precise intent.
_EXT_SAID = {"replicas", "image", "extProcPort", "pluginsConfigFile", "pluginsCustomConfig", "monitoring"}
_EXT_PRECISE = {"env", "extraContainerPorts", "extraServicePorts", "sidecar", "volumes", "volumeMounts"}


def _unimported(source: Source, draft: Draft, gaie: dict[str, Any]) -> None:
    ext = gaie.get("inferenceExtension") or {}
    scorers = (draft.spec.get("scheduler") or {}).get("scorers") or {}
    said = _EXT_SAID | (_EXT_PRECISE if "precisePrefixCache" in scorers else set())
    for key in sorted(set(ext) - said):
        if ext[key] in (None, {}, [], ""):
            continue
        why = "the spec derives the picker's wiring from scorer intent and cannot say it beside a hand-written " \
              "config" if key in _EXT_PRECISE else "no spec field says it"
        prefix = source.epp_key or ("router.epp" if source.router else "inferenceExtension")
        draft.note(source.where("gaie", "inferenceExtension", key), f"{prefix}.{key} is not imported: {why}")


def _route(source: Source, draft: Draft, name: str) -> None:
    route = source.values("route")
    if draft.spec["gateway"]["provider"] == "none":
        return
    if route is None and source.router:
        draft.spec["route"] = {"name": name}  # the gateway chart's HTTPRoute is named after the release (CURRENT §3)
        return
    if route is None:
        draft.spec["route"] = {"name": f"llm-d-{name}"}
        draft.note(source.where("gaie"), f"no HTTPRoute among the inputs: route.name llm-d-{name} assumed")
        return
    out: dict[str, Any] = {"name": str(helmera._dig(route, "metadata", "name"))}
    timeouts = helmera._dig(route, "spec", "rules", 0, "timeouts") or {}
    if timeouts:
        out["timeouts"] = {k: str(v) for k, v in timeouts.items() if k in ("request", "backendRequest")}
    draft.spec["route"] = out
    draft.comments["route"] = f"from {source.where('route', 'metadata')}"


def draft_of(source: Source, options: Options, verify: Any) -> Draft:
    gaie = _required(source, "gaie", "inferencepool (gaie-*)")
    ms = _required(source, "ms", "llm-d-modelservice (ms-*)")
    draft = Draft()
    for where, message in source.notes:
        draft.note(where, message)
    name = _name(source, ms, options)
    route = source.values("route") or {}
    namespace = options.namespace or source.namespace or helmera._dig(route, "metadata", "namespace")
    if not namespace:
        namespace = f"llm-d-{name}"
        draft.note(source.where("gaie"), f"the namespace is not in the source: {namespace} assumed (--namespace)")
    spec = draft.spec
    spec.update({"apiVersion": "llmd-compile/v1alpha1", "kind": "Stack",
                 "metadata": {"name": name, "namespace": str(namespace)}})
    image = helmera._image(helmera._dig(gaie, "inferenceExtension", "image"))
    vllm_image = helmera._dig(ms, "decode", "containers", 0, "image")
    release: str | None
    if source.router:
        release = _router_release(source, paths_of(source), vllm_image, options.release)
    else:
        release = helmera.release_of(source, image, helmera._dig(ms, "routing", "proxy", "image"), vllm_image,
                                     options.release)
    if release:
        spec["release"] = release
        draft.comments["release"] = "the preset whose charts and picker the source ran"
    elif source.pins:
        spec["charts"] = dict(source.pins)
        draft.comments["charts"] = "chart pins of the helmfile (no release preset has all three)"
    else:
        raise SpecError.one(source.pieces[0].path, "release", "cannot tell which chart versions ran this (the picker "
                            f"image {image} is no preset's): pass --release or import the helmfile")
    helmera.model_part(source, draft, ms)
    proxy = helmera._dig(ms, "routing", "proxy", "image")
    spec["accelerator"] = {}
    helmera.roles_part(source, draft, ms)
    vendor = spec.pop("_accelerator")
    model = options.accelerator or spec.get("_model") or {"simulated": "Simulated", "cpu": "CPU"}.get(vendor)
    if model is None:
        model = "unknown"
        draft.note(source.where("ms", "decode", "containers"), "the accelerator model is not in the values: "
                   "accelerator.model unknown written (--accelerator H100)")
    model = spec.pop("_model", None) or model
    spec["accelerator"] = {"vendor": vendor, "model": model,
                           **({"topology": spec.pop("_topology")} if "_topology" in spec else {}),
                           **({"dra": spec.pop("_dra")} if "_dra" in spec else {}),
                           **({"nodeAffinity": spec.pop("_nodeAffinity")} if "_nodeAffinity" in spec else {})}
    from llmd_compile.adopt.upgrade import presets

    supplied = presets()[release].sidecar if release in presets() else None
    if proxy and supplied and proxy != supplied and "decode" in spec:
        spec["decode"].setdefault("sidecar", {})["image"] = str(proxy)
        draft.note(source.where("ms", "routing", "proxy", "image"), f"the routing sidecar runs {proxy}, not the "
                   f"release's {supplied}: kept as decode.sidecar.image")
    _gateway(source, draft, gaie, options.env)
    _route(source, draft, name)
    spec["platforms"] = {"kubernetes": {}}
    epp = helmera._dig(gaie, "inferenceExtension", "monitoring") or {}
    # On: a ServiceMonitor asked for, or on GKE a monitoring block (the chart's Google Managed Prometheus setup).
    if helmera._dig(epp, "prometheus", "enabled") or (epp and spec["gateway"]["provider"] == "gke"):
        spec.setdefault("monitoring", {})["epp"] = {
            "enabled": True, **({"interval": str(epp["interval"])} if epp.get("interval") not in (None, "10s") else {})}
    _scheduler(source, draft, gaie, release, verify)  # last: it compiles the rest to compare picker configs
    helmera.settle_args(draft)
    _unimported(source, draft, gaie)
    draft.spec = {key: spec[key] for key in ORDER if key in spec}
    return draft


def import_source(paths: list[Path], shown: list[str], out: Path, options: Options) -> Imported:
    from llmd_compile.adopt.verify import compiles, same_picker_config

    source = gather(paths, shown, options)
    draft = draft_of(source, options, same_picker_config)
    text = render(draft, source.origin, out)
    compiles(text, str(out))
    return Imported(text, draft.notes)
