"""The process entry (`llmd-compile`, `python -m llmd_compile`): the same results as `cli.main`, with the
start-up and shut-down savings it claims actually in effect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SEED = (REPO / "specs" / "h100.yaml").read_text(encoding="utf-8")
_EXE = Path(sys.executable).with_name("llmd-compile")  # the console script, as installed; else the module
CLI = [str(_EXE)] if _EXE.is_file() else [sys.executable, "-m", "llmd_compile"]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("prelude", "expected"), [
    ("from llmd_compile.__main__ import prepare\nprepare()\n", ["False", "100000"]),  # the CLI's process
    ("", ["True", "700"]),  # library use: pydantic's plugin search and the interpreter's collector, untouched
])
def test_the_plugin_scan_is_skipped_only_by_the_entry(tmp_path: Path, prelude: str, expected: list[str]) -> None:
    """If pydantic finds its plugins another way, importlib.metadata shows up after prepare() too and the stub
    is dead weight."""
    (tmp_path / "h100.yaml").write_text(SEED, encoding="utf-8")
    code = (
        "import gc, sys\n"
        "from pathlib import Path\n"
        f"{prelude}"
        "from llmd_compile.pipeline import analyse\n"
        "loaded, stack, files, _ = analyse(Path('h100.yaml'), 'h100.yaml', False)\n"
        "assert stack.spec.decode.replicas == 4 and files\n"
        "print('importlib.metadata' in sys.modules, gc.get_threshold()[0])\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == expected


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".llmd-compile-cache")}


@pytest.mark.parametrize(("spec", "args", "code"), [
    (SEED, [], 0),
    (SEED, ["--check"], 1),  # nothing compiled into this out/ yet
    (SEED.replace("replicas: 4", "replicas: four", 1), [], 2),
    (SEED, ["--version"], 0),
    (SEED, ["--no-such-option"], 2),
])
def test_the_entry_answers_as_main_does(tmp_path: Path, spec: str, args: list[str], code: int) -> None:
    """Exit code, every byte of stdout and stderr, and the files written: the `llmd-compile` console script
    (`__main__.run`) against `cli.main` called plainly, each in its own repository."""
    results = []
    for entry in ("run", "main"):
        repo = tmp_path / entry
        (repo / "specs").mkdir(parents=True)
        (repo / "specs" / "h100.yaml").write_text(spec, encoding="utf-8")
        argv = [*args, "specs/h100.yaml"] if args != ["--version"] else args
        command = ([*CLI, *argv] if entry == "run" else
                   [sys.executable, "-c", "import sys; from llmd_compile.cli import main; sys.argv[1:] = "
                    f"{argv!r}; main(prog_name='llmd-compile')"])
        done = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=120)
        results.append((done.returncode, done.stdout.replace(str(repo), "<repo>"),
                        done.stderr.replace(str(repo), "<repo>"),
                        _tree(repo / "out") if (repo / "out").is_dir() else None))
    assert results[0][0] == code
    assert results[0] == results[1]


def test_a_closed_pipe_is_no_traceback(tmp_path: Path) -> None:
    """The reader is gone before anything is written (`| true`): exit 1, as click answers EPIPE, and no trace."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "h100.yaml").write_text(SEED, encoding="utf-8")
    script = f"{' '.join(CLI)} --diff specs/h100.yaml | true"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert "Traceback" not in done.stderr and "LLMD413" in done.stderr
    assert done.returncode == 1


# Loaded by a subcommand that needs them, never at start-up (`import llmd_compile.cli` is every run's floor: the
# pre-commit hook's 0.4 s budget). The adopt package once cost 100 ms there through its __init__.
_HEAVY_AT_START = ("pydantic.main", "llmd_compile.spec.models", "llmd_compile.compile", "llmd_compile.adopt.importer",
                   "llmd_compile.adopt.upgrade", "llmd_compile.catalog.plugin_data", "llmd_compile.render",
                   "helm_python")


def test_cli_start_up_loads_no_subcommand_machinery(tmp_path: Path) -> None:
    done = _python("import sys\nimport llmd_compile.cli\n"
                   f"print([m for m in {_HEAVY_AT_START!r} if m in sys.modules])\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
