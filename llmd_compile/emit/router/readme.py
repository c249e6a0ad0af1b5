"""README.md of a router-shape stack (llm-d v0.8+): what was compiled, the pins, and the install order."""

from __future__ import annotations

from llmd_compile import yamlio
from llmd_compile.catalog import charts, providers, router
from llmd_compile.emit import epp, manifests, precise
from llmd_compile.emit import readme as shared
from llmd_compile.emit.router import features, gateway, gitops, values
from llmd_compile.resolve import EPP_GRPC_PORT, SERVICE_PORT, Stack


def _plugins(stack: Stack) -> str:
    config = epp.endpoint_picker_config(stack)
    return ", ".join(str(p.get("type")) for p in config.get("plugins", []) or [])


def _topology(stack: Stack) -> list[str]:
    spec, n = stack.spec, stack.names
    if gateway.resources(stack):
        entry = ["  client([client]) --> gw",
                 f"  gw[\"Gateway {n.gateway}<br/>Service {n.gateway_service}\"] --> route",
                 f"  route[\"HTTPRoute {n.route} (router chart)\"] --> pool"]
    else:
        entry = ["  client([client]) --> envoy",
                 f"  envoy[\"Service {n.epp} :80<br/>Envoy beside the picker :8081\"] --> pool"]
    lines = ["```mermaid", "flowchart LR", *entry,
             f"  pool[\"InferencePool {n.pool}\"] -.->|ext-proc :{EPP_GRPC_PORT}| epp",
             f"  epp[\"EPP {n.epp}\"]",
             f"  pool --> decode[\"{spec.decode.replicas}x decode {n.decode}<br/>port {SERVICE_PORT}\"]"]
    if spec.prefill is not None:
        lines += [f"  pool --> prefill[\"{spec.prefill.replicas}x prefill {n.ms_fullname}-prefill\"]",
                  f"  prefill -. \"KV cache ({spec.kvTransfer.connector})\" .-> decode"]
    if precise.enabled(stack):
        lines.append("  decode -. \"KV events (ZMQ, pod discovery)\" .-> epp")
    return [*lines, "```"]


def _prerequisites(stack: Stack) -> list[str]:
    assert stack.router is not None
    lines = [f"- {what}: `kubectl apply -f {url}`" for what, url in gitops.crd_urls(stack)]
    for chart in gitops.control_plane(stack):
        lines.append(f"- {chart.release} {chart.version} (`{chart.namespace}`, prereqs/helmfile.yaml)")
    if stack.spec.gateway.provider == "gke":
        lines.append("- GKE's managed Gateway controller (enable the Gateway API on the cluster)")
    return lines


def emit(stack: Stack) -> dict[str, str]:
    spec, n = stack.spec, stack.names
    preset = stack.router
    assert preset is not None
    rel = gitops.release(stack)
    ns = n.namespace
    secret = spec.model.tokenSecret
    gw = bool(gateway.resources(stack))
    lines = [
        f"# {spec.metadata.name}",
        "",
        f"llm-d {preset.llm_d} install shape (release preset `{preset.name}`): one `{rel['chart']}` release "
        f"(chart {rel['version']}, `{rel['oci']}`), " + ("the Gateway recipe in `gateway/`, " if gw else "")
        + "and the model servers as kustomize in `modelserver/` (one overlay per platform in each).",
        "",
        "| item | value |",
        "|---|---|",
        f"| model | `{spec.model.name}` (served as `{spec.model.served_name}`) |",
        f"| router chart | `{rel['chart']}` {rel['version']}, values `{values.VALUES_FILE}` |",
        f"| endpoint picker | `{spec.scheduler.image}` ({stack.picker.name}) |",
        f"| picker plugins | {_plugins(stack)} |",
        f"| InferencePool | `{n.pool}` (inference.networking.k8s.io/v1), selects `{router.GUIDE_LABEL}: "
        f"{spec.metadata.name}`, target ports {values.target_ports(stack)} |",
        f"| gateway | {spec.gateway.provider}" + (f", Gateway `{n.gateway}`" if gw else " (standalone: Envoy beside "
                                                  "the picker, no Gateway)") + " |",
    ]
    if stack.sidecar:
        lines.append(f"| routing proxy | `{stack.sidecar_image}` on decode pods (8000 -> vLLM {stack.vllm_port}) |")
    lines += ["", "## Topology", "", *_topology(stack), "", "## Prerequisites", "", *_prerequisites(stack), "",
              "## Install", "", shared.run_from(spec.metadata.name), "", "```bash", f"kubectl create namespace {ns}"]
    if secret is not None:
        lines.append(f"kubectl create secret generic {secret.name} --from-literal={secret.key}=$HF_TOKEN -n {ns}")
    lines.append("kubectl apply -k prereqs/crds")
    if gitops.control_plane(stack):
        lines.append("helmfile -f prereqs/helmfile.yaml apply")
    if gw:
        lines += [f"kubectl apply -k gateway/overlays/{p}   # on {p} only" for p in spec.platforms.names()]
    lines += [f"helm install {rel['name']} {rel['oci']} --version {rel['version']} -f {values.VALUES_FILE} -n {ns}"
              "   # or: helmfile apply",
              *(f"kubectl apply -k modelserver/overlays/{p}   # on {p} only" for p in spec.platforms.names()),
              "```", "", "## Verify", ""]
    routed = providers.has_gateway(spec.gateway.provider)  # a Gateway in front, created here or by another stack
    ip = (f"kubectl get gateway {n.gateway} -n {ns} -o jsonpath='{{.status.addresses[0].value}}'" if routed else
          f"kubectl get service {n.epp} -n {ns} -o jsonpath='{{.spec.clusterIP}}'")
    body = f'{{"model": "{spec.model.served_name}", "prompt": "Hello", "max_tokens": 16}}'
    lines += ["```bash", f"IP=$({ip})",
              f"curl -s http://$IP/v1/completions -H 'Content-Type: application/json' -d '{body}'", "```"]
    if spec.benchmark.guidellm is not None:
        lines += ["", "## Benchmark", "", "```bash",
                  f"kubectl create namespace {spec.benchmark.guidellm.namespace}",
                  "kubectl apply -f bench/guidellm-job.yaml   # guidellm against the Gateway", "```"]
    lines += ["", "## Privileges", "", *shared._privileges(stack), "## Notes", "",
              f"- The router chart names the HTTPRoute, the InferencePool and the release `{spec.metadata.name}` "
              "(metadata.name); `route.name` is not used by this shape.",
              "- The picker's EndpointPickerConfig is in `epp/endpoint-picker-config.yaml` and, verbatim, in "
              f"`{values.VALUES_FILE}` (`router.epp.pluginsCustomConfig`)."]
    if spec.route and spec.route.timeouts.backendRequest:
        lines.append("- `route.timeouts.backendRequest` has no router-chart key (the chart writes "
                     "`timeouts.request` only); it is not applied.")
    if charts.gke_monitoring_glued(stack.pool, spec.gateway.provider, spec.monitoring.epp.enabled):
        lines.append(f"- GKE: router chart {rel['version']} glues its GMP monitoring objects to a `---` that kubectl "
                     "and Argo CD do not split (`---apiVersion: v1` after the GCPBackendPolicy), so "
                     f"`{values.VALUES_FILE}` leaves the EPP monitoring out (LLMD433): apply a PodMonitoring for the "
                     "EPP's `http-metrics` port yourself.")
    if not providers.has_gateway(spec.gateway.provider):
        lines.append("- Standalone: clients call the EPP Service on port 80 (Envoy on 8081 in the picker pod).")
    lines += features.readme(stack)
    files = {"README.md": "\n".join(lines) + "\n"}
    job = manifests.guidellm_job(stack)
    if job is not None:
        files["bench/guidellm-job.yaml"] = yamlio.dump(job)
    return files
