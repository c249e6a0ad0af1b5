"""Render conformance: the committed stacks rendered with the real upstream charts, as a user gets them.

Every Helm-era stack in ``out/`` (releases of llm-d-infra / inferencepool / llm-d-modelservice) is rendered
release by release with the chart at its pinned version from ``../shared/upstream/charts`` (Helm's Go engine
in process, PyPI ``helm-python-sdk``) and its overlays are built with the real ``kubectl kustomize``. The
rendered text is split twice: as Helm splits a template's output and as the Kubernetes YAML reader (kubectl,
Argo CD) does; the two must agree. Nothing here is shared with ``llmd_compile.render``: this is the oracle.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.conformance import oracles

HELM_ERA_CHARTS = frozenset({"llm-d-infra", "inferencepool", "llm-d-modelservice"})
# helm/pkg/releaseutil/manifest.go: `sep = regexp.MustCompile("(?:^|\\s*\n)---\\s*")`
_HELM_SEP = re.compile(r"(?:^|\s*\n)---\s*")


def charts_root() -> Path:
    root = oracles.shared() / "upstream" / "charts"
    if not root.is_dir():
        oracles._unavailable("../shared/upstream/charts not found")
    return root


def _yaml() -> YAML:
    return YAML(typ="safe")


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    chart: str  # llm-d-infra | inferencepool | llm-d-modelservice
    version: str
    values: tuple[str, ...]  # paths relative to the stack directory


@dataclass
class Obj:
    """One rendered object and where it came from (``<release>:<template>`` or ``overlays/<platform>``)."""

    source: str
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind"))

    @property
    def name(self) -> str:
        return str((self.doc.get("metadata") or {}).get("name"))

    def __repr__(self) -> str:
        return f"{self.kind}/{self.name} ({self.source})"


@dataclass
class Rendered:
    stack: str
    platform: str
    objects: list[Obj] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # split disagreements, parse errors

    def of(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o.kind == kind]


def releases(stack: Path) -> list[Release]:
    doc = _yaml().load((stack / "helmfile.yaml").read_text(encoding="utf-8")) or {}
    return [
        Release(r["name"], r["namespace"], r["chart"].rsplit("/", 1)[-1], r["version"], tuple(r.get("values", [])))
        for r in doc.get("releases", [])
    ]


def is_helm_era(stack: Path) -> bool:
    """A stack whose releases all use the three Helm-era charts (router-shape stacks: is_router)."""
    if not (stack / "helmfile.yaml").is_file() or any((stack / "values").glob("router*.yaml")):
        return False
    rels = releases(stack)
    return bool(rels) and all(r.chart in HELM_ERA_CHARTS for r in rels)


def helm_era_stacks(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir() and is_helm_era(p))


def is_router(stack: Path) -> bool:
    """A router-shape stack (llm-d v0.8+): the router chart's values/router.yaml released by helmfile.yaml, and
    one kustomize tree per part (modelserver/, gateway/, autoscaling/, observability/), each with overlays/."""
    return (stack / "values" / "router.yaml").is_file() and (stack / "helmfile.yaml").is_file()


def router_stacks(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir() and is_router(p))


def overlay_dirs(stack: Path, platform: str) -> list[Path]:
    """What `kubectl kustomize` builds for a platform: overlays/<platform>, or every <part>/overlays/<platform>."""
    if is_router(stack):
        return sorted(p.parent for p in stack.glob(f"*/overlays/{platform}/kustomization.yaml"))
    return [stack / "overlays" / platform]


def kubernetes_version(stack: Path) -> str | None:
    """``cluster.kubernetesVersion`` of the spec the stack was compiled from (named in every file's header)."""
    header = (stack / "helmfile.yaml").read_text(encoding="utf-8").splitlines()[0]
    match = re.search(r" from (\S+?)\.? Do not edit", header) or re.search(r" from (\S+\.ya?ml)", header)
    if not match:
        return None
    spec_path = stack.parents[1] / match.group(1)
    if not spec_path.is_file():
        return None
    spec = _yaml().load(spec_path.read_text(encoding="utf-8")) or {}
    version = (spec.get("cluster") or {}).get("kubernetesVersion")
    return None if version is None else str(version)


def platforms(stack: Path) -> list[str]:
    pattern = "*/overlays/*/kustomization.yaml" if is_router(stack) else "overlays/*/kustomization.yaml"
    return sorted({p.parent.name for p in stack.glob(pattern)})


def split_helm(text: str) -> list[str]:
    """Helm's SplitManifests: a `---` after a newline (anything may follow it on the line) starts a document."""
    return [d for d in _HELM_SEP.split(text) if d.strip()]


def split_kube(text: str) -> list[str]:
    """k8s.io/apimachinery YAMLReader: only a line that is exactly `---` (trailing blanks allowed) separates."""
    docs, cur = [], []
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "---":
            docs.append("".join(cur))
            cur = []
        else:
            cur.append(line)
    docs.append("".join(cur))
    return [d for d in docs if d.strip()]


def _load(text: str) -> Any:
    y = _yaml()
    y.allow_duplicate_keys = False
    return y.load(text)


def _norm(node: Any) -> Any:
    """Helm's separator regex also eats the blanks before `---`: a final newline of a block scalar is no
    disagreement worth failing on; everything else must match."""
    if isinstance(node, dict):
        return {k: _norm(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_norm(v) for v in node]
    return node.rstrip() if isinstance(node, str) else node


def parse_split(source: str, text: str) -> tuple[list[Obj], list[str]]:
    """Objects as Helm sees them, and every place where the kubectl/Argo CD reading disagrees."""
    problems: list[str] = []
    helm_docs = [d for d in (_load(t) for t in split_helm(text)) if d]
    kube_docs: list[Any] = []
    for chunk in split_kube(text):
        try:
            doc = _load(chunk)
        except Exception as exc:  # a glued separator makes duplicate keys: the Go decoder rejects them too
            problems.append(f"{source}: kubectl/Argo CD cannot read a document: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0]}")
            continue
        if doc:
            kube_docs.append(doc)
    if not problems and _norm(kube_docs) != _norm(helm_docs):
        glued = [ln for ln in text.splitlines() if ln.startswith("---") and ln.rstrip() != "---"]
        problems.append(f"{source}: Helm reads {len(helm_docs)} object(s), kubectl/Argo CD {len(kube_docs)}"
                        + (f"; glued separator line(s) {glued}" if glued else ""))
    return [Obj(source, d) for d in helm_docs if isinstance(d, dict)], problems


@functools.cache
def _chart(path: str) -> Any:
    import helm_python

    return helm_python.Chart.load(path)


def render_release(stack: Path, rel: Release, root: Path) -> dict[str, str]:
    values: dict[str, Any] = {}
    for vf in rel.values:
        values.update(_yaml().load((stack / vf).read_text(encoding="utf-8")) or {})
    chart_dir = root / rel.chart / rel.version
    if not (chart_dir / "Chart.yaml").is_file():
        oracles._unavailable(f"chart {rel.chart} {rel.version} not in {root}")
    files: dict[str, str] = _chart(str(chart_dir)).render(values, name=rel.name, namespace=rel.namespace,
                                                          is_install=True)
    return files


def render_charts(stack: Path) -> tuple[list[Obj], list[str]]:
    objects: list[Obj] = []
    problems: list[str] = []
    root = charts_root()
    for rel in releases(stack):
        for template, text in sorted(render_release(stack, rel, root).items()):
            if not template.endswith((".yaml", ".yml")):
                continue  # NOTES.txt
            objs, probs = parse_split(f"{rel.name}:{template}", text)
            for o in objs:  # helm install puts namespaced objects without a namespace into the release's
                o.doc.setdefault("metadata", {}).setdefault("namespace", rel.namespace)
            objects += objs
            problems += probs
    return objects, problems


def kustomize(stack: Path, platform: str) -> tuple[list[Obj], list[str]]:
    objects: list[Obj] = []
    problems: list[str] = []
    for path in overlay_dirs(stack, platform):
        proc = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            problems.append(f"kubectl kustomize {path} failed: {proc.stderr.strip()}")
            continue
        objs, probs = parse_split(path.relative_to(stack).as_posix(), proc.stdout)
        objects += objs
        problems += probs
    return objects, problems


def render_stack(stack: Path, platform: str) -> Rendered:
    if shutil.which("kubectl") is None:
        oracles._unavailable("kubectl not on PATH")
    charts, p1 = render_charts(stack)
    built, p2 = kustomize(stack, platform)
    return Rendered(stack.name, platform, charts + built, p1 + p2)


def copy_stack(repo: Path, stack: str, dest: Path) -> Path:
    """A copy that keeps the layout overlays need: ``<dest>/out/<stack>`` and ``<dest>/overlays``."""
    shutil.copytree(repo / "out" / stack, dest / "out" / stack)
    shutil.copytree(repo / "overlays", dest / "overlays")
    return dest / "out" / stack


def walk(node: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]")
