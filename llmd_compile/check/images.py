"""Image rules (LLMD5xx): every image the artifacts would make a cluster pull, checked against catalog/images.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ruamel.yaml import YAML

from llmd_compile.catalog import charts, images
from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.spec.models import Spec


def _walk(node: Any, found: dict[str, None]) -> None:
    """Image references in a parsed document, into `found` in document order: `image: ref`, and the charts' split
    forms {hub,name,tag} and {registry,repository,tag}."""
    if isinstance(node, dict):
        tag = node.get("tag")
        if isinstance(tag, str):
            hub, name, registry, repository = (node.get(k) for k in ("hub", "name", "registry", "repository"))
            if isinstance(hub, str) and hub and isinstance(name, str) and name:
                found.setdefault(f"{hub}/{name}:{tag}", None)
            elif isinstance(registry, str) and registry and isinstance(repository, str) and repository:
                found.setdefault(f"{registry}/{repository}:{tag}", None)
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                found.setdefault(value, None)
            elif isinstance(value, (dict, list)):
                _walk(value, found)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                _walk(item, found)


def emitted(a: Artifacts) -> list[str]:
    """Every image reference in the generated YAML, once each, in file order."""
    seen: dict[str, None] = {}
    for rel in sorted(a.files):
        if not rel.endswith(".yaml"):
            continue
        text = a.files[rel]
        # The documents a file was dumped from (yamlio.YamlText), else parsed: one walk either way, no re-parse.
        docs = getattr(text, "documents", None)
        if docs is None:
            docs = list(YAML(typ="safe").load_all(str(text))) if "\n---" in str(text) else [a.doc(rel)]
        _walk(list(docs), seen)
    return list(seen)


def _preset_field(spec: Spec) -> str:
    """Where a preset-supplied image traces back to: `release`, else the modelservice pin that chose the release."""
    return "release" if spec.release else "charts.modelservice"


def source_field(spec: Spec, image: str) -> str:
    """The spec field that set an emitted image, or where the preset that supplied it is chosen."""
    preset = charts.RELEASES.get(spec.release) if spec.release else None
    if image == spec.scheduler.image:
        # resolve() fills the preset's picker image into scheduler.image: written or not, the same image.
        return "release" if preset is not None and preset.scheduler_image == image else "scheduler.image"
    for role in ("decode", "prefill"):
        workload = getattr(spec, role)
        if workload is not None and image == workload.image:
            return f"{role}.image"
    if image == spec.decode.sidecar.image:
        return "decode.sidecar.image"
    guidellm = spec.benchmark.guidellm
    if guidellm is not None and image == guidellm.image:
        return "benchmark.guidellm.image"
    return _preset_field(spec)


def dead_images(a: Artifacts) -> Iterator[Finding]:
    spec = a.stack.spec
    for image in emitted(a):
        fact = images.gone(image)
        if fact is None:
            continue
        premise = "" if fact.reported else "; no failed pull was reported, the rename is upstream's"
        yield Finding(source_field(spec, image),
                      f"{image} can no longer be pulled (every tag, since {fact.since}{premise}); "
                      f"replaced by {fact.replacement}")


RULES = (
    Rule("LLMD501", "warning", "an emitted image can no longer be pulled",
         "`llmd-compile upgrade SPEC --to v0.9` moves the spec to a release that ships the replacement and "
         "prints every change",
         dead_images),
)
