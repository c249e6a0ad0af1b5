"""`--render`: every object of a compiled stack, rendered, for GitOps teams that commit plain manifests.

For each platform overlay of ``out/<stack>/``: the chart releases of its ``helmfile.yaml`` rendered in process
with the pinned charts from a local charts directory (layout ``<chart>/<version>/``, as ``../shared/upstream/
charts``; Helm's Go engine from the optional ``helm-python-sdk``, imported only here) plus the overlays built by
``kubectl kustomize``: the Helm era's ``overlays/<platform>``; the router shape's (llm-d v0.8+) router chart
release plus every ``<part>/overlays/<platform>`` (modelserver, gateway, autoscaling, observability). Objects
are split as Helm splits a manifest, given the release namespace where Helm would, and written one file per
object, sorted, under ``out/<stack>/rendered/<platform>/``; an Argo CD Application per platform syncs that
directory instead of the charts (``rendered/argocd/<platform>.yaml``).

The rendered tree is not in the stack's ownership manifest: the compile never touches it, and ``--render``
replaces it whole each time (built beside it, then swapped).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from llmd_compile import yamlio
from llmd_compile.chartfetch import LOCK, Fetcher, chart_source, default_cache
from llmd_compile.errors import SpecError
from llmd_compile.headers import MANIFEST, header

RENDERED = "rendered"
# helm/pkg/releaseutil/manifest.go SplitManifests: `(?:^|\s*\n)---\s*`.
_HELM_SEP = re.compile(r"(?:^|\s*\n)---\s*")
# Kinds without a namespace (everything else gets the release namespace, as `helm install` gives it).
_CLUSTER_SCOPED = frozenset({
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
    "StorageClass", "PriorityClass", "GatewayClass", "ValidatingWebhookConfiguration", "IngressClass",
    "MutatingWebhookConfiguration", "APIService", "ClusterPodMonitoring", "DeviceClass", "RuntimeClass",
})


def _yaml() -> YAML:
    return YAML(typ="safe")


def _fail(where: Path | str, message: str) -> SpecError:
    return SpecError.one(str(where), "", message)


def _chart_files(chart_dir: Path, values: dict[str, Any], name: str, namespace: str) -> dict[str, str]:
    try:
        import helm_python
    except ImportError as exc:  # the optional extra
        raise _fail(chart_dir, "--render needs the Helm SDK: pip install 'llmd-compile[render]'") from exc
    with helm_python.Chart.load(str(chart_dir)) as chart:
        files: dict[str, str] = chart.render(values, name=name, namespace=namespace, is_install=True)
    return files


def _objects(text: str) -> Iterator[dict[str, Any]]:
    for chunk in _HELM_SEP.split(text):
        if chunk.strip():
            doc = _yaml().load(chunk)
            if isinstance(doc, dict) and doc:
                yield doc


def _kube_split(text: str) -> list[str]:
    """k8s.io/apimachinery YAMLReader: only a line that is `---` (blanks after it allowed) separates documents."""
    docs: list[str] = []
    cur: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "---":
            docs.append("".join(cur))
            cur = []
        else:
            cur.append(line)
    return [d for d in [*docs, "".join(cur)] if d.strip()]


def split_disagrees(text: str) -> bool:
    """Helm and the Kubernetes YAML reader (kubectl, Argo CD) would read different objects from this text (blanks
    before a `---`, which Helm's separator also eats, are no difference)."""
    helm = [_norm(d) for d in (_loads(c) for c in _HELM_SEP.split(text) if c.strip()) if d]
    kube = [_norm(d) for d in (_loads(c) for c in _kube_split(text)) if d]
    return helm != kube


def _norm(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _norm(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_norm(v) for v in node]
    return node.rstrip() if isinstance(node, str) else node


def _loads(chunk: str) -> Any:
    y = _yaml()
    y.allow_duplicate_keys = False
    try:
        return y.load(chunk)
    except Exception:  # a glued separator: duplicate keys, which the Go decoder refuses too
        return {"unreadable": chunk}


def _chart_path(charts: Path | Fetcher, release: dict[str, Any], repositories: dict[str, str]) -> Path:
    """A local chart directory (`--charts DIR`, laid out <chart>/<version>/) or the fetched, digest-pinned archive."""
    chart, version = str(release["chart"]).rsplit("/", 1)[-1], str(release["version"])
    if isinstance(charts, Fetcher):
        repository, name = chart_source(str(release["chart"]), repositories)
        return charts.locate(repository, name, version)
    chart_dir = charts / chart / version
    if not (chart_dir / "Chart.yaml").is_file():
        raise _fail(chart_dir, f"chart {chart} {version} not found under --charts {charts}")
    return chart_dir


def release_objects(files: dict[str, str], charts: Path | Fetcher, base: Path | None = None
                    ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """What `helm install` of each release in the helmfile creates (hooks kept, tests and notes not), from the
    compiled files in memory (``base``: a stack directory to read them from instead), and the (chart, template)
    pairs whose text Helm and the Kubernetes YAML reader split differently."""
    def read(rel: str) -> str:
        return (base / rel).read_text(encoding="utf-8") if base is not None else str(files[rel])

    helmfile = _yaml().load(read("helmfile.yaml")) or {}
    found: list[dict[str, Any]] = []
    disagreements: list[tuple[str, str]] = []
    repositories = {str(r["name"]): str(r["url"]) for r in helmfile.get("repositories") or []}
    for rel in helmfile.get("releases") or []:
        chart = str(rel["chart"]).rsplit("/", 1)[-1]
        chart_dir = _chart_path(charts, rel, repositories)
        values: dict[str, Any] = {}
        for rel_values in rel.get("values") or []:
            values.update(_yaml().load(read(rel_values)) or {})
        rendered = _chart_files(chart_dir, values, rel["name"], rel["namespace"])
        for template, text in sorted(rendered.items()):
            if not template.endswith((".yaml", ".yml")) or "/templates/tests/" in template:
                continue
            if split_disagrees(text):
                disagreements.append((chart, template))
            for doc in _objects(text):
                meta = doc.setdefault("metadata", {})
                if doc.get("kind") not in _CLUSTER_SCOPED:
                    meta.setdefault("namespace", rel["namespace"])
                found.append(doc)
    return found, disagreements


def chart_objects(stack_dir: Path, charts: Path | Fetcher) -> list[dict[str, Any]]:
    """The chart objects of a compiled stack directory (see release_objects)."""
    return release_objects({}, charts, base=stack_dir)[0]


def overlay_dirs(stack_dir: Path, platform: str) -> list[Path]:
    """The kustomize directories that make up a platform: ``overlays/<platform>`` (Helm era) or, for the router
    shape, ``<part>/overlays/<platform>`` of every part that has one (sorted by part)."""
    if is_router(stack_dir):
        return sorted(p for p in stack_dir.glob(f"*/overlays/{platform}") if (p / "kustomization.yaml").is_file())
    return [stack_dir / "overlays" / platform]


def platforms(stack_dir: Path) -> list[str]:
    pattern = "*/overlays/*/kustomization.yaml" if is_router(stack_dir) else "overlays/*/kustomization.yaml"
    return sorted({p.parent.name for p in stack_dir.glob(pattern)})


def overlay_objects(stack_dir: Path, platform: str) -> list[dict[str, Any]]:
    return [d for path in overlay_dirs(stack_dir, platform) for d in _kustomize(path)]


def _kustomize(path: Path) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        raise _fail(path, "--render builds the overlays with kubectl kustomize: kubectl not on PATH")
    proc = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise _fail(path, f"kubectl kustomize failed: {proc.stderr.strip()}")
    return [d for d in _yaml().load_all(proc.stdout) if isinstance(d, dict) and d]


def _key(doc: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = doc.get("metadata") or {}
    return (str(doc.get("kind")), str(doc.get("apiVersion")), str(meta.get("namespace", "")), str(meta.get("name")))


def _filename(doc: dict[str, Any]) -> str:
    kind, api, ns, name = _key(doc)
    group = api.rpartition("/")[0]
    return f"{kind.lower()}{'.' + group if group else ''}--{f'{ns}--' if ns else ''}{name}.yaml"


def _plain(node: Any) -> Any:
    """Parsed YAML back to the plain data yamlio writes (ruamel's safe loader gives plain types already)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _application(stack_dir: Path, platform: str, source: str) -> str | None:
    """The stack's Argo CD child that syncs the (model-server) overlay, pointed at the rendered directory instead."""
    router = is_router(stack_dir)
    child = stack_dir / "argocd" / platform / ("30-modelserver.yaml" if router else "30-stack.yaml")
    if not child.is_file():
        return None
    app = _yaml().load(child.read_text(encoding="utf-8"))
    overlay_path = str(app["spec"]["sources"][0]["path"])
    base = overlay_path.rsplit("/overlays/", 1)[0]
    if router:  # <stack>/modelserver/overlays/<platform>: the stack's own directory is one up
        base = base.rsplit("/", 1)[0]
    app["metadata"]["name"] = f"{stack_dir.name}-{platform}-rendered"
    app["metadata"].pop("annotations", None)
    app["spec"]["sources"][0]["path"] = f"{base}/{RENDERED}/{platform}"
    app["spec"]["sources"][0]["directory"] = {"recurse": False}
    return str(yamlio.dump(_plain(app), header=header(source)))


def render_stack(stack_dir: Path, charts: Path | Fetcher) -> dict[str, str]:
    """{path under rendered/: text} for every platform overlay of the compiled stack."""
    source = _source(stack_dir)
    charted = chart_objects(stack_dir, charts)
    files: dict[str, str] = {}
    for platform in platforms(stack_dir):
        for doc in sorted([*charted, *overlay_objects(stack_dir, platform)], key=_key):
            rel = f"{platform}/{_filename(doc)}"
            if rel in files:
                raise _fail(stack_dir, f"two rendered objects named {_key(doc)}")
            files[rel] = str(yamlio.dump(_plain(doc), header=header(source)))
        app = _application(stack_dir, platform, source)
        if app is not None:
            files[f"argocd/{platform}.yaml"] = app
    return files


def _source(stack_dir: Path) -> str:
    manifest = _yaml().load((stack_dir / MANIFEST).read_text(encoding="utf-8")) or {}
    return str(manifest.get("spec", stack_dir.name))


def stacks_of(out: Path, specs: list[Path]) -> list[Path]:
    """The stack directories (with a helmfile.yaml) in ``out`` compiled from these spec files (their manifests
    name them)."""
    wanted = {p.as_posix() for p in specs} | {p.resolve().as_posix() for p in specs}
    found = []
    for manifest in sorted(out.glob(f"*/{MANIFEST}")):
        spec = str((_yaml().load(manifest.read_text(encoding="utf-8")) or {}).get("spec", ""))
        if (spec in wanted or Path(spec).resolve().as_posix() in wanted) and (
                manifest.parent / "helmfile.yaml").is_file():
            found.append(manifest.parent)
    return found


def is_router(stack_dir: Path) -> bool:
    """The router shape (llm-d v0.8+): values/router.yaml for the router chart, kustomize trees per part."""
    return (stack_dir / "values" / "router.yaml").is_file()


def _renderable(stack_dir: Path) -> bool:
    """Releases in helmfile.yaml plus kustomize overlays: the Helm era's overlays/, the router shape's parts."""
    return bool(platforms(stack_dir)) if is_router(stack_dir) else (stack_dir / "overlays").is_dir()


def write(stack_dir: Path, files: dict[str, str]) -> None:
    """Replace ``rendered/`` whole: build it beside, then swap (a crash leaves the old or the new tree)."""
    target = stack_dir / RENDERED
    if target.is_symlink():
        raise _fail(target, "is a symlink; llmd-compile never writes through links")
    build = Path(tempfile.mkdtemp(prefix=f".{RENDERED}.", dir=stack_dir))
    for rel, text in files.items():
        path = build / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    old = stack_dir / f".{RENDERED}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    build.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def stale(out: Path, specs: list[Path], charts: Path | Fetcher) -> list[str]:
    """`--check --render`: rendered files that are missing, differ or are extra (paths under out/)."""
    found = []
    for stack_dir in filter(_renderable, stacks_of(out, specs)):
        want = render_stack(stack_dir, charts)
        root = stack_dir / RENDERED
        have = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()} if root.is_dir() else {}
        for rel in sorted(set(want) | set(have)):
            if rel not in have or rel not in want or have[rel].read_text(encoding="utf-8") != want[rel]:
                found.append(f"{stack_dir.name}/{RENDERED}/{rel}")
    return found


def source(specs: list[Path], charts: Path | None, cache: Path | None = None) -> Path | Fetcher:
    """`--charts DIR`, or a Fetcher whose lock file sits beside the (first) spec: `<spec dir>/charts.lock.yaml`."""
    if charts is not None:
        return charts
    first = specs[0] if specs else Path(".")
    lock_dir = first if first.is_dir() else first.parent
    return Fetcher(cache or default_cache(), lock_dir / LOCK)


def run(out: Path, specs: list[Path], charts: Path | Fetcher) -> list[str]:
    """Render and write every stack of ``specs``; one summary line per stack (the lock saved once all rendered)."""
    lines = []
    for stack_dir in stacks_of(out, specs):
        if not _renderable(stack_dir):
            lines.append(f"{stack_dir.name}: not rendered (no kustomize overlays)")
            continue
        files = render_stack(stack_dir, charts)
        write(stack_dir, files)
        lines.append(f"{stack_dir.name}: rendered {len(files)} files")
    if isinstance(charts, Fetcher):
        charts.save()
        lines.append(f"chart lock: {charts.lock_path}")
    return lines
