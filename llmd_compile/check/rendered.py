"""What the rendered charts show (`lint --charts DIR`; LLMD44x): rules over the objects Helm creates from our
values (the Helm-era releases, or the router chart), plus our base manifests (the router shape's model
servers). Without charts (every compile) they find nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts

_CHART_FIELD = {"llm-d-infra": "charts.infra", "inferencepool": "charts.inferencepool",
                "llm-d-modelservice": "charts.modelservice", "llm-d-router-gateway": "charts.router",
                "llm-d-router-standalone": "charts.router"}
# Extended resources of the accelerator device plugins (NVIDIA, AMD, Google, Intel, Habana).
_ACCELERATOR = re.compile(r"^(nvidia\.com/gpu|amd\.com/gpu|google\.com/tpu|gpu\.intel\.com/.+|habana\.ai/gaudi)$")


def _objects(a: Artifacts) -> list[dict[str, Any]]:
    return [*a.rendered[0], *a.base_docs()] if a.rendered else []


def _templates(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "LeaderWorkerSet":
        lwt = spec.get("leaderWorkerTemplate") or {}
        yield from (lwt[k] for k in ("leaderTemplate", "workerTemplate") if lwt.get(k))
    elif isinstance(spec.get("template"), dict):
        yield spec["template"]


def split_disagrees(a: Artifacts) -> Iterator[Finding]:
    for chart, template in a.rendered[1] if a.rendered else ():
        yield Finding(_CHART_FIELD.get(chart, "charts"), f"{template}: Helm splits the rendered text into other "
                      "objects than kubectl and Argo CD read (a `---` glued to the next line)")


def pool_selects_nothing(a: Artifacts) -> Iterator[Finding]:
    objects = _objects(a)
    labels = [{k: str(v) for k, v in ((t.get("metadata") or {}).get("labels") or {}).items()}
              for d in objects for t in _templates(d)]
    for pool in (d for d in objects if d.get("kind") == "InferencePool"):
        sel = (pool.get("spec") or {}).get("selector") or {}
        sel = sel.get("matchLabels", sel)  # v1: a LabelSelector; v1alpha2: the labels themselves
        if not any(all(lab.get(k) == str(v) for k, v in sel.items()) for lab in labels):
            yield Finding("model.name", f"InferencePool {pool['metadata']['name']} selects {sel}, which no rendered "
                          "pod template carries")


def several_accelerators(a: Artifacts) -> Iterator[Finding]:
    for doc in _objects(a):
        for template in _templates(doc):
            kinds = set()
            for c in (template.get("spec") or {}).get("containers") or []:
                res = c.get("resources") or {}
                for part in ("limits", "requests"):
                    kinds |= {k for k, q in (res.get(part) or {}).items() if _ACCELERATOR.match(k) and str(q) != "0"}
            if len(kinds) > 1:
                yield Finding("accelerator.vendor", f"{doc['kind']} {doc['metadata']['name']} asks for "
                              f"{sorted(kinds)}: no node offers both, so the pod never schedules")


RULES = (
    Rule("LLMD440", "error", "Helm and kubectl/Argo CD read the rendered chart output differently",
         "pin a chart version without the glued separator, or switch off the values that render it", split_disagrees),
    Rule("LLMD441", "error", "the rendered InferencePool selects no rendered pod",
         "make the pool's matchLabels the labels the model-server chart puts on its pods", pool_selects_nothing),
    Rule("LLMD442", "error", "a rendered pod asks for more than one accelerator kind",
         "pass tensor parallelism as a vLLM flag where the chart turns it into GPUs (llm-d-modelservice v0.2.7)",
         several_accelerators),
)
