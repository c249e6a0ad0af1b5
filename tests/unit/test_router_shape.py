"""The release decides the install shape: Helm-era presets -> the three charts, v0.8/v0.9 -> the router family.

Tables of (spec edit, expected located error) for what the router shape refuses, the seam (families, names from
one place), and determinism of the router-shape examples across hash seeds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmd_compile import emit
from llmd_compile.catalog import router
from llmd_compile.compile import build
from llmd_compile.errors import SpecError
from llmd_compile.spec.load import load, load_text

REPO = Path(__file__).resolve().parents[2]
BASE = """\
apiVersion: llmd-compile/v1alpha1
kind: Stack
metadata: {name: ob, namespace: llm-d-ob}
release: v0.9
model: {name: Qwen/Qwen3-8B, tokenSecret: {name: llm-d-hf-token}}
accelerator: {vendor: nvidia, model: H100}
decode: {replicas: 2, image: "docker.io/vllm/vllm-openai:v0.26.0"}
gateway: {provider: istio}
scheduler: {scorers: {queue: 1}}
route: {name: ob}
platforms: {kubernetes: {}}
"""


def _problems(text: str) -> list[str]:
    try:
        build(load_text(text, "s.yaml"), "s.yaml")
    except SpecError as exc:
        return [f"{p.field}: {p.message}" for p in exc.problems]
    return []


@pytest.mark.parametrize(("old", "new", "wanted"), [
    ("release: v0.9\n", "release: v0.9\ncharts: {modelservice: v0.4.12}\n",
     "charts.modelservice: release v0.9 installs the llm-d router chart"),
    ("release: v0.9\n", "release: v0.9\ncharts: {router: v0.8.0}\n",
     "charts.router: v0.8.0 is not a supported router chart version"),
    ("release: v0.9\n", "release: v0.6\ncharts: {router: v0.10.0}\n",
     "charts.router: release v0.6 installs the Helm-era charts"),
    ("scheduler: {", "scheduler: {image: 'ghcr.io/llm-d/llm-d-inference-scheduler:v0.8.0', ",
     "scheduler.image: ghcr.io/llm-d/llm-d-inference-scheduler can no longer be pulled"),
    ("scheduler: {", "scheduler: {image: 'registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0', ",
     "scheduler.image: release v0.9 runs the llm-d router's endpoint picker"),
    ("decode: {", "decode: {sidecar: {image: 'ghcr.io/llm-d/llm-d-routing-sidecar:v0.7.1'}, ",
     "decode.sidecar.image: ghcr.io/llm-d/llm-d-routing-sidecar can no longer be pulled"),
    ("gateway: {provider: istio}\nscheduler: {scorers: {queue: 1}}\nroute: {name: ob}\n",
     "gateway: {provider: none}\nscheduler: {scorers: {queue: 1}}\nbenchmark: {guidellm: {users: 2}}\n",
     "benchmark.guidellm: the guidellm Job drives load through the gateway Service"),
    ("scheduler: {scorers: {queue: 1}}", "scheduler: {scorers: {precisePrefixCache: 1}, "
     "precisePrefixCache: {tokenizer: uds}}", "scheduler.precisePrefixCache.tokenizer: picker router-v0.10.0 has "
     "no UDS tokenizer"),
])
def test_router_shape_refuses(old: str, new: str, wanted: str) -> None:
    assert BASE.count(old) == 1
    found = _problems(BASE.replace(old, new))
    assert any(p.startswith(wanted) for p in found), found


def test_the_release_picks_the_family() -> None:
    stack, files = build(load_text(BASE, "s.yaml"), "s.yaml")
    assert stack.shape == "router" and emit.emitters(stack) is emit.FAMILIES["router"]
    assert {"values/router.yaml", "epp/endpoint-picker-config.yaml", "gateway/base/gateway.yaml", "helmfile.yaml",
            "prereqs/crds/kustomization.yaml", "README.md"} <= set(files)
    assert not [f for f in files if f in ("values/infra.yaml", "values/inferencepool.yaml",
                                          "values/modelservice.yaml")]
    seed = build(load(REPO / "specs" / "h100.yaml"), "specs/h100.yaml")[0]
    assert seed.shape == "helm" and emit.emitters(seed) is emit.EMITTERS


@pytest.mark.parametrize(("name", "epp"), [
    ("optimized-baseline", "optimized-baseline-epp"),
    # routerlib `.Release.Name | lower | trim | trunc 40` + "-epp": no trimSuffix, so a trailing dash stays
    ("a" * 39 + "-b", "a" * 39 + "--epp"),
])
def test_epp_name_follows_the_chart_helper(name: str, epp: str) -> None:
    assert router.epp_name(name) == epp


def test_router_presets_pin_no_dead_image() -> None:
    for preset in router.ROUTER_RELEASES.values():
        images = [preset.picker_image, preset.sidecar_image, *preset.vllm_images.values(), preset.widep_image or ""]
        assert not [i for i in images for dead in router.DEAD_IMAGE_REPOS if i.startswith(dead)]


ROUTER_SPECS = sorted(p.name for p in (REPO / "specs").glob("*.yaml")
                      if "\nrelease: v0.9" in p.read_text(encoding="utf-8"))


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_router_examples_are_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    assert len(ROUTER_SPECS) >= 5
    trees = []
    for seed in ("0", "4242"):
        out = tmp_path / f"out-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-m", "llmd_compile", "--out", str(out),
                               *(f"specs/{s}" for s in ROUTER_SPECS)], cwd=REPO, env=env, capture_output=True,
                              text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        trees.append({k: v for k, v in _tree(out).items() if not k.startswith(".llmd-compile-cache")})
    assert trees[0] == trees[1]
    committed = _tree(REPO / "out")
    for rel, data in trees[0].items():
        if rel.count("/") and not rel.endswith(".llmd-compile.lock"):
            assert committed.get(rel) == data, f"out/{rel} differs from a fresh compile"


@pytest.mark.parametrize(("release", "image", "shape", "marker"), [
    ("v0.6", "ghcr.io/llm-d/llm-d-cuda:v0.6.0", "helm", "values/modelservice.yaml"),
    ("v0.8", "vllm/vllm-openai:v0.23.0", "router", "values/router.yaml"),
    ("v0.9", "docker.io/vllm/vllm-openai:v0.26.0", "router", "values/router.yaml"),
])
def test_one_spec_compiles_per_release(release: str, image: str, shape: str, marker: str) -> None:
    """specs/optimized-baseline.yaml with only the release (and its vLLM image) changed: the release decides."""
    text = (REPO / "specs" / "optimized-baseline.yaml").read_text(encoding="utf-8")
    text = text.replace("release: v0.9", f"release: {release}").replace("docker.io/vllm/vllm-openai:v0.26.0", image)
    stack, files = build(load_text(text, "s.yaml"), "s.yaml")
    assert stack.shape == shape and marker in files
