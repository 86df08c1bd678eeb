"""Memory pressure, swap and the OOM killer: a machine with a leaky job, the kernel's
pressure stall information, and two ways to kill (the kernel's and systemd-oomd's).

``psi`` is the kernel's PSI arithmetic, exact; ``core`` is the teaching model of
reclaim; ``view`` draws it. See docs/demos/memory_pressure.md.
"""

from __future__ import annotations

from demokit import (
    Action,
    BoolParam,
    ChoiceParam,
    Demo,
    IntParam,
    Notable,
    Scenario,
)

from .core import DEFAULTS, Machine
from .view import render

__all__ = ["DEMO"]

_LIMIT_HELP = "MiB, 0 = max"


def _limit_param(name: str, label: str, default: int = 0) -> IntParam:
    return IntParam(name, label, default, 0, 8192, step=64, unit=_LIMIT_HELP, live=True)


PARAMS = (
    BoolParam("swap", "Swap", DEFAULTS["swap"]),
    IntParam("swap_mib", "Swap size", DEFAULTS["swap_mib"], 128, 4096, step=128, unit="MiB"),
    IntParam("ram_mib", "RAM", DEFAULTS["ram_mib"], 2048, 8192, step=256, unit="MiB"),
    IntParam("swappiness", "vm.swappiness", DEFAULTS["swappiness"], 0, 200, step=10, live=True),
    IntParam(
        "leak_rate", "Leak rate of leaky", DEFAULTS["leak_rate"], 0, 50, unit="MiB/s", live=True
    ),
    ChoiceParam(
        "killer",
        "Who kills",
        DEFAULTS["killer"],
        (("kernel", "kernel OOM killer only"), ("oomd", "systemd-oomd, then the kernel")),
        live=True,
    ),
    IntParam(
        "oomd_limit", "oomd pressure limit", DEFAULTS["oomd_limit"], 1, 99, unit="%", live=True
    ),
    IntParam(
        "oomd_duration", "oomd duration", DEFAULTS["oomd_duration"], 1, 120, unit="s", live=True
    ),
    _limit_param("leaky_memory_high", "memory.high of leaky"),
    _limit_param("leaky_memory_max", "memory.max of leaky"),
    IntParam(
        "web_memory_low",
        "memory.low of web",
        DEFAULTS["web_memory_low"],
        0,
        8192,
        step=64,
        unit="MiB",
        live=True,
    ),
    _limit_param("web_memory_high", "memory.high of web"),
    _limit_param("web_memory_max", "memory.max of web"),
)

SCENARIOS = (
    Scenario(
        name="with-swap",
        title="With swap: graceful",
        caption=(
            "Page cache fills free memory, then the leak squeezes it. With swap the kernel "
            "can move the leaked pages, which nobody touches, out to disk: swap fills "
            "steadily, the leaky job and the system daemons wait on a few refaults (some "
            "pressure), the protected web service never stalls (full stays near zero) and "
            "nothing is killed while swap lasts, more than two minutes here."
        ),
        params={"swap": True},
        preview_steps=1400,
    ),
    Scenario(
        name="no-swap",
        title="No swap: thrashing, then a late OOM kill",
        caption=(
            "Without swap only file pages can be reclaimed. The page cache goes first, then "
            "the code and hot data of leaky and the daemons, then web's protected working "
            "set: refaults climb, some and full pressure rise to 90% and 70% while free "
            "memory looks unchanged. The kernel OOM killer acts only when the leak has "
            "eaten everything, after more than a minute of thrashing."
        ),
        params={"swap": False},
        preview_steps=1500,
    ),
    Scenario(
        name="memory-high",
        title="memory.high: throttled, never killed",
        caption=(
            "leaky gets memory.high = 384 MiB and there is no swap. Above the limit the "
            "kernel reclaims leaky's own pages and then puts it to sleep in proportion to "
            "the overage squared: leaky crawls at almost 100% pressure, but it is never "
            "killed, web does not notice, and system-wide full pressure stays at zero. "
            "Switch on systemd-oomd to see why memory.high wants a monitor next to it."
        ),
        params={"swap": False, "leaky_memory_high": 384},
        preview_steps=1200,
    ),
    Scenario(
        name="oomd",
        title="systemd-oomd acts first",
        caption=(
            "The no-swap machine again, with systemd-oomd watching each workload's "
            "memory.pressure. leaky's full avg10 crosses 60% soon after its code starts "
            "being evicted, stays above it for 30 s, and oomd kills leaky about 45 s "
            "before the kernel OOM killer would have acted: web stalls for some 15 s "
            "instead of a minute."
        ),
        params={"swap": False, "killer": "oomd"},
        preview_steps=1200,
    ),
)

DEMO = Demo(
    name="memory_pressure",
    title="Memory pressure, swap and the OOM killer",
    summary=(
        "A leaky job squeezes a machine: watch page cache, swap, refaults and the kernel's "
        "pressure stall information, and see who kills what, and when."
    ),
    talk="srecon19apac/linux-memory-management",
    params=PARAMS,
    actions=(Action("restart", "Restart killed jobs"),),
    scenarios=SCENARIOS,
    create=Machine,
    render=render,
    seed=1,
    steps_per_second=100.0,
    step_label="100 ms",
    time_unit="s",
    version=2,  # 2: the picture's PSI lines were stale when drawn from a cached SVG
    notable=(Notable("kill", "a kill"), Notable("panic", "kernel panic")),
)
