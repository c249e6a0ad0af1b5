"""The seed stack (specs/h100.yaml), compiled by the real CLI, checked against the upstream oracles in ../shared.

Every expected value has a source outside our own output: chart values.yaml / values.schema.json / Chart.yaml,
CRDs and plugin registries from ../shared/upstream, the chart-helper naming rules CATALOG.md quotes (recomputed
here, never imported from llmd_compile.resolve), the seed guide (../shared/seed), or specs/h100.yaml read as
plain YAML.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from llmd_compile.compile import compile_spec
from llmd_compile.spec.models import Spec

from . import oracles as o
from .conftest import REPO, SEED_SOURCE, RunCli

INFRA, POOL, MS = "llm-d-infra", "inferencepool", "llm-d-modelservice"
PLATFORMS = ("openshift", "kubernetes")
# The file each chart is given, per the README's output layout.
VALUES_FILE = {INFRA: "values/infra.yaml", POOL: "values/inferencepool.yaml", MS: "values/modelservice.yaml"}
# The seed guide installs the Gateway API v1.3.0 CRDs (CATALOG §0.1, LD@e52045bd).
GATEWAY_API_RELEASE = "v1.3.0"
ENDPOINTS = ("/v1/models", "/v1/completions", "/v1/chat/completions")  # the seed guide's three test calls


def load_yaml(text: str) -> Any:
    return YAML(typ="safe").load(text)


def read(path: Path) -> Any:
    return load_yaml(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """specs/h100.yaml as plain YAML: the source of expected values, independent of our spec loader."""
    return read(REPO / SEED_SOURCE)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def stack_dir(seed_root: Path, raw: dict[str, Any]) -> Path:
    return seed_root / raw["gitops"]["argocd"].get("path", "out") / raw["metadata"]["name"]


@pytest.fixture(scope="module")
def values(stack_dir: Path) -> dict[str, dict[str, Any]]:
    return {chart: read(stack_dir / rel) for chart, rel in VALUES_FILE.items()}


def defaults(chart: str, version: str) -> dict[str, Any]:
    return read(o.chart_values_path(chart, version)) or {}  # type: ignore[no-any-return]


def merged(chart: str, raw: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the chart templates see: chart values.yaml coalesced with our values file (Helm semantics)."""
    pin = {INFRA: "infra", POOL: "inferencepool", MS: "modelservice"}[chart]
    return o.helm_merge(defaults(chart, raw["charts"][pin]), values[chart])


# --- chart-helper naming rules (CATALOG §a.2), recomputed ------------------------------------------------


def releases(raw: dict[str, Any]) -> dict[str, str]:
    """Release names by the helmfile rule: infra-/gaie-/ms-<RELEASE_NAME_POSTFIX> (CATALOG §a.3)."""
    rn = raw["metadata"]["name"]
    return {INFRA: f"infra-{rn}", POOL: f"gaie-{rn}", MS: f"ms-{rn}"}


def trunc_trim(name: str, limit: int) -> str:
    """Sprig `trunc limit | trimSuffix "-"` (trimSuffix removes one dash)."""
    name = name[:limit]
    return name[:-1] if name.endswith("-") else name


def gateway(raw: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Gateway name, Istio Service name and listener port the infra chart renders."""
    gw = merged(INFRA, raw, values)["gateway"]
    assert not gw.get("fullnameOverride"), "the rule below ignores gateway.fullnameOverride"
    name = f"{releases(raw)[INFRA]}-{gw.get('nameOverride') or 'inference-gateway'}"  # gateway.fullname
    assert gw["gatewayClassName"] == "istio"
    (listener,) = gw["listeners"]
    return {"name": name, "service": f"{name}-istio", "port": listener["port"]}  # gateway.serviceName


def ms_fullname(raw: dict[str, Any], values: dict[str, dict[str, Any]]) -> str:
    """llm-d-modelservice.fullname: release, or release-chart unless the release contains the chart name."""
    ms = merged(MS, raw, values)
    if ms.get("fullnameOverride"):
        return trunc_trim(ms["fullnameOverride"], 55)
    chart = ms.get("nameOverride") or read(o.chart_values_path(MS, raw["charts"]["modelservice"]).with_name(
        "Chart.yaml"))["name"]
    release = releases(raw)[MS]
    return trunc_trim(release if chart in release else f"{release}-{chart}", 55)


# --- values files ------------------------------------------------------------------------------------------


def test_modelservice_pin_has_no_schema(raw: dict[str, Any]) -> None:
    # The seed pins v0.2.7 on purpose ("v0.2.9 has stricter schema", seed guide). v0.2.7 ships no
    # values.schema.json (CATALOG §b.4), so nothing validates these values at install time...
    assert raw["charts"]["modelservice"] == "v0.2.7"
    assert o.chart_schema(MS, "v0.2.7") is None


# ...so they are checked against the schemas of the next releases instead, which shows that they do not rely on
# v0.2.7 accepting anything. Expected errors, each with its reason:
LATER_MS_SCHEMAS = {
    # v0.2.8's schema closed `decode.containers[]` (additionalProperties false); v0.2.9 "fix json schema (#114)"
    # reopened it (CATALOG §b.4 table). Container-level `parallelism` is where v0.2.7-v0.2.14 templates read the
    # --tensor-parallel-size arg from (CATALOG §b.2), so it belongs in v0.2.7 values; only v0.2.8 refuses it, and
    # the health probes every chart from v0.2.0 renders (llm-d-modelservice #50) with it.
    "v0.2.8": ["$.decode.containers[0]: Additional properties are not allowed ('livenessProbe', 'parallelism', "
               "'readinessProbe', 'startupProbe' were unexpected)"],
    "v0.2.9": [],
    "v0.2.10": [],
}


@pytest.mark.parametrize(("version", "expected"), LATER_MS_SCHEMAS.items())
def test_modelservice_values_against_later_schemas(
    version: str, expected: list[str], values: dict[str, dict[str, Any]]
) -> None:
    assert o.chart_schema(MS, version) is not None
    assert o.chart_schema_errors(MS, version, values[MS]) == expected


def test_infra_values_against_chart_schema(raw: dict[str, Any], values: dict[str, dict[str, Any]]) -> None:
    assert o.chart_schema(INFRA, raw["charts"]["infra"]) is not None
    assert o.chart_schema_errors(INFRA, raw["charts"]["infra"], values[INFRA]) == []


# --- wiring: route -> gateway, route -> pool, pool -> pods ----------------------------------------------------


def test_httproute(stack_dir: Path, raw: dict[str, Any], values: dict[str, dict[str, Any]]) -> None:
    route = read(stack_dir / "base/httproute.yaml")
    assert o.validate_custom(route, release=GATEWAY_API_RELEASE) == []
    (parent,) = route["spec"]["parentRefs"]
    assert parent == {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway(raw, values)["name"]}
    crd_dir = (o.shared() / "upstream/data/kubernetes-sigs__gateway-api-inference-extension"
               / raw["charts"]["inferencepool"] / "config/crd/bases")
    (crd_file,) = crd_dir.glob("*_inferencepools.yaml")
    crd = read(crd_file)
    (rule,) = route["spec"]["rules"]
    (backend,) = rule["backendRefs"]
    assert backend["group"] == crd["spec"]["group"]
    assert backend["kind"] == crd["spec"]["names"]["kind"]
    assert backend["name"] == releases(raw)[POOL]  # pool name = .Release.Name (CATALOG §a.2)
    # The pool targets the port the decode pods serve on: the sidecar's routing.servicePort (MS chart default).
    serving_port = merged(MS, raw, values)["routing"]["servicePort"]
    assert backend["port"] == values[POOL]["inferencePool"]["targetPortNumber"] == serving_port == 8000


def test_pool_selector_matches_decode_pods(raw: dict[str, Any], values: dict[str, dict[str, Any]]) -> None:
    fullname = ms_fullname(raw, values)
    # The seed guide's "Expected Resources" lists this Deployment (decodeName = fullname + "-decode").
    assert f"{fullname}-decode" == "ms-inference-scheduling-llm-d-modelservice-decode"
    # Labels MS <= v0.2.16 puts on decode pods (pdlabels + decodelabels, CATALOG §a.2).
    decode_pod = {"llm-d.ai/inferenceServing": "true", "llm-d.ai/model": fullname, "llm-d.ai/role": "decode"}
    selector = values[POOL]["inferencePool"]["modelServers"]["matchLabels"]
    assert selector, "an empty selector would select every pod in the namespace"
    assert selector.items() <= decode_pod.items()
    ms = merged(MS, raw, values)
    assert ms["decode"]["create"] is True
    assert ms["decode"]["replicas"] == raw["decode"]["replicas"]


# --- endpoint picker config ------------------------------------------------------------------------------


def registry(name: str) -> list[dict[str, Any]]:
    return json.loads((o.shared() / "upstream/plugin-registries" / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_epp_plugins_are_registered(stack_dir: Path, raw: dict[str, Any]) -> None:
    tag = raw["scheduler"]["image"].rpartition(":")[2]
    sched = registry(f"sched-{tag}")
    # Entries the scheduler inherits carry the GAIE release it is built on (v0.5.1 for SCHED v0.2.1, CATALOG §0.1).
    (gaie,) = {e["rev"] for e in sched} - {tag}
    known = {e["type"] for e in sched} | {e["type"] for e in registry(f"gaie-{gaie}")}
    config = read(stack_dir / "epp/endpoint-picker-config.yaml")
    assert config["kind"] == "EndpointPickerConfig"
    types = {p["type"] for p in config["plugins"]}
    assert types - known == set()
    declared = {p.get("name", p["type"]) for p in config["plugins"]}
    refs = {ref["pluginRef"] for profile in config["schedulingProfiles"] for ref in profile["plugins"]}
    assert refs and refs <= declared


def test_epp_config_embedded_verbatim(stack_dir: Path, values: dict[str, dict[str, Any]]) -> None:
    extension = values[POOL]["inferenceExtension"]
    embedded = extension["pluginsCustomConfig"][extension["pluginsConfigFile"]]
    text = (stack_dir / "epp/endpoint-picker-config.yaml").read_text(encoding="utf-8")
    body = "".join(itertools.dropwhile(lambda line: line.startswith("#"), text.splitlines(keepends=True)))
    assert embedded == body


# --- kustomize overlays ------------------------------------------------------------------------------------

def validate(doc: dict[str, Any]) -> list[str]:
    return o.validate_any(doc, GATEWAY_API_RELEASE if doc["kind"] == "HTTPRoute" else None)


@pytest.fixture(scope="module")
def builds(stack_dir: Path) -> dict[str, list[dict[str, Any]]]:
    return {platform: o.kustomize_build(stack_dir / "overlays" / platform) for platform in PLATFORMS}


def test_platforms_are_the_specs(raw: dict[str, Any]) -> None:
    assert sorted(raw["platforms"]) == sorted(PLATFORMS)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_overlay_resources_validate(
    platform: str, builds: dict[str, list[dict[str, Any]]], raw: dict[str, Any], values: dict[str, dict[str, Any]]
) -> None:
    docs = builds[platform]
    errors = {f"{d['kind']}/{d['metadata']['name']}": validate(d) for d in docs}
    assert {name: errs for name, errs in errors.items() if errs} == {}
    assert {d["kind"] for d in docs} >= {"HTTPRoute", "PersistentVolumeClaim", "Job"}
    assert {d["metadata"].get("namespace") for d in docs} == {raw["metadata"]["namespace"]}
    (pvc,) = [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    assert pvc["spec"]["storageClassName"] == raw["platforms"][platform]["storageClassName"]
    for route in (d for d in docs if d["kind"] == "Route"):
        assert route["spec"]["to"] == {"kind": "Service", "name": gateway(raw, values)["service"], "weight": 100}


def test_storage_classes_are_the_seeds(builds: dict[str, list[dict[str, Any]]]) -> None:
    # The classes specs/h100.yaml sets (ODF CephFS for the RWX model cache on OpenShift), pinned here so that a
    # change to the seed spec is a visible test change.
    classes = {p: next(d for d in docs if d["kind"] == "PersistentVolumeClaim")["spec"]["storageClassName"]
               for p, docs in builds.items()}
    assert classes == {"openshift": "ocs-storagecluster-cephfs", "kubernetes": "standard"}


def test_route_oracle_rejects_bad_routes(builds: dict[str, list[dict[str, Any]]]) -> None:
    (route,) = [d for d in builds["openshift"] if d["kind"] == "Route"]
    assert o.validate_any(route) == []
    bad = copy.deepcopy(route)
    bad["spec"]["tls"]["termination"] = "bogus"
    bad["spec"]["wildcardPolicy"] = "Subdomain"  # with no host: refused by the CRD's spec rule
    bad["spec"]["extra"] = 1
    errors = o.validate_any(bad)
    assert any(e.startswith("$.spec.tls.termination: 'bogus' is not one of") for e in errors), errors
    assert any("('extra' was unexpected)" in e for e in errors), errors
    assert any(e.startswith("$.spec: ") and "should not be valid under" in e for e in errors), errors


# --- Argo CD and helmfile ------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_argocd_application(platform: str, seed_root: Path, stack_dir: Path, raw: dict[str, Any]) -> None:
    argo = raw["gitops"]["argocd"]
    parent = read(stack_dir / "argocd" / f"{platform}.yaml")
    assert o.validate_any(parent) == []
    (children_source,) = parent["spec"]["sources"]
    assert (children_source["repoURL"], children_source["targetRevision"]) == (argo["repoURL"], argo["targetRevision"])
    children_dir = seed_root / children_source["path"]
    assert children_dir == stack_dir / "argocd" / platform
    apps = [read(p) for p in sorted(children_dir.glob("*.yaml"))]
    for app in apps:
        assert o.validate_any(app) == [], app["metadata"]["name"]
    charts = {s["chart"]: (app, s) for app in apps for s in app["spec"]["sources"] if "chart" in s}
    pins = {INFRA: raw["charts"]["infra"], POOL: raw["charts"]["inferencepool"], MS: raw["charts"]["modelservice"]}
    assert {c: s["targetRevision"] for c, (_, s) in charts.items() if c in pins} == pins
    assert {c: s["helm"]["releaseName"] for c, (_, s) in charts.items() if c in pins} == releases(raw)
    for chart in pins:
        app, source = charts[chart]
        assert app["spec"]["destination"]["namespace"] == raw["metadata"]["namespace"]
        (values_source,) = [s for s in app["spec"]["sources"] if "ref" in s]
        assert (values_source["repoURL"], values_source["targetRevision"]) == (argo["repoURL"], argo["targetRevision"])
        (value_file,) = source["helm"]["valueFiles"]
        ref, _, rel = value_file.partition("/")
        assert ref == f"${values_source['ref']}"
        assert rel.endswith(VALUES_FILE[chart])
        assert (seed_root / rel).is_file(), rel  # relative to the repository root
    (overlay,) = [s for app in apps for s in app["spec"]["sources"]
                  if s.get("path", "").endswith(f"overlays/{platform}")]
    assert (seed_root / overlay["path"] / "kustomization.yaml").is_file()
    # Sync waves: what a later object needs exists first (CRDs, control plane, Gateway, pool, PVC+route, servers).
    wave = {app["metadata"]["name"]: int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
            for app in apps}
    by_chart = {c: wave[app["metadata"]["name"]] for c, (app, _) in charts.items()}
    overlay_wave = next(wave[a["metadata"]["name"]] for a in apps if overlay in a["spec"]["sources"])
    crd_waves = [wave[a["metadata"]["name"]] for a in apps
                 if any(s.get("path") == "config/crd" for s in a["spec"]["sources"])]
    assert len(crd_waves) == 2
    assert max(crd_waves) < by_chart["istiod"] < by_chart[INFRA] < by_chart[POOL] < overlay_wave < by_chart[MS]
    # Every app's project exists and allows its sources and destination.
    projects = {p["metadata"]["name"]: p for p in read_all(stack_dir / "argocd" / "projects.yaml")}
    for project in projects.values():
        assert o.validate_any(project) == []
    for app in apps:
        project = projects[app["spec"]["project"]]["spec"]
        assert {s["repoURL"] for s in app["spec"]["sources"]} <= set(project["sourceRepos"])
        assert app["spec"]["destination"]["namespace"] in {d["namespace"] for d in project["destinations"]}


def read_all(path: Path) -> list[Any]:
    return [d for d in YAML(typ="safe", pure=True).load_all(path.read_text(encoding="utf-8")) if d is not None]


def test_helmfile_releases(stack_dir: Path, raw: dict[str, Any]) -> None:
    helmfile = read(stack_dir / "helmfile.yaml")
    got = {r["name"]: (r["version"], r["namespace"]) for r in helmfile["releases"]}
    pins = {INFRA: raw["charts"]["infra"], POOL: raw["charts"]["inferencepool"], MS: raw["charts"]["modelservice"]}
    assert got == {releases(raw)[c]: (pins[c], raw["metadata"]["namespace"]) for c in pins}


# --- Jobs ----------------------------------------------------------------------------------------------------


def jobs(stack_dir: Path) -> dict[str, dict[str, Any]]:
    paths = [*sorted((stack_dir / "base").glob("*.yaml")), stack_dir / "bench/guidellm-job.yaml"]
    return {p.name: doc for p in paths for doc in [read(p)] if doc.get("kind") == "Job"}


def test_jobs_validate(stack_dir: Path) -> None:
    found = jobs(stack_dir)
    assert {"smoke-test-job.yaml", "model-download-job.yaml", "guidellm-job.yaml"} <= set(found)
    for name, job in found.items():
        assert job["apiVersion"] == "batch/v1", name
        assert o.validate_any(job) == [], name


def gateway_hosts(raw: dict[str, Any], values: dict[str, dict[str, Any]]) -> set[str]:
    service, ns = gateway(raw, values)["service"], raw["metadata"]["namespace"]
    return {service, f"{service}.{ns}", f"{service}.{ns}.svc", f"{service}.{ns}.svc.cluster.local"}


def test_smoke_test_job(stack_dir: Path, raw: dict[str, Any], values: dict[str, dict[str, Any]]) -> None:
    pod = jobs(stack_dir)["smoke-test-job.yaml"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert {**pod.get("securityContext", {}), **security}.get("runAsNonRoot") is True
    assert {**pod.get("securityContext", {}), **security}.get("runAsUser", 1) != 0
    assert "ALL" in security["capabilities"]["drop"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    script = "\n".join([*container.get("command", []), *container.get("args", [])])
    urls = [urlsplit(u) for u in re.findall(r"https?://[^\s'\"]+", script)]
    assert urls and {u.hostname for u in urls} <= gateway_hosts(raw, values)
    assert {u.port or 80 for u in urls} == {gateway(raw, values)["port"]}
    for endpoint in ENDPOINTS:
        assert endpoint in script, endpoint


def test_guidellm_targets_the_gateway(stack_dir: Path, raw: dict[str, Any], values: dict[str, dict[str, Any]]) -> None:
    (container,) = jobs(stack_dir)["guidellm-job.yaml"]["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    target = urlsplit(args[args.index("--target") + 1])
    # Seed guide: "Target: http://infra-inference-scheduling-inference-gateway-istio.llm-d-inference-scheduling
    # .svc.cluster.local"
    assert target.hostname == "infra-inference-scheduling-inference-gateway-istio.llm-d-inference-scheduling" \
                              ".svc.cluster.local"
    assert target.hostname in gateway_hosts(raw, values)
    assert (target.port or 80) == gateway(raw, values)["port"]
    assert args[args.index("--model") + 1] == raw["model"]["name"]


# Images whose USER is a name, not a UID. With runAsNonRoot and no runAsUser the kubelet refuses to start them:
# "container has runAsNonRoot and image has non-numeric user (curl_user), cannot verify user is non-root".
NON_NUMERIC_IMAGE_USER = {"curlimages/curl": "curl_user (https://github.com/curl/curl-container/issues/25)"}


@pytest.mark.parametrize("platform", ["openshift", "kubernetes"])
def test_named_image_users_get_a_uid(platform: str, builds: dict[str, list[dict[str, Any]]]) -> None:
    checked = 0
    for job in (d for d in builds[platform] if d["kind"] == "Job"):
        pod = job["spec"]["template"]["spec"]
        for container in pod["containers"]:
            if container["image"].rpartition(":")[0] not in NON_NUMERIC_IMAGE_USER:
                continue
            checked += 1
            user = {**pod.get("securityContext", {}), **container.get("securityContext", {})}.get("runAsUser")
            if platform == "openshift":
                assert user is None  # restricted-v2 assigns a UID from the namespace range (CATALOG §h)
            else:
                assert isinstance(user, int) and user > 0, f"{job['metadata']['name']}/{container['name']}"
    assert checked


# --- determinism ---------------------------------------------------------------------------------------------


def test_compile_twice_in_process(seed_spec: Spec, seed_files: dict[str, str]) -> None:
    assert list(compile_spec(seed_spec, SEED_SOURCE).items()) == list(seed_files.items())


def test_cli_tree_is_compile_spec_output(stack_dir: Path, seed_files: dict[str, str]) -> None:
    on_disk = {p.relative_to(stack_dir).as_posix() for p in stack_dir.rglob("*") if p.is_file()}
    assert on_disk == {*seed_files, ".llmd-compile.yaml"}
    for rel, text in seed_files.items():
        assert (stack_dir / rel).read_text(encoding="utf-8") == text, rel


def tree(root: Path) -> dict[str, bytes]:
    """The generated tree; the local compile cache (gitignored, machine-specific by design) is not output."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".llmd-compile-cache")}


def test_cli_output_is_byte_identical_across_hash_seeds(run_cli: RunCli, tmp_path: Path) -> None:
    first = tree(run_cli(tmp_path / "a", "0"))
    second = tree(run_cli(tmp_path / "b", "12345"))
    assert len(first) > 10
    assert first == second
