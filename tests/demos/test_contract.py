"""The demo contract, checked over every demo the build discovers in ``demos/``.

A new demo is covered here with no test code of its own: a run is a pure function of
(scenario, parameters, seed, the reader's inputs with their steps); the build's preview
is the frame the live run shows at that step; seeking to a step gives the frame that
running to it gave; every scenario, parameter value and action runs; every frame is
well-formed SVG with ``role="img"`` and a title; a core imports nothing of the browser
or the build; the wheel the reader downloads stays small. Determinism is checked under
two ``PYTHONHASHSEED`` values and under Pyodide in Node (``contract_pyodide.mjs``, from
the verified runtime cache), against CPython's digests.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import demokit
from demokit import Runner
from livenotes import demos as build

sys.path.insert(0, str(Path(__file__).parent))
import contract_drive  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEMOS_DIR = Path(os.environ.get("LIVENOTES_CONTRACT_DEMOS") or ROOT / "demos").resolve()
"""The demos under contract; ``LIVENOTES_CONTRACT_DEMOS`` points elsewhere (the test of
``livenotes new-demo`` runs this file over a freshly scaffolded demo)."""
PACKAGES = build.discover(DEMOS_DIR)
DEMOS = {name: package.demo for name, package in PACKAGES.items() if package.demo is not None}
CASES = [(name, scenario.name) for name, demo in DEMOS.items() for scenario in demo.scenarios]
IDS = [f"{name}/{scenario}" for name, scenario in CASES]

SVG_NS = "{http://www.w3.org/2000/svg}"
FORBIDDEN_IMPORTS = ("js", "pyodide", "pyodide_js", "mkdocs", "livenotes", "material")
WHEEL_LIMIT = 48_000
"""Bytes; the reader's browser downloads every demo's wheel it runs."""


def check_frame(snapshot: dict, where: str) -> None:
    """Well-formed SVG whose root has role="img" and a non-empty <title> first."""
    root = ET.fromstring(snapshot["svg"])
    assert root.tag == f"{SVG_NS}svg", where
    assert root.get("role") == "img", where
    first = next(iter(root), None)
    assert first is not None and first.tag == f"{SVG_NS}title", where
    assert (first.text or "").strip(), f"{where}: empty <title>"
    assert isinstance(snapshot["status"], str) and snapshot["status"], where
    json.dumps(snapshot)  # crosses the Pyodide boundary as JSON


def test_every_demo_is_discovered_and_imports():
    assert sorted(PACKAGES) == sorted(p.parent.name for p in DEMOS_DIR.glob("*/__init__.py"))
    assert [(name, p.error) for name, p in PACKAGES.items() if p.error] == []
    assert DEMOS
    if DEMOS_DIR == ROOT / "demos":
        assert {"skinny", "circuit_breaker", "memory_pressure"} <= set(DEMOS)


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=IDS)
def test_same_inputs_give_the_same_frames(name, scenario):
    demo = DEMOS[name]
    assert contract_drive.digest(demo, scenario) == contract_drive.digest(demo, scenario)
    steps = contract_drive.total_steps(demo, scenario)
    other = contract_drive.run_to(demo, scenario, steps, seed=demo.seed + 1)
    check_frame(other.snapshot(), f"{name}/{scenario} with another seed")


OTHER_HASH_SEED = "0" if os.environ.get("PYTHONHASHSEED") == "4242" else "4242"
"""The subprocess's hash seed: one that this process (random unless set) does not use."""
_ELSEWHERE: dict[str, tuple[subprocess.Popen, Path, Path]] = {}
"""The runs of the driver in other processes, started before the tests that need them."""


def _start(key: str, command: list[str], folder: Path, **options) -> None:
    out, err = folder / f"{key}.out", folder / f"{key}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True, **options)
    _ELSEWHERE[key] = (process, out, err)


def _finish(key: str) -> tuple[int, str, str]:
    process, out, err = _ELSEWHERE[key]
    process.wait(timeout=600)
    return process.returncode, out.read_text(), err.read_text()


@pytest.fixture(scope="module", autouse=True)
def _start_the_runs_elsewhere(request, tmp_path_factory):
    """The other hash seed's run and the Pyodide run take half a minute each in their
    own processes: started first, they use the second core while this one runs the
    in-process tests."""
    wanted = {item.originalname for item in request.session.items}
    folder = tmp_path_factory.mktemp("contract")
    if "test_frames_do_not_depend_on_the_hash_seed" in wanted:
        env = {
            **os.environ,
            "PYTHONHASHSEED": OTHER_HASH_SEED,
            "PYTHONPATH": os.pathsep.join([str(DEMOS_DIR.parent), str(ROOT)]),
        }
        command = [sys.executable, str(Path(contract_drive.__file__)), *DEMOS]
        _start("hash", command, folder, cwd=ROOT, env=env)
    node = shutil.which("node")
    if "test_frames_are_the_same_under_pyodide_in_node" in wanted and node:
        from livenotes.runtime import fetch_pyodide

        runtime = fetch_pyodide(ROOT / ".cache")
        script = Path(__file__).with_name("contract_pyodide.mjs")
        _start(
            "pyodide", [node, str(script), str(runtime), str(ROOT), str(DEMOS_DIR), *DEMOS], folder
        )
    yield
    for process, _, _ in _ELSEWHERE.values():
        if process.poll() is None:
            process.kill()
            process.wait()
    _ELSEWHERE.clear()


@functools.cache
def expected_digests() -> dict[str, str]:
    """This process's digests of every scenario's scripted run, computed once."""
    return contract_drive.digests(list(DEMOS.values()))


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=IDS)
def test_the_preview_is_the_first_live_frame(name, scenario):
    """The build renders the preview; the worker, stepped to the preview's step, shows
    exactly that frame."""
    from demokit import worker

    demo = DEMOS[name]
    embed = build.Embed(path="x.md", line=1, start=0, end=1, name=name, scenario=scenario)
    preview, problem = build.preview(PACKAGES[name], embed)
    assert problem is None
    check_frame(preview, f"{name}/{scenario} preview")
    run = 990_001
    try:
        live = json.loads(worker.start(run, name, scenario, "{}", demo.seed))
        while live["steps"] < demo.scenario(scenario).preview_steps and not live["done"]:
            wanted = demo.scenario(scenario).preview_steps - live["steps"]
            live = json.loads(worker.step(run, wanted))
    finally:
        worker.drop(run)
    assert {k: v for k, v in live.items() if k not in worker.RUN_KEYS} == preview


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=IDS)
def test_seeking_gives_the_frame_that_running_gave(name, scenario):
    demo = DEMOS[name]
    steps = contract_drive.total_steps(demo, scenario)
    inputs = sorted({step for step, *_ in contract_drive.script(demo, scenario)})
    wanted = sorted({0, 1, steps // 3, steps - 1, steps, *inputs, *(s + 1 for s in inputs)})
    expected = {k: contract_drive.run_to(demo, scenario, k).snapshot() for k in wanted}
    runner = contract_drive.run_to(demo, scenario, steps)
    runner.checkpoint_every = 1_000_000  # only the checkpoints already taken
    order = wanted[:]
    random.Random(name + scenario).shuffle(order)
    for k in order:
        runner.seek(k)
        assert runner.snapshot() == expected[k], f"{name}/{scenario} seek({k})"
    # A runner that checkpoints often rebuilds the same frames from its copies.
    dense = Runner(demo, scenario, checkpoint_every=7)
    for step, kind, arg_name, value in contract_drive.script(demo, scenario):
        dense.step(step - dense.steps)
        dense.act(arg_name, value) if kind == "act" else dense.set_param(arg_name, value)
    dense.step(steps - dense.steps)
    for k in order:
        dense.seek(k)
        assert dense.snapshot() == expected[k], f"{name}/{scenario} seek({k}) every 7"


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=IDS)
def test_the_state_is_plain_data(name, scenario):
    """No closures, lambdas or generators: the runner's checkpoints pickle the state."""
    demo = DEMOS[name]
    runner = contract_drive.run_to(demo, scenario, contract_drive.total_steps(demo, scenario))
    copy = pickle.loads(pickle.dumps(runner.sim))
    assert demo.render(copy) == demo.render(runner.sim)


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_every_scenario_parameter_value_and_action_runs(name):
    demo = DEMOS[name]
    steps = 12
    for scenario in demo.scenarios:
        runner = Runner(demo, scenario.name)
        for action in demo.actions:
            for value in [value for value, _ in action.options] or [None]:
                runner.act(action.name, value)
                runner.step(2)
                check_frame(runner.snapshot(), f"{name}/{scenario.name} {action.name} {value}")
        runner.step(steps)
        check_frame(runner.snapshot(), f"{name}/{scenario.name}")
    for param in demo.params:
        if param.kind == "bool":
            values = [False, True]
        elif param.kind == "choice":
            values = param.values()
        else:
            values = [param.min, param.default, param.max]
        for value in values:
            fresh = Runner(demo, params={param.name: value})
            fresh.step(steps)
            check_frame(fresh.snapshot(), f"{name} {param.name}={value}")
            if param.live:
                live = Runner(demo)
                live.step(3)
                assert live.set_param(param.name, value) is True
                live.step(steps)
                check_frame(live.snapshot(), f"{name} {param.name}={value} live")
            else:
                assert Runner(demo).set_param(param.name, value) is False


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_the_declaration_is_complete(name):
    demo = DEMOS[name]
    described = demo.describe()
    json.dumps(described)
    assert described["version"] >= 1
    assert described["seed_range"] == [demokit.SEED_MIN, demokit.SEED_MAX]
    assert demo.render is not None, "attach the view as Demo(render=...)"
    assert demo.summary and demo.title and demo.talk


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_a_core_imports_nothing_of_the_browser_or_the_build(name):
    offenders = []
    for path in sorted((DEMOS_DIR / name).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                if module.split(".")[0] in FORBIDDEN_IMPORTS:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports {module}")
    assert offenders == []


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_the_wheel_is_small(name, tmp_path):
    wheel = build.demo_wheel(PACKAGES[name], tmp_path)
    kit = build.kit_wheel(tmp_path)
    size, kit_size = wheel.stat().st_size, kit.stat().st_size
    print(f"{name}: wheel {size} bytes; demokit wheel {kit_size} bytes")
    assert size < WHEEL_LIMIT, f"{name}'s wheel is {size} bytes; keep it under {WHEEL_LIMIT}"
    assert kit_size < WHEEL_LIMIT


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_seeking_back_a_thousand_steps_is_quick(name):
    """Seeking is a reader's gesture: it must answer within a frame or two."""
    demo = DEMOS[name]
    runner = Runner(demo, demo.default_scenario.name)
    runner.step(1500)
    end = runner.steps
    target = max(0, end - 1000)
    started = time.perf_counter()
    runner.seek(target)
    elapsed = time.perf_counter() - started
    print(f"{name}: seek {end} -> {target} in {elapsed * 1000:.1f} ms")
    assert runner.steps == target
    assert elapsed < 2.0


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=IDS)
def test_marks_name_only_declared_notable_events(name, scenario):
    demo = DEMOS[name]
    runner = contract_drive.run_to(demo, scenario, contract_drive.total_steps(demo, scenario))
    declared = {notable.name for notable in demo.notable}
    assert {mark.name for mark in runner.marks if mark.kind == "event"} <= declared
    actions = {action.name for action in demo.actions}
    assert {mark.name for mark in runner.marks if mark.kind != "event"} <= actions
    assert {mark.kind for mark in runner.marks} <= {"event", "script", "reader"}
    assert all(0 <= mark.step <= runner.steps for mark in runner.marks)
    steps = [mark.step for mark in runner.marks]
    assert steps == sorted(steps)


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=IDS)
def test_the_timeline_spans_the_run_reached_whatever_step_is_shown(name, scenario):
    """Seeking back leaves the timeline's moments as they were; the reader's inputs
    and the script's cues are on it with the steps they happened at."""
    demo = DEMOS[name]
    steps = contract_drive.total_steps(demo, scenario)
    runner = contract_drive.run_to(demo, scenario, steps)
    timeline = runner.timeline()
    assert [item["step"] for item in timeline] == sorted(item["step"] for item in timeline)
    assert all(0 <= item["step"] <= runner.reached for item in timeline)
    reader = [(i.step, i.name) for i in runner.inputs if i.kind in ("act", "param")]
    assert set(reader) <= {(t["step"], t["name"]) for t in timeline if t["kind"] == "reader"}
    for target in (0, runner.steps // 3, runner.steps // 2):
        runner.seek(target)
        assert runner.timeline() == timeline
        assert runner.reached == steps or runner.sim.done


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=IDS)
def test_a_moment_rebuilt_from_its_link_is_the_frame_the_reader_saw(name, scenario):
    """What Copy link captures (scenario, parameters, seed, inputs, step), replayed by
    the worker as a link opens, gives the very frame the reader was looking at."""
    from demokit import worker

    demo = DEMOS[name]
    steps = contract_drive.total_steps(demo, scenario)
    runner = contract_drive.run_to(demo, scenario, steps)
    target = max(0, runner.steps - 7)
    runner.seek(target)
    seen = runner.snapshot()
    inputs = [
        [i.step, i.kind[0], i.name, list(i.value) if i.kind == "cue" else i.value, i.raised]
        for i in runner.inputs
        if i.step <= target
    ]
    run = 990_002
    try:
        params = json.dumps(runner._start_params)
        again = json.loads(
            worker.start(run, name, scenario, params, demo.seed, json.dumps(inputs), target)
        )
        while again["steps"] < target:  # as the widget steps a linked run on
            again = json.loads(worker.step(run, target - again["steps"]))
            assert again["ran"] > 0
    finally:
        worker.drop(run)
    assert {k: v for k, v in again.items() if k not in worker.RUN_KEYS} == seen


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_the_csv_holds_every_metric_over_time(name):
    demo = DEMOS[name]
    runner = Runner(demo)
    runner.step(30)
    runner.seek(10)
    lines = runner.series().splitlines()
    assert runner.steps == 10
    header = lines[0].split(",")
    unit = f" ({demo.time_unit})" if demo.time_unit else ""
    assert header[:2] == ["step", f"simulated time{unit}"]
    values = runner.frame().values
    assert len(header) == 2 + len({name for name, _, _ in values}) or not values
    assert [line.split(",")[0] for line in lines[1:]] == [str(k) for k in range(runner.reached + 1)]


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=IDS)
def test_a_frame_does_not_depend_on_when_earlier_frames_were_drawn(name, scenario):
    """The widget draws whenever a batch of steps ends, which depends on wall time; a
    recording draws every few steps; a link draws once. All must show the same frame."""
    demo = DEMOS[name]
    steps = min(contract_drive.total_steps(demo, scenario), 400)
    drawn_often = Runner(demo, scenario)
    while drawn_often.steps < steps and drawn_often.step(3):
        drawn_often.snapshot()
    drawn_once = Runner(demo, scenario)
    drawn_once.step(drawn_often.steps)
    assert drawn_once.snapshot() == drawn_often.snapshot()


# Last: the runs started elsewhere have had the other tests' time to finish.


def test_frames_do_not_depend_on_the_hash_seed():
    """Iteration over a set of strings changes with PYTHONHASHSEED; frames must not."""
    code, out, err = _finish("hash")
    assert code == 0, err
    assert json.loads(out) == expected_digests(), f"PYTHONHASHSEED={OTHER_HASH_SEED}"


def test_frames_are_the_same_under_pyodide_in_node():
    """The reader's browser runs Pyodide's Python 3.14, the build CPython 3.11: the same
    inputs must give byte-identical frames (``sum()`` over floats, for one, does not)."""
    assert "pyodide" in _ELSEWHERE, (
        "the contract runs under Pyodide in Node: install Node.js (apt-get install nodejs)"
    )
    code, out, err = _finish("pyodide")
    assert code == 0, err[-2000:]
    print(err.strip())
    assert json.loads(out) == expected_digests()
