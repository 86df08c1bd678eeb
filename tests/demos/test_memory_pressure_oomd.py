"""systemd-oomd's pressure rule on its own (demos/memory_pressure/oomd.py).

Semantics from systemd's src/oom/oomd-util.c, ``oomd_pressure_above()``: for a cgroup
whose ``memory_pressure.avg10 > mem_pressure_limit``, set ``mem_pressure_limit_hit_start``
to now if it is unset, and report the cgroup once ``now - hit_start >=
mem_pressure_duration_usec``; otherwise reset ``hit_start`` to 0. Values are parsed from
the text with ``parse_loadavg_fixed_point`` (src/basic/percent-util.c / oomd-util.c),
and oomd.conf(5) sets DefaultMemoryPressureLimit=60% and
DefaultMemoryPressureDurationSec=30s.
"""

from __future__ import annotations

import copy

from demos.memory_pressure.oomd import PressureRule, oomd_loadavg


def test_defaults_are_oomd_confs():
    rule = PressureRule()
    assert (rule.limit_pct, rule.duration_s, rule.hit_start) == (60, 30.0, None)
    assert rule.limit == oomd_loadavg("60.00") == 122880


def test_the_clock_starts_at_the_first_poll_above_and_fires_after_the_duration():
    rule = PressureRule()
    polls = [(t, "75.00") for t in range(10, 45)]
    fired = [t for t, avg10 in polls if rule.above(float(t), avg10)]
    assert rule.hit_start == 10.0
    assert fired[0] == 40  # 40 - 10 >= 30: ">=", not ">"
    assert fired == list(range(40, 45))  # still a candidate on every later poll


def test_exactly_the_limit_is_not_above_it():
    """ "60.00" parses to exactly the limit; oomd compares with ">"."""
    rule = PressureRule()
    assert not any(rule.above(float(t), "60.00") for t in range(100))
    assert rule.hit_start is None
    assert rule.above(0.0, "60.01") is False and rule.hit_start == 0.0


def test_one_poll_at_or_below_the_limit_restarts_the_clock():
    rule = PressureRule(duration_s=5.0)
    for t in range(4):
        assert not rule.above(float(t), "90.00")
    assert not rule.above(4.0, "12.34")
    assert rule.hit_start is None
    assert [rule.above(float(t), "90.00") for t in range(5, 11)] == [False] * 5 + [True]


def test_a_lower_limit_and_shorter_duration_apply_at_once():
    rule = PressureRule()
    assert not rule.above(0.0, "45.00")
    rule.limit_pct, rule.duration_s = 40, 2.0
    assert not rule.above(1.0, "45.00")
    assert rule.above(3.0, "45.00")


def test_reset_forgets_the_stretch_and_a_copy_keeps_its_own_clock():
    rule = PressureRule(duration_s=1.0)
    rule.above(0.0, "99.00")
    twin = copy.deepcopy(rule)
    rule.reset()
    assert rule.hit_start is None and twin.hit_start == 0.0
    assert twin.above(1.0, "99.00") and not rule.above(1.0, "99.00")
