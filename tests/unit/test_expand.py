"""Finding specs in a directory: the scandir walk finds what Path.rglob finds, and the byte-level kind sniffer
reads the kind a text-level one would."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from llmd_compile.pipeline import SPEC_SUFFIXES, _yaml_files, expand
from llmd_compile.spec.layers import kind_of

STACK = "apiVersion: llmd-compile/v1alpha1\nkind: Stack\n"
BASE = "apiVersion: llmd-compile/v1alpha1\nkind: StackBase\n"


def _tree(root: Path, outside: Path) -> None:
    files = {
        "a.yaml": STACK, "b.yml": STACK, "c.json": STACK, ".hidden.yaml": STACK, ".yaml": STACK,
        "x.y.yaml": STACK, "base.yaml": BASE, "nested/deeper/d.yaml": STACK, "nested/e.YAML": STACK,
        ".dot/f.yaml": STACK, "dir.yaml/g.yaml": STACK, "a-b/h.yaml": STACK, "a/i.yaml": STACK,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (outside / "linked").mkdir(parents=True)
    (outside / "linked" / "through-a-link.yaml").write_text(STACK, encoding="utf-8")
    (outside / "target.yaml").write_text(STACK, encoding="utf-8")
    os.symlink(outside / "linked", root / "dirlink")  # not walked into, as rglob does not
    os.symlink(outside / "target.yaml", root / "filelink.yaml")  # a file through a link: found
    os.symlink(outside / "missing.yaml", root / "dangling.yaml")  # points nowhere: not a file
    os.symlink(outside / "linked", root / "dirlink.yaml")  # a directory by a YAML name: not a file


def test_the_walk_finds_what_rglob_finds(tmp_path: Path) -> None:
    root = tmp_path / "specs"
    _tree(root, tmp_path / "outside")
    by_rglob = sorted(p for p in root.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
    found = sorted(map(Path, _yaml_files(os.fspath(root))))
    assert found == by_rglob
    assert root / "filelink.yaml" in found and root / "dir.yaml" / "g.yaml" in found
    assert not any("through-a-link" in p.name for p in found)


def test_a_directory_expands_to_its_stacks_in_path_order(tmp_path: Path) -> None:
    root = tmp_path / "specs"
    _tree(root, tmp_path / "outside")
    paths = expand((os.fspath(root) + "/",))
    assert root / "base.yaml" not in paths  # a base is not a stack
    assert paths == sorted(paths)
    assert paths.index(root / "a" / "i.yaml") < paths.index(root / "a-b" / "h.yaml")  # by parts, not by text


def _kind_as_text(head: bytes) -> str | None:
    """What kind_of answered when it decoded the file before searching it."""
    match = re.search(r"^kind:[ \t]*([A-Za-z]+)[ \t]*(#.*)?$", head.decode("utf-8", errors="replace"), re.MULTILINE)
    return match.group(1) if match else None


@pytest.mark.parametrize("head", [
    b"kind: Stack\n", b"kind:StackBase", b"kind: Fleet # the fleet\n", b"kind: Stack\r\n", b"kind:\tStack\t\n",
    b"apiVersion: v1\nkind: Stack\n", b"  kind: Stack\n", b"kind: Stack2\n", b"kind: 'Stack'\n",
    b"# kind: Stack\nkind: Fleet\n", b"kind: Stack # \xff\xfe not UTF-8\n", b"\xef\xbb\xbfkind: Stack\n",
    b"meta:\n  kind: Stack\n", b"kind: St\xc3\xa4ck\n", b"", b"\x00\x01kind: Stack\n",
    b"#" * 70_000 + b"\nkind: Fleet\n",  # past the first read
    b"#" * (65_536 - 9) + b"\nkind: StackBase\n",  # the kind line straddles the first read's end
    b"#" * (65_536 - 1) + b"\n",  # exactly one first read, no kind
])
def test_the_kind_sniffer_reads_bytes_as_it_read_text(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(head)
    assert kind_of(path) == _kind_as_text(head)


SEED = (Path(__file__).resolve().parents[2] / "specs" / "h100.yaml").read_text(encoding="utf-8")


def _cli(*args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from llmd_compile.cli import main

    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("args", "code", "first_line"), [
    (("compile", "."), 0, ".: 1 spec found (skipped 1 base, 1 output directory, 2 YAML files without "
                          "apiVersion: llmd-compile/*)"),
    (("compile", "--check", "."), 0, ".: 1 spec found (skipped 1 base, 1 output directory, 2 YAML files "
                                     "without apiVersion: llmd-compile/*)"),
    (("lint", "."), 0, ".: 1 spec found (skipped 1 base, 1 output directory, 2 YAML files without "
                       "apiVersion: llmd-compile/*)"),
    (("compile", "--out", "build", "."), 0, ".: 1 spec found (skipped 1 base, 2 output directories, 2 YAML "
                                            "files without apiVersion: llmd-compile/*)"),
], ids=["compile", "check", "lint", "other --out"])
def test_a_directory_compile_reads_only_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              args: tuple[str, ...], code: int, first_line: str) -> None:
    """Issue 15, item 1: `llmd-compile .` in the layout the tool creates (specs, out/, overlays/) and beside other
    YAML (a Kubernetes manifest, a CI workflow, a virtualenv) compiles the specs and nothing else."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stack.yaml").write_text(SEED, encoding="utf-8")
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n", encoding="utf-8")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yaml").write_text("on: push\n", encoding="utf-8")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    (tmp_path / ".venv" / "lib" / "x.yaml").write_text(STACK, encoding="utf-8")
    assert _cli("stack.yaml")[0] == 0  # out/ and overlays/ as the tool creates them
    if "--out" in args:
        assert _cli("--out", "build", "stack.yaml")[0] == 0
    found, stdout, stderr = _cli(*args)
    assert (found, stdout.splitlines()[0]) == (code, first_line), stderr


@pytest.mark.parametrize("tree", [{}, {"notes.yaml": "a: 1\n"}, {"base.yaml": BASE}],
                         ids=["empty", "no spec", "only a base"])
def test_a_directory_without_a_spec_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                tree: dict[str, str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    for rel, text in tree.items():
        (tmp_path / "d" / rel).write_text(text, encoding="utf-8")
    for verb in (("compile",), ("compile", "--check"), ("lint",)):
        code, _, stderr = _cli(*verb, "d")
        assert code == 2 and stderr.startswith("error: d: no llmd-compile spec found"), stderr
        assert "apiVersion: llmd-compile/v1alpha1" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists()
