"""Fidelity: a spec reproduces each v0.9 guide's model servers, object by object, as `kubectl kustomize` builds them.

For the v0.9.0 guides (LD@e3dbeca1) optimized-baseline (NVIDIA, AMD, TPU v6e, CPU, XPU), pd-disaggregation,
precise-prefix-cache-routing and wide-ep-lws, the spec under modelserver_guides/ is compiled, its kubernetes
overlay built, and the guide's modelserver overlay (plus precise prefix's render/) built as the guide's README
applies it. Both sides are normalised to what runs: per role the workload kind, replicas and group size, labels
and selector, the pod's security context, claims and tolerations, the ServiceAccount, and per container the image,
command, vLLM's flags (a map: order does not matter; JSON values parsed; $(VAR) expanded as the kubelet does; the
wide-EP launch script's `vllm serve` line read with the pod's env and LWS_GROUP_SIZE substituted as the shell
would), env, ports, probes, resources, the volume behind each mount path and the securityContext; plus the render
Service. Every difference must be listed in INTENDED (modelserver_intended.py) with its reason, and every listed
difference must still be real.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from llmd_compile import yamlio
from llmd_compile.check.artifacts import dig

from . import oracles as o
from .modelserver_intended import INTENDED
from .test_router_modelservers import GUIDE_SPECS, built_guide_spec, v08_variant

LD09 = "upstream/data/llm-d__llm-d/commit-e3dbeca1/guides"
# guide -> the directories its README applies for the model servers (NVIDIA GPU, vLLM, the default provider)
GUIDE_DIRS = {
    "optimized-baseline": ["optimized-baseline/modelserver/gpu/vllm/base"],
    "pd-disaggregation": ["pd-disaggregation/modelserver/gpu/vllm/base"],
    "precise-prefix-cache-routing": ["precise-prefix-cache-routing/modelserver/gpu/vllm/base",
                                     "precise-prefix-cache-routing/render"],
    "wide-ep-lws": ["wide-ep-lws/modelserver/gpu/vllm/base"],
    # the other accelerators of the optimized baseline
    "optimized-baseline-amd": ["optimized-baseline/modelserver/amd/vllm/base"],
    "optimized-baseline-tpu": ["optimized-baseline/modelserver/tpu/v6/vllm"],
    "optimized-baseline-cpu": ["optimized-baseline/modelserver/cpu/vllm"],
    "optimized-baseline-xpu": ["optimized-baseline/modelserver/xpu/vllm"],
}
KINDS = ("Deployment", "LeaderWorkerSet", "ServiceAccount", "Service", "ResourceClaimTemplate")
MAIN = {"modelserver", "vllm"}  # the model server container, as the guides name it


def _value(text: Any) -> Any:
    if isinstance(text, str) and text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def args_map(args: list[Any]) -> dict[str, Any]:
    """vLLM's argv as {flag: value}; the positional model as `<model>`; `_` and `-` alike in flag names."""
    out: dict[str, Any] = {}
    items = [str(a) for a in args]
    i = 0
    while i < len(items):
        item = items[i]
        if not item.startswith("--"):
            out["<model>" if "<model>" not in out else f"<arg{i}>"] = item
            i += 1
            continue
        name, eq, value = item.partition("=")
        flag = "--" + name[2:].replace("_", "-")
        if eq:
            out[flag] = _value(value)
        elif i + 1 < len(items) and not items[i + 1].startswith("--"):
            out[flag] = _value(items[i + 1])
            i += 1
        else:
            out[flag] = True
        i += 1
    return out


def _shell(text: str, env: dict[str, str], group: int) -> str:
    text = text.replace("$((LWS_GROUP_SIZE * DP_SIZE_LOCAL))", str(group * int(env.get("DP_SIZE_LOCAL", "1"))))
    return re.sub(r"\$\{?([A-Z_][A-Z0-9_]*)\}?", lambda m: env.get(m.group(1), m.group(0)), text)


def serve_args(script: str, env: dict[str, str], group: int) -> list[str]:
    """The words of a launch script's `exec vllm serve` line (continuations joined, comments dropped)."""
    line = _shell(script.split("vllm serve", 1)[1], env, group)
    return shlex.split(line.replace("\\\n", " "), comments=True)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for e in container.get("env", []):
        value = e.get("value", e.get("valueFrom"))
        if isinstance(value, dict) and value.get("fieldRef", {}).get("apiVersion") == "v1":  # the API's default
            value = {"fieldRef": {k: v for k, v in value["fieldRef"].items() if k != "apiVersion"}}
        out[e["name"]] = value
    return out


def kubelet_expand(args: list[Any], env: dict[str, str]) -> list[str]:
    """$(VAR) in args, expanded from the container's plain env as the kubelet does (valueFrom ones left)."""
    return [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), str(a))
            for a in args]


def _container(c: dict[str, Any], volumes: dict[str, Any], group: int) -> dict[str, Any]:
    env = _env(c)
    plain = {k: str(v) for k, v in env.items() if isinstance(v, str)}
    args = c.get("args", [])
    if c.get("command") == ["/bin/bash", "-c"]:
        out: dict[str, Any] = {"command": "launch script", "args": args_map(serve_args(args[0], plain, group))}
    else:
        out = {"command": c.get("command"), "args": args_map(kubelet_expand(args, plain))}
    out.update(image=c.get("image"), imagePullPolicy=c.get("imagePullPolicy"), env=env,
               ports={p.get("name"): p["containerPort"] for p in c.get("ports", [])},
               resources={kind: {k: str(v) for k, v in c.get("resources", {}).get(kind, {}).items()}
                          for kind in ("limits", "requests")},
               mounts={m["mountPath"]: volumes.get(m["name"]) for m in c.get("volumeMounts", [])},
               securityContext=c.get("securityContext"), restartPolicy=c.get("restartPolicy"))
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        out[probe] = c.get(probe)
    return out


def _devices(template: dict[str, Any]) -> list[dict[str, Any]]:
    """A ResourceClaimTemplate's device requests, names aside (ExactCount is the API's default mode)."""
    out = []
    for request in dig(template, "spec", "spec", "devices", "requests", default=[]) or []:
        exactly = {k: v for k, v in (request.get("exactly") or {}).items()
                   if (k, v) != ("allocationMode", "ExactCount")}
        out.append(exactly)
    return out


def _claims(pod: dict[str, Any], templates: dict[str, Any]) -> dict[str, Any] | None:
    """The pod's claims, by the devices their templates request (claim and template names aside)."""
    claims = pod.get("resourceClaims")
    if not claims:
        return None
    return {f"claim{i}": _devices(templates.get(c.get("resourceClaimTemplateName"), {})) for i, c in enumerate(claims)}


def _workload(doc: dict[str, Any], templates: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "LeaderWorkerSet":
        lwt = doc["spec"]["leaderWorkerTemplate"]
        template, group, selector = lwt["workerTemplate"], lwt["size"], None
    else:
        template, group, selector = doc["spec"]["template"], 1, doc["spec"]["selector"]["matchLabels"]
    pod = template["spec"]
    volumes = {v["name"]: {k: x for k, x in v.items() if k != "name"} for v in pod.get("volumes", [])}
    out: dict[str, Any] = {
        "kind": doc["kind"], "name": doc["metadata"]["name"], "replicas": doc["spec"].get("replicas"),
        "size": group if doc["kind"] == "LeaderWorkerSet" else None,
        "labels": doc["metadata"].get("labels"), "selector": selector,
        "pod.labels": template["metadata"].get("labels"), "pod.annotations": template["metadata"].get("annotations"),
        "pod.nodeSelector": pod.get("nodeSelector"), "pod.affinity": pod.get("affinity"),
        "pod.securityContext": pod.get("securityContext"), "pod.resourceClaims": _claims(pod, templates),
        "pod.tolerations": pod.get("tolerations"), "pod.serviceAccount": bool(pod.get("serviceAccountName")),
    }
    claim_index = {c["name"]: f"claim{i}" for i, c in enumerate(pod.get("resourceClaims") or [])}
    for c in pod["containers"]:
        out["vllm" if c["name"] in MAIN else c["name"]] = _container(c, volumes, group)
        claimed = [claim_index.get(x.get("name")) for x in dig(c, "resources", "claims", default=[]) or []]
        out["vllm" if c["name"] in MAIN else c["name"]]["claims"] = claimed or None
    for c in pod.get("initContainers", []):
        out[f"init:{c['name']}"] = _container(c, volumes, group)
    return out


def normalise(docs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    templates = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ResourceClaimTemplate"}
    for doc in docs:
        if doc["kind"] in ("Deployment", "LeaderWorkerSet"):
            out[doc["metadata"]["labels"]["llm-d.ai/role"]] = _workload(doc, templates)
        elif doc["kind"] == "ServiceAccount":
            out["sa"] = {"automountServiceAccountToken": doc.get("automountServiceAccountToken")}
        elif doc["kind"] == "Service":
            out["render"] = {"name": doc["metadata"]["name"], "selector": doc["spec"]["selector"],
                             "ports": doc["spec"]["ports"]}
    return out


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def guide_side(name: str) -> dict[str, Any]:
    root = o.shared() / LD09
    return normalise([d for rel in GUIDE_DIRS[name] for d in o.kustomize_build(root / rel) if d["kind"] in KINDS])


def differences(name: str, scratch: Path) -> dict[str, tuple[Any, Any]]:
    spec = next(p for p in GUIDE_SPECS if p.stem == name)
    ours = flatten(normalise([d for d in built_guide_spec(spec, scratch)["kubernetes"] if d["kind"] in KINDS]))
    theirs = flatten(guide_side(name))
    return {k: (ours.get(k), theirs.get(k)) for k in sorted({*ours, *theirs}) if ours.get(k) != theirs.get(k)}


def _explained(name: str, path: str) -> bool:
    return any(path == key or (key.endswith("*") and path.startswith(key[:-1])) for key in INTENDED[name])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fidelity")


@pytest.mark.parametrize("name", sorted(GUIDE_DIRS))
def test_every_difference_is_intended(name: str, scratch: Path) -> None:
    unexplained = {k: v for k, v in differences(name, scratch).items() if not _explained(name, k)}
    assert unexplained == {}, "\n".join(f"{k}: ours={v[0]!r} guide={v[1]!r}" for k, v in unexplained.items())


@pytest.mark.parametrize("name", sorted(GUIDE_DIRS))
def test_every_intended_difference_is_real(name: str, scratch: Path) -> None:
    found = differences(name, scratch)
    stale = [key for key in INTENDED[name]
             if not any(p == key or (key.endswith("*") and p.startswith(key[:-1])) for p in found)]
    assert stale == []


def test_every_guide_has_a_spec_and_a_table() -> None:
    assert sorted(GUIDE_DIRS) == sorted(p.stem for p in GUIDE_SPECS) == sorted(INTENDED)


def test_launch_script_reads_as_the_shell_would() -> None:
    script = "X=1\nexec vllm serve \\\n  m \\\n  --tp $TP \\\n  --dp $((LWS_GROUP_SIZE * DP_SIZE_LOCAL)) # c\n"
    assert serve_args(script, {"TP": "2", "DP_SIZE_LOCAL": "8"}, 2) == ["m", "--tp", "2", "--dp", "16"]
    assert args_map(["m", "--a=1", "--b_c", "x", "--d", '{"k":1}', "--e"]) == {
        "<model>": "m", "--a": "1", "--b-c": "x", "--d": {"k": 1}, "--e": True}


def test_guide_slips_are_real() -> None:
    """The slips INTENDED names: the P/D base overlay (README default INFRA_PROVIDER=base) leaves the model-server
    image placeholder unfilled, the P/D and wide-EP overlays pull the sidecar's nightly `:main` tag, and the CPU and
    XPU overlays label another model than the one they serve."""
    pd = guide_side("pd-disaggregation")
    assert pd["decode"]["vllm"]["image"] == pd["prefill"]["vllm"]["image"] == "REPLACE_MODEL_SERVER_IMAGE"
    assert pd["decode"]["init:routing-proxy"]["image"].endswith(":main")
    assert guide_side("wide-ep-lws")["decode"]["init:routing-proxy"]["image"].endswith(":main")
    for name in ("optimized-baseline-cpu", "optimized-baseline-xpu"):  # the GPU overlay's model label, copied
        decode = guide_side(name)["decode"]
        assert decode["labels"]["llm-d.ai/model"] == "Qwen3-32B" != decode["vllm"]["args"]["<model>"].split("/")[-1]


LD08 = "upstream/data/llm-d__llm-d/commit-3fa7bfc5/guides"


@pytest.mark.parametrize("name", ["pd-disaggregation", "wide-ep-lws"])
def test_v08_routing_proxy_is_the_guides(name: str, scratch: Path) -> None:
    """On llm-d v0.8 (router v0.9.0, LD@3fa7bfc5) the sidecar takes --vllm-port (no --model-server-port yet) and
    the release component's v0.9.0 image: our routing proxy is the v0.8 guide's, flag for flag and in order."""
    spec = v08_variant(next(p for p in GUIDE_SPECS if p.stem == name), scratch)
    ours = [d for d in built_guide_spec(spec, scratch / "v08-build")["kubernetes"] if d["metadata"]["labels"].get(
        "llm-d.ai/role") == "decode" and d["kind"] in ("Deployment", "LeaderWorkerSet")]
    theirs = [d for d in o.kustomize_build(o.shared() / LD08 / GUIDE_DIRS[name][0])
              if d["metadata"].get("labels", {}).get("llm-d.ai/role") == "decode"]

    def proxy(doc: dict[str, Any]) -> dict[str, Any]:
        template = doc["spec"]["template"] if doc["kind"] == "Deployment" else \
            doc["spec"]["leaderWorkerTemplate"]["workerTemplate"]
        (init,) = template["spec"]["initContainers"]
        return {k: init[k] for k in ("name", "image", "args", "ports", "restartPolicy", "securityContext")}

    assert [proxy(d) for d in ours] == [proxy(d) for d in theirs]


@pytest.mark.parametrize(("name", "component"), [("optimized-baseline", "monitoring"),
                                                 ("pd-disaggregation", "monitoring-pd")])
def test_pod_monitors_scrape_as_the_guides_component(name: str, component: str, scratch: Path) -> None:
    """monitoring.podMonitor compiles to the guides' recipes/modelserver/components/<component> PodMonitors: the
    same endpoints per role; our selector adds the stack's labels to the guide's role-only one, so two stacks in a
    namespace never scrape each other's pods (intended)."""
    spec = next(p for p in GUIDE_SPECS if p.stem == name)
    data = o._yaml().load(spec.read_text(encoding="utf-8"))
    data["monitoring"] = {"podMonitor": {"enabled": True, "interval": "30s"}}
    variant = scratch / "monitoring" / spec.name
    variant.parent.mkdir(parents=True, exist_ok=True)
    variant.write_text(yamlio.dump(data), encoding="utf-8")
    ours = {d["metadata"]["labels"]["llm-d.ai/role"]: d["spec"]
            for d in built_guide_spec(variant, scratch / "monitoring-build")["kubernetes"] if d["kind"] == "PodMonitor"}
    theirs = {d["metadata"]["labels"]["llm-d.ai/role"]: d["spec"] for d in o.kustomize_build(
        o.shared() / LD09 / "recipes/modelserver/components" / component)}
    assert sorted(ours) == sorted(theirs)
    for role, spec_ in theirs.items():
        assert ours[role]["podMetricsEndpoints"] == spec_["podMetricsEndpoints"], role
        selector = ours[role]["selector"]["matchLabels"]
        assert selector.items() >= spec_["selector"]["matchLabels"].items(), role
        assert selector["llm-d.ai/guide"] == name, role
