"""autoscaling/: the spec's scalers as kustomize (base + one overlay per platform), the Prometheus Adapter values and
the WVA controller install they need, their Argo CD Applications, and the `ignoreDifferences` on `/spec/replicas`
that keeps Argo CD self-heal from fighting the autoscaler.

As the v0.9 guides lay it out (LD@e3dbeca1 guides/workload-autoscaling/{keda-epp-queue,keda-epp-saturation,wva}):
the base targets the kubernetes platform's Prometheus (the bundled kube-prometheus-stack, CA-only
TriggerAuthentication; or GKE managed Prometheus through workload identity); the openshift overlay points every
trigger at Thanos Querier with bearer authentication from a metrics-reader ServiceAccount granted
cluster-monitoring-view (recipes/autoscaling/metrics-reader).
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from llmd_compile import yamlio
from llmd_compile.catalog import autoscaling as cat
from llmd_compile.emit import gitops
from llmd_compile.emit.kustomize import KUSTOMIZE_API, platforms
from llmd_compile.emit.router import scalers
from llmd_compile.errors import Problem, SpecError
from llmd_compile.resolve import Stack
from llmd_compile.spec.autoscaling import Scaler, Wva

DIR = "autoscaling"
COMPONENT_API = "kustomize.config.k8s.io/v1alpha1"
RESPECT_IGNORE = "RespectIgnoreDifferences=true"


def _scalers(stack: Stack) -> list[Scaler]:
    return list(stack.spec.autoscaling.scalers) if stack.spec.autoscaling else []


def server(stack: Stack, platform: str) -> str:
    if platform == "openshift":
        url = cat.STACKS["openshift-user-workload"].url
        assert url is not None
        return url
    obs = stack.spec.observability
    url = obs.prometheusUrl or cat.STACKS[obs.stack].url
    if url is None:
        raise SpecError([Problem(stack.source, 0, 0, "observability.prometheusUrl", "GKE managed Prometheus has a "
                                 "query endpoint per project: set https://monitoring.googleapis.com/v1/projects/"
                                 "<project>/location/global/prometheus")])
    return url


def trigger_auth(stack: Stack) -> dict[str, Any]:
    if stack.spec.observability.stack == "gke-managed":
        spec: dict[str, Any] = {"podIdentity": {"provider": "gcp"}}
    else:
        spec = {"secretTargetRef": [{"parameter": "ca", "name": cat.KEDA_CA_SECRET, "key": "ca.crt"}]}
    return {"apiVersion": cat.KEDA_API, "kind": "TriggerAuthentication", "metadata": {"name": scalers.TRIGGER_AUTH},
            "spec": spec}


def objects(stack: Stack) -> dict[str, dict[str, Any]]:
    """Base resources by file name (the kubernetes platform's Prometheus in every trigger)."""
    if not _scalers(stack):
        return {}
    missing = [Problem(stack.source, 0, 0, f"autoscaling.scalers[{i}].target", "prefill pods exist only with "
                       "prefill/decode disaggregation: set prefill, or target decode")
               for i, s in enumerate(_scalers(stack)) if s.target == "prefill" and stack.spec.prefill is None]
    if missing:
        raise SpecError(missing)
    address = server(stack, "kubernetes")
    docs: dict[str, dict[str, Any]] = {}
    for scaler in _scalers(stack):
        obj = scalers.scaled_object(stack, scaler, address) if scalers.uses_keda(scaler) else scalers.hpa(stack, scaler)
        docs[f"{obj['metadata']['name']}-{obj['kind'].lower()}.yaml"] = obj
    if any(scalers.uses_keda(s) for s in _scalers(stack)):
        docs["triggerauthentication.yaml"] = trigger_auth(stack)
    return docs


def metrics_reader(stack: Stack) -> list[dict[str, Any]]:
    """recipes/autoscaling/metrics-reader, with a namespace-unique ClusterRoleBinding name (its README's advice)."""
    ns = stack.names.namespace
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": cat.METRICS_READER_SA}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": f"{cat.METRICS_READER_SA}-{ns}-monitoring-view"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": cat.CLUSTER_MONITORING_VIEW},
         "subjects": [{"kind": "ServiceAccount", "name": cat.METRICS_READER_SA, "namespace": ns}]},
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
         "metadata": {"name": cat.METRICS_READER_SECRET,
                      "annotations": {"kubernetes.io/service-account.name": cat.METRICS_READER_SA}}},
    ]


def _openshift_patches(stack: Stack, base: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    url = server(stack, "openshift")
    patches = []
    for doc in base.values():
        if doc["kind"] != "ScaledObject":
            continue
        ops: list[dict[str, Any]] = []
        for i in range(len(doc["spec"]["triggers"])):
            ops += [{"op": "replace", "path": f"/spec/triggers/{i}/metadata/serverAddress", "value": url},
                    {"op": "add", "path": f"/spec/triggers/{i}/metadata/authModes", "value": "bearer"}]
        patches.append({"target": {"kind": "ScaledObject", "name": doc["metadata"]["name"]},
                        "patch": yamlio.dump(ops)})
    if "triggerauthentication.yaml" in base:
        refs = [{"parameter": "bearerToken", "name": cat.METRICS_READER_SECRET, "key": "token"},
                {"parameter": "ca", "name": cat.METRICS_READER_SECRET, "key": "service-ca.crt"}]
        patches.append({"target": {"kind": "TriggerAuthentication", "name": scalers.TRIGGER_AUTH},
                        "patch": yamlio.dump([{"op": "replace", "path": "/spec", "value": {"secretTargetRef": refs}}])})
    return patches


def overlay(stack: Stack, platform: str, base: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """The platform's kustomization and any files beside it."""
    kustomization: dict[str, Any] = {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
                                     "namespace": stack.names.namespace, "resources": ["../../base"]}
    extra: dict[str, str] = {}
    if platform == "openshift" and "triggerauthentication.yaml" in base:
        extra["metrics-reader.yaml"] = yamlio.dump_all(metrics_reader(stack))
        kustomization["resources"].append("metrics-reader.yaml")
    patches = _openshift_patches(stack, base) if platform == "openshift" else []
    if patches:
        kustomization["patches"] = patches
    return kustomization, extra


def adapter_values(stack: Stack, platform: str) -> dict[str, Any] | None:
    """prometheus-community/prometheus-adapter values: where Prometheus is, its CA, the External metric rules."""
    rules = scalers.adapter_rules(stack)
    if not rules:
        return None
    parsed = urlsplit(server(stack, platform))
    url = f"{parsed.scheme}://{parsed.hostname}{parsed.path}"  # the chart joins url and port itself
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    values: dict[str, Any] = {"prometheus": {"url": url, "port": port}}
    if platform == "openshift" or stack.spec.observability.stack == "prometheus-operator":
        # components/prometheus-adapter/tls-adapter-values.yaml: trust the Prometheus serving CA (on OpenShift the
        # service CA, which OpenShift injects into every namespace as ConfigMap openshift-service-ca.crt).
        source: dict[str, Any] = (
            {"configMap": {"name": "openshift-service-ca.crt", "items": [{"key": "service-ca.crt", "path": "ca.crt"}]}}
            if platform == "openshift" else
            {"secret": {"secretName": "prometheus-web-tls", "items": [{"key": "ca.crt", "path": "ca.crt"}]}})
        values.update({
            "extraVolumes": [{"name": "prometheus-ca", **source}],
            "extraVolumeMounts": [{"name": "prometheus-ca", "mountPath": "/etc/prometheus-ca", "readOnly": True}],
            "extraArguments": ["--prometheus-ca-file=/etc/prometheus-ca/ca.crt"],
        })
    values["rules"] = {"default": False, "external": rules}
    return values


def wva_controller(stack: Stack, platform: str) -> dict[str, Any]:
    """The WVA controller, namespace-scoped to the stack (wva/controller/platform/<k8s|ocp>)."""
    flavour = "openshift" if platform == "openshift" else "kubernetes"
    ns = stack.names.namespace
    container: dict[str, Any] = {"name": "manager", "args": [
        "--metrics-bind-address=:8443", "--metrics-secure=true", "--leader-elect=true",
        "--health-probe-bind-address=:8081", f"--watch-namespace={ns}", "--config-file=/etc/wva/config.yaml"]}
    pod: dict[str, Any] = {"containers": [container]}
    if flavour == "kubernetes" and stack.spec.observability.stack == "prometheus-operator":
        container["env"] = [{"name": "PROMETHEUS_BASE_URL", "value": server(stack, platform)},
                            {"name": "PROMETHEUS_CA_CERT", "value": "/etc/prometheus/tls/ca.crt"}]
        container["volumeMounts"] = [{"name": "prom-ca", "mountPath": "/etc/prometheus/tls", "readOnly": True}]
        pod["volumes"] = [{"name": "prom-ca", "secret": {"secretName": cat.KEDA_CA_SECRET}}]
    patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": cat.WVA_CONTROLLER},
             "spec": {"replicas": 2, "template": {"spec": pod}}}
    patches = [{"target": {"kind": "Deployment", "name": cat.WVA_CONTROLLER}, "patch": yamlio.dump(patch)}]
    if flavour == "openshift":
        monitor = {"apiVersion": cat.MONITORING_API, "kind": "ServiceMonitor",
                   "metadata": {"name": "wva-controller-manager-metrics-monitor",
                                "labels": {"openshift.io/user-monitoring": "true"}}}
        patches.append({"target": {"kind": "ServiceMonitor", "name": "wva-controller-manager-metrics-monitor"},
                        "patch": yamlio.dump(monitor)})
    return {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "namespace": ns,
            "resources": [f"https://{cat.WVA_REPO}/config/overlays/namespace-scoped/{flavour}?ref={cat.WVA_REF}"],
            "patches": patches}


def wva_controllers(stack: Stack) -> bool:
    return any(isinstance(s.scaler, Wva) and s.scaler.controller for s in _scalers(stack))


def with_ignored_replicas(stack: Stack, app: dict[str, Any]) -> dict[str, Any]:
    """The model-server Application, told to leave `/spec/replicas` of every autoscaled workload to its autoscaler
    (otherwise self-heal resets what the HPA set, and the two fight)."""
    # A scaler on a role the stack lacks is reported by emit() (autoscaling.scalers[i].target).
    refs = [scalers.target_ref(stack, s) for s in _scalers(stack) if s.target == "decode" or stack.spec.prefill]
    if not refs:
        return app
    out = copy.deepcopy(app)
    ignored = []
    for ref in {(r["apiVersion"], r["kind"], r["name"]): r for r in refs}.values():
        group = ref["apiVersion"].rpartition("/")[0]
        ignored.append({"group": group, "kind": ref["kind"], "name": ref["name"],
                        "namespace": stack.names.namespace, "jsonPointers": ["/spec/replicas"]})
    out["spec"]["ignoreDifferences"] = ignored
    out["spec"]["syncPolicy"]["syncOptions"] = [*out["spec"]["syncPolicy"]["syncOptions"], RESPECT_IGNORE]
    return out


def _argo(stack: Stack) -> dict[str, str]:
    argo = stack.spec.gitops.argocd
    if argo is None:
        return {}
    name, ns = stack.spec.metadata.name, stack.names.namespace
    git = {"repoURL": argo.repoURL, "targetRevision": argo.targetRevision}
    stack_dir = f"{argo.path}/{name}"
    files: dict[str, str] = {}
    for key, platform, dest in gitops.targets(stack):
        if wva_controllers(stack):
            files[f"argocd/{key}/35-wva-controller.yaml"] = yamlio.dump(gitops._app(
                stack, f"{name}-{key}-wva", 2, ns, [{**git, "path": f"{stack_dir}/{DIR}/wva/{platform}"}], name, dest))
        files[f"argocd/{key}/40-autoscaling.yaml"] = yamlio.dump(gitops._app(
            stack, f"{name}-{key}-autoscaling", 3, ns, [{**git, "path": f"{stack_dir}/{DIR}/overlays/{platform}"}],
            name, dest))
    return files


def readme(stack: Stack, base: dict[str, dict[str, Any]]) -> str:
    ns = stack.names.namespace
    lines = [f"# Autoscaling: {stack.spec.metadata.name}", "", "| object | scales | bounds |", "|---|---|---|"]
    for doc in base.values():
        if doc["kind"] in ("ScaledObject", "HorizontalPodAutoscaler"):
            spec = doc["spec"]
            low, high = spec.get("minReplicaCount", spec.get("minReplicas")), spec.get("maxReplicaCount",
                                                                                        spec.get("maxReplicas"))
            lines.append(f"| {doc['kind']} `{doc['metadata']['name']}` | {spec['scaleTargetRef']['kind']} "
                         f"`{spec['scaleTargetRef']['name']}` | {low}..{high} |")
    lines += ["", "## Before `kubectl apply -k overlays/<platform>`", ""]
    if "triggerauthentication.yaml" in base:
        lines.append(f"- KEDA {cat.KEDA_VERSION} (`kubectl get crd scaledobjects.keda.sh`); on OpenShift the Custom "
                     "Metrics Autoscaler operator. KEDA owns the HPA it creates: never add another one.")
        if stack.spec.observability.stack == "prometheus-operator":
            lines.append(f"- kubernetes: the Prometheus CA as Secret `{cat.KEDA_CA_SECRET}` (key `ca.crt`) in `{ns}`, "
                         "e.g. from the bundled stack's ConfigMap `prometheus-web-tls-ca` in `llm-d-monitoring`.")
        lines.append("- openshift: nothing; the overlay creates the metrics reader (ServiceAccount, token Secret, "
                     "cluster-monitoring-view binding) and points every trigger at Thanos Querier.")
    if scalers.adapter_rules(stack):
        lines.append(f"- the Prometheus Adapter (`helm install prometheus-adapter {cat.ADAPTER_CHART} -f "
                     "prometheus-adapter/values-<platform>.yaml`, repo " + cat.ADAPTER_REPO + "); it and KEDA "
                     "cannot both serve the external metrics API. On OpenShift, Thanos answers its ServiceAccount "
                     "only with cluster-monitoring-view bound to it.")
    if wva_controllers(stack):
        lines.append(f"- the WVA controller: `kubectl apply -k wva/<platform>` (WVA {cat.WVA_REF}, namespace-scoped "
                     f"to `{ns}`), after KEDA: WVA watches ScaledObjects only if their CRD exists when it starts.")
    lines += ["", "Argo CD leaves `/spec/replicas` of the scaled workloads to the autoscaler (`ignoreDifferences` "
              "with `RespectIgnoreDifferences=true` on the model-server Application)."]
    return "\n".join(lines) + "\n"


def emit(stack: Stack) -> dict[str, str]:
    base = objects(stack)
    if not base:
        return {}
    files: dict[str, str] = {f"{DIR}/base/{file}": yamlio.dump(doc) for file, doc in base.items()}
    files[f"{DIR}/base/kustomization.yaml"] = yamlio.dump({"apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
                                                           "resources": sorted(base)})
    for platform in platforms(stack):
        kustomization, extra = overlay(stack, platform, base)
        files[f"{DIR}/overlays/{platform}/kustomization.yaml"] = yamlio.dump(kustomization)
        files.update({f"{DIR}/overlays/{platform}/{f}": text for f, text in extra.items()})
        values = adapter_values(stack, platform)
        if values is not None:
            files[f"{DIR}/prometheus-adapter/values-{platform}.yaml"] = yamlio.dump(values)
        if wva_controllers(stack):
            files[f"{DIR}/wva/{platform}/kustomization.yaml"] = yamlio.dump(wva_controller(stack, platform))
    files[f"{DIR}/README.md"] = readme(stack, base)
    files.update(_argo(stack))
    return files
