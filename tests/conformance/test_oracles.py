"""Each oracle helper must accept known-good input and reject known-bad input.

Expected chart-schema results are the ones stated in ../shared/upstream/CATALOG.md §b.5 and §c.1
("Validation checks"), restricted to the chart versions whose data is present in ../shared.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from . import oracles as o

LD = "upstream/data/llm-d__llm-d"
IS_MS = "guides/inference-scheduling/ms-inference-scheduling/values.yaml"
PD_MS = "guides/pd-disaggregation/ms-pd/values.yaml"
KV_MS = "guides/precise-prefix-cache-aware/ms-kv-events/values.yaml"
GW_CONF = "guides/prereq/gateway-provider/common-configurations"
MS, INFRA = "llm-d-modelservice", "llm-d-infra"


def load(rel: str) -> Any:
    return YAML(typ="safe").load((o.shared() / rel).read_text(encoding="utf-8"))


def guide(label: str, rel: str) -> Any:
    return load(f"{LD}/{label}/{rel}")


def unexpected(path: str, *keys: str) -> str:
    names = ", ".join(repr(k) for k in keys)
    verb = "was" if len(keys) == 1 else "were"
    return f"{path}: Additional properties are not allowed ({names} {verb} unexpected)"


# --- shared() / chart lookup -------------------------------------------------------------------


def test_shared_present() -> None:
    assert o.shared() == o.SHARED == Path(__file__).resolve().parents[2].parent / "shared"


def test_shared_missing_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(o, "SHARED", tmp_path / "nope")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"\.\./shared not found"):
        o.shared()
    with pytest.raises(pytest.skip.Exception):
        o.chart_values_path(MS, "v0.2.8")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"\.\./shared not found"):
        o.shared()
    with pytest.raises(pytest.fail.Exception):
        o.crd_index()


def test_chart_values_path() -> None:
    assert o.chart_values_path(INFRA, "v1.3.0").match("*__llm-d-infra/v1.3.0/charts/llm-d-infra/values.yaml")
    assert o.chart_values_path(MS, "v0.2.7").is_file()
    assert o.chart_values_path("inferencepool", "v0.5.1").match(
        "v0.5.1/config/charts/inferencepool/values.yaml"
    )
    with pytest.raises(ValueError, match="unknown chart"):
        o.chart_values_path("llm-d", "v1.0.0")


def test_missing_chart_version_skips_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    o.shared()
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"llm-d-modelservice v0\.4\.4 not in"):
        o.chart_values_path(MS, "v0.4.4")  # MS v0.4.4 is cited by CATALOG §b.5 but not copied
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        o.chart_schema(INFRA, "v9.9.9")


def test_chart_schema_presence() -> None:
    assert o.chart_schema(MS, "v0.2.7") is None  # schema first released in v0.2.8 (§b.4)
    assert o.chart_schema(MS, "v0.2.8") is not None
    assert o.chart_schema(INFRA, "v1.3.0") is not None
    for v in ("v0.5.1", "v1.0.1", "v1.2.0", "v1.3.0", "v1.4.0", "v1.5.0"):
        assert o.chart_schema("inferencepool", v) is None  # §d: no schema in any tag
        assert o.chart_schema_errors("inferencepool", v, {"anything": 1}) is None
    assert o.chart_schema_errors(MS, "v0.2.7", {"routing": {"modelName": "x"}}) is None


# --- helm_merge --------------------------------------------------------------------------------


def test_helm_merge() -> None:
    defaults: dict[str, Any] = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "f": "x", "g": {"h": 1}, "k": 1}
    overrides: dict[str, Any] = {
        "a": {"c": [3], "d": None, "n": {"x": None, "y": 2}},
        "f": {"m": 1},
        "g": 5,
        "k": None,
    }
    before = copy.deepcopy((defaults, overrides))
    merged = o.helm_merge(defaults, overrides)
    assert merged == {"a": {"b": 1, "c": [3], "n": {"y": 2}}, "f": {"m": 1}, "g": 5}
    assert (defaults, overrides) == before  # inputs untouched
    merged["a"]["b"] = 99
    assert defaults["a"]["b"] == 1  # no aliasing


# --- chart_schema_errors (CATALOG §b.5, §c.1) --------------------------------------------------

MS_CASES = [
    ("commit-e52045bd", IS_MS, "v0.2.8", [unexpected("$.routing", "modelName")]),
    ("commit-e52045bd", IS_MS, "v0.2.9", [unexpected("$.routing", "modelName")]),
    ("commit-e52045bd", IS_MS, "v0.2.10", [unexpected("$.routing", "modelName")]),
    (
        "commit-e52045bd",
        IS_MS,
        "v0.3.0",
        [
            unexpected(
                "$.routing", "epp", "httpRoute", "inferenceModel", "inferencePool", "modelName", "parentRefs"
            )
        ],
    ),
    (
        "commit-e52045bd",
        PD_MS,
        "v0.2.9",
        [
            unexpected("$.decode.volumes[1].emptyDir", "medium", "sizeLimit"),
            unexpected("$.prefill.volumes[1].emptyDir", "medium", "sizeLimit"),
            unexpected("$.routing", "modelName"),
        ],
    ),
    ("v0.3.0", IS_MS, "v0.2.10", []),
    ("v0.3.0", IS_MS, "v0.3.0", [unexpected("$.routing", "epp", "httpRoute", "inferencePool")]),
    ("commit-899f8517", IS_MS, "v0.4.9", []),
    ("commit-899f8517", IS_MS, "v0.4.12", []),
    ("commit-899f8517", PD_MS, "v0.4.9", []),
    ("commit-899f8517", KV_MS, "v0.4.9", []),
    # v0.4.4 (cited in §b.5) is not in the data; §b.4: labels strict v0.3.0-v0.4.4, open from v0.4.5.
    (
        "commit-899f8517",
        IS_MS,
        "v0.3.8",
        [
            unexpected(
                "$.modelArtifacts.labels",
                "llm-d.ai/accelerator-variant",
                "llm-d.ai/accelerator-vendor",
                "llm-d.ai/guide",
                "llm-d.ai/inference-serving",
            )
        ],
    ),
    ("commit-899f8517", IS_MS, "v0.4.5", []),
]


@pytest.mark.parametrize(("label", "rel", "version", "expected"), MS_CASES)
def test_ms_guide_values_against_chart_schema(
    label: str, rel: str, version: str, expected: list[str]
) -> None:
    assert o.chart_schema_errors(MS, version, guide(label, rel)) == expected


def _infra(label: str, name: str) -> dict[str, Any]:
    return {"gateway": guide(label, f"{GW_CONF}/{name}")["gateway"]}  # the subtree the helmfile passes


def test_infra_values_against_chart_schema() -> None:
    istio = _infra("commit-e52045bd", "istio.yaml")
    istio["gateway"]["destinationRule"]["host"] = "gaie-epp.ns.svc.cluster.local"
    assert o.chart_schema_errors(INFRA, "v1.3.0", istio) == []
    assert o.chart_schema_errors(INFRA, "v1.3.0", _infra("commit-e52045bd", "gke.yaml")) == []
    gke030 = _infra("v0.3.0", "gke.yaml")
    assert o.chart_schema_errors(INFRA, "v1.3.0", gke030) == [
        unexpected("$.gateway.gatewayParameters", "accessLogging")
    ]
    assert o.chart_schema_errors(INFRA, "v1.3.3", gke030) == []
    istio06 = _infra("commit-899f8517", "istio.yaml")
    assert o.chart_schema_errors(INFRA, "v1.3.6", istio06) == [
        unexpected("$.gateway.gatewayParameters", "istio"),
        unexpected("$.gateway", "provider"),
    ]
    for name in ("istio.yaml", "agentgateway.yaml", "kgateway.yaml", "gke.yaml"):
        assert o.chart_schema_errors(INFRA, "v1.4.0", _infra("commit-899f8517", name)) == [], name


def test_chart_schema_errors_types_enums_and_null_deletion() -> None:
    bad = {"gateway": {"gatewayParameters": {"logLevel": "loud"}, "listeners": [{"name": "x", "port": 0}]}}
    errors = o.chart_schema_errors(INFRA, "v1.3.0", bad)
    assert errors is not None and len(errors) >= 2
    assert any(e.startswith("$.gateway.gatewayParameters.logLevel: 'loud' is not one of") for e in errors)
    assert any(e.startswith("$.gateway.listeners[0].port: 0 is less than the minimum") for e in errors)
    # an override of None deletes the chart default (Helm semantics): removing a required key is caught
    assert o.chart_schema_errors(INFRA, "v1.3.0", {"gateway": {"listeners": None}}) == []
    assert o.chart_schema_errors(INFRA, "v1.3.0", {"gateway": {"listeners": []}}) != []


# --- CRDs --------------------------------------------------------------------------------------

HTTPROUTE = ("gateway.networking.k8s.io/v1", "HTTPRoute")


def test_crd_index_and_release_selection() -> None:
    idx = o.crd_index()
    for key in [
        HTTPROUTE,
        ("gateway.networking.k8s.io/v1", "Gateway"),
        ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"),
        ("inference.networking.k8s.io/v1", "InferencePool"),
        ("inference.networking.x-k8s.io/v1alpha2", "InferencePool"),
        ("networking.istio.io/v1beta1", "DestinationRule"),
        ("argoproj.io/v1alpha1", "Application"),
        ("argoproj.io/v1alpha1", "AppProject"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"),
        ("monitoring.coreos.com/v1", "PodMonitor"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("route.openshift.io/v1", "Route"),
        ("security.openshift.io/v1", "SecurityContextConstraints"),
        ("gateway.kgateway.dev/v1alpha1", "GatewayParameters"),
        ("agentgateway.dev/v1alpha1", "AgentgatewayParameters"),
    ]:
        assert key in idx, key
    assert idx[HTTPROUTE] is o.crd_schema(*HTTPROUTE, release="v1.6.1")  # newest release wins
    assert o.crd_schema(*HTTPROUTE, release="v1.3.0") != o.crd_schema(*HTTPROUTE, release="v1.6.1")
    pool = ("inference.networking.k8s.io/v1", "InferencePool")
    assert idx[pool] is o.crd_schema(*pool, release="v1.6.0")
    with pytest.raises(KeyError):
        o.crd_schema(*pool, release="v0.5.1")  # v0.5.1 only had the x-k8s.io v1alpha2 pool
    with pytest.raises(KeyError):
        o.crd_schema("inference.networking.x-k8s.io/v1alpha2", "InferencePool", release="v1.5.0")


GUIDE_ROUTES = (
    sorted(str(p.relative_to(o.SHARED)) for p in (o.SHARED / LD).glob("*/guides/*/httproute*.yaml"))
    if o.SHARED.is_dir()
    else []
)


@pytest.mark.parametrize("release", [None, "v1.3.0", "v1.5.1", "v1.6.1"])
def test_upstream_httproutes_are_valid(release: str | None) -> None:
    if not GUIDE_ROUTES:
        o.shared()
    for rel in GUIDE_ROUTES:
        assert o.validate_custom(load(rel), release) == [], rel


def _route() -> dict[str, Any]:
    return guide("commit-e52045bd", "guides/inference-scheduling/httproute.yaml")  # type: ignore[no-any-return]


def test_httproute_unknown_field_and_port_range() -> None:
    assert o.validate_custom(_route()) == []
    bad = _route()
    bad["spec"]["bogus"] = True
    bad["spec"]["rules"][0]["backendRefs"][0]["port"] = 70000
    for release in (None, "v1.3.0"):
        assert o.validate_custom(bad, release) == [
            "$.spec.rules[0].backendRefs[0].port: 70000 is greater than the maximum of 65535",
            unexpected("$.spec", "bogus"),
        ]


def test_httproute_metadata_types_and_patterns() -> None:
    bad = _route()
    del bad["metadata"]["name"]
    bad["spec"]["rules"][0]["timeouts"]["request"] = "forever"
    bad["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Glob"
    errors = o.validate_custom(bad)
    assert "$.metadata: 'name' is a required property" in errors
    assert any(e.startswith("$.spec.rules[0].timeouts.request: 'forever' does not match") for e in errors)
    assert any(e.startswith("$.spec.rules[0].matches[0].path.type: 'Glob' is not one of") for e in errors)
    bad = _route()
    bad["metadata"] = {"name": "Not_A_DNS_Name", "labels": {"app": "has space"}}
    assert len(o.validate_custom(bad)) == 2
    assert o.validate_custom({**_route(), "metadata": "x"}) != []


def test_unknown_custom_kind() -> None:
    doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert o.validate_custom(doc) == ["no CRD for example.com/v1 Widget in ../shared"]
    assert o.validate_any(doc) == ["no CRD for example.com/v1 Widget in ../shared"]


def _pool() -> dict[str, Any]:
    return {
        "apiVersion": "inference.networking.k8s.io/v1",
        "kind": "InferencePool",
        "metadata": {"name": "gaie-x", "namespace": "llm-d"},
        "spec": {
            "targetPorts": [{"number": 8000}],
            "selector": {"matchLabels": {"llm-d.ai/inference-serving": "true"}},
            "endpointPickerRef": {"name": "gaie-x-epp", "port": {"number": 9002}},
        },
    }


def test_inferencepool_versions() -> None:
    for release in (None, "v1.0.1", "v1.4.0", "v1.6.0"):
        assert o.validate_any(_pool(), release) == [], release
    v1_with_alpha_field = _pool()
    v1_with_alpha_field["spec"]["targetPortNumber"] = 8000
    assert o.validate_any(v1_with_alpha_field) == [unexpected("$.spec", "targetPortNumber")]
    alpha: dict[str, Any] = {
        "apiVersion": "inference.networking.x-k8s.io/v1alpha2",
        "kind": "InferencePool",
        "metadata": {"name": "gaie-x"},
        "spec": {"targetPortNumber": 8000, "selector": {"app": "x"}, "extensionRef": {"name": "gaie-x-epp"}},
    }
    assert o.validate_any(alpha, "v0.5.1") == []
    assert o.validate_any(alpha, "v1.5.0") == [
        "no CRD for inference.networking.x-k8s.io/v1alpha2 InferencePool in ../shared"
    ]
    alpha["spec"]["selector"] = {"app": 1}
    assert o.validate_any(alpha, "v0.5.1") != []


def test_destinationrule_nullable_and_enum() -> None:
    dr: dict[str, Any] = {
        "apiVersion": "networking.istio.io/v1beta1",  # CRD root schema lacks apiVersion/kind: still accepted
        "kind": "DestinationRule",
        "metadata": {"name": "gaie-epp"},
        "spec": {"host": "gaie-epp.ns.svc.cluster.local", "trafficPolicy": {"tls": {"mode": "SIMPLE"}}},
    }
    assert o.validate_any(dr) == []
    dr["spec"]["trafficPolicy"]["tls"]["insecureSkipVerify"] = None  # nullable: true
    assert o.validate_any(dr) == []
    dr["spec"]["trafficPolicy"]["tls"] = {"mode": "BOGUS", "insecureSkipVerify": "yes"}
    assert len(o.validate_any(dr)) == 2


def test_leaderworkerset_int_or_string() -> None:
    lws: dict[str, Any] = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "wide-ep"},
        "spec": {
            "leaderWorkerTemplate": {
                "size": 2,
                "workerTemplate": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c"}]},
                },
            },
            "rolloutStrategy": {
                "type": "RollingUpdate",
                "rollingUpdateConfiguration": {"maxSurge": "25%", "maxUnavailable": 1},
            },
        },
    }
    assert o.validate_any(lws) == []
    lws["spec"]["rolloutStrategy"]["rollingUpdateConfiguration"] = {"maxSurge": 1.5, "maxUnavailable": True}
    ruc = "$.spec.rolloutStrategy.rollingUpdateConfiguration"
    assert o.validate_any(lws) == [
        f"{ruc}.maxSurge: 1.5 is not of type 'integer', 'string'",
        f"{ruc}.maxUnavailable: True is not of type 'integer', 'string'",
    ]
    lws["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]["containers"][0]["imag"] = "typo"
    assert unexpected("$.spec.leaderWorkerTemplate.workerTemplate.spec.containers[0]", "imag") in (
        o.validate_any(lws)
    )


def test_argocd_application_preserve_unknown_fields() -> None:
    app: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "llm-d", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "llm-d"},
            "source": {
                "repoURL": "https://example.com/deploy.git",
                "path": "deploy",
                "targetRevision": "HEAD",
                "helm": {"valuesObject": {"anything": {"goes": [1, None, "x"]}}},  # preserve-unknown-fields
            },
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }
    assert o.validate_any(app) == []
    app["spec"]["source"]["helm"]["valueObject"] = {}
    app["spec"]["syncPolicy"]["automated"]["prune"] = "yes"
    assert o.validate_any(app) == [
        unexpected("$.spec.source.helm", "valueObject"),
        "$.spec.syncPolicy.automated.prune: 'yes' is not of type 'boolean'",
    ]


# --- core kinds --------------------------------------------------------------------------------


def test_core_version() -> None:
    assert o.core_k8s_version() == "1.32"


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "epp", "labels": {"app.kubernetes.io/name": "epp"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "epp"}},
            "template": {
                "metadata": {"labels": {"app": "epp"}},
                "spec": {
                    "containers": [{"name": "epp", "image": "epp:v1", "ports": [{"containerPort": 9002}]}]
                },
            },
        },
    }


GOOD_CORE: list[dict[str, Any]] = [
    _deployment(),
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "llm-d"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a.yaml": "x: 1\n"}},
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "svc"},
        "spec": {"selector": {"app": "x"}, "ports": [{"port": 80, "targetPort": "http"}]},
    },
    {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "bench"},
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}
        },
    },
]


@pytest.mark.parametrize("doc", GOOD_CORE, ids=lambda d: str(d["kind"]))
def test_core_good(doc: dict[str, Any]) -> None:
    assert o.validate_core(doc) == []
    assert o.validate_any(doc) == []


def test_core_upstream_pvcs() -> None:
    tiered = f"{LD}/commit-899f8517/guides/tiered-prefix-cache/storage/manifests/pvc.yaml"
    assert o.validate_any(load(tiered)) == []
    # CATALOG §g.2: the MS example writes `storageClass` where the field is `storageClassName`.
    example = (
        "upstream/data/llm-d-incubation__llm-d-modelservice/llm-d-modelservice-v0.4.12/examples/pvc/pvc.yaml"
    )
    assert o.validate_any(load(example)) == [unexpected("$.spec", "storageClass")]


def test_core_bad() -> None:
    dep = _deployment()
    dep["spec"]["replicas"] = "2"
    dep["spec"]["template"]["spec"]["containers"][0]["bogus"] = 1
    errors = o.validate_core(dep)
    assert len(errors) == 2
    assert unexpected("$.spec.template.spec.containers[0]", "bogus") in errors
    assert any(e.startswith("$.spec.replicas: '2' is not of type 'integer'") for e in errors)
    job = copy.deepcopy(GOOD_CORE[4])
    del job["spec"]["template"]["spec"]["containers"]
    assert o.validate_core(job) == ["$.spec.template.spec: 'containers' is a required property"]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {"a": "b"}}, "data": {"k": 1}}
    assert len(o.validate_core(cm)) == 2  # missing name + non-string data
    assert o.validate_core({"kind": "ConfigMap"}) != []
    assert o.validate_core({"apiVersion": "v1", "kind": "Frob", "metadata": {"name": "x"}}) == [
        "Couldn't find schema for kind Frob with api version v1 for kubernetes version 1.32"
    ]


def test_dispatch() -> None:
    assert o.is_core("v1") and o.is_core("apps/v1") and o.is_core("networking.k8s.io/v1")
    assert not o.is_core("gateway.networking.k8s.io/v1")
    assert not o.is_core("inference.networking.k8s.io/v1")
    assert not o.is_core("monitoring.coreos.com/v1")


# --- kustomize ---------------------------------------------------------------------------------


def test_kustomize_build_upstream_recipe() -> None:
    docs = o.kustomize_build(o.shared() / LD / "commit-899f8517/guides/recipes/gateway/istio")
    assert sorted(d["kind"] for d in docs) == ["ConfigMap", "Gateway", "HTTPRoute"]
    assert all(o.validate_any(d) == [] for d in docs)
    # the base is deliberately incomplete (overlays set the class): the oracle notices
    base = o.kustomize_build(o.shared() / LD / "commit-899f8517/guides/recipes/gateway/base")
    gateway = next(d for d in base if d["kind"] == "Gateway")
    assert o.validate_any(gateway) == ["$.spec: 'gatewayClassName' is a required property"]


def test_kustomize_build_v030_kgateway_params_rejected_by_present_crds() -> None:
    docs = o.kustomize_build(
        o.shared() / LD / "v0.3.0/guides/wide-ep-lws/manifests/gateway/kgateway-openshift"
    )
    params = next(d for d in docs if d["kind"] == "GatewayParameters")
    for release in (None, "v2.2.8"):  # floatingUserId is in neither kgateway CRD copied to ../shared
        assert o.validate_any(params, release) == [unexpected("$.spec.kube", "floatingUserId")]


def test_kustomize_build_local(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\nnamespace: llm-d\n")
    assert o.kustomize_build(tmp_path) == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "llm-d"}}
    ]
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(AssertionError, match=r"missing\.yaml"):
        o.kustomize_build(tmp_path)
