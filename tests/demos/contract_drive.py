"""Drives any demo the same way from its declaration alone, for the contract test.

Imported by ``test_contract.py``, run as a script in subprocesses under other
``PYTHONHASHSEED`` values, and run under Pyodide in Node: all three must print the same
digests. Stdlib and ``demokit`` only.
"""

from __future__ import annotations

import hashlib
import json
import sys

from demokit import Demo, Runner

EXTRA_STEPS = 40
"""Steps run past the preview and past the last scripted input."""


def other_value(param, value):
    """A valid value of ``param`` other than ``value``."""
    if param.kind == "bool":
        return not value
    if param.kind == "choice":
        values = param.values()
        return values[(values.index(value) + 1) % len(values)]
    up = value + param.step
    return param.coerce(up if up <= param.max else value - param.step)


def script(demo: Demo, scenario: str) -> list[tuple[int, str, str, object]]:
    """Reader inputs as ``(step, kind, name, value)``: every action with its first
    option half-way to the preview, then a change of every live parameter."""
    first = max(1, demo.scenario(scenario).preview_steps // 2)
    params = Runner(demo, scenario).params
    inputs: list[tuple[int, str, str, object]] = []
    for action in demo.actions:
        option = action.options[0][0] if action.options else None
        inputs.append((first, "act", action.name, option))
    for param in demo.params:
        if param.live:
            inputs.append((first + 7, "param", param.name, other_value(param, params[param.name])))
    return inputs


def total_steps(demo: Demo, scenario: str) -> int:
    inputs = script(demo, scenario)
    last = max((step for step, *_ in inputs), default=0)
    return max(demo.scenario(scenario).preview_steps, last) + EXTRA_STEPS


def run_to(demo: Demo, scenario: str, until: int, seed: int | None = None) -> Runner:
    """A fresh runner played forward to step ``until`` with the script's inputs."""
    runner = Runner(demo, scenario, seed=seed)
    for step, kind, name, value in script(demo, scenario):
        if step > until:
            break
        runner.step(step - runner.steps)
        if kind == "act":
            runner.act(name, value)
        else:
            runner.set_param(name, value)
    runner.step(until - runner.steps)
    return runner


def digest(demo: Demo, scenario: str) -> str:
    """A hash of every snapshot of the scripted run, step by step."""
    inputs = script(demo, scenario)
    runner = Runner(demo, scenario)
    hashed = hashlib.sha256()
    pending = list(inputs)
    for _ in range(total_steps(demo, scenario)):
        while pending and pending[0][0] == runner.steps:
            _, kind, name, value = pending.pop(0)
            if kind == "act":
                runner.act(name, value)
            else:
                runner.set_param(name, value)
        hashed.update(json.dumps(runner.snapshot(), sort_keys=True).encode())
        if not runner.step(1):
            break
    hashed.update(json.dumps(runner.snapshot(), sort_keys=True).encode())
    return hashed.hexdigest()


def digests(demos: list[Demo]) -> dict[str, str]:
    """``demo/scenario`` -> digest, for every scenario of every demo."""
    return {
        f"{demo.name}/{scenario.name}": digest(demo, scenario.name)
        for demo in demos
        for scenario in demo.scenarios
    }


def main(names: list[str]) -> None:
    import importlib

    demos = [importlib.import_module(f"demos.{name}").DEMO for name in names]
    print(json.dumps(digests(demos), sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
