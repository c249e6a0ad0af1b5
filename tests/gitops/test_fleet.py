"""The fleet example (specs/fleet/: base + two clusters x two models) against the Argo CD CRDs, and explain."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from llmd_compile.cli import main
from tests.conformance import oracles as o

REPO = Path(__file__).resolve().parents[2]
FLEET = REPO / "specs" / "fleet"
STACKS = {"llama-east", "qwen-east", "llama-west", "qwen-west"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def docs(path: Path) -> list[Any]:
    return [d for d in YAML(typ="safe", pure=True).load_all(path.read_text(encoding="utf-8")) if d is not None]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet-repo")
    shutil.copytree(FLEET, root / "specs" / "fleet")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        code, _, err = run("specs/fleet", "--out", "out")
    assert code == 0, err
    return root / "out"


def test_bases_are_not_compiled_alone(compiled: Path) -> None:
    assert {p.name for p in compiled.iterdir() if p.is_dir()} == STACKS | {"llm-d-fleet"}


def test_applicationset_and_apps_validate(compiled: Path) -> None:
    o.shared()
    (appset,) = docs(compiled / "llm-d-fleet" / "applicationset.yaml")
    assert o.validate_any(appset) == []
    (generator,) = appset["spec"]["generators"]
    assert generator["git"]["files"] == [{"path": "out/*/argocd/placement.yaml"}]
    placements = [p for stack in sorted(STACKS) for p in docs(compiled / stack / "argocd" / "placement.yaml")[0]]
    assert {(p["stack"], p["cluster"]) for p in placements} == {(s, s.split("-")[1]) for s in STACKS}
    for placement in placements:
        children = compiled.parent / placement["path"]
        assert children.is_dir(), placement
        for app_file in children.glob("*.yaml"):
            (app,) = docs(app_file)
            assert o.validate_any(app) == [], app_file
            assert app["spec"]["destination"]["server"] == placement["server"]
        for project in docs(compiled / placement["stack"] / "argocd" / "projects.yaml"):
            assert o.validate_any(project) == []


def test_cluster_layers_pick_the_platform(compiled: Path) -> None:
    assert (compiled / "llama-east" / "overlays" / "openshift").is_dir()
    assert not (compiled / "llama-east" / "overlays" / "kubernetes").exists()
    assert (compiled / "qwen-west" / "overlays" / "kubernetes").is_dir()


def test_null_in_a_layer_deletes_the_base_value(compiled: Path) -> None:
    values = docs(compiled / "qwen-west" / "values" / "modelservice.yaml")[0]
    assert "authSecretName" not in values["modelArtifacts"]
    llama = docs(compiled / "llama-west" / "values" / "modelservice.yaml")[0]
    assert llama["modelArtifacts"]["authSecretName"] == "llm-d-hf-token"


@pytest.mark.parametrize(("field", "expected"), [
    ("decode.replicas", "decode.replicas = 2\n  from specs/fleet/base.yaml:16:13"),
    ("platforms.kubernetes.storageClassName",
     'platforms.kubernetes.storageClassName = "standard-rwx"\n  from specs/fleet/clusters/west.yaml:9:23'),
    ("model.name", 'model.name = "Qwen/Qwen3-8B"\n  from specs/fleet/models/qwen.yaml:5:9'),
    ("metadata.name", 'metadata.name = "qwen-west"\n  from specs/fleet/qwen-west.yaml:7:9'),
    ("decode.sidecar.enabled", "decode.sidecar.enabled = true\n  from the spec model's default (no file sets it)"),
])
def test_explain_shows_provenance(monkeypatch: pytest.MonkeyPatch, field: str, expected: str) -> None:
    monkeypatch.chdir(REPO)
    code, out, _ = run("explain", "specs/fleet/qwen-west.yaml", field)
    assert (code, out.strip()) == (0, expected)


def test_stack_on_an_unknown_cluster_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FLEET, tmp_path / "fleet")
    east = tmp_path / "fleet" / "clusters" / "east.yaml"
    east.write_text(east.read_text().replace("name: east", "name: north"))
    monkeypatch.chdir(tmp_path)
    code, _, err = run("fleet", "--out", "out")
    assert code == 2
    assert "fleet/clusters/east.yaml:13:13: gitops.argocd.destination: cluster 'north' is not in fleet" in err


def test_layered_output_does_not_depend_on_the_checkout_path(compiled: Path,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("another-checkout") / "deeper" / "repo"
    shutil.copytree(FLEET, elsewhere / "specs" / "fleet")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(elsewhere)
        assert run("specs/fleet", "--out", "out")[0] == 0
    for stack in STACKS:
        for path in (compiled / stack).rglob("*"):
            if path.is_file():
                assert (elsewhere / "out" / stack / path.relative_to(compiled / stack)).read_bytes() == \
                    path.read_bytes(), path
