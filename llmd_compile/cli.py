"""Command line: parse args, load -> compile -> write/check/diff, print one summary line per stack.

Exit codes: 0 written / up to date, 1 out of date (--check, --diff), 2 invalid input.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from llmd_compile import __version__, cache, outdir
from llmd_compile.errors import Problem, SpecError
from llmd_compile.headers import MANIFEST
from llmd_compile.spec.layers import BASE_KIND, kind_of
from llmd_compile.yamlio import dump

if TYPE_CHECKING:
    from llmd_compile.check import Diagnostic
    from llmd_compile.resolve import Stack
    from llmd_compile.spec.fleet import Fleet
    from llmd_compile.spec.load import Loaded

# Heavy modules (pydantic models, emitters, checks) are imported inside the functions that need them, so a run
# whose stacks are all unchanged (pre-commit, --check) answers from the cache without loading them.

SPEC_SUFFIXES = (".yaml", ".yml")
PARALLEL_FROM = 24  # specs to compile before forking workers pays for itself (measured: bench/run.py)


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


def _display(path: Path, out: Path) -> str:
    """The spec path as written into headers: relative to the repo root (out/'s parent)."""
    resolved = path.resolve()
    for base in (out.resolve().parent, Path.cwd()):
        try:
            return resolved.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def _expand(paths: tuple[str, ...]) -> list[Path]:
    """Spec files: named ones as given; from a directory, every YAML file except bases (kind: StackBase)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file()
                                and kind_of(p) != BASE_KIND))
        else:
            found.append(path)
    return found


def _diagnose(stack: Stack, files: dict[str, str], loaded: Loaded, strict: bool) -> tuple[Diagnostic, ...]:
    from llmd_compile import check
    from llmd_compile.check.artifacts import Artifacts
    from llmd_compile.spec.load import locate_field, with_origin

    found = []
    for d in check.run(Artifacts(stack, files), strict=strict):
        line, col = locate_field(d.field, loaded.marks)
        (located,) = with_origin([Problem(d.path, line, col, d.field, "")], loaded.marks, loaded.origin)
        found.append(replace(d, path=located.path, line=line, col=col))
    return tuple(sorted(found))


def _analyse(path: Path, source: str, strict: bool) -> tuple[Loaded, Stack, dict[str, str], tuple[Diagnostic, ...]]:
    """Load, compile and check one spec; every problem located in the file that caused it."""
    from llmd_compile.compile import build
    from llmd_compile.spec.load import load_marked

    loaded = load_marked(path, source)
    try:
        stack, files = build(loaded.spec, source)
        return loaded, stack, files, _diagnose(stack, files, loaded, strict)
    except SpecError as exc:
        raise SpecError(_located(exc.problems, loaded)) from None


def _located(problems: list[Problem], loaded: Loaded) -> list[Problem]:
    from llmd_compile.spec.load import relocate, with_origin

    return with_origin(relocate(problems, loaded.marks), loaded.marks, loaded.origin)


def _compile_stack(path: Path, source: str, strict: bool) -> tuple[list[Problem], Compiled | None, Loaded | None]:
    """One stack spec: its problems, or what it compiles to (with its manifest). Pure: no writes."""
    try:
        loaded, _, files, diagnostics = _analyse(path, source, strict)
    except SpecError as exc:
        return exc.problems, None, None
    errors = [d.as_problem() for d in diagnostics if d.severity == "error"]
    if errors:
        return errors, None, None
    spec = loaded.spec
    files = outdir.with_manifest(source, outdir.digest(loaded.raw), files)
    listed = getattr(files[MANIFEST], "data", {})["files"]
    return [], Compiled(spec.metadata.name, source, files, tuple(spec.platforms.names()), diagnostics, path,
                        loaded.inputs, listed), loaded


def _compile_plain(job: tuple[Path, str, bool]) -> tuple[list[Problem], Compiled | None]:
    """_compile_stack in a worker process: plain text back (the data behind it stays in the worker)."""
    problems, compiled, _ = _compile_stack(*job)
    if compiled is not None:
        compiled = replace(compiled, files={rel: str(text) for rel, text in compiled.files.items()})
    return problems, compiled


def _jobs(requested: int, stacks: int) -> int:
    """Worker processes for `stacks` specs: one per usable core for a fleet, none for a handful."""
    if requested:
        return max(1, min(requested, stacks))
    import multiprocessing

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 1 if stacks < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods() else cores


def _compiled(jobs: list[tuple[Path, str, bool]], workers: int) -> Iterator[tuple[list[Problem], Compiled | None,
                                                                               Loaded | None]]:
    """Every job's result, in job order, from `workers` forked processes (1: in this process)."""
    if workers <= 1:
        yield from (_compile_stack(*job) for job in jobs)
        return
    import multiprocessing

    import llmd_compile.check  # noqa: F401  (imported once here, not once per worker)

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        chunk = max(1, min(16, len(jobs) // (workers * 8)))
        for problems, compiled in pool.imap(_compile_plain, jobs, chunksize=chunk):
            yield problems, compiled, None


def _compile_all(paths: list[Path], out: Path, strict: bool = False,
                 taken: dict[str, str] | None = None, jobs: int = 0) -> list[Compiled]:
    from llmd_compile.compile import with_header
    from llmd_compile.emit.fleet import emit as fleet_emit
    from llmd_compile.spec.fleet import load_fleet

    problems: list[Problem] = []
    results: list[Compiled] = []
    owners: dict[str, str] = dict(taken or {})
    fleets: list[tuple[str, Fleet, Path]] = []
    placed: list[tuple[str, Loaded]] = []
    stacks: list[tuple[Path, str, bool]] = []
    for path in paths:
        source = _display(path, out)
        if kind_of(path) != "Fleet":
            stacks.append((path, source, strict))
            continue
        try:
            fleets.append((source, load_fleet(path, source), path))
        except SpecError as exc:
            problems.extend(exc.problems)
    # A fleet cross-checks its stacks' placement from their loaded specs: those compile in this process.
    workers = 1 if fleets else _jobs(jobs, len(stacks))
    for found, compiled, loaded in _compiled(stacks, workers):
        problems.extend(found)
        if compiled is None:
            continue
        name = compiled.name
        if name in owners:
            problems.append(Problem(compiled.source, 0, 0, "metadata.name",
                                    f"{name!r} is also the name of {owners[name]}"))
            continue
        owners[name] = compiled.source
        results.append(compiled)
        if loaded is not None and loaded.spec.gitops.argocd and loaded.spec.gitops.argocd.destination:
            placed.append((compiled.source, loaded))
    for source, fleet, fleet_path in fleets:
        problems.extend(_fleet_mismatches(fleet, placed))
        name = fleet.metadata.name
        if name in owners:
            problems.append(Problem(source, 0, 0, "metadata.name", f"{name!r} is also the name of {owners[name]}"))
            continue
        owners[name] = source
        files = {rel: with_header(rel, text, source) for rel, text in fleet_emit(fleet).items()}
        fleet_raw = fleet_path.read_bytes()
        results.append(Compiled(name, source, outdir.with_manifest(source, outdir.digest(fleet_raw), files), (), (),
                                fleet_path, (fleet_path,)))
    if problems:
        raise SpecError(problems)
    return results


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


def _scaffold_components(out: Path, compiled: list[Compiled]) -> list[str]:
    from llmd_compile.emit.kustomize import user_component_kustomization

    created = []
    for platform in sorted({p for c in compiled for p in c.platforms}):
        root = out.resolve().parent
        target = root / "overlays" / platform / "kustomization.yaml"
        for path in (root / "overlays", target.parent, target):
            if path.is_symlink():
                raise SpecError.one(str(path), "", "is a symlink; llmd-compile never writes through links")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            text = ("# Your kustomize component for the " + platform + " overlays of every stack.\n"
                    "# llmd-compile created this stub once and never touches it again.\n"
                    + dump(user_component_kustomization(platform)))
            _create_once(target, text)
            created.append(str(target))
    return created


def _fail(exc: SpecError) -> None:
    for problem in exc.problems:
        click.echo(str(problem), err=True)
    count = len(exc.problems)
    click.echo(f"error: {count} problem{'s' if count != 1 else ''}; nothing was written", err=True)
    sys.exit(2)


class _DefaultToCompile(click.Group):
    """`llmd-compile SPEC...` means `llmd-compile compile SPEC...`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["compile", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToCompile, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="llmd-compile")
def main() -> None:
    """Compile llm-d stack specs into committed GitOps artifacts under out/."""


@main.command("compile")
@click.argument("specs", nargs=-1, required=True)
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="Directory that holds one subdirectory per stack.")
@click.option("--check", is_flag=True, help="Write nothing; list stale, missing and extra files; exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff; exit 1 if any.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--fail-on-change", is_flag=True, help="Exit 1 when anything was written (for pre-commit hooks).")
@click.option("--jobs", "-j", default=0, type=click.IntRange(min=0), show_default="one per core for a fleet",
              help="Processes that compile specs (output is the same for any number).")
def compile_command(specs: tuple[str, ...], out_dir: str, check: bool, show_diff: bool, strict: bool,
                    fail_on_change: bool, jobs: int) -> None:
    """Compile SPEC files (or directories of specs) into OUT/<stack>/."""
    out = Path(out_dir)
    paths = _expand(specs)
    tool = cache.tool_digest()
    memo = cache.load(out)
    known: dict[Path, str] = {}
    if not show_diff:
        for path in paths:
            name = cache.fresh(memo, tool, path, out)
            if name is not None:
                known[path] = name
        if len(known) < len(paths) and any(kind_of(p) == "Fleet" for p in paths):
            known = {}  # a fleet cross-checks all its stacks: compile them together
    for name in sorted(known.values()):
        click.echo(f"{name}: up to date")
    stale = [p for p in paths if p not in known]
    if not stale:
        return
    try:
        compiled = _compile_all(stale, out, strict, {name: _display(p, out) for p, name in known.items()}, jobs)
    except SpecError as exc:
        _fail(exc)
        return
    for item in compiled:
        for d in item.diagnostics:
            if d.severity == "warning":
                click.echo(str(d), err=True)
    if check or show_diff:
        with outdir.reading(out):
            _check(out, compiled, show_diff, memo, tool)
        return
    wrote = False
    try:
        with outdir.locked(out):
            for created in _scaffold_components(out, compiled):
                wrote = True
                click.echo(f"created user component {created} (yours from now on)")
            by_name = {item.name: item for item in compiled}

            def landed(name: str, changed: list[str]) -> None:
                item = by_name[name]
                unchanged = len(item.files) - len([c for c in changed if c in item.files])
                state = f"{len(changed)} changed, {unchanged} unchanged" if changed else "up to date"
                click.echo(f"{name}: {state}")
                _remember(memo, tool, out, item)

            written = outdir.write_many(out, {item.name: item.files for item in compiled}, landed)
            wrote = wrote or any(written.values())
            cache.save(out, memo)
    except SpecError as exc:
        _fail(exc)
    except OSError as exc:
        click.echo(f"error: cannot write {exc.filename or out}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    if wrote and fail_on_change:
        click.echo("out/ changed: review and stage it, then commit again", err=True)
        sys.exit(1)


def _create_once(target: Path, text: str) -> None:
    """Write a file that must not exist yet, whole or not at all: beside it first, then linked into place
    (link(2) fails if the name was taken meanwhile, so a user's file is never replaced)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _remember(memo: dict[str, object], tool: str, out: Path, item: Compiled) -> None:
    if item.spec_path is not None and item.inputs:
        cache.record(memo, tool, item.spec_path, list(item.inputs), out, item.name, item.files, item.digests)


def _check(out: Path, compiled: list[Compiled], show_diff: bool, memo: dict[str, object], tool: str) -> None:
    dirty = False
    for item in compiled:
        stack_dir = out / item.name
        if show_diff:
            text = outdir.diff(stack_dir, item.files, f"{out.as_posix()}/{item.name}")
            if text:
                dirty = True
                click.echo(text, nl=False)
            continue
        drift = outdir.check(stack_dir, item.files)
        for kind, rels in (("stale", drift.stale), ("missing", drift.missing), ("extra", drift.extra)):
            for rel in rels:
                click.echo(f"{out.as_posix()}/{item.name}/{rel}: {kind} (from {item.source})")
        dirty = dirty or bool(drift)
        if not drift:
            click.echo(f"{item.name}: up to date")
            _remember(memo, tool, out, item)
    if not show_diff and out.is_dir():
        cache.save(out, memo)
    if dirty and not show_diff:
        click.echo("out of date: run llmd-compile on these specs and commit the result", err=True)
    sys.exit(1 if dirty else 0)


@main.command("lint")
@click.argument("specs", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def lint_command(specs: tuple[str, ...], strict: bool) -> None:
    """Run every check on SPEC files and print all diagnostics (info included); write nothing."""

    problems: list[Problem] = []
    count = {"error": 0, "warning": 0, "info": 0}
    for path in _expand(specs):
        source = _display(path, Path("out"))
        try:
            diagnostics = _analyse(path, source, strict)[3]
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        for d in diagnostics:
            count[d.severity] += 1
            click.echo(str(d), err=d.severity != "info")
    if problems:
        _fail(SpecError(problems))
    click.echo(f"{count['error']} errors, {count['warning']} warnings, {count['info']} notes")
    sys.exit(2 if count["error"] else 0)


@main.command("explain")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.argument("field")
def explain_command(spec: str, field: str) -> None:
    """Print FIELD's final value in SPEC and the file and line it came from (bases included)."""
    from llmd_compile.spec.explain import explain
    from llmd_compile.spec.load import load_marked

    path = Path(spec)
    source = _display(path, Path("out"))
    try:
        loaded = load_marked(path, source)
    except SpecError as exc:
        _fail(exc)
        return
    try:
        click.echo(explain(loaded, source, field))
    except KeyError:
        click.echo(f"error: {source} has no field {field!r}", err=True)
        sys.exit(2)


@main.command("krm")
def krm_command() -> None:
    """KRM function: ResourceList on stdin (functionConfig = a Stack spec) -> ResourceList on stdout."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from llmd_compile import krm

    try:
        resource_list = YAML(typ="safe", pure=False).load(sys.stdin.read())
    except YAMLError as exc:
        resource_list = None
        click.echo(f"error: stdin is not YAML: {str(exc).splitlines()[0]}", err=True)
    if not isinstance(resource_list, dict):
        resource_list = {"items": []}
    result, ok = krm.run(resource_list)
    click.echo(dump(result), nl=False)
    sys.exit(0 if ok else 1)


@main.command("diagnostics")
def diagnostics_command() -> None:
    """Print the diagnostics reference (docs/diagnostics.md)."""
    from llmd_compile.check.docs import render

    click.echo(render(), nl=False)


@main.command("schema")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def schema_command(output: str | None) -> None:
    """Print the JSON Schema of the stack spec (for editors: yaml-language-server)."""
    from llmd_compile.spec.models import Spec

    text = json.dumps(Spec.model_json_schema(), indent=2, sort_keys=True) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.command("versions")
def versions_command() -> None:
    """List release presets and supported chart and picker versions."""
    from llmd_compile.catalog import charts
    from llmd_compile.catalog.plugins import PICKERS

    click.echo("release presets:")
    for r in charts.RELEASES.values():
        click.echo(f"  {r.name}: infra {r.infra}, inferencepool {r.inferencepool}, modelservice {r.modelservice}, "
                   f"picker {r.scheduler_image}")
    click.echo("llm-d-infra: " + ", ".join(charts.INFRA))
    click.echo("inferencepool: " + ", ".join(charts.POOL))
    click.echo("llm-d-modelservice: " + ", ".join(charts.MODELSERVICE))
    click.echo("endpoint picker registries: " + ", ".join(PICKERS))

