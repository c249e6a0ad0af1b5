"""Our pre-commit hooks, installed by the real pre-commit from this repository into a temp git repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not PRE_COMMIT.exists():
        pytest.fail("pre-commit is a test dependency: pip install -e '.[test]'")
    head = git(REPO, "rev-parse", "HEAD").stdout.strip()
    if not head:
        pytest.skip("not a git checkout of llmd-compile")
    # pre-commit installs a hook from a commit; the hook must exist in that commit.
    if git(REPO, "cat-file", "-e", f"{head}:.pre-commit-hooks.yaml").returncode != 0:
        pytest.fail(".pre-commit-hooks.yaml is not committed")
    root = tmp_path_factory.mktemp("user-repo")
    assert git(root, "init", "-q", "-b", "main").returncode == 0
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "ci")
    (root / "specs").mkdir()
    shutil.copy(REPO / "specs" / "h100.yaml", root / "specs" / "h100.yaml")
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {head}\n    hooks:\n      - id: llmd-compile\n", encoding="utf-8")
    (root / "NOTES.md").write_text("notes\n", encoding="utf-8")
    return root


def commit(root: Path, message: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    git(root, "add", "-A")
    return subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, capture_output=True, text=True,
                          check=False, env=env)


def test_hook_fails_then_passes_and_skips_unrelated_commits(user_repo: Path,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home"))}
    install = subprocess.run([str(PRE_COMMIT), "install"], cwd=user_repo, capture_output=True, text=True, env=env,
                             check=False)
    assert install.returncode == 0, install.stderr

    first = commit(user_repo, "add the stack spec", env)
    assert first.returncode != 0, "the hook must fail the commit that leaves out/ behind"
    assert "llmd-compile" in first.stdout + first.stderr
    assert (user_repo / "out" / "inference-scheduling" / "values" / "modelservice.yaml").is_file()

    second = commit(user_repo, "add the stack spec and out/", env)
    assert second.returncode == 0, second.stdout + second.stderr

    spec = user_repo / "specs" / "h100.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("replicas: 4", "replicas: 2"), encoding="utf-8")
    stale = commit(user_repo, "scale down", env)
    assert stale.returncode != 0
    assert "replicas: 2" in (user_repo / "out/inference-scheduling/values/modelservice.yaml").read_text()
    assert commit(user_repo, "scale down, regenerated", env).returncode == 0

    before = {p: p.stat().st_mtime_ns for p in (user_repo / "out").rglob("*") if p.is_file()}
    (user_repo / "NOTES.md").write_text("more notes\n", encoding="utf-8")
    unrelated = commit(user_repo, "unrelated", env)
    assert unrelated.returncode == 0
    assert "Skipped" in unrelated.stdout + unrelated.stderr or "(no files to check)" in unrelated.stdout
    assert before == {p: p.stat().st_mtime_ns for p in (user_repo / "out").rglob("*") if p.is_file()}
