"""The local compile cache: identical bytes with and without it, and every way it must notice a change."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile import cache
from llmd_compile.cli import main

REPO = Path(__file__).resolve().parents[2]
SEED = (REPO / "specs" / "h100.yaml").read_text(encoding="utf-8")
STACK = "inference-scheduling"
SEED_WARNING = "specs/h100.yaml:38:11: gateway.service.type: warning LLMD413: "  # the seed's own (README)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != cache.CACHE}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "h100.yaml").write_text(SEED, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run("specs/")[0] == 0
    return tmp_path


def test_identical_bytes_with_and_without_the_cache(repo: Path) -> None:
    with_cache = tree(repo / "out")
    (repo / "out" / cache.CACHE).unlink()
    (repo / "out" / STACK / "values" / "infra.yaml").unlink()
    assert run("specs/")[0] == 0
    assert tree(repo / "out") == with_cache


def test_unchanged_stack_is_answered_from_the_cache(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import llmd_compile.cli as cli

    def no_compile(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("compiled although nothing changed")

    monkeypatch.setattr(cli, "compile_all", no_compile)
    code, out, err = run("--check", "specs/")
    assert (code, out) == (0, f"specs/: 1 spec found\n{STACK}: up to date\n")
    # Replayed from the cache, as compiled: the seed's own LLMD413, and LLMD501 for its picker and routing-sidecar
    # images, which can no longer be pulled (catalog/images.py).
    assert SEED_WARNING in err and err.count("\n") == 3 and err.count(" LLMD501: ") == 2
    assert run("specs/")[0] == 0


@pytest.mark.parametrize("edit", ["output", "spec", "tool", "cache-garbage", "line-garbage", "record-garbage"])
def test_the_cache_notices(repo: Path, edit: str) -> None:
    infra = repo / "out" / STACK / "values" / "infra.yaml"
    if edit == "output":
        infra.write_text(infra.read_text() + "# hand edit\n")
    elif edit == "spec":
        spec = repo / "specs" / "h100.yaml"
        spec.write_text(spec.read_text().replace("replicas: 4", "replicas: 2"))
    elif edit == "tool":
        memo = cache.load(repo / "out")
        assert memo.lines  # the seed is recorded: only the other tool makes it stale
        memo.tool = "0" * 64
        cache.save(repo / "out", memo)
        infra.write_text(infra.read_text() + "# hand edit\n")
    elif edit == "cache-garbage":
        (repo / "out" / cache.CACHE).write_text("{not json")
        infra.write_text(infra.read_text() + "# hand edit\n")
    else:  # one spec's line, or its record of outputs, is not what a save writes
        memo = cache.load(repo / "out")
        (key, rest), = memo.lines.items()
        memo.lines[key] = "{" if edit == "line-garbage" else rest.rsplit("\t", 1)[0] + '\t{"README.md":[1]}'
        cache.save(repo / "out", memo)
        infra.write_text(infra.read_text() + "# hand edit\n")
    code, out, _ = run("--check", "specs/")
    assert code == 1
    assert f"out/{STACK}/values/" in out


def test_a_changed_base_recompiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "specs").mkdir()
    base = tmp_path / "specs" / "base.yaml"
    base.write_text("apiVersion: llmd-compile/v1alpha1\nkind: StackBase\ndecode:\n  replicas: 4\n")
    (tmp_path / "specs" / "stack.yaml").write_text(
        SEED.replace("kind: Stack\n", "kind: Stack\nextends: base.yaml\n", 1).replace("  replicas: 4\n", "", 1))
    monkeypatch.chdir(tmp_path)
    assert run("specs/")[0] == 0
    base.write_text(base.read_text().replace("replicas: 4", "replicas: 2"))
    code, out, _ = run("--check", "specs/")
    assert code == 1 and "values/modelservice.yaml: stale" in out


def test_a_new_spec_cannot_take_a_cached_stacks_name(repo: Path) -> None:
    (repo / "specs" / "copy.yaml").write_text(SEED)
    code, _, err = run("specs/")
    assert code == 2 and "is also the name of" in err


def test_a_changed_model_config_recompiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """model.config (a local config.json) is an input: editing it makes the stack stale, cache or not."""
    (tmp_path / "specs" / "configs").mkdir(parents=True)
    config = tmp_path / "specs" / "configs" / "model.json"
    shipped = REPO / "tests" / "diagnostics" / "cases" / "configs" / "apertus-8b.json"
    config.write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "specs" / "stack.yaml").write_text(SEED.replace(
        "  name: meta-llama/Llama-3.1-8B-Instruct\n",
        "  name: swiss-ai/Apertus-8B-Instruct-2509\n  config: configs/model.json\n", 1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run("specs/")[0] == 0
    data = json.loads(config.read_text(encoding="utf-8"))
    data["num_attention_heads"] = 64  # another model: the manifest's inputs digest moves
    config.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run("--check", "specs/")
    assert code == 1 and f"out/{STACK}/.llmd-compile.yaml: stale" in out


def test_a_touched_but_unchanged_spec_is_still_fresh(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new mtime alone (git checkout, touch) costs a hash, not a compile."""
    import llmd_compile.cli as cli

    spec = repo / "specs" / "h100.yaml"
    os.utime(spec, ns=(spec.stat().st_atime_ns, spec.stat().st_mtime_ns + 10**9))

    def no_compile(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("compiled although the spec's bytes did not change")

    monkeypatch.setattr(cli, "compile_all", no_compile)
    assert run("--check", "specs/")[:2] == (0, f"specs/: 1 spec found\n{STACK}: up to date\n")


def test_a_save_keeps_the_lines_it_did_not_compile(repo: Path) -> None:
    """Adding a stack rewrites no other spec's line, and the former single-document cache goes away."""
    (repo / "out" / ".llmd-compile-cache.json").write_text("{}")
    before = (repo / "out" / cache.CACHE).read_text().splitlines()
    (repo / "specs" / "other.yaml").write_text(SEED.replace("name: inference-scheduling", "name: other", 1))
    assert run("specs/")[0] == 0
    after = (repo / "out" / cache.CACHE).read_text().splitlines()
    assert after[: len(before)] == before and len(after) == len(before) + 1
    assert after[-1].startswith(json.dumps(str(repo / "specs" / "other.yaml")) + "\t")
    assert not (repo / "out" / ".llmd-compile-cache.json").exists()
    assert run("--check", "specs/")[:2] == (0, f"specs/: 2 specs found\n{STACK}: up to date\nother: up to date\n")
