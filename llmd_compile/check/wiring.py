"""Wiring: Gateway <- HTTPRoute -> InferencePool -> EPP -> model pods -> PVC -> Secret (LLMD1xx).

A picker-only stack (gateway.provider none) has no Gateway, HTTPRoute or smoke test: the rules about them find
nothing to check there, and LLMD412 (check/platform.py) makes sure none was generated.

Every expected value is re-derived from the artifacts themselves (release names from the
helmfile, chart naming rules from catalog.naming), never read back from resolve's Names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from llmd_compile.catalog import naming, providers, vllm
from llmd_compile.check import Finding, Rule
from llmd_compile.check import paths as paths_rules
from llmd_compile.check.artifacts import Artifacts, dig


def _releases(a: Artifacts) -> dict[str, str]:
    """chart name -> release name, as the helmfile installs them."""
    out = {}
    for release in dig(a.doc("helmfile.yaml"), "releases", default=[]) or []:
        chart = str(release.get("chart", "")).rsplit("/", 1)[-1]
        out[chart] = str(release.get("name", ""))
    return out


def _backends(a: Artifacts) -> Iterator[dict[str, Any]]:
    for rule in dig(a.route, "spec", "rules", default=[]) or []:
        yield from rule.get("backendRefs", []) or []


def _pool_api_version(a: Artifacts) -> str:
    versions = a.stack.pool.pool_api_versions
    asked = dig(a.pool, "inferencePool", "apiVersion")
    return asked if asked in versions else versions[0]


def _target_port(a: Artifacts) -> int | None:
    pool = a.pool.get("inferencePool", {})
    if "targetPortNumber" in pool:
        return int(pool["targetPortNumber"])
    ports = pool.get("targetPorts") or []
    return int(ports[0]["number"]) if ports else None


def _sidecar(a: Artifacts) -> bool:
    return not a.stack.ms.proxy_toggle or bool(dig(a.ms, "routing", "proxy", "enabled", default=True))


def _decode_container(a: Artifacts) -> dict[str, Any]:
    if a.is_router:
        return next((c for role, c in a.role_containers() if role == "decode"), {})
    return dig(a.ms, "decode", "containers", 0, default={}) or {}


def _router_chart_route(a: Artifacts) -> bool:
    """Router shape: the router chart renders the HTTPRoute from the release (backendRef = InferencePool <release>
    in inference.networking.k8s.io, no port), so its backend cannot disagree with the pool;
    tests/conformance/test_router_render.py checks the rendered objects."""
    return a.is_router


def route_parent(a: Artifacts) -> Iterator[Finding]:
    if a.is_router:
        route = dig(a.router, "httpRoute", default={}) or {}
        if not route.get("create") or not a.stack.spec.gateway.create:  # another stack's Gateway (check/multimodel)
            return
        gateways = {dig(d, "metadata", "name") for rel in a.files if rel.startswith("gateway/base/")
                    if isinstance(d := a.doc(rel), dict) and d.get("kind") == "Gateway"}
        wanted = route.get("inferenceGatewayName", "inference-gateway")  # the chart's default
        if wanted not in gateways:
            yield Finding("gateway.provider", f"the router chart's HTTPRoute names Gateway {wanted!r}; the stack's "
                                              f"Gateway recipe creates {sorted(map(str, gateways))}")
        return
    gateway = dig(a.infra, "gateway", default={}) or {}
    expected = naming.gateway_name(_releases(a).get("llm-d-infra", ""), gateway.get("nameOverride", ""),
                                   gateway.get("fullnameOverride", ""))
    for ref in dig(a.route, "spec", "parentRefs", default=[]) or []:
        if ref.get("kind", "Gateway") == "Gateway" and ref.get("name") != expected:
            yield Finding("route.name", f"HTTPRoute parentRef names Gateway {ref.get('name')!r}; "
                                        f"the llm-d-infra release renders {expected!r}")


def route_backend_group(a: Artifacts) -> Iterator[Finding]:
    if _router_chart_route(a):
        return
    group = _pool_api_version(a).split("/")[0]
    for ref in _backends(a):
        if ref.get("kind") == "InferencePool" and ref.get("group") != group:
            yield Finding("charts.inferencepool", f"HTTPRoute backendRef group {ref.get('group')!r} but "
                          f"inferencepool {a.stack.pool.version} renders InferencePool in {group!r}")


def route_backend_name(a: Artifacts) -> Iterator[Finding]:
    if _router_chart_route(a):
        return
    pool = _releases(a).get("inferencepool")
    for ref in _backends(a):
        if ref.get("kind") == "InferencePool" and ref.get("name") != pool:
            yield Finding("metadata.name", f"HTTPRoute backendRef names InferencePool {ref.get('name')!r}; "
                                           f"the inferencepool release is {pool!r}")


def route_backend_port(a: Artifacts) -> Iterator[Finding]:
    if _router_chart_route(a):
        return
    target = _target_port(a)
    for ref in _backends(a):
        if "port" in ref and ref["port"] != target:
            yield Finding("route.name", f"HTTPRoute backendRef port {ref['port']} but the pool targets {target}")


def pod_labels(a: Artifacts) -> dict[str, str]:
    """Labels the pinned modelservice chart puts on decode pods (CATALOG §a.2)."""
    if a.stack.ms.has_labels_key:
        labels = dict(dig(a.ms, "modelArtifacts", "labels", default={}) or {})
    else:
        fullname = naming.ms_fullname(_releases(a).get("llm-d-modelservice", ""))
        labels = {a.stack.ms.serving_label: "true", "llm-d.ai/model": fullname}
    return {**labels, "llm-d.ai/role": "decode"}


def _router_pool_selector(a: Artifacts) -> Iterator[Finding]:
    selector = a.pool_selector()
    if not selector:
        yield Finding("metadata.name", "the router values have no router.modelServers.matchLabels (the chart fails)")
        return
    templates = a.pod_templates()
    roles = {role for role, t in templates if selector.items() <= (dig(t, "metadata", "labels", default={}) or
                                                                   {}).items()}
    if templates and "decode" not in roles:
        labels = [dig(t, "metadata", "labels") for role, t in templates if role == "decode"]
        yield Finding("metadata.name", f"pool selector {selector} matches no decode pod template: the kustomize model "
                                       f"servers label them {labels}")


def _router_target_ports(a: Artifacts) -> Iterator[Finding]:
    selector = a.pool_selector()
    for role, template in a.pod_templates():
        if not selector or not selector.items() <= (dig(template, "metadata", "labels", default={}) or {}).items():
            continue
        pod = template.get("spec") or {}
        serving = [*(pod.get("containers") or []),
                   *(c for c in pod.get("initContainers") or [] if c.get("restartPolicy") == "Always")]
        ports = {p.get("containerPort") for c in serving for p in c.get("ports") or []}
        missing = sorted(set(a.pool_target_ports()) - ports)
        if missing:
            yield Finding("decode.sidecar", f"the pool targets port(s) {missing} but {role} pods serve on "
                                            f"{sorted(p for p in ports if p is not None)}")


def pool_selector(a: Artifacts) -> Iterator[Finding]:
    if a.is_router:
        yield from _router_pool_selector(a)
        return
    selector = dig(a.pool, "inferencePool", "modelServers", "matchLabels", default={}) or {}
    labels = pod_labels(a)
    if not selector:
        yield Finding("charts.inferencepool", "the pool has no modelServers.matchLabels (the chart fails)")
    missing = {k: v for k, v in selector.items() if labels.get(k) != v}
    if missing:
        yield Finding("charts.modelservice", f"pool selector {missing} matches no decode pod: modelservice "
                      f"{a.stack.ms.version} labels them {labels}")


def pool_target_port(a: Artifacts) -> Iterator[Finding]:
    if a.is_router:
        yield from _router_target_ports(a)
        return
    service_port = dig(a.ms, "routing", "servicePort", default=8000)
    target = _target_port(a)
    if target != service_port:
        yield Finding("decode.sidecar", f"pool targets port {target} but model pods serve on {service_port} "
                      f"({'the routing sidecar' if _sidecar(a) else 'vLLM'})")


def _router_metrics_port(a: Artifacts) -> Iterator[Finding]:
    """Each PodMonitor endpoint port names the vLLM container's port (vLLM --port, default 8000)."""
    containers = dict(a.role_containers())
    for doc in a.model_server_docs():
        if doc.get("kind") != "PodMonitor":
            continue
        role = dig(doc, "spec", "selector", "matchLabels", "llm-d.ai/role")
        container = containers.get(str(role))
        if container is None:
            continue
        served = vllm.flag_value(vllm.container_args(container), "--port")
        port = int(served) if served else 8000
        named = {p.get("name"): p.get("containerPort") for p in container.get("ports", []) or []}
        for endpoint in dig(doc, "spec", "podMetricsEndpoints", default=[]) or []:
            name = endpoint.get("port")
            if named.get(name) != port:
                yield Finding("monitoring.podMonitor", f"PodMonitor {dig(doc, 'metadata', 'name')} scrapes port "
                              f"{name!r} = {named.get(name)}, but vLLM listens on {port}")


def metrics_port(a: Artifacts) -> Iterator[Finding]:
    if a.is_router:
        yield from _router_metrics_port(a)
        return
    vllm = dig(a.ms, "routing", "proxy", "targetPort", default=8200) if _sidecar(a) else \
        dig(a.ms, "routing", "servicePort", default=8000)
    name = dig(a.ms, "decode", "monitoring", "podmonitor", "portName")
    ports = {p.get("name"): p.get("containerPort") for p in _decode_container(a).get("ports", []) or []}
    if name and ports.get(name) != vllm:
        yield Finding("monitoring.podMonitor", f"PodMonitor scrapes port {name!r} = {ports.get(name)}, "
                      f"but vLLM listens on {vllm}")


def _destination_rule_host(a: Artifacts) -> str | None:
    for path in (("gateway", "destinationRule"),):
        rule = dig(a.infra, *path)
        if isinstance(rule, dict) and rule.get("enabled"):
            return str(rule.get("host"))
    for rule in (dig(a.pool, "istio", "destinationRule"), dig(a.pool, "provider", "istio", "destinationRule")):
        if isinstance(rule, dict) and rule.get("host"):
            return str(rule["host"])
    return None


def destination_rule(a: Artifacts) -> Iterator[Finding]:
    if a.is_router:
        # The gateway chart renders the DestinationRule only with provider.name istio, host <release>-epp.<ns>.
        if a.stack.spec.gateway.provider != "istio":
            return
        name = dig(a.router, "provider", "name")
        host = dig(a.router, "provider", "istio", "destinationRule", "host")
        expected = f"{naming.epp_service(a.stack.spec.metadata.name)}.{a.stack.names.namespace}.svc.cluster.local"
        if name != "istio":
            yield Finding("gateway.provider", f"router values provider.name {name!r}: the chart renders no Istio "
                                              "DestinationRule for the EPP's TLS")
        elif host and host != expected:
            yield Finding("gateway.provider", f"Istio DestinationRule host {host!r}; the EPP Service is {expected!r}")
        return
    host = _destination_rule_host(a)
    epp = naming.epp_service(_releases(a).get("inferencepool", ""))
    expected = f"{epp}.{a.stack.names.namespace}.svc.cluster.local"
    if a.stack.spec.gateway.provider == "istio" and host != expected:
        yield Finding("gateway.provider", f"Istio DestinationRule host {host!r}; the EPP Service is {expected!r}")


def gated_token(a: Artifacts) -> Iterator[Finding]:
    from llmd_compile.check.capacity import model_facts

    facts = model_facts(a)
    if facts is not None and facts.gated and not a.secret_refs():
        yield Finding("model.tokenSecret", f"{a.stack.spec.model.name} is gated on Hugging Face and no token "
                                           "Secret is referenced")


def token_key(a: Artifacts) -> Iterator[Finding]:
    if a.is_router:
        return  # the kustomize model servers read the key the spec names (secretKeyRef.key): nothing to disagree
    secret = a.stack.spec.model.tokenSecret
    if secret and secret.key != "HF_TOKEN" and dig(a.ms, "modelArtifacts", "authSecretName"):
        yield Finding("model.tokenSecret.key", f"llm-d-modelservice reads key HF_TOKEN of Secret {secret.name!r}, "
                                               f"not {secret.key!r}")


def _job_script(a: Artifacts, name_part: str) -> str:
    for doc in a.base_docs():
        if doc.get("kind") == "Job" and name_part in dig(doc, "metadata", "name", default=""):
            command = dig(doc, "spec", "template", "spec", "containers", 0, "command", default=[]) or []
            return "\n".join(str(c) for c in command)
    return ""


def served_name(a: Artifacts) -> Iterator[Finding]:
    served = dig(a.ms, "modelArtifacts", "name")
    script = _job_script(a, "smoke-test")
    asked = set(re.findall(r'"model": "([^"]+)"', script))
    if asked and asked != {served}:
        yield Finding("model.servedName", f"smoke test asks for model {sorted(asked)} but vLLM serves {served!r}")


def smoke_target(a: Artifacts) -> Iterator[Finding]:
    if not providers.has_gateway(a.stack.spec.gateway.provider):
        return  # picker-only: no gateway Service and no smoke test (LLMD412 guards the rest)
    gateway = naming.gateway_name(_releases(a).get("llm-d-infra", ""))
    service = naming.gateway_service(gateway, a.stack.spec.gateway.provider)
    script = _job_script(a, "smoke-test")
    if a.stack.spec.gateway.provider == "gke":  # a cloud load balancer: the Job reads the Gateway's address
        if script and f"/gateways/{gateway}" not in script:
            yield Finding("gateway.provider", f"smoke test does not read the address of Gateway {gateway!r}")
        return
    if script and f"http://{service}." not in script:
        yield Finding("gateway.provider", f"smoke test does not target the gateway Service {service!r}")


def pvc_claim(a: Artifacts) -> Iterator[Finding]:
    if a.is_router:
        claims = {dig(d, "metadata", "name") for d in a.model_server_docs() if d.get("kind") == "PersistentVolumeClaim"}
        for role, template in a.pod_templates():
            for volume in dig(template, "spec", "volumes", default=[]) or []:
                claim = dig(volume, "persistentVolumeClaim", "claimName")
                if claim and claim not in claims:
                    yield Finding("model.cache.pvc.name", f"{role} pods mount PVC {claim!r}, which is not generated")
        return
    uri = str(dig(a.ms, "modelArtifacts", "uri", default=""))
    if uri.startswith("pvc://"):
        claim = uri[len("pvc://"):].split("/", 1)[0]
        claims = {dig(d, "metadata", "name") for d in a.base_docs() if d.get("kind") == "PersistentVolumeClaim"}
        if claim not in claims:
            yield Finding("model.cache.pvc.name", f"model URI {uri!r} names PVC {claim!r}, which is not generated")


def block_size(a: Artifacts) -> Iterator[Finding]:
    blocks = [dig(p, "parameters", "blockSizeTokens") for p in a.epp_config().get("plugins", []) or []]
    picker_block = next((b for b in blocks if b is not None), None)
    if picker_block is None:
        return
    vllm_block = vllm.block_size(vllm.container_args(_decode_container(a)))  # vLLM's default when absent
    if vllm_block != picker_block:
        yield Finding("scheduler.prefixCache.blockSizeTokens", f"picker hashes {picker_block}-token blocks but "
                      f"vLLM uses --block-size {vllm_block}")


RULES: tuple[Rule, ...] = (
    Rule("LLMD101", "error", "HTTPRoute parentRef names no Gateway the infra chart renders",
         "derive names from the release postfix (metadata.name); do not hand-edit out/", route_parent),
    Rule("LLMD102", "error", "backendRef group differs from the InferencePool group the pool chart renders",
         "x-k8s.io for inferencepool v0.5.1 or apiVersion v1alpha2, k8s.io otherwise", route_backend_group),
    Rule("LLMD103", "error", "backendRef names no InferencePool release",
         "the pool is named gaie-<metadata.name>", route_backend_name),
    Rule("LLMD104", "error", "pool selector matches no model pod",
         "the selector must use the labels the pinned modelservice version puts on pods", pool_selector),
    Rule("LLMD105", "error", "pool target port is not the port model pods serve on",
         "the pool targets routing.servicePort (the sidecar's port when it is enabled)", pool_target_port),
    Rule("LLMD106", "warning", "PodMonitor port is not vLLM's port",
         "name the vLLM container port as the podmonitor portName", metrics_port),
    Rule("LLMD107", "error", "Istio DestinationRule host is not the EPP Service",
         "host must be <pool release>-epp.<namespace>.svc.cluster.local", destination_rule),
    Rule("LLMD108", "error", "backendRef port differs from the pool target port",
         "use the pool's target port (8000)", route_backend_port),
    Rule("LLMD109", "error", "gated model without a token Secret",
         "set model.tokenSecret and create the Secret (see the stack README)", gated_token),
    Rule("LLMD110", "error", "token Secret key is not the one the chart reads",
         "llm-d-modelservice reads key HF_TOKEN; set model.tokenSecret.key: HF_TOKEN", token_key),
    Rule("LLMD111", "error", "smoke test asks for a model name vLLM does not serve",
         "model.servedName is what clients send", served_name),
    Rule("LLMD112", "error", "smoke test does not target the gateway Service",
         "Istio names it <gateway>-istio; kgateway/agentgateway use the Gateway name", smoke_target),
    Rule("LLMD113", "error", "model URI names a PVC that is not generated",
         "model.cache.pvc.name is the claim", pvc_claim),
    Rule("LLMD114", "error", "picker block size differs from vLLM --block-size",
         "set scheduler.prefixCache.blockSizeTokens to vLLM's --block-size (default 16)", block_size),
)
# The well-lit paths' wiring lives beside (check/paths.py): KV events (precise prefix cache) and P/D.
RULES += paths_rules.RULES
