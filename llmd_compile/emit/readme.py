"""The generated per-stack README: what was compiled, versions, topology, deploy and test."""

from __future__ import annotations

from llmd_compile import yamlio
from llmd_compile.catalog import providers
from llmd_compile.emit import chart_bugs, epp, manifests, security
from llmd_compile.emit.kustomize import base_resources, platforms
from llmd_compile.resolve import SERVICE_PORT, Stack


def run_from(name: str) -> str:
    """Where a stack README's commands run and what they need (every install shape says it the same way)."""
    return (f"Run the commands below from this stack's directory (the one holding this README: `out/{name}/` unless "
            "compiled with `--out`). Tools: `kubectl` (with its built-in kustomize), `helm` and `helmfile`.")


def _scorers(stack: Stack) -> list[str]:
    config = epp.endpoint_picker_config(stack)
    weights = {ref["pluginRef"]: ref.get("weight") for ref in config["schedulingProfiles"][0]["plugins"]}
    return [f"{t} (weight {weights[t]})" if weights.get(t) is not None else t
            for t in (p["type"] for p in config["plugins"]) if t in weights]


def _gateway(stack: Stack) -> bool:
    return providers.has_gateway(stack.spec.gateway.provider)


def _crd_commands(stack: Stack) -> list[str]:
    from llmd_compile.emit.gitops import crd_revisions

    gateway_api, gaie = crd_revisions(stack)
    commands = [f"kubectl apply -k '{providers.GATEWAY_API_REPO.removesuffix('.git')}/config/crd?ref={gateway_api}'",
                f"kubectl apply -k '{providers.GAIE_REPO.removesuffix('.git')}/config/crd?ref={gaie}'"]
    return commands if _gateway(stack) else commands[1:]


def _prerequisites(stack: Stack) -> str:
    from llmd_compile.emit.gitops import crd_revisions

    release = stack.release.name if stack.release else None
    return providers.prerequisites(release, stack.spec.gateway.provider, *crd_revisions(stack))


def _topology(stack: Stack) -> list[str]:
    spec, n = stack.spec, stack.names
    if _gateway(stack):
        entry = ["  client([client]) --> gw",
                 f"  gw[\"Gateway {n.gateway}<br/>Service {n.gateway_service}\"] --> route",
                 f"  route[\"HTTPRoute {n.route}\"] --> pool"]
    else:  # picker-only: the way in is not part of this stack
        entry = ["  client([client]) -.-> gw",
                 "  gw[\"your Gateway + HTTPRoute<br/>(not generated)\"] -.-> pool"]
    lines = [
        "```mermaid",
        "flowchart LR",
        *entry,
        f"  pool[\"InferencePool {n.pool}\"] -.->|ext-proc :9002| epp",
        f"  epp[\"EPP {n.epp}<br/>{'<br/>'.join(_scorers(stack))}\"]",
        f"  pool --> decode[\"{spec.decode.replicas}x decode {n.decode}<br/>port 8000\"]",
    ]
    if spec.prefill is not None:
        lines += [f"  pool --> prefill[\"{spec.prefill.replicas}x prefill {n.ms_fullname}-prefill<br/>port 8000\"]",
                  f"  prefill -. \"KV cache ({spec.kvTransfer.connector})\" .-> decode"]
    if spec.scheduler.scorers.precisePrefixCache is not None:
        lines.append("  decode -. \"KV events (ZMQ)\" .-> epp")
    return [*lines, "```"]


def _privileges(stack: Stack) -> list[str]:
    """Everything beyond restricted-v2 that this stack's pods ask for, by name (reliability rule)."""
    spec = stack.spec
    rows = []
    rdma = spec.kvTransfer.rdma if spec.prefill is not None else None
    if rdma is not None:
        rows.append(f"| model pods (prefill, decode) | device `{rdma.resource}` x{rdma.count} | RDMA for the "
                    f"{spec.kvTransfer.connector} KV-cache transfer (kvTransfer.rdma) |")
    rows += [f"| {pods} | {what} | {why} |" for pods, what, why in security.rows(stack)]
    if not rows:
        return ["No pod of this stack asks for privileges beyond OpenShift `restricted-v2`: our Jobs run as "
                "non-root with every capability dropped and a read-only root filesystem.", ""]
    return ["| pods | privilege | why |", "|---|---|---|", *rows, ""]


def render(stack: Stack) -> str:
    spec = stack.spec
    n = stack.names
    secret = spec.model.tokenSecret
    plats = platforms(stack)
    lines = [
        f"# Stack `{spec.metadata.name}`",
        "",
        f"`{spec.model.name}` served as `{spec.model.served_name}` on {spec.decode.replicas} decode replica(s) "
        f"× TP={spec.decode.parallelism.tensor} ({spec.accelerator.vendor} {spec.accelerator.model}), "
        f"namespace `{n.namespace}`, gateway provider `{spec.gateway.provider}`.",
        "",
        "## Versions",
        "",
        "| component | version |",
        "|---|---|",
        *([f"| llm-d-infra chart | {stack.infra.version} |"] if stack.infra else []),
        f"| inferencepool chart | {stack.pool.version} (InferencePool `{stack.pool_api_version}`) |",
        f"| llm-d-modelservice chart | {stack.ms.version} |",
        f"| endpoint picker | `{spec.scheduler.image}` (registry `{stack.picker.name}`) |",
        f"| vLLM image | `{spec.decode.image}` |",
        f"| release preset | {stack.release.name if stack.release else '(pinned charts)'} |",
        "",
        "## Topology",
        "",
        *_topology(stack),
        "",
        "## Privileges",
        "",
        *_privileges(stack),
        "## Files",
        "",
        "| path | what |",
        "|---|---|",
        *_files(stack),
        "",
        "## Deploy",
        "",
        _prerequisites(stack),
        "",
    ]
    if secret:
        lines += [
            "Create the token Secret (never commit it):",
            "",
            "```bash",
            f"kubectl create namespace {n.namespace}",
            f"kubectl create secret generic {secret.name} --from-literal={secret.key}=\"$HF_TOKEN\" -n {n.namespace}",
            "```",
            "",
        ]
    gateway = _gateway(stack)
    base = _base_words(stack)
    lines += [
        run_from(spec.metadata.name),
        "",
        *(["With Argo CD: `kubectl apply -f argocd/projects.yaml -f argocd/repositories.yaml "
           "-f argocd/<platform>.yaml`. Without it:"] if spec.gitops.argocd is not None else ["Deploy:"]),
        "",
        "```bash",
        *_crd_commands(stack),
        *(["helmfile sync -f prereqs/helmfile.yaml   # gateway control plane"] if _control_plane(stack) else []),
        *([f"kubectl apply -k overlays/{plats[0]}   # {', '.join(base)}"] if base else []),
        f"helmfile sync -f helmfile.yaml -n {n.namespace}",
        "```",
        "",
        "## Test",
        "",
        *(_smoke_test(stack) if gateway else _attach_gateway(stack)),
        *chart_bugs.readme_lines(stack),
    ]
    return "\n".join(lines)


# What each kind of base resource is, as the README names it (kustomize.base_resources' file names).
_BASE_WORDS = {"pvc.yaml": "model cache PVC", "model-download-job.yaml": "model download Job",
               "httproute.yaml": "HTTPRoute", "smoke-test-job.yaml": "smoke-test Job (Argo CD PostSync hook)"}


def _base_words(stack: Stack) -> list[str]:
    """The base's resources in words, only those it has (an emptyDir stack has no PVC and no download Job)."""
    return [_BASE_WORDS[name] for name in base_resources(stack) if name in _BASE_WORDS]


def _control_plane(stack: Stack) -> bool:
    """Whether prereqs/helmfile.yaml is written (a gateway control plane to install)."""
    return bool(providers.control_plane(stack.release.name if stack.release else None, stack.spec.gateway.provider))


def _infra_words(stack: Stack) -> str:
    extra = ", Istio DestinationRule for the EPP" if (stack.spec.gateway.provider == "istio"
                                                       and stack.pool.destination_rule == "infra") else ""
    return f"llm-d-infra values (the {stack.spec.gateway.provider} Gateway{extra})"


def _files(stack: Stack) -> list[str]:
    """One row per file or directory this stack's directory holds: each row only when its emitter writes it
    (tests/unit/test_readme.py compares the table with the compiled files of every spec)."""
    gateway = _gateway(stack)
    releases = "three releases (llm-d-infra, inferencepool, llm-d-modelservice)" if gateway else \
        "two releases (inferencepool, llm-d-modelservice)"
    base = _base_words(stack)
    rows: list[tuple[bool, str, str]] = [
        (gateway, "values/infra.yaml", _infra_words(stack)),
        (True, "values/inferencepool.yaml", "inferencepool values (EPP, pool selector, plugin config"
                                            + ("" if gateway else "; `provider.name: none`") + ")"),
        (True, "values/modelservice.yaml", "llm-d-modelservice values (vLLM "
                                           + ("prefill and decode" if stack.spec.prefill else "decode") + " pods)"),
        (True, "epp/endpoint-picker-config.yaml", "the EndpointPickerConfig embedded in the inferencepool values"),
        (True, "base/", "kustomize base: " + (", ".join(base) if base else "no resources of its own (no Gateway to "
                                                "route from, no volume to fill)")),
        *((True, f"overlays/{p}/", f"{p} overlay (includes the user component `overlays/{p}/` at the repo root)")
          for p in platforms(stack)),
        (True, "helmfile.yaml", f"the {releases}, for deploys without Argo CD"),
        (_control_plane(stack), "prereqs/helmfile.yaml", "the gateway control plane the stack needs"),
        (stack.spec.gitops.argocd is not None, "argocd/", "AppProjects (`projects.yaml`), OCI repository entries "
         "(`repositories.yaml`), one parent Application per platform and its children in sync waves"),
        (manifests.guidellm_job(stack) is not None, "bench/guidellm-job.yaml",
         "the guidellm benchmark Job (run on demand)"),
    ]
    return [f"| `{path}` | {what} |" for present, path, what in rows if present]


def _smoke_test(stack: Stack) -> list[str]:
    name, ns = stack.spec.metadata.name, stack.names.namespace
    return [
        f"The smoke-test Job (`{name}-smoke-test`, an Argo CD PostSync hook) checks "
        "`/v1/models`, `/v1/completions` and `/v1/chat/completions` through the gateway:",
        "",
        "```bash",
        f"kubectl logs -n {ns} job/{name}-smoke-test",
        "```",
        "",
    ]


def _attach_gateway(stack: Stack) -> list[str]:
    """A picker-only stack: how traffic gets in, and how to reach a model server without a Gateway."""
    n = stack.names
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": stack.spec.metadata.name, "namespace": n.namespace},
        "spec": {
            "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "<your-gateway>",
                            "namespace": "<its-namespace>"}],
            "rules": [{"backendRefs": [{"group": stack.pool_group, "kind": "InferencePool", "name": n.pool,
                                        "port": SERVICE_PORT}],
                       "matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}],
        },
    }
    lines = [
        "This stack installs no Gateway (`gateway.provider: none`), so it has no smoke test: requests reach the "
        f"endpoint picker only through a gateway you run whose controller implements the inference extension "
        f"(InferencePool backends) and whose listener admits routes from namespace `{n.namespace}`. Route it to "
        f"InferencePool `{n.pool}`, for example with this HTTPRoute, kept with your gateway's configuration (the user "
        "components under `overlays/` at the repository root are shared by every stack):",
        "",
        "```yaml",
        *str(yamlio.dump(route)).splitlines(),
        "```",
        "",
    ]
    if not stack.multinode:
        lines += [
            "A model server on its own, bypassing the picker:",
            "",
            "```bash",
            f"kubectl port-forward -n {n.namespace} deployment/{n.decode} {SERVICE_PORT}:{SERVICE_PORT} &",
            f"curl -s localhost:{SERVICE_PORT}/v1/models",
            "```",
            "",
        ]
    return lines


def emit(stack: Stack) -> dict[str, str]:
    files = {"README.md": render(stack)}
    job = manifests.guidellm_job(stack)
    if job is not None:
        files["bench/guidellm-job.yaml"] = yamlio.dump(job)
    return files
