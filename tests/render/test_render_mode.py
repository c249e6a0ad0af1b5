"""`llmd-compile --render --charts DIR`: the rendered tree of the seed equals, object for object, what rendering
the committed values with the real charts plus building the committed overlays gives (tests/render/helpers.py,
an independent reading), is byte-identical across runs, needs no network, and the default mode never loads
the Helm SDK."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.render import helpers

REPO = Path(__file__).resolve().parents[2]
SEED = "specs/h100.yaml"
STACK = "inference-scheduling"
EXE = [str(Path(sys.executable).with_name("llmd-compile"))]
# Cluster-scoped kinds: `helm install` gives them no namespace (helpers default every chart object's).
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "ClusterPodMonitoring"}


def _run(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # No proxy and an unroutable one: a network fetch would fail the run (--charts must need none).
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    return subprocess.run([*EXE, SEED, "--out", str(root / "out"), *extra], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def rendered_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("render-a")
    proc = _run(root, "--render", "--charts", str(helpers.charts_root()))
    assert proc.returncode == 0, proc.stderr
    return root


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


@pytest.mark.parametrize("platform", helpers.platforms(REPO / "out" / STACK))
def test_render_equals_charts_plus_overlay(rendered_root: Path, platform: str) -> None:
    y = YAML(typ="safe")
    ours = [y.load(p.read_text(encoding="utf-8"))
            for p in sorted((rendered_root / "out" / STACK / "rendered" / platform).glob("*.yaml"))]
    oracle = helpers.render_stack(REPO / "out" / STACK, platform).objects
    assert Counter(_canon(d) for d in ours) == Counter(_canon(o.doc) for o in oracle)
    assert len(ours) >= 15


def test_render_application_syncs_the_rendered_directory(rendered_root: Path) -> None:
    y = YAML(typ="safe")
    for platform in helpers.platforms(REPO / "out" / STACK):
        app = y.load((rendered_root / "out" / STACK / "rendered" / "argocd" / f"{platform}.yaml").read_text())
        assert app["kind"] == "Application"
        assert app["spec"]["sources"][0]["path"] == f"out/{STACK}/rendered/{platform}"


def test_render_is_byte_identical_across_runs(rendered_root: Path, tmp_path: Path) -> None:
    proc = _run(tmp_path, "--render", "--charts", str(helpers.charts_root()))
    assert proc.returncode == 0, proc.stderr
    a, b = rendered_root / "out" / STACK / "rendered", tmp_path / "out" / STACK / "rendered"
    files_a = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
    assert files_a == files_b
    assert len(files_a) > 30


def test_check_render_is_clean_then_finds_a_hand_edit(rendered_root: Path) -> None:
    charts = str(helpers.charts_root())
    assert _run(rendered_root, "--check", "--render", "--charts", charts).returncode == 0
    target = next((rendered_root / "out" / STACK / "rendered" / "kubernetes").glob("service--*.yaml"))
    original = target.read_text(encoding="utf-8")
    target.write_text(original.replace("port: 9002", "port: 9003"), encoding="utf-8")
    try:
        proc = _run(rendered_root, "--check", "--render", "--charts", charts)
        assert proc.returncode == 1
        assert f"stale rendered file: {STACK}/rendered/kubernetes/{target.name}" in proc.stdout
    finally:
        target.write_text(original, encoding="utf-8")


def test_render_without_charts_and_without_network_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    shutil.copy(REPO / SEED, tmp_path / SEED)
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([*EXE, SEED, "--render"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot fetch" in proc.stderr and "--charts" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "specs" / "charts.lock.yaml").exists()


def test_lint_with_charts_checks_the_rendered_releases_and_finds_nothing_in_specs() -> None:
    specs = sorted(str(p.relative_to(REPO)) for p in (REPO / "specs").glob("*.yaml"))
    proc = subprocess.run([*EXE, "lint", "--charts", str(helpers.charts_root()), *specs], cwd=REPO,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "LLMD44" not in proc.stdout + proc.stderr


def test_default_mode_never_loads_the_helm_sdk(tmp_path: Path) -> None:
    code = ("import sys; from llmd_compile.cli import main\n"
            f"try:\n    main([{SEED!r}, '--out', {str(tmp_path / 'out')!r}])\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "assert 'helm_python' not in sys.modules, 'the default mode imported the Helm SDK'\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr
