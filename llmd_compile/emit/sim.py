"""The inference simulator's UDS tokenizer: a native sidecar on every simulator pod, sharing its socket directory
with the simulator container, as the LD@899f8517 simulated-accelerators guide runs it (ms-sim/values.yaml).

It needs the release's tokenizer image (release v0.6) and a modelservice chart that renders role initContainers
(v0.4.x); older stacks run the simulator without it, as their guides did.
"""

from __future__ import annotations

from typing import Any

from llmd_compile.catalog import paths
from llmd_compile.resolve import Stack

SIDECAR = "uds-tokenizer"
VOLUME = "uds-socket"
SOCKET_DIR = paths.UDS_SOCKET.rsplit("/", 1)[0]
PROBE_PORT = 8082  # the sidecar's health endpoint (PROBE_PORT)


def tokenizer_image(stack: Stack) -> str | None:
    if stack.spec.accelerator.vendor != "simulated" or not stack.ms.init_containers:
        return None
    release = stack.release or stack.image_release
    return release.uds_tokenizer_image if release else None


def tokenizer_sidecar(image: str) -> dict[str, Any]:
    health = {"path": "/healthz", "port": PROBE_PORT}
    return {
        "name": SIDECAR,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "restartPolicy": "Always",  # a native sidecar: it runs beside the simulator for the pod's life
        "env": [{"name": "PROBE_PORT", "value": str(PROBE_PORT)}],
        "ports": [{"name": "health", "containerPort": PROBE_PORT}],
        "livenessProbe": {"httpGet": dict(health), "initialDelaySeconds": 10, "periodSeconds": 10},
        "readinessProbe": {"httpGet": dict(health), "initialDelaySeconds": 5, "periodSeconds": 5},
        "volumeMounts": [{"name": VOLUME, "mountPath": SOCKET_DIR}],
    }
