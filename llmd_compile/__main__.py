"""The process entry: ``llmd-compile`` (the console script) and ``python -m llmd_compile``.

A one-stack run lives about 0.2 s, and most of it is start-up, so ``run`` skips three costs the
interpreter would otherwise pay for a process this short (BENCHMARKS.md, run 4, "The single stack"):

- the cyclic garbage collector walking every module, class and catalog entry while they are imported: its
  first generation runs every 100 000 allocations instead of 700, so memory stays bounded in a fleet;
- pydantic's search for third-party plugins, which imports ``importlib.metadata`` (and the email parser)
  when the first validator is built: the CLI validates specs with no plugin, and says so before the search;
- tearing down every module at exit: output is flushed, files are closed and workers joined when ``main``
  returns, so the process ends there.

Library use (``from llmd_compile.cli import main``, the tests' CliRunner) keeps the interpreter's defaults.
"""

from __future__ import annotations

import gc
import os
import sys
import types


def _without_pydantic_plugins() -> None:
    # pydantic.plugin._schema_validator imports get_plugins from this module when it builds a validator; an empty
    # tuple is what it returns under PYDANTIC_DISABLE_PLUGINS=1. tests/unit/test_entry.py fails if pydantic
    # finds plugins another way (importlib.metadata imported after all).
    if "pydantic.plugin._loader" not in sys.modules:
        loader = types.ModuleType("pydantic.plugin._loader", "No pydantic plugins in the llmd-compile CLI.")
        loader.get_plugins = tuple  # type: ignore[attr-defined]
        sys.modules[loader.__name__] = loader


def prepare() -> None:
    """Set up the interpreter for one short CLI run (see the module docstring)."""
    gc.set_threshold(100_000, 50, 100)
    _without_pydantic_plugins()


def run() -> None:
    prepare()
    from llmd_compile.cli import main

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): what was read is what the reader wanted
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    run()
