"""gateway.provider none (a picker-only stack): what it rejects, as a table, and what it emits, inline.

A picker-only stack has no llm-d-infra Gateway: every setting that only means something with one is an error at
the line that wrote it, and no artifact names a Gateway.
"""

from __future__ import annotations

import pytest

from llmd_compile import check
from llmd_compile.catalog import charts
from llmd_compile.check.artifacts import Artifacts
from llmd_compile.compile import build, compile_spec
from llmd_compile.errors import SpecError
from llmd_compile.spec.load import load_text_marked, relocate

BASE = """\
apiVersion: llmd-compile/v1alpha1
kind: Stack
metadata:
  name: picker
  namespace: llm-d-picker
release: v0.6
model:
  name: random
accelerator:
  vendor: simulated
  model: Simulated
decode:
  replicas: 2
  image: ghcr.io/llm-d/llm-d-inference-sim:v0.8.2
gateway:
  provider: none
scheduler:
  scorers:
    queue: 1
platforms:
  kubernetes: {}
"""
ROUTE = "route:\n  name: llm-d-picker\n  timeouts:\n    request: 0s\n"
BENCH = "benchmark:\n  guidellm:\n    users: 4\n"

# (case id, [(old, new) edits], expected problem lines without the "x.yaml:" prefix)
CASES: list[tuple[str, list[tuple[str, str]], list[str]]] = [
    ("route without a gateway", [("platforms:\n", ROUTE + "platforms:\n")],
     ["20:1: route: a picker-only stack (gateway.provider: none) has no Gateway to route from: drop route and "
      "attach your own HTTPRoute to the InferencePool (see the stack README)"]),
    ("a gateway provider needs a route", [("provider: none", "provider: istio")],
     ["1:1: route: required field is missing"]),
    ("gateway service type", [("  provider: none\n", "  provider: none\n  service:\n    type: NodePort\n")],
     ["17:3: gateway.service: there is no gateway Service: drop gateway.service"]),
    ("infra chart pinned", [("release: v0.6\n", "release: v0.6\ncharts:\n  infra: v1.4.0\n")],
     ["8:10: charts.infra: no llm-d-infra release is installed without a Gateway: drop charts.infra"]),
    ("guidellm benchmark", [("platforms:\n", BENCH + "platforms:\n")],
     ["21:3: benchmark.guidellm: the guidellm Job drives load through the gateway Service, which a picker-only "
      "stack does not have"]),
    ("OpenShift Route asked for", [("  kubernetes: {}\n", "  openshift:\n    exposeRoute: true\n")],
     ["22:18: platforms.openshift.exposeRoute: the OpenShift Route exposes the gateway Service, which a "
      "picker-only stack does not have"]),
    ("all at once", [("platforms:\n", BENCH + "platforms:\n"),
                     ("release: v0.6\n", "release: v0.6\ncharts:\n  infra: v1.4.0\n")],
     ["8:10: charts.infra: no llm-d-infra release is installed without a Gateway: drop charts.infra",
      "23:3: benchmark.guidellm: the guidellm Job drives load through the gateway Service, which a picker-only "
      "stack does not have"]),
]


def problems(text: str) -> list[str]:
    """Load errors as located by the loader; compile errors at the line of their field."""
    try:
        spec, marks = load_text_marked(text, "x.yaml")
    except SpecError as exc:
        return [str(p).removeprefix("x.yaml:") for p in exc.problems]
    with pytest.raises(SpecError) as info:
        compile_spec(spec, "x.yaml")
    return [str(p).removeprefix("x.yaml:") for p in sorted(relocate(info.value.problems, marks))]


def edit(edits: list[tuple[str, str]]) -> str:
    text = BASE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize(("edits", "expected"), [(e, x) for _, e, x in CASES], ids=[c[0] for c in CASES])
def test_rejected(edits: list[tuple[str, str]], expected: list[str]) -> None:
    assert problems(edit(edits)) == expected


def compiled(text: str = BASE) -> dict[str, str]:
    spec, _ = load_text_marked(text, "x.yaml")
    return compile_spec(spec, "x.yaml")


def body(text: str) -> str:
    """A generated file without its two-line header."""
    return "".join(text.splitlines(keepends=True)[2:])


def test_files() -> None:
    """No values/infra.yaml, prereqs/helmfile.yaml, HTTPRoute, smoke test or benchmark."""
    assert sorted(compiled()) == [
        "README.md", "base/kustomization.yaml", "epp/endpoint-picker-config.yaml", "helmfile.yaml",
        "overlays/kubernetes/kustomization.yaml", "values/inferencepool.yaml", "values/modelservice.yaml",
    ]


def test_helmfile_has_no_infra_release() -> None:
    assert body(compiled()["helmfile.yaml"]) == """\
repositories:
  - name: llm-d-modelservice
    url: https://llm-d-incubation.github.io/llm-d-modelservice/
releases:
  - name: gaie-picker
    namespace: llm-d-picker
    chart: oci://registry.k8s.io/gateway-api-inference-extension/charts/inferencepool
    version: v1.4.0
    values:
      - values/inferencepool.yaml
  - name: ms-picker
    namespace: llm-d-picker
    chart: llm-d-modelservice/llm-d-modelservice
    version: v0.4.9
    needs:
      - llm-d-picker/gaie-picker
    values:
      - values/modelservice.yaml
"""


def test_kustomize_base_is_empty_without_a_cache_pvc() -> None:
    files = compiled()
    assert body(files["base/kustomization.yaml"]) == """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: llm-d-picker
resources: []
"""
    # No Job of ours to patch: the overlay is the base plus the user component.
    assert body(files["overlays/kubernetes/kustomization.yaml"]) == """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: llm-d-picker
resources:
  - ../../base
components:
  - ../../../../overlays/kubernetes
"""


def test_openshift_overlay_has_no_route() -> None:
    files = compiled(BASE.replace("  kubernetes: {}\n", "  openshift: {}\n"))
    assert not any(path.startswith("overlays/openshift/") and path != "overlays/openshift/kustomization.yaml"
                   for path in files)


def test_argocd_children_skip_gateway_pieces() -> None:
    text = BASE + "gitops:\n  argocd:\n    repoURL: https://github.com/example/gitops.git\n"
    prefix = "argocd/kubernetes/"
    children = sorted(p.removeprefix(prefix) for p in compiled(text) if p.startswith(prefix))
    assert children == ["00-inference-extension-crds.yaml", "20-inferencepool.yaml", "30-stack.yaml",
                        "40-llm-d-modelservice.yaml"]


def test_pvc_cache_keeps_its_download_job() -> None:
    text = BASE.replace("  name: random\n", "  name: random\n  cache:\n    pvc:\n      name: models\n      size: 1Gi\n")
    files = compiled(text)
    assert body(files["base/kustomization.yaml"]).endswith("resources:\n  - model-download-job.yaml\n  - pvc.yaml\n")
    assert "runAsUser" in files["overlays/kubernetes/kustomization.yaml"]


@pytest.mark.parametrize("preset", list(charts.RELEASES))
def test_every_preset_sets_provider_none(preset: str) -> None:
    text = BASE.replace("release: v0.6", f"release: {preset}")
    if preset == "seed":  # the seed's images: its sidecar cannot be switched off, its picker is sched-v0.2.1
        text = text.replace("v0.8.2", "v0.3.0")
    values = compiled(text)["values/inferencepool.yaml"]
    assert values.endswith("provider:\n  name: none\n")
    assert "gateway" not in values.replace("gateway-sa-metrics-reader", "").replace("gateway-api-inference", "")


INFRA_RELEASE = ("  - name: infra-picker\n    namespace: llm-d-picker\n    chart: llm-d-infra/llm-d-infra\n"
                 "    version: v1.4.0\n")
ROUTE_DOC = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: llm-d-picker\n"
# (case id, artifact, old text ("" adds the file), new text, LLMD412 message piece)
TAMPERS = [
    ("infra release", "helmfile.yaml", "releases:\n", "releases:\n" + INFRA_RELEASE,
     "installs llm-d-infra ['infra-picker']"),
    ("infra values", "values/infra.yaml", "", "gateway:\n  gatewayClassName: istio\n",
     "installs llm-d-infra ['(values/infra.yaml)']"),
    ("HTTPRoute", "base/httproute.yaml", "", ROUTE_DOC, "HTTPRoute(s) ['llm-d-picker'] name a Gateway"),
    ("pool provider", "values/inferencepool.yaml", "  name: none\n", "  name: istio\n",
     "provider.name 'istio' renders istio-specific objects"),
    ("chart-rendered route", "values/inferencepool.yaml", "provider:\n",
     "experimentalHttpRoute:\n  enabled: true\nprovider:\n", "would render an HTTPRoute"),
]


def diagnostics(files: dict[str, str] | None = None) -> list[str]:
    spec, _ = load_text_marked(BASE, "x.yaml")
    stack, built = build(spec, "x.yaml")
    return [f"{d.code} {d.severity} {d.field}: {d.message}" for d in check.run(Artifacts(stack, files or built))]


def test_no_diagnostic_misses_a_gateway() -> None:
    # LLMD501 is right here and has nothing to do with a gateway: the v0.6 preset's picker image is gone.
    assert [d for d in diagnostics() if " info " not in d and not d.startswith("LLMD501 ")] == []
    assert any(d.startswith("LLMD501 warning release: ghcr.io/llm-d/llm-d-inference-scheduler:") for d in diagnostics())


@pytest.mark.parametrize(("path", "old", "new", "piece"), [t[1:] for t in TAMPERS], ids=[t[0] for t in TAMPERS])
def test_gateway_pieces_are_errors(path: str, old: str, new: str, piece: str) -> None:
    files = dict(compiled())
    if old:
        assert files[path].count(old) == 1, old
        files[path] = files[path].replace(old, new)
    else:
        files[path] = new
    found = [d for d in diagnostics(files) if d.startswith("LLMD412 error gateway.provider: ")]
    assert len(found) == 1 and piece in found[0], found
