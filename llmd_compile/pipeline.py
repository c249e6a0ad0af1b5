"""Spec paths -> compiled stacks: load, compile and check each, in this process or in worker processes.

Writes nothing (cli.py and outdir.py write). Every problem is located in the file that caused it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from llmd_compile import outdir
from llmd_compile.cache import CACHE
from llmd_compile.errors import Problem, SpecError
from llmd_compile.headers import MANIFEST
from llmd_compile.spec.layers import API_GROUP, BASE_KIND, kind_of, sniff

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

    from llmd_compile.errors import Diagnostic
    from llmd_compile.resolve import Stack
    from llmd_compile.spec.fleet import Fleet
    from llmd_compile.spec.load import Loaded

# Heavy modules (pydantic models, emitters, checks) are imported inside the functions that need them, so a run
# whose stacks are all unchanged (pre-commit, --check) answers from the cache without loading them.

SPEC_SUFFIXES = (".yaml", ".yml")
PARALLEL_FROM = 32  # forking workers pays from about here (on tmpfs, 2 cores: 24 specs faster alone, 40 with 2)


@dataclass(frozen=True)
class Compiled:
    name: str
    source: str
    files: dict[str, str]
    platforms: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    spec_path: Path | None = None
    inputs: tuple[Path, ...] = field(default_factory=tuple)
    digests: dict[str, str] = field(default_factory=dict)  # sha256 of every file the manifest lists
    crossstack: str = ""  # what the checks of stacks against each other read (crossstack.summary); "": not known


def display(path: Path, out: Path) -> str:
    """The spec path as written into headers: relative to the repo root (out/'s parent)."""
    return displayer(out)(path)


def displayer(out: Path) -> Callable[[Path], str]:
    """`display` for many paths with one `out` (string operations: a fleet's cache check shows every spec)."""
    bases = [os.path.join(str(out.resolve().parent), ""), os.path.join(str(Path.cwd().resolve()), "")]

    def shown(path: Path) -> str:
        resolved = os.path.realpath(path)
        for base in bases:
            if resolved.startswith(base):
                return Path(resolved[len(base):]).as_posix()
            if resolved + os.sep == base:
                return "."
        return path.as_posix()

    return shown


def _yaml_files(root: str, skip: Callable[[str, list[os.DirEntry[str]]], bool] | None = None) -> Iterator[str]:
    """The YAML files under `root` as Path.rglob("*") finds them (into real directories, not through links), with
    one scandir per directory instead of a stat per file; a directory `skip(path, entries)` refuses is left out
    whole, before any of its files is opened."""
    try:
        with os.scandir(root) as listing:
            entries = list(listing)
    except PermissionError:
        return
    if skip is not None and skip(root, entries):
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _yaml_files(entry.path, skip)
        elif os.path.splitext(entry.name)[1] in SPEC_SUFFIXES and entry.is_file():
            yield entry.path


# What a directory compile never reads: our own output (a stack directory holds its ownership manifest, the out
# root the cache), the user's kustomize components, and the places tools keep their own files.
_OURS = frozenset({MANIFEST, CACHE})
_NOT_SPECS = frozenset({"overlays", ".git", "node_modules"})


@dataclass
class Survey:
    """What expanding one directory found: shown as `DIR: N specs found (...)`."""

    root: str
    specs: int = 0
    bases: int = 0
    others: int = 0
    outputs: int = 0

    def skipped(self) -> str:
        parts = [_count(self.bases, "base", "bases"),
                 _count(self.outputs, "output directory", "output directories"),
                 _count(self.others, "YAML file without apiVersion: llmd-compile/*",
                        "YAML files without apiVersion: llmd-compile/*")]
        shown = [p for p in parts if p]
        return f" (skipped {', '.join(shown)})" if shown else ""

    def __str__(self) -> str:
        return f"{self.root}: {_count(self.specs, 'spec', 'specs') or 'no spec'} found{self.skipped()}"


def _count(n: int, one: str, many: str) -> str:
    return "" if not n else f"{n} {one if n == 1 else many}"


def expand(paths: tuple[str, ...], out: Path | None = None, surveys: list[Survey] | None = None) -> list[Path]:
    """Spec files: named ones as given; from a directory, every YAML file that says `apiVersion: llmd-compile/*`
    except bases (kind: StackBase), outside our output directories (`out`, or any directory holding a stack's
    manifest or the cache) and `overlays/`. A directory without a spec is an error."""
    found: list[Path] = []
    out_real = os.path.realpath(out) if out is not None else None
    empty: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            found.append(path)
            continue
        survey = Survey(raw)

        def skip(where: str, entries: list[os.DirEntry[str]], survey: Survey = survey, top: str = os.fspath(path)
                 ) -> bool:
            if any(e.name in _OURS for e in entries) or (out_real is not None and os.path.realpath(where) == out_real):
                survey.outputs += 1
                return True
            return where != top and (os.path.basename(where) in _NOT_SPECS
                                     or any(e.name == "pyvenv.cfg" for e in entries))

        here = []
        for name in _yaml_files(os.fspath(path), skip):  # the kind and apiVersion: one bounded read per file
            api, kind = sniff(Path(name))
            if api != API_GROUP:
                survey.others += 1
            elif kind == BASE_KIND:
                survey.bases += 1
            else:
                here.append(Path(name))
        survey.specs = len(here)
        found.extend(sorted(here))
        if surveys is not None:
            surveys.append(survey)
        if not here:
            empty.append(Problem(raw, 0, 0, "", f"no llmd-compile spec found{survey.skipped()}; a spec starts with "
                                 "`apiVersion: llmd-compile/v1alpha1` (`llmd-compile init` writes one)"))
    if empty:
        raise SpecError(empty)
    return found


def _diagnose(stack: Stack, files: dict[str, str], loaded: Loaded, strict: bool,
              charts: Path | None = None) -> tuple[Diagnostic, ...]:
    from llmd_compile import check
    from llmd_compile.check.artifacts import Artifacts
    from llmd_compile.spec.load import locate_field, with_origin

    rendered = None
    if charts is not None and "helmfile.yaml" in files:  # `lint --charts`: the LLMD44x rules see the charts' output
        from llmd_compile import render

        objects, disagreements = render.release_objects(files, charts)
        rendered = (tuple(objects), tuple(disagreements))
    found = []
    for d in check.run(Artifacts(stack, files, rendered), strict=strict):
        line, col = locate_field(d.field, loaded.marks)
        (located,) = with_origin([Problem(d.path, line, col, d.field, "")], loaded.marks, loaded.origin)
        found.append(replace(d, path=located.path, line=line, col=col))
    return tuple(sorted(found))


def analyse(path: Path, source: str, strict: bool, charts: Path | None = None
            ) -> tuple[Loaded, Stack, dict[str, str], tuple[Diagnostic, ...]]:
    """Load, compile and check one spec (with ``charts``: also its rendered releases); every problem located in
    the file that caused it."""
    from llmd_compile.compile import build
    from llmd_compile.spec.load import load_marked

    loaded = load_marked(path, source)
    try:
        stack, files = build(loaded.spec, source)
        return loaded, stack, files, _diagnose(stack, files, loaded, strict, charts)
    except SpecError as exc:
        raise SpecError(_located(exc.problems, loaded)) from None


def _located(problems: list[Problem], loaded: Loaded) -> list[Problem]:
    from llmd_compile.spec.load import relocate, with_origin

    return with_origin(relocate(problems, loaded.marks), loaded.marks, loaded.origin)


def _compile_stack(path: Path, source: str, strict: bool) -> tuple[list[Problem], Compiled | None, Loaded | None]:
    """One stack spec: its problems, or what it compiles to (with its manifest). Pure: no writes."""
    try:
        loaded, _, files, diagnostics = analyse(path, source, strict)
    except SpecError as exc:
        return exc.problems, None, None
    errors = [d.as_problem() for d in diagnostics if d.severity == "error"]
    if errors:
        return errors, None, None
    spec = loaded.spec
    files = outdir.with_manifest(source, outdir.digest(loaded.raw), files)
    listed = getattr(files[MANIFEST], "data", {})["files"]
    from llmd_compile import crossstack  # here, in the worker: from the data the files were dumped from

    summary = crossstack.summary(crossstack.routed(spec.metadata.name, source, files))
    return [], Compiled(spec.metadata.name, source, files, tuple(spec.platforms.names()), diagnostics, path,
                        loaded.inputs, listed, summary), loaded


def _compile_plain(job: tuple[Path, str, bool]) -> tuple[list[Problem], Compiled | None]:
    """_compile_stack in a worker process: plain text back (the data behind it stays in the worker)."""
    problems, compiled, _ = _compile_stack(*job)
    if compiled is not None:
        compiled = replace(compiled, files={rel: str(text) for rel, text in compiled.files.items()})
    return problems, compiled


def jobs_for(requested: int, stale: int, checked: int = 0) -> int:
    """Worker processes to fork (0: compile here) for `stale` specs, while this process checks `checked` others
    against the cache: one per usable core for a fleet; one for a few stale specs among many (it loads the
    compiler while this process checks the rest); none for a handful. `--jobs N` asks for N (1: here)."""
    if requested:
        count = min(requested, stale)
        return count if count > 1 else 0
    if stale + checked < PARALLEL_FROM:
        return 0
    import multiprocessing

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return cores if stale >= PARALLEL_FROM else 1


def _warm_up() -> None:
    """In each worker, first thing: load the compiler (the parent never needs it when workers compile)."""
    import llmd_compile.check
    import llmd_compile.compile
    import llmd_compile.spec.load  # noqa: F401


@contextlib.contextmanager
def workers(requested: int, stale: int, checked: int = 0) -> Iterator[Pool | None]:
    """Worker processes (`jobs_for`), forked now so they load the compiler while this process checks which
    stacks are stale; None when the specs compile here."""
    count = jobs_for(requested, stale, checked)
    if not count:
        yield None
        return
    import multiprocessing

    pool = multiprocessing.get_context("fork").Pool(count, initializer=_warm_up)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def _compiled(jobs: list[tuple[Path, str, bool]], pool: Pool | None) -> Iterator[tuple[list[Problem], Compiled | None,
                                                                                     Loaded | None]]:
    """Every job's result, in job order, from the pool's workers (None: in this process)."""
    if pool is None:
        yield from (_compile_stack(*job) for job in jobs)
        return
    chunk = max(1, min(16, len(jobs) // 16))
    for problems, compiled in pool.imap(_compile_plain, jobs, chunksize=chunk):
        yield problems, compiled, None


def compile_all(paths: list[Path], out: Path, strict: bool = False,
                taken: dict[str, Path] | None = None, pool: Pool | None = None,
                summaries: dict[str, str] | None = None) -> list[Compiled]:
    """Every stack and fleet the paths compile to; a SpecError with every problem if any has one."""
    return list(compile_stream(paths, out, strict, taken, pool, summaries))


def compile_stream(paths: list[Path], out: Path, strict: bool = False,
                   taken: dict[str, Path] | None = None, pool: Pool | None = None,
                   summaries: dict[str, str] | None = None) -> Iterator[Compiled]:
    """compile_all, yielding each stack as soon as it is compiled (so the caller can stage it meanwhile). The
    SpecError comes after the last stack: a caller must treat what it was given as void until the end.
    `taken`: the stacks answered from the cache (name: spec); `summaries`: what the cache recorded of them for
    the checks of stacks against each other (crossstack.summary; a stack without one is read from out/)."""

    problems: list[Problem] = []
    # Who has each name; a stack that was not compiled (fresh, from the cache) is shown only if it collides.
    owners: dict[str, str | Path] = dict(taken or {})

    def owner(name: str) -> str:
        had = owners[name]
        return display(had, out) if isinstance(had, Path) else had

    fleets: list[tuple[str, Fleet, Path]] = []
    placed: list[tuple[str, Loaded]] = []
    stacks: list[tuple[Path, str, bool]] = []
    for path in paths:
        source = display(path, out)
        if kind_of(path) != "Fleet":
            stacks.append((path, source, strict))
            continue
        from llmd_compile.spec.fleet import load_fleet

        try:
            fleets.append((source, load_fleet(path, source), path))
        except SpecError as exc:
            problems.extend(exc.problems)
    compiled_here: list[Compiled] = []  # for the checks of stacks against each other (check/multimodel.py)
    # A fleet cross-checks its stacks' placement from their loaded specs: those compile in this process.
    for found, compiled, loaded in _compiled(stacks, None if fleets else pool):
        problems.extend(found)
        if compiled is None:
            continue
        name = compiled.name
        if name in owners:
            problems.append(Problem(compiled.source, 0, 0, "metadata.name",
                                    f"{name!r} is also the name of {owner(name)}"))
            continue
        owners[name] = compiled.source
        compiled_here.append(compiled)
        yield compiled
        if loaded is not None and loaded.spec.gitops.argocd and loaded.spec.gitops.argocd.destination:
            placed.append((compiled.source, loaded))
    problems.extend(_between_stacks(compiled_here, taken or {}, out, summaries or {}))
    for source, fleet, fleet_path in fleets:
        from llmd_compile.compile import with_header
        from llmd_compile.emit.fleet import emit as fleet_emit

        problems.extend(_fleet_mismatches(fleet, placed))
        name = fleet.metadata.name
        if name in owners:
            problems.append(Problem(source, 0, 0, "metadata.name", f"{name!r} is also the name of {owner(name)}"))
            continue
        owners[name] = source
        files = {rel: with_header(rel, text, source) for rel, text in fleet_emit(fleet).items()}
        fleet_raw = fleet_path.read_bytes()
        yield Compiled(name, source, outdir.with_manifest(source, outdir.digest(fleet_raw), files), (), (),
                       fleet_path, (fleet_path,))
    if problems:
        raise SpecError(problems)


def _fleet_mismatches(fleet: Fleet, placed: list[tuple[str, Loaded]]) -> list[Problem]:
    """Every placed stack compiled with this fleet names one of its clusters, with the same server and platform."""
    from llmd_compile.spec.load import locate_field, with_origin

    clusters = {c.name: c for c in fleet.clusters}
    problems = []
    for source, loaded in placed:
        argo = loaded.spec.gitops.argocd
        assert argo is not None and argo.destination is not None
        dest = argo.destination
        cluster = clusters.get(dest.name)
        platform = dest.platform or loaded.spec.platforms.names()[0]
        if cluster is None:
            why = f"cluster {dest.name!r} is not in fleet {fleet.metadata.name!r} ({', '.join(clusters)})"
        elif (cluster.server, cluster.platform) != (dest.server, platform):
            why = (f"fleet {fleet.metadata.name!r} has {dest.name} at {cluster.server} ({cluster.platform}), "
                   f"this stack says {dest.server} ({platform})")
        else:
            continue
        line, col = locate_field("gitops.argocd.destination.name", loaded.marks)
        problems.extend(with_origin([Problem(source, line, col, "gitops.argocd.destination", why)],
                                    loaded.marks, loaded.origin))
    return problems


def _between_stacks(compiled: list[Compiled], taken: dict[str, Path], out: Path,
                    summaries: Mapping[str, str]) -> list[Problem]:
    """Stacks against each other (several models behind one Gateway): the stacks compiled now, and those answered
    from the cache as their cache records (`summaries`) or, lacking one, their out/ directories hold them.
    Problems are located in the stack compiled now."""
    from llmd_compile import crossstack

    if not any(crossstack.VALUES in c.files for c in compiled):
        return []  # nothing router-shaped changed: nothing new to check
    routed = []  # the cached ones first: each pair is reported on its later stack, one compiled now
    fresh = {c.name for c in compiled}
    shown = displayer(out)
    for name, spec_path in sorted(taken.items()):
        if name in fresh:
            continue
        r = crossstack.answered(name, shown(spec_path), summaries.get(name, ""), out / name)
        if r is not None:
            routed.append(r)
    routed += [r for c in compiled if (r := crossstack.compiled(c.name, c.source, c.crossstack, c.files))]
    problems = crossstack.conflicts(routed)
    if not problems:
        return []
    from llmd_compile.spec.load import load_marked

    located = []
    for problem in problems:
        owner = next((c for c in compiled if c.source == problem.path and c.spec_path is not None), None)
        if owner is not None and owner.spec_path is not None:
            problem = _located([problem], load_marked(owner.spec_path, owner.source))[0]
        located.append(problem)
    return located

