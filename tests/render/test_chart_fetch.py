"""Chart fetching for `--render` without `--charts`: archives cached and pinned by digest in charts.lock.yaml.

The repository is played by a puller that packages the verbatim charts of ../shared (no network); the digest
oracle is sha256 over the archive bytes, and the Helm SDK's own `digest` must agree with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from llmd_compile import render
from llmd_compile.chartfetch import LOCK, Fetcher, sha256
from llmd_compile.errors import SpecError
from tests.render import helpers

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "out" / "inference-scheduling"


class Repository:
    """Serves the packaged charts of ../shared; counts fetches."""

    def __init__(self) -> None:
        self.pulls: list[tuple[str, str, str]] = []
        self.tamper = False

    def __call__(self, chart: str, repository: str, version: str, destination: Path) -> None:
        import helm_python

        self.pulls.append((repository, chart, version))
        archive = Path(helm_python.package(helpers.charts_root() / chart / version, destination=destination))
        if self.tamper:
            archive.write_bytes(archive.read_bytes() + b"\0")


def _fetcher(tmp_path: Path, repo: Repository) -> Fetcher:
    return Fetcher(tmp_path / "cache", tmp_path / LOCK, pull=repo)


def test_first_render_fetches_and_pins_then_the_cache_serves(tmp_path: Path) -> None:
    repo = Repository()
    fetcher = _fetcher(tmp_path, repo)
    fetched = render.chart_objects(STACK, fetcher)
    fetcher.save()
    assert len(repo.pulls) == 3
    lock = YAML(typ="safe").load((tmp_path / LOCK).read_text(encoding="utf-8"))
    pins = {(e["chart"], e["version"]): e["digest"] for e in lock["charts"]}
    assert pins.keys() == {("llm-d-infra", "v1.3.0"), ("inferencepool", "v0.5.1"), ("llm-d-modelservice", "v0.2.7")}
    import helm_python

    for digest in pins.values():
        archive = tmp_path / "cache" / f"{digest.replace(':', '-')}.tgz"
        assert sha256(archive) == helm_python.digest(archive) == digest
    again = _fetcher(tmp_path, repo)
    assert render.chart_objects(STACK, again) == fetched
    assert len(repo.pulls) == 3  # all from the cache
    assert fetched == render.chart_objects(STACK, helpers.charts_root())  # the same objects as --charts DIR


def test_a_changed_digest_is_refused(tmp_path: Path) -> None:
    repo = Repository()
    fetcher = _fetcher(tmp_path, repo)
    render.chart_objects(STACK, fetcher)
    fetcher.save()
    for archive in (tmp_path / "cache").glob("*.tgz"):
        archive.unlink()  # a fresh machine: the lock is committed, the cache is not
    repo.tamper = True
    with pytest.raises(SpecError, match="the lock pins sha256:"):
        render.chart_objects(STACK, _fetcher(tmp_path, repo))


def test_lock_is_byte_stable(tmp_path: Path) -> None:
    a, b = _fetcher(tmp_path / "a", Repository()), _fetcher(tmp_path / "b", Repository())
    for f in (a, b):
        render.chart_objects(STACK, f)
    assert a.lock_text() == b.lock_text()
    assert a.lock_text().startswith("# ")
