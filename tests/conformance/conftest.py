"""Fixtures for the seed-stack conformance tests: specs/h100.yaml compiled in-process and by the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llmd_compile.compile import compile_spec
from llmd_compile.spec.load import load
from llmd_compile.spec.models import Spec

REPO = Path(__file__).resolve().parents[2]
SEED_SOURCE = "specs/h100.yaml"  # as the CLI writes it into headers when run from the repo root

RunCli = Callable[[Path, str], Path]


@pytest.fixture(scope="session")
def seed_spec() -> Spec:
    return load(REPO / SEED_SOURCE, SEED_SOURCE)


@pytest.fixture(scope="session")
def seed_files(seed_spec: Spec) -> dict[str, str]:
    """compile_spec's {relpath: text} for the seed stack."""
    return compile_spec(seed_spec, SEED_SOURCE)


@pytest.fixture(scope="session")
def run_cli(seed_spec: Spec) -> RunCli:
    """Run the real `llmd-compile specs/h100.yaml --out <root>/<gitops.argocd.path>` from the repo root.

    ``root`` plays the repository root: the stack lands in ``<root>/<path>/<name>/`` and the CLI scaffolds
    the user components in ``<root>/overlays/``. Returns ``root``.
    """
    argo = seed_spec.gitops.argocd
    out_rel = argo.path if argo is not None else "out"
    exe = Path(sys.executable).with_name("llmd-compile")
    command = [str(exe)] if exe.is_file() else [sys.executable, "-m", "llmd_compile"]

    def run(root: Path, hashseed: str) -> Path:
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        proc = subprocess.run([*command, SEED_SOURCE, "--out", str(root / out_rel)], cwd=REPO, env=env,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"llmd-compile exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        return root

    return run


@pytest.fixture(scope="session")
def seed_root(run_cli: RunCli, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository root holding the CLI's compile of the seed spec (out/ + scaffolded overlays/)."""
    return run_cli(tmp_path_factory.mktemp("seed-repo"), "0")
