"""A fleet compiled by worker processes is the fleet compiled in one process: same files, same bytes, same
messages in the same order, and bad input still writes nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmd_compile import pipeline

from . import harness, specgen

N = pipeline.PARALLEL_FROM + 6  # enough specs that the default forks workers


run = harness.invoke


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    specs = tmp_path / "specs"
    specs.mkdir()
    for data in specgen.fleet(N, seed=11):
        (specs / f"{data['metadata']['name']}.yaml").write_text(specgen.to_text(data), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_default_forks_for_a_fleet_and_not_for_one_stack() -> None:
    multicore = len(pipeline.os.sched_getaffinity(0)) > 1
    assert pipeline.jobs_for(0, N) >= 2 or not multicore
    assert pipeline.jobs_for(0, 1) == 0  # compiled here
    assert pipeline.jobs_for(0, 1, N) == (1 if multicore else 0)  # one worker compiles while the rest is checked
    assert pipeline.jobs_for(0, 2, 3) == 0  # a handful: here
    assert pipeline.jobs_for(3, 2) == 2  # never more workers than specs
    assert pipeline.jobs_for(1, N) == 0  # --jobs 1: here


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_workers_write_the_same_bytes(fleet: Path, jobs: str) -> None:
    one = run("specs", "--out", "one", "--jobs", "1")
    many = run("specs", "--out", "many", "--jobs", jobs)
    assert one[0] == many[0] == 0
    stacks = [line for line in one[1].splitlines() if not line.startswith("created ")]
    # one line per stack, in order (the first run made the components; each out/ gets its .gitignore)
    assert stacks == [line for line in many[1].splitlines() if not line.startswith("created ")]
    assert one[2] == many[2]  # warnings, in order
    assert len([line for line in stacks if line.startswith("stack-")]) == N and stacks[-1].startswith(f"{N} stacks: ")
    assert harness.snapshot(fleet / "one") == harness.snapshot(fleet / "many") != {}


def test_problems_are_reported_in_order_and_nothing_is_written(fleet: Path) -> None:
    specs = sorted((fleet / "specs").iterdir())
    specs[3].write_text(specs[3].read_text(encoding="utf-8").replace("metadata:\n", "metadata:\n  colour: red\n", 1),
                        encoding="utf-8")
    specs[-1].write_text(specs[0].read_text(encoding="utf-8"), encoding="utf-8")  # a second stack-0000
    one = run("specs", "--out", "one", "--jobs", "1")
    many = run("specs", "--out", "many", "--jobs", "2")
    assert one == many
    assert one[0] == 2
    lines = one[2].splitlines()
    assert "metadata.colour: unknown field" in lines[0] and specs[3].name in lines[0]
    assert "'stack-0000' is also the name of specs/stack-0000.yaml" in lines[1]
    assert lines[-1].startswith("error: 2 problems; nothing was written")
    assert not (fleet / "one").exists() and not (fleet / "many").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_stacks_staged_before_a_late_problem_are_removed(fleet: Path, jobs: str) -> None:
    """With out/ in place, stacks are staged while the rest compile; a problem in the last spec voids them all."""
    assert run("specs", "--jobs", jobs)[0] == 0
    before = harness.snapshot(fleet / "out")
    specs = sorted((fleet / "specs").iterdir())
    for spec in specs[:-1]:  # every other spec changes (its manifest's inputs digest), so each stack is staged
        spec.write_text(spec.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    specs[-1].write_text(specs[-1].read_text(encoding="utf-8").replace("metadata:\n", "metadata:\n  colour: red\n", 1),
                         encoding="utf-8")
    code, out, err = run("specs", "--jobs", jobs)
    assert code == 2, err
    assert "metadata.colour: unknown field" in err
    assert err.splitlines()[-1].startswith("error: 1 problem; nothing was written")
    assert "changed" not in out  # nothing landed
    assert harness.snapshot(fleet / "out") == before
    assert sorted(p.name for p in (fleet / "out").iterdir() if p.name.startswith(".") and p.is_dir()) == []


def test_with_workers_this_process_never_loads_the_compiler(fleet: Path) -> None:
    """Workers are forked before anything heavy is imported and load the compiler themselves: the CLI process
    (its start-up and its writing) stays light. Diagnostics and problems come back as light objects. (Creating a
    user component stub needs the compiler's kustomize emitter: done by a first run here.)"""
    assert run("specs", "--jobs", "1")[0] == 0
    shutil.rmtree(fleet / "out")
    probe = ("import sys\nfrom llmd_compile.cli import main\n"
             "try:\n    main(['specs', '--jobs', '2'])\nexcept SystemExit as exc:\n    code = exc.code\n"
             "heavy = [m for m in ('pydantic.main', 'llmd_compile.spec.models', 'llmd_compile.compile') "
             "if m in sys.modules]\nprint('RESULT', code, heavy)\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=fleet, capture_output=True, text=True, timeout=300)
    assert proc.stdout.splitlines()[-1] == "RESULT 0 []", proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (fleet / "out" / "stack-0000" / ".llmd-compile.yaml").is_file()


@pytest.mark.parametrize("edit", ["spec", "output"])
def test_a_change_in_a_fleet_lands_as_a_compile_from_scratch(fleet: Path, edit: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-commit case: one spec changed (one worker compiles it while this process checks the others'
    outputs), or one output edited by hand (found while checking outputs): the tree is what a compile from
    scratch in one process writes, and only that stack is reported changed."""
    assert run("specs")[0] == 0
    middle = sorted(p for p in (fleet / "out").iterdir() if not p.name.startswith("."))[N // 2]
    if edit == "spec":
        spec = next(p for p in (fleet / "specs").iterdir() if f"name: {middle.name}\n" in p.read_text("utf-8"))
        spec.write_text(spec.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    else:
        readme = middle / "README.md"
        readme.write_text(readme.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    forked: list[int] = []
    jobs_for = pipeline.jobs_for

    def recorded(*args: int) -> int:
        forked.append(jobs_for(*args))
        return forked[-1]

    monkeypatch.setattr(pipeline, "jobs_for", recorded)
    code, out, err = run("specs")
    assert code == 0, err
    multicore = len(pipeline.os.sched_getaffinity(0)) > 1
    assert forked == ([1] if edit == "spec" and multicore else [0])  # an edited output: the rest compile here
    (landed,) = [line for line in out.splitlines()
                 if not line.endswith(": up to date") and " found" not in line and " stacks: " not in line]
    assert landed.startswith(f"{middle.name}: ") and " changed, " in landed
    monkeypatch.setattr(pipeline, "jobs_for", jobs_for)
    assert run("specs", "--out", "scratch", "--jobs", "1")[0] == 0
    assert harness.snapshot(fleet / "out") == harness.snapshot(fleet / "scratch")
