"""The commands a user meets first besides compile: `lint` (every diagnostic, in four formats), `explain` (a
field's value and where it came from, the release preset's included) and `init` (a starter spec).

Registered on cli.main by cli.py; they share its helpers (directory expansion, failure, create-once writes).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from llmd_compile.cli import _create_once, _expand, _fail
from llmd_compile.errors import Diagnostic, SpecError
from llmd_compile.pipeline import analyse, display
from llmd_compile.spec.layers import kind_of

if TYPE_CHECKING:
    from llmd_compile.spec.load import Loaded


@click.command("lint")
@click.argument("specs", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True, help="text: one line each (colour on a terminal, NO_COLOR respected); json: one "
              "object per diagnostic; sarif: SARIF 2.1.0 for code scanning; github: workflow annotations.")
@click.option("--quiet", "-q", is_flag=True, help="Errors and warnings only: no notes, no summary.")
@click.option("--charts", "charts_dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="Also render the charts from DIR (<chart>/<version>/) and check what they create (LLMD44x).")
def lint_command(specs: tuple[str, ...], strict: bool, fmt: str, quiet: bool, charts_dir: str | None) -> None:
    """Run every check on SPEC files and print all diagnostics (info included); write nothing.

    Exit 2 if any error (a spec that does not load counts as one), else 0."""
    from llmd_compile import report

    found: list[Diagnostic] = []
    paths = _expand(specs, Path("out"), say=fmt in ("text", "github") and not quiet)
    for path in paths:
        source = display(path, Path("out"))
        try:
            if kind_of(path) == "Fleet":  # a fleet has no checks of its own: it must load
                from llmd_compile.spec.fleet import load_fleet

                load_fleet(path, source)
            else:
                found.extend(analyse(path, source, strict, None if charts_dir is None else Path(charts_dir))[3])
        except SpecError as exc:
            found.extend(report.from_problem(p) for p in exc.problems)
    found = list(dict.fromkeys(found))  # a base's finding, once for all the stacks that extend it
    shown = [d for d in found if not (quiet and d.severity == "info")]
    if fmt == "json":
        click.echo(report.as_json(shown), nl=False)
    elif fmt == "sarif":
        from llmd_compile import check

        rules = {code: (r.title, r.hint, r.severity) for code, r in check.rules().items()}
        click.echo(report.as_sarif(shown, rules), nl=False)
    else:
        for d in shown:
            err = fmt == "text" and d.severity != "info"
            colour = fmt == "text" and _colour(sys.stderr if err else sys.stdout)
            click.echo(report.as_github(d) if fmt == "github" else report.text(d, colour), err=err)
        if not quiet:
            click.echo(report.summary(found, len(paths)))
    sys.exit(2 if any(d.severity == "error" for d in found) else 0)


def _colour(stream: object) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


@click.command("explain")
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
        said = explain(loaded, source, field)
    except KeyError:
        click.echo(f"error: {source} has no field {field!r}", err=True)
        sys.exit(2)
    if said.startswith(f"{field} = null\n") and loaded.spec.release is not None:
        value = _preset_value(loaded, source, field)
        if value is not None:
            said = (f"{field} = {json.dumps(value)}\n"
                    f"  from release preset {loaded.spec.release} (the spec leaves it out)")
    click.echo(said)


def _preset_value(loaded: Loaded, source: str, field: str) -> object:
    """What the release preset fills in for a field the spec leaves null (images, chart pins); None if nothing."""
    from llmd_compile.resolve import resolve
    from llmd_compile.spec.explain import value_at

    try:
        stack = resolve(loaded.spec, source)
    except SpecError:
        return None
    found = value_at(stack.spec.model_dump(mode="json"), field)
    if found is not None:
        return found
    if field == "decode.sidecar.image":
        return stack.sidecar_image
    if stack.release is None:  # another install shape: its own chart pins
        return getattr(getattr(stack, "router", None), "router_chart", None) if field == "charts.router" else None
    chart = {"charts.infra": stack.infra, "charts.inferencepool": stack.pool, "charts.modelservice": stack.ms}
    return getattr(chart.get(field), "version", None)


@click.command("init")
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
