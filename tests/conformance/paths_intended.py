"""Intended differences of test_paths.py, per case: {artifact:path (or a prefix ending in *): reason}.

Reasons shared with the inference-scheduling tables come from test_upstream_guides.py; "upstream mistake" rows
are confirmed by test_paths.py's tests at the end.
"""

from __future__ import annotations

from .test_upstream_guides import (
    FLAGS,
    GPUS,
    GW_TUNING,
    INFRA_V14,
    LABELS,
    MODEL_LABELS,
    PARALLELISM,
    POOL_PROVIDER,
    PORT_NAME,
    PROBES,
    SYNC_WAVE,
    TLS,
)

D, P = "ms:decode.containers[name=vllm]", "ms:prefill.containers[name=vllm]"
EPP = "gaie:inferenceExtension.epp"
CONFIG_FILE = "one file name for the EndpointPickerConfig in every stack (epp-config.yaml); the content is compared"
MODEL_LABEL = ("the pool also selects on llm-d.ai/model, so it never picks up another stack's pods in the namespace "
               "(MS v0.2.x: the fullname it sets; v0.3.0+: the stack name we set in modelArtifacts.labels)")
GUIDE_LABELS = MODEL_LABELS
SEED_LB = ("the spec's gateway.service.type (default ClusterIP; infra v1.3.3+ default too); the seed guides took "
           "infra v1.3.0's LoadBalancer default, which the istio Gateway annotation turned into ClusterIP anyway "
           "(CATALOG §h)")
MODEL_NAME = ("deprecated, read by no v0.2.7 template, rejected by every MS schema from v0.2.8 (CATALOG §a.5, §b.4); "
              "cosmetic")
NIXL_PORT = ("the NIXL side-channel port written out as a named container port (vLLM's default 5600, "
             "VLLM_NIXL_SIDE_CHANNEL_PORT), as the v0.6 guide does")
DEBUG_LOG = "DEBUG logging is a troubleshooting setting; the spec's env carries it when wanted"
V027_TP = ("MS v0.2.7 reads --tensor-parallel-size from the container's parallelism (CATALOG §b.2): the chart adds the "
           "flag, so the guide's hand-written one is not needed")
HTTPROUTE = ("the HTTPRoute is ours (base/httproute.yaml, applied by the overlay) instead of the chart's post-install "
             "hook (routing.httpRoute.create), the out-of-band route every guide uses from LD@v0.3.0")
ROUTE = {'route:metadata.labels["app.kubernetes.io/*': LABELS,
         'route:metadata.annotations["argocd.argoproj.io/sync-wave"]': SYNC_WAVE}
ROUTE_NS = {"route:metadata.namespace": "set by kustomize (the kustomization's namespace:) instead of in the file"}
V06_GATEWAY = {
    "infra:gateway.gatewayClassName": INFRA_V14,
    "infra:gateway.service.type": INFRA_V14,
    "infra:gateway.gatewayParameters.*": GW_TUNING,
    "gaie:provider.istio.destinationRule.trafficPolicy.connectionPool.*": POOL_PROVIDER,
    "gaie:provider.istio.destinationRule.trafficPolicy.tls.*": TLS,
    "gaie:inferenceExtension.flags.v": ("the chart's log verbosity (1): the guide's `flags:` with no value is null, "
                                        "which Helm's coalesce drops; the spec has no verbosity field"),
}
SEED_ROLE = {f"{role}.parallelism.*": PARALLELISM for role in ("ms:decode", "ms:prefill", D, P)}
SEED_DECODE = {f"{role}.parallelism.*": PARALLELISM for role in ("ms:decode", D)}


def _probes(container: str) -> dict[str, str]:
    """Probes we add where the guide had none (the seed-era guides)."""
    return {f"{container}.{probe}.*": PROBES for probe in ("startupProbe", "livenessProbe", "readinessProbe")}


SEED_SIM_PROBES = ("startup and readiness ask /v1/models (the model is served), as every guide from LD@v0.4.0 does "
                   "(the simulator serves it too); the seed sim guide asked /health")


def _v06_role(container: str, role: str, port: int) -> dict[str, str]:
    return {f"{container}.ports[containerPort={port}].name": PORT_NAME, f"ms:{role}.monitoring.podmonitor.portName":
            PORT_NAME, f'{container}.resources.limits["nvidia.com/gpu"]': GPUS,
            f'{container}.resources.requests["nvidia.com/gpu"]': GPUS}


INTENDED: dict[str, dict[str, str]] = {
    "pd@seed": {
        **ROUTE, **ROUTE_NS, **SEED_ROLE, **_probes(D), **_probes(P),
        "infra:gateway.service.type": SEED_LB,
        "gaie:inferenceExtension.pluginsConfigFile": CONFIG_FILE,
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
        f"{EPP}.plugins.pd-profile-handler.parameters.hashBlockSize": (
            "with threshold 0 every request is disaggregated; the hash block size only feeds the threshold comparison"),
        f"{EPP}.plugins.queue-scorer.parameters*": (
            "upstream mistake: queue-scorer takes no parameters; the prefix-cache tuning the guide passes it is "
            "ignored by lenient decoding (CATALOG §f)"),
        f"{D}.args.--tensor-parallel-size": V027_TP,
        f"{D}.env[name=VLLM_LOGGING_LEVEL].value": DEBUG_LOG,
        f"{P}.env[name=VLLM_LOGGING_LEVEL].value": DEBUG_LOG,
        f"{D}.ports[containerPort=5600].*": NIXL_PORT,
        f"{P}.ports[containerPort=5600].*": NIXL_PORT,
        "ms:routing.inferenceModel.create": (
            "no InferenceModel: the spec has no criticality, and the seed's inference-scheduling guide runs the same "
            "picker and pool without one (routing.inferenceModel.create: false)"),
        "ms:routing.modelName": MODEL_NAME,
    },
    "pd@v0.6": {
        **ROUTE, **V06_GATEWAY, **_v06_role(D, "decode", 8200), **_v06_role(P, "prefill", 8000),
        "gaie:inferenceExtension.pluginsConfigFile": CONFIG_FILE,
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/guide"]': GUIDE_LABELS,
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
        'ms:modelArtifacts.labels["llm-d.ai/*': GUIDE_LABELS,
        f"{EPP}.plugins.prefix-cache-scorer.parameters.blockSizeTokens": (
            "the approximate scorer hashes vLLM's 128-token blocks (--block-size 128, LLMD114); the guide leaves it "
            "at the 16-token default"),
    },
    "precise@seed": {
        **SEED_DECODE, **_probes(D),
        "infra:gateway.service.type": SEED_LB,
        "gaie:inferenceExtension.pluginsConfigFile": CONFIG_FILE,
        "gaie:inferenceExtension.logVerbosity": "EPP debug verbosity: a troubleshooting setting, no spec field",
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
        f"{EPP}.plugins.prefix-cache-scorer.parameters.indexerConfig.kvBlockIndexConfig.*": (
            "index metrics (and their periodic log line) are a debugging aid; the indexer's defaults run"),
        f"{EPP}.plugins.prefix-cache-scorer.parameters.kvEventsConfig.*": (
            "written out: the indexer's own defaults (tcp://*:5557, kv@, 4), so the picker's ZMQ side sits next to "
            "the vLLM side it must match (LLMD115)"),
        f"{D}.args.--kv-events-config.endpoint": (
            "the EPP Service named at compile time (gaie-<rn>-epp.<namespace>) instead of the shell's ${NAMESPACE}: "
            "the same host, and the name is checked (LLMD115)"),
        f"{D}.args.--kv-events-config.topic": (
            "$(POD_IP) is expanded by the kubelet in vllmServe args; the guide's custom shell script expands "
            "${POD_IP}: the same topic"),
        f"{D}.args.--kv-transfer-config.*": "NIXL KV transfer serves P/D, which this path does not run",
        f"{D}.env[name=VLLM_NIXL_SIDE_CHANNEL_HOST].*": "NIXL KV transfer serves P/D, which this path does not run",
        f"{D}.env[name=VLLM_NIXL_SIDE_CHANNEL_PORT].value": "NIXL KV transfer serves P/D, which this path does not run",
        f"{D}.env[name=UCX_TLS].value": "NIXL KV transfer serves P/D, which this path does not run",
        f"{D}.ports[containerPort=5557].protocol": (
            "vLLM publishes (connects) to the picker; nothing listens on 5557 in the pod"),
        f"{D}.env[name=NAMESPACE].*": "the namespace is written into the endpoint at compile time",
        f"{D}.env[name=CUDA_VISIBLE_DEVICES].value": "one GPU per pod: the device plugin exposes only that GPU",
        f"{D}.env[name=VLLM_LOGGING_LEVEL].value": DEBUG_LOG,
        "ms:routing.httpRoute.create": HTTPROUTE,
        "ms:routing.modelName": MODEL_NAME,
    },
    "precise@v0.6": {
        **ROUTE, **V06_GATEWAY, **_v06_role(D, "decode", 8000),
        "gaie:inferenceExtension.flags.v": "EPP debug verbosity 4: a troubleshooting setting, no spec field",
        "gaie:inferenceExtension.pluginsConfigFile": CONFIG_FILE,
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/guide"]': GUIDE_LABELS,
        'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
        'ms:modelArtifacts.labels["llm-d.ai/*': GUIDE_LABELS,
        f"{EPP}.plugins.precise-prefix-cache-scorer.parameters.tokenProcessorConfig.blockSize": (
            "upstream mistake: the indexer hashes 64-token blocks while the guide's vLLM runs --block-size=16, so "
            "no block hash matches (the SCHED v0.8.0 sample: 'must match vLLM block size'); one spec field sets both"),
        f"{EPP}.plugins.precise-prefix-cache-scorer.parameters.tokenProcessorConfig.hashSeed": (
            "the hash seed pinned on both sides (hashSeed, PYTHONHASHSEED) as the seed-era guide and the SCHED "
            "v0.8.0 sample do: vLLM's first block hash depends on it"),
        f"{D}.env[name=PYTHONHASHSEED].value": "the hash seed pinned on both sides (see tokenProcessorConfig.hashSeed)",
        f"{EPP}.plugins.precise-prefix-cache-scorer.parameters.indexerConfig.speculativeIndexing": (
            "upstream mistake: speculativeIndexing is no kvcache.Config field (KVC v0.7.1) and SCHED v0.7.1 reads it "
            "at the top level (CATALOG §f), so the guide's setting is ignored; left out, which runs the same"),
        f"{D}.args.--kv-events-config.endpoint": (
            "the EPP Service named at compile time instead of $(GAIE_RELEASE_NAME_POSTFIX)/$(NAMESPACE) filled in "
            "by the helmfile and the kubelet: the same host, and the name is checked (LLMD115)"),
        f"{D}.env[name=GAIE_RELEASE_NAME_POSTFIX].value": "the release name is written into the endpoint when compiled",
        f"{D}.env[name=NAMESPACE].*": "the namespace is written into the endpoint at compile time",
        f"{D}.env[name=TRITON_CACHE_DIR].value": (
            "the Triton cache inside our writable /.cache emptyDir instead of a volume of its own (the spec has no "
            "extra volumes): the same effect"),
        f"{D}.volumeMounts[name=triton-cache].mountPath": "see TRITON_CACHE_DIR: /.cache/triton in /.cache",
        "ms:decode.volumes[name=triton-cache].emptyDir": "see TRITON_CACHE_DIR: /.cache/triton in /.cache",
        "ms:routing.proxy.targetPort": (
            "with the sidecar off, vLLM listens on the service port: we write 8000 (what the chart uses); the guide "
            "leaves the unused default 8200"),
    },
}
SIM_COMMON = {
    "gaie:inferenceExtension.pluginsConfigFile": CONFIG_FILE,
    f"{EPP}.*": ("the stack has a prefill pod, so the picker runs P/D profiles (prefill-header-handler, role filters, "
                 "pd-profile-handler) on llm-d-inference-scheduler; the guide's chart-baked single-profile config "
                 "never sends work to the prefill pod (LLMD118)"),
    **{f"{c}.volumeMounts[name=torch-compile-cache].mountPath": (
        "every model server gets writable /.cache and /.config (OpenShift's random UID, LLMD404)") for c in (D, P)},
    **{f"ms:{r}.volumes[name=torch-compile-cache].emptyDir": "see volumeMounts: writable /.cache"
       for r in ("decode", "prefill")},
}
INTENDED["sim@seed"] = {
    **SIM_COMMON, **SEED_ROLE,
    **{f"{c}.{probe}Probe.httpGet.path": SEED_SIM_PROBES for c in (D, P) for probe in ("startup", "readiness")},
    f"{P}.readinessProbe.failureThreshold": "Kubernetes' default (3) written out, as on the guide's decode probe",
    "infra:gateway.service.type": SEED_LB,
    "gaie:inferenceExtension.image.*": (
        "llm-d-inference-scheduler sched v0.2.1 (the seed preset's picker) instead of GAIE's epp v0.5.1, which has "
        "no P/D profiles (CATALOG §f)"),
    **{f"{c}.ports[containerPort=5557].protocol": "no KV events on the simulator: nothing listens on 5557"
       for c in (D, P)},
    "ms:routing.httpRoute.create": HTTPROUTE,
    "ms:routing.modelName": MODEL_NAME,
}
INTENDED["sim@v0.6"] = {
    **SIM_COMMON, **ROUTE, **V06_GATEWAY,
    **{f"{c}.ports[containerPort={port}].name": PORT_NAME for c, port in ((D, 8200), (P, 8000))},
    **{f"ms:{r}.monitoring.podmonitor.portName": PORT_NAME for r in ("decode", "prefill")},
    'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/*': GUIDE_LABELS,
    'ms:modelArtifacts.labels["llm-d.ai/*': GUIDE_LABELS,
    "ms:accelerator.type": (
        "cpu: the simulator needs no accelerator; with the chart's default type (nvidia) a chart that fills the "
        "GPU count in from parallelism would request one (CATALOG §b.2)"),
    **{f"ms:{r}.initContainers[name=uds-tokenizer].env[name=LOG_LEVEL].value": DEBUG_LOG
       for r in ("decode", "prefill")},
}

WIDE_EP_DECIDER = (
    "upstream mistake: SCHED v0.6.0 removed pd-profile-handler's threshold and hashBlockSize (CATALOG §e.4), so "
    "picker v0.7.0 ignores the guide's 'threshold: 0' and falls back to its default decider, prefix-based-pd-"
    "decider, which the config never declares; we declare always-disagg-pd-decider, the guide's intent")

# --- inference-scheduling on other accelerators and on GKE ---------------------------------------------------------

GKE_ROUTE_PORT = ("no backendRef port on GKE, as the guides' httproute.gke.yaml from LD@v0.3.0 on (CATALOG §a.6); "
                  "the seed-era file still had one")
V06_IS = {
    **ROUTE, **V06_GATEWAY,
    "gaie:inferenceExtension.flags.v": FLAGS,
    "gaie:inferenceExtension.pluginsConfigFile": CONFIG_FILE,
    'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/guide"]': GUIDE_LABELS,
    'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
    'ms:modelArtifacts.labels["llm-d.ai/*': GUIDE_LABELS,
    f"{D}.ports[containerPort=8000].name": PORT_NAME,
    "ms:decode.monitoring.podmonitor.portName": PORT_NAME,
}
WRITABLE = "every model server gets writable /.cache and /.config (OpenShift's random UID, LLMD404)"


def _accelerator_resource(resource: str) -> dict[str, str]:
    return {f'{D}.resources.limits["{resource}"]': GPUS, f'{D}.resources.requests["{resource}"]': GPUS}


def _gke(case: dict[str, str]) -> dict[str, str]:
    """GKE has no DestinationRule, Istio tuning or TLS policy to differ on."""
    istio_only = ("gaie:provider.istio", "infra:gateway.gatewayParameters")
    return {k: v for k, v in case.items() if not k.startswith(istio_only)}


TPU_NODE = ("decode.nodeSelector, the chart's own key (schema since MS v0.3.7), instead of the pod-level "
            "extraConfig.nodeSelector: the same pod field")
INTENDED["tpu@seed"] = {
    **SEED_DECODE, **ROUTE, **ROUTE_NS, **_probes(D),
    "infra:gateway.service.type": SEED_LB,
    "infra:gateway.destinationRule.host": ("the helmfile passes the EPP host in every environment, but on GKE the "
                                           "DestinationRule stays disabled: nothing renders it"),
    "gaie:inferenceExtension.pluginsConfigFile": CONFIG_FILE,
    'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
    f"{D}.ports[containerPort=5557].protocol": "nothing listens on 5557 (no KV events, no P/D on this path)",
    "ms:routing.modelName": MODEL_NAME,
    "route:spec.rules[0].backendRefs[name=gaie-inference-scheduling].port": GKE_ROUTE_PORT,
}
INTENDED["tpu@v0.6"] = {
    **_gke(V06_IS), **_accelerator_resource("google.com/tpu"),
    "ms:decode.extraConfig.nodeSelector*": TPU_NODE,
    "ms:decode.nodeSelector*": TPU_NODE,
}
INTENDED["gke@v0.6"] = {**_gke(V06_IS), **_accelerator_resource("nvidia.com/gpu")}
INTENDED["amd@v0.6"] = {**V06_IS, **_accelerator_resource("amd.com/gpu")}
XPU_GROUP = ("upstream mistake: the render group 107 sits in decode.securityContext, a key the chart does not read "
             "(its pod security context is decode.podSecurityContext, CATALOG §b.2), so no guide pod has it; the "
             "XPUs come through DRA either way. Not compiled (a fixed fsGroup is also refused by restricted-v2)")
INTENDED["xpu@v0.6"] = {
    **V06_IS,
    "ms:decode.securityContext.*": XPU_GROUP,
}
INTENDED["gaudi@v0.6"] = {
    **{k: v for k, v in V06_IS.items() if k != "ms:decode.monitoring.podmonitor.portName"},
    f"{EPP}.plugins.prefix-cache-scorer.parameters.blockSizeTokens": (
        "the approximate scorer hashes vLLM's 128-token blocks (--block-size=128, LLMD114); the guide's chart "
        "default stays at 16"),
    f"{D}.modelCommand": ("the chart's vllm serve command line (vllmServe), as on every other accelerator, instead of "
                          "the image's own entrypoint with the chart's arguments (imageDefault)"),
    f"{D}.volumeMounts[name=metrics-volume].mountPath": WRITABLE,
    f"{D}.volumeMounts[name=torch-compile-cache].mountPath": WRITABLE,
    "ms:decode.volumes[name=torch-compile-cache].emptyDir": WRITABLE,
}
SHM_NAME = "our shared-memory volume is named shm on every accelerator (the guide: dshm); the same 4Gi /dev/shm"
INTENDED["cpu@v0.6"] = {
    **V06_IS,
    f"{D}.device": "not a Kubernetes container field: dropped by the API server",
    f"{D}.imagePullPolicy": "the chart's default pull policy; the spec has no pull-policy field",
    f"{D}.volumeMounts[name=dshm].mountPath": SHM_NAME,
    f"{D}.volumeMounts[name=shm].mountPath": SHM_NAME,
    "ms:decode.volumes[name=dshm].*": SHM_NAME,
    "ms:decode.volumes[name=shm].*": SHM_NAME,
}
INTENDED["wide-ep@v0.6"] = {
    "gaie:inferenceExtension.pluginsConfigFile": CONFIG_FILE,
    "gaie:provider.istio.destinationRule.trafficPolicy.connectionPool.*": POOL_PROVIDER,
    'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/guide"]': GUIDE_LABELS,
    'gaie:inferencePool.modelServers.matchLabels["llm-d.ai/model"]': MODEL_LABEL,
    "gaie:provider.istio.destinationRule.host": (
        "the guide's kustomize layout names the pool llm-d-infpool; ours is the inferencepool release gaie-<rn>, "
        "and the host is written fully qualified (LLMD107)"),
    f"{EPP}.plugins.pd-profile-handler.parameters.threshold": WIDE_EP_DECIDER,
    f"{EPP}.plugins.pd-profile-handler.parameters.hashBlockSize": WIDE_EP_DECIDER,
    f"{EPP}.plugins.pd-profile-handler.parameters.deciderPluginName": WIDE_EP_DECIDER,
    f"{EPP}.plugins.pd-profile-handler.parameters.primaryPort": (
        "0 written out, as the LD@899f8517 P/D guide does (no data-parallel port rewrite)"),
    f"{EPP}.plugins.always-disagg-pd-decider.*": WIDE_EP_DECIDER,
}

# Found by rendering the charts (tests/render, issue 14): upstream chart bugs our values work around.
LISTENER_PATH = ("llm-d-infra v1.3.0 renders the default listener's `path: /` into the Gateway, which has no such "
                 "field (the Gateway CRD rejects it under strict validation); we set the listeners without it")
GKE_GLUE = ("inferencepool v1.2.0-rc.1 to v1.5.0 glue the GKE metrics objects to `---` (`---apiVersion`), "
            "which kubectl and Argo CD do not split: the chart's EPP monitoring is off on GKE and base/ carries the "
            "same GMP scrape (emit/gmp.py, LLMD432)")
for _case in ("pd@seed", "precise@seed", "sim@seed", "tpu@seed"):
    INTENDED[_case]["infra:gateway.listeners[name=default].path"] = LISTENER_PATH
for _case in ("gke@v0.6", "tpu@v0.6"):
    INTENDED[_case]["gaie:inferenceExtension.monitoring.prometheus.enabled"] = GKE_GLUE
    INTENDED[_case]["gaie:inferenceExtension.monitoring.prometheus.auth.secretName"] = GKE_GLUE
