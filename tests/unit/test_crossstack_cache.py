"""The checks of stacks against each other (crossstack.py) read what the local cache recorded of each unchanged
stack instead of its out/ files: the verdict must be the one those files give, warm or cold.

Run 5 in BENCHMARKS.md: re-reading every cached router stack's out/ on each run made the pre-commit case of a
1000-stack v0.9 fleet ~20 times slower.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile import cache, crossstack
from llmd_compile.cli import main
from llmd_compile.pipeline import Compiled, _compile_stack
from llmd_compile.spec.layers import BASE_KIND, kind_of

REPO = Path(__file__).resolve().parents[2]
CORPUS = ("specs", "tests/golden/cases", "tests/diagnostics/cases")
SPECS = sorted(p for d in CORPUS for p in (REPO / d).rglob("*.yaml") if kind_of(p) not in (BASE_KIND, None, "Fleet"))
PAIR = ("multi-model-qwen.yaml", "multi-model-llama.yaml")


def _compiled_router_specs() -> list[tuple[str, Compiled]]:
    found = []
    for path in SPECS:
        _, compiled, _ = _compile_stack(path, path.relative_to(REPO).as_posix(), False)
        if compiled is not None and crossstack.VALUES in compiled.files:
            found.append((path.relative_to(REPO).as_posix(), compiled))
    return found


def test_the_summary_is_what_the_files_say() -> None:
    """What a compile records (from the data it dumped) equals what parsing its files back gives (a fresh clone
    reads out/): over every router-shaped spec of the corpus."""
    router = _compiled_router_specs()
    assert len(router) >= 2, "the corpus has router-shaped stacks"
    for shown, compiled in router:
        plain = {rel: str.__str__(text) for rel, text in compiled.files.items()}
        assert all(type(text) is str for text in plain.values())
        from_files = crossstack.routed(compiled.name, shown, plain)
        assert from_files is not None
        assert compiled.crossstack == crossstack.summary(from_files), shown
        assert crossstack.from_summary(from_files.name, shown, compiled.crossstack) == from_files


UNREADABLE = ["", "{", "[1]", '["ns", [], [], ["gw"], [], false]', '["ns", [[1]], [], null, [], 0]']


@pytest.mark.parametrize("text", UNREADABLE)
def test_an_unreadable_summary_is_read_from_out(text: str, tmp_path: Path) -> None:
    folder = tmp_path / "none"
    assert crossstack.answered("none", "none.yaml", text, folder) is None  # nothing in out/ either: not routed


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


# An edit of the llama stack (the stack that changes) that conflicts with the cached qwen stack, and the field of the
# problem: both create the namespace's Gateway.
EDITS = [(("gateway:\n  provider: istio\n  create: false", "gateway:\n  provider: istio\n  create: true"),
          "gateway.create")]
STATES = ["warm", "summary-lost", "cold"]


@pytest.mark.parametrize("mode", [(), ("--check",)], ids=["compile", "check"])
@pytest.mark.parametrize(("edit", "field"), EDITS, ids=["two-gateway-owners"])
def test_a_changed_stack_meets_the_cached_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              edit: tuple[str, str], field: str, mode: tuple[str, ...]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    for name in PAIR:
        shutil.copy(REPO / "specs" / name, tmp_path / "specs" / name)
    assert _run("specs")[0] == 0  # both compiled and cached
    memo = (tmp_path / "out" / cache.CACHE).read_text(encoding="utf-8")
    lines = memo.splitlines()
    assert all(line.count("\t") == 5 and not line.endswith("\t") for line in lines[1:])  # a summary per spec
    llama = tmp_path / "specs" / PAIR[1]
    text = llama.read_text(encoding="utf-8")
    assert text.count(edit[0]) == 1
    llama.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    results = {}
    for state in STATES:
        if state == "cold":
            (tmp_path / "out" / cache.CACHE).unlink()
        else:
            kept = memo if state == "warm" else "\n".join([lines[0], *(line.rsplit("\t", 1)[0] + "\t" for line
                                                                      in lines[1:])]) + "\n"
            (tmp_path / "out" / cache.CACHE).write_text(kept, encoding="utf-8")
        results[state] = _run(*mode, "specs")
    for state, (code, output) in results.items():
        assert code == 2, (state, output)
        assert f"{field}:" in output and "creates the Gateway of namespace llm-d-multi-model too" in output, state
    # With the cache, the problem is located in the stack that changed (qwen is answered from the cache), whether
    # the cache's summary or out/ told what qwen is.
    assert results["warm"] == results["summary-lost"]
    assert "specs/multi-model-llama.yaml" in results["warm"][1]


def test_images_from_the_dumped_documents_are_the_parsed_ones() -> None:
    """LLMD501 walks the documents a file was dumped from (no re-parse): the same images, in the same order, as
    parsing the file's text back, over every compiled stack of the corpus."""
    from ruamel.yaml import YAML

    from llmd_compile.check.images import _walk

    checked = 0
    for path in SPECS:
        _, compiled, _ = _compile_stack(path, path.relative_to(REPO).as_posix(), False)
        if compiled is None:
            continue
        for rel, text in sorted(compiled.files.items()):
            if rel.endswith(".yaml") and getattr(text, "documents", None) is not None:
                dumped: dict[str, None] = {}
                parsed: dict[str, None] = {}
                _walk(list(text.documents), dumped)  # type: ignore[attr-defined]
                _walk(list(YAML(typ="safe").load_all(str.__str__(text))), parsed)
                assert list(dumped) == list(parsed), (path.name, rel)
                checked += bool(parsed)
    assert checked >= 50, "files with images were compared"
