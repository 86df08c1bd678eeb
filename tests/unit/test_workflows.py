"""The GitHub workflows, checked as far as they can be without GitHub.

test.yml must run the README's test command; deploy.yml must build with the README's
build command, run only after the tests pass on main, and cache what the pins name.
Actions are pinned to release tags and every job asks for no more than it needs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from livenotes.runtime import DEFAULT_CACHE_DIR, PYODIDE_INTEGRITY, PYODIDE_VERSION, runtime_dir
from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
TEST = WORKFLOWS / "test.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
DEPLOY_REF = "./.github/workflows/deploy.yml"
RELEASE_TAG = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@v\d+\.\d+\.\d+$")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def readme_commands() -> list[str]:
    """Every `bin/...` command that a ```sh block of the README shows."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            commands += re.findall(r"(?:^|\s)(bin/[\w-]+)(?=\s|$)", line.split("#")[0])
    return commands


def ci_command() -> str:
    """The command .ci/run ends with: by contract, the README's test command."""
    last = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert last.startswith("exec "), last
    return last.removeprefix("exec ").strip()


def steps_running(job: dict, command: str) -> list[int]:
    return [i for i, step in enumerate(job.get("steps", [])) if step.get("run") == command]


def step_outputs(step: dict) -> dict[str, str]:
    """Run a step's shell script here, as the runner would, and read what it wrote to
    $GITHUB_OUTPUT."""
    assert "${{" not in step["run"], "the pin step must not depend on expressions"
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "github-output"
        out.touch()
        env = {
            **os.environ,
            "GITHUB_OUTPUT": str(out),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        subprocess.run(
            ["bash", "-eo", "pipefail", "-c", step["run"]],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = out.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line)


def evaluate(text: str, job: dict, outputs: dict[str, dict[str, str]]) -> str:
    """Replace ``${{ steps.<id>.outputs.<name> }}`` by what those steps printed; any
    other expression, or a step id the job lacks, fails the test."""

    def one(match: re.Match) -> str:
        found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", match.group(1))
        assert found, f"cannot evaluate {match.group(0)} here"
        step_id, name = found.groups()
        ids = [step.get("id") for step in job["steps"]]
        assert step_id in ids, f"{match.group(0)}: the job has no step {step_id!r}"
        if step_id not in outputs:
            outputs[step_id] = step_outputs(job["steps"][ids.index(step_id)])
        assert name in outputs[step_id], f"step {step_id} does not print {name}"
        return outputs[step_id][name]

    return EXPRESSION.sub(one, text)


def all_jobs():
    for path in (TEST, DEPLOY):
        for name, job in load(path)["jobs"].items():
            yield path.name, name, job


def test_the_readme_names_the_commands_the_workflows_run():
    commands = readme_commands()
    assert ci_command() in commands, (ci_command(), commands)
    assert "bin/build" in commands, commands


def test_the_test_job_runs_the_readme_test_command():
    jobs = load(TEST)["jobs"]
    runs = {name: steps_running(job, ci_command()) for name, job in jobs.items()}
    assert runs["test"], f"no step of test.yml runs {ci_command()}"


def test_the_deploy_builds_with_bin_build_and_nothing_of_its_own():
    build = load(DEPLOY)["jobs"]["build"]
    built = steps_running(build, "bin/build")
    assert built, "deploy.yml builds without bin/build"
    uploads = [
        i
        for i, step in enumerate(build["steps"])
        if step.get("uses", "").startswith("actions/upload-pages-artifact@")
    ]
    assert uploads and uploads[0] > built[0]
    assert build["steps"][uploads[0]]["with"]["path"] == "site"
    for step in build["steps"]:
        run = step.get("run", "")
        assert "mkdocs" not in run and "pip install" not in run, run


def test_the_deploy_runs_only_after_the_tests_pass_on_main():
    deploy = load(DEPLOY)
    assert set(deploy["on"]) == {"workflow_call"}, "deploy.yml must have no trigger of its own"
    assert deploy["jobs"]["deploy"]["needs"] == "build"
    assert deploy["jobs"]["deploy"]["environment"]["name"] == "github-pages"

    test = load(TEST)
    callers = [job for job in test["jobs"].values() if job.get("uses") == DEPLOY_REF]
    assert len(callers) == 1, "test.yml must call deploy.yml exactly once"
    caller = callers[0]
    needs = caller["needs"] if isinstance(caller["needs"], list) else [caller["needs"]]
    testers = [name for name, job in test["jobs"].items() if steps_running(job, ci_command())]
    assert set(testers) <= set(needs), (needs, testers)
    condition = caller["if"]
    assert "github.ref == 'refs/heads/main'" in condition
    assert "pull_request" not in condition, "a pull request must never publish"
    assert set(test["on"]["push"]["branches"]) == {"main"}


@pytest.mark.parametrize("path", [TEST, DEPLOY], ids=lambda path: path.name)
def test_the_pyodide_cache_is_keyed_by_the_pin(path):
    job = load(path)["jobs"]["test" if path == TEST else "build"]
    command = ci_command() if path == TEST else "bin/build"
    caches = [
        (i, step)
        for i, step in enumerate(job["steps"])
        if step.get("uses", "").startswith("actions/cache@")
    ]
    assert len(caches) == 1, caches
    index, cache = caches[0]
    assert index < steps_running(job, command)[0], "the cache must be restored before use"
    outputs: dict[str, dict[str, str]] = {}
    key = evaluate(cache["with"]["key"], job, outputs)
    paths = evaluate(cache["with"]["path"], job, outputs).split()
    assert PYODIDE_VERSION in key and PYODIDE_INTEGRITY in key, key
    assert "," not in key and len(key) <= 512, "GitHub refuses such a cache key"
    assert str(runtime_dir(DEFAULT_CACHE_DIR)) in paths, paths
    assert "~/.npm/_cacache" in paths, paths


@pytest.mark.parametrize("path", [TEST, DEPLOY], ids=lambda path: path.name)
def test_pip_downloads_are_cached_by_the_requirements(path):
    job = load(path)["jobs"]["test" if path == TEST else "build"]
    (python,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    assert python["with"]["cache"] == "pip"
    assert python["with"]["cache-dependency-path"].split() == ["requirements.txt", "pyproject.toml"]


def test_actions_are_pinned_to_release_tags():
    for workflow, name, job in all_jobs():
        if "uses" in job:
            assert job["uses"] == DEPLOY_REF, (workflow, name)
            continue
        assert job["runs-on"] == "ubuntu-24.04", (workflow, name)
        for step in job["steps"]:
            if "uses" in step:
                assert RELEASE_TAG.match(step["uses"]), (workflow, name, step["uses"])


def test_permissions_are_as_narrow_as_each_job_needs():
    for path in (TEST, DEPLOY):
        assert load(path)["permissions"] == {}, f"{path.name}: top-level permissions not {{}}"
    wanted = {
        ("test.yml", "test"): {"contents": "read"},
        ("test.yml", "deploy"): {"contents": "read", "pages": "write", "id-token": "write"},
        ("deploy.yml", "build"): {"contents": "read", "pages": "read"},
        ("deploy.yml", "deploy"): {"pages": "write", "id-token": "write"},
    }
    jobs = {(workflow, name): job for workflow, name, job in all_jobs()}
    assert set(jobs) == set(wanted)
    for where, job in jobs.items():
        assert job.get("permissions") == wanted[where], where
    # A called workflow gets at most what its caller job was given.
    caller = jobs[("test.yml", "deploy")]["permissions"]
    for name in ("build", "deploy"):
        for scope, level in jobs[("deploy.yml", name)]["permissions"].items():
            assert level == "read" or caller[scope] == "write", (name, scope)


def test_checkout_keeps_no_token():
    for workflow, name, job in all_jobs():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, (workflow, name)
