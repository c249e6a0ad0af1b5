"""Wide-EP against the llm-d guides: the seed-era modelservice release (LD@e52045bd) value by value, and the
v0.6 LeaderWorkerSets' probes and privileges (LD@899f8517; their groups are checked in test_paths.py).

The seed guide (guides/wide-ep-lws/ms-wide-ep/values.yaml) is one llm-d-modelservice v0.2.7 release that also
rendered the picker, its InferencePool and the HTTPRoute (routing.epp/inferencePool/httpRoute.create); the two
names its comments say the helmfile sets are set here as written there (the helmfile is not in ../shared). Both
sides are coalesced with the chart's values.yaml and normalised as test_paths.py does, plus:

* the guide's shell variables in its launch script are the values they hold: $TP_SIZE (the chart's, from
  parallelism.tensor), $DP_SIZE_LOCAL (the guide's env), LWS_GROUP_SIZE (the LeaderWorkerSet size, which MS v0.2.x
  takes from parallelism.data, CATALOG §b.2);
* each role's one container is compared under one name (the guide's vllm-worker-<role> is ours `vllm`,
  test_container_names);
* the picker config it embedded (routing.epp.pluginsCustomConfig) is compared with our inferencepool values' one
  under `epp:`.

INTENDED lists every path that differs, with its reason (an entry ending in `*` covers a subtree); each must match
a real difference.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.catalog import vllm
from llmd_compile.compile import compile_spec
from llmd_compile.resolve import resolve
from llmd_compile.spec.load import load
from llmd_compile.spec.models import Spec

from . import oracles as o
from . import test_paths as tp
from . import test_upstream_guides as ug

REPO = Path(__file__).resolve().parents[2]
SEED_GUIDE = "upstream/data/llm-d__llm-d/commit-e52045bd/guides/wide-ep-lws/ms-wide-ep/values.yaml"
V06_MANIFESTS = "upstream/data/llm-d__llm-d/commit-899f8517/guides/wide-ep-lws/manifests/modelserver/base"
RN = "wide-ep"
# What the values' comments say the helmfile sets ("# name: infra-wide-ep-inference-gateway # set in helmfile").
HELMFILE_SETS = {"routing.parentRefs[0].name": f"infra-{RN}-inference-gateway",
                 "routing.inferencePool.name": f"ms-{RN}"}
ROLES = ("decode", "prefill")
D, P = "ms:decode.containers[name=vllm]", "ms:prefill.containers[name=vllm]"


def _both(suffix: str, reason: str) -> dict[str, str]:
    return {f"{c}.{suffix}": reason for c in (D, P)}


PICKER = ("the picker is the inferencepool release's (gaie-<rn>, as every guide from LD@v0.3.0 runs it) instead of "
          "the one MS v0.2.7 renders itself (routing.epp); its config is compared under epp:")
POOL = ("the InferencePool is the inferencepool chart's (gaie-<rn>), not the modelservice chart's "
        "(routing.inferencePool.create), which only MS v0.2.x has")
IMAGE = ("the seed preset's vLLM image (llm-d-dev:pr-170, which the seed's other guides start as `vllm serve`); the "
         "guide's ghcr.io/llm-d/llm-d:v0.2.0 needs its virtualenv activated first, as the guide's script does")
HOST_CACHE = ("the guide keeps the Hugging Face cache on a hostPath of each node (/mnt/local/hf-cache); hostPath "
              "volumes are a privilege (restricted-v2 refuses them) and no spec field asks for one: the model "
              "downloads into the pod's model volume (modelArtifacts hf://, HF_HOME)")
NIXL_PORT = ("the NIXL side-channel port written out as a named container port (vLLM's default 5600), as the "
             "LD@899f8517 guides do")
PROBES = ("the LD@899f8517 wide-EP probes (catalog/vllm.py WIDE_EP_PROBES): startup polls /health every second for "
          "up to 2700 s, liveness /health, readiness /v1/models (the model is served); the seed guide had a "
          "readiness probe on /health only")
SHM = "our shared-memory volume is named shm on every path (the guide: dshm); the same 1Gi /dev/shm"
INTENDED: dict[str, str] = {
    "ms:routing.modelName": ("deprecated, read by no v0.2.7 template, rejected by every MS schema from v0.2.8 "
                             "(CATALOG §a.5, §b.4); cosmetic"),
    "ms:routing.epp.*": PICKER,
    "ms:routing.inferencePool.*": POOL,
    "ms:routing.inferenceModel.*": ("no InferenceModel: the spec has no criticality, and the seed's other guides run "
                                    "the same picker and pool without one"),
    "ms:routing.httpRoute.create": ("the HTTPRoute is ours (base/httproute.yaml) instead of the chart's post-install "
                                    "hook, as every guide from LD@v0.3.0"),
    **_both("image", IMAGE),
    **_both("workingDir", "the guide's /code working directory only matters to its own script"),
    **_both("imagePullPolicy", "the chart's pull policy; the spec has no pull-policy field"),
    **_both("parallelism.*", ("MS v0.2.7 reads --tensor-parallel-size from the container's parallelism (CATALOG "
                              "§b.2); written out on every v0.2.x stack")),
    **_both("args.--served-model-name", "written out; vLLM serves the model under the same name without it"),
    **_both("env[name=DP_SIZE_LOCAL].value", "the local rank count is written into the launch line when compiled"),
    **_both("env[name=HF_HUB_CACHE].value", HOST_CACHE),
    **_both("volumeMounts[name=hf-cache].mountPath", HOST_CACHE),
    **{f"ms:{r}.volumes[name=hf-cache].*": HOST_CACHE for r in ROLES},
    **_both("mountModelVolume", HOST_CACHE),
    **_both("ports[containerPort=5600].*", NIXL_PORT),
    **_both("startupProbe.*", PROBES),
    **_both("livenessProbe.*", PROBES),
    **_both("readinessProbe.*", PROBES),
    **_both("volumeMounts[name=metrics-volume].mountPath", ("every model server gets writable /.cache and /.config "
                                                            "(OpenShift's random UID, LLMD404)")),
    **_both("volumeMounts[name=torch-compile-cache].mountPath", "see volumeMounts[name=metrics-volume]"),
    **{f"ms:{r}.volumes[name=torch-compile-cache].emptyDir": "see volumeMounts[name=metrics-volume]" for r in ROLES},
    **{f"ms:{r}.volumes[name=metrics-volume].emptyDir": "see volumeMounts[name=metrics-volume]" for r in ROLES},
    **_both("volumeMounts[name=dshm].mountPath", SHM),
    **_both("volumeMounts[name=shm].mountPath", SHM),
    **{f"ms:{r}.volumes[name={v}].*": SHM for r in ROLES for v in ("dshm", "shm")},
    "epp:plugins.pd-profile-handler.parameters.hashBlockSize": (
        "with threshold 0 every request is disaggregated; the hash block size only feeds the threshold comparison"),
    "epp:plugins.queue-scorer.parameters*": (
        "upstream mistake: queue-scorer takes no parameters; the prefix-cache tuning the guide passes it is ignored by "
        "lenient decoding (CATALOG §f; test_seed_queue_scorer_parameters_are_ignored)"),
}


def guide() -> Any:
    return YAML(typ="safe").load((o.shared() / SEED_GUIDE).read_text(encoding="utf-8"))


@functools.cache
def spec() -> Spec:
    loaded = load(REPO / "specs" / "wide-ep-seed.yaml", "specs/wide-ep-seed.yaml")
    return loaded.model_copy(update={"metadata": loaded.metadata.model_copy(update={"name": RN})})


@functools.cache
def ours() -> dict[str, Any]:
    files = compile_spec(spec(), "specs/wide-ep-seed.yaml")
    return {"ms": YAML(typ="safe").load(str(files["values/modelservice.yaml"])),
            "gaie": YAML(typ="safe").load(str(files["values/inferencepool.yaml"]))}


def _script_values(script: str, role: dict[str, Any], container: dict[str, Any]) -> str:
    """The guide's launch script with its shell variables replaced by what they hold in the pod."""
    env = {e["name"]: e.get("value") for e in container.get("env") or []}
    local = env["DP_SIZE_LOCAL"]
    group = role["parallelism"]["data"]  # LWS_GROUP_SIZE: MS v0.2.x sizes the LeaderWorkerSet by parallelism.data
    return (script.replace("$((LWS_GROUP_SIZE * DP_SIZE_LOCAL))", str(group * int(local)))
            .replace("$TP_SIZE", str(role["parallelism"]["tensor"])).replace("$DP_SIZE_LOCAL", local))


def _launch(container: dict[str, Any]) -> dict[str, Any]:
    """vllm serve's argv as {flag: value} (the model is argv[0])."""
    return tp.args_map(vllm.container_args(container))


def side(values: dict[str, Any], is_guide: bool) -> dict[str, Any]:
    merged = o.helm_merge(ug.chart_defaults("llm-d-modelservice", "v0.2.7"), values)
    for name in ROLES:
        role = merged[name]
        (container,) = role["containers"]
        if is_guide:
            container["args"] = [_script_values(container["args"][0], role, container)]
        container["args"] = _launch(container)
        container["name"] = "vllm"
    return tp.normalise("ms", merged, "sched-v0.2.1", "v0.5.1")  # type: ignore[no-any-return]


def _epp(text: str) -> dict[str, Any]:
    return tp.epp_config(text, "sched-v0.2.1")


@functools.cache
def differences() -> dict[str, tuple[Any, Any]]:
    theirs = guide()
    for path, value in HELMFILE_SETS.items():
        ug.helm_set(theirs, path, value)
    mine = ours()
    ext = mine["gaie"]["inferenceExtension"]
    pairs = {
        "ms": (ug.flatten(side(theirs, True)), ug.flatten(side(mine["ms"], False))),
        "epp": (ug.flatten(_epp(theirs["routing"]["epp"]["pluginsCustomConfig"]["pd-config.yaml"])),
                ug.flatten(_epp(ext["pluginsCustomConfig"][ext["pluginsConfigFile"]]))),
    }
    found = {}
    for artifact, (a, b) in pairs.items():
        for path in sorted(set(a) | set(b)):
            pair = (a.get(path, ug.ABSENT), b.get(path, ug.ABSENT))
            if pair[0] != pair[1]:
                found[f"{artifact}:{path.lstrip('.')}"] = pair
    return found


def _explained(path: str) -> bool:
    return any(path == key or (key.endswith("*") and path.startswith(key[:-1])) for key in INTENDED)


def test_same_charts_and_picker_as_the_guide() -> None:
    stack = resolve(spec(), "x")
    assert (stack.infra.version, stack.pool.version, stack.ms.version) == ("v1.3.0", "v0.5.1", "v0.2.7")
    epp = guide()["routing"]["epp"]["image"]
    assert stack.spec.scheduler.image == epp


def test_every_difference_is_intended() -> None:
    unexplained = {p: f"guide {g!r} / ours {u!r}" for p, (g, u) in differences().items() if not _explained(p)}
    assert unexplained == {}


def test_every_intended_difference_is_real() -> None:
    paths = list(differences())
    stale = [key for key in INTENDED if not any(p == key or (key.endswith("*") and p.startswith(key[:-1]))
                                                 for p in paths)]
    assert stale == []


def test_container_names() -> None:
    # Compared under one name above: the chart keys nothing on a container's name; ours is `vllm` on every path
    # (what the checks and the v0.6 guides call it).
    assert [c["name"] for r in ROLES for c in guide()[r]["containers"]] == ["vllm-worker-decode", "vllm-worker-prefill"]
    assert [c["name"] for r in ROLES for c in ours()["ms"][r]["containers"]] == ["vllm", "vllm"]


def test_start_rank_is_the_guides() -> None:
    """Each pod's first data-parallel rank: its LeaderWorkerSet index times the ranks per pod, on both sides."""
    for name in ROLES:
        (theirs,) = guide()[name]["containers"]
        (mine,) = ours()["ms"][name]["containers"]
        local = next(e["value"] for e in theirs["env"] if e["name"] == "DP_SIZE_LOCAL")
        rank = r"START_RANK=\$\(\( \$\{LWS_WORKER_INDEX:-0\} \* (\w+) \)\)"
        assert re.search(rank, theirs["args"][0]).group(1) == "DP_SIZE_LOCAL"  # type: ignore[union-attr]
        assert re.search(rank, mine["args"][0]).group(1) == local  # type: ignore[union-attr]
        assert "--data-parallel-start-rank $START_RANK" in theirs["args"][0]
        assert "--data-parallel-start-rank $START_RANK" in mine["args"][0]


def test_seed_queue_scorer_parameters_are_ignored() -> None:
    from llmd_compile.catalog.plugins import PICKERS
    from llmd_compile.check.plugins import check_config

    config = YAML(typ="safe").load(guide()["routing"]["epp"]["pluginsCustomConfig"]["pd-config.yaml"])
    found = {p.field for p in check_config(PICKERS["sched-v0.2.1"], config, "g", "c")}
    assert found == {"c.plugins[4].parameters"}


# --- v0.6: the LeaderWorkerSets' container probes and privileges are the guide's -----------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_v06_probes_and_privileges_are_the_guides(role: str) -> None:
    lws = YAML(typ="safe").load((o.shared() / V06_MANIFESTS / f"{role}.yaml").read_text(encoding="utf-8"))
    pod = lws["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]
    (theirs,) = pod["containers"]
    (mine,) = tp.ours("wide-ep@v0.6")["ms"][role]["containers"]
    keys = (*ug.PROBE_KEYS, "securityContext")
    named = ug.named_ports({role: {"containers": [{k: theirs[k] for k in (*keys, "ports")}]}})
    assert {k: named[role]["containers"][0][k] for k in keys} == {k: mine[k] for k in keys}
