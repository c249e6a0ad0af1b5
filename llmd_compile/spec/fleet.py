"""A fleet spec (`kind: Fleet`): the clusters a platform team runs, for one Argo CD ApplicationSet.

Stacks place themselves with `gitops.argocd.destination` (usually set by an `extends:` layer per cluster);
the fleet lists the same clusters, and the compiler checks the two agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError

from llmd_compile.errors import SpecError
from llmd_compile.spec.load import problems_from
from llmd_compile.spec.models import ArgoCD, DnsLabel, _Model
from llmd_compile.spec.yamlread import decode, parse, read_bounded


class FleetCluster(_Model):
    name: DnsLabel
    server: Annotated[str, Field(pattern=r"^https://[^\s]+$", max_length=500)]
    platform: Literal["openshift", "kubernetes"]


class FleetMetadata(_Model):
    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=40)]


class FleetGitOps(_Model):
    argocd: ArgoCD


class Fleet(_Model):
    apiVersion: Literal["llmd-compile/v1alpha1"]
    kind: Literal["Fleet"]
    metadata: FleetMetadata
    gitops: FleetGitOps
    clusters: Annotated[list[FleetCluster], Field(min_length=1)]


def load_fleet(path: Path, shown: str) -> Fleet:
    return load_fleet_text(decode(read_bounded(path, shown), shown), shown)


def load_fleet_text(text: str, shown: str) -> Fleet:
    data, marks = parse(text, shown)
    try:
        return Fleet.model_validate(data)
    except ValidationError as exc:
        raise SpecError(problems_from(exc, marks, shown, Fleet)) from None
