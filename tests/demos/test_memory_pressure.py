"""The memory-pressure demo: the model's claims, the killers' rules, and the frames.

Semantics modelled (and cited where they are asserted): memory.low/high/max from
Documentation/admin-guide/cgroup-v2.rst ("Going over the high limit never invokes the
OOM killer"; memory.max: "If a cgroup's memory usage reaches this limit and can't be
reduced, the OOM killer is invoked in the cgroup"); oom_badness in mm/oom_kill.c
(rss + swap entries + page tables, plus oom_score_adj * totalpages/1000, -1000 never
chosen); systemd-oomd (src/oom/oomd-manager.c, oomd-util.c, oomd.conf(5)): full avg10
strictly above DefaultMemoryPressureLimit=60% for DefaultMemoryPressureDurationSec=30s,
polled every second, 15 s pause after a kill, values parsed from text by
parse_loadavg_fixed_point.
"""

import random
import xml.etree.ElementTree as ET

import pytest

from demokit import Runner
from demos.memory_pressure import DEMO
from demos.memory_pressure.core import DEFAULTS, Machine, Workload, oomd_loadavg
from demos.memory_pressure.psi import FIXED_1

SVG_NS = "{http://www.w3.org/2000/svg}"


def run(params: dict, seconds: float, seed: int = 1, until_kill: bool = False) -> Machine:
    machine = Machine({**DEFAULTS, **params}, random.Random(seed))
    while machine.now < seconds and not machine.done:
        machine.step()
        if until_kill and machine.kills:
            break
    return machine


def trace(params: dict, seconds: float, seed: int = 1) -> tuple[Machine, list[dict]]:
    """Run and keep one row per simulated second."""
    machine = Machine({**DEFAULTS, **params}, random.Random(seed))
    rows = []
    while machine.now < seconds and not machine.done:
        machine.step()
        if machine.ticks % 10 == 0:
            rows.append(
                {
                    "t": machine.now,
                    "cache": sum(w.cache for w in machine.alive),
                    "file": sum(w.file_resident for w in machine.alive),
                    "refault": machine.refault_rate,
                    "kills": len(machine.kills),
                    "full10": machine.psi.full.avg10 / FIXED_1,
                    "free": machine.free,
                }
            )
    return machine, rows


# --- model claims ---------------------------------------------------------------------


def test_no_swap_reclaims_file_pages_then_thrashes_then_a_late_oom_kill():
    """Without swap only file pages are reclaimable: the page cache shrinks first, then
    refaults of evicted working-set pages climb, and the kernel OOM killer acts only
    after a long stretch of thrashing, killing the task with the highest badness."""
    machine, rows = trace({"swap": False}, 160)
    before = [r for r in rows if r["kills"] == 0]
    kill = machine.first_kill()
    assert kill is not None and kill.killer == "oom" and kill.victim == "leaky"
    peak_cache = max(r["cache"] for r in before)
    assert peak_cache > 200
    assert before[-1]["cache"] < 0.05 * peak_cache
    assert before[-1]["file"] < 0.5 * max(r["file"] for r in before)
    first_refault = next(r["t"] for r in before if r["refault"] > 1)
    cache_gone = next(r["t"] for r in before if r["cache"] < 0.5 * peak_cache)
    assert cache_gone <= first_refault
    assert max(r["refault"] for r in before) > 50
    # "Late": more than a minute of refaults, and at least 30 s of full pressure > 50%.
    assert kill.t - first_refault > 60
    assert sum(1 for r in before if r["full10"] > 50) >= 30
    # Meanwhile "free" memory said nothing: it sat at the watermark the whole time.
    assert all(r["free"] < 100 for r in before if r["t"] >= first_refault)


def test_with_swap_is_graceful_while_swap_lasts():
    """With swap the never-touched leaked pages go to swap, the protected web service
    keeps running and nothing is killed for as long as swap has room."""
    machine, rows = trace({"swap": True}, 130)
    assert machine.kills == []
    assert machine.swap_used > 500
    assert max(r["full10"] for r in rows) < 5
    assert machine.by_name["web"].progress > 0.95
    _, no_swap_rows = trace({"swap": False}, 130)
    assert max(r["refault"] for r in rows) < max(r["refault"] for r in no_swap_rows) / 2


@pytest.mark.parametrize("leak_rate", [5, 10, 50])
def test_memory_high_throttles_and_never_kills(leak_rate):
    """cgroup-v2.rst: "Going over the high limit never invokes the OOM killer". The
    leaky job is throttled (in stall nearly all the time), the breach stays small, and
    the web service is untouched."""
    machine = run({"swap": False, "leaky_memory_high": 384, "leak_rate": leak_rate}, 300)
    leaky = machine.by_name["leaky"]
    assert machine.kills == []
    assert leaky.alive
    assert leaky.usage > 384  # "under extreme conditions the limit may be breached"
    assert leaky.usage < 384 * 1.25
    assert leaky.stall > 0.9
    assert machine.by_name["web"].progress > 0.95
    assert machine.psi.full.avg10 < 1 * FIXED_1


def test_pressure_killer_acts_well_before_the_kernel_would_in_the_same_run():
    """Same seed, same machine, no swap: with systemd-oomd the leaky job dies on
    pressure while the kernel alone waits until an allocation fails."""
    kernel_only = run({"swap": False}, 300, until_kill=True)
    with_oomd = run({"swap": False, "killer": "oomd"}, 300, until_kill=True)
    oom, oomd = kernel_only.first_kill(), with_oomd.first_kill()
    assert (oom.killer, oom.victim) == ("oom", "leaky")
    assert (oomd.killer, oomd.victim) == ("oomd", "leaky")
    assert oomd.t < oom.t - 30
    assert "> 60.00% for > 30s with reclaim activity" in oomd.reason


def test_oomd_waits_the_full_duration_above_the_limit():
    """oomd_pressure_above: the clock starts at the first poll with avg10 > limit and
    the kill comes at the first poll at least DurationSec later; polls are 1 s apart."""
    machine = Machine({**DEFAULTS, "swap": False, "killer": "oomd"}, random.Random(1))
    first_above = None
    while not machine.kills:
        machine.step()
        if machine.ticks % 10 == 0 and first_above is None:
            avg10 = machine.by_name["leaky"].psi.full.avg10
            if avg10 > 60 * FIXED_1:
                first_above = machine.now
    kill = machine.first_kill()
    assert kill.t == pytest.approx(first_above + 30)
    assert kill.t == int(kill.t)


def test_oomd_reads_pressure_as_text():
    """parse_loadavg_fixed_point / store_loadavg_fixed_point: int << 11 |
    DIV_ROUND_UP(frac << 11, 100). "60.00" is exactly the 60% limit (not above);
    "60.01" is 60 << 11 | ceil(2048/100) = 122880 | 21 = 122901."""
    assert oomd_loadavg("60.00") == 60 << 11 == 122880
    assert oomd_loadavg("60.01") == 122901
    assert oomd_loadavg("9.05") == (9 << 11) | 103


def test_memory_max_kills_inside_the_cgroup():
    """memory.max lowered under the leaky job's usage without swap: reclaim inside the
    cgroup cannot get under it, so the cgroup's OOM killer kills leaky, not web."""
    runner = Runner(DEMO, "no-swap")
    runner.step(200)
    assert runner.set_param("leaky_memory_max", 256) is True
    runner.step(20)
    snapshot = runner.snapshot()
    metrics = dict(snapshot["metrics"])
    assert (
        metrics["Outcome"].startswith("OOM kill at ")
        and "(leaky, memory.max)" in metrics["Outcome"]
    )
    assert any("memory.max of leaky (256 MiB) reached" in line for line in snapshot["log"])


def test_badness_is_rss_swap_page_tables_and_adj():
    """oom_badness: get_mm_rss + MM_SWAPENTS + pgtables/PAGE_SIZE, plus
    oom_score_adj * (totalpages / 1000); OOM_SCORE_ADJ_MIN (-1000) is never chosen."""
    w = Workload("x", anon_hot=100, anon_cold=28, file_hot=0, touch_anon=0, touch_file=0)
    w.anon_cold_swapped = 28
    # rss 100 MiB = 25600 pages, swap 28 MiB = 7168, page tables 128/512 MiB = 64 pages.
    assert w.badness(totalpages=1_000_000) == 25600 + 7168 + 64
    w.oom_score_adj = 500
    assert w.badness(totalpages=1_000_000) == 25600 + 7168 + 64 + 500 * 1000
    w.oom_score_adj = -1000
    assert w.badness(totalpages=1_000_000) is None


def test_the_never_killed_daemons_survive_and_a_panic_ends_the_run():
    """With only oom_score_adj=-1000 tasks left and memory still short, the kernel has
    nothing to kill: "Out of memory and no killable processes" panics."""
    machine = Machine({**DEFAULTS, "swap": False, "leak_rate": 50}, random.Random(1))
    for w in machine.workloads:
        if w.name != "system":
            w.oom_score_adj = -1000
    while not machine.done:
        machine.step()
    assert machine.panicked and machine.kills == []
    assert machine.now < 100


# --- determinism, the demo contract, frames --------------------------------------------


def test_same_seed_same_frames_other_seed_other_details():
    def frames(seed: int) -> list[dict]:
        runner = Runner(DEMO, "no-swap", seed=seed)
        out = []
        for _ in range(6):
            runner.step(250)
            out.append(runner.snapshot())
        return out

    assert frames(7) == frames(7)
    assert frames(7)[-1]["svg"] != frames(8)[-1]["svg"]


def test_declaration():
    assert DEMO.name == "memory_pressure"
    assert DEMO.talk == "srecon19apac/linux-memory-management"
    assert DEMO.step_label == "100 ms"
    assert {s.name for s in DEMO.scenarios} == {"with-swap", "no-swap", "memory-high", "oomd"}
    assert all(s.caption for s in DEMO.scenarios)
    assert DEMO.param("swap").kind == "bool"
    assert DEMO.default_scenario.params["swap"] is True


def test_turning_swap_off_changes_the_outcome():
    """What the browser test does on the talk page, here in CPython."""
    with_swap = Runner(DEMO)
    without = Runner(DEMO, params={"swap": False})
    with_swap.step(1500)
    without.step(1500)
    assert dict(with_swap.snapshot()["metrics"])["Outcome"] == "no kill yet"
    outcome = dict(without.snapshot()["metrics"])["Outcome"]
    assert outcome.startswith("OOM kill at ") and outcome.endswith(" s (leaky)")
    assert dict(without.snapshot()["metrics"])["Kills"] == "1"


@pytest.mark.parametrize("scenario", [s.name for s in DEMO.scenarios])
def test_scenario_preview_is_a_well_formed_accessible_svg(scenario):
    runner = Runner(DEMO, scenario)
    runner.step(DEMO.scenario(scenario).preview_steps)
    snapshot = runner.snapshot()
    svg = snapshot["svg"]
    assert 0 < len(svg) < 30_000
    root = ET.fromstring(svg)
    assert root.tag == SVG_NS + "svg"
    assert root.get("role") == "img"
    assert root.get("viewBox") == "0 0 640 420"
    assert root.find(SVG_NS + "title") is not None
    for element in root.iter():
        assert element.tag not in (SVG_NS + "script", SVG_NS + "foreignObject")
        assert "id" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)
        if element.tag == SVG_NS + "text":
            assert element.get("fill") == "currentColor"
    labels = [label for label, _ in snapshot["metrics"]]
    assert "Kills" in labels and "Outcome" in labels
    assert snapshot["status"]


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("with-swap", "no kill yet"),
        ("no-swap", "OOM kill at 13"),
        ("memory-high", "no kill yet"),
        ("oomd", "oomd kill at "),
    ],
)
def test_scenario_outcomes_match_their_captions(scenario, expected):
    runner = Runner(DEMO, scenario)
    runner.step(DEMO.scenario(scenario).preview_steps)
    snapshot = runner.snapshot()
    outcome = dict(snapshot["metrics"])["Outcome"]
    assert outcome.startswith(expected)
    kills = int(dict(snapshot["metrics"])["Kills"])
    assert sum("killed" in line for line in snapshot["log"]) == kills


def test_history_stays_bounded():
    machine = run({"swap": False}, 1200)
    assert len(machine.history) <= machine.history.max_points
    assert machine.done


def test_first_frame_and_live_changes_render():
    """The frame before any step, and after live changes of every kind, is valid SVG."""
    runner = Runner(DEMO)
    ET.fromstring(runner.snapshot()["svg"])
    for name, value in [
        ("killer", "oomd"),
        ("swappiness", 200),
        ("leak_rate", 30),
        ("leaky_memory_high", 512),
        ("web_memory_low", 0),
        ("oomd_limit", 40),
    ]:
        assert runner.set_param(name, value) is True
        runner.step(50)
        ET.fromstring(runner.snapshot()["svg"])
    assert runner.set_param("swap", False) is False  # swapoff restarts the run
    assert any("vm.swappiness set to 200" in line for line in runner.snapshot()["log"])


def test_accent_colours_read_on_light_and_dark_backgrounds():
    """WCAG contrast of at least 3:1 against white and the dark theme's #1e2129."""
    from demos.memory_pressure import view

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: str, b: str) -> float:
        la, lb = sorted((luminance(a), luminance(b)), reverse=True)
        return (la + 0.05) / (lb + 0.05)

    accents = [view.ANON, view.FILE, view.CACHE, view.SWAP, view.SOME, view.FULL, view.WEB]
    for colour in [*accents, view.LEAKY, view.FREE]:
        assert contrast(colour, "#ffffff") >= 3, colour
        assert contrast(colour, "#1e2129") >= 3, colour
