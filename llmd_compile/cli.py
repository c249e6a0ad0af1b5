"""Command line: parse args, load -> compile -> write/check/diff, print one summary line per stack.

Exit codes: 0 written / up to date, 1 out of date (--check, --diff), 2 invalid input.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from llmd_compile import __version__, cache, outdir
from llmd_compile.errors import Diagnostic, Problem, SpecError
from llmd_compile.headers import MANIFEST
from llmd_compile.pipeline import (
    Compiled,
    Survey,
    compile_all,
    compile_stream,
    displayer,
    expand,
    workers,
)
from llmd_compile.spec.layers import kind_of
from llmd_compile.yamlio import dump

if TYPE_CHECKING:
    from multiprocessing.pool import Pool


# Heavy modules (pydantic models, emitters, checks) are imported inside the functions that need them, so a run
# whose stacks are all unchanged (pre-commit, --check) answers from the cache without loading them.

def _scaffold_components(out: Path, compiled: list[Compiled]) -> list[str]:
    created = []
    for platform in sorted({p for c in compiled for p in c.platforms}):
        root = out.resolve().parent
        target = root / "overlays" / platform / "kustomization.yaml"
        for path in (root / "overlays", target.parent, target):
            if path.is_symlink():
                raise SpecError.one(str(path), "", "is a symlink; llmd-compile never writes through links")
        if not target.exists():
            from llmd_compile.emit.kustomize import user_component_kustomization  # the compiler: only for a stub

            target.parent.mkdir(parents=True, exist_ok=True)
            text = ("# Your kustomize component for the " + platform + " overlays of every stack.\n"
                    "# llmd-compile created this stub once and never touches it again.\n"
                    + dump(user_component_kustomization(platform)))
            _create_once(target, text)
            created.append(str(target))
    return created


def _expand(specs: tuple[str, ...], out: Path, say: bool = True) -> list[Path]:
    """The spec files the arguments name; a line per directory saying how many specs it holds (unless not `say`)."""
    surveys: list[Survey] = []
    try:
        paths = expand(specs, out, surveys)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    for survey in surveys if say else []:
        click.echo(str(survey))
    return paths


# out/.gitignore, written once (then the user's): what llmd-compile keeps in out/ that is never committed.
_GITIGNORE = f"""# Written once by llmd-compile, never touched again: its local files in this directory are not for git.
{cache.CACHE}
{cache.CACHE}.*.tmp
{outdir.LOCK}
.*.new/
.*.old/
"""


def _here(out: Path | None) -> Callable[[str], str]:
    """Paths in messages, relative to the working directory (headers and the cache name a spec relative to the
    directory holding out/, which is the working directory in the usual case)."""
    root = out.resolve().parent if out is not None else None
    cwd = Path.cwd().resolve()
    if root is None or root == cwd:
        return lambda path: path

    def here(path: str) -> str:
        full = root / path
        return os.path.relpath(full, cwd) if not os.path.isabs(path) and full.exists() else path

    return here


def _fail(exc: SpecError, out: Path | None = None) -> None:
    here = _here(out)
    for problem in exc.problems:
        click.echo(str(replace(problem, path=here(problem.path))), err=True)
    count = len(exc.problems)
    # A spec with a problem outside the checks (schema, versions) stops before them: say that more may follow.
    stopped = any(p.line and not _DIAGNOSTIC.match(p.message) for p in exc.problems)
    more = "; the checks over the compiled stack (LLMD codes) run once these are fixed" if stopped else ""
    click.echo(f"error: {count} problem{'s' if count != 1 else ''}; nothing was written{more}", err=True)
    sys.exit(2)


_DIAGNOSTIC = re.compile(r"(error|warning|info) LLMD[0-9]{3}: ")


class _DefaultToCompile(click.Group):
    """`llmd-compile SPEC...` means `llmd-compile compile SPEC...`; a word that is neither a command nor a file but
    close to a command is a typo, not a spec path."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            first = args[0]
            if not first.startswith("-") and not os.path.lexists(first) and not set("./") & set(first):
                import difflib

                close = difflib.get_close_matches(first, list(self.commands), n=1, cutoff=0.6)
                if close:
                    click.echo(f"error: {first!r}: no such command or file; did you mean {close[0]}? "
                               "(llmd-compile --help lists the commands)", err=True)
                    ctx.exit(2)
            args = ["compile", *args]
        return super().parse_args(ctx, args)


_EPILOG = """\b
Common flags (of the default command, compile):
  --out DIR      where stacks are written (default: out)
  --check        write nothing; list stale, missing and extra files; exit 1 if any
  --diff         write nothing; print a unified diff; exit 1 if any
  --strict       treat warnings as errors
  -j, --jobs N   worker processes (output is the same for any number)

\b
Examples:
  llmd-compile init                      a starter spec (specs/stack.yaml) for the newest release
  llmd-compile specs/                    compile every spec under specs/ into out/<name>/
  llmd-compile --check specs/            in CI: is out/ up to date?
  llmd-compile lint --format github specs/   every diagnostic, as GitHub annotations
  llmd-compile explain specs/h100.yaml decode.image
  llmd-compile versions                  release presets, charts, images

\b
Exit codes: 0 written or up to date, 1 out of date (--check, --diff), 2 invalid input.
More: llmd-compile COMMAND --help; README.md.
"""


@click.group(cls=_DefaultToCompile, context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EPILOG)
@click.version_option(__version__, prog_name="llmd-compile")
def main() -> None:
    """Compile llm-d stack specs into committed GitOps artifacts under out/.

    `llmd-compile SPEC|DIR...` is short for `llmd-compile compile SPEC|DIR...`.
    """


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
@click.option("--render", "render_too", is_flag=True,
              help="Also write OUT/<stack>/rendered/<platform>/: every object, rendered (needs llmd-compile[render]).")
@click.option("--charts", "charts_dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="With --render: local charts, laid out <chart>/<version>/ (no network); without it the charts are "
                   "fetched into a cache and pinned by digest in charts.lock.yaml beside the specs.")
def compile_command(specs: tuple[str, ...], out_dir: str, check: bool, show_diff: bool, strict: bool,
                    fail_on_change: bool, jobs: int, render_too: bool, charts_dir: str | None) -> None:
    """Compile SPEC files (or directories of specs) into OUT/<stack>/."""
    out = Path(out_dir)
    paths = _expand(specs, out)
    with contextlib.ExitStack() as stack:
        _compile(paths, out, check, show_diff, strict, fail_on_change,
                 lambda stale, checked: stack.enter_context(workers(jobs, stale, checked)))
    if render_too:
        from llmd_compile import render  # the Helm SDK is needed only here

        try:
            charts = render.source(paths, None if charts_dir is None else Path(charts_dir))
            if check or show_diff:
                stale = render.stale(out, paths, charts)
                for rel in stale:
                    click.echo(f"stale rendered file: {rel}")
                sys.exit(1 if stale else 0)
            for line in render.run(out, paths, charts):
                click.echo(line)
        except SpecError as exc:
            _fail(exc)


def _compile(paths: list[Path], out: Path, check: bool, show_diff: bool, strict: bool, fail_on_change: bool,
             start_workers: Callable[[int, int], Pool | None]) -> None:
    """Answer fresh stacks from the cache; compile, check and write the rest (workers forked at the first one,
    given how many specs may need compiling and how many are left to check meanwhile)."""
    tool = cache.tool_digest()
    memo = cache.load(out)
    known: dict[Path, str] = {}
    pool: Pool | None = None
    started = False
    # Two passes, so that a changed spec (the pre-commit case) is found after one lstat per input, and a fleet's
    # workers load the compiler while this process checks the ~30 outputs of every other stack.
    shown = displayer(out)
    entries = {path: None if show_diff else cache.unchanged(memo, tool, path, shown(path), strict) for path in paths}
    changed = sum(entry is None for entry in entries.values())
    if changed:
        pool, started = start_workers(changed, len(paths) - changed), True
    for i, (path, entry) in enumerate(entries.items()):
        name = None if entry is None else cache.intact(entry, out)
        if name is not None:
            known[path] = name
        elif not started:  # an output was edited or removed: so may be those of every stack not checked yet
            pool, started = start_workers(len(paths) - i, 0), True
    if len(known) < len(paths) and known and any(kind_of(p) == "Fleet" for p in paths):
        known = {}  # a fleet cross-checks all its stacks: compile them together
    # What the cache answers is said as a compile would say it: its warnings, then its stacks in path order.
    replayed = {path: entry.diagnostics for path, entry in entries.items() if path in known and entry is not None}
    order = {path: i for i, path in enumerate(paths)}
    stale = [p for p in paths if p not in known]
    if not stale:
        _warn([], replayed, order, out)
        for name in known.values():
            click.echo(f"{name}: up to date")
        _summary(len(known), 0, check)
        return
    for name in known.values():
        click.echo(f"{name}: up to date")
    taken = {name: p for p, name in known.items()}
    summaries = {name: entry.crossstack for p, name in known.items() if (entry := entries[p]) is not None}
    if check or show_diff:
        try:
            compiled = compile_all(stale, out, strict, taken, pool, summaries)
        except SpecError as exc:
            _fail(exc, out)
            return
        claims = [claim for claim in (_claimed(out, item) for item in compiled) if claim is not None]
        if claims:
            _fail(SpecError(claims), out)
        _warn(compiled, replayed, order, out)
        with outdir.reading(out):
            _check(out, compiled, show_diff, memo, tool, len(known))
        return
    items: Iterable[Compiled]
    if out.is_dir() and not out.is_symlink():
        # Stage each stack while the rest still compile (write_many swaps nothing before the stream ends).
        items = compile_stream(stale, out, strict, taken, pool, summaries)
    else:
        try:  # no out/ yet: create nothing before every stack has compiled
            items = compile_all(stale, out, strict, taken, pool, summaries)
        except SpecError as exc:
            _fail(exc, out)
            return
    by_name: dict[str, Compiled] = {}
    created: list[str] = []

    def staged() -> Iterator[tuple[str, dict[str, str]]]:
        claims: list[Problem] = []
        try:
            for item in items:
                by_name[item.name] = item
                claim = _claimed(out, item)
                if claim is not None:
                    claims.append(claim)
                    continue
                yield item.name, item.files
        except SpecError as exc:
            raise SpecError(exc.problems + claims) from None
        if claims:
            raise SpecError(claims)
        # Everything compiled, nothing swapped in yet: what a good run says before its stacks land.
        _warn(list(by_name.values()), replayed, order, out)
        for stub in _scaffold_components(out, list(by_name.values())):
            created.append(stub)
            click.echo(f"created user component {os.path.relpath(stub)} (yours from now on)")
        ignore = out / ".gitignore"
        if not ignore.exists() and not ignore.is_symlink() and out.is_dir():
            _create_once(ignore, _GITIGNORE)
            created.append(str(ignore))
            click.echo(f"created {ignore.as_posix()}: keeps the local cache and lock out of git (yours from now on)")

    def landed(name: str, changed: list[str], written: outdir.Stamps) -> None:
        item = by_name[name]
        unchanged = len(item.files) - len([c for c in changed if c in item.files])
        state = f"{len(changed)} changed, {unchanged} unchanged" if changed else "up to date"
        click.echo(f"{name}: {state}")
        _remember(memo, tool, out, item, written)

    try:
        with outdir.locked(out):
            written = outdir.write_many(out, staged(), landed)
            cache.save(out, memo)
    except SpecError as exc:
        _fail(exc, out)
    except OSError as exc:
        click.echo(f"error: cannot write {exc.filename or out}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    _summary(len(written) + len(known), sum(1 for files in written.values() if files), False)
    if (created or any(written.values())) and fail_on_change:
        click.echo("out/ changed: review and stage it, then commit again", err=True)
        sys.exit(1)


def _claimed(out: Path, item: Compiled) -> Problem | None:
    """A stack directory another spec wrote, while that spec still exists: two specs with one metadata.name
    compiled in separate runs must not overwrite each other's stack in turn."""
    try:
        with open(out / item.name / MANIFEST, encoding="utf-8") as handle:
            head = handle.read(4096)  # the manifest names its spec on its first lines
    except OSError:
        return None
    found = re.search(r"^spec: (.+)$", head, re.MULTILINE)
    recorded = found.group(1).strip().strip("'\"") if found else None
    if recorded is None or recorded == item.source or not (out.resolve().parent / recorded).is_file():
        return None  # ours, or its spec moved or was deleted: the stack moves with the name
    return Problem(item.source, 0, 0, "metadata.name",
                   f"{item.name!r}: {out.as_posix()}/{item.name}/ was compiled from {recorded}, which still exists "
                   f"and may have the same name; rename one of them (or delete {out.as_posix()}/{item.name}/ to "
                   "move the stack to this spec)")


def _warn(compiled: list[Compiled], replayed: dict[Path, tuple[Diagnostic, ...]], order: dict[Path, int],
          out: Path | None = None) -> None:
    """Every stack's warnings in path order, whether it was compiled now or answered from the cache."""
    from llmd_compile import report
    from llmd_compile.commands import _colour

    here = _here(out)
    colour = _colour(sys.stderr)
    found = dict(replayed)
    found.update((item.spec_path, item.diagnostics) for item in compiled if item.spec_path is not None)
    said: set[Diagnostic] = set()  # a base's finding, once for all the stacks that extend it
    for path in sorted(found, key=lambda p: order.get(p, len(order))):
        for d in found[path]:
            if d.severity == "warning" and d not in said:
                said.add(d)
                click.echo(report.text(replace(d, path=here(d.path)), colour), err=True)


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


def _remember(memo: cache.Memo, tool: str, out: Path, item: Compiled, written: outdir.Stamps | None = None) -> None:
    if item.spec_path is not None and item.inputs:
        cache.record(memo, tool, item.spec_path, list(item.inputs), out, item.name, item.files, item.digests,
                     written, item.source, item.diagnostics, item.crossstack)


def _summary(total: int, moved: int, check: bool) -> None:
    """One line after a run over several stacks (the per-stack lines above it may be hundreds)."""
    if total > 1:
        click.echo(f"{total} stacks: {moved} {'out of date' if check else 'changed'}, {total - moved} up to date")


def _check(out: Path, compiled: list[Compiled], show_diff: bool, memo: cache.Memo, tool: str,
           known: int = 0) -> None:
    dirty = False
    stale = 0
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
        stale += bool(drift)
        if not drift:
            click.echo(f"{item.name}: up to date")
            _remember(memo, tool, out, item)
    if not show_diff and out.is_dir():
        cache.save(out, memo)
    if not show_diff:
        _summary(len(compiled) + known, stale, True)
    if dirty and not show_diff:
        click.echo("out of date: run llmd-compile on these specs and commit the result", err=True)
    sys.exit(1 if dirty else 0)


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
    from llmd_compile.catalog import router

    for p in router.ROUTER_RELEASES.values():
        cp = p.control_plane
        vllm = ", ".join(f"{vendor} {image}" for vendor, image in p.vllm_images.items())
        click.echo(f"  {p.name} (llm-d {p.llm_d}, router shape): router chart {p.router_chart} "
                   f"(oci://{router.ROUTER_OCI}/{{{router.GATEWAY_CHART},{router.STANDALONE_CHART}}}), "
                   f"picker {p.picker_image}, disagg sidecar {p.sidecar_image}, GAIE CRDs {p.gaie_crds} "
                   f"(v1-manifests), Gateway API {p.gateway_api_crds}, router CRDs {p.router_crds}, "
                   f"Istio {cp.istio}, agentgateway {cp.agentgateway}, LWS {cp.lws}, wide-EP {p.widep_image}, "
                   f"vLLM: {vllm}")
    from llmd_compile.catalog.releases import PRESETS

    click.echo("model-server images (decode.image / prefill.image) per release preset and accelerator.vendor:")
    for preset in PRESETS.values():
        images = preset.vllm_images.items()
        click.echo(f"  {preset.name}: " + ", ".join(f"{vendor} {image}" for vendor, image in images))
    click.echo("llm-d-infra: " + ", ".join(charts.INFRA))
    click.echo("inferencepool: " + ", ".join(charts.POOL))
    click.echo("llm-d-modelservice: " + ", ".join(charts.MODELSERVICE))
    click.echo("llm-d-router-{gateway,standalone}: " + ", ".join(router.ROUTER_CHARTS))
    click.echo("endpoint picker registries: " + ", ".join(PICKERS))



def _adopt_commands() -> None:
    from llmd_compile.adopt.commands import import_command, upgrade_command

    main.add_command(import_command)
    main.add_command(upgrade_command)


_adopt_commands()


def _first_hour_commands() -> None:
    from llmd_compile.commands import explain_command, init_command, lint_command

    for command in (lint_command, explain_command, init_command):
        main.add_command(command)


_first_hour_commands()
