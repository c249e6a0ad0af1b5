"""Property tests: valid specs drawn across the whole spec space compile, conform, and are stable.

Strategy branches: one per release preset in catalog.charts.RELEASES (with occasional chart overrides) and one
for three explicit chart pins. Within a branch the generator draws chart versions, picker registry (image or
scheduler.version), gateway provider, accelerator vendor/model, model (catalogued or described by facts),
scorers, weights, picker, prefix-cache tuning, the EndpointPickerConfig escape hatch, platforms, monitoring,
benchmark, GitOps, and YAML-1.1-trap strings in every free-text field that reaches the output.

A preset whose plainest spec does not compile or validate yet is marked xfail with the reason (another change
is bringing every preset up); so is a preset branch in which hypothesis finds a failing spec.

Example counts are modest (whole suite < 2 min on 2 cores); the oracle validations and `kubectl kustomize` run
on a smaller sample than the in-memory properties.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from llmd_compile.compile import build
from llmd_compile.spec.load import load_text
from llmd_compile.yamlio import dump

from . import conformance, harness, scc, specgen
from .conformance import o

BRANCHES = [pytest.param(b, id=b) for b in specgen.BRANCHES]
# No shrinking: one failing example costs a few hundred ms, and shrinking one can take minutes; the falsifying
# spec is printed whole (re-run it with specgen.to_text) and the suite stays within its time budget.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
# LLMD_RELIABILITY_EXAMPLES scales both (docs/reliability.md quotes a larger run); the oracles get a fifth.
EXAMPLES = int(os.environ.get("LLMD_RELIABILITY_EXAMPLES", "15"))
CHEAP = settings(max_examples=EXAMPLES, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
COSTLY = settings(max_examples=max(1, EXAMPLES // 5), deadline=None, phases=PHASES,
                  suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def preset_problem(branch: str) -> str | None:
    """Why a preset's plainest spec (specs/h100.yaml's intent, `release:` only) fails, or None."""
    if branch == specgen.PINNED:
        return None
    data = harness.yaml12(harness.SEED_TEXT)[0]
    data.pop("charts", None)
    data["scheduler"].pop("image", None)
    data["release"] = branch
    try:
        stack, files, diagnostics = harness.compile_text(dump(data), f"specs/{branch}.yaml")
    except Exception as exc:  # any failure of the preset is the reason, whatever its type
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    problems = harness.errors_of(diagnostics) or conformance.errors(stack, files)
    return problems[0] if problems else None


def in_branch(branch: str, run: Callable[[], None]) -> None:
    """Run a branch's property; a failure in a release-preset branch is an xfail that names the preset."""
    reason = preset_problem(branch)
    if reason:
        pytest.xfail(f"release preset {branch!r} does not compile/validate yet: {reason}")
    try:
        run()
    except Exception as exc:
        if branch == specgen.PINNED:
            raise
        pytest.xfail(f"release preset {branch!r}: a drawn spec fails: {str(exc).splitlines()[0]}")


def _free_strings(data: dict[str, Any]) -> list[str]:
    """Spec strings a user types freely that reach the values files (env values, args, served name)."""
    decode = data["decode"]
    return [*decode.get("env", {}).values(), *decode.get("args", []), data["model"].get("servedName", "x")]


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [leaf for v in node.values() for leaf in _leaves(v)]
    if isinstance(node, list):
        return [leaf for v in node for leaf in _leaves(v)]
    return [node]


def check_in_memory(data: dict[str, Any]) -> None:
    text = specgen.to_text(data)
    _, files, diagnostics = harness.compile_text(text)
    assert harness.errors_of(diagnostics) == []
    _, again = build(load_text(text, "specs/generated.yaml"), "specs/generated.yaml")
    assert list(again.items()) == list(files.items()), "recompile differs"
    strings_11: list[Any] = []
    parsed: dict[str, list[Any]] = {}
    for rel, body in files.items():
        if not rel.endswith(".yaml"):
            continue
        docs12, docs11 = harness.yaml12(body), harness.yaml11(body)
        parsed[rel] = docs12
        assert docs11 == docs12, f"{rel} reads differently under YAML 1.1 (Helm) and YAML 1.2 (Kubernetes)"
        if rel.startswith("values/"):
            strings_11 += [leaf for leaf in _leaves(docs11) if isinstance(leaf, str)]
        for doc in docs12:
            for name, pod in scc.pod_templates(doc) if isinstance(doc, dict) else []:
                assert scc.admission_errors(pod) == [], f"{rel} {name}: restricted-v2 refuses it"
                assert scc.least_privilege_errors(pod) == [], f"{rel} {name}"
    missing = [s for s in _free_strings(data) if s not in strings_11 and s != "x"]
    assert missing == [], "free-text values that do not come back as the same string under YAML 1.1"
    assert harness.secret_findings(files, parsed) == []
    found = {finding.partition(": ")[2] for finding in harness.privileged_findings(files)}
    assert found <= harness.privileges_asked(data), "a privilege the spec did not ask for"
    if "rdma/" in found:  # what a path needs beyond restricted-v2 is named in the stack README
        assert data["kvTransfer"]["rdma"]["resource"] in files["README.md"]
    if "IPC_LOCK" in found:
        assert "IPC_LOCK" in files["README.md"]


@pytest.mark.parametrize("branch", BRANCHES)
def test_valid_specs_compile_stable_and_least_privileged(branch: str) -> None:
    @CHEAP
    @given(specgen.specs(branch))
    def prop(data: dict[str, Any]) -> None:
        check_in_memory(data)

    in_branch(branch, prop)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (for kubectl kustomize) is not on PATH")
@pytest.mark.parametrize("branch", BRANCHES)
def test_artifacts_pass_the_upstream_oracles(branch: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    o.shared()  # skips without ../shared (fails under CI=true)

    @COSTLY
    @given(specgen.specs(branch))
    def prop(data: dict[str, Any]) -> None:
        stack, files, _ = harness.compile_text(specgen.to_text(data))
        assert [e for e in conformance.errors(stack, files) if not _known(e)] == []
        platforms = stack.spec.platforms.names()
        stack_dir = harness.repo_with(tmp_path_factory.mktemp("repo"), stack.spec.metadata.name, files, platforms)
        for platform in platforms:
            for doc in o.kustomize_build(stack_dir / "overlays" / platform):
                no_oracle = (doc.get("apiVersion"), doc.get("kind")) in conformance.NO_ORACLE
                if doc.get("kind") not in conformance.NOT_OBJECTS and not no_oracle:
                    assert o.validate_any(doc, conformance._crd_release(doc, stack)) == [], (platform, doc["kind"])
                for name, pod in scc.pod_templates(doc):
                    assert scc.least_privilege_errors(pod) == [], (platform, name)
                    if platform == "openshift":
                        assert scc.admission_errors(pod) == [], name

    in_branch(branch, prop)


TPU_SELECTOR = "nodeSelector: Additional properties are not allowed ('cloud.google.com/gke-tpu"


def tpu_probe_errors() -> list[str]:
    """Google TPU under release v0.4.0 (llm-d-modelservice v0.3.8) against the oracles."""
    data = harness.yaml12(harness.SEED_TEXT)[0]
    data.pop("charts")
    data["scheduler"].pop("image")
    data.update(release="v0.4.0", accelerator={"vendor": "google", "model": "TPU-v6e", "topology": "2x4"})
    data["decode"]["image"] = "ghcr.io/llm-d/llm-d-tpu:v0.3.1"
    stack, files, _ = harness.compile_text(dump(data), "specs/tpu.yaml")
    return conformance.errors(stack, files)


@functools.cache
def _tpu_selector_still_refused() -> bool:
    return any(TPU_SELECTOR in e for e in tpu_probe_errors())


def _known(error: str) -> bool:
    """An oracle error test_tpu_node_selector_fits_the_chart_schema pins as a known bug (while it still fails)."""
    return TPU_SELECTOR in error and _tpu_selector_still_refused()


def test_tpu_node_selector_fits_the_chart_schema() -> None:
    o.shared()
    assert tpu_probe_errors() == []


def _working_branches() -> st.SearchStrategy[str]:
    """Branches whose plainest spec works (a broken preset is reported by the tests above)."""
    return st.sampled_from([b for b in specgen.BRANCHES if preset_problem(b) is None])


@settings(max_examples=1, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
@given(fleet=st.lists(st.deferred(_working_branches).flatmap(specgen.specs), min_size=3, max_size=8,
                      unique_by=lambda d: d["metadata"]["name"]),
       hashseed=st.integers(1, 2**32 - 1))
def test_cli_output_is_byte_identical_across_hash_seeds_and_check_is_clean(
        fleet: list[dict[str, Any]], hashseed: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    trees = []
    for seed in ("0", str(hashseed)):
        root = tmp_path_factory.mktemp("hashseed")
        for data in fleet:
            harness.write_tree(root / "specs", {f"{data['metadata']['name']}.yaml": specgen.to_text(data)})
        proc = harness.run_cli("specs", cwd=root, env={"PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        trees.append(harness.snapshot(root))
        check = harness.run_cli("--check", "specs", cwd=root, env={"PYTHONHASHSEED": seed})
        assert check.returncode == 0, check.stdout
        assert sorted(check.stdout.splitlines()) == sorted(f"{d['metadata']['name']}: up to date" for d in fleet)
    assert trees[0] == trees[1]
    assert sum(1 for rel in trees[0] if rel.startswith("out/") and rel.endswith(".yaml")) > 10 * len(fleet)

