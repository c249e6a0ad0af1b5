"""Shared by the reliability tests: compile like the CLI does, run the real CLI, snapshot trees, scan for secrets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml as pyyaml  # YAML 1.1, as Helm (sigs.k8s.io/yaml over go-yaml) reads values
from click.testing import CliRunner
from ruamel.yaml import YAML

from llmd_compile import check
from llmd_compile.check import Diagnostic
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.cli import main
from llmd_compile.compile import build
from llmd_compile.emit.kustomize import user_component_kustomization
from llmd_compile.resolve import Stack
from llmd_compile.spec.load import load_text
from llmd_compile.yamlio import dump

REPO = Path(__file__).resolve().parents[2]
_EXE = Path(sys.executable).with_name("llmd-compile")
CLI = [str(_EXE)] if _EXE.is_file() else [sys.executable, "-m", "llmd_compile"]
SEED_TEXT = (REPO / "specs" / "h100.yaml").read_text(encoding="utf-8")


def invoke(*args: str) -> tuple[int, str, str]:
    """The CLI in this process: (exit code, stdout, stderr); an unexpected exception is raised, not hidden."""
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def compile_text(text: str, source: str = "specs/generated.yaml") -> tuple[Stack, dict[str, str], list[Diagnostic]]:
    """What `llmd-compile` does in memory: load, build, diagnose (before the ownership manifest)."""
    spec = load_text(text, source)
    stack, files = build(spec, source)
    return stack, files, check.run(Artifacts(stack, files))


def errors_of(diagnostics: list[Diagnostic]) -> list[str]:
    return [str(d) for d in diagnostics if d.severity == "error"]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120,
            pre: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([*(pre or []), *CLI, *args], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, check=False)


LOCAL_CACHE = ".llmd-compile-cache"


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under root: file bytes, 'dir', or 'link -> target' (links are never followed)."""
    out: dict[str, bytes | str] = {}
    if not root.exists():
        return out
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.name.startswith(LOCAL_CACHE) and not path.is_symlink():
            continue  # the local compile cache: machine-specific by design, gitignored, not output
        if path.is_symlink():
            out[rel] = f"link -> {os.readlink(path)}"
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = path.read_bytes()
    return out


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def repo_with(root: Path, name: str, files: dict[str, str], platforms: list[str]) -> Path:
    """A repository root holding out/<name>/ and the user components its overlays include; the stack dir."""
    stack_dir = root / "out" / name
    write_tree(stack_dir, files)
    for platform in platforms:
        write_tree(root / "overlays" / platform, {"kustomization.yaml": dump(user_component_kustomization(platform))})
    return stack_dir


def yaml12(text: str) -> list[Any]:
    return [d for d in YAML(typ="safe").load_all(str(text)) if d is not None]  # str(): the C parser wants exact str


_LOADER_11 = getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)  # libyaml parser, the same YAML 1.1 resolver


def yaml11(text: str) -> list[Any]:
    return [d for d in pyyaml.load_all(str(text), Loader=_LOADER_11) if d is not None]


# Token shapes of the services a stack talks to (Hugging Face, GitHub, OpenAI-style keys, AWS, Slack, GitLab,
# Google) plus JWTs and PEM private keys. Digests (sha256 hex) are not tokens and do not match.
TOKEN = re.compile(
    r"(hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{20,}"
    r"|AKIA[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}"
    r"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|://[A-Za-z0-9._~%!$&'()*+,;=-]+:[A-Za-z0-9._~%!$&'()*+,;=-]+@)"  # user:password@ (RFC 3986 userinfo)
)
SECRET_NAME = re.compile(r"(^|_)(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|CREDENTIALS?)(_|$)", re.IGNORECASE)
# Keys an Argo CD repository Secret may carry without holding a credential.
REPOSITORY_KEYS = {"name", "type", "url", "enableOCI", "project", "insecure", "forceHttpBasicAuth"}


def secret_findings(files: dict[str, str], parsed: dict[str, list[Any]] | None = None) -> list[str]:
    """Token-like strings anywhere, secret-named env vars with a literal value, Secrets carrying credentials."""
    found = [f"{rel}: token-like string {m.group(0)[:12]}..." for rel, text in sorted(files.items())
             for m in TOKEN.finditer(text)]
    for rel, text in sorted(files.items()):
        if not rel.endswith(".yaml"):
            continue
        for doc in (parsed or {}).get(rel) or yaml12(text):
            found += [f"{rel}: {f}" for f in _secret_nodes(doc)]
    return found


def _secret_nodes(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        name = node.get("name")
        if isinstance(name, str) and SECRET_NAME.search(name) and "value" in node and node["value"] not in ("", None):
            found.append(f"env {name} has a literal value (use valueFrom.secretKeyRef)")
        if node.get("kind") == "Secret":
            payload = {**(node.get("data") or {}), **(node.get("stringData") or {})}
            extra = set(payload) - REPOSITORY_KEYS
            if extra:
                found.append(f"Secret {node.get('metadata', {}).get('name')} carries {sorted(extra)}")
        for value in node.values():
            found += _secret_nodes(value)
    elif isinstance(node, list):
        for item in node:
            found += _secret_nodes(item)
    return found


# Privileges beyond restricted-v2 (and Pod Security "restricted"): only a path or field that needs one may put it
# in what we generate (privileges_asked says which).
PRIVILEGED = re.compile(r"(privileged: true|IPC_LOCK|SYS_ADMIN|SYS_RESOURCE|SYS_RAWIO|SYS_NICE|NET_ADMIN|NET_RAW"
                        r"|rdma/|runAsUser: 0\b|type: Unconfined|hostNetwork: true|hostIPC: true|hostPID: true"
                        r"|hostPath:|allowPrivilegeEscalation: true)")
ROOT = "runAsUser: 0"


def privileges_asked(data: dict[str, Any]) -> set[str]:
    """What a spec (plain data) asks for that restricted-v2 does not give, as PRIVILEGED finds it in the output:

    * an RDMA device for the P/D KV transfer (kvTransfer.rdma), with the capabilities and root it lists;
    * per role, unless <role>.privileges is none, what the llm-d guides give the path (catalog/privileges.py):
      CPU vLLM SYS_NICE with an unconfined seccomp profile, wide-EP (parallelism.dataLocal) IPC_LOCK and SYS_RAWIO
      as root, Gaudi P/D pods privileged. The simulator needs none of it.
    """
    asked: set[str] = set()
    vendor = (data.get("accelerator") or {}).get("vendor", "nvidia")
    roles = [r for r in (data.get("decode"), data.get("prefill")) if r]
    rdma = (data.get("kvTransfer") or {}).get("rdma")
    if data.get("prefill") and rdma:
        asked.add("rdma/")
        if vendor != "simulated":
            asked |= set(rdma.get("capabilities") or []) | ({ROOT} if rdma.get("runAsRoot") else set())
    if vendor == "simulated" or not any(r.get("privileges", "path") == "path" for r in roles):
        return asked
    if vendor == "cpu":
        asked |= {"SYS_NICE", "type: Unconfined"}
    if any((r.get("parallelism") or {}).get("dataLocal") for r in roles):
        asked |= {"IPC_LOCK", "SYS_RAWIO", ROOT}
    if vendor == "intel-gaudi" and data.get("prefill"):
        asked.add("privileged: true")
    return asked


def privileged_findings(files: dict[str, str]) -> list[str]:
    return [f"{rel}: {m.group(0)}" for rel, text in sorted(files.items()) for m in PRIVILEGED.finditer(text)]
