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
from pathlib import Path
from typing import TYPE_CHECKING

import click

from llmd_compile import __version__, cache, outdir
from llmd_compile.errors import Diagnostic, Problem, SpecError
from llmd_compile.pipeline import (
    Compiled,
    Survey,
    analyse,
    compile_all,
    compile_stream,
    display,
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


def _expand(specs: tuple[str, ...], out: Path) -> list[Path]:
    """The spec files the arguments name; a line per directory saying how many specs it holds."""
    surveys: list[Survey] = []
    try:
        paths = expand(specs, out, surveys)
    except SpecError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    for survey in surveys:
        click.echo(str(survey))
    return paths


def _fail(exc: SpecError) -> None:
    for problem in exc.problems:
        click.echo(str(problem), err=True)
    count = len(exc.problems)
    # A spec with a problem outside the checks (schema, versions) stops before them: say that more may follow.
    stopped = any(not _DIAGNOSTIC.match(p.message) for p in exc.problems)
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
            if not first.startswith("-") and not os.path.lexists(first):
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
        _warn([], replayed, order)
        for name in known.values():
            click.echo(f"{name}: up to date")
        return
    for name in known.values():
        click.echo(f"{name}: up to date")
    taken = {name: p for p, name in known.items()}
    if check or show_diff:
        try:
            compiled = compile_all(stale, out, strict, taken, pool)
        except SpecError as exc:
            _fail(exc)
            return
        _warn(compiled, replayed, order)
        with outdir.reading(out):
            _check(out, compiled, show_diff, memo, tool)
        return
    items: Iterable[Compiled]
    if out.is_dir() and not out.is_symlink():
        # Stage each stack while the rest still compile (write_many swaps nothing before the stream ends).
        items = compile_stream(stale, out, strict, taken, pool)
    else:
        try:  # no out/ yet: create nothing before every stack has compiled
            items = compile_all(stale, out, strict, taken, pool)
        except SpecError as exc:
            _fail(exc)
            return
    by_name: dict[str, Compiled] = {}
    created: list[str] = []

    def staged() -> Iterator[tuple[str, dict[str, str]]]:
        for item in items:
            by_name[item.name] = item
            yield item.name, item.files
        # Everything compiled, nothing swapped in yet: what a good run says before its stacks land.
        _warn(list(by_name.values()), replayed, order)
        for stub in _scaffold_components(out, list(by_name.values())):
            created.append(stub)
            click.echo(f"created user component {stub} (yours from now on)")

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
        _fail(exc)
    except OSError as exc:
        click.echo(f"error: cannot write {exc.filename or out}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    if (created or any(written.values())) and fail_on_change:
        click.echo("out/ changed: review and stage it, then commit again", err=True)
        sys.exit(1)


def _warn(compiled: list[Compiled], replayed: dict[Path, tuple[Diagnostic, ...]], order: dict[Path, int]) -> None:
    """Every stack's warnings in path order, whether it was compiled now or answered from the cache."""
    found = dict(replayed)
    found.update((item.spec_path, item.diagnostics) for item in compiled if item.spec_path is not None)
    for path in sorted(found, key=lambda p: order.get(p, len(order))):
        for d in found[path]:
            if d.severity == "warning":
                click.echo(str(d), err=True)


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
                     written, item.source, item.diagnostics)


def _check(out: Path, compiled: list[Compiled], show_diff: bool, memo: cache.Memo, tool: str) -> None:
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
@click.option("--charts", "charts_dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="Also render the charts from DIR (<chart>/<version>/) and check what they create (LLMD44x).")
def lint_command(specs: tuple[str, ...], strict: bool, charts_dir: str | None) -> None:
    """Run every check on SPEC files and print all diagnostics (info included); write nothing."""

    problems: list[Problem] = []
    count = {"error": 0, "warning": 0, "info": 0}
    for path in _expand(specs, Path("out")):
        source = display(path, Path("out"))
        try:
            diagnostics = analyse(path, source, strict, None if charts_dir is None else Path(charts_dir))[3]
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
    source = display(path, Path("out"))
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


@main.command("init")
@click.argument("path", default="specs/stack.yaml", type=click.Path(dir_okay=False))
@click.option("--accelerator", "vendor", default="nvidia", show_default=True, metavar="VENDOR",
              help="nvidia, amd, google, intel, intel-gaudi, cpu or simulated.")
@click.option("--gateway", "provider", default="istio", show_default=True, metavar="PROVIDER",
              help="istio, kgateway, agentgateway, gke, or none (picker only).")
@click.option("--name", default="my-stack", show_default=True, help="metadata.name: the stack's name.")
@click.option("--release", "preset", default=None, help="Release preset (default: the newest).")
def init_command(path: str, vendor: str, provider: str, name: str, preset: str | None) -> None:
    """Write a commented starter spec for the newest release preset to PATH (never over an existing file)."""
    from llmd_compile import starter
    from llmd_compile.catalog.releases import newest

    known = starter.presets()
    preset = preset or newest(known)
    vendors, providers = starter.choices()
    wrong = [(flag, value, allowed) for flag, value, allowed in (
        ("--release", preset, known), ("--accelerator", vendor, starter.vendors(preset) if preset in known else []),
        ("--gateway", provider, providers)) if value not in allowed]
    for flag, value, allowed in wrong:
        why = f" (release {preset} ships no model-server image for it)" if flag == "--accelerator" and \
            value in vendors else ""
        click.echo(f"error: {flag}: {value!r} is not one of {', '.join(allowed)}{why}", err=True)
    if wrong:
        sys.exit(2)
    target = Path(path)
    schema = Path("schema") / "stack.schema.json"
    text = starter.render(starter.Starter(preset, vendor, provider, name, name,
                                          Path(os.path.relpath(schema.resolve(), target.resolve().parent)).as_posix()))
    if target.exists() or target.is_symlink():
        click.echo(f"error: {path} exists; llmd-compile init never overwrites a file (name another PATH)", err=True)
        sys.exit(2)
    target.parent.mkdir(parents=True, exist_ok=True)
    _create_once(target, text)
    click.echo(f"wrote {path} (release {preset}, {vendor}, gateway {provider}); next: llmd-compile {path}")
    if not schema.exists():
        from llmd_compile.spec.models import Spec

        schema.parent.mkdir(parents=True, exist_ok=True)
        _create_once(schema, json.dumps(Spec.model_json_schema(), indent=2, sort_keys=True) + "\n")
        click.echo(f"wrote {schema.as_posix()} (the JSON Schema its yaml-language-server modeline names)")


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
