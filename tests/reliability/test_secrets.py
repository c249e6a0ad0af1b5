"""Secrets: the spec takes references only, nothing token-like reaches out/, and the docs say how to create one.

test_properties.py scans every generated stack with the same scanner; test_hostile.py holds the inline-token
inputs (refused, or strict-xfail where a field still lets one through).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import harness, hostile

TREES = (harness.REPO / "out", harness.REPO / "tests" / "golden" / "out")


def _files(tree: Path) -> dict[str, str]:
    return {p.relative_to(tree).as_posix(): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(tree.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.relative_to(harness.REPO).as_posix())
def test_committed_output_holds_no_secret(tree: Path) -> None:
    files = _files(tree)
    assert len(files) > 10
    assert harness.secret_findings(files) == []


PLANTED = {
    "hugging face": f"HF_TOKEN: {hostile.HF}",
    "github": f"token: {hostile.GH}",
    "github fine-grained": "x: github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstu",
    "openai-style": "key: sk-proj-abcdefghijklmnopqrstuvwxyz",
    "aws": "AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE",
    "slack": "hook: xoxb-123456789012-abcdefghij",
    "gitlab": "t: glpat-abcdefghijklmnopqrstu",
    "jwt": "auth: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
    "pem": "-----BEGIN OPENSSH PRIVATE KEY-----",
    "url credentials": "repoURL: https://bot:s3cr3t@github.com/example/gitops.git",
}


@pytest.mark.parametrize("text", PLANTED.values(), ids=PLANTED.keys())
def test_scanner_finds_planted_tokens(text: str) -> None:
    assert harness.secret_findings({"x.yaml": f"a: 1\n# {text}\n"}) != []


def test_scanner_finds_literal_secret_env_and_credential_secrets() -> None:
    env = "env:\n  - name: HF_TOKEN\n    value: plain-text-token\n"
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: repo\nstringData:\n  url: x\n  password: hunter2\n"
    assert harness.secret_findings({"a.yaml": env}) and harness.secret_findings({"b.yaml": secret})


def test_scanner_ignores_digests_and_references() -> None:
    text = ("image: quay.io/x@sha256:" + "ab" * 32 + "\n"
            "env:\n  - name: HF_TOKEN\n    valueFrom: {secretKeyRef: {name: llm-d-hf-token, key: HF_TOKEN}}\n")
    assert harness.secret_findings({"a.yaml": text}) == []


def test_the_token_travels_as_a_reference_only() -> None:
    """The seed names Secret llm-d-hf-token/HF_TOKEN: it appears as references (secretKeyRef, authSecretName) and in
    the README's `kubectl create secret` line, never as a value."""
    _, files, _ = harness.compile_text(harness.SEED_TEXT, "specs/h100.yaml")
    refs = 0
    for rel, text in files.items():
        for doc in harness.yaml12(text) if rel.endswith(".yaml") else []:
            refs += _count_refs(doc)
    assert refs >= 2
    readme = files["README.md"]
    assert 'kubectl create secret generic llm-d-hf-token --from-literal=HF_TOKEN="$HF_TOKEN"' in readme
    assert "never commit it" in readme


def _count_refs(node: object) -> int:
    if isinstance(node, dict):
        here = int(node.get("name") == "llm-d-hf-token" and node.get("key") == "HF_TOKEN")
        here += int(node.get("authSecretName") == "llm-d-hf-token")
        return here + sum(_count_refs(v) for v in node.values())
    if isinstance(node, list):
        return sum(_count_refs(v) for v in node)
    return 0


def test_docs_say_how_to_create_the_secret() -> None:
    doc = (harness.REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert "kubectl create secret generic" in doc and "model.tokenSecret" in doc
    readme = (harness.REPO / "README.md").read_text(encoding="utf-8")
    assert "model.tokenSecret" in readme and "never the token" in readme
