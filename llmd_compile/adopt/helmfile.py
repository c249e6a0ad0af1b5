"""A guide directory or helmfile -> Source. Helmfile templates are resolved only as far as the Helm-era guides
use them (CATALOG §a.3): `$rn`/`$ns` with their defaults, `printf ... | quote`, `if`/`else` on the environment
name, and environment values (`| toYaml | nindent N`). Any other template is a located error, never a guess."""

from __future__ import annotations

import io
import itertools
import os
import re
import shlex
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from llmd_compile.adopt.sources import CHARTS, Piece, Source, merge, piece, read
from llmd_compile.errors import SpecError
from llmd_compile.spec.yamlread import decode, read_bounded

HELMFILES = ("helmfile.yaml", "helmfile.yaml.gotmpl", "helmfile.yml")
# Where a Helm-era guide's gateway environments live, relative to the guide (CATALOG §a.1).
ENV_FILES = "../prereq/gateway-provider/common-configurations/{env}.yaml"
ROUTER_ERA = ("a router-era deployment (llm-d v0.7+: router or GAIE chart values + kustomize model servers): "
              "importing it is not supported yet; write the spec with `llmd-compile init` and compare with "
              "`llmd-compile --diff`")
_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_ASSIGN = re.compile(r'^\$(\w+)\s*:=\s*(.+?)\s*\|\s*default\s+"([^"]*)"$')


def discover(path: Path, shown: str, env: str, name: str | None, namespace: str | None) -> Source:
    """A guide directory (helmfile, or gaie-*/ and ms-*/ values) or a helmfile."""
    if path.is_file():
        return from_helmfile(path, shown, env, name, namespace)
    for candidate in HELMFILES:
        if (path / candidate).is_file():
            return from_helmfile(path / candidate, f"{shown.rstrip('/')}/{candidate}", env, name, namespace)
    return _guide_layout(path, shown, env)


def _one(path: Path, shown: str, pattern: str) -> Path | None:
    found = sorted(path.glob(pattern))
    if len(found) > 1:
        names = ", ".join(str(f.relative_to(path)) for f in found)
        raise SpecError.one(shown, "", f"{len(found)} candidates for {pattern} ({names}): import the files you "
                            "deploy one by one instead")
    return found[0] if found else None


def _guide_layout(path: Path, shown: str, env: str) -> Source:
    gaie, ms = _one(path, shown, "gaie-*/values.yaml"), _one(path, shown, "ms-*/values.yaml")
    if (gaie is None or ms is None) and any((path / d).is_dir() for d in ("router", "scheduler", "modelserver")):
        raise SpecError.one(shown, "", ROUTER_ERA)
    if gaie is None and ms is not None and ms.parent.name.startswith("ms-") and "multinode" in \
            ms.read_text(encoding="utf-8"):
        raise SpecError.one(shown, "", "no llm-d deployment here: only a wide-EP ms-*/values.yaml and no gaie-*/values"
                            ".yaml (the guide installs the picker otherwise); pass both values files one by one")
    if gaie is None and any((path / d / "modelserver").is_dir() for d in ("manifests", ".")) and \
            any(path.rglob("inferencepool.values.yaml")):
        raise SpecError.one(shown, "", "no llm-d deployment here: kustomize model-server manifests beside "
                            "inferencepool.values.yaml (the v0.3-v0.6 wide-EP guides) are not imported yet; write the "
                            "spec's parallelism.{data,dataLocal,expert} by hand")
    if gaie is None or ms is None:
        raise SpecError.one(shown, "", "no llm-d deployment here: expected a helmfile (helmfile.yaml[.gotmpl]) or a "
                            "Helm-era guide's gaie-*/values.yaml and ms-*/values.yaml; or pass the values files "
                            "(helm get values RELEASE) one by one")

    def rel(p: Path) -> str:
        inner = Path(os.path.normpath(p.relative_to(path))).as_posix()
        return inner if shown.rstrip("/") in ("", ".") else f"{shown.rstrip('/')}/{inner}"

    source = Source(origin=f"the Helm-era guide directory {shown} ({env} environment)")
    envfile = path / ENV_FILES.format(env=env)
    if envfile.is_file():
        data, lines = read(envfile, rel(envfile))
        if isinstance(data, dict) and isinstance(data.get("gateway"), dict):  # the helmfile passes gateway: only
            source.pieces.append(Piece("infra", rel(envfile), {"gateway": data["gateway"]}, lines))
        provider = (data or {}).get("provider") if isinstance(data, dict) else None
        if isinstance(provider, dict) and provider.get("name") == "gke":
            source.pieces.append(Piece("gaie", rel(envfile), {"provider": {"name": "gke"}}, lines))
    source.pieces[:0] = [piece(gaie, rel(gaie), "gaie"), piece(ms, rel(ms), "ms")]
    source.pieces.sort(key=lambda p: ("infra", "gaie", "ms").index(p.kind) if p.kind != "route" else 3)
    route = path / ("httproute.gke.yaml" if env.startswith("gke") else "httproute.yaml")
    if route.is_file():
        source.pieces.append(piece(route, rel(route), "route"))
    source.name = gaie.parent.name.removeprefix("gaie-")
    return source


# --- helmfile ----------------------------------------------------------------------------------------------------


class _Template:
    def __init__(self, shown: str, env: str, env_values: dict[str, Any], given: dict[str, str | None]) -> None:
        self.shown, self.env, self.env_values, self.given = shown, env, env_values, given
        self.vars: dict[str, str] = {}

    def fail(self, line: int, action: str, why: str) -> SpecError:
        return SpecError.one(self.shown, "", f"cannot resolve the template {{{{ {action} }}}}: {why}; render it "
                             "(helmfile write-values) and import the values files one by one", line, 1)

    def _arg(self, token: str, line: int, action: str) -> str:
        if token.startswith("$") and token[1:] in self.vars:
            return self.vars[token[1:]]
        if token.startswith('"'):
            return token.strip('"')
        raise self.fail(line, action, f"unknown value {token}")

    def _env_value(self, dotted: str, line: int, action: str) -> Any:
        node: Any = self.env_values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise self.fail(line, action, f"the {self.env} environment has no {dotted}")
            node = node[part]
        return node

    def value(self, action: str, line: int) -> str:
        parts = [p.strip() for p in action.split("|")]
        head, filters = parts[0], parts[1:]
        words = shlex.split(head, posix=False)
        result: Any
        if words[0] == "printf":
            args = [self._arg(w, line, action) for w in words[2:]]
            result = words[1].strip('"') % tuple(args)
        elif len(words) == 1 and words[0].startswith("$"):
            result = self._arg(words[0], line, action)
        elif len(words) == 1 and words[0].startswith(".Environment.Values."):
            result = self._env_value(words[0].removeprefix(".Environment.Values."), line, action)
        else:
            raise self.fail(line, action, "not a form the Helm-era guides use")
        for name in filters:
            if name == "quote":
                result = f'"{result}"'
            elif name == "toYaml":
                buffer = io.StringIO()
                YAML(typ="safe", pure=True).dump(result, buffer)
                result = buffer.getvalue().rstrip("\n")
            elif name.startswith("nindent "):
                pad = " " * int(name.split()[1])
                result = "\n" + "\n".join(pad + row for row in str(result).splitlines())
            else:
                raise self.fail(line, action, f"the filter {name!r} is not resolved")
        return str(result)

    def condition(self, text: str, line: int) -> bool:
        eq = re.fullmatch(r'\(?eq \.Environment\.Name "([^"]+)"\)?', text)
        if eq:
            return self.env == eq.group(1)
        either = re.fullmatch(r"or ((?:\(eq \.Environment\.Name \"[^\"]+\"\)\s*)+)", text)
        if either:
            return self.env in re.findall(r'"([^"]+)"', either.group(1))
        raise self.fail(line, f"if {text}", "only conditions on the environment name are resolved")

    def assign(self, action: str, line: int) -> None:
        found = _ASSIGN.match(action)
        if not found:
            raise self.fail(line, action, "not a form the Helm-era guides use")
        var, expr, default = found.groups()
        given = {".Namespace": self.given.get("namespace"), '(env "RELEASE_NAME_POSTFIX")': self.given.get("name")}
        if expr not in given:
            raise self.fail(line, action, f"{expr} is not resolved")
        self.vars[var] = given[expr] or default

    def render(self, text: str, first_line: int) -> str:
        out: list[str] = []
        stack: list[bool] = []  # one entry per open `if`: whether its branch is taken
        for number, row in enumerate(text.splitlines(), first_line):
            actions = _ACTION.findall(row)
            control = [a for a in actions if a.split(" ")[0] in ("if", "else", "end") or _ASSIGN.match(a)]
            if control and _ACTION.sub("", row).strip() == "":
                for action in actions:
                    word = action.split(" ")[0]
                    if word == "if":
                        stack.append(all(stack) and self.condition(action[3:].strip(), number))
                    elif word == "else" and stack:
                        stack[-1] = not stack[-1] and all(stack[:-1])
                    elif word == "end" and stack:
                        stack.pop()
                    elif all(stack):
                        self.assign(action, number)
                out.append("")  # keep line numbers
                continue
            if not all(stack):
                out.append("")
                continue
            out.append(_ACTION.sub(lambda m, n=number: self.value(str(m.group(1)), int(n)), row))  # type: ignore[misc]
        return "\n".join(out)


def _environment(head: Any, base: Path, shown: str, env: str) -> dict[str, Any]:
    envs = head.get("environments") if isinstance(head, dict) else None
    if not isinstance(envs, dict):
        return {}
    chosen = envs.get(env) or (envs.get("default") if env == "istio" else None)
    if chosen is None:
        raise SpecError.one(shown, "environments", f"no environment {env!r} (has: {', '.join(envs)})")
    values: dict[str, Any] = {}
    for item in chosen.get("values") or []:
        if isinstance(item, str):
            values = merge(values, read(base / item, item)[0])
        elif isinstance(item, dict):
            values = merge(values, item)
    return values


def helm_set(values: dict[str, Any], path: str, value: Any) -> None:
    """`helm --set path=value` for keys and list indexes."""
    tokens: list[str | int] = [int(t[1:-1]) if t.startswith("[") else t for t in re.findall(r"\[\d+\]|[^.\[\]]+", path)]
    node: Any = values
    for token, following in itertools.pairwise(tokens):
        if isinstance(token, int):
            while len(node) <= token:
                node.append({})
            node = node[token]
        else:
            node = node.setdefault(token, [] if isinstance(following, int) else {})
    last = tokens[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def from_helmfile(path: Path, shown: str, env: str, name: str | None, namespace: str | None) -> Source:
    text = decode(read_bounded(path, shown), shown)
    head_text, sep, body = text.partition("\n---\n")
    if not sep:
        head_text, body = "", text
    base = path.parent
    head = YAML(typ="safe").load(head_text) if head_text.strip() else {}
    template = _Template(shown, env, _environment(head, base, shown, env), {"name": name, "namespace": namespace})
    first = head_text.count("\n") + 3 if sep else 1
    rendered = template.render(body, first)
    data, lines = read_text(("\n" * (first - 1)) + rendered, shown)
    releases = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(releases, list) or not releases:
        raise SpecError.one(shown, "releases", "a helmfile without releases", 1, 1)
    source = Source(origin=f"the helmfile {shown} ({env} environment)")
    if any(str(r.get("chart", "")).rsplit("/", 1)[-1].startswith("llm-d-router") for r in releases):
        raise SpecError.one(shown, "releases", ROUTER_ERA, 1, 1)
    for index, release in enumerate(releases):
        chart = str(release.get("chart", "")).rsplit("/", 1)[-1]
        kind = CHARTS.get(chart)
        if kind is None:
            continue
        at = ("releases", index)
        if release.get("version"):
            source.pins[{"infra": "infra", "gaie": "inferencepool", "ms": "modelservice"}[kind]] = \
                str(release["version"])
        postfix = str(release.get("name", "")).removeprefix(f"{ {'infra': 'infra', 'gaie': 'gaie', 'ms': 'ms'}[kind]}-")
        source.name = source.name or postfix
        source.namespace = source.namespace or (str(release["namespace"]) if release.get("namespace") else None)
        for number, item in enumerate(release.get("values") or []):
            if isinstance(item, str):
                source.pieces.append(piece(base / item, f"{base.as_posix()}/{item}" if shown != path.name else item,
                                           kind))
            elif isinstance(item, dict):
                sub = {k[len(at) + 2:]: v for k, v in lines.items() if k[:len(at) + 2] == (*at, "values", number)}
                source.pieces.append(Piece(kind, shown, item, sub))
        sets: dict[str, Any] = {}
        for item in release.get("set") or []:
            helm_set(sets, str(item["name"]), item.get("value"))
        if sets:
            source.pieces.append(Piece(kind, shown, sets, {(): lines.get((*at, "set"), 0)}))
    if not source.pieces:
        raise SpecError.one(shown, "releases", "no release of an llm-d chart (llm-d-infra, inferencepool, "
                            "llm-d-modelservice)", 1, 1)
    for name in ("httproute.gke.yaml" if env.startswith("gke") else "httproute.yaml", "base/httproute.yaml"):
        if (base / name).is_file():  # the guide's, or the one llmd-compile writes beside its helmfile
            source.pieces.append(piece(base / name, f"{base.as_posix()}/{name}", "route"))
            break
    return source


def read_text(text: str, shown: str) -> tuple[Any, dict[Any, int]]:
    from llmd_compile.adopt.sources import _plain

    yaml = YAML(typ="rt")
    try:
        doc = yaml.load(text)
    except Exception as exc:  # ruamel raises several unrelated types for rendered text
        mark = getattr(exc, "problem_mark", None)
        raise SpecError.one(shown, "", f"YAML after resolving templates: {getattr(exc, 'problem', exc)}",
                            mark.line + 1 if mark else 1, 1) from None
    lines: dict[Any, int] = {}
    return _plain(doc, (), lines), lines
