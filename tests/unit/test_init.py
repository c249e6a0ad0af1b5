"""`llmd-compile init`: a starter spec for the newest release preset that compiles as written, for every accelerator
vendor and gateway provider it offers; never over an existing file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile import starter
from llmd_compile.catalog import images
from llmd_compile.catalog.releases import PRESETS, newest, version_key
from llmd_compile.cli import main

PRESET = newest(starter.presets())
VENDORS, PROVIDERS = starter.choices()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_every_preset_the_spec_accepts_is_in_the_catalog() -> None:
    """A new preset (another release, another install shape) must reach init, versions and LLMD312."""
    assert set(starter.presets()) <= set(PRESETS)


@pytest.mark.parametrize(("names", "expected"), [
    (["seed", "v0.3.0", "v0.4.0", "v0.6"], "v0.6"),
    (["seed", "v0.3.0", "v0.4.0", "v0.6", "v0.8", "v0.9"], "v0.9"),  # the router-shape presets, when they land
    (["v0.10", "v0.9", "v0.10.1"], "v0.10.1"),  # by number, not by text
    (["seed", "v1.0"], "v1.0"),
])
def test_the_newest_preset_is_computed(names: list[str], expected: str) -> None:
    assert newest(names) == expected
    assert version_key("seed") is None


def test_init_starts_from_the_newest_preset_the_spec_accepts() -> None:
    numbered = [p for p in starter.presets() if version_key(p) is not None]
    assert PRESET in numbered and all(version_key(p) <= version_key(PRESET) for p in numbered)  # type: ignore[operator]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("vendor", starter.vendors(PRESET))
def test_init_compiles_and_checks_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vendor: str,
                                        provider: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init", "--accelerator", vendor, "--gateway", provider)
    assert code == 0, err
    text = (tmp_path / "specs" / "stack.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schema/stack.schema.json\n")
    assert (tmp_path / "schema" / "stack.schema.json").is_file()
    assert f"release: {PRESET} " in text and f"  image: {PRESETS[PRESET].vllm_images[vendor]}\n" in text
    assert "DECIDE" in text
    code, _, err = run("specs/stack.yaml")
    assert code == 0, err
    assert run("--check", "specs/")[0] == 0
    # The only warning a starter may draw: kgateway is deprecated in llm-d (the provider still works); and LLMD501
    # while the newest preset still emits an image that can no longer be pulled (Helm-era presets: catalog/images.py).
    warnings = [line.split(": ")[2] for line in err.splitlines()]
    gone = any(images.gone(image) for image in (getattr(PRESETS[PRESET], "scheduler_image", ""),
                                                getattr(PRESETS[PRESET], "picker_image", "")) if image)
    assert ("warning LLMD501" in warnings) == gone
    assert [w for w in warnings if w != "warning LLMD501"] == (["warning LLMD403"] if provider == "kgateway" else [])


def test_init_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("mine\n", encoding="utf-8")
    code, _, err = run("init", "mine.yaml")
    assert code == 2 and "exists; llmd-compile init never overwrites" in err
    assert (tmp_path / "mine.yaml").read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize(("args", "message"), [
    (("--accelerator", "nvdia"), "error: --accelerator: 'nvdia' is not one of nvidia, "),
    (("--gateway", "envoy"), "error: --gateway: 'envoy' is not one of istio, kgateway, agentgateway, gke, none"),
    (("--release", "v9"), "error: --release: 'v9' is not one of seed, "),
])
def test_init_refuses_unknown_choices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
                                      message: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init", *args)
    assert code == 2 and err.startswith(message), err
    assert not (tmp_path / "specs").exists()
