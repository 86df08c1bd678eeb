"""The events each talk is about are marked for a timeline: a breaker opening
(resilience4j's CLOSED -> OPEN), a kill (the kernel's OOM killer, systemd-oomd), two
Skinny clients told yes (lock.go answers from the instance's own state)."""

from __future__ import annotations

import importlib

import pytest

from demokit import Runner


@pytest.mark.parametrize(
    ("name", "scenario", "steps", "expected"),
    [
        ("circuit_breaker", "rating-outage-with-breaker", 160, "breaker_opened"),
        ("memory_pressure", "no-swap", 1500, "kill"),
        ("memory_pressure", "oomd", 1200, "kill"),
        ("skinny", "race", 40, "two_holders"),
    ],
)
def test_the_events_a_talk_is_about_are_marked(name, scenario, steps, expected):
    runner = Runner(importlib.import_module(f"demos.{name}").DEMO, scenario)
    runner.step(steps)
    assert expected in [mark.name for mark in runner.marks]
