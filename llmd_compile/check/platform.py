"""Platform and gateway-provider rules (LLMD4xx): each with its reason and the fix."""

from __future__ import annotations

from collections.abc import Iterator

from llmd_compile.catalog import providers
from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts, dig

GATEWAY_CLASSES = {"istio": {"istio"}, "kgateway": {"kgateway", "agentgateway"},
                   "agentgateway": {"agentgateway"}, "gke": {"gke-l7-regional-external-managed", "gke-l7-rilb"}}


def openshift_istio(a: Artifacts) -> Iterator[Finding]:
    spec = a.stack.spec
    if spec.platforms.openshift is not None and spec.gateway.provider == "istio":
        yield Finding("gateway.provider", "OpenShift Service Mesh lacks the Gateway API inference extension; the "
                      "Gateway stays 'Unknown' unless upstream Istio runs with it enabled")


def gke_timeouts(a: Artifacts) -> Iterator[Finding]:
    spec = a.stack.spec
    if spec.gateway.provider == "gke" and spec.route and spec.route.timeouts.model_dump(exclude_none=True):
        yield Finding("route.timeouts", "GKE gateways reject HTTPRoute timeouts; they were left out")


def gke_podmonitor(a: Artifacts) -> Iterator[Finding]:
    if a.stack.spec.gateway.provider != "gke":
        return
    if any(dig(a.ms, role, "monitoring", "podmonitor", "enabled") for role in ("decode", "prefill")):
        yield Finding("monitoring.podMonitor.enabled", "GKE scrapes with Google Managed Prometheus (PodMonitoring); "
                      "the monitoring.coreos.com PodMonitor CRD exists only with the Prometheus operator installed, "
                      "and the llm-d GKE environment switches the PodMonitor off")


def kgateway_renamed(a: Artifacts) -> Iterator[Finding]:
    infra = a.stack.infra
    if a.stack.spec.gateway.provider == "kgateway" and infra is not None and infra.has_provider:
        yield Finding("gateway.provider", f"llm-d-infra {infra.version} renders agentgateway for the "
                                          "kgateway provider (kgateway is deprecated in llm-d)")
    if a.stack.spec.gateway.provider == "kgateway" and a.is_router:
        cls = dig(a.doc("gateway/base/gateway.yaml"), "spec", "gatewayClassName")
        yield Finding("gateway.provider", f"the kgateway recipe renders gatewayClassName {cls!r} (kgateway is "
                                          "deprecated in llm-d; its recipe is kept for migration only)")


def writable_cache(a: Artifacts) -> Iterator[Finding]:
    if a.stack.spec.platforms.openshift is None:
        return
    decode = next((c for role, c in a.role_containers() if role == "decode"), {}) if a.is_router else \
        dig(a.ms, "decode", "containers", 0, default={}) or {}
    if not decode:  # decode scaled to zero: no pod writes anything
        return
    mounts = {m.get("mountPath") for m in decode.get("volumeMounts", []) or []}
    missing = sorted({"/.cache", "/.config"} - mounts)
    if missing:
        yield Finding("platforms.openshift", f"vLLM writes {missing} under HOME=/; OpenShift's random UID cannot "
                                             "write there without an emptyDir mount")


def fixed_uid(a: Artifacts) -> Iterator[Finding]:
    if a.stack.spec.platforms.openshift is None:
        return
    for doc in a.base_docs():
        pod = dig(doc, "spec", "template", "spec", default={}) or {}
        contexts = [pod.get("securityContext") or {}] + [c.get("securityContext") or {}
                                                          for c in pod.get("containers", []) or []]
        if any("runAsUser" in ctx for ctx in contexts):
            yield Finding("platforms.openshift", f"{doc.get('kind')} {dig(doc, 'metadata', 'name')} fixes a UID; "
                                                 "restricted-v2 assigns one from the namespace range")


def legacy_pool_group(a: Artifacts) -> Iterator[Finding]:
    if a.stack.spec.gateway.provider == "istio" and a.stack.pool_group == "inference.networking.x-k8s.io":
        yield Finding("charts.inferencepool", "the route references an x-k8s.io v1alpha2 InferencePool: Istio 1.28 "
                      "GA and later reject it (InvalidKind); the seed's 1.28-alpha build accepts it")


def default_storage_class(a: Artifacts) -> Iterator[Finding]:
    pvc = a.stack.spec.model.cache.pvc
    if pvc is None or "ReadWriteMany" not in pvc.accessModes:
        return
    for name in a.stack.spec.platforms.names():
        if getattr(a.stack.spec.platforms, name).storageClassName is None:
            yield Finding(f"platforms.{name}", "a ReadWriteMany PVC on the default StorageClass: default classes "
                                               "are often ReadWriteOnce only and the claim stays Pending")


def prerequisites(a: Artifacts) -> Iterator[Finding]:
    preset = a.stack.router
    if preset is not None:
        crds = f"GAIE {preset.gaie_crds} v1-manifests (InferencePool), llm-d-router {preset.router_crds} llm-d.ai CRDs"
        if providers.has_gateway(a.stack.spec.gateway.provider):
            crds = f"Gateway API {preset.gateway_api_crds} CRDs, {crds}"
        yield Finding("release", f"install before syncing: {crds} (prereqs/crds; without the InferencePool CRD the "
                                 "EPP crash-loops)")
        return
    release = a.stack.release
    crds = f"Gateway API CRDs {release.gateway_api_crds}, inference-extension CRDs {release.gaie_crds}" \
        if release else "Gateway API and inference-extension CRDs matching the pinned charts"
    if not providers.has_gateway(a.stack.spec.gateway.provider):  # no Gateway, no HTTPRoute: the pool's CRDs only
        crds = f"inference-extension CRDs {release.gaie_crds}" if release else \
            "inference-extension CRDs matching the pinned inferencepool chart"
    yield Finding("charts.inferencepool", f"install before syncing: {crds} (without the InferenceModel/Pool CRDs "
                                          "the EPP crash-loops)")


def gateway_class(a: Artifacts) -> Iterator[Finding]:
    if not providers.has_gateway(a.stack.spec.gateway.provider):
        return  # no llm-d-infra release: LLMD412 reports gateway pieces that should not be there
    cls = dig(a.infra, "gateway", "gatewayClassName")
    if a.is_router:  # the Gateway recipe we write (gateway/base/gateway.yaml)
        if not a.stack.spec.gateway.create:
            return  # another stack's Gateway
        cls = dig(a.doc("gateway/base/gateway.yaml"), "spec", "gatewayClassName")
    allowed = GATEWAY_CLASSES[a.stack.spec.gateway.provider]
    if cls not in allowed:
        yield Finding("gateway.provider", f"gatewayClassName {cls!r} does not belong to provider "
                                          f"{a.stack.spec.gateway.provider} ({sorted(allowed)})")


def picker_only(a: Artifacts) -> Iterator[Finding]:
    """A picker-only stack's artifacts carry nothing that needs a Gateway (which would fail or dangle)."""
    if providers.has_gateway(a.stack.spec.gateway.provider):
        return
    infra = [r.get("name") for r in dig(a.doc("helmfile.yaml"), "releases", default=[]) or []
             if str(r.get("chart", "")).endswith("/llm-d-infra")]
    if infra or a.doc("values/infra.yaml") is not None:
        yield Finding("gateway.provider", f"the stack installs llm-d-infra {infra or ['(values/infra.yaml)']}, "
                                          "a Gateway nothing asked for")
    routes = sorted(str(dig(d, "metadata", "name")) for d in a.base_docs() if d.get("kind") == "HTTPRoute")
    if routes:
        yield Finding("gateway.provider", f"HTTPRoute(s) {routes} name a Gateway the stack does not install")
    if a.is_router:
        releases = dig(a.doc("helmfile.yaml"), "releases", default=[]) or [{}]
        chart = str(releases[0].get("chart", ""))
        if not chart.endswith("/llm-d-router-standalone"):
            yield Finding("gateway.provider", f"the stack installs {chart.rsplit('/', 1)[-1]!r}; without a Gateway "
                                              "it must be llm-d-router-standalone (Envoy beside the picker)")
        if any(rel.startswith("gateway/") for rel in a.files) or dig(a.router, "httpRoute", "create"):
            yield Finding("gateway.provider", "a Gateway or HTTPRoute is generated for a stack without a Gateway")
        return
    name = dig(a.pool, "provider", "name", default="none")
    if name != "none":
        yield Finding("gateway.provider", f"inferencepool provider.name {name!r} renders {name}-specific objects "
                                          "for a gateway the stack does not have; it must be 'none'")
    if dig(a.pool, "experimentalHttpRoute", "enabled"):
        yield Finding("gateway.provider", "the inferencepool chart would render an HTTPRoute "
                                          "(experimentalHttpRoute.enabled) to a Gateway the stack does not install")


def istio_service_type(a: Artifacts) -> Iterator[Finding]:
    """The Service type asked for is not the one Istio will make (llm-d-infra v1.3.0's Gateway annotation)."""
    infra = a.stack.infra
    if infra is None or not infra.istio_clusterip_annotation or a.stack.spec.gateway.provider != "istio":
        return
    asked = dig(a.doc("values/infra.yaml"), "gateway", "service", "type", default=infra.default_service_type)
    if asked != "ClusterIP":
        yield Finding("gateway.service.type", f"llm-d-infra {infra.version} annotates the Istio Gateway "
                      "networking.istio.io/service-type: ClusterIP, so Istio creates a ClusterIP Service, not the "
                      f"{asked} asked for (the seed saw exactly this)")


def schemaless_chart(a: Artifacts) -> Iterator[Finding]:
    if not a.stack.ms.has_schema:
        yield Finding("charts.modelservice", f"llm-d-modelservice {a.stack.ms.version} ships no values schema: "
                      "Helm will not catch a wrong key; llmd-compile shapes the values for it")


RULES = (
    Rule("LLMD401", "warning", "Istio on OpenShift: Service Mesh lacks the inference extension",
         "remove OpenShift Service Mesh and install upstream Istio with ENABLE_GATEWAY_API_INFERENCE_EXTENSION "
         "(see the stack README)", openshift_istio),
    Rule("LLMD402", "warning", "route timeouts dropped on GKE", "remove route.timeouts for gke", gke_timeouts),
    Rule("LLMD403", "warning", "kgateway provider renders agentgateway",
         "set gateway.provider: agentgateway", kgateway_renamed),
    Rule("LLMD404", "error", "model pods lack writable cache dirs on OpenShift",
         "mount emptyDirs at /.cache and /.config", writable_cache),
    Rule("LLMD405", "error", "a generated pod fixes its UID on OpenShift",
         "drop runAsUser; keep runAsNonRoot", fixed_uid),
    Rule("LLMD406", "info", "x-k8s.io InferencePool behind Istio",
         "pin the seed's Istio 1.28-alpha, or move to inferencepool >= v1.0 with the v1 API", legacy_pool_group),
    Rule("LLMD407", "warning", "ReadWriteMany claim on the default StorageClass",
         "set platforms.<platform>.storageClassName to an RWX class", default_storage_class),
    Rule("LLMD408", "info", "cluster prerequisites", "install the CRDs and the gateway control plane first",
         prerequisites),
    Rule("LLMD409", "error", "gatewayClassName does not belong to the gateway provider",
         "let llmd-compile derive the class from gateway.provider", gateway_class),
    Rule("LLMD411", "warning", "PodMonitor on GKE",
         "disable monitoring.podMonitor on GKE, or install the Prometheus operator CRDs first", gke_podmonitor),
    Rule("LLMD410", "info", "modelservice chart without a values schema",
         "pin llm-d-modelservice >= v0.2.8 to have Helm validate values too", schemaless_chart),
    Rule("LLMD412", "error", "a picker-only stack carries gateway pieces",
         "with gateway.provider none, let llmd-compile emit no llm-d-infra release, no HTTPRoute and inferencepool "
         "provider.name none; do not hand-edit out/", picker_only),
    Rule("LLMD413", "warning", "Istio Gateway Service comes up ClusterIP whatever its type says",
         "set gateway.service.type: ClusterIP and reach the gateway through the OpenShift Route "
         "(platforms.openshift.exposeRoute), kubectl port-forward or your own LoadBalancer Service; or pin "
         "llm-d-infra v1.3.4 or later, which honour gateway.service.type", istio_service_type),
)
