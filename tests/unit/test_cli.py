"""CLI behaviour, in-process: verbs, exit codes, drift reports, ownership, and 'bad input loses nothing'."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile.cli import main

REPO = Path(__file__).resolve().parents[2]
SEED = (REPO / "specs" / "h100.yaml").read_text(encoding="utf-8")
STACK = "inference-scheduling"
NO_OPENSHIFT = SEED.replace("  openshift:\n    storageClassName: ocs-storagecluster-cephfs\n", "")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "h100.yaml").write_text(SEED, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_compile_then_up_to_date(repo: Path) -> None:
    code, out, _ = run("specs/h100.yaml")
    written = [p for p in (repo / "out" / STACK).rglob("*") if p.is_file()]
    assert code == 0 and f"{STACK}: {len(written)} changed, 0 unchanged" in out
    before = {p: p.stat().st_mtime_ns for p in (repo / "out" / STACK).rglob("*")}
    code, out, _ = run("specs/h100.yaml")
    assert (code, out.strip()) == (0, f"{STACK}: up to date")
    assert before == {p: p.stat().st_mtime_ns for p in (repo / "out" / STACK).rglob("*")}
    assert run("--check", "specs/")[0] == 0


def test_check_reports_missing_stale_and_extra(repo: Path) -> None:
    code, out, err = run("--check", "specs/h100.yaml")
    assert code == 1 and f"out/{STACK}/values/infra.yaml: missing (from specs/h100.yaml)" in out
    assert "out of date" in err
    run("specs/h100.yaml")
    infra = repo / "out" / STACK / "values" / "infra.yaml"
    infra.write_text(infra.read_text() + "# hand edit\n")
    (repo / "specs" / "h100.yaml").write_text(NO_OPENSHIFT)
    code, out, _ = run("--check", "specs/h100.yaml")
    assert code == 1
    lines = set(out.splitlines())
    assert f"out/{STACK}/values/infra.yaml: stale (from specs/h100.yaml)" in lines
    assert f"out/{STACK}/argocd/openshift.yaml: extra (from specs/h100.yaml)" in lines
    assert f"out/{STACK}/overlays/openshift/kustomization.yaml: extra (from specs/h100.yaml)" in lines


def test_diff_is_unified_and_writes_nothing(repo: Path) -> None:
    run("specs/h100.yaml")
    (repo / "specs" / "h100.yaml").write_text(SEED.replace("replicas: 4", "replicas: 3"))
    before = snapshot(repo / "out")
    code, out, _ = run("--diff", "specs/h100.yaml")
    assert code == 1
    assert f"--- a/out/{STACK}/values/modelservice.yaml" in out
    assert "-  replicas: 4\n+  replicas: 3\n" in out
    assert snapshot(repo / "out") == before


def test_user_files_survive_and_stale_files_are_pruned(repo: Path) -> None:
    run("specs/h100.yaml")
    mine = repo / "out" / STACK / "NOTES.md"
    mine.write_text("mine\n")
    (repo / "specs" / "h100.yaml").write_text(NO_OPENSHIFT)
    assert run("specs/h100.yaml")[0] == 0
    assert mine.read_text() == "mine\n"
    assert not (repo / "out" / STACK / "overlays" / "openshift").exists()
    assert not (repo / "out" / STACK / "argocd" / "openshift.yaml").exists()
    user_component = repo / "overlays" / "openshift" / "kustomization.yaml"
    user_component.write_text("# edited by me\n" + user_component.read_text())
    run("specs/h100.yaml")
    assert user_component.read_text().startswith("# edited by me\n")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("replicas: 4", "replicas: -1",
         "specs/h100.yaml:31:13: decode.replicas: Input should be greater than or equal to 0"),
        ("modelservice: v0.2.7", "modelservice: v0.1.0",
         "specs/h100.yaml:14:17: charts.modelservice: v0.1.0 is not a supported version"),
        ("kind: Stack", "kind: Stack\nkind: Stack", "specs/h100.yaml:8:1: kind: duplicate key (first at line 7)"),
    ],
    ids=["validation", "unsupported chart", "duplicate key"],
)
def test_bad_input_exits_2_and_loses_nothing(repo: Path, old: str, new: str, expected: str) -> None:
    run("specs/h100.yaml")
    before = snapshot(repo)
    (repo / "specs" / "h100.yaml").write_text(SEED.replace(old, new, 1))
    code, out, err = run("specs/h100.yaml")
    assert code == 2
    assert err.splitlines()[0].startswith(expected)
    assert err.splitlines()[-1].startswith("error: 1 problem; nothing was written")
    assert "Traceback" not in err + out
    after = snapshot(repo)
    after.pop("specs/h100.yaml"), before.pop("specs/h100.yaml")
    assert after == before


def test_two_specs_one_name(repo: Path) -> None:
    (repo / "specs" / "copy.yaml").write_text(SEED)
    code, _, err = run("specs/")
    assert code == 2
    assert "specs/h100.yaml: metadata.name: 'inference-scheduling' is also the name of specs/copy.yaml" in err
    assert not (repo / "out").exists()


def test_refuses_symlinked_stack_dir(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (repo / "out").mkdir()
    os.symlink(elsewhere, repo / "out" / STACK)
    code, _, err = run("specs/h100.yaml")
    assert code == 2 and "is a symlink" in err
    assert list(elsewhere.iterdir()) == []


def test_schema_matches_committed_file() -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert json.loads(out) == json.loads((REPO / "schema" / "stack.schema.json").read_text())


def test_versions_lists_presets() -> None:
    code, out, _ = run("versions")
    assert code == 0
    for preset in ("seed:", "v0.3.0:", "v0.4.0:", "v0.6:"):
        assert preset in out
