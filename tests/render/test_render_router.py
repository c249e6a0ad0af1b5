"""`llmd-compile --render --charts DIR` for router-shape stacks (llm-d v0.8+): the rendered tree equals, object for
object, the independent render (tests/render/helpers.py) of the committed values/router.yaml with the pinned router
chart plus `kubectl kustomize` of every committed <part>/overlays/<platform>; it is byte-identical across runs,
every object validates and wires, and the Argo CD Application syncs the rendered directory. Router charts come
from an OCI repository; the fetch path is played by a stand-in that packages the charts of ../shared."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile import render
from llmd_compile.chartfetch import LOCK, Fetcher, sha256
from tests.render import helpers, validate, wiring

REPO = Path(__file__).resolve().parents[2]
EXE = [str(Path(sys.executable).with_name("llmd-compile"))]
# (stack, spec, router chart, kinds the render must hold besides the model-server Deployment)
CASES = [
    ("optimized-baseline", "specs/optimized-baseline.yaml", "llm-d-router-gateway",
     {"InferencePool", "HTTPRoute", "Gateway", "PersistentVolumeClaim"}),
    ("pd-disaggregation", "specs/pd-disaggregation.yaml", "llm-d-router-gateway",
     {"InferencePool", "HTTPRoute", "Gateway"}),
    ("standalone", "specs/standalone.yaml", "llm-d-router-standalone", {"InferencePool", "ConfigMap"}),
]
PLATFORM_CASES = [(s, p) for s, *_ in CASES for p in helpers.platforms(REPO / "out" / s)]
# Kinds Helm gives no namespace (the oracle gives every chart object the release namespace).
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding"}
OCI = "oci://ghcr.io/llm-d/charts"


def _run(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    return subprocess.run([*EXE, *(c[1] for c in CASES), "--out", str(root / "out"), *extra], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def rendered_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("render-router")
    proc = _run(root, "--render", "--charts", str(helpers.charts_root()))
    assert proc.returncode == 0, proc.stderr
    return root


def _ours(root: Path, stack: str, platform: str) -> list[dict[str, Any]]:
    y = YAML(typ="safe")
    return [y.load(p.read_text(encoding="utf-8"))
            for p in sorted((root / "out" / stack / "rendered" / platform).glob("*.yaml"))]


def _canon(doc: dict[str, Any]) -> str:
    doc = helpers._norm(doc)
    if doc.get("kind") in CLUSTER_SCOPED:
        doc["metadata"].pop("namespace", None)
    return repr(sorted(_flat(doc)))


def _flat(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _flat(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in _flat(v, f"{path}[{i}]")]
    return [(path, repr(node))]


def test_cases_cover_both_router_charts_and_every_platform() -> None:
    assert {c[2] for c in CASES} == {"llm-d-router-gateway", "llm-d-router-standalone"}
    assert ("optimized-baseline", "openshift") in PLATFORM_CASES and len(PLATFORM_CASES) >= 5


@pytest.mark.parametrize(("stack", "platform"), PLATFORM_CASES)
def test_render_equals_router_chart_plus_overlays(rendered_root: Path, stack: str, platform: str) -> None:
    ours = _ours(rendered_root, stack, platform)
    oracle = helpers.render_stack(REPO / "out" / stack, platform)
    assert oracle.problems == []
    assert Counter(_canon(d) for d in ours) == Counter(_canon(o.doc) for o in oracle.objects)
    wanted = next(c[3] for c in CASES if c[0] == stack)
    kinds = {d["kind"] for d in ours}
    assert wanted <= kinds, wanted - kinds
    sources = {o.source.split(":")[0].split("/")[0] for o in oracle.objects}
    assert {stack, "modelserver"} <= sources  # the chart release and the model-server overlay both contribute


@pytest.mark.parametrize(("stack", "platform"), PLATFORM_CASES)
def test_rendered_objects_validate_and_wire(rendered_root: Path, stack: str, platform: str) -> None:
    objects = [helpers.Obj(f"rendered/{platform}", d) for d in _ours(rendered_root, stack, platform)]
    version = helpers.kubernetes_version(REPO / "out" / stack)
    bad = [f"{o!r}: {e}" for o in objects for e in validate.errors(o.doc, version)]
    assert bad == []
    r = helpers.Rendered(stack, platform, objects)
    assert wiring.problems(r, REPO / "out" / stack) == []
    assert r.of("InferencePool") and r.of("Deployment")


@pytest.mark.parametrize(("stack", "spec", "chart", "kinds"), CASES)
def test_application_syncs_the_rendered_directory(rendered_root: Path, stack: str, spec: str, chart: str,
                                                  kinds: set[str]) -> None:
    y = YAML(typ="safe")
    for platform in helpers.platforms(REPO / "out" / stack):
        app = y.load((rendered_root / "out" / stack / "rendered" / "argocd" / f"{platform}.yaml").read_text())
        assert validate.errors(app) == []
        modelserver = y.load((REPO / "out" / stack / "argocd" / platform / "30-modelserver.yaml").read_text())
        assert app["spec"]["sources"][0]["path"] == f"out/{stack}/rendered/{platform}"
        assert app["spec"]["destination"] == modelserver["spec"]["destination"]
        assert app["spec"]["project"] == modelserver["spec"]["project"]


def test_render_is_byte_identical_across_runs(rendered_root: Path, tmp_path: Path) -> None:
    proc = _run(tmp_path, "--render", "--charts", str(helpers.charts_root()))
    assert proc.returncode == 0, proc.stderr
    for stack, *_ in CASES:
        a, b = rendered_root / "out" / stack / "rendered", tmp_path / "out" / stack / "rendered"
        files_a = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
        files_b = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
        assert files_a == files_b
        assert len(files_a) >= 10


def test_check_render_is_clean_then_finds_a_hand_edit(rendered_root: Path) -> None:
    charts = str(helpers.charts_root())
    assert _run(rendered_root, "--check", "--render", "--charts", charts).returncode == 0
    target = next((rendered_root / "out" / "standalone" / "rendered" / "kubernetes").glob("inferencepool.*.yaml"))
    original = target.read_text(encoding="utf-8")
    target.write_text(original.replace("number: 8000", "number: 8001"), encoding="utf-8")
    try:
        proc = _run(rendered_root, "--check", "--render", "--charts", charts)
        assert proc.returncode == 1
        assert f"stale rendered file: standalone/rendered/kubernetes/{target.name}" in proc.stdout
    finally:
        target.write_text(original, encoding="utf-8")


class OciRegistry:
    """Stands in for `helm_python.pull` against an OCI registry: records the reference, packages ../shared's
    chart of that name and version into the destination (no network)."""

    def __init__(self) -> None:
        self.refs: list[tuple[str, str]] = []

    def __call__(self, ref: str, *, version: str, destination: Path, **kwargs: Any) -> str:
        import helm_python

        assert not kwargs, kwargs  # an OCI pull names no repo_url
        self.refs.append((ref, version))
        name = ref.rsplit("/", 1)[-1]
        return str(helm_python.package(helpers.charts_root() / name / version, destination=destination))


@pytest.mark.parametrize(("stack", "spec", "chart", "kinds"), CASES)
def test_oci_router_chart_is_fetched_pinned_and_served_from_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: str, spec: str, chart: str, kinds: set[str]) -> None:
    helm_python = pytest.importorskip("helm_python")
    registry = OciRegistry()
    monkeypatch.setattr(helm_python, "pull", registry)
    fetcher = Fetcher(tmp_path / "cache", tmp_path / LOCK)  # the real puller: its OCI reference is under test
    fetched = render.chart_objects(REPO / "out" / stack, fetcher)
    fetcher.save()
    # `helm pull oci://<registry>/<path>/<chart> --version <v>`: the reference helmfile.yaml's chart names.
    assert registry.refs == [(f"{OCI}/{chart}", "v0.10.0")]
    lock = YAML(typ="safe").load((tmp_path / LOCK).read_text(encoding="utf-8"))
    assert [(e["repository"], e["chart"], e["version"]) for e in lock["charts"]] == [(OCI, chart, "v0.10.0")]
    archive = tmp_path / "cache" / f"{lock['charts'][0]['digest'].replace(':', '-')}.tgz"
    assert sha256(archive) == helm_python.digest(archive) == lock["charts"][0]["digest"]
    again = Fetcher(tmp_path / "cache", tmp_path / LOCK)
    assert render.chart_objects(REPO / "out" / stack, again) == fetched
    assert len(registry.refs) == 1  # from the cache
    assert fetched == render.chart_objects(REPO / "out" / stack, helpers.charts_root())
