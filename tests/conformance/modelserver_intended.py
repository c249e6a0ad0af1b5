"""Intended differences of test_router_modelserver_fidelity.py, per v0.9 guide:
{path (or a prefix ending in *): reason}.

"guide slip" rows are the guides' own mistakes (test_guide_slips_are_real confirms them on the built guide).
"""

from __future__ import annotations

NAMES = ("names are written out as `<metadata.name>-<role>` (one stack = one accelerator and one engine, so the "
         "guides' `<guide>-<accelerator>-vllm-` namePrefix has nothing to tell apart); the InferencePool selects "
         "labels, never names")
MODEL_CACHE = ("the spec's model cache (model.cache: an emptyDir of emptyDirSize, or the PVC the download Job fills) "
               "mounted at /model-cache with HF_HOME there (recipes/modelserver/components/model-cache); the guides "
               "download into the unbounded /.cache emptyDir")
SIDECAR_PORT = ("the routing proxy is told vLLM's port (--model-server-port on router v0.10.0, --vllm-port before, "
                "CURRENT §6) instead of relying on the sidecar's default 8200")
SIDECAR_MAIN = ("guide slip: the P/D and wide-EP overlays take routing-sidecar/nightly (`:main`, a moving tag); "
                "a pinned release runs the release component's tag (v0.10.0 for llm-d v0.9)")
PULL_POLICY = "a pinned tag needs no Always pull (the guides pull `:main` and nightly images)"
PD_IMAGE = ("guide slip: the README's default INFRA_PROVIDER=base builds pd-disaggregation/modelserver/gpu/vllm/base, "
            "which includes no image component, so REPLACE_MODEL_SERVER_IMAGE stays unfilled and the gpu-vllm "
            "component's USER=llm-d (vllm-project/vllm#44548) never lands; ours is the image the spec names, with USER")
ENGINE_LABEL = ("only the P/D guide labels its pods llm-d.ai/engine-type: vllm; the other v0.9 vLLM guides, and we, "
                "leave it off (the router reads it to tell engines apart, and every pod here runs vLLM)")
SERVING_LABEL = ("the wide-EP guide's extra llm-d.ai/inference-serving label is selected by nothing in the v0.9 guide "
                 "(its pool selects llm-d.ai/guide); the labels are the ones every other v0.9 guide writes")
KV_EVENTS_ENV = ("the KV-events endpoints are written into --kv-events-config (the compared flag is the same once the "
                 "kubelet expands $(KV_EVENTS_ENDPOINT)); NAMESPACE is read by nothing in the pod, and DO_NOT_TRACK "
                 "is not needed where /.config is a writable emptyDir (mounted on every pod here)")
LAUNCH_SIZES = ("the data-parallel and tensor sizes are written into the launch line at compile time, from "
                "parallelism, instead of read from TP_SIZE/DP_SIZE_LOCAL/MAX_TOKENS env (same flags and values after "
                "the shell's substitution)")
SERVED_NAME = "the launch line names the served model (model.servedName, default the model) explicitly"
JIT_CACHES = ("the guide moves vLLM/CUDA/FlashInfer JIT caches and the HF hub cache to two emptyDirs under "
              "/var/cache; ours keep vLLM's defaults under $HOME (/.cache, /.config, /.triton emptyDirs, as every "
              "single-host v0.9 guide mounts them) and the model in the spec's model cache")
NIXL_PORT = ("the NIXL side-channel port is declared as a named container port, as the v0.9 single-host P/D recipe "
             "(recipes/modelserver/base/single-host/pd) declares it; declaring it changes no traffic")
SA_TOKEN = ("guide slip: the wide-EP ServiceAccount mounts an API token, which vLLM never uses; every other v0.9 "
            "guide's (recipes/modelserver/common/sa.yaml) sets automountServiceAccountToken: false, as we do")

EXPLICIT_FLAGS = ("the container states vLLM's tensor-parallel size (from parallelism, as the chart's vllmServe "
                  "did) and leaves the port at vLLM's default 8000 unless it differs; the guides write one or "
                  "the other")
MODEL_LABEL_SLIP = ("guide slip: the overlay labels its pods llm-d.ai/model: Qwen3-32B (copied from the GPU overlay) "
                    "while it serves another model; ours names the model served")
XPU_DEVICES = ("the XPU guide joins its pods to group 107 (fsGroup, supplementalGroups), the render group that owns "
               "/dev/dri on its nodes' distribution; the group id is the node image's, which the spec does not know, "
               "and the DRA driver hands the claimed device to the container")

_CACHE = {"decode.vllm.env.HF_HOME": MODEL_CACHE, "decode.vllm.mounts./model-cache*": MODEL_CACHE}
_PREFILL_CACHE = {"prefill.vllm.env.HF_HOME": MODEL_CACHE, "prefill.vllm.mounts./model-cache*": MODEL_CACHE}
_SIDECAR = {
    "decode.init:routing-proxy.args.--model-server-port": SIDECAR_PORT,
    "decode.init:routing-proxy.image": SIDECAR_MAIN,
    "decode.init:routing-proxy.imagePullPolicy": PULL_POLICY,
}


def _widep(role: str) -> dict[str, str]:
    v = f"{role}.vllm"
    return {
        f"{role}.name": NAMES, f"{role}.labels.llm-d.ai/inference-serving": SERVING_LABEL,
        f"{role}.pod.labels.llm-d.ai/inference-serving": SERVING_LABEL,
        f"{v}.args.--served-model-name": SERVED_NAME,
        **{f"{v}.env.{k}": LAUNCH_SIZES for k in ("DP_SIZE_LOCAL", "TP_SIZE")},
        **{f"{v}.env.{k}": JIT_CACHES for k in ("CCACHE_DIR", "CUDA_CACHE_PATH", "FLASHINFER_WORKSPACE_BASE",
                                                  "HF_HUB_CACHE", "VLLM_CACHE_ROOT")},
        f"{v}.env.HF_HOME": MODEL_CACHE, f"{v}.mounts./model-cache*": MODEL_CACHE,
        **{f"{v}.mounts.{m}*": JIT_CACHES for m in ("/.cache", "/.config", "/.triton", "/var/cache/")},
        f"{v}.imagePullPolicy": PULL_POLICY,
        f"{v}.ports.nixl": NIXL_PORT,
    }


INTENDED: dict[str, dict[str, str]] = {
    "optimized-baseline": {"decode.name": NAMES, **_CACHE},
    "pd-disaggregation": {
        **{f"{role}.name": NAMES for role in ("decode", "prefill")},
        **{f"{role}.{where}.llm-d.ai/engine-type": ENGINE_LABEL for role in ("decode", "prefill")
           for where in ("labels", "pod.labels", "selector")},
        **{f"{role}.vllm.{key}": PD_IMAGE for role in ("decode", "prefill") for key in ("image", "env.USER")},
        **_SIDECAR, **_CACHE, **_PREFILL_CACHE,
    },
    "precise-prefix-cache-routing": {
        "decode.name": NAMES,
        **{f"decode.vllm.env.{k}*": KV_EVENTS_ENV for k in ("KV_EVENTS_ENDPOINT", "KV_EVENTS_REPLAY_ENDPOINT",
                                                            "NAMESPACE", "DO_NOT_TRACK")},
        **_CACHE,
    },
    "wide-ep-lws": {
        **_widep("decode"), **_widep("prefill"), **_SIDECAR,
        "decode.vllm.env.MAX_TOKENS": LAUNCH_SIZES,
        "sa.automountServiceAccountToken": SA_TOKEN,
    },
    "optimized-baseline-amd": {"decode.name": NAMES, **_CACHE},
    "optimized-baseline-tpu": {"decode.name": NAMES, "decode.vllm.args.--port": EXPLICIT_FLAGS, **_CACHE},
    "optimized-baseline-cpu": {
        "decode.name": NAMES, "decode.vllm.args.--tensor-parallel-size": EXPLICIT_FLAGS,
        **{f"decode.{where}.llm-d.ai/model": MODEL_LABEL_SLIP for where in ("labels", "pod.labels", "selector")},
        **_CACHE,
    },
    "optimized-baseline-xpu": {
        "decode.name": NAMES, "decode.vllm.args.--tensor-parallel-size": EXPLICIT_FLAGS,
        "decode.vllm.args.--port": EXPLICIT_FLAGS,
        **{f"decode.{where}.llm-d.ai/model": MODEL_LABEL_SLIP for where in ("labels", "pod.labels", "selector")},
        "decode.pod.securityContext*": XPU_DEVICES,
        **_CACHE,
    },
}
