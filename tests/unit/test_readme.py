"""Generated stack READMEs tell the truth about their own directory: the Files table lists exactly what the compile
wrote (every spec of the corpus), names it for what it is, and the deploy commands name only files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmd_compile.compile import build
from llmd_compile.errors import SpecError
from llmd_compile.spec.layers import BASE_KIND, kind_of
from llmd_compile.spec.load import load_marked

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted(p for d in ("specs", "tests/golden/cases") for p in (REPO / d).rglob("*.yaml")
               if kind_of(p) not in (BASE_KIND, "Fleet", None))


def compiled(spec: Path) -> dict[str, str]:
    try:
        return build(load_marked(spec).spec, spec.name)[1]
    except SpecError as exc:  # pragma: no cover - the corpus compiles
        pytest.fail(str(exc))


def listed(readme: str) -> list[str]:
    table = readme.split("## Files", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", table, re.MULTILINE)


def _exists(path: str, files: dict[str, str]) -> bool:
    return any(f == path or f.startswith(path.rstrip("/") + "/") for f in files)


@pytest.mark.parametrize("spec", SPECS, ids=[p.relative_to(REPO).as_posix() for p in SPECS])
def test_every_path_and_command_names_something_that_exists(spec: Path) -> None:
    """Every install shape: a path the README names in backticks, or a command runs on, was written."""
    files = compiled(spec)
    readme = files["README.md"]
    assert "Run the commands below from this stack's directory" in readme and "`helmfile`" in readme
    named = re.findall(r"`((?:values|epp|base|overlays|prereqs|argocd|bench|gateway|modelserver)/[^`*<> ]*)`", readme)
    commands = re.findall(r"^(?:helmfile sync -f|helmfile -f|kubectl apply -k|kubectl apply -f|helm install \S+ \S+ "
                          r"--version \S+ -f) (\S+)", readme, re.MULTILINE)
    for path in named + [c for c in commands if "://" not in c and not c.startswith("'")]:
        assert _exists(path, files), f"{path} named, not written"


HELM_ERA = [p for p in SPECS if "## Files" in compiled(p)["README.md"]]


@pytest.mark.parametrize("spec", HELM_ERA, ids=[p.relative_to(REPO).as_posix() for p in HELM_ERA])
def test_the_files_table_lists_what_exists(spec: Path) -> None:
    files = compiled(spec)
    readme = files["README.md"]
    rows = listed(readme)
    for row in rows:  # every row names something the compile wrote
        assert any(f == row or (row.endswith("/") and f.startswith(row)) for f in files), f"{row} listed, not written"
    for f in files:  # everything written (but the README itself) is in the table
        assert f == "README.md" or any(f == r or (r.endswith("/") and f.startswith(r)) for r in rows), f"{f} unlisted"


@pytest.mark.parametrize("spec", HELM_ERA, ids=[p.relative_to(REPO).as_posix() for p in HELM_ERA])
def test_the_readme_names_things_for_what_they_are(spec: Path) -> None:
    files = compiled(spec)
    readme = files["README.md"]
    infra = files.get("values/infra.yaml", "")
    assert ("DestinationRule" in readme.split("## Files", 1)[1].split("\n## ", 1)[0]) == ("destinationRule" in infra)
    assert ("model cache PVC" in readme) == ("base/pvc.yaml" in files)
    assert ("argocd/" in readme) == any(f.startswith("argocd/") for f in files)
    assert ("bench/guidellm-job.yaml" in readme) == ("bench/guidellm-job.yaml" in files)


def test_the_fleet_readme_lists_every_step() -> None:
    from llmd_compile.emit.fleet import readme
    from llmd_compile.spec.fleet import load_fleet

    fleet = load_fleet(REPO / "specs" / "fleet" / "fleet.yaml", "specs/fleet/fleet.yaml")
    text = readme(fleet)
    steps = [text.index(marker) for marker in (
        "argocd cluster add <kube-context-of-east> --name east", f"read access to `{fleet.gitops.argocd.repoURL}`",
        '-f "$dir/projects.yaml" -f "$dir/repositories.yaml"', "-f out/llm-d-fleet/applicationset.yaml")]
    assert steps == sorted(steps)  # in the order they must happen
    assert "from the repository root" in text
