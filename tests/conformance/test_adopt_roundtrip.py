"""Round trips on the llm-d guide snapshots: `llmd-compile import` a Helm-era guide directory, compile the spec it
writes, and compare our values with what the guide's helmfile handed each chart (istio environment), semantically.

The guide side is built as tests/conformance/test_paths.py builds it (CATALOG §a.3, §a.8: the gaie and ms values,
the environment's gateway block for infra, the EPP DestinationRule host, the seed-era ms `set:` names); both sides are
coalesced with the pinned chart's values.yaml and normalised the same way (vLLM args as {flag: value}, quantities as
strings, the EndpointPickerConfig parsed with the registry's defaults). Every difference must be explained, by the
reasons the hand-written spec of the same guide already gives (paths_intended.py, test_upstream_guides.py,
test_guide_fidelity.py) or by the import-specific reasons in ROUNDTRIP below; every row of ROUNDTRIP must be a real
difference, so the table cannot rot. Snapshots the importer does not cover are listed in UNCOVERED and must fail
with a located error.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmd_compile.adopt.importer import Options, import_source
from llmd_compile.compile import compile_spec
from llmd_compile.errors import SpecError
from llmd_compile.resolve import resolve
from llmd_compile.spec.load import load_text

from . import oracles as o
from . import test_guide_fidelity as gf
from . import test_paths as tp
from . import test_upstream_guides as ug
from .paths_intended import INTENDED as PATH_REASONS

DATA = "upstream/data/llm-d__llm-d"
SEED = "commit-e52045bd"
# (snapshot, guide directory) -> (release postfix the importer reads from gaie-<rn>/, the hand-written spec whose
# intended differences also explain ours: a paths_intended.py key, "ug:<ref>" or "gf")
CASES: dict[str, tuple[str, str, str, str]] = {
    "inference-scheduling@seed": (SEED, "inference-scheduling", "inference-scheduling", "gf"),
    "pd@seed": (SEED, "pd-disaggregation", "pd", "pd@seed"),
    "precise@seed": (SEED, "precise-prefix-cache-aware", "kv-events", "precise@seed"),
    "inference-scheduling@v0.3.0": ("v0.3.0", "inference-scheduling", "inference-scheduling", "ug:v0.3.0"),
    "pd@v0.3.0": ("v0.3.0", "pd-disaggregation", "pd", "pd@seed"),
    "precise@v0.3.0": ("v0.3.0", "precise-prefix-cache-aware", "kv-events", "precise@seed"),
    "sim@v0.3.0": ("v0.3.0", "simulated-accelerators", "sim", "sim@seed"),
    "inference-scheduling@v0.4.0": ("v0.4.0", "inference-scheduling", "inference-scheduling", "ug:v0.4.0"),
    "pd@v0.4.0": ("v0.4.0", "pd-disaggregation", "pd", "pd@seed"),
    "precise@v0.4.0": ("v0.4.0", "precise-prefix-cache-aware", "kv-events", "precise@seed"),
    "sim@v0.4.0": ("v0.4.0", "simulated-accelerators", "sim", "sim@seed"),
    "inference-scheduling@v0.6": ("commit-899f8517", "inference-scheduling", "inference-scheduling",
                                  "ug:commit-899f8517"),
    "pd@v0.6": ("commit-899f8517", "pd-disaggregation", "pd", "pd@v0.6"),
    "precise@v0.6": ("commit-899f8517", "precise-prefix-cache-aware", "kv-events", "precise@v0.6"),
    "sim@v0.6": ("commit-899f8517", "simulated-accelerators", "sim", "sim@v0.6"),
}
# Guide snapshots our paths do not import, each with the located error that says why.
UNCOVERED: dict[str, tuple[str, str, str]] = {
    "sim@seed": (SEED, "simulated-accelerators", "default-plugins.yaml, baked into inferencepool v0.5.1, is not in "
                 "the catalog"),
    # ms-wide-ep only, no gaie values (test_helm_era_wide_ep_round_trip imports it beside another guide's)
    "wide-ep@seed": (SEED, "wide-ep-lws", "only a wide-EP ms-*/values.yaml and no gaie-*/values.yaml"),
    "wide-ep@v0.3.0": ("v0.3.0", "wide-ep-lws", "kustomize model-server manifests beside inferencepool.values.yaml"),
    "wide-ep@v0.4.0": ("v0.4.0", "wide-ep-lws", "no llm-d deployment here"),  # inferencepool.values.yaml only
    "wide-ep@v0.6": ("commit-899f8517", "wide-ep-lws", "kustomize model-server manifests beside inferencepool.values"),
}
ENV = "prereq/gateway-provider/common-configurations/istio.yaml"

# Differences the import has and the hand-written spec of the same guide does not, with the reason. Each is also
# reported by `llmd-compile import` on stderr (the tests in tests/unit/test_adopt.py check the notes).
RAW_WIRING = ("no scorer intent compiles to this picker config (seed: cache_tracking's kvBlockIndexConfig metrics; "
              "v0.6: the tokenizer plugin and speculative indexing), so the import keeps it as "
              "scheduler.endpointPickerConfig; the picker-side wiring the precise intent derives (ZMQ port, HF token "
              "env, UDS tokenizer sidecar) has no field beside a hand-written config: reported as not imported")
KV_ENV = ("POD_IP only feeds the guide's hand-written --kv-events-config topic, which the import keeps in args "
          "verbatim beside the hand-written picker config; a valueFrom env has no spec field: reported, dropped")
SIDECAR = ("the UDS tokenizer sidecar belongs to the precise intent, which this config does not map to (and its "
           "image can no longer be pulled, catalog/images.py)")
KV_DEFAULTS = ("the precise scorer's kvEventsConfig written out at the picker's defaults (zmqEndpoint tcp://*:5557, "
               "topicFilter kv@, concurrency 4: CATALOG §e, pkg/kvevents/pool.go); the guide leaves them implicit")
PARENT = ("the Gateway API parentRef defaults (group gateway.networking.k8s.io, kind Gateway) written out; the guide's "
          "ms values of this path carry no parentRefs, the helmfile `set:` only names the Gateway")
VERBOSITY = "the picker's log verbosity (flags.v: 4) is no spec field: reported as not imported, chart default 1"
POSTFIX_ENV = ("GAIE_RELEASE_NAME_POSTFIX only fills the guide's --kv-events-config endpoint; the precise intent "
               "derives the endpoint from the release names")
SECRET = ("the metrics-reader Secret named after the release postfix (kv-events), as the chart names it; the guide "
          "hard-codes prefix-routing-…, another stack's name")
ROUNDTRIP: dict[str, dict[str, str]] = {
    "precise@seed": {
        "gaie:inferenceExtension.env[name=HF_TOKEN]*": RAW_WIRING,
        "gaie:inferenceExtension.extraContainerPorts*": RAW_WIRING,
        "gaie:inferenceExtension.extraServicePorts*": RAW_WIRING,
        "ms:decode.containers[name=vllm].env[name=POD_IP]*": KV_ENV,
    },
    "pd@v0.3.0": {"ms:routing.parentRefs*": PARENT},
    "sim@v0.3.0": {"ms:routing.parentRefs*": PARENT},
    "precise@v0.3.0": {
        "gaie:inferenceExtension.epp.plugins.precise-prefix-cache-scorer.parameters.kvEventsConfig*": KV_DEFAULTS,
        "gaie:inferenceExtension.flags[name=v].value": VERBOSITY,
        "gaie:inferenceExtension.monitoring.secret.name": SECRET,
        "ms:decode.containers[name=vllm].env[name=GAIE_RELEASE_NAME_POSTFIX].name": POSTFIX_ENV,
        "ms:routing.parentRefs*": PARENT,
    },
    "precise@v0.4.0": {
        "gaie:inferenceExtension.epp.plugins.precise-prefix-cache-scorer.parameters.kvEventsConfig*": KV_DEFAULTS,
        "gaie:inferenceExtension.flags.v": VERBOSITY,
        "gaie:inferenceExtension.flags[name=v].value": VERBOSITY,
        "ms:decode.containers[name=vllm].env[name=GAIE_RELEASE_NAME_POSTFIX].name": POSTFIX_ENV,
    },
    "precise@v0.6": {
        "gaie:inferenceExtension.env[name=HF_TOKEN]*": RAW_WIRING,
        "gaie:inferenceExtension.extraContainerPorts*": RAW_WIRING,
        "gaie:inferenceExtension.extraServicePorts*": RAW_WIRING,
        "gaie:inferenceExtension.sidecar*": SIDECAR,
        "gaie:inferenceExtension.volumeMounts*": SIDECAR,
        "gaie:inferenceExtension.volumes*": SIDECAR,
        "ms:decode.containers[name=vllm].env[name=GAIE_RELEASE_NAME_POSTFIX].name": POSTFIX_ENV,
        "ms:decode.containers[name=vllm].env[name=POD_IP]*": KV_ENV,
    },
}


def guide(ref: str, rel: str) -> Any:
    return YAML(typ="safe").load((o.shared() / DATA / ref / "guides" / rel).read_text(encoding="utf-8"))


def guide_side(name: str) -> dict[str, Any]:
    ref, _, rn, _ = CASES[name]
    ns = imported(name).metadata.namespace
    gaie = guide(ref, next(p.relative_to(p.parents[2]).as_posix() for p in _dir(name).glob("gaie-*/values.yaml")))
    ms = guide(ref, next(p.relative_to(p.parents[2]).as_posix() for p in _dir(name).glob("ms-*/values.yaml")))
    env = guide(ref, ENV)
    host = f"gaie-{rn}-epp.{ns}.svc.cluster.local"
    if ref == SEED:  # CATALOG §a.3: the host rides on the infra values, the names on ms `set:`
        infra = o.helm_merge({"gateway": env["gateway"]}, {"gateway": {"destinationRule": {"host": host}}})
    else:
        infra = {"gateway": env["gateway"]}
        if ref == "v0.3.0":  # GAIE v1.0.x: the DestinationRule at the top-level istio: key (CATALOG §a.8)
            overlay = {"provider": {"name": "istio"},
                       "istio": o.helm_merge(env["istio"], {"destinationRule": {"host": host}})}
        else:
            overlay = {"provider": o.helm_merge(env["provider"], {"istio": {"destinationRule": {"host": host}}})}
        gaie = o.helm_merge(gaie, overlay)
    if ref in (SEED, "v0.3.0"):
        ug.helm_set(ms, "routing.inferencePool.name", f"gaie-{rn}")
        ug.helm_set(ms, "routing.parentRefs[0].name", f"infra-{rn}-inference-gateway")
    route = _dir(name) / "httproute.yaml"
    return {"infra": infra, "gaie": gaie, "ms": ms,
            "route": YAML(typ="safe").load(route.read_text(encoding="utf-8")) if route.is_file() else None}


def _dir(name: str) -> Path:
    ref, folder, _, _ = CASES.get(name) or (*UNCOVERED[name][:2], "", "")
    return o.shared() / DATA / ref / "guides" / folder


@functools.cache
def _imported_text(name: str) -> str:
    return import_source([_dir(name)], [f"guides/{CASES[name][1]}"], Path("specs/imported.yaml"),
                         Options(accelerator="H100")).text


@functools.cache
def imported(name: str) -> Any:
    return load_text(_imported_text(name), "specs/imported.yaml")


@functools.cache
def differences(name: str) -> dict[str, tuple[Any, Any]]:
    spec = imported(name)
    stack = resolve(spec, "x")
    files = compile_spec(spec, "specs/imported.yaml")
    pins = {"infra": stack.infra.version if stack.infra else "", "inferencepool": stack.pool.version,
            "modelservice": stack.ms.version}
    theirs = guide_side(name)
    found: dict[str, tuple[Any, Any]] = {}
    for artifact, (rel, chart, pin) in tp.ARTIFACTS.items():
        if theirs[artifact] is None:
            continue
        sides = []
        for values in (_baked(theirs[artifact], artifact, stack.pool.version), YAML(typ="safe").load(files[rel])):
            merged = o.helm_merge(ug.chart_defaults(chart, pins[pin]), values) if chart and pin else values
            sides.append(ug.flatten(tp.normalise(artifact, merged, stack.picker.name, stack.pool.version)))
        a, b = sides
        for path in sorted(set(a) | set(b)):
            pair = (a.get(path, ug.ABSENT), b.get(path, ug.ABSENT))
            if pair[0] != pair[1]:
                found[f"{artifact}:{path.lstrip('.')}"] = pair
    return found


# The hand-written spec of each snapshot's inference-scheduling guide: its chart-level reasons hold for the
# snapshot's other guides too (same charts, same helmfile shape).
SNAPSHOT_REASONS = {SEED: gf.INTENDED, "v0.3.0": ug.INTENDED["v0.3.0"], "v0.4.0": ug.INTENDED["v0.4.0"],
                    "commit-899f8517": ug.INTENDED["commit-899f8517"]}


# Chart-baked configs beyond test_paths.CHART_BAKED, as the picker loads them: GAIE v1.0.1's default-plugins.yaml
# (CATALOG §e.1: the three scorers without weights, handler and picker injected), which v1.2.0-rc.1 ships too.
BAKED = {(v, "default-plugins.yaml"): tp._BAKED.format(kv="kv-cache-utilization-scorer", w=(1, 1, 1))
         for v in ("v1.0.1", "v1.2.0-rc.1")}


def _baked(values: Any, artifact: str, pool: str) -> Any:
    """The guide's gaie values with a baked plugins file written out, so the two sides compare as configs."""
    ext = (values or {}).get("inferenceExtension") or {} if artifact == "gaie" else {}
    name = ext.get("pluginsConfigFile")
    if (pool, name) not in BAKED or name in (ext.get("pluginsCustomConfig") or {}):
        return values
    return o.helm_merge(values, {"inferenceExtension": {"pluginsCustomConfig": {name: BAKED[(pool, name)]}}})


def _reasons(name: str) -> dict[str, str]:
    ref, _, _, source = CASES[name]
    own = gf.INTENDED if source == "gf" else ug.INTENDED[source[3:]] if source.startswith("ug:") else \
        PATH_REASONS[source]
    return {**SNAPSHOT_REASONS[ref], **own}


def _explained(table: dict[str, str], path: str) -> bool:
    return any(path == key or (key.endswith("*") and path.startswith(key[:-1])) for key in table)


@pytest.mark.parametrize("name", list(CASES))
def test_every_difference_is_explained(name: str) -> None:
    extra = ROUNDTRIP.get(name, {})
    unexplained = {p: f"guide {g!r} / ours {u!r}" for p, (g, u) in differences(name).items()
                   if not _explained(_reasons(name), p) and not _explained(extra, p)}
    assert unexplained == {}


@pytest.mark.parametrize("name", list(CASES))
def test_every_roundtrip_reason_is_real(name: str) -> None:
    found = differences(name)
    stale = [key for key in ROUNDTRIP.get(name, {}) if not any(
        path == key or (key.endswith("*") and path.startswith(key[:-1])) for path in found)]
    assert stale == []


@pytest.mark.parametrize("name", list(UNCOVERED))
def test_uncovered_snapshots_fail_located(name: str) -> None:
    with pytest.raises(SpecError) as failed:
        import_source([_dir(name)], [name], Path("specs/imported.yaml"), Options(accelerator="H100"))
    assert UNCOVERED[name][2] in str(failed.value)


def test_every_helm_era_snapshot_is_listed() -> None:
    """Every Helm-era guide directory with values under ../shared is a CASE or UNCOVERED (nothing silently skipped)."""
    listed = {(ref, folder) for ref, folder, *_ in [*CASES.values(), *UNCOVERED.values()]}
    found = set()
    for ref in (SEED, "v0.3.0", "v0.4.0", "commit-899f8517"):
        for folder in (o.shared() / DATA / ref / "guides").iterdir():
            if folder.name not in ("prereq", "recipes", "tiered-prefix-cache") and folder.is_dir() and \
                    any(folder.rglob("*values*.yaml")):
                found.add((ref, folder.name))
    assert found - listed == set()


def _catalog_helmfile() -> str:
    """The seed-era guide's helmfile.yaml.gotmpl as CATALOG §a.3 quotes it (the data has no copy of the file)."""
    text = (o.shared() / "upstream" / "CATALOG.md").read_text(encoding="utf-8")
    section = text[text.index("### a.3"):]
    start = section.index("```yaml\n") + len("```yaml\n")
    return section[start:section.index("```", start)]


@pytest.mark.parametrize("env", ["istio", "kgateway"])
def test_seed_helmfile_imports_as_its_directory(tmp_path: Path, env: str) -> None:
    """Through the guide's own helmfile (templates resolved for the environment), the import is the directory's."""
    import shutil

    shutil.copytree(o.shared() / DATA / SEED / "guides", tmp_path / "guides")
    guide_dir = tmp_path / "guides" / "inference-scheduling"
    plain = import_source([guide_dir], ["g"], Path("specs/a.yaml"), Options(env=env, accelerator="H100"))
    (guide_dir / "helmfile.yaml.gotmpl").write_text(_catalog_helmfile(), encoding="utf-8")
    templated = import_source([guide_dir], ["g"], Path("specs/a.yaml"), Options(env=env, accelerator="H100"))

    def body(text: str) -> str:
        return "".join(line for line in text.splitlines(True) if not line.startswith("#"))

    assert body(templated.text) == body(plain.text)
    assert "helmfile" in templated.text.splitlines()[1]
    spec = load_text(templated.text, "a.yaml")
    assert resolve(spec, "a.yaml").names.pool == "gaie-inference-scheduling"  # $rn's default, as the helmfile says


def test_seed_helmfile_gke_tpu_environment(tmp_path: Path) -> None:
    """The helmfile's `if eq .Environment.Name "gke_tpu"` picks values_tpu.yaml and the GKE provider (CATALOG §a.3)."""
    import shutil

    shutil.copytree(o.shared() / DATA / SEED / "guides", tmp_path / "guides")
    guide_dir = tmp_path / "guides" / "inference-scheduling"
    (guide_dir / "helmfile.yaml.gotmpl").write_text(_catalog_helmfile(), encoding="utf-8")
    text = import_source([guide_dir], ["g"], Path("specs/a.yaml"), Options(env="gke_tpu", accelerator="TPU-v6e")).text
    spec = load_text(text, "a.yaml")
    tpu = guide(SEED, "inference-scheduling/ms-inference-scheduling/values_tpu.yaml")
    assert spec.model.name == tpu["modelArtifacts"]["uri"].removeprefix("hf://")
    assert (spec.accelerator.vendor, spec.gateway.provider) == ("google", "gke")


CURRENT_REFS = ("commit-08fe5b66", "commit-3fa7bfc5", "commit-e3dbeca1")  # llm-d v0.7.0, ~v0.8.0, v0.9.0
V09 = "commit-e3dbeca1"
V08 = "commit-3fa7bfc5"
# Router-era guides imported from their directory (router values + the overlay the README deploys), compiled, and
# compared with the guide's router values (over its recipes/router/base.values.yaml) as
# tests/conformance/test_router_fidelity.py compares its hand-written specs: the reasons listed there hold here too;
# ROUTER_ROUNDTRIP adds the import's own. (case -> snapshot, guide, --overlay or None)
ROUTER_CASES = {f"{guide}@{tag}": (ref, guide, overlay) for ref, tag in ((V09, "v0.9"), (V08, "v0.8"))
                for guide, overlay in (("optimized-baseline", None),
                                       ("pd-disaggregation", "modelserver/gpu/vllm/coreweave"),
                                       ("precise-prefix-cache-routing", None))}
_EPP_ENV = ("the picker's HF token env belongs to the precise intent, which the guide's config (token-producer over "
            "the render Service) does not compile from: the import keeps the config as written and reports "
            "router.epp.env as not imported")
ROUTER_ROUNDTRIP: dict[str, dict[str, str]] = {
    "precise-prefix-cache-routing@v0.9": {"router.epp.env": _EPP_ENV},
    "precise-prefix-cache-routing@v0.8": {
        "router.epp.env": _EPP_ENV,
        # Overrides test_router_fidelity's v0.9 reason (replicas 1 there): v0.8's guide runs replicas: 2.
        "router.epp.flags.ha-enable-leader-election": "a real difference: v0.8's guide runs 2 picker replicas "
            "active-active (the flag false overrides the --ha-enable-leader-election the router chart v0.9.0 adds for "
            "replicas > 1); the spec has no field for it, so the import runs them active-passive and reports "
            "router.epp.flags as not imported (file:line)"},
}
# The router chart each snapshot's env.sh installs (ROUTER_CHART_VERSION's default), which the import must pin.
ROUTER_CHART = {V09: "v0.10.0", V08: "v0.9.0"}


def _current_guides() -> list[tuple[str, str]]:
    root = o.shared() / DATA
    return sorted((ref, g.name) for ref in CURRENT_REFS if (root / ref / "guides").is_dir()
                  for g in (root / ref / "guides").iterdir() if (g / "modelserver").is_dir())


def test_current_guides_import_or_refuse_located() -> None:
    """Every current-shape guide under ../shared imports into a spec that compiles, or is refused with a located
    error (v0.7's GAIE-chart guides, wide-EP LeaderWorkerSets, base overlays with image placeholders)."""
    guides = _current_guides()
    assert len(guides) >= 6
    outcomes = {}
    for ref, name in guides:
        try:
            text = import_source([o.shared() / DATA / ref / "guides" / name], [name], Path("specs/x.yaml"),
                                 Options(accelerator="H100")).text
            compile_spec(load_text(text, "x.yaml"), "x.yaml")
            outcomes[(ref, name)] = "imported"
        except SpecError as exc:
            assert all(p.path and p.message for p in exc.problems)
            outcomes[(ref, name)] = "refused"
    assert all(outcomes[(ref, name)] == "imported" for ref in (V09, V08)
               for name in ("optimized-baseline", "precise-prefix-cache-routing"))
    assert all(outcomes[(ref, "wide-ep-lws")] == "imported" for ref in (V09, V08))


@pytest.mark.parametrize("case", sorted(ROUTER_CASES))
def test_router_guide_round_trip(case: str) -> None:
    from llmd_compile.compile import build
    from llmd_compile.emit.router import gitops

    from . import test_router_fidelity as rf

    ref, name, overlay = ROUTER_CASES[case]
    root = o.shared() / DATA / ref / "guides"
    text = import_source([root / name], [name], Path("specs/x.yaml"), Options(accelerator="H100", overlay=overlay)).text
    stack, files = build(load_text(text, "x.yaml"), "x.yaml")
    assert gitops.release(stack)["version"] == ROUTER_CHART[ref]
    ours, our_config = rf._split_config(rf._read_text(files["values/router.yaml"]))
    guide_values = o.helm_merge(o.helm_merge(rf._read(root / "recipes/router/base.values.yaml"),
                                             rf._read(root / rf.GUIDES[name].values)), rf.SET_FLAGS)
    theirs, their_config = rf._split_config(guide_values)
    a, b = rf._flat(ours), rf._flat(theirs)
    reasons = {**rf.GUIDES[name].values_diff, **ROUTER_ROUNDTRIP.get(case, {})}
    differing = {p for p in a.keys() | b.keys() if a.get(p) != b.get(p)}
    unexplained = sorted(p for p in differing if not any(p == k or p.startswith(k + ".") for k in reasons))
    assert not unexplained, {p: (a.get(p), b.get(p)) for p in unexplained}
    extra = ROUTER_ROUNDTRIP.get(case, {})
    assert not [k for k in extra if not any(p == k or p.startswith(k + ".") for p in differing)]
    # The picker config is the guide's own (kept as written when no intent compiles to it), in the envelope the
    # pinned router loads (llm-d.ai/v1alpha1 from router v0.9.0 on).
    assert our_config["apiVersion"] == their_config["apiVersion"]
    assert {p["type"] for p in our_config["plugins"]} == {p["type"] for p in their_config["plugins"]}


# What each router import must say on stderr, with the guide file and line (the upstream line numbers, counted in
# the snapshot's values file): the ROUTER_ROUNDTRIP differences are reported, not silent.
ROUTER_NOTES = [
    ("precise-prefix-cache-routing@v0.8", "precise-prefix-cache-routing.values.yaml:18: router.epp.flags is not "
                                          "imported"),
    ("precise-prefix-cache-routing@v0.8", "precise-prefix-cache-routing.values.yaml:25: router.epp.env is not "
                                          "imported"),
    ("precise-prefix-cache-routing@v0.9", "router.epp.env is not imported"),
    ("optimized-baseline@v0.8", "the namespace is not in the source"),
]


@pytest.mark.parametrize(("case", "note"), ROUTER_NOTES)
def test_router_import_reports_what_it_does_not_keep(case: str, note: str) -> None:
    ref, name, overlay = ROUTER_CASES[case]
    guide_dir = o.shared() / DATA / ref / "guides" / name
    notes = [str(n) for n in import_source([guide_dir], [name], Path("specs/x.yaml"),
                                           Options(accelerator="H100", overlay=overlay)).notes]
    assert any(note in n for n in notes), notes
    values = (guide_dir / "router" / f"{name}.values.yaml").read_text(encoding="utf-8").splitlines()
    for n in notes:  # every line a note cites is where the guide says the key
        if f"{name}.values.yaml:" in n and " router.epp." in n:
            line = int(n.split(f"{name}.values.yaml:")[1].split(":")[0])
            key = n.split(" router.epp.")[1].split(" ")[0]
            assert values[line - 1].strip().startswith(f"{key}:"), (n, values[line - 1])


def _body(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if not line.startswith("#"))


# The same router deployments as `helm get values <release>` prints them (base.values.yaml and the guide's values as
# user-supplied, the header line included), beside the overlay directory or its built manifests: the spec must be
# the guide directory's (whose round trip test_router_guide_round_trip checks against the guide).
@pytest.mark.parametrize("manifests", [False, True], ids=["overlay-dir", "manifests-file"])
@pytest.mark.parametrize("case", sorted(ROUTER_CASES))
def test_router_values_one_by_one_import_as_the_guide(tmp_path: Path, case: str, manifests: bool) -> None:
    import shutil
    import subprocess

    ref, name, overlay = ROUTER_CASES[case]
    root = o.shared() / DATA / ref / "guides"
    shown = []
    for source in (root / "recipes/router/base.values.yaml", root / name / "router" / f"{name}.values.yaml"):
        target = tmp_path / f"{source.parent.parent.name}.txt"
        target.write_text("USER-SUPPLIED VALUES:\n" + source.read_text(encoding="utf-8"), encoding="utf-8")
        shown.append(target)
    servers = root / name / (overlay or "modelserver/gpu/vllm/base")
    if manifests:
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            pytest.skip("kubectl not on PATH")
        built = subprocess.run([kubectl, "kustomize", str(servers)], capture_output=True, text=True, check=True)
        servers = tmp_path / "manifests.yaml"
        servers.write_text(built.stdout, encoding="utf-8")
    # --release: the values files carry no env.sh; the vLLM image alone may be shared by presets.
    release = {V09: "v0.9", V08: "v0.8"}[ref]
    options = Options(accelerator="H100", name=name, release=release)
    one_by_one = import_source([*shown, servers], [p.name for p in (*shown, servers)], Path("specs/x.yaml"), options)
    directory = import_source([root / name], [name], Path("specs/x.yaml"),
                              Options(accelerator="H100", overlay=overlay)).text
    assert _body(one_by_one.text) == _body(directory)
    assert "helm get values" not in one_by_one.text.splitlines()[0]  # the modeline stays first
    assert any("router values" in line for line in one_by_one.text.splitlines()[:4])


# `helm get values --all` prints the picker image the chart ran; its tag names the preset (CURRENT §2: router chart
# v0.9.0 ships picker v0.9.0, v0.10.0 ships v0.10.0), with no --release and no env.sh beside the files.
@pytest.mark.parametrize(("tag", "release"), [("v0.9.0", "v0.8"), ("v0.10.0", "v0.9")])
def test_router_values_release_from_the_picker_image(tmp_path: Path, tag: str, release: str) -> None:
    root = o.shared() / DATA / V09 / "guides"
    values = tmp_path / "values.yaml"
    text = (root / "optimized-baseline/router/optimized-baseline.values.yaml").read_text(encoding="utf-8")
    assert "\n  epp:\n" in text
    pin = f"  epp:\n    image:\n      registry: ghcr.io/llm-d\n      repository: llm-d-router-endpoint-picker\n" \
          f"      tag: {tag}\n"
    values.write_text(text.replace("  epp:\n", pin, 1), encoding="utf-8")
    spec = load_text(import_source([values, root / "optimized-baseline/modelserver/gpu/vllm/base"],
                                   ["values.yaml", "ms"], Path("specs/x.yaml"),
                                   Options(accelerator="H100", name="ob")).text, "x.yaml")
    assert spec.release == release


# The guides install the router chart with `--set provider.name=<gateway>` (test_router_fidelity.SET_FLAGS); `helm get
# values` prints it, and it, not --env, says the gateway.
@pytest.mark.parametrize("provider", ["istio", "agentgateway", "kgateway"])
def test_router_values_provider_from_set_flags(tmp_path: Path, provider: str) -> None:
    from . import test_router_fidelity as rf

    root = o.shared() / DATA / V09 / "guides"
    values = o.helm_merge(rf._read(root / "optimized-baseline/router/optimized-baseline.values.yaml"),
                          o.helm_merge(rf.SET_FLAGS, {"provider": {"name": provider}}))
    path = tmp_path / "values.yaml"
    YAML(typ="safe").dump(values, path)
    text = import_source([path, root / "optimized-baseline/modelserver/gpu/vllm/base"], ["values.yaml", "ms"],
                         Path("specs/x.yaml"), Options(accelerator="H100", name="ob", env="gke")).text
    spec = load_text(text, "x.yaml")
    assert spec.gateway.provider == provider


# Wide-EP: the v0.9 wide-ep-lws guide's LeaderWorkerSets (launch script read as the shell runs it) import to
# parallelism.{tensor,data,dataLocal,expert}; the spec's compiled model servers are compared with the guide's overlay as
# tests/conformance/test_router_modelserver_fidelity.py compares the hand-written spec, with its reasons
# (modelserver_intended.py) plus the import's own below. Every WIDEEP_ROUNDTRIP row must be a real difference.
WIDEEP_ROUNDTRIP: dict[str, str] = {}


def _listed(table: dict[str, str], path: str) -> bool:
    return any(path == k or (k.endswith("*") and path.startswith(k[:-1])) for k in table)


def test_wide_ep_lws_round_trip(tmp_path: Path) -> None:
    from .modelserver_intended import INTENDED as MS_INTENDED
    from .test_router_modelserver_fidelity import flatten, guide_side, normalise
    from .test_router_modelservers import built_guide_spec

    guide_dir = o.shared() / DATA / V09 / "guides" / "wide-ep-lws"
    text = import_source([guide_dir], ["wide-ep-lws"], Path("specs/x.yaml"), Options(accelerator="H200")).text
    spec = load_text(text, "x.yaml")
    for role in (spec.decode, spec.prefill):  # the guide: LWS size 2 x --data-parallel-size-local 8, EP on
        assert role is not None
        assert (role.parallelism.tensor, role.parallelism.data, role.parallelism.local, role.parallelism.expert) == \
            (1, 16, 8, True)
    path = tmp_path / "wide-ep-lws.yaml"
    path.write_text(text, encoding="utf-8")
    ours = flatten(normalise(built_guide_spec(path, tmp_path)["kubernetes"]))
    theirs = flatten(guide_side("wide-ep-lws"))
    reasons = {**MS_INTENDED["wide-ep-lws"], **WIDEEP_ROUNDTRIP}
    differing = {p for p in ours.keys() | theirs.keys() if ours.get(p) != theirs.get(p)}
    unexplained = sorted(p for p in differing if not _listed(reasons, p))
    assert not unexplained, {p: (theirs.get(p), ours.get(p)) for p in unexplained}
    assert not [k for k in WIDEEP_ROUNDTRIP if not any(_listed({k: ""}, p) for p in differing)]


LAUNCH = """find /dev/shm -type f -delete
START_RANK=$(( ${LWS_WORKER_INDEX:-0} * DP_SIZE_LOCAL ))

exec vllm serve \\
  org/model \\
  --tensor-parallel-size $TP_SIZE \\
  --data-parallel-size $((LWS_GROUP_SIZE * DP_SIZE_LOCAL)) \\
  --data-parallel-size-local ${DP_SIZE_LOCAL} \\
  --data-parallel-address ${LWS_LEADER_ADDRESS} \\
  --kv_transfer_config '{"kv_connector":"NixlConnector",
                          "kv_role":"kv_both"}' \\
  --max-num-seqs ${MAX_TOKENS:-64} %s
  # --collect-detailed-traces all
echo never
"""
# (case, LWS size, env, trailing flags) -> (tensor, data, dataLocal, expert, the words vLLM gets beyond the derived)
LAUNCHES = [
    ("guide shape", 2, {"TP_SIZE": "1", "DP_SIZE_LOCAL": "8"}, "--enable-expert-parallel", (1, 16, 8, True)),
    ("no EP, TP 2", 4, {"TP_SIZE": "2", "DP_SIZE_LOCAL": "4"}, "", (2, 16, 4, False)),
]


@pytest.mark.parametrize(("size", "env", "tail", "expected"), [c[1:] for c in LAUNCHES], ids=[c[0] for c in LAUNCHES])
def test_wide_ep_launch_script(size: int, env: dict[str, str], tail: str, expected: tuple[Any, ...]) -> None:
    from llmd_compile.adopt import widep

    doc = {"kind": "LeaderWorkerSet", "metadata": {"name": "x", "labels": {"llm-d.ai/role": "decode"}},
           "spec": {"replicas": 3, "leaderWorkerTemplate": {"size": size, "workerTemplate": {"spec": {"containers": [
               {"name": "vllm", "image": "i", "command": ["/bin/bash", "-c"], "args": [LAUNCH % tail],
                "env": [{"name": k, "value": v} for k, v in env.items()]}]}}}}}
    role, values = widep.role_values(doc, "x.yaml")
    p = values["_widep"]
    assert (role, values["replicas"], values["_model"]) == ("decode", 3, "org/model")
    assert (p["tensor"], p["data"], p["dataLocal"], p.get("expert", False)) == expected
    args = values["containers"][0]["args"]
    assert args[-2:] == ["--max-num-seqs", "64"] and "never" not in args and "--collect-detailed-traces" not in args
    assert json.loads(args[args.index("--kv_transfer_config") + 1]) == {"kv_connector": "NixlConnector",
                                                                        "kv_role": "kv_both"}
    assert not {a for a in args if a.startswith("--data-parallel") or a == "--tensor-parallel-size"}


V07 = "commit-08fe5b66"
# v0.7.0 guides (GAIE v1.5.0 charts, inferenceExtension.* over recipes/scheduler/base.values.yaml): their picker
# (llm-d-inference-scheduler:v0.8.0) and P/D sidecar (llm-d-routing-sidecar:v0.8.0) can no longer be pulled (CURRENT
# §5), so the import moves them to the nearest preset, v0.8 (router chart v0.9.0), and says so. guide -> the notes
# it must print (beyond the picker's), by the file they cite.
V07_CASES = {
    "optimized-baseline": ["optimized-baseline.values.yaml:5: inferenceExtension.extraServicePorts is not imported"],
    "pd-disaggregation": ["modelserver/gpu/vllm/base: the P/D sidecar ghcr.io/llm-d/llm-d-routing-sidecar:v0.8.0 "
                          "can no longer be pulled"],
    "precise-prefix-cache-aware": [],
    "wide-ep-lws": [],
}


@pytest.mark.parametrize("name", sorted(V07_CASES))
def test_v07_guides_import_to_v08_with_every_change_said(name: str) -> None:
    from llmd_compile.compile import build
    from llmd_compile.emit.router import gitops

    from . import test_router_fidelity as rf

    guide_dir = o.shared() / DATA / V07 / "guides" / name
    imported_ = import_source([guide_dir], [name], Path("specs/x.yaml"), Options(accelerator="H200"))
    notes = [str(n) for n in imported_.notes]
    values_file = guide_dir / "scheduler" / f"{name}.values.yaml"
    line = next(i for i, text in enumerate(values_file.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("inferenceExtension:"))
    assert any(f"{name}.values.yaml:{line}: v0.7 ran the picker ghcr.io/llm-d/llm-d-inference-scheduler:v0.8.0"
               in n and "imported as release v0.8" in n for n in notes), notes
    for expected in V07_CASES[name]:
        assert any(expected in n for n in notes), notes
    spec = load_text(imported_.text, "x.yaml")
    assert spec.release == "v0.8"
    stack, files = build(spec, "x.yaml")
    assert gitops.release(stack)["version"] == "v0.9.0"
    assert "llm-d-inference-scheduler" not in repr(files) and "llm-d-routing-sidecar" not in repr(files)
    # The picker config is the guide's (same plugins), as the v0.8 router loads it.
    ours = rf._split_config(rf._read_text(files["values/router.yaml"]))[1]
    base = YAML(typ="safe").load((guide_dir.parent / "recipes/scheduler/base.values.yaml").read_text(encoding="utf-8"))
    ext = o.helm_merge(base, YAML(typ="safe").load(values_file.read_text(encoding="utf-8")))["inferenceExtension"]
    custom = (ext.get("pluginsCustomConfig") or {}).get(ext["pluginsConfigFile"])
    if custom is not None:
        theirs = YAML(typ="safe").load(custom)
        assert {p["type"] for p in ours["plugins"]} == {p["type"] for p in theirs["plugins"]}


# Helm-era wide-EP: the seed guide's ms-wide-ep values (modelservice `multinode: true`; the guide ships no gaie values,
# so the seed P/D guide's stand in) import to parallelism.{tensor,data,dataLocal,expert}, and the compiled modelservice
# values run the same LeaderWorkerSets: the chart's parallelism block and the launch script's vLLM flags (read with
# the independent parser of test_router_modelserver_fidelity) equal the guide's, but for the listed flags.
HELM_WIDEEP_FLAGS = {
    "--served-model-name": "written explicitly (the model name; vLLM's default is the same path)",
}


@pytest.mark.parametrize("role", ["decode", "prefill"])
def test_helm_era_wide_ep_round_trip(tmp_path: Path, role: str) -> None:
    from .test_router_modelserver_fidelity import args_map, serve_args

    ms_file = o.shared() / DATA / SEED / "guides/wide-ep-lws/ms-wide-ep/values.yaml"
    gaie_file = o.shared() / DATA / SEED / "guides/pd-disaggregation/gaie-pd/values.yaml"
    text = import_source([gaie_file, ms_file], ["gaie.yaml", "ms.yaml"], Path("specs/x.yaml"),
                         Options(accelerator="H200", name="wide-ep-seed")).text
    guide = YAML(typ="safe").load(ms_file.read_text(encoding="utf-8"))
    ours = YAML(typ="safe").load(compile_spec(load_text(text, "x.yaml"), "x.yaml")["values/modelservice.yaml"])
    assert ours["multinode"] is True
    assert {k: ours[role]["parallelism"].get(k) for k in guide[role]["parallelism"]} == guide[role]["parallelism"]

    def flags(values: dict[str, Any]) -> dict[str, Any]:
        c = values[role]["containers"][0]
        env = {e["name"]: str(e["value"]) for e in c.get("env") or [] if "value" in e}
        env.setdefault("TP_SIZE", str(values[role]["parallelism"]["tensor"]))  # the chart's env (_helpers.tpl)
        return args_map(serve_args(str(c["args"][0]), env, int(values[role]["parallelism"]["data"])))

    a, b = flags(guide), flags(ours)
    differing = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    assert differing == set(HELM_WIDEEP_FLAGS), {k: (a.get(k), b.get(k)) for k in differing}
    spec = load_text(text, "x.yaml")
    hand = load_text((Path(__file__).resolve().parents[2] / "specs/wide-ep-seed.yaml").read_text(encoding="utf-8"),
                     "specs/wide-ep-seed.yaml")
    assert getattr(spec, role).parallelism == getattr(hand, role).parallelism  # the hand-written spec of the guide
