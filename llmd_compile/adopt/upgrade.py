"""`llmd-compile upgrade SPEC --to RELEASE`: move a spec to another release preset as a reviewable text change.

The spec is read with ruamel's round-trip loader; every edit is applied at the position it reports (textedit.py),
so comments, key order and formatting stay. What the old preset supplied and the new one supplies too (chart pins,
images) is dropped; what changed meaning is translated; what only the user can decide is kept and reported.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmd_compile.adopt.textedit import Editor, has, node_at
from llmd_compile.catalog import charts, images
from llmd_compile.catalog.plugins import PICKERS, RENAMES, picker_for_image
from llmd_compile.errors import Problem, SpecError

PINS = ("infra", "inferencepool", "modelservice")
# inference-sim flags that take Go durations from sim v0.9.0 (SIM #485; bare integers in ms removed, CURRENT.md §8).
SIM_LATENCY = re.compile(r"^--(time-to-first-token|inter-token-latency|prefill-[a-z-]+|kv-cache-transfer-[a-z-]+|"
                         r"[a-z-]+-std-dev)$")


@dataclass(frozen=True)
class Preset:
    """What a release preset supplies, whatever its install shape."""

    name: str
    shape: str  # "helm" or "router"
    pins: dict[str, str]
    picker: str
    sidecar: str
    vllm_images: dict[str, str]


def presets() -> dict[str, Preset]:
    out = {name: Preset(name, "helm", {k: getattr(r, k) for k in PINS}, r.scheduler_image,
                        r.routing_sidecar_image, dict(r.vllm_images)) for name, r in charts.RELEASES.items()}
    try:  # the router-era presets (llm-d v0.8+), when this llmd-compile has them
        from llmd_compile.catalog import router  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return out
    for name, r in router.ROUTER_RELEASES.items():
        out[name] = Preset(name, "router", {}, r.picker_image, r.sidecar_image, dict(r.vllm_images))
    return out


def dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))


@dataclass
class Upgraded:
    text: str
    changes: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)


def _current(data: dict[str, Any], known: dict[str, Preset]) -> Preset | None:
    """The preset a spec (or base) runs: `release:`, else the one whose chart pins it writes exactly."""
    if data.get("release") in known:
        return known[data["release"]]
    pins = {k: str(v) for k, v in (data.get("charts") or {}).items() if k in PINS}
    gateway = (data.get("gateway") or {}).get("provider") != "none"
    return next((p for p in known.values() if p.shape == "helm" and pins ==
                 {k: v for k, v in p.pins.items() if gateway or k != "infra"}), None)


def _effective(path: Path, shown: str, text: str) -> dict[str, Any]:
    """The spec with its bases applied (plain data), for what the file itself does not write."""
    from llmd_compile.spec.layers import layer
    from llmd_compile.spec.yamlread import decode, parse, read_bounded

    data, _ = parse(text, shown)
    if isinstance(data, dict) and "extends" in data:
        data = layer(path, shown, parse, lambda p, s: decode(read_bounded(p, s), s)).data
    return data if isinstance(data, dict) else {}


class _Upgrade:
    def __init__(self, text: str, shown: str, effective: dict[str, Any], old: Preset, new: Preset) -> None:
        self.ed = Editor(text)
        self.doc = self.ed.doc
        self.shown, self.eff, self.old, self.new = shown, effective, old, new
        self.out = Upgraded(text)

    def change(self, field: str, message: str) -> None:
        self.out.changes.append(f"{field}: {message}")

    def decide(self, field: str, message: str) -> None:
        self.out.decisions.append(f"{field}: {message}")

    def here(self, *path: str) -> bool:
        return has(self.doc, path)

    def release(self) -> None:
        if self.here("release"):
            self.ed.replace(("release",), self.new.name)
        elif self.here("metadata"):
            self.ed.insert_after(("metadata",), f"release: {self.new.name}")
        else:
            self.ed.insert_after(("kind",), f"release: {self.new.name}")
        self.change("release", f"{self.old.name} -> {self.new.name}")

    def pins(self) -> None:
        if not self.here("charts"):
            if any((self.eff.get("charts") or {}).get(k) for k in PINS):
                self.decide("charts", "the chart pins come from a base spec: upgrade the base too")
            return
        written = [k for k in PINS if self.here("charts", k)]
        dropped = []
        for key in written:
            value = str(node_at(self.doc, ("charts", key)))
            if self.new.shape == "router":
                dropped.append(key)
                self.change(f"charts.{key}", f"{value} dropped: release {self.new.name} installs the llm-d-router "
                                             "chart and kustomize model servers, not the Helm-era charts")
            elif value == self.old.pins.get(key):
                dropped.append(key)
                self.change(f"charts.{key}", f"{value} dropped: release {self.new.name} pins "
                                             f"{self.new.pins.get(key)}")
            else:
                self.decide(f"charts.{key}", f"{value} is your pin (release {self.old.name} shipped "
                                             f"{self.old.pins.get(key)}): kept; it overrides {self.new.name}'s "
                                             f"{self.new.pins.get(key)}")
        if dropped and len(dropped) == len(node_at(self.doc, ("charts",))):
            self.ed.delete(("charts",))
        else:
            for key in dropped:
                self.ed.delete(("charts", key))

    def image(self, path: tuple[str, ...], supplied_old: str | None, supplied_new: str | None, what: str) -> None:
        field_name = ".".join(path)
        if not self.here(*path):
            return
        value = str(node_at(self.doc, path))
        fact = images.gone(value)
        if value == supplied_old or fact is not None:
            why = "the image release " + self.old.name + " supplied" if value == supplied_old else \
                f"it can no longer be pulled ({fact.replacement if fact else ''} replaced it)"
            self.ed.delete(path)
            self.change(field_name, f"{value} dropped ({why}): release {self.new.name} supplies {supplied_new}")
            if supplied_new and images.gone(supplied_new):
                self.decide(field_name, f"release {self.new.name}'s {what} {supplied_new} can no longer be pulled "
                                        "either; only a router-era release (v0.9) replaces it")
        else:
            self.decide(field_name, f"{value} is your {what}: kept (release {self.new.name} ships {supplied_new})")

    def vllm_image(self, role: str) -> None:
        if not self.here(role, "image"):
            return
        vendor = str((self.eff.get("accelerator") or {}).get("vendor", "nvidia"))
        value = str(node_at(self.doc, (role, "image")))
        old, new = self.old.vllm_images.get(vendor), self.new.vllm_images.get(vendor)
        if value == old and new:
            self.ed.replace((role, "image"), new)
            self.change(f"{role}.image", f"{value} -> {new} (release {self.new.name}'s {vendor} image)")
        elif value == old:
            self.decide(f"{role}.image", f"release {self.new.name} ships no {vendor} image: {value} kept")
        else:
            self.decide(f"{role}.image", f"{value} is your image: kept (release {self.new.name} ships "
                                         f"{new or 'none for ' + vendor})")

    def picker_config(self) -> None:
        if not self.here("scheduler", "endpointPickerConfig"):
            return
        target = PICKERS[picker_for_image(self.new.picker).name]
        config = node_at(self.doc, ("scheduler", "endpointPickerConfig"))
        renames = {r.old: r.new for r in RENAMES if not r.plugin and "{" not in r.old}
        for index, plugin in enumerate(config.get("plugins") or []):
            kind = str(plugin.get("type"))
            at = ("scheduler", "endpointPickerConfig", "plugins", index, "type")
            if kind == "prefix-cache-scorer" and kind in target.plugins:
                self._prefix_producer(config, index, target)
            if kind in target.plugins:
                continue
            new = renames.get(kind)
            while new is not None and new not in target.plugins:
                new = renames.get(new)
            if new is None:
                self.decide(dotted(at), f"{kind} is registered by no plugin of {target.name}: rewrite "
                                                    "this part of the config by hand")
                continue
            self.ed.replace(at, new)
            self.change(dotted(at), f"{kind} -> {new} (renamed; {target.name} registers only {new})")
            if "name" not in plugin:  # referenced by its type: the references follow
                for p_index, profile in enumerate(config.get("schedulingProfiles") or []):
                    for r_index, ref in enumerate(profile.get("plugins") or []):
                        if ref.get("pluginRef") == kind:
                            self.ed.replace(("scheduler", "endpointPickerConfig", "schedulingProfiles", p_index,
                                             "plugins", r_index, "pluginRef"), new)

    def _prefix_producer(self, config: Any, index: int, target: Any) -> None:
        """Router pickers read the approximate prefix cache's block and LRU knobs on approx-prefix-cache-producer; the
        scorer rejects them (strict decoding; CATALOG §e: "block/LRU knobs moved to approx-prefix-cache-producer")."""
        params = config["plugins"][index].get("parameters") or {}
        scorer = {p.name for p in target.plugins["prefix-cache-scorer"].params or ()}
        producer_type = "approx-prefix-cache-producer"
        if producer_type not in target.plugins or not set(params) - scorer:
            return
        producer = {p.name for p in target.plugins[producer_type].params or ()}
        moved = {k: v for k, v in params.items() if k not in scorer and k in producer and k != "blockSize"}
        stuck = sorted(set(params) - scorer - set(moved))
        at = ("scheduler", "endpointPickerConfig", "plugins", index)
        field_name = dotted(at)
        if stuck or any(k in scorer for k in params) or config["plugins"].fa.flow_style() or \
                config["plugins"][index].fa.flow_style():
            self.decide(f"{field_name}.parameters", f"{target.name} reads {', '.join(sorted(set(params) - scorer))} "
                        f"on {producer_type}, not on prefix-cache-scorer; move them by hand (blockSize and "
                        "hashBlockSize count characters, blockSizeTokens tokens)")
            return
        self.ed.delete((*at, "parameters"))
        lines = [f"- type: {producer_type}", "  parameters:", *(f"    {k}: {v}" for k, v in moved.items())]
        self.ed.insert_item_after(at, "\n".join(lines))
        self.change(f"{field_name}.parameters", f"{', '.join(moved)} moved to a new {producer_type} plugin "
                                                f"({target.name} reads them there; the scorer rejects them)")

    def router_shape(self) -> None:
        """Spec settings the router shape does not take, dropped with the reason."""
        if self.new.shape != "router":
            return
        if self.here("accelerator", "dra") and node_at(self.doc, ("accelerator", "dra")) is True:
            self.ed.delete(("accelerator", "dra"))
            self.change("accelerator.dra", "dropped: the router shape's kustomize model servers request accelerators "
                                           "as device-plugin resources (no ResourceClaimTemplates yet)")
        # The router shape writes the guidellm Job (bench/), through the Gateway: only a standalone stack drops it.
        if self.here("benchmark", "guidellm") and node_at(self.doc, ("gateway", "provider")) == "none":
            self.drop(("benchmark", "guidellm"))
            self.change("benchmark.guidellm", "dropped: a standalone router stack (gateway.provider: none) has no "
                                              "gateway Service to drive the guidellm benchmark through")
        at: tuple[str, ...] = ("scheduler", "precisePrefixCache", "kvEvents", "discovery")
        if self.here(*at) and node_at(self.doc, at) == "service":
            self.drop(at)
            self.change(".".join(at), "service dropped: router pickers subscribe to each vLLM pod (kvEventsConfig "
                                      "discoverPods, CURRENT.md §7)")
        at = ("scheduler", "precisePrefixCache", "tokenizer")
        if self.here(*at) and node_at(self.doc, at) == "uds":
            self.drop(at)
            self.change(".".join(at), "uds dropped: the UDS tokenizer image is gone; router pickers tokenize through "
                                      "a vLLM render server (token-producer, CURRENT.md §5, §7)")

    def drop(self, path: tuple[str, ...]) -> None:
        """Delete a key, or its parent when it is the parent's only key (no empty mapping is left behind)."""
        while len(path) > 1 and len(node_at(self.doc, path[:-1])) == 1:
            path = path[:-1]
        self.ed.delete(path)

    def meanings(self) -> None:
        """What changed meaning between the releases and only the user can settle."""
        provider = (self.eff.get("gateway") or {}).get("provider")
        if provider == "kgateway" and (self.new.shape == "router" or self.new.name == "v0.6"):
            self.decide("gateway.provider", "kgateway is deprecated upstream (llm-d-infra v1.4.0 renders agentgateway "
                                            "for it; the llm-d v0.9 guides keep the recipe only until its removal, "
                                            "CURRENT.md §2): consider gateway.provider: agentgateway")
        if self.new.shape != "router":
            return
        precise = (self.eff.get("scheduler") or {}).get("precisePrefixCache") or {}
        if "hashSeed" in precise:
            self.decide("scheduler.precisePrefixCache.hashSeed", "the router (v0.9.0+) recomputes block keys from "
                        "token ids: the hash seed no longer has to match vLLM's PYTHONHASHSEED (router #1494, "
                        "CURRENT.md §7); kept, drop it if nothing else needs it")
        if (self.eff.get("accelerator") or {}).get("vendor") == "simulated":
            for role in ("decode", "prefill"):
                if self.here(role, "args"):
                    self._sim_durations(role)

    def _sim_durations(self, role: str) -> None:
        args = node_at(self.doc, (role, "args"))
        for index, item in enumerate(args):
            flag, eq, value = str(item).partition("=")
            if SIM_LATENCY.match(flag) and eq and value.isdigit():
                self.ed.replace((role, "args", index), f"{flag}={value}ms")
                self.change(f"{role}.args[{index}]", f"{item} -> {flag}={value}ms (inference-sim v0.9+ reads Go "
                                                     "durations; bare milliseconds were removed, SIM #485)")
            elif SIM_LATENCY.match(str(item)) and index + 1 < len(args) and str(args[index + 1]).isdigit():
                value = str(args[index + 1])
                self.ed.replace((role, "args", index + 1), f"{value}ms")
                self.change(f"{role}.args[{index + 1}]", f"{value} -> {value}ms (inference-sim v0.9+ reads Go "
                                                         "durations, SIM #485)")

    def run(self) -> Upgraded:
        self.release()
        self.pins()
        self.image(("scheduler", "image"), self.old.picker, self.new.picker, "endpoint picker image")
        self.image(("decode", "sidecar", "image"), self.old.sidecar, self.new.sidecar, "routing sidecar image")
        for role in ("decode", "prefill"):
            self.vllm_image(role)
        self.picker_config()
        self.router_shape()
        self.meanings()
        self.out.text = self.ed.result()
        return self.out


def upgrade_text(path: Path, shown: str, text: str, target: str) -> Upgraded:
    known = presets()
    if target not in known:
        raise SpecError([Problem("--to", 0, 0, "", f"unknown release {target!r} (known: {', '.join(known)})")])
    effective = _effective(path, shown, text)
    old = _current(effective, known)
    if old is None:
        raise SpecError.one(shown, "release", "no release preset and chart pins no preset has: nothing says which "
                            "release this spec is at (set release: first)", 1, 1)
    if old.name == target:
        raise SpecError.one(shown, "release", f"already at release {target}: nothing to upgrade", 1, 1)
    return _Upgrade(text, shown, effective, old, known[target]).run()


def verify(path: Path, shown: str, text: str) -> None:
    """The upgraded spec loads and compiles (written next to the original for its bases; removed after)."""
    from llmd_compile.compile import build
    from llmd_compile.spec.load import load_marked

    if "kind: StackBase" in text:
        return  # only extended, never compiled alone: the specs that extend it show
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.upgrade.", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        loaded = load_marked(Path(tmp), shown)
        build(loaded.spec, shown)
    except SpecError as exc:
        raise SpecError([Problem(p.path, p.line, p.col, p.field, f"after the upgrade: {p.message}")
                         for p in exc.problems]) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
