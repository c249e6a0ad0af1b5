"""`llmd-compile import` and `upgrade` in-process: inputs as a running deployment gives them, bad input refused with
a located error (exit 2, nothing written), and the text edits that keep a spec's formatting."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from llmd_compile.adopt.textedit import Editor
from llmd_compile.cli import main

REPO = Path(__file__).resolve().parents[2]

# Our own small deployment, written the way the Helm-era guides write theirs (gaie-<rn>/, ms-<rn>/ values).
GAIE = """\
inferenceExtension:
  replicas: 1
  image:
    name: llm-d-inference-scheduler
    hub: ghcr.io/llm-d
    tag: v0.3.2
  pluginsConfigFile: custom.yaml
  pluginsCustomConfig:
    custom.yaml: |
      apiVersion: inference.networking.x-k8s.io/v1alpha1
      kind: EndpointPickerConfig
      plugins:
      - type: queue-scorer
      - type: max-score-picker
      - type: single-profile-handler
      schedulingProfiles:
      - name: default
        plugins:
        - pluginRef: queue-scorer
          weight: 3
        - pluginRef: max-score-picker
inferencePool:
  targetPortNumber: 8000
"""
MS = """\
modelArtifacts:
  uri: hf://Qwen/Qwen3-0.6B
  size: 30Gi
  authSecretName: hf-secret
routing:
  proxy:
    image: ghcr.io/llm-d/llm-d-routing-sidecar:v0.3.0
decode:
  replicas: 3
  containers:
  - name: vllm
    image: ghcr.io/llm-d/llm-d-cuda:v0.3.0
    modelCommand: vllmServe
    args: ["--tensor-parallel-size", "2", "--max-model-len=8192"]
    resources:
      limits:
        nvidia.com/gpu: "2"
prefill:
  create: false
"""
ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: my-route
  namespace: team-a
spec:
  rules:
  - timeouts:
      request: 300s
"""
INFRA = "gateway:\n  gatewayClassName: kgateway\n"
# A helmfile with the template forms the Helm-era guides use ($rn/$ns defaults, printf | quote, if on the environment).
HELMFILE = """\
environments:
  default:
    values: []
---
{{- $ns := .Namespace | default "team-a" -}}
{{- $rn := (env "RELEASE_NAME_POSTFIX") | default "mine" -}}
releases:
  - name: {{ printf "gaie-%s" $rn | quote }}
    namespace: {{ $ns }}
    chart: oci://registry.k8s.io/gateway-api-inference-extension/charts/inferencepool
    version: v1.0.1
    values:
      - gaie-mine/values.yaml
  - name: {{ printf "ms-%s" $rn | quote }}
    namespace: {{ $ns }}
    chart: llm-d-modelservice/llm-d-modelservice
    version: v0.2.10
    values:
    {{- if eq .Environment.Name "gke" }}
      - ms-mine/values_gke.yaml
    {{- else }}
      - ms-mine/values.yaml
    {{- end }}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def guide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gaie-mine").mkdir()
    (tmp_path / "ms-mine").mkdir()
    (tmp_path / "gaie-mine" / "values.yaml").write_text(GAIE, encoding="utf-8")
    (tmp_path / "ms-mine" / "values.yaml").write_text(MS, encoding="utf-8")
    (tmp_path / "httproute.yaml").write_text(ROUTE, encoding="utf-8")
    return tmp_path


def _spec(path: Path) -> dict[str, object]:
    from llmd_compile.spec.load import load

    return load(path).model_dump(exclude_defaults=True)


def test_import_guide_directory(guide: Path) -> None:
    code, _out, err = run("import", ".", "-o", "spec.yaml", "--accelerator", "H100")
    assert code == 0, err
    text = (guide / "spec.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    spec = _spec(guide / "spec.yaml")
    # Each value traces to the input above: names from gaie-mine/ and the route, the preset from the picker image
    # (v0.3.2 is release v0.3.0's), tensor parallelism from the flag, the picker config as intent (queue at 3).
    assert spec["metadata"] == {"name": "mine", "namespace": "team-a"}
    assert spec["release"] == "v0.3.0"
    assert spec["model"] == {"name": "Qwen/Qwen3-0.6B", "tokenSecret": {"name": "hf-secret"},
                             "cache": {"emptyDirSize": "30Gi"}}
    assert spec["decode"]["parallelism"] == {"tensor": 2}
    assert spec["decode"]["args"] == ["--max-model-len=8192"]
    assert spec["scheduler"]["scorers"] == {"queue": 3.0}
    assert spec["route"] == {"name": "my-route", "timeouts": {"request": "300s"}}
    assert "# from ms-mine/values.yaml:" in text and "# scorer intent of custom.yaml" in text
    assert "ms-mine/values.yaml:14: decode.args keeps --max-model-len" in err  # the fallback, with its line
    code, _, err = run("spec.yaml", "--out", "out")
    assert code == 0, err


def test_import_values_one_by_one_as_helm_get_values_prints_them(guide: Path) -> None:
    for name, text in (("gaie.txt", GAIE), ("ms.txt", MS), ("infra.txt", INFRA)):
        (guide / name).write_text("USER-SUPPLIED VALUES:\n" + text, encoding="utf-8")
    code, _, err = run("import", "gaie.txt", "ms.txt", "infra.txt", "--name", "mine", "--namespace", "ns",
                       "-o", "spec.yaml")
    assert code == 0, err
    spec = _spec(guide / "spec.yaml")
    assert spec["gateway"] == {"provider": "kgateway"}
    assert spec["accelerator"] == {"model": "unknown"}  # vendor nvidia, the default: the GPU resource says it
    # No HTTPRoute among the inputs, and no accelerator model in any values: both said, with a line.
    assert "no HTTPRoute among the inputs" in err
    assert "ms.txt:11: the accelerator model is not in the values" in err


def test_import_helmfile_templates(guide: Path) -> None:
    (guide / "helmfile.yaml.gotmpl").write_text(HELMFILE, encoding="utf-8")
    code, _, err = run("import", ".", "-o", "spec.yaml")
    assert code == 0, err
    spec = _spec(guide / "spec.yaml")
    assert spec["metadata"] == {"name": "mine", "namespace": "team-a"}
    assert spec["release"] == "v0.3.0"  # the helmfile's pins are release v0.3.0's (inferencepool v1.0.1, MS v0.2.10)


_DEPLOY = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ms\n  labels:\n    llm-d.ai/role: decode\n"
           "spec:\n  template:\n    spec:\n      containers:\n        - name: vllm\n          image: x\n")
BAD = [
    # (case, files to write {path: text}, command, expected piece of the located error)
    ("not a deployment", {"notes/readme.txt": "hello\n"}, ["import", "notes", "-o", "spec.yaml"],
     "notes: no llm-d deployment here"),
    ("another chart's values", {"prom.yaml": "alertmanager:\n  enabled: true\nserver:\n  retention: 15d\n"},
     ["import", "prom.yaml", "-o", "spec.yaml"], "prom.yaml:1:1: not the values of an llm-d chart"),
    ("unresolvable template", {"hf/helmfile.yaml": HELMFILE.replace('{{ $ns }}', '{{ requiredEnv "NS" }}', 1)},
     ["import", "hf", "-o", "spec.yaml"], "hf/helmfile.yaml:9:1: cannot resolve the template"),
    ("a spec, not a deployment", {}, ["import", str(REPO / "specs" / "h100.yaml"), "-o", "spec.yaml"],
     "already an llmd-compile spec"),
    ("router values alone", {"router.yaml": "router:\n  epp:\n    replicas: 1\n"},
     ["import", "router.yaml", "-o", "spec.yaml"], "router.yaml: router values need exactly one model-server input"),
    ("router values among Helm-era values", {"router.yaml": "router:\n  epp:\n    replicas: 1\n"},
     ["import", "router.yaml", "gaie-mine/values.yaml", "-o", "spec.yaml"],
     "router.yaml:1:1: router: values of the llm-d-router charts (llm-d v0.8+) among Helm-era values"),
    ("router values, two model-server inputs", {"router.yaml": "router: {}\n", "a.yaml": _DEPLOY, "b.yaml": _DEPLOY},
     ["import", "router.yaml", "a.yaml", "b.yaml", "-o", "spec.yaml"], "b.yaml: a second model-server input"),
    ("router values, no decode Deployment", {"router.yaml": "router: {}\n", "a.yaml": _DEPLOY.replace("decode",
                                                                                                       "prefill")},
     ["import", "router.yaml", "a.yaml", "-o", "spec.yaml"], "a.yaml: no decode Deployment"),
    ("router values, a directory that is no overlay", {"router.yaml": "router: {}\n", "ms/x.yaml": "a: 1\n"},
     ["import", "router.yaml", "ms", "-o", "spec.yaml"], "ms: a directory without kustomization.yaml"),
    ("router-era guide", {"og/router/og.values.yaml": "router: {}\n", "og/modelserver/x.yaml": "a: 1\n"},
     ["import", "og", "-o", "spec.yaml"], "og: no model-server overlay"),
    ("output exists", {"spec.yaml": "mine\n"}, ["import", "gaie-mine/values.yaml", "-o", "spec.yaml"],
     "spec.yaml: exists; pass --force"),
]


@pytest.mark.parametrize(("files", "command", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_import_is_located_and_writes_nothing(guide: Path, files: dict[str, str], command: list[str],
                                                  message: str) -> None:
    for rel, text in files.items():
        (guide / rel).parent.mkdir(parents=True, exist_ok=True)
        (guide / rel).write_text(text, encoding="utf-8")
    before = {p: p.read_bytes() for p in guide.rglob("*") if p.is_file()}
    code, _, err = run(*command)
    assert code == 2 and message in err, err
    assert "Traceback" not in err and "nothing was written" in err
    assert {p: p.read_bytes() for p in guide.rglob("*") if p.is_file()} == before


UPGRADE_BAD = [
    # (case, spec under specs/, target, expected piece of the error)
    ("already at the target", "pd.yaml", "v0.6", "specs/pd.yaml:1:1: release: already at release v0.6"),
    ("unknown release", "h100.yaml", "v9.9", "--to: unknown release 'v9.9'"),
    ("a downgrade the charts cannot take", "pd.yaml", "seed", "specs/pd.yaml: monitoring.epp.enabled: after the "
                                                              "upgrade: inferencepool v0.5.1 cannot create"),
]


@pytest.mark.parametrize(("spec", "target", "message"), [b[1:] for b in UPGRADE_BAD], ids=[b[0] for b in UPGRADE_BAD])
def test_bad_upgrade_is_located_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str,
                                                   target: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    original = (REPO / "specs" / spec).read_bytes()
    (tmp_path / "specs" / spec).write_bytes(original)
    code, _, err = run("upgrade", f"specs/{spec}", "--to", target)
    assert code == 2 and message in err, err
    assert (tmp_path / "specs" / spec).read_bytes() == original
    assert sorted(p.name for p in (tmp_path / "specs").iterdir()) == [spec]  # no temporary file left behind


def test_upgrade_diff_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    original = (REPO / "specs" / "h100.yaml").read_bytes()
    (tmp_path / "specs" / "h100.yaml").write_bytes(original)
    code, out, _ = run("upgrade", "specs/h100.yaml", "--to", "v0.6", "--diff")
    assert code == 1
    assert "-  image: ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1\n" in out
    assert "+release: v0.6\n" in out
    assert "changed: charts.infra: v1.3.0 dropped: release v0.6 pins v1.4.0" in out
    assert (tmp_path / "specs" / "h100.yaml").read_bytes() == original


# --- text edits: (case, text, edit, expected) --------------------------------------------------------------------
EDITS = [
    ("flow list item", "a:\n  args: [--x, \"10\", --y=1]  # note\n",
     lambda e: e.replace(("a", "args", 1), "10ms"), "a:\n  args: [--x, 10ms, --y=1]  # note\n"),
    ("block list item", "a:\n  args:\n    - --x\n    - '10'\n",
     lambda e: e.replace(("a", "args", 1), "10ms"), "a:\n  args:\n    - --x\n    - 10ms\n"),
    ("delete keeps comments", "a: 1\nb:  # why b\n  c: 2   # why c\n  # about d\nd: 3\n",
     lambda e: e.delete(("b",)), "a: 1\n# why b\n# why c\n# about d\nd: 3\n"),
    ("delete a nested key", "a:\n  b: 1\n  c: 2\nd: 3\n", lambda e: e.delete(("a", "b")), "a:\n  c: 2\nd: 3\n"),
    ("insert after a block", "m:\n  n: x\nz: 1\n", lambda e: e.insert_after(("m",), "r: v"),
     "m:\n  n: x\nr: v\nz: 1\n"),
    ("quoted value with a hash", "a: \"x # y\"  # real\n", lambda e: e.replace(("a",), "z"), "a: z  # real\n"),
]


@pytest.mark.parametrize(("text", "edit", "expected"), [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_text_edits(text: str, edit: object, expected: str) -> None:
    editor = Editor(text)
    edit(editor)  # type: ignore[operator]
    assert editor.result() == expected


# Our own output is a deployment too: every Helm-era stack in out/ (helmfile + values + base/httproute.yaml) imports
# into a spec that compiles to the same values, picker config and route. Not imported, with the located reason:
OWN = sorted(p.parent.name for p in (REPO / "out").glob("*/helmfile.yaml") if (p.parent / "values").is_dir())
OWN_UNCOVERED = {
                 # router-shape stacks (release v0.8/v0.9): their helmfile installs an llm-d-router chart
                 **{stack: "a router-era deployment" for stack in OWN
                    if "chart: oci://ghcr.io/llm-d/charts/llm-d-router" in (REPO / "out" / stack / "helmfile.yaml")
                    .read_text(encoding="utf-8")}}
COMPARED = ("values/infra.yaml", "values/inferencepool.yaml", "values/modelservice.yaml", "base/httproute.yaml",
            "epp/endpoint-picker-config.yaml")


@pytest.mark.parametrize("stack", OWN)
def test_own_output_round_trips(stack: str) -> None:
    from llmd_compile.adopt.importer import Options, import_source
    from llmd_compile.compile import compile_spec
    from llmd_compile.errors import SpecError
    from llmd_compile.spec.load import load_text

    source = REPO / "out" / stack
    if stack in OWN_UNCOVERED:
        with pytest.raises(SpecError, match=OWN_UNCOVERED[stack]):
            import_source([source], [f"out/{stack}"], Path("specs/x.yaml"), Options(accelerator="H100"))
        return
    text = import_source([source], [f"out/{stack}"], Path("specs/x.yaml"), Options(accelerator="H100")).text
    files = compile_spec(load_text(text, "x.yaml"), "x.yaml")

    def body(content: str | None) -> str | None:  # without the generated-by header (it names the spec)
        return None if content is None else "".join(x for x in content.splitlines(True) if not x.startswith("#"))

    for rel in COMPARED:
        original = (source / rel).read_text(encoding="utf-8") if (source / rel).is_file() else None
        assert body(files.get(rel)) == body(original), rel


def test_upgrade_to_v09_rewrites_sim_latency_flags_as_durations(tmp_path: Path) -> None:
    """inference-sim v0.9+ reads Go durations; bare milliseconds were removed (SIM #485, CURRENT.md §8)."""
    from llmd_compile.adopt.upgrade import upgrade_text, verify

    text = (REPO / "specs" / "sim.yaml").read_text(encoding="utf-8").replace(
        "  image: ghcr.io/llm-d/llm-d-inference-sim:v0.8.2\nprefill:",
        "  image: ghcr.io/llm-d/llm-d-inference-sim:v0.8.2\n  args: [--time-to-first-token=10, --inter-token-latency,"
        " \"5\", --max-loras=2]  # latency in ms\nprefill:", 1)
    assert "--time-to-first-token=10," in text
    spec = tmp_path / "sim.yaml"
    spec.write_text(text, encoding="utf-8")
    upgraded = upgrade_text(spec, "sim.yaml", text, "v0.9")
    assert "  args: [--time-to-first-token=10ms, --inter-token-latency, 5ms, --max-loras=2]  # latency in ms\n" \
        in upgraded.text
    assert any(c.startswith("decode.args[0]: --time-to-first-token=10 -> --time-to-first-token=10ms")
               for c in upgraded.changes)
    verify(spec, "sim.yaml", upgraded.text)


# (spec, target, a change or decision the upgrade must print) — what changed meaning between the releases
MEANINGS = [
    ("tests/golden/cases/kgateway-k8s.yaml", "v0.9", "decide: gateway.provider: kgateway is deprecated upstream"),
    ("specs/precise-prefix-seed.yaml", "v0.9", "decide: scheduler.precisePrefixCache.hashSeed: the router (v0.9.0+) "
                                                "recomputes block keys"),
    ("specs/h100.yaml", "v0.6", "decide: scheduler.image: release v0.6's endpoint picker image "
                                "ghcr.io/llm-d/llm-d-inference-scheduler:v0.7.0 can no longer be pulled either"),
    ("specs/h100.yaml", "v0.9", "changed: charts.infra: v1.3.0 dropped: release v0.9 installs the llm-d-router chart"),
    ("specs/gaudi.yaml", "v0.9", "changed: accelerator.dra: dropped: the router shape's kustomize model servers"),
]


@pytest.mark.parametrize(("spec", "target", "line"), MEANINGS, ids=[f"{m[0]}->{m[1]}" for m in MEANINGS])
def test_upgrade_says_what_changed_meaning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, target: str,
                                           line: str) -> None:
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / Path(spec).name
    copy.write_bytes((REPO / spec).read_bytes())
    code, out, err = run("upgrade", copy.name, "--to", target)
    assert code == 0, err
    assert line in out, out
