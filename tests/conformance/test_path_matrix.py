"""P/D and precise prefix-cache configs under every picker version, checked against the upstream registries.

For each picker in the catalog, specs/pd.yaml's and specs/precise-prefix.yaml's intents either compile to an
EndpointPickerConfig whose every plugin type is in ../shared/upstream/plugin-registries/<picker>.json, with the
P/D handler and headers the version's own sample configs use (CATALOG §e.4, SCHED/ROUTER deploy/config), or are
refused at the field that cannot work on that picker.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from llmd_compile.catalog.plugins import PICKERS
from llmd_compile.emit import epp, helm
from llmd_compile.errors import SpecError
from llmd_compile.resolve import resolve
from llmd_compile.spec.load import load
from llmd_compile.spec.models import Spec

from . import test_version_matrix as vm

REPO = Path(__file__).resolve().parents[2]
# Handler and headers plugin per picker, as that version's upstream P/D sample config (or guide) writes them.
PD_PLUGINS = {
    "sched-v0.2.1": ("pd-profile-handler", "prefill-header-handler"),  # SCHED@v0.2.1 pd-epp-config.yaml
    "sched-v0.3.2": ("pd-profile-handler", "prefill-header-handler"),  # SCHED@v0.3.2 pd-epp-config.yaml
    "sched-v0.7.1": ("pd-profile-handler", "prefill-header-handler"),  # LD@899f8517 gaie-pd values (picker v0.7.0)
    "sched-v0.8.0": ("disagg-profile-handler", "disagg-headers-handler"),  # SCHED@v0.8.0 pd-epp-config.yaml
    "router-v0.10.0": ("disagg-profile-handler", None),  # ROUTER@v0.10.0 pd-epp-config.yaml
}


@functools.cache
def example(name: str) -> Spec:
    return load(REPO / "specs" / name, f"specs/{name}")


def on_picker(spec: Spec, picker: str) -> Spec:
    data = spec.model_dump(exclude_unset=True)
    data.pop("release", None)
    data["charts"] = {"infra": "v1.4.0", "inferencepool": "v0.5.1" if picker in vm.V051_API else "v1.4.0",
                      "modelservice": "v0.4.9"}
    data["scheduler"]["image"] = vm.picker_image(picker)
    data["scheduler"].pop("version", None)
    if picker in vm.V051_API:  # inferencepool v0.5.1: no uds tokenizer sidecar, no EPP ServiceMonitor
        data["scheduler"].get("precisePrefixCache", {}).pop("tokenizer", None)
        data.get("monitoring", {}).pop("epp", None)
    return Spec.model_validate(data)


def compile_for(name: str, picker: str) -> dict[str, Any] | set[str]:
    try:
        return epp.endpoint_picker_config(resolve(on_picker(example(name), picker), "matrix"))
    except SpecError as exc:
        return {p.field for p in exc.problems}


@pytest.mark.parametrize("picker", list(PICKERS))
def test_pd_on_every_picker(picker: str) -> None:
    result = compile_for("pd.yaml", picker)
    if not {"pd-profile-handler", "disagg-profile-handler"} & set(PICKERS[picker].plugins):
        assert result == {"prefill"}, picker  # GAIE's epp: no P/D profiles
        return
    assert isinstance(result, dict), result
    types = [p["type"] for p in result["plugins"]]
    assert set(types) <= vm.registry_types(picker)
    handler = next(t for t in types if t.endswith("profile-handler"))
    if picker in PD_PLUGINS:
        expected_handler, headers = PD_PLUGINS[picker]
        assert handler == expected_handler
        assert (headers in types) if headers else not any(t.endswith("header-handler") or
                                                           t.endswith("headers-handler") for t in types)
    assert [p["name"] for p in result["schedulingProfiles"]] == ["prefill", "decode"]
    decider = PICKERS[picker].plugins.get("prefix-based-pd-decider")
    assert ("prefix-based-pd-decider" in types) == (decider is not None)


@pytest.mark.parametrize("picker", list(PICKERS))
def test_precise_on_every_picker(picker: str) -> None:
    result = compile_for("precise-prefix.yaml", picker)
    family = PICKERS[picker].family
    has_precise = "precise-prefix-cache-scorer" in PICKERS[picker].plugins or picker == "sched-v0.2.1"
    if family == "router":
        # llm-d-router: pod discovery and the token-producer only; the example's service discovery and UDS
        # tokenizer (Helm-era wiring) are refused at their fields (the v0.9 examples run the router's way).
        assert result == {"scheduler.precisePrefixCache.kvEvents.discovery",
                          "scheduler.precisePrefixCache.tokenizer"}, (picker, result)
        return
    if family != "sched" or not has_precise:
        assert "scheduler.scorers.precisePrefixCache" in result, (picker, result)
        return
    if "tokenizer" not in PICKERS[picker].plugins and picker not in vm.V051_API:
        assert result == {"scheduler.precisePrefixCache.tokenizer"}, picker  # the UDS sidecar needs sched v0.7.1+
        return
    assert isinstance(result, dict), result
    types = {p["type"] for p in result["plugins"]}
    assert types <= vm.registry_types(picker)
    assert {"precise-prefix-cache-scorer", "prefix-cache-scorer"} & types


@pytest.mark.parametrize("ms", ["v0.2.10", "v0.3.8", "v0.4.9"])
def test_wide_ep_lws_sizing_per_modelservice(ms: str) -> None:
    """v0.2.x sizes the LeaderWorkerSet by parallelism.data (the seed guide's pods-per-group 'hack'), v0.4.x by
    parallelism.workers; v0.3.x is not catalogued and refused (CATALOG §b.2)."""
    data = example("wide-ep.yaml").model_dump(exclude_unset=True)
    data.pop("release")
    data["charts"] = {"infra": "v1.4.0", "inferencepool": "v1.4.0", "modelservice": ms}
    data["scheduler"]["image"] = vm.picker_image("sched-v0.7.1")
    data.pop("monitoring")
    try:
        values = helm.modelservice_values(resolve(Spec.model_validate(data), "matrix"))
    except SpecError as exc:
        assert ms == "v0.3.8" and {p.field for p in exc.problems} == {"decode.parallelism.dataLocal"}
        return
    assert values["multinode"] is True
    expected = {"tensor": 1, "data": 2} if ms == "v0.2.10" else {"tensor": 1, "data": 16, "dataLocal": 8, "workers": 2}
    assert values["decode"]["parallelism"] == expected
