"""OpenShift's restricted-v2 SecurityContextConstraints, as data, and an admission check for pod templates.

RESTRICTED_V2 is the SCC OpenShift installs (openshift/cluster-kube-apiserver-operator,
bindata/bootkube/scc-manifests/0000_20_kube-apiserver-operator_00_scc-restricted-v2.yaml; `ephemeral` joined
its volume list in OpenShift 4.11). Its field names are those of the SecurityContextConstraints CRD in
../shared/upstream/data/openshift__api/release-5.0/security/v1/ (test_least_privilege validates this object
against that CRD, so a renamed or misspelt field fails there). What each field means for a pod:

* runAsUser MustRunAsRange: the UID comes from the namespace's range, so a pod may not fix runAsUser (a fixed
  UID outside the range is refused, and the range is not known statically); runAsNonRoot is fine.
* fsGroup MustRunAs: likewise no fixed fsGroup; seLinuxContext MustRunAs: no custom seLinuxOptions.
* allowPrivilegedContainer false, allowPrivilegeEscalation false: no `privileged`, escalation off.
* allowedCapabilities [NET_BIND_SERVICE], requiredDropCapabilities [ALL]: add nothing else, drop ALL.
* seccompProfiles [runtime/default]: RuntimeDefault (or unset, which the SCC defaults to it).
* allowHost{Network,PID,IPC,Ports} false, allowHostDirVolumePlugin false; volumes: the listed types only.

We hold our own Jobs to more than restricted-v2 asks: explicit allowPrivilegeEscalation false, drop ALL,
runAsNonRoot, RuntimeDefault, a read-only root filesystem, and cpu/memory limits (`least_privilege`).
"""

from __future__ import annotations

from typing import Any

RESTRICTED_V2: dict[str, Any] = {
    "apiVersion": "security.openshift.io/v1",
    "kind": "SecurityContextConstraints",
    "metadata": {"name": "restricted-v2"},
    "allowHostDirVolumePlugin": False,
    "allowHostIPC": False,
    "allowHostNetwork": False,
    "allowHostPID": False,
    "allowHostPorts": False,
    "allowPrivilegeEscalation": False,
    "allowPrivilegedContainer": False,
    "allowedCapabilities": ["NET_BIND_SERVICE"],
    "defaultAddCapabilities": None,
    "fsGroup": {"type": "MustRunAs"},
    "groups": [],
    "priority": None,
    "readOnlyRootFilesystem": False,
    "requiredDropCapabilities": ["ALL"],
    "runAsUser": {"type": "MustRunAsRange"},
    "seLinuxContext": {"type": "MustRunAs"},
    "seccompProfiles": ["runtime/default"],
    "supplementalGroups": {"type": "RunAsAny"},
    "users": [],
    "volumes": ["configMap", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"],
}
_SECCOMP = {"runtime/default": "RuntimeDefault"}


def pod_templates(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, pod spec) of a Pod or of a workload's pod template."""
    name = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
    if doc.get("kind") == "Pod":
        return [(name, doc.get("spec") or {})]
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template") if isinstance(spec, dict) else None
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        return [(name, template["spec"])]
    return []


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for key in ("initContainers", "containers", "ephemeralContainers") for c in pod.get(key) or []]


def admission_errors(pod: dict[str, Any], scc: dict[str, Any] = RESTRICTED_V2) -> list[str]:
    """Why `scc` would refuse this pod spec ([] if it admits it)."""
    out = []
    pod_ctx = pod.get("securityContext") or {}
    for host in ("Network", "PID", "IPC"):
        if pod.get(f"host{host}") and not scc[f"allowHost{host}"]:
            out.append(f"host{host} is not allowed")
    ranged = {"runAsUser": scc["runAsUser"]["type"] == "MustRunAsRange",
              "fsGroup": scc["fsGroup"]["type"] == "MustRunAs"}
    for key, fixed_refused in ranged.items():
        if fixed_refused and key in pod_ctx:
            out.append(f"pod securityContext.{key} is fixed; {scc['metadata']['name']} assigns it from a range")
    if "seLinuxOptions" in pod_ctx and scc["seLinuxContext"]["type"] == "MustRunAs":
        out.append("pod seLinuxOptions are assigned by the SCC")
    allowed_seccomp = {_SECCOMP.get(p, p) for p in scc["seccompProfiles"]}
    profile = (pod_ctx.get("seccompProfile") or {}).get("type")
    if profile is not None and profile not in allowed_seccomp:
        out.append(f"pod seccompProfile {profile} not in {sorted(allowed_seccomp)}")
    for volume in pod.get("volumes", []) or []:
        kinds = set(volume) - {"name"}
        if not kinds <= set(scc["volumes"]):
            out.append(f"volume {volume.get('name')}: type {sorted(kinds)} not in {scc['volumes']}")
    for c in _containers(pod):
        ctx = c.get("securityContext") or {}
        name = c.get("name")
        if ctx.get("privileged") and not scc["allowPrivilegedContainer"]:
            out.append(f"{name}: privileged")
        if ctx.get("allowPrivilegeEscalation", True) and not scc["allowPrivilegeEscalation"]:
            out.append(f"{name}: allowPrivilegeEscalation is not false")
        caps = ctx.get("capabilities") or {}
        extra = set(caps.get("add") or []) - set(scc["allowedCapabilities"] or [])
        if extra:
            out.append(f"{name}: adds capabilities {sorted(extra)}")
        if not set(scc["requiredDropCapabilities"]) <= set(caps.get("drop") or []):
            out.append(f"{name}: does not drop {scc['requiredDropCapabilities']}")
        if "runAsUser" in ctx and ranged["runAsUser"]:
            out.append(f"{name}: runAsUser is fixed")
        if "seLinuxOptions" in ctx:
            out.append(f"{name}: seLinuxOptions are assigned by the SCC")
        c_profile = (ctx.get("seccompProfile") or {}).get("type")
        if c_profile is not None and c_profile not in allowed_seccomp:
            out.append(f"{name}: seccompProfile {c_profile}")
        if (profile or c_profile or "RuntimeDefault") not in allowed_seccomp:
            out.append(f"{name}: no allowed seccomp profile")
        if any(p.get("hostPort") for p in c.get("ports", []) or []) and not scc["allowHostPorts"]:
            out.append(f"{name}: hostPort")
    return out


def least_privilege_errors(pod: dict[str, Any]) -> list[str]:
    """What our own Jobs promise beyond restricted-v2: non-root, nothing kept, read-only root, bounded."""
    out = []
    pod_ctx = pod.get("securityContext") or {}
    for c in _containers(pod):
        ctx = {**pod_ctx, **(c.get("securityContext") or {})}
        name = c.get("name")
        if ctx.get("runAsNonRoot") is not True or ctx.get("runAsUser") == 0:
            out.append(f"{name}: may run as root")
        if ctx.get("allowPrivilegeEscalation") is not False:
            out.append(f"{name}: allowPrivilegeEscalation is not false")
        if "ALL" not in ((ctx.get("capabilities") or {}).get("drop") or []):
            out.append(f"{name}: capabilities not dropped")
        if (c.get("securityContext") or {}).get("capabilities", {}).get("add"):
            out.append(f"{name}: adds capabilities")
        if ctx.get("readOnlyRootFilesystem") is not True:
            out.append(f"{name}: root filesystem is writable")
        if (ctx.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            out.append(f"{name}: seccomp profile is not RuntimeDefault")
        limits = (c.get("resources") or {}).get("limits") or {}
        if not {"cpu", "memory"} <= set(limits):
            out.append(f"{name}: no cpu/memory limits")
    return out
