"""Plain Kubernetes manifests of the stack: HTTPRoute, cache PVC, and our own Jobs.

The HTTPRoute, the smoke test, the benchmark and the OpenShift Route all go through the Gateway: a picker-only
stack (gateway.provider none) has none of them.

Shaped as the Kubernetes and Gateway API docs show them. Our Jobs run as non-root with every
capability dropped and a read-only root filesystem, so they pass OpenShift `restricted-v2`.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from llmd_compile.emit.helm import model_dir
from llmd_compile.resolve import GATEWAY_PORT, SERVICE_PORT, Stack

CURL_IMAGE = "curlimages/curl:8.11.1"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"


def _labels(stack: Stack, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/part-of": stack.spec.metadata.name,
        "app.kubernetes.io/managed-by": "llmd-compile",
    }


def labels(stack: Stack, component: str) -> dict[str, str]:
    return _labels(stack, component)


def restricted_container() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def httproute(stack: Stack) -> dict[str, Any]:
    names, route = stack.names, stack.spec.route
    assert route is not None, "the spec requires route with a Gateway (kustomize emits no route without one)"
    backend: dict[str, Any] = {"group": stack.pool_group, "kind": "InferencePool", "name": names.pool}
    gke = stack.spec.gateway.provider == "gke"
    if not gke:  # the guides' GKE routes carry no port (LD@v0.3.0+, CATALOG §a.6, §g.1)
        backend["port"] = SERVICE_PORT
    backend["weight"] = 1
    rule: dict[str, Any] = {"backendRefs": [backend]}
    timeouts = route.timeouts.model_dump(exclude_none=True)
    if timeouts and not gke:  # GKE gateways reject route timeouts (CATALOG §g.1)
        rule["timeouts"] = timeouts
    rule["matches"] = [{"path": {"type": "PathPrefix", "value": "/"}}]
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": names.route, "labels": _labels(stack, "httproute"),
                     "annotations": {SYNC_WAVE: "2"}},
        "spec": {
            "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": names.gateway}],
            "rules": [rule],
        },
    }


def pvc(stack: Stack) -> dict[str, Any] | None:
    claim = stack.spec.model.cache.pvc
    if claim is None:
        return None
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim.name, "labels": _labels(stack, "model-cache"),
                     "annotations": {SYNC_WAVE: "-2"}},
        "spec": {"accessModes": list(claim.accessModes), "resources": {"requests": {"storage": claim.size}}},
    }


def _pod(stack: Stack, container: dict[str, Any], volumes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": volumes,
    }


def _job(stack: Stack, name: str, component: str, pod: dict[str, Any], annotations: dict[str, str],
         deadline: int, backoff: int) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": _labels(stack, component), "annotations": annotations},
        "spec": {
            "backoffLimit": backoff,
            "activeDeadlineSeconds": deadline,
            "ttlSecondsAfterFinished": 86400,
            "template": {"metadata": {"labels": _labels(stack, component)}, "spec": pod},
        },
    }


def model_download_job(stack: Stack) -> dict[str, Any] | None:
    """Fills the cache PVC once, before the model servers start (sync wave -1)."""
    claim = stack.spec.model.cache.pvc
    if claim is None:
        return None
    target = f"/cache/{model_dir(stack)}"
    script = (
        f"set -eu\n"
        f"if [ -f {shlex.quote(target)}/config.json ]; then echo 'model already cached'; exit 0; fi\n"
        f"huggingface-cli download {shlex.quote(stack.spec.model.name)} --local-dir {shlex.quote(target)}\n"
    )
    env: list[dict[str, Any]] = [{"name": "HOME", "value": "/tmp"}, {"name": "HF_HOME", "value": "/tmp/hf"}]
    secret = stack.spec.model.tokenSecret
    if secret:
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret.name, "key": secret.key}}})
    container = {
        "name": "download",
        "image": stack.spec.decode.image,
        "command": ["/bin/sh", "-c", script],
        "env": env,
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        "securityContext": restricted_container(),
        "volumeMounts": [{"name": "cache", "mountPath": "/cache"}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    volumes = [{"name": "cache", "persistentVolumeClaim": {"claimName": claim.name}},
               {"name": "tmp", "emptyDir": {}}]
    return _job(stack, f"{stack.spec.metadata.name}-model-download", "model-download",
                _pod(stack, container, volumes), {SYNC_WAVE: "-1"}, deadline=7200, backoff=3)


def _gateway_lookup(stack: Stack) -> list[str]:
    """A gke-l7-* Gateway is a Google Cloud load balancer with no in-cluster Service (issue 14): read its address
    from the Gateway's status through the API server, with the Job's ServiceAccount (smoke_test_rbac)."""
    path = f"/apis/gateway.networking.k8s.io/v1/namespaces/{stack.names.namespace}/gateways/{stack.names.gateway}"
    return [
        "SA=/var/run/secrets/kubernetes.io/serviceaccount",
        "# The Gateway is a cloud load balancer: wait for its address in status.addresses.",
        "i=0",
        "until ADDR=$(curl -sf --cacert \"$SA/ca.crt\" -H \"Authorization: Bearer $(cat \"$SA/token\")\" "
        f"{shlex.quote('https://kubernetes.default.svc' + path)} "
        "| sed -n 's/.*\"addresses\":\\[{[^]]*\"value\":\"\\([^\"]*\\)\".*/\\1/p') && [ -n \"$ADDR\" ]; do",
        "  i=$((i+1)); [ \"$i\" -le 90 ] || { echo 'the Gateway got no address after 15 min'; exit 1; }",
        "  sleep 10",
        "done",
        f"BASE=\"http://$ADDR:{GATEWAY_PORT}\"",
    ]


def smoke_test_script(stack: Stack) -> str:
    q = shlex.quote
    if stack.spec.gateway.provider == "gke":
        target = _gateway_lookup(stack)
    else:
        target = [f"BASE={q(f'http://{stack.names.gateway_host}:{GATEWAY_PORT}')}"]
    model = stack.spec.model.served_name
    completion = json.dumps({"model": model, "prompt": "How are you today?", "max_tokens": 10})
    chat = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hello! What is machine learning?"}],
                       "max_tokens": 50, "temperature": 0.7})
    return "\n".join([
        "set -eu",
        *target,
        "# Wait for the gateway to route to a ready model server (model load takes minutes).",
        "i=0",
        f"until curl -sf \"$BASE/v1/models\" | grep -q {q(json.dumps(model))}; do",
        "  i=$((i+1)); [ \"$i\" -le 90 ] || { echo 'no model behind the gateway after 15 min'; exit 1; }",
        "  sleep 10",
        "done",
        "echo 'ok /v1/models'",
        f"curl -sf \"$BASE/v1/completions\" -H 'Content-Type: application/json' -d {q(completion)}"
        " | grep -q '\"choices\"'",
        "echo 'ok /v1/completions'",
        f"curl -sf \"$BASE/v1/chat/completions\" -H 'Content-Type: application/json' -d {q(chat)}"
        " | grep -q '\"choices\"'",
        "echo 'ok /v1/chat/completions'",
        "",
    ])


def smoke_test_job(stack: Stack) -> dict[str, Any]:
    container = {
        "name": "smoke-test",
        "image": CURL_IMAGE,
        "command": ["/bin/sh", "-c", smoke_test_script(stack)],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
        "securityContext": restricted_container(),
    }
    annotations = {
        "argocd.argoproj.io/hook": "PostSync",
        "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
    }
    pod = _pod(stack, container, [])
    if stack.spec.gateway.provider == "gke":
        pod = {"serviceAccountName": _smoke_account(stack), "automountServiceAccountToken": True, **pod}
    return _job(stack, f"{stack.spec.metadata.name}-smoke-test", "smoke-test", pod, annotations,
                deadline=1800, backoff=2)


def _smoke_account(stack: Stack) -> str:
    return f"{stack.spec.metadata.name}-smoke-test"


def smoke_test_rbac(stack: Stack) -> dict[str, dict[str, Any]]:
    """On GKE the smoke test reads its Gateway's address: a ServiceAccount that may get that one Gateway."""
    if stack.spec.gateway.provider != "gke":
        return {}
    name, labels = _smoke_account(stack), _labels(stack, "smoke-test")
    meta = {"name": name, "labels": labels}
    return {
        "smoke-test-serviceaccount.yaml": {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        "smoke-test-role.yaml": {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
            "rules": [{"apiGroups": ["gateway.networking.k8s.io"], "resources": ["gateways"],
                       "resourceNames": [stack.names.gateway], "verbs": ["get"]}],
        },
        "smoke-test-rolebinding.yaml": {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name}],
        },
    }


def guidellm_job(stack: Stack) -> dict[str, Any] | None:
    """The seed's multiturn guidellm benchmark, against the gateway Service."""
    bench = stack.spec.benchmark.guidellm
    if bench is None:
        return None
    data = f"prompt_tokens={bench.promptTokens},output_tokens={bench.outputTokens},turns={bench.turns}"
    seconds = int(bench.duration.rstrip("s")) if bench.duration.rstrip("s").isdigit() else None
    args = [
        "benchmark",
        "--target", f"http://{stack.names.gateway_host}:{GATEWAY_PORT}",
        "--model", stack.spec.model.served_name,
        "--backend-args", json.dumps({"endpoint": "/v1/chat/completions"}),
        "--rate-type", "concurrent",
        "--rate", str(bench.users),
        "--data", data,
        "--output-path", "/output/results.json",
    ]
    if seconds is not None:
        args += ["--max-seconds", str(seconds)]
    env: list[dict[str, Any]] = [{"name": "HOME", "value": "/tmp"}]
    container = {
        "name": "benchmark",
        "image": bench.image,
        "command": ["guidellm"],
        "args": args,
        "env": env,
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}},
        "securityContext": restricted_container(),
        "volumeMounts": [{"name": "output", "mountPath": "/output"}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    volumes = [{"name": "output", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    job = _job(stack, "guidellm-benchmark", "guidellm-benchmark", _pod(stack, container, volumes), {},
               deadline=3600, backoff=0)
    job["metadata"]["namespace"] = bench.namespace
    return job


def openshift_route(stack: Stack) -> dict[str, Any]:
    """Exposes the gateway Service outside the cluster on OpenShift (edge TLS at the router)."""
    return {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": stack.names.gateway, "labels": _labels(stack, "gateway-route")},
        "spec": {
            "to": {"kind": "Service", "name": stack.names.gateway_service, "weight": 100},
            "port": {"targetPort": GATEWAY_PORT},
            "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"},
        },
    }
