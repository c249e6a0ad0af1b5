"""The model servers of the router shape (llm-d v0.8/v0.9) as kustomize: `modelserver/base/` and one overlay per
platform, built from the same pod intent as the Helm-era modelservice values (emit/workloads.py).

What the v0.9 guides apply with `kubectl apply -k guides/<guide>/modelserver/...` (LD@e3dbeca1, CURRENT §1.6, §3):
a Deployment per role (a LeaderWorkerSet per role for wide-EP), a ServiceAccount without an API token, the
`llm-d.ai/*` labels on pods and selectors (the InferencePool selects `llm-d.ai/guide` only), and for precise
prefix-cache routing the render Service the picker's token-producer calls. Names are written out (`<name>-decode`,
`<name>-prefill`, `<name>-sa`, `<name>-render`) instead of left to a kustomize namePrefix, so what the checks read
is what the cluster gets. The overlays include the user's components in the repository's `overlays/<platform>/`,
as the Helm-era overlays do.
"""

from __future__ import annotations

import re
from typing import Any

from llmd_compile import yamlio
from llmd_compile.emit import manifests, offload, precise
from llmd_compile.emit.kustomize import KUSTOMIZE_API, NON_ROOT_UID, Patch, platforms
from llmd_compile.emit.router import podspec
from llmd_compile.errors import Problem, SpecError
from llmd_compile.resolve import SERVICE_PORT, Stack
from llmd_compile.spec.models import Workload

Files = dict[str, str]
DIR = "modelserver"
# From out/<stack>/modelserver/overlays/<platform>/ up to the repository root.
USER_COMPONENTS = "../../../../../overlays"
LWS_API = "leaderworkerset.x-k8s.io/v1"
PODMONITOR_API = "monitoring.coreos.com/v1"
GUIDE, ROLE, MODEL = "llm-d.ai/guide", "llm-d.ai/role", "llm-d.ai/model"
VENDOR, VARIANT = "llm-d.ai/accelerator-vendor", "llm-d.ai/accelerator-variant"
# accelerator.vendor -> (llm-d.ai/accelerator-vendor, llm-d.ai/accelerator-variant), as the v0.9 guides label the
# pods of each accelerator (optimized-baseline/modelserver/{gpu,amd,tpu,xpu,cpu}/...).
ACCELERATOR_LABELS = {
    "nvidia": ("nvidia", "gpu"), "amd": ("amd", "gpu"), "google": ("google", "tpu"), "intel": ("intel", "xpu"),
    "intel-gaudi": ("intel", "hpu"), "cpu": ("intel", "cpu"), "simulated": ("simulated", "cpu"),
}
RENDER_COMPONENT = "vllm-render"


def name(stack: Stack, suffix: str) -> str:
    return f"{stack.spec.metadata.name}-{suffix}"


def model_label(stack: Stack) -> str:
    """The model's repository name as a label value (`Qwen/Qwen3-32B` -> `Qwen3-32B`, as the guides write it)."""
    value = re.sub(r"[^A-Za-z0-9_.-]", "-", stack.spec.model.name.rsplit("/", 1)[-1])[:63]
    return value.strip("-_.") or "model"


def labels(stack: Stack, role: str) -> dict[str, str]:
    vendor, variant = ACCELERATOR_LABELS[stack.spec.accelerator.vendor]
    return dict(sorted({**stack.pod_labels, GUIDE: stack.spec.metadata.name, ROLE: role, MODEL: model_label(stack),
                        VENDOR: vendor, VARIANT: variant}.items()))


def _affinity(stack: Stack) -> dict[str, Any] | None:
    wanted = stack.spec.accelerator.nodeAffinity
    if wanted is None:
        return None
    term = {"matchExpressions": [{"key": wanted.labelKey, "operator": "In", "values": list(wanted.labelValues)}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


def pod_template(stack: Stack, role_name: str, role: Workload) -> dict[str, Any]:
    pod = podspec.pod(stack, role_name, role)
    meta: dict[str, Any] = {"labels": labels(stack, role_name)}
    if pod.annotations:
        meta["annotations"] = pod.annotations
    spec: dict[str, Any] = {"serviceAccountName": name(stack, "sa")}
    if pod.node_selector:
        spec["nodeSelector"] = pod.node_selector
    affinity = _affinity(stack)
    if affinity:
        spec["affinity"] = affinity
    if role_name == "decode" and stack.sidecar:
        spec["initContainers"] = [podspec.sidecar(stack, role)]
    spec["containers"] = [podspec.container(stack, pod)]
    spec["volumes"] = podspec.volumes(stack, pod)
    if _dra(stack):
        spec["resourceClaims"] = [{"name": podspec.CLAIM, "resourceClaimTemplateName": claim_template_name(
            stack, role_name)}]
    return {"metadata": meta, "spec": spec}


def workload(stack: Stack, role_name: str, role: Workload) -> dict[str, Any]:
    """The role's Deployment, or under wide-EP its LeaderWorkerSet (one group of `workers` pods per replica)."""
    meta = {"name": name(stack, role_name), "labels": labels(stack, role_name)}
    template = pod_template(stack, role_name, role)
    if stack.multinode:
        return {"apiVersion": LWS_API, "kind": "LeaderWorkerSet", "metadata": meta, "spec": {
            "replicas": role.replicas,
            "leaderWorkerTemplate": {"size": role.parallelism.workers, "workerTemplate": template},
        }}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {
        "replicas": role.replicas,
        "selector": {"matchLabels": labels(stack, role_name)},
        "template": template,
    }}


def service_account(stack: Stack) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name(stack, "sa"), "labels": {GUIDE: stack.spec.metadata.name}},
            "automountServiceAccountToken": False}


def render_service(stack: Stack) -> dict[str, Any]:
    """What the picker's token-producer calls to tokenize (`http://<name>-render:8000`): the decode pods' own
    /v1/*/render endpoints (LD@e3dbeca1 precise-prefix-cache-routing/render/service.yaml)."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": f"{stack.names.ms_fullname}-{precise.RENDER_SERVICE}",  # precise.render_url's host
        "labels": {"app.kubernetes.io/component": RENDER_COMPONENT, GUIDE: stack.spec.metadata.name},
    }, "spec": {
        "selector": {GUIDE: stack.spec.metadata.name, ROLE: "decode"},
        "ports": [{"name": "render-http", "port": SERVICE_PORT, "targetPort": podspec.PORT_NAME, "protocol": "TCP"}],
    }}


def pod_monitor(stack: Stack, role_name: str, role: Workload) -> dict[str, Any]:
    """vLLM's /metrics on every rank (recipes/modelserver/components/monitoring{,-pd})."""
    container = podspec.container(stack, podspec.pod(stack, role_name, role))
    ports = [p["name"] for p in container["ports"] if p["name"] == podspec.PORT_NAME or "rank" in p["name"]]
    interval = stack.spec.monitoring.podMonitor.interval
    return {"apiVersion": PODMONITOR_API, "kind": "PodMonitor",
            "metadata": {"name": name(stack, role_name), "labels": labels(stack, role_name)},
            "spec": {"selector": {"matchLabels": labels(stack, role_name)},
                     "podMetricsEndpoints": [{"port": p, "path": "/metrics", "interval": interval} for p in ports]}}


def _dra(stack: Stack) -> bool:
    return stack.spec.accelerator.dra and stack.spec.accelerator.vendor in podspec.DEVICE_CLASS


def claim_template_name(stack: Stack, role: str) -> str:
    return name(stack, f"{role}-claim-template")


def _problems(stack: Stack) -> list[Problem]:
    acc = stack.spec.accelerator
    if acc.dra and acc.vendor not in podspec.DEVICE_CLASS:
        return [Problem(stack.source, 0, 0, "accelerator.dra", f"no DRA device class for accelerator.vendor "
                        f"{acc.vendor} (known: {', '.join(podspec.DEVICE_CLASS)}): drop accelerator.dra")]
    return []


def base_resources(stack: Stack) -> dict[str, dict[str, Any]]:
    problems = _problems(stack)
    if problems:
        raise SpecError(problems)
    docs: dict[str, dict[str, Any]] = {"serviceaccount.yaml": service_account(stack)}
    claim, download = manifests.pvc(stack), manifests.model_download_job(stack)
    if claim is not None and download is not None:  # the model cache and the Job that fills it once
        docs["pvc.yaml"] = claim
        docs["model-download-job.yaml"] = download
    for role_name, role in stack.roles:
        docs[f"{role_name}.yaml"] = workload(stack, role_name, role)
        if _dra(stack):
            docs[f"{role_name}-claim-template.yaml"] = podspec.claim_template(
                stack, role_name, role, claim_template_name(stack, role_name))
        if stack.spec.monitoring.podMonitor.enabled:
            docs[f"{role_name}-podmonitor.yaml"] = pod_monitor(stack, role_name, role)
    if precise.enabled(stack):
        docs["render-service.yaml"] = render_service(stack)
    docs.update(offload.resources(stack))
    return docs


def platform_patches(stack: Stack, platform: str) -> list[Patch]:
    """As the Helm-era overlays (emit/kustomize.py): the platform's storage class on the model cache, and on
    vanilla Kubernetes numeric UIDs for our Jobs (OpenShift's restricted-v2 assigns them)."""
    settings = getattr(stack.spec.platforms, platform)
    claim = stack.spec.model.cache.pvc
    patches: list[Patch] = []
    if claim is not None and settings.storageClassName:
        patches.append(Patch("PersistentVolumeClaim", (("/spec/storageClassName", settings.storageClassName),),
                             name=claim.name))
    if claim is not None and platform == "kubernetes":
        ops = tuple((f"/spec/template/spec/securityContext/{key}", NON_ROOT_UID)
                    for key in ("runAsUser", "runAsGroup", "fsGroup"))
        patches.append(Patch("Job", ops, label=("app.kubernetes.io/managed-by", "llmd-compile")))
    return patches


def overlay(stack: Stack, platform: str) -> dict[str, Any]:
    kustomization: dict[str, Any] = {
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "namespace": stack.names.namespace,
        "resources": ["../../base"],
        "components": [f"{USER_COMPONENTS}/{platform}"],
    }
    patches = [{"target": p.target(), "patch": yamlio.dump([{"op": "add", "path": path, "value": value}
                                                             for path, value in p.ops])}
               for p in platform_patches(stack, platform)]
    if patches:
        kustomization["patches"] = patches
    return kustomization


def emit(stack: Stack) -> Files:
    resources = base_resources(stack)
    files: Files = {f"{DIR}/base/{file}": yamlio.dump(doc) for file, doc in resources.items()}
    files[f"{DIR}/base/kustomization.yaml"] = yamlio.dump({
        "apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "namespace": stack.names.namespace,
        "resources": sorted(resources),
    })
    for platform in platforms(stack):
        files[f"{DIR}/overlays/{platform}/kustomization.yaml"] = yamlio.dump(overlay(stack, platform))
    return files
