"""Helm-era values (llm-d-infra, inferencepool, llm-d-modelservice, the HTTPRoute) -> the spec's fields.

Each field says where it came from (a comment in the written spec); what the spec derives itself is dropped (ports,
labels, pool wiring, the NIXL side channel); what it cannot say is kept where it can (vLLM flags in `args`) and
reported as a Note with the file and line it came from.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from llmd_compile.adopt.sources import Source, problem
from llmd_compile.catalog import charts
from llmd_compile.errors import Problem, SpecError

# The extended resource -> accelerator.vendor (the charts' accelerator.resources, CATALOG §b.2).
VENDOR_OF = {"nvidia.com/gpu": "nvidia", "amd.com/gpu": "amd", "google.com/tpu": "google",
             "gpu.intel.com/i915": "intel", "gpu.intel.com/xe": "intel", "habana.ai/gaudi": "intel-gaudi"}
# The ms chart's accelerator.type (v0.3+) -> accelerator.vendor.
TYPE_VENDOR = {"nvidia": "nvidia", "amd": "amd", "google": "google", "intel": "intel", "intel-i915": "intel",
               "intel-xe": "intel", "intel-gaudi": "intel-gaudi", "cpu": "cpu"}
# infra gateway classes -> gateway.provider (CATALOG §c).
CLASS_PROVIDER = {"istio": "istio", "kgateway": "kgateway", "agentgateway": "agentgateway",
                  "gke-l7-regional-external-managed": "gke", "gke-l7-rilb": "gke"}
# vLLM flags the spec says as fields (or derives): never kept in args.
DERIVED_FLAGS = {"--port", "--host", "--served-model-name", "--tensor-parallel-size"}
# Env the compiler derives for the P/D KV transfer (emit/disagg.py).
NIXL_ENV = {"VLLM_NIXL_SIDE_CHANNEL_HOST", "VLLM_NIXL_SIDE_CHANNEL_PORT"}
SIM_IMAGE = "ghcr.io/llm-d/llm-d-inference-sim"
# GKE TPU node label -> accelerator.model (the inverse of emit/modelservice.py TPU_ACCELERATOR).
TPU_ACCELERATOR = {"TPU-v5e": "tpu-v5-lite-podslice", "TPU-v5p": "tpu-v5p-slice", "TPU-v6e": "tpu-v6e-slice"}
# Linux capabilities the spec can give the vLLM containers for an RDMA KV transfer (spec/paths.py Rdma).
RDMA_CAPS = ("IPC_LOCK", "SYS_RAWIO", "NET_ADMIN", "NET_RAW")


@dataclass
class Note:
    where: str  # file:line
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Draft:
    """The spec being written: its fields in order, a comment per top-level key, and the notes."""

    spec: dict[str, Any] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    args_at: dict[str, str] = field(default_factory=dict)  # role -> file:line of its vLLM args

    def note(self, where: str, message: str) -> None:
        self.notes.append(Note(where, message))


def _dig(data: Any, *path: str | int, default: Any = None) -> Any:
    for key in path:
        listed = isinstance(data, list) and isinstance(key, int) and key < len(data)
        if (isinstance(data, dict) and key in data) or listed:
            data = data[key]
        else:
            return default
    return data


def _image(node: Any) -> str | None:
    if isinstance(node, str):
        return node
    if not isinstance(node, dict) or node.get("tag") is None:
        return None
    if node.get("hub") and node.get("name"):
        return f"{node['hub']}/{node['name']}:{node['tag']}"
    if node.get("registry") and node.get("repository"):
        return f"{node['registry']}/{node['repository']}:{node['tag']}"
    return None


class Arg(tuple[str, "str | None"]):
    """(flag, value) that remembers whether it was written `--flag=value`, so it is written back the same way."""

    joined: bool = False


def split_args(args: list[Any]) -> list[tuple[str, str | None]]:
    """argv -> [(flag, value)]: `--f v`, `--f=v` and bare `--f` (value None); a non-flag word is its own item."""
    items = [str(a) for a in args]
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(items):
        item = items[i]
        if item.startswith("--") and "=" in item:
            flag, _, value = item.partition("=")
            arg = Arg((flag, value))
            arg.joined = True
            out.append(arg)
        elif item.startswith("--") and i + 1 < len(items) and not items[i + 1].startswith("--"):
            out.append((item, items[i + 1]))
            i += 1
        else:
            out.append((item, None))
        i += 1
    return out


def join_args(pairs: list[tuple[str, str | None]]) -> list[str]:
    out: list[str] = []
    for pair in pairs:
        flag, value = pair
        if value is None:
            out.append(flag)
        elif getattr(pair, "joined", False):
            out.append(f"{flag}={value}")
        else:
            out += [flag, value]
    return out


def release_of(source: Source, picker_image: str | None, proxy_image: str | None, vllm_image: str | None,
               wanted: str | None) -> str | None:
    """The release preset the source ran: asked for, the helmfile's chart pins, else the picker's (routing
    sidecar's, vLLM's) image as the presets ship it."""
    if wanted:
        if wanted not in charts.RELEASES:
            raise SpecError.one("--release", "release", f"unknown release {wanted!r} (known: "
                                f"{', '.join(charts.RELEASES)})")
        return wanted
    if source.pins:
        for name, r in charts.RELEASES.items():
            if all(source.pins.get(k) in (None, getattr(r, k)) for k in ("infra", "inferencepool", "modelservice")):
                return name
        return None
    for name, r in charts.RELEASES.items():
        if picker_image == r.scheduler_image:
            return name
    for name, r in charts.RELEASES.items():
        if proxy_image and proxy_image == r.routing_sidecar_image:
            return name
    for name, r in charts.RELEASES.items():
        if vllm_image and vllm_image in r.vllm_images.values():
            return name
    return None


def _kv_extra(value: str | None) -> bool:
    """A P/D --kv-transfer-config that says more than the NIXL connector and role the compiler writes (e.g. the v0.9
    wide-EP guide's kv_load_failure_policy): kept in args, as written."""
    try:
        config = json.loads(value or "{}")
    except ValueError:
        return True
    return not isinstance(config, dict) or bool(set(config) - {"kv_connector", "kv_role"})


def _role(source: Source, draft: Draft, role: str, values: dict[str, Any], pd: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"replicas": int(values.get("replicas", 1))}
    containers = values.get("containers") or []
    if not containers:
        raise SpecError([problem(source.where("ms", role), f"{role}.containers", "no container: nothing to serve")])
    if len(containers) > 1:
        draft.note(source.where("ms", role, "containers", 1), f"{role}: only the first container (vLLM) is "
                   "imported; the others are dropped")
    c = containers[0]

    def where(*loc: str | int) -> str:
        return source.where("ms", role, "containers", 0, *loc)

    tensor = _dig(values, "parallelism", "tensor") or _dig(c, "parallelism", "tensor")
    args = c.get("args") or []
    if c.get("modelCommand") == "custom":
        script = " ".join(str(a) for a in args)
        words = shlex.split(script.replace("\\\n", " "))
        if words[:2] != ["vllm", "serve"]:
            raise SpecError([problem(where("args"), f"{role}.containers[0].args", "a custom command other than "
                                     "`vllm serve`: the spec runs vLLM through the chart's vllmServe")])
        args = words[3:]
        draft.note(where("modelCommand"), f"{role}: the custom `vllm serve` command becomes the chart's vllmServe "
                   "with its flags")
    pairs = split_args(args)
    kept: list[tuple[str, str | None]] = []
    for pair in pairs:
        flag, value = pair
        norm = flag.replace("_", "-")
        if norm == "--tensor-parallel-size" and value is not None:
            tensor = int(value)
        elif norm in DERIVED_FLAGS or (pd and norm == "--kv-transfer-config" and not _kv_extra(value)):
            continue
        elif norm in ("--data-parallel-size", "--enable-expert-parallel", "--data-parallel-size-local"):
            raise SpecError([problem(where("args"), f"{role}.args", "wide expert parallelism is not imported yet: "
                                     "write parallelism.{data,dataLocal,expert} by hand")])
        else:
            kept.append(pair)
    if tensor and int(tensor) != 1:
        out["parallelism"] = {"tensor": int(tensor)}
    if values.get("_widep"):  # a router-era LeaderWorkerSet (adopt/widep.py): one pod runs tensor x dataLocal GPUs
        out["parallelism"] = dict(values["_widep"])
    out["image"] = str(c.get("image"))
    if kept:
        out["args"] = join_args(kept)
        draft.args_at[role] = where("args")
    env: dict[str, str] = {}
    for item in c.get("env") or []:
        name = str(item.get("name"))
        if pd and name in NIXL_ENV:
            if name == "VLLM_NIXL_SIDE_CHANNEL_PORT":
                draft.spec.setdefault("kvTransfer", {})["port"] = int(item.get("value"))
            continue
        if name == "HF_TOKEN" and "secretKeyRef" in (item.get("valueFrom") or {}):
            continue  # model.tokenSecret says it (read from modelArtifacts.authSecretName / this reference)
        if "value" in item and "valueFrom" not in item:
            env[name] = str(item["value"])
        else:
            draft.note(where("env"), f"{role}.env {name}: a valueFrom the spec cannot say; dropped")
    if env:
        out["env"] = env
    resources: dict[str, dict[str, str]] = {}
    for kind in ("requests", "limits"):
        for key, value in (_dig(c, "resources", kind) or {}).items():
            if key in VENDOR_OF:
                draft.spec.setdefault("_vendor", VENDOR_OF[key])
                if int(str(value)) != int(tensor or 1) * int((values.get("_widep") or {}).get("dataLocal", 1)):
                    draft.note(where("resources"), f"{role}: {value} {key} per pod, tensor parallelism "
                               f"{tensor or 1}: the spec requests one per tensor rank")
            elif key.startswith("rdma/") and pd:
                rdma = draft.spec.setdefault("kvTransfer", {}).setdefault("rdma", {"resource": key})
                if int(str(value)) != 1:
                    rdma["count"] = int(str(value))
            else:
                resources.setdefault(kind, {})[key] = str(value)
    if resources:
        out["resources"] = resources
    context = c.get("securityContext") or {}
    caps = [str(x) for x in _dig(context, "capabilities", "add", default=[]) or []]
    if pd and caps and set(caps) <= set(RDMA_CAPS) and "rdma" in draft.spec.get("kvTransfer", {}):
        rdma = draft.spec["kvTransfer"]["rdma"]
        rdma["capabilities"] = caps
        if context.get("runAsUser") == 0:
            rdma["runAsRoot"] = True
    if not any(v.get("name") in ("shm", "dshm") for v in values.get("volumes") or []) and int(tensor or 1) > 1:
        out["shmSize"] = None  # the source mounts no /dev/shm; the spec's default would add one
    for volume in values.get("volumes") or []:
        if volume.get("name") in ("shm", "dshm") and _dig(volume, "emptyDir", "sizeLimit"):
            out["shmSize"] = str(volume["emptyDir"]["sizeLimit"])
        elif volume.get("name") not in ("metrics-volume", "torch-compile-cache", "shm", "triton-cache", "vllm-config"):
            draft.note(source.where("ms", role, "volumes"), f"{role}: volume {volume.get('name')} is not imported")
    probes = {}
    for probe in ("startup", "liveness", "readiness"):
        found = c.get(f"{probe}Probe")
        if isinstance(found, dict):
            probes[probe] = {k: found[k] for k in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                                                   "failureThreshold") if k in found}
            if _dig(found, "httpGet", "path"):
                probes[probe] = {"path": found["httpGet"]["path"], **probes[probe]}
    if probes:
        out["probes"] = probes
    annotations = values.get("annotations") or _dig(values, "podAnnotations")
    if annotations:
        out["podAnnotations"] = {str(k): str(v) for k, v in annotations.items()}
    return out


def model_part(source: Source, draft: Draft, ms: dict[str, Any]) -> None:
    art = ms.get("modelArtifacts") or {}
    uri = str(art.get("uri") or "")
    model: dict[str, Any] = {}
    cache: dict[str, Any] = {}
    if uri.startswith("hf://"):
        model["name"] = uri.removeprefix("hf://")
        if art.get("size"):
            cache["emptyDirSize"] = str(art["size"])
    elif uri.startswith("pvc://"):
        claim, _, path = uri.removeprefix("pvc://").partition("/")
        model["name"] = str(art.get("name") or _dig(ms, "routing", "modelName") or path)
        cache["pvc"] = {"name": claim, "size": str(art.get("size") or "100Gi"), **({"path": path} if path else {})}
        draft.note(source.where("ms", "modelArtifacts", "uri"), "the model cache is an existing PVC: its size is "
                   "not in the values, check model.cache.pvc.size")
    else:
        raise SpecError([problem(source.where("ms", "modelArtifacts", "uri"), "modelArtifacts.uri",
                                 f"{uri or '(none)'}: only hf:// and pvc:// model URIs are imported")])
    served = _dig(ms, "routing", "modelName") or (art.get("name") if uri.startswith("hf://") else None)
    if served and served != model["name"]:
        model["servedName"] = str(served)
    if art.get("authSecretName"):
        model["tokenSecret"] = {"name": str(art["authSecretName"])}
    if cache:
        model["cache"] = cache
    draft.spec["model"] = model
    draft.comments["model"] = f"from {source.where('ms', 'modelArtifacts')}"


def _multinode(source: Source, role: str, values: dict[str, Any]) -> dict[str, Any]:
    """A Helm-era wide-EP role (modelservice `multinode: true`, v0.2.x: one LeaderWorkerSet of parallelism.data pods,
    the chart's TP_SIZE env = parallelism.tensor) read through its launch script, as adopt/widep.py reads the
    router-era LeaderWorkerSets."""
    from llmd_compile.adopt import widep

    containers = values.get("containers") or []
    if not containers or containers[0].get("modelCommand") != "custom":
        raise SpecError([problem(source.where("ms", "multinode"), "multinode", f"{role}: a multinode role without a "
                                 "custom launch script is not imported: write parallelism.{data,dataLocal,expert} "
                                 "by hand")])
    tensor = int(_dig(values, "parallelism", "tensor") or 1)
    main = {**containers[0], "env": [*(containers[0].get("env") or []), {"name": "TP_SIZE", "value": str(tensor)}]}
    doc = {"metadata": {"name": f"{role} (multinode)", "labels": {"llm-d.ai/role": role}},
           "spec": {"replicas": values.get("replicas", 1), "leaderWorkerTemplate": {
               # v0.4.x charts size the group by parallelism.workers; v0.2.x by parallelism.data (emit/widep.py)
               "size": int(_dig(values, "parallelism", "workers") or _dig(values, "parallelism", "data") or 1),
               "workerTemplate": {"spec": {"containers": [main], "volumes": values.get("volumes") or []}}}}}
    _, read = widep.role_values(doc, source.where("ms", role, "containers", 0, "args"))
    read.pop("_model", None)
    return {**values, "containers": [read["containers"][0], *containers[1:]], "_widep": read["_widep"]}


def roles_part(source: Source, draft: Draft, ms: dict[str, Any]) -> None:
    if ms.get("multinode"):
        ms = {**ms, **{role: _multinode(source, role, ms[role]) for role in ("decode", "prefill")
                       if isinstance(ms.get(role), dict) and ms[role].get("create", True) is not False}}
    prefill = ms.get("prefill") or {}
    pd = bool(prefill.get("create")) and int(prefill.get("replicas", 1)) > 0
    decode = _role(source, draft, "decode", ms.get("decode") or {}, pd)
    proxy = _dig(ms, "routing", "proxy") or {}
    if proxy.get("enabled") is False:
        decode["sidecar"] = {"enabled": False}
    draft.spec["decode"] = decode
    draft.comments["decode"] = f"from {source.where('ms', 'decode')}"
    if pd:
        draft.spec["prefill"] = _role(source, draft, "prefill", prefill, pd)
        draft.comments["prefill"] = f"from {source.where('ms', 'prefill')}"
    image = decode["image"]
    vendor = draft.spec.pop("_vendor", None)
    acc_type = _dig(ms, "accelerator", "type")
    if image.startswith(SIM_IMAGE):
        vendor = "simulated"
    elif acc_type in TYPE_VENDOR and vendor is None:
        vendor = TYPE_VENDOR[acc_type]
    elif vendor is None and "accelerator" not in ms and "modelCommand" in str(ms):
        # No resource and no accelerator.type: the chart's default type, nvidia (MS values.yaml accelerator.type),
        # or a v0.2.x chart (no accelerator block) that requests nothing: the CPU.
        vendor = "cpu" if any(c in image for c in ("-cpu", "cpu:")) else "nvidia"
    draft.spec["_accelerator"] = vendor or "cpu"
    types = _dig(ms, "decode", "acceleratorTypes") or {}
    if types.get("labelKey") and types.get("labelValues"):
        draft.spec["_nodeAffinity"] = {"labelKey": str(types["labelKey"]),
                                       "labelValues": [str(v) for v in types["labelValues"]]}
    if _dig(ms, "accelerator", "dra"):
        draft.spec["_dra"] = True
    selector = _dig(ms, "decode", "nodeSelector") or _dig(ms, "decode", "extraConfig", "nodeSelector") or {}
    if selector.get("cloud.google.com/gke-tpu-topology"):
        draft.spec["_topology"] = str(selector["cloud.google.com/gke-tpu-topology"])
    tpu = {v: k for k, v in TPU_ACCELERATOR.items()}.get(str(selector.get("cloud.google.com/gke-tpu-accelerator")))
    if tpu:
        draft.spec["_model"] = tpu
    monitor = _dig(ms, "decode", "monitoring", "podmonitor") or {}
    if monitor.get("enabled"):
        draft.spec.setdefault("monitoring", {})["podMonitor"] = {
            "enabled": True, **({"interval": str(monitor["interval"])} if monitor.get("interval") else {})}


def decode_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def problems_of(notes: list[Note]) -> list[Problem]:
    return [problem(n.where, "", n.message) for n in notes]


# What the precise prefix-cache intent derives on the model servers (emit/precise.py): dropped once it is adopted.
PRECISE_FLAGS = {"--kv-events-config"}
PRECISE_ENV = {"PYTHONHASHSEED", "POD_IP"}


def settle_args(draft: Draft) -> None:
    """Drop what an adopted intent derives, then say which vLLM flags stay in args (the spec has no field for them)."""
    precise = "precisePrefixCache" in (draft.spec.get("scheduler") or {}).get("scorers", {})
    for role in ("decode", "prefill"):
        values = draft.spec.get(role)
        if not values:
            continue
        if precise:
            pairs = [pair for pair in split_args(values.get("args") or []) if pair[0] not in PRECISE_FLAGS]
            values["args"] = join_args(pairs)
            for name in PRECISE_ENV & set(values.get("env") or {}):
                del values["env"][name]
            for key in ("args", "env"):
                if key in values and not values[key]:
                    del values[key]
        if values.get("args"):
            flags = " ".join(f for f, _ in split_args(values["args"]))
            draft.note(draft.args_at.get(role, role), f"{role}.args keeps {flags}: no spec field says them")
