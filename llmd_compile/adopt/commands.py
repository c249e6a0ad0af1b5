"""The `import` and `upgrade` subcommands (registered by cli.py). The adopt package loads only when they run."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from llmd_compile.errors import SpecError


def _fail(exc: SpecError) -> None:
    for problem in exc.problems:
        click.echo(str(problem), err=True)
    count = len(exc.problems)
    click.echo(f"error: {count} problem{'s' if count != 1 else ''}; nothing was written", err=True)
    sys.exit(2)


def write_atomically(path: Path, text: str) -> None:
    """Replace (or create) a file in one rename: an interrupted write leaves the old file or none."""
    if path.is_symlink():
        raise SpecError.one(str(path), "", "is a symlink; llmd-compile never writes through links")
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("import")
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The spec to write.")
@click.option("--env", default="istio", show_default=True,
              help="The guide's gateway environment (helmfile -e; common-configurations/<env>.yaml).")
@click.option("--name", help="Release postfix (the X of infra-X, gaie-X, ms-X) when the source does not say it.")
@click.option("--namespace", help="Namespace when the source does not say it.")
@click.option("--release", help="Release preset the source ran, when its images do not say it.")
@click.option("--accelerator", help="accelerator.model (e.g. H100): the values never say it.")
@click.option("--overlay", help="A router-era guide's model-server overlay (default modelserver/gpu/vllm/base).")
@click.option("--force", is_flag=True, help="Overwrite SPEC if it exists.")
def import_command(sources: tuple[str, ...], output: str, env: str, name: str | None, namespace: str | None,
                   release: str | None, accelerator: str | None, overlay: str | None, force: bool) -> None:
    """Read an llm-d deployment (a Helm-era guide directory, a helmfile, or the values files `helm get values`
    prints, one by one; a router-era guide directory, or router values files plus one model-server overlay
    directory or manifests file) and write a spec that compiles back to it. What the spec cannot say as intent is kept
    (picker config, vLLM flags) and every such decision is printed on stderr with its source file:line."""
    from llmd_compile.adopt.importer import Options, import_source

    out = Path(output)
    try:
        missing = [s for s in sources if not Path(s).exists()]
        if missing:
            raise SpecError.one(missing[0], "", "no such file or directory")
        if out.exists() and not force:
            raise SpecError.one(output, "", "exists; pass --force to replace it (or upgrade it instead)")
        imported = import_source([Path(s) for s in sources], list(sources), out,
                                 Options(env, name, namespace, release, accelerator, overlay))
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(out, imported.text)
    except SpecError as exc:
        _fail(exc)
        return
    for note in imported.notes:
        click.echo(f"{note}", err=True)
    click.echo(f"{output}: written ({len(imported.notes)} decision{'s' if len(imported.notes) != 1 else ''} "
               "to review above); compile it with `llmd-compile " + output + "`")


@click.command("upgrade")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--to", "target", required=True, help="Release preset to move the spec to (`llmd-compile versions`).")
@click.option("--diff", "show_diff", is_flag=True, help="Print the change to the spec; write nothing (exit 1 if any).")
def upgrade_command(spec: str, target: str, show_diff: bool) -> None:
    """Rewrite SPEC in place for release TO: drop what the new preset supplies, translate what changed meaning,
    keep comments, key order and formatting; print every change and every decision left to you. Then
    `llmd-compile --diff SPEC` shows what changes in out/."""
    import difflib

    from llmd_compile.adopt.upgrade import upgrade_text, verify
    from llmd_compile.spec.yamlread import decode, read_bounded

    path = Path(spec)
    try:
        text = decode(read_bounded(path, spec), spec)
        upgraded = upgrade_text(path, spec, text, target)
        verify(path, spec, upgraded.text)
        if not show_diff:
            write_atomically(path, upgraded.text)
    except SpecError as exc:
        _fail(exc)
        return
    for line in upgraded.changes:
        click.echo(f"changed: {line}")
    for line in upgraded.decisions:
        click.echo(f"decide: {line}")
    if show_diff:
        click.echo("".join(difflib.unified_diff(text.splitlines(True), upgraded.text.splitlines(True),
                                                f"a/{spec.lstrip('/')}", f"b/{spec.lstrip('/')}")), nl=False)
        sys.exit(1 if upgraded.text != text else 0)
    click.echo(f"{spec}: upgraded to {target} ({len(upgraded.changes)} changes, {len(upgraded.decisions)} decisions "
               "for you); `llmd-compile --diff " + spec + "` shows what changes in out/")
