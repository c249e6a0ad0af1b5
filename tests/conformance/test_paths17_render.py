"""Tiered prefix cache, flow control and predicted latency, rendered and built with the real tools.

For the example specs in specs/ and the guide specs in paths17_guides/: the router values render with the pinned
router chart (helm-python-sdk) and every rendered object validates (Kubernetes schemas, the llm-d.ai CRDs of
llm-d-router); the model servers build with `kubectl kustomize` and validate. Then the wiring, read back from the
rendered and built objects: InferenceObjective -> the rendered pool, each objective's priority -> a priority band of
the config the EPP mounts, the latency predictor's containers -> the URLs the EPP is given, prefix-cache scorers ->
their producers, the filesystem tier -> a ReadWriteMany claim mounted where the connector writes, the CPU tier ->
within the container's memory.
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from llmd_compile import yamlio
from llmd_compile.check.capacity import gib
from llmd_compile.check.plugins import check_config
from llmd_compile.compile import build
from llmd_compile.emit import kustomize
from llmd_compile.emit.router import modelservers
from llmd_compile.resolve import Stack
from llmd_compile.spec.load import load
from tests.conformance import oracles as o
from tests.conformance import router_oracle as ro

REPO = Path(__file__).resolve().parents[2]
SPECS = [REPO / "specs" / f for f in ("tiered-prefix-cache.yaml", "flow-control.yaml",
                                      "predicted-latency-routing.yaml")]
SPECS += sorted((Path(__file__).parent / "paths17_guides").glob("*.yaml"))
IDS = [p.stem if p.parent.name == "paths17_guides" else f"specs/{p.stem}" for p in SPECS]
POOL_GROUP = "inference.networking.k8s.io"


@cache
def compiled(spec: Path) -> tuple[Stack, dict[str, str]]:
    return build(load(spec), str(spec))


@cache
def rendered(spec: Path) -> list[dict[str, Any]]:
    stack, files = compiled(spec)
    return ro.render(stack, ro.values_of(files))


def build_overlay(stack: Stack, tmp: Path) -> list[dict[str, Any]]:
    """The stack's model servers written to a scratch repository and built (first platform's overlay)."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (kustomize) not on PATH")
    root = tmp / "repo"
    out = root / "out" / stack.spec.metadata.name
    for rel, text in modelservers.emit(stack).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    platform = stack.spec.platforms.names()[0]
    component = root / "overlays" / platform / "kustomization.yaml"
    component.parent.mkdir(parents=True, exist_ok=True)
    component.write_text(yamlio.dump(kustomize.user_component_kustomization(platform)), encoding="utf-8")
    return o.kustomize_build(out / "modelserver" / "overlays" / platform)


def _mounted_config(spec: Path) -> dict[str, Any]:
    """The EndpointPickerConfig in the ConfigMap the chart renders, under the file name the EPP is told to load."""
    _, files = compiled(spec)
    epp = ro.values_of(files)["router"]["epp"]
    maps = [m for m in ro.by_kind(rendered(spec), "ConfigMap") if epp["pluginsConfigFile"] in (m.get("data") or {})]
    assert len(maps) == 1
    return dict(ro.parse(maps[0]["data"][epp["pluginsConfigFile"]]))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_renders_and_validates(spec: Path) -> None:
    errors = {f"{d['kind']}/{d['metadata']['name']}": e for d in rendered(spec) if (e := o.validate_any(d))}
    assert not errors, json.dumps(errors, indent=1)
    stack, _ = compiled(spec)
    problems = check_config(stack.picker, _mounted_config(spec), str(spec), "mounted")
    assert not problems, problems


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_model_servers_build_and_validate(spec: Path, tmp_path: Path) -> None:
    stack, _ = compiled(spec)
    docs = build_overlay(stack, tmp_path)
    errors = {f"{d['kind']}/{d['metadata']['name']}": e for d in docs if (e := o.validate_any(d))}
    assert not errors, json.dumps(errors, indent=1)


@pytest.mark.parametrize("spec", [s for s in SPECS if "flow" in s.stem], ids=lambda s: s.stem)
def test_objectives_wire_to_the_pool_and_its_bands(spec: Path) -> None:
    docs = rendered(spec)
    pool = ro.one(docs, "InferencePool")
    objectives = ro.by_kind(docs, "InferenceObjective")
    assert objectives, "flow control renders InferenceObjectives"
    config = _mounted_config(spec)
    assert "flowControl" in config.get("featureGates", [])
    bands = {b["priority"] for b in config["flowControl"]["priorityBands"]}
    names = {p.get("name", p["type"]) for p in config["plugins"]}
    for objective in objectives:
        ref = objective["spec"]["poolRef"]
        assert (ref["name"], ref.get("group", POOL_GROUP)) == (pool["metadata"]["name"],
                                                                pool["apiVersion"].split("/")[0])
        assert objective["metadata"]["namespace"] == pool["metadata"]["namespace"]
        assert objective["spec"]["priority"] in bands, f"{objective['metadata']['name']}: no band"
    control = config["flowControl"]
    refs = {control["saturationDetector"]["pluginRef"]}
    refs |= {b[k] for b in control["priorityBands"] for k in ("fairnessPolicyRef", "orderingPolicyRef")}
    assert refs <= names


@pytest.mark.parametrize("spec", [s for s in SPECS if "latency" in s.stem], ids=lambda s: s.stem)
def test_latency_predictor_runs_beside_the_epp(spec: Path) -> None:
    stack, _ = compiled(spec)
    epp = next(d for d in ro.by_kind(rendered(spec), "Deployment") if d["metadata"]["name"] == stack.names.epp)
    containers = epp["spec"]["template"]["spec"]["containers"]
    predictor = stack.spec.scheduler.predictedLatency
    assert predictor is not None
    ports = {p["containerPort"] for c in containers if "prediction" in c["name"] for p in c.get("ports", [])}
    assert len(ports) == predictor.predictionServers
    assert any("training" in c["name"] for c in containers)
    env = {e["name"]: e.get("value") for c in containers if c["name"] == "epp" for e in c.get("env", [])}
    urls = {int(u.rsplit(":", 1)[1]) for u in str(env["PREDICTION_SERVER_URL"]).split(",")}
    assert urls == ports
    types = {p["type"] for p in _mounted_config(spec)["plugins"]}
    assert "predicted-latency-producer" in types
    assert ("latency-slo-admitter" in types) == (predictor.slo is not None)


def _decode(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-decode"))


def _kv_config(container: dict[str, Any]) -> dict[str, Any]:
    args = container["args"]
    return dict(json.loads(args[args.index("--kv-transfer-config") + 1]))


@pytest.mark.parametrize("spec", [s for s in SPECS if "tiered" in s.stem], ids=lambda s: s.stem)
def test_tiers_wire_to_memory_claims_and_scorers(spec: Path, tmp_path: Path) -> None:
    stack, _ = compiled(spec)
    offload = stack.spec.kvOffload
    assert offload is not None
    docs = build_overlay(stack, tmp_path)
    pod = _decode(docs)["spec"]["template"]["spec"]
    container = pod["containers"][0]
    kv = _kv_config(container)
    env = {e["name"]: e.get("value") for e in container["env"]}
    memory = container["resources"].get("limits", {}).get("memory") or container["resources"]["requests"]["memory"]
    if kv["kv_connector"] == "OffloadingConnector":
        cpu_bytes = kv["kv_connector_extra_config"]["cpu_bytes_to_use"]
        tiers = kv["kv_connector_extra_config"].get("secondary_tiers", [])
        dirs = [t["root_dir"] for t in tiers if t["type"] == "fs"]
    else:
        cpu_bytes = float(env["LMCACHE_MAX_LOCAL_CPU_SIZE"]) * 2**30
        dirs = [env["LMCACHE_LOCAL_DISK"].removeprefix("file://")] if "LMCACHE_LOCAL_DISK" in env else []
    assert cpu_bytes <= gib(memory) * 2**30, "the CPU tier fits the container's memory"
    assert "PYTHONHASHSEED" in env, "every pod hashes prefixes alike"
    claims = {d["metadata"]["name"]: d for d in docs if d["kind"] == "PersistentVolumeClaim"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert bool(dirs) == (offload.filesystem is not None)
    for directory in dirs:
        mounts = [m for m in container["volumeMounts"] if directory.startswith(m["mountPath"].rstrip("/") + "/")
                  or directory == m["mountPath"]]
        assert mounts, f"nothing mounted at {directory}"
        claim = volumes[mounts[0]["name"]]["persistentVolumeClaim"]["claimName"]
        assert "ReadWriteMany" in claims[claim]["spec"]["accessModes"]
    # The picker: one producer per tier, each scorer reads an existing producer, the CPU tier's LRU is sized.
    config = _mounted_config(spec)
    producers = {p["name"]: p for p in config["plugins"] if p["type"] == "approx-prefix-cache-producer"}
    scorers = [p for p in config["plugins"] if p["type"] == "prefix-cache-scorer"]
    assert set(producers) == {"gpu-prefix-cache-producer", "cpu-prefix-cache-producer"}
    assert {s["parameters"]["prefixMatchInfoProducerName"] for s in scorers} == set(producers)
    refs = {r["pluginRef"] for p in config["schedulingProfiles"] for r in p["plugins"]}
    assert {s["name"] for s in scorers} <= refs
    assert producers["cpu-prefix-cache-producer"]["parameters"]["autoTune"] is False
    assert producers["cpu-prefix-cache-producer"]["parameters"]["lruCapacityPerServer"] > 0
