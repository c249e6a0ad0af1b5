"""Cross-object wiring of a rendered stack: does each reference resolve to an object that was rendered?

Each check takes the rendered objects (and the stack directory, for the committed picker config) and returns
one line per broken link; the test asserts the list is empty. Semantics follow the Kubernetes / Gateway API /
inference-extension references (a parentRef defaults to kind Gateway in the route's namespace, a Service's
targetPort defaults to its port, a relative file path resolves against the container's working directory /).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.render.helpers import Obj, Rendered

POOL_KIND = "InferencePool"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "LeaderWorkerSet")
# Extended resources that name an accelerator (device plugins of NVIDIA, AMD, Google, Intel, Habana).
_ACCEL = re.compile(r"^(nvidia\.com/gpu|amd\.com/gpu|google\.com/tpu|gpu\.intel\.com/.+|habana\.ai/gaudi)$")
# Services a Gateway controller creates for a Gateway (none for a cloud load balancer such as gke-l7-*).
_CONTROLLER_SERVICE: dict[str, Callable[[str], str]] = {
    "istio": lambda gw: f"{gw}-istio",
    "kgateway": lambda gw: gw,
    "agentgateway": lambda gw: gw,
}


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _ns(o: Obj) -> str:
    return str(o.doc.get("metadata", {}).get("namespace", ""))


def _find(r: Rendered, kind: str, name: str, ns: str | None = None) -> Obj | None:
    return next((o for o in r.objects if o.kind == kind and o.name == name and (ns is None or _ns(o) == ns)), None)


def pod_templates(o: Obj) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = o.doc.get("spec") or {}
    if o.kind == "LeaderWorkerSet":
        lwt = spec.get("leaderWorkerTemplate") or {}
        for key in ("leaderTemplate", "workerTemplate"):
            if lwt.get(key):
                yield f"{o!r} {key}", lwt[key]
    elif o.kind in WORKLOAD_KINDS and spec.get("template"):
        yield repr(o), spec["template"]


def _pods(r: Rendered) -> list[tuple[str, str, dict[str, Any]]]:
    return [(where, _ns(o), t) for o in r.objects for where, t in pod_templates(o)]


def _labels(template: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in ((template.get("metadata") or {}).get("labels") or {}).items()}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == str(v) for k, v in selector.items())


def _containers(template: dict[str, Any]) -> list[dict[str, Any]]:
    spec = template.get("spec") or {}
    return [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]


def _container_ports(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for c in _containers(template) for p in (c.get("ports") or [])]


def _pool_selector(pool: Obj) -> dict[str, Any]:
    sel = (pool.doc.get("spec") or {}).get("selector") or {}
    return sel.get("matchLabels", sel) if _group(pool.doc["apiVersion"]) == "inference.networking.k8s.io" else sel


def _pool_ports(pool: Obj) -> list[int]:
    spec = pool.doc.get("spec") or {}
    if "targetPorts" in spec:
        return [int(p["number"]) for p in spec["targetPorts"]]
    return [int(spec["targetPortNumber"])] if "targetPortNumber" in spec else []


def _pool_epp(pool: Obj) -> tuple[str, int]:
    spec = pool.doc.get("spec") or {}
    if "endpointPickerRef" in spec:
        ref = spec["endpointPickerRef"]
        return str(ref["name"]), int((ref.get("port") or {}).get("number", 9002))
    ref = spec.get("extensionRef") or {}
    return str(ref.get("name")), int(ref.get("portNumber", 9002))  # v1alpha2: portNumber defaults to 9002


def flags(args: list[Any]) -> dict[str, str]:
    """`--pool-name x`, `-poolName x` and `--pool-name=x` all as {"poolname": "x"}."""
    out: dict[str, str] = {}
    items = [str(a) for a in args]
    for i, a in enumerate(items):
        if not a.startswith("-"):
            continue
        key, eq, val = a.lstrip("-").partition("=")
        key = key.replace("-", "").lower()
        if eq:
            out[key] = val
        elif i + 1 < len(items) and not items[i + 1].startswith("-"):
            out[key] = items[i + 1]
        else:
            out[key] = "true"
    return out


def _epp_pods(r: Rendered, pool: Obj) -> list[tuple[str, dict[str, Any]]]:
    name, _ = _pool_epp(pool)
    svc = _find(r, "Service", name, _ns(pool))
    if svc is None:
        return []
    sel = (svc.doc.get("spec") or {}).get("selector") or {}
    return [(w, t) for w, ns, t in _pods(r) if ns == _ns(pool) and _selects(sel, _labels(t))]


def check_routes(r: Rendered) -> list[str]:
    bad = []
    for route in r.of("HTTPRoute"):
        for ref in (route.doc.get("spec") or {}).get("parentRefs") or []:
            if ref.get("kind", "Gateway") != "Gateway":
                continue
            gw = _find(r, "Gateway", ref["name"], ref.get("namespace", _ns(route)))
            if gw is None:
                bad.append(f"{route!r}: parentRef Gateway {ref['name']} not rendered")
            elif ref.get("sectionName") and ref["sectionName"] not in [
                lst.get("name") for lst in gw.doc["spec"].get("listeners", [])
            ]:
                bad.append(f"{route!r}: parentRef sectionName {ref['sectionName']} is no listener of {gw!r}")
        for rule in (route.doc.get("spec") or {}).get("rules") or []:
            for b in rule.get("backendRefs") or []:
                kind = b.get("kind", "Service")
                target = _find(r, kind, b["name"], b.get("namespace", _ns(route)))
                if target is None:
                    bad.append(f"{route!r}: backendRef {kind} {b['name']} not rendered")
                elif kind == POOL_KIND and b.get("group") != _group(target.doc["apiVersion"]):
                    bad.append(f"{route!r}: backendRef group {b.get('group')} but the pool is "
                               f"{target.doc['apiVersion']}")
    return bad


def check_pools(r: Rendered, stack: Path) -> list[str]:
    bad = []
    for pool in r.of(POOL_KIND):
        group = _group(pool.doc["apiVersion"])
        sel = _pool_selector(pool)
        selected = [(w, t) for w, ns, t in _pods(r) if ns == _ns(pool) and _selects(sel, _labels(t))]
        if not selected:
            bad.append(f"{pool!r}: selector {sel} matches no rendered pod template")
        for w, t in selected:
            ports = {int(p["containerPort"]) for p in _container_ports(t)}
            missing = [p for p in _pool_ports(pool) if p not in ports]
            if missing:
                bad.append(f"{pool!r}: target port(s) {missing} not a container port of {w} ({sorted(ports)})")
        epp_name, epp_port = _pool_epp(pool)
        svc = _find(r, "Service", epp_name, _ns(pool))
        if svc is None:
            bad.append(f"{pool!r}: EPP Service {epp_name} not rendered")
            continue
        if epp_port not in [int(p["port"]) for p in svc.doc["spec"].get("ports", [])]:
            bad.append(f"{pool!r}: EPP port {epp_port} not a port of {svc!r}")
        epps = _epp_pods(r, pool)
        if not epps:
            bad.append(f"{svc!r}: selects no rendered EPP pod")
        for w, t in epps:
            bad += _check_epp_pod(r, pool, group, w, t, stack)
    return bad


def _check_epp_pod(r: Rendered, pool: Obj, group: str, where: str, t: dict[str, Any], stack: Path) -> list[str]:
    bad = []
    containers = t["spec"]["containers"]
    c = next((x for x in containers if x.get("name") == "epp"), containers[0])  # a tokenizer sidecar may lead
    f = flags(c.get("args") or [])
    if f.get("poolname") != pool.name:
        bad.append(f"{where}: EPP --pool-name {f.get('poolname')} but the pool is {pool.name}")
    if f.get("poolnamespace", _ns(pool)) != _ns(pool):
        bad.append(f"{where}: EPP --pool-namespace {f.get('poolnamespace')} but the pool is in {_ns(pool)}")
    if f.get("poolgroup", "inference.networking.x-k8s.io") != group:
        bad.append(f"{where}: EPP --pool-group {f.get('poolgroup', '(default x-k8s.io)')} but the pool is {group}")
    bad += _check_epp_config(r, where, t, c, f.get("configfile"), stack)
    sa = t["spec"].get("serviceAccountName", "default")
    if not _sa_can_watch_pools(r, sa, _ns(pool), group):
        bad.append(f"{where}: ServiceAccount {sa} may not get/list/watch inferencepools.{group}")
    return bad


def _check_epp_config(r: Rendered, where: str, t: dict[str, Any], c: dict[str, Any], path: str | None,
                      stack: Path) -> list[str]:
    committed = stack / "epp" / "endpoint-picker-config.yaml"
    if not path:
        return [f"{where}: EPP gets no config file flag"] if committed.is_file() else []
    path = posixpath.join(c.get("workingDir", "/"), path)
    vols = {v["name"]: v for v in t["spec"].get("volumes") or []}
    for m in c.get("volumeMounts") or []:
        mount = m["mountPath"].rstrip("/")
        if not path.startswith(mount + "/"):
            continue
        cm_name = (vols.get(m["name"]) or {}).get("configMap", {}).get("name")
        cm = _find(r, "ConfigMap", str(cm_name))
        key = path[len(mount) + 1:]
        if cm is None or key not in (cm.doc.get("data") or {}):
            return [f"{where}: config file {path} is not in a rendered ConfigMap ({cm_name})"]
        y = YAML(typ="safe")
        if y.load(cm.doc["data"][key]) != y.load(committed.read_text(encoding="utf-8")):
            return [f"{where}: mounted {path} ({cm!r}) differs from epp/endpoint-picker-config.yaml"]
        return []
    return [f"{where}: config file {path} is on no mounted volume"]


def _sa_can_watch_pools(r: Rendered, sa: str, ns: str, group: str) -> bool:
    for b in [*r.of("RoleBinding"), *r.of("ClusterRoleBinding")]:
        if not any(s.get("kind") == "ServiceAccount" and s.get("name") == sa and s.get("namespace", _ns(b)) == ns
                   for s in b.doc.get("subjects") or []):
            continue
        role = _find(r, b.doc["roleRef"]["kind"], b.doc["roleRef"]["name"])
        for rule in (role.doc.get("rules") or []) if role else []:
            groups, resources, verbs = (set(rule.get(k) or []) for k in ("apiGroups", "resources", "verbs"))
            if groups & {group, "*"} and resources & {"inferencepools", "*"} and (
                    "*" in verbs or {"get", "list", "watch"} <= verbs):
                return True
    return False


def _may(r: Rendered, sa: str, ns: str, group: str, resource: str, name: str, verb: str) -> bool:
    for b in [*r.of("RoleBinding"), *r.of("ClusterRoleBinding")]:
        if not any(s.get("kind") == "ServiceAccount" and s.get("name") == sa and s.get("namespace", _ns(b)) == ns
                   for s in b.doc.get("subjects") or []):
            continue
        role = _find(r, b.doc["roleRef"]["kind"], b.doc["roleRef"]["name"])
        for rule in (role.doc.get("rules") or []) if role else []:
            names = rule.get("resourceNames")
            if (set(rule.get("apiGroups") or []) & {group, "*"} and set(rule.get("resources") or []) & {resource, "*"}
                    and set(rule.get("verbs") or []) & {verb, "*"} and (not names or name in names)):
                return True
    return False


def check_services(r: Rendered) -> list[str]:
    bad = []
    for svc in r.of("Service"):
        sel = (svc.doc.get("spec") or {}).get("selector") or {}
        if not sel:
            continue
        pods = [(w, t) for w, ns, t in _pods(r) if ns == _ns(svc) and _selects(sel, _labels(t))]
        if not pods:
            bad.append(f"{svc!r}: selector {sel} matches no rendered pod template")
        for p in svc.doc["spec"].get("ports") or []:
            target = p.get("targetPort", p["port"])
            for w, t in pods:
                ports = _container_ports(t)
                if not any(cp.get("name") == target or cp["containerPort"] == target for cp in ports):
                    bad.append(f"{svc!r}: targetPort {target} is no container port of {w}")
    return bad


def check_monitors(r: Rendered) -> list[str]:
    bad = []
    for m in r.of("ServiceMonitor"):
        sel = ((m.doc.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        svcs = [s for s in r.of("Service") if _selects(sel, s.doc["metadata"].get("labels") or {})]
        if not svcs:
            bad.append(f"{m!r}: selects no rendered Service")
        for ep in m.doc["spec"].get("endpoints") or []:
            if "port" in ep and not any(ep["port"] in [p.get("name") for p in s.doc["spec"]["ports"]] for s in svcs):
                bad.append(f"{m!r}: endpoint port {ep['port']} is no named port of a selected Service")
    for m in [*r.of("PodMonitor"), *r.of("PodMonitoring"), *r.of("ClusterPodMonitoring")]:
        sel = ((m.doc.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        pods = [(w, t) for w, ns, t in _pods(r) if _selects(sel, _labels(t))]
        if not pods:
            bad.append(f"{m!r}: selects no rendered pod template")
        eps = m.doc["spec"].get("podMetricsEndpoints") or m.doc["spec"].get("endpoints") or []
        for ep in eps:
            port = ep.get("port")
            if port is not None and not any(
                    port in [cp.get("name"), cp["containerPort"]] for _, t in pods for cp in _container_ports(t)):
                bad.append(f"{m!r}: endpoint port {port} is no container port of a selected pod")
    return bad


def check_claims_and_accelerators(r: Rendered) -> list[str]:
    bad = []
    for where, ns, t in _pods(r):
        for v in t["spec"].get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and _find(r, "PersistentVolumeClaim", claim, ns) is None:
                bad.append(f"{where}: volume {v['name']} claims PVC {claim}, which is not rendered")
        kinds: set[str] = set()
        for c in _containers(t):
            res = c.get("resources") or {}
            for part in ("limits", "requests"):
                kinds |= {k for k, q in (res.get(part) or {}).items() if _ACCEL.match(k) and str(q) != "0"}
        for claim in t["spec"].get("resourceClaims") or []:
            tmpl = _find(r, "ResourceClaimTemplate", str(claim.get("resourceClaimTemplateName")), ns)
            if tmpl is None:
                bad.append(f"{where}: resourceClaim template {claim.get('resourceClaimTemplateName')} not rendered")
                continue
            for req in tmpl.doc["spec"]["spec"]["devices"]["requests"]:
                dc = req.get("deviceClassName") or (req.get("exactly") or {}).get("deviceClassName")
                kinds.add(f"DRA:{dc}")
        if len(kinds) > 1:
            bad.append(f"{where}: asks for more than one accelerator kind {sorted(kinds)}")
    return bad


def check_gateway_clients(r: Rendered) -> list[str]:
    """DestinationRule hosts and in-cluster URLs (smoke test, benchmark) name a Service that will exist."""
    bad = []
    services = {f"{o.name}.{_ns(o)}" for o in r.of("Service")}
    for gw in r.of("Gateway"):
        make = _CONTROLLER_SERVICE.get(str(gw.doc["spec"]["gatewayClassName"]))
        if make:
            services.add(f"{make(gw.name)}.{_ns(gw)}")
    for dr in r.of("DestinationRule"):
        host = str(dr.doc["spec"]["host"]).removesuffix(".svc.cluster.local")
        if "." not in host:
            host = f"{host}.{_ns(dr)}"
        if host not in services:
            bad.append(f"{dr!r}: host {dr.doc['spec']['host']} is no rendered Service")
    for where, _, t in _pods(r):
        for c in _containers(t):
            text = "\n".join(str(x) for x in [*(c.get("command") or []), *(c.get("args") or [])])
            for host in re.findall(r"https?://([a-z0-9.-]+)\.svc\.cluster\.local", text):
                if host not in services:
                    bad.append(f"{where}: calls {host}.svc.cluster.local, which no rendered or controller-made "
                               f"Service provides")
    for where, ns, t in _pods(r):  # a Job that reads a Gateway's address from the API server (gke-l7-*)
        text = "\n".join(str(x) for c in _containers(t) for x in [*(c.get("command") or []), *(c.get("args") or [])])
        for gw_ns, gw in re.findall(r"/apis/gateway\.networking\.k8s\.io/v1/namespaces/([a-z0-9-]+)/gateways/"
                                    r"([a-z0-9.-]+)", text):
            sa = t["spec"].get("serviceAccountName", "default")
            if _find(r, "Gateway", gw, gw_ns) is None:
                bad.append(f"{where}: reads Gateway {gw_ns}/{gw}, which is not rendered")
            elif not _may(r, sa, ns, "gateway.networking.k8s.io", "gateways", gw, "get"):
                bad.append(f"{where}: ServiceAccount {sa} may not get Gateway {gw}")
    for route in r.of("Route"):
        to = route.doc["spec"]["to"]
        if to.get("kind", "Service") == "Service" and f"{to['name']}.{_ns(route)}" not in services:
            bad.append(f"{route!r}: routes to Service {to['name']}, which is neither rendered nor controller-made")
    return bad


def problems(r: Rendered, stack: Path) -> list[str]:
    return [*check_routes(r), *check_pools(r, stack), *check_services(r), *check_monitors(r),
            *check_claims_and_accelerators(r), *check_gateway_clients(r)]
