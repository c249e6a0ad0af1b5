"""Symlinks in or around out/ that point elsewhere: refused, never followed, never read, never written through.

Each case plants a link to a directory (or file) outside the repository holding canary files, then runs
compile, --check and --diff. The outside stays byte-identical, nothing from it is copied into out/ or printed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from . import harness, hostile

STACK = "inference-scheduling"
CANARY = "CANARY-4b1f do not copy me"


run = harness.invoke


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "specs" / "stack.yaml").write_text(hostile.BASE, encoding="utf-8")
    monkeypatch.chdir(root)
    assert run("specs/stack.yaml")[0] == 0
    changed = hostile.BASE.replace("replicas: 4", "replicas: 3")  # a pending change: the next run must write
    (root / "specs" / "stack.yaml").write_text(changed, encoding="utf-8")
    return root


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """Outside the repository: files named like ours, and a 'secret'."""
    outside = tmp_path / "elsewhere"
    for rel in ("infra.yaml", "values/infra.yaml", "id_rsa", "openshift/kustomization.yaml", ".llmd-compile.yaml"):
        (outside / rel).parent.mkdir(parents=True, exist_ok=True)
        (outside / rel).write_text(f"{CANARY} {rel}\n", encoding="utf-8")
    return outside


def _replace_with_link(path: Path, target: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in sorted(path.rglob("*"), reverse=True):
            child.unlink() if not child.is_dir() or child.is_symlink() else child.rmdir()
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


Plant = Callable[[Path, Path], None]
PLANTS: dict[str, Plant] = {
    "stack directory": lambda repo, out: _replace_with_link(repo / "out" / STACK, out),
    "out itself": lambda repo, out: _replace_with_link(repo / "out", out),
    "a directory inside the stack": lambda repo, out: _replace_with_link(repo / "out" / STACK / "values",
                                                                         out / "values"),
    "a file inside the stack": lambda repo, out: _replace_with_link(repo / "out" / STACK / "values" / "infra.yaml",
                                                                    out / "infra.yaml"),
    "the ownership manifest": lambda repo, out: _replace_with_link(repo / "out" / STACK / ".llmd-compile.yaml",
                                                                   out / ".llmd-compile.yaml"),
    "the lock file": lambda repo, out: _replace_with_link(repo / "out" / ".llmd-compile.lock", out / "id_rsa"),
    "a planted .old swap directory": lambda repo, out: (
        _replace_with_link(repo / "out" / STACK, repo / "gone"), (repo / "out" / STACK).unlink(),
        _replace_with_link(repo / "out" / f".{STACK}.old", out)),
    "a planted .new swap directory": lambda repo, out: _replace_with_link(repo / "out" / f".{STACK}.new", out),
}


@pytest.mark.parametrize("where", list(PLANTS))
def test_symlink_refused_never_followed(where: str, repo: Path, elsewhere: Path) -> None:
    PLANTS[where](repo, elsewhere)
    outside = harness.snapshot(elsewhere)
    inside = harness.snapshot(repo / "out")
    code, stdout, stderr = run("specs/stack.yaml")
    assert code == 2, (stdout, stderr)
    assert "symlink" in stderr or "Too many levels of symbolic links" in stderr, stderr
    assert "Traceback" not in stderr
    assert harness.snapshot(elsewhere) == outside, "wrote through a link"
    assert harness.snapshot(repo / "out") == inside, "out/ changed although the run was refused"
    for verb in ("--check", "--diff"):
        code, stdout, stderr = run(verb, "specs/stack.yaml")
        assert code in (1, 2), (verb, stdout, stderr)
        assert CANARY not in stdout + stderr, f"{verb} printed a file it reached through a link"
    assert harness.snapshot(elsewhere) == outside
    copied = [rel for rel, body in harness.snapshot(repo).items()
              if isinstance(body, bytes) and CANARY.encode() in body]
    assert copied == [], "copied from outside into the repository"


def test_a_file_where_the_stack_directory_goes(repo: Path) -> None:
    """Before: swapped into out/.<name>.new and stuck there, every later run failing on mkdir."""
    _replace_with_link(repo / "out" / STACK, repo / "gone")
    (repo / "out" / STACK).unlink()
    (repo / "out" / STACK).write_text("mine\n", encoding="utf-8")
    code, _, stderr = run("specs/stack.yaml")
    assert code == 2 and "is not a directory" in stderr, stderr
    assert (repo / "out" / STACK).read_text(encoding="utf-8") == "mine\n"
    assert not (repo / "out" / f".{STACK}.new").exists()


def test_hostile_manifest_is_not_trusted(repo: Path) -> None:
    """A committed manifest is input too: a 300 000-deep list crashed --check (SIGSEGV in the C composer)."""
    manifest = repo / "out" / STACK / ".llmd-compile.yaml"
    manifest.write_text("files: " + "[" * 300_000 + "]" * 300_000 + "\n", encoding="utf-8")
    proc = harness.run_cli("--check", "specs/stack.yaml", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    assert f"out/{STACK}/.llmd-compile.yaml: stale" in proc.stdout
    assert harness.run_cli("specs/stack.yaml", cwd=repo).returncode == 0


def test_user_components_directory_link_is_refused(repo: Path, elsewhere: Path) -> None:
    """overlays/ (the user components beside out/) linked outside: the stub is never written through it."""
    empty = elsewhere / "components"
    empty.mkdir()
    _replace_with_link(repo / "overlays", empty)
    code, _, stderr = run("specs/stack.yaml")
    assert code == 2 and "is a symlink" in stderr, stderr
    assert list(empty.iterdir()) == [], "wrote outside the repository through overlays/"
