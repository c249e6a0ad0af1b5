"""The KRM function, run by the real kpt, produces what the compiled kustomize overlay builds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile import krm

REPO = Path(__file__).resolve().parents[2]
SEED = (REPO / "specs" / "h100.yaml").read_text(encoding="utf-8")
BOOKKEEPING = ("config.kubernetes.io/", "internal.config.kubernetes.io/")


def _load_all(text: str) -> list[Any]:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]


def _clean(doc: dict[str, Any]) -> dict[str, Any]:
    annotations = doc["metadata"].get("annotations", {})
    kept = {k: v for k, v in annotations.items() if not k.startswith(BOOKKEEPING)}
    if kept:
        doc["metadata"]["annotations"] = kept
    else:
        doc["metadata"].pop("annotations", None)
    return doc


def _key(doc: dict[str, Any]) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def _function_config(tmp: Path, platform: str, spec: str = SEED) -> Path:
    text = spec.replace("metadata:\n  name: inference-scheduling",
                        f"metadata:\n  name: inference-scheduling\n  annotations:\n"
                        f"    llmd-compile.io/platform: {platform}", 1)
    path = tmp / f"fn-config-{platform}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _exec_script(tmp: Path) -> Path:
    script = tmp / "llmd-compile-krm"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -m llmd_compile krm\n", encoding="utf-8")
    script.chmod(0o755)
    return script


needs_kpt = pytest.mark.skipif(shutil.which("kpt") is None and os.environ.get("CI") != "true",
                               reason="kpt is not installed (CI requires it)")


@needs_kpt
@pytest.mark.parametrize("platform", ["openshift", "kubernetes"])
def test_kpt_fn_eval_matches_the_overlay(tmp_path: Path, platform: str) -> None:
    package = tmp_path / "package"
    package.mkdir()
    result = subprocess.run(
        ["kpt", "fn", "eval", str(package), "--exec", str(_exec_script(tmp_path)),
         "--fn-config", str(_function_config(tmp_path, platform))],
        capture_output=True, text=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    from_kpt = {_key(d): _clean(d) for f in sorted(package.rglob("*.yaml")) for d in _load_all(f.read_text())}
    build = subprocess.run(["kubectl", "kustomize", str(REPO / "out" / "inference-scheduling" / "overlays" / platform)],
                           capture_output=True, text=True, check=True)
    from_kustomize = {_key(d): _clean(d) for d in _load_all(build.stdout)}
    assert from_kpt == from_kustomize


@needs_kpt
def test_kpt_reports_spec_errors(tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    bad = _function_config(tmp_path, "openshift", SEED.replace("replicas: 4", "replicas: -1"))
    result = subprocess.run(["kpt", "fn", "eval", str(package), "--exec", str(_exec_script(tmp_path)),
                             "--fn-config", str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "decode.replicas" in result.stdout + result.stderr
    assert list(package.iterdir()) == []


def _resource_list(spec_text: str, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items or [],
            "functionConfig": YAML(typ="safe", pure=True).load(spec_text)}


def test_results_carry_severity_and_field() -> None:
    out, ok = krm.run(_resource_list(SEED.replace("replicas: 4", "replicas: -1")))
    assert not ok
    assert out["results"] == [{"message": "Input should be greater than or equal to 0, not -1", "severity": "error",
                               "field": {"path": "decode.replicas"}}]


def test_diagnostic_errors_become_results() -> None:
    out, ok = krm.run(_resource_list(SEED.replace("replicas: 4", "replicas: 8")))
    assert not ok
    (result,) = [r for r in out["results"] if r["severity"] == "error"]
    assert result["field"] == {"path": "decode.replicas"} and result["message"].startswith("error LLMD301: ")


def test_foreign_items_pass_through_and_ours_replace_stale_copies() -> None:
    foreign = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep-me", "namespace": "x"}}
    stale = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "llama-model-storage", "namespace": "llm-d-inference-scheduling"}}
    out, ok = krm.run(_resource_list(SEED, [foreign, stale]))
    assert ok
    assert out["items"][0] == foreign
    claims = [i for i in out["items"] if i["kind"] == "PersistentVolumeClaim"]
    assert len(claims) == 1 and claims[0]["spec"]["resources"]["requests"]["storage"] == "50Gi"


def test_unknown_platform_is_an_error() -> None:
    spec = SEED.replace("metadata:\n  name: inference-scheduling",
                        "metadata:\n  name: inference-scheduling\n  annotations:\n    llmd-compile.io/platform: eks", 1)
    out, ok = krm.run(_resource_list(spec))
    assert not ok and out["results"][0]["field"] == {"path": "platforms"}
