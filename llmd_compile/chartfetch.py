"""`--render` without `--charts`: charts fetched by the Helm SDK from their repositories (HTTP or OCI) into a
local cache, pinned by digest in a lock file committed beside the specs (`charts.lock.yaml`).

The first fetch of a (repository, chart, version) records the archive's `sha256:` digest (the digest repository
indexes carry); every later run uses the cached archive of that digest, or fetches again and refuses an archive
whose digest differs from the lock. Only `render` imports this module, and it imports the Helm SDK only to fetch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from llmd_compile import yamlio
from llmd_compile.errors import SpecError

LOCK = "charts.lock.yaml"
_LOCK_HEADER = ("Chart archives --render fetched, pinned by digest (llmd-compile writes new entries; a changed\n"
                "digest is refused). Commit this file beside the specs.")

Key = tuple[str, str, str]  # (repository, chart, version)


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "llmd-compile" / "charts"


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _helm_pull(ref: str, repository: str, version: str, destination: Path) -> None:
    import helm_python

    if repository.startswith("oci://"):
        helm_python.pull(f"{repository}/{ref}", version=version, destination=destination)
    else:
        helm_python.pull(ref, repo_url=repository, version=version, destination=destination)


def chart_source(chart: str, repositories: dict[str, str]) -> tuple[str, str]:
    """A helmfile release's `chart` as (repository, chart name): `repo/name` or `oci://host/path/name`."""
    if chart.startswith("oci://"):
        repository, _, name = chart.rpartition("/")
        return repository, name
    repo, _, name = chart.partition("/")
    if repo not in repositories:
        raise SpecError.one("helmfile.yaml", "repositories", f"no repository {repo!r} for chart {chart!r}")
    return repositories[repo], name


@dataclass
class Fetcher:
    cache: Path
    lock_path: Path
    pull: Callable[[str, str, str, Path], None] = _helm_pull
    entries: dict[Key, str] = field(default_factory=dict)
    changed: bool = False

    def __post_init__(self) -> None:
        if self.lock_path.is_file():
            data = YAML(typ="safe").load(self.lock_path.read_text(encoding="utf-8")) or {}
            for e in data.get("charts") or []:
                self.entries[(str(e["repository"]), str(e["chart"]), str(e["version"]))] = str(e["digest"])

    def locate(self, repository: str, chart: str, version: str) -> Path:
        """The cached archive of this chart version, fetched if needed; its digest must be the locked one."""
        key = (repository, chart, version)
        pinned = self.entries.get(key)
        if pinned is not None:
            cached = self.cache / f"{pinned.replace(':', '-')}.tgz"
            if cached.is_file() and sha256(cached) == pinned:
                return cached
        with tempfile.TemporaryDirectory() as tmp:
            try:
                self.pull(chart, repository, version, Path(tmp))
            except Exception as exc:  # the SDK's network and registry errors: one located line, no traceback
                raise SpecError.one(str(self.lock_path), f"{chart}@{version}",
                                    f"cannot fetch from {repository}: {exc}; pass --charts DIR to work offline"
                                    ) from None
            archives = sorted(Path(tmp).glob("*.tgz"))
            if len(archives) != 1:
                raise SpecError.one(str(self.lock_path), f"{chart}@{version}", "the fetch gave no single archive")
            got = sha256(archives[0])
            if pinned is not None and got != pinned:
                raise SpecError.one(str(self.lock_path), f"{chart}@{version}",
                                    f"{repository} serves digest {got}, the lock pins {pinned}")
            self.cache.mkdir(parents=True, exist_ok=True)
            cached = self.cache / f"{got.replace(':', '-')}.tgz"
            shutil.move(str(archives[0]), cached)
        if pinned is None:
            self.entries[key] = got
            self.changed = True
        return cached

    def lock_text(self) -> str:
        rows: list[dict[str, Any]] = [
            {"chart": c, "version": v, "repository": r, "digest": d} for (r, c, v), d in sorted(self.entries.items())
        ]
        return "".join(f"# {line}\n" for line in _LOCK_HEADER.splitlines()) + str(yamlio.dump({"charts": rows}))

    def save(self) -> None:
        if self.changed:
            tmp = self.lock_path.with_name(f".{LOCK}.{os.getpid()}.tmp")
            tmp.write_text(self.lock_text(), encoding="utf-8", newline="\n")
            tmp.replace(self.lock_path)
            self.changed = False
