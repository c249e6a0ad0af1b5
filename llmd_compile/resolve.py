"""Spec -> Stack: pinned versions resolved against the catalog, and every shared name derived once.

Names that several artifacts must agree on (gateway, pool, EPP service, labels, ports) are
computed here and nowhere else; they follow the chart helpers' rules (CATALOG §a.2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from llmd_compile.catalog import charts, compat, naming, router
from llmd_compile.catalog.plugins import PickerVersion, picker_for_image
from llmd_compile.errors import Problem, SpecError
from llmd_compile.spec.models import Spec, Workload

T = TypeVar("T")

SERVICE_PORT = 8000  # port clients and the pool target (sidecar when enabled, else vLLM)
VLLM_PORT_BEHIND_SIDECAR = 8200  # routing.proxy.targetPort default (MS@v0.2.7 values.yaml)
EPP_GRPC_PORT = 9002
EPP_METRICS_PORT = 9090
GATEWAY_PORT = 80


@dataclass(frozen=True)
class Names:
    release_postfix: str
    namespace: str
    infra_release: str
    gateway: str
    gateway_service: str
    pool: str
    epp: str
    ms_release: str
    ms_fullname: str
    decode: str
    route: str | None  # None: a picker-only stack (gateway.provider none) has no HTTPRoute
    pvc: str | None

    @property
    def epp_host(self) -> str:
        return f"{self.epp}.{self.namespace}.svc.cluster.local"

    @property
    def gateway_host(self) -> str:
        return f"{self.gateway_service}.{self.namespace}.svc.cluster.local"

    @property
    def epp_metrics_secret(self) -> str:
        """Service-account token Secret the inferencepool chart creates for scraping the EPP (as the guides name it)."""
        return f"{self.release_postfix}-gateway-sa-metrics-reader-secret"


def derive_names(spec: Spec) -> Names:
    rn = spec.metadata.name
    infra = f"infra-{rn}"
    gateway = naming.gateway_name(infra)
    pool = f"gaie-{rn}"
    ms = f"ms-{rn}"
    fullname = naming.ms_fullname(ms)
    pvc = spec.model.cache.pvc
    return Names(
        release_postfix=rn,
        namespace=spec.metadata.namespace,
        infra_release=infra,
        gateway=gateway,
        gateway_service=naming.gateway_service(gateway, spec.gateway.provider),
        pool=pool,
        epp=naming.epp_service(pool),
        ms_release=ms,
        ms_fullname=fullname,
        decode=f"{fullname}-decode",
        route=spec.route.name if spec.route else None,
        pvc=pvc.name if pvc else None,
    )


@dataclass(frozen=True)
class Stack:
    """What the emitters see: the spec, the resolved upstream versions, the shared names."""

    spec: Spec
    release: charts.Release | None  # the Helm-era preset (None for the router shape: see `router`)
    infra: charts.InfraChart | None  # None: no llm-d-infra release (gateway.provider none), or the router shape
    # Router shape: the pool/model-server facts the router chart and the kustomize model servers share with the
    # Helm-era charts (router.ROUTER_POOL, router.KUSTOMIZE_MS), so shape-neutral helpers keep working; no router
    # emitter reads chart keys from them.
    pool: charts.PoolChart
    ms: charts.ModelServiceChart
    picker: PickerVersion
    names: Names
    source: str  # the spec path as shown in generated headers
    # Release whose images fill in what the spec leaves open (the preset, else the one shipping the pinned
    # modelservice chart); None: the preset's.
    image_release: charts.Release | None = None
    # The router-era preset (llm-d v0.8+): router chart, picker/sidecar images, CRD and control-plane pins.
    router: router.RouterRelease | None = None

    @property
    def shape(self) -> str:
        """The install shape, which picks the emitter family: "helm" (seed..v0.6) or "router" (v0.8+)."""
        return "router" if self.router is not None else "helm"

    @property
    def pool_api_version(self) -> str:
        """The InferencePool apiVersion the pool chart renders: the preset's choice if it can, else its default."""
        wanted = self.release.pool_api_version if self.release else self.pool.pool_api_versions[0]
        return wanted if wanted in self.pool.pool_api_versions else self.pool.pool_api_versions[0]

    @property
    def pool_group(self) -> str:
        return self.pool_api_version.split("/")[0]

    @property
    def sidecar_image(self) -> str | None:
        if self.spec.decode.sidecar.image:
            return self.spec.decode.sidecar.image
        if self.router is not None:
            return self.router.sidecar_image
        release = self.image_release or self.release
        return release.routing_sidecar_image if release else None

    @property
    def sidecar(self) -> bool:
        if self.router is not None:
            # The v0.9 guides run the routing proxy only on P/D decode pods (recipes/modelserver/base/single-host/pd).
            return self.disaggregated and self.spec.decode.sidecar.enabled
        # Before MS v0.2.8 the sidecar cannot be switched off.
        return self.spec.decode.sidecar.enabled or not self.ms.proxy_toggle

    @property
    def vllm_port(self) -> int:
        return VLLM_PORT_BEHIND_SIDECAR if self.sidecar else SERVICE_PORT

    @property
    def roles(self) -> list[tuple[str, Workload]]:
        """The model-server roles that run pods: decode, and prefill under P/D disaggregation."""
        spec = self.spec
        return [("decode", spec.decode), *([("prefill", spec.prefill)] if spec.prefill is not None else [])]

    @property
    def multinode(self) -> bool:
        """Wide-EP: a role spreads its data-parallel ranks over several pods (a LeaderWorkerSet per replica)."""
        return any(role.parallelism.dataLocal is not None for _, role in self.roles)

    def gpus_per_pod(self, role: Workload) -> int:
        """Accelerators one pod of the role requests (tensor x local data-parallel ranks under wide-EP)."""
        return role.parallelism.tensor * (role.parallelism.local if self.multinode else 1)

    @property
    def disaggregated(self) -> bool:
        return self.spec.prefill is not None

    @property
    def pod_labels(self) -> dict[str, str]:
        """Labels the modelservice chart puts on model pods, which the pool selects on."""
        if self.router is not None:
            return {router.GUIDE_LABEL: self.spec.metadata.name}  # the pool selects only this (CURRENT §3)
        model = self.names.ms_fullname if self.ms.model_label_is_fullname else self.spec.metadata.name
        return {self.ms.serving_label: "true", "llm-d.ai/model": model}


def _release_for(spec: Spec) -> charts.Release | None:
    """The preset: `release:`, or the one whose three charts (two without a Gateway) the spec pins exactly."""
    if spec.release:
        return charts.RELEASES[spec.release]
    pins = (spec.charts.infra, spec.charts.inferencepool, spec.charts.modelservice)
    gateway = spec.gateway.provider != "none"
    return next((r for r in charts.RELEASES.values()
                 if pins == (r.infra if gateway else None, r.inferencepool, r.modelservice)), None)


def _written(spec: Spec, field: str) -> bool:
    """Whether the user wrote this dotted field (or it holds a value)."""
    node: object = spec
    *parents, last = field.split(".")
    for part in parents:
        node = getattr(node, part)
    return isinstance(node, BaseModel) and last in node.model_fields_set


def _compat_problems(spec: Spec, source: str, pins: compat.Pins) -> list[Problem]:
    out = []
    for rule, message in compat.incompatibilities(pins):
        field = next((f for f in rule.fields if _written(spec, f)), rule.fields[0])
        out.append(Problem(source, 0, 0, field, message))
    return out


def _role_problems(spec: Spec, source: str) -> list[Problem]:
    """Settings that only mean something with another part of the spec."""
    out = []
    if spec.prefill is None:
        if "kvTransfer" in spec.model_fields_set:
            out.append(Problem(source, 0, 0, "kvTransfer", "the KV transfer serves prefill/decode disaggregation: "
                                                         "set prefill, or drop kvTransfer"))
        if "disaggregation" in spec.scheduler.model_fields_set:
            out.append(Problem(source, 0, 0, "scheduler.disaggregation", "prefill/decode decisions need prefill pods: "
                                                                         "set prefill, or drop it"))
    elif not spec.decode.sidecar.enabled:
        out.append(Problem(source, 0, 0, "decode.sidecar.enabled",
                           "prefill/decode disaggregation needs the routing sidecar on decode pods (it pulls the "
                           "prefill KV cache)"))
    if spec.scheduler.scorers.precisePrefixCache is None and "precisePrefixCache" in spec.scheduler.model_fields_set:
        out.append(Problem(source, 0, 0, "scheduler.precisePrefixCache", "set scheduler.scorers.precisePrefixCache "
                                                                         "to use precise prefix-cache scoring"))
    if spec.accelerator.vendor == "simulated":
        for name, role in (("decode", spec.decode), ("prefill", spec.prefill)):
            if role is not None and role.parallelism.tensor > 1:
                out.append(Problem(source, 0, 0, f"{name}.parallelism.tensor", "the inference simulator has no "
                                                                                "tensor parallelism (no accelerators)"))
    return out


def _gateway_problems(spec: Spec, source: str) -> list[Problem]:
    """Settings that need the llm-d-infra Gateway, written in a picker-only stack (gateway.provider none)."""
    if spec.gateway.provider != "none":
        return []
    openshift = spec.platforms.openshift
    needs = [
        ("charts.infra", spec.charts.infra is not None,
         "no llm-d-infra release is installed without a Gateway: drop charts.infra"),
        ("gateway.service", _written(spec, "gateway.service"), "there is no gateway Service: drop gateway.service"),
        ("benchmark.guidellm", spec.benchmark.guidellm is not None,
         "the guidellm Job drives load through the gateway Service, which a picker-only stack does not have"),
        ("platforms.openshift.exposeRoute",
         openshift is not None and openshift.exposeRoute and _written(spec, "platforms.openshift.exposeRoute"),
         "the OpenShift Route exposes the gateway Service, which a picker-only stack does not have"),
    ]
    return [Problem(source, 0, 0, field, message) for field, wrong, message in needs if wrong]


def derive_router_names(spec: Spec) -> Names:
    """Router shape: release = metadata.name (the guides' ${GUIDE_NAME}); the chart names pool, route and EPP."""
    rn = spec.metadata.name
    pvc = spec.model.cache.pvc
    return Names(
        release_postfix=rn,
        namespace=spec.metadata.namespace,
        infra_release="",  # no llm-d-infra: the Gateway comes from the recipe
        gateway=router.RECIPE_GATEWAY,
        gateway_service=naming.gateway_service(router.RECIPE_GATEWAY, spec.gateway.provider),
        pool=rn,  # InferencePool name = .Release.Name
        epp=router.epp_name(rn),
        ms_release="",  # no modelservice release: kustomize model servers with namePrefix "<name>-"
        ms_fullname=rn,
        decode=f"{rn}-decode",
        route=rn if spec.route else None,  # the gateway chart names its HTTPRoute .Release.Name
        pvc=pvc.name if pvc else None,
    )


def _router_release_for(spec: Spec) -> router.RouterRelease | None:
    """The router-era preset: `release: v0.8|v0.9`, or the one whose router chart the spec pins."""
    if spec.release is not None:
        return router.ROUTER_RELEASES.get(spec.release)
    pinned = spec.charts.router
    return next((r for r in router.ROUTER_RELEASES.values() if r.router_chart == pinned), None)


def _router_problems(spec: Spec, source: str, preset: router.RouterRelease) -> list[Problem]:
    out = [Problem(source, 0, 0, f"charts.{f}", f"release {preset.name} installs the llm-d router chart instead of "
                   f"the Helm-era charts: drop charts.{f} (charts.router pins the router chart)")
           for f in ("infra", "inferencepool", "modelservice") if getattr(spec.charts, f) is not None]
    if spec.charts.router is not None and spec.charts.router not in router.ROUTER_CHARTS:
        out.append(Problem(source, 0, 0, "charts.router", f"{spec.charts.router} is not a supported router chart "
                           f"version (supported: {', '.join(router.ROUTER_CHARTS)})"))
    if spec.benchmark.guidellm is not None and spec.gateway.provider == "none":
        out.append(Problem(source, 0, 0, "benchmark.guidellm", "the guidellm Job drives load through the gateway "
                           "Service, which a standalone stack (gateway.provider: none) does not have"))
    openshift = spec.platforms.openshift
    if openshift is not None and openshift.exposeRoute and _written(spec, "platforms.openshift.exposeRoute"):
        out.append(Problem(source, 0, 0, "platforms.openshift.exposeRoute", f"release {preset.name} (the router "
                           "shape) generates no OpenShift Route for the gateway yet: drop exposeRoute"))
    images = [("scheduler.image", spec.scheduler.image), ("decode.image", spec.decode.image),
              ("decode.sidecar.image", spec.decode.sidecar.image),
              ("prefill.image", spec.prefill.image if spec.prefill else None)]
    for field, image in images:
        dead = next((repo for repo in router.DEAD_IMAGE_REPOS if image and image.startswith(repo + ":")), None)
        if dead:
            out.append(Problem(source, 0, 0, field, f"{dead} can no longer be pulled (renamed in llm-d-router "
                               f"v0.9.0: {router.RENAMED[dead]}); leave it out to take release {preset.name}'s"))
    return out


def _resolve_router(spec: Spec, source: str, preset: router.RouterRelease) -> Stack:
    written = spec
    problems = _router_problems(written, source, preset) + _role_problems(written, source)
    image = spec.scheduler.image or preset.picker_image
    spec = spec.model_copy(update={"scheduler": spec.scheduler.model_copy(update={"image": image})})
    picker = None
    try:
        picker = picker_for_image(image, spec.scheduler.version)
    except ValueError as exc:
        problems.append(Problem(source, 0, 0, "scheduler.image", str(exc)))
    if picker is not None and picker.family != "router":
        problems.append(Problem(source, 0, 0, "scheduler.image", f"release {preset.name} runs the llm-d router's "
                                f"endpoint picker ({router.PICKER_REPO}); {picker.name} is not one"))
    if spec.charts.router is not None and spec.charts.router != preset.router_chart and not problems:
        preset = dataclasses.replace(preset, router_chart=spec.charts.router)
    if problems or picker is None:
        raise SpecError(problems)
    return Stack(spec, None, None, router.ROUTER_POOL, router.KUSTOMIZE_MS, picker, derive_router_names(spec),
                 source, None, preset)


def resolve(spec: Spec, source: str) -> Stack:
    preset = _router_release_for(spec)
    if preset is not None:
        return _resolve_router(spec, source, preset)
    if spec.charts.router is not None:
        raise SpecError([Problem(source, 0, 0, "charts.router", f"{spec.charts.router} is not a router chart "
                                 f"version a release ships (supported: {', '.join(router.ROUTER_CHARTS)})"
                                 if spec.release is None else f"release {spec.release} installs the Helm-era "
                                 "charts, not the router chart: drop charts.router, or use release v0.8 or v0.9")])
    written = spec
    release = _release_for(spec)
    # For the sidecar image only: the release that shipped the pinned modelservice chart.
    image_release = release or next(
        (r for r in charts.RELEASES.values() if r.modelservice == spec.charts.modelservice), None)
    problems: list[Problem] = []

    def pick(field: str, pinned: str | None, table: Mapping[str, T], default: str | None) -> T | None:
        version = pinned or default
        if version is None:
            problems.append(Problem(source, 0, 0, f"charts.{field}", "no version: pin it or set release:"))
            return None
        if version not in table:
            problems.append(Problem(source, 0, 0, f"charts.{field}",
                                    f"{version} is not a supported version (supported: {', '.join(table)})"))
            return None
        return table[version]

    gateway = spec.gateway.provider != "none"
    infra = pick("infra", spec.charts.infra, charts.INFRA, release.infra if release else None) if gateway else None
    pool = pick("inferencepool", spec.charts.inferencepool, charts.POOL, release.inferencepool if release else None)
    ms = pick("modelservice", spec.charts.modelservice, charts.MODELSERVICE,
              release.modelservice if release else None)
    image = spec.scheduler.image or (release.scheduler_image if release else None)
    picker = None
    if not image:
        problems.append(Problem(source, 0, 0, "scheduler.image", "no image: set it or pick a release:"))
    else:
        # The preset's picker image fills in the spec, so every artifact shows the image that runs.
        spec = spec.model_copy(update={"scheduler": spec.scheduler.model_copy(update={"image": image})})
        try:
            picker = picker_for_image(image, spec.scheduler.version)
        except ValueError as exc:
            problems.append(Problem(source, 0, 0, "scheduler.image", str(exc)))
    problems += _role_problems(written, source) + _gateway_problems(written, source)
    if problems or (infra is None and gateway) or pool is None or ms is None or picker is None:
        raise SpecError(problems)
    problems = _compat_problems(written, source, compat.Pins(
        infra, pool, ms, picker, provider=spec.gateway.provider,
        sidecar_disabled=not spec.decode.sidecar.enabled, vendor=spec.accelerator.vendor,
        epp_monitoring=spec.monitoring.epp.enabled, dra=spec.accelerator.dra,
        multinode=any(r is not None and r.parallelism.dataLocal is not None for r in (spec.decode, spec.prefill))))
    if problems:
        raise SpecError(problems)
    return Stack(spec, release, infra, pool, ms, picker, derive_names(spec), source, image_release)
