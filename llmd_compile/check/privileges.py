"""Model-server privileges on OpenShift (LLMD420): what a path asks for beyond restricted-v2 is named, never hidden.

The modelservice chart puts our container securityContext into the model pods as written (CATALOG §b.2), so
OpenShift admits them only under an SCC that allows it. restricted-v2 (the default for every ServiceAccount) allows
no added capability but NET_BIND_SERVICE, no fixed UID, no privileged container and only the runtime's seccomp
profile (openshift/cluster-kube-apiserver-operator bindata scc-restricted-v2).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from llmd_compile.check import Finding, Rule
from llmd_compile.check.artifacts import Artifacts, dig
from llmd_compile.emit import security

RESTRICTED_CAPABILITIES = {"NET_BIND_SERVICE"}
RESTRICTED_SECCOMP = {"RuntimeDefault"}


def refused(context: dict[str, Any]) -> list[str]:
    """What restricted-v2 refuses in one container securityContext."""
    out = []
    if context.get("privileged"):
        out.append("privileged")
    extra = [c for c in dig(context, "capabilities", "add", default=[]) or [] if c not in RESTRICTED_CAPABILITIES]
    if extra:
        out.append("capabilities " + ", ".join(extra))
    if "runAsUser" in context:
        out.append(f"runAsUser {context['runAsUser']}")
    profile = dig(context, "seccompProfile", "type")
    if profile is not None and profile not in RESTRICTED_SECCOMP:
        out.append(f"seccompProfile {profile}")
    return out


def model_server_privileges(a: Artifacts) -> Iterator[Finding]:
    stack = a.stack
    if stack.spec.platforms.openshift is None:
        return
    fields: dict[str, str] = {}
    for ask in security.stack_asks(stack):
        fields.setdefault(ask.role, ask.field)
    pods = a.role_pods() if a.is_router else [
        (role, dig(a.ms, role, "containers", default=[]) or []) for role in ("decode", "prefill")
        if dig(a.ms, role, "create")]
    # The ServiceAccount the pods run as: the chart's fullname, or the kustomize pod template's.
    accounts = {role: dig(t, "spec", "serviceAccountName") for role, t in a.pod_templates()} if a.is_router else {}
    for role, containers in pods:
        for container in containers:
            what = refused(container.get("securityContext") or {})
            if what:
                account = accounts.get(role) or stack.names.ms_fullname
                yield Finding(fields.get(role, role), (
                    f"{role} pods ({container.get('name')}) ask for {'; '.join(what)}: OpenShift's restricted-v2 "
                    f"refuses them, so the pods are not created until ServiceAccount {account} in "
                    f"{stack.names.namespace} may use an SCC that allows them"))


RULES = (
    Rule("LLMD420", "warning", "model servers need more than restricted-v2 on OpenShift",
         "grant the ServiceAccount an SCC that allows them (e.g. oc adm policy add-scc-to-user privileged -z <sa> "
         "-n <namespace>, or a custom SCC with just these), or drop them (<role>.privileges: none, "
         "kvTransfer.rdma.capabilities / runAsRoot)", model_server_privileges),
)
