"""Picker-only stacks (gateway.provider none) against the upstream oracles, for every inferencepool chart version.

* `provider.name: none` is what each pinned inferencepool chart's own values.yaml defaults to (v0.5.1 acts on
  "gke" only; from v1.0.1 its comment lists the options gke, istio, none — CATALOG §d.1, §d.2), and our values use
  only that version's keys;
* every overlay builds with the real `kubectl kustomize` into objects that validate, none of them a Gateway API or
  OpenShift Route object; every Argo CD object validates and none installs llm-d-infra or a gateway control plane;
* the diagnostics find no error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile import check
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.compile import build
from llmd_compile.spec.load import load_text

from . import oracles as o
from . import test_examples as ex
from . import test_version_matrix as vm

SPEC = """\
apiVersion: llmd-compile/v1alpha1
kind: Stack
metadata:
  name: picker
  namespace: llm-d-picker
release: {release}
model:
  name: random
  cache:
    pvc:
      name: models
      size: 1Gi
accelerator:
  vendor: simulated
  model: Simulated
decode:
  replicas: 2
  image: {sim}
gateway:
  provider: none
scheduler:
  scorers:
    queue: 1
platforms:
  openshift:
    storageClassName: ocs-storagecluster-cephfs
  kubernetes:
    storageClassName: standard
gitops:
  argocd:
    repoURL: https://github.com/example/llm-d-gitops.git
"""
# (release preset, inferencepool pin, picker image pin): every inferencepool chart in ../shared/upstream/data.
CASES = [
    ("seed", None, None),
    ("v0.3.0", None, None),
    ("v0.4.0", "v1.2.0", None),
    ("v0.6", "v1.3.0", None),
    ("v0.6", None, None),
    ("v0.6", "v1.5.0", "ghcr.io/llm-d/llm-d-inference-scheduler:v0.8.0"),
]
IDS = [f"{r}-{pool or 'preset'}" for r, pool, _ in CASES]
GATEWAY_KINDS = {("gateway.networking.k8s.io", "Gateway"), ("gateway.networking.k8s.io", "HTTPRoute"),
                 ("route.openshift.io", "Route")}


def compile_case(release: str, pool: str | None, picker: str | None) -> tuple[Any, dict[str, str]]:
    sim = "ghcr.io/llm-d/llm-d-inference-sim:v0.3.0" if release == "seed" else \
        "ghcr.io/llm-d/llm-d-inference-sim:v0.8.2"
    text = SPEC.format(release=release, sim=sim)
    if pool:
        text = text.replace("model:\n", f"charts:\n  inferencepool: {pool}\nmodel:\n", 1)
    if picker:
        text = text.replace("scheduler:\n", f"scheduler:\n  image: {picker}\n", 1)
    return build(load_text(text, "specs/picker.yaml"), "specs/picker.yaml")


def write(files: dict[str, str], root: Path) -> Path:
    """The stack as the CLI lays it out: out/picker/ next to the repository's user components."""
    stack_dir = root / "out" / "picker"
    for rel, text in files.items():
        (stack_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (stack_dir / rel).write_text(str(text), encoding="utf-8")
    for platform in ("openshift", "kubernetes"):
        component = root / "overlays" / platform / "kustomization.yaml"
        component.parent.mkdir(parents=True, exist_ok=True)
        component.write_text((ex.REPO / "overlays" / platform / "kustomization.yaml").read_text(encoding="utf-8"))
    return stack_dir


def key(doc: dict[str, Any]) -> tuple[str, str]:
    return str(doc["apiVersion"]).split("/")[0], str(doc["kind"])


@pytest.mark.parametrize(("release", "pool", "picker"), CASES, ids=IDS)
def test_pool_values_are_the_charts(release: str, pool: str | None, picker: str | None) -> None:
    stack, files = compile_case(release, pool, picker)
    values = YAML(typ="safe").load(str(files["values/inferencepool.yaml"]))
    defaults = vm.chart_defaults(ex.POOL, stack.pool.version)
    assert values["provider"] == {"name": "none"} == {"name": defaults["provider"]["name"]}
    text = o.chart_values_path(ex.POOL, stack.pool.version).read_text(encoding="utf-8")
    if stack.pool.version != "v0.5.1":
        assert '# Options: ["gke", "istio", "none"]\nprovider:\n  name: none' in text
    assert ex._pool_keys(values, defaults) == []
    assert "values/infra.yaml" not in files and "prereqs/helmfile.yaml" not in files


@pytest.mark.parametrize(("release", "pool", "picker"), CASES, ids=IDS)
def test_overlays_and_argocd_validate(release: str, pool: str | None, picker: str | None, tmp_path: Path) -> None:
    stack, files = compile_case(release, pool, picker)
    stack_dir = write(files, tmp_path)
    for platform in stack.spec.platforms.names():
        docs = o.kustomize_build(stack_dir / "overlays" / platform)
        assert sorted(key(d) for d in docs) == [("batch", "Job"), ("v1", "PersistentVolumeClaim")], platform
        assert {f"{d['kind']}/{d['metadata']['name']}": o.validate_any(d) for d in docs} == {
            f"{d['kind']}/{d['metadata']['name']}": [] for d in docs}
        assert {d["metadata"]["namespace"] for d in docs} == {stack.names.namespace}
    apps = [d for p in sorted((stack_dir / "argocd").rglob("*.yaml")) for d in ex.read_all(p)]
    assert [o.validate_any(d) for d in apps] == [[] for _ in apps]
    sources = [s for d in apps if d["kind"] == "Application" for s in d["spec"]["sources"]]
    assert sorted(s["chart"] for s in sources if "chart" in s) == ["inferencepool", "inferencepool",
                                                                   "llm-d-modelservice", "llm-d-modelservice"]
    assert not any("gateway-api.git" in s["repoURL"] for s in sources)


@pytest.mark.parametrize(("release", "pool", "picker"), CASES, ids=IDS)
def test_diagnostics_find_no_error(release: str, pool: str | None, picker: str | None) -> None:
    stack, files = compile_case(release, pool, picker)
    assert [str(d) for d in check.run(Artifacts(stack, files)) if d.severity == "error"] == []
