"""A teaching model of memory on one Linux machine, in simulated time.

What is exact and what is a model:

* The pressure numbers are kernel-exact *given the stall time*: every workload's stall
  time goes through :mod:`.psi`, which does the kernel's fixed-point arithmetic.
* How much a workload stalls is a model. Reclaim, refaults, swap, throttling and the
  two killers follow the kernel's and systemd-oomd's published rules in spirit, at the
  granularity of MiB and 100 ms ticks, with made-up but plausible costs.

The machine has RAM, optional swap and three workloads, each in its own cgroup:

``web``     a latency-sensitive service, protected by memory.low, that also streams
            files (so page cache fills whatever memory is free);
``leaky``   a batch job whose memory grows at the rate the reader sets and is never
            touched again (a leak);
``system``  small daemons, mostly idle, ``oom_score_adj=-1000`` (never OOM-killed).

Each workload has anonymous memory (a hot part it touches all the time and a cold part
it does not), a file-backed working set (code, hot data) and cold page cache. Reclaim
takes cold page cache first; then, if swap has room, it splits the rest between
anonymous pages (cold first) and the file working set, weighted by swappiness and by
the recent cost of each; without swap only file pages can go. A working-set page that
was evicted and is touched again is a refault: the task waits for the disk, which is
stall time, which is what PSI measures.

Sources: Documentation/admin-guide/cgroup-v2.rst (memory.low/high/max/swap.max),
mm/vmscan.c (get_scan_count: swappiness and cost balance), mm/memcontrol.c
(calculate_high_delay), mm/oom_kill.c (oom_badness), systemd's src/oom/oomd-manager.c
and oomd-util.c (the pressure rule, 1 s polling, 15 s post-action delay), oomd.conf(5).

Everything is deterministic: simulated time only, and every random draw comes from the
``random.Random`` passed in.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from demokit import total

from .oomd import PressureRule, oomd_loadavg
from .psi import FIXED_1, PSI, format_avg

__all__ = [
    "DEFAULTS",
    "History",
    "Kill",
    "Machine",
    "TICK_NS",
    "TICK_S",
    "Workload",
    "oomd_loadavg",
]

TICK_NS = 100_000_000
"""One simulation step: 100 ms of simulated time."""
TICK_S = TICK_NS / 1_000_000_000
TICKS_PER_SECOND = 10
PAGES_PER_MIB = 256  # 4 KiB pages
EPS = 1e-9

# Costs of the teaching model (seconds per MiB). Random 4 KiB reads at ~10k IOPS take
# about 25 ms per MiB; scanning and freeing clean pages is cheap CPU work; writing to
# swap is batched, so cheaper than reading back at random.
FAULT_S_PER_MIB = 0.025
RECLAIM_S_PER_MIB = 0.001
SWAPOUT_S_PER_MIB = 0.004
# What kswapd frees per tick in the background before allocating tasks must reclaim
# themselves (direct reclaim, which is stall time).
KSWAPD_MIB_PER_TICK = 20.0
# Recent reclaim costs fade with a time constant of about 2 s (mm/vmscan.c halves them
# once they grow large; a steady decay is close enough here).
COST_DECAY = 0.95

OOMD_INTERVAL_TICKS = 10  # MEM_PRESSURE_INTERVAL_USEC: poll every second
OOMD_POST_ACTION_DELAY_S = 15.0  # POST_ACTION_DELAY_USEC
OOMD_RECLAIM_WINDOW_S = 30.0  # RECLAIM_DURATION_USEC: only kill with recent reclaim
OOM_SCORE_ADJ_MIN = -1000
HORIZON_S = 1200.0
"""A run ends after twenty simulated minutes (12,000 steps: long enough to scrub)."""

DEFAULTS = {
    "ram_mib": 2048,
    "swap": True,
    "swap_mib": 1024,
    "swappiness": 60,
    "leak_rate": 10,
    "killer": "kernel",
    "oomd_limit": 60,
    "oomd_duration": 30,
    "web_memory_low": 1024,
    "web_memory_high": 0,
    "web_memory_max": 0,
    "leaky_memory_high": 0,
    "leaky_memory_max": 0,
}
"""Parameter defaults; a limit of 0 means "max" (no limit), as an unset cgroup file."""


def _limit(value: float) -> float:
    """A cgroup limit from a parameter: 0 stands for "max"."""
    return math.inf if not value else float(value)


@dataclass
class Workload:
    """One workload in its own cgroup. Sizes in MiB, rates in MiB/s."""

    name: str
    anon_hot: float
    anon_cold: float
    file_hot: float
    touch_anon: float
    touch_file: float
    cache_rate: float = 0.0
    leak_rate: float = 0.0
    busy: bool = True
    """Non-idle most of the time; only busy workloads count towards system "full"."""
    oom_score_adj: int = 0
    oomd_managed: bool = True
    """Watched by systemd-oomd (as if ManagedOOMMemoryPressure=kill were set on its slice)."""
    memory_low: float = 0.0
    memory_high: float = math.inf
    memory_max: float = math.inf
    swap_max: float = math.inf
    # State.
    anon_hot_swapped: float = 0.0
    anon_cold_swapped: float = 0.0
    file_hot_evicted: float = 0.0
    cache: float = 0.0
    alive: bool = True
    stall: float = 0.0
    """Share of the last tick this workload spent stalled on memory."""
    progress: float = 1.0
    """Share of the last tick it did useful work."""
    direct_reclaim_s: float = 0.0
    pgscan: float = 0.0
    """Pages scanned by reclaim in this cgroup, cumulative (memory.stat pgscan)."""
    refaulted: float = 0.0
    """MiB read back after eviction (file refaults and swap-ins), cumulative."""
    psi: PSI = field(default_factory=PSI)
    # Per-tick demand.
    want_file: float = 0.0
    want_swapin: float = 0.0
    want_cache: float = 0.0
    want_leak: float = 0.0
    # systemd-oomd's view of this cgroup.
    oomd_rule: PressureRule = field(default_factory=PressureRule)
    oomd_last_pgscan: float = 0.0
    oomd_last_reclaim: float = -math.inf
    initial: dict = field(default_factory=dict, repr=False)

    @property
    def anon_resident(self) -> float:
        """Anonymous memory in RAM."""
        return self.anon_hot + self.anon_cold - self.anon_hot_swapped - self.anon_cold_swapped

    @property
    def file_resident(self) -> float:
        """File-backed working set in RAM (mapped code and hot data)."""
        return self.file_hot - self.file_hot_evicted

    @property
    def swap(self) -> float:
        """Swap in use by this cgroup (memory.swap.current)."""
        return self.anon_hot_swapped + self.anon_cold_swapped

    @property
    def usage(self) -> float:
        """memory.current: anonymous plus file pages in RAM, page cache included."""
        return self.anon_resident + self.file_resident + self.cache

    @property
    def rss(self) -> float:
        """Resident set size: anonymous plus mapped file pages (read() cache is not RSS)."""
        return self.anon_resident + self.file_resident

    @property
    def page_tables(self) -> float:
        """Page tables: 8 bytes per 4 KiB page mapped, so 1/512 of the mapping."""
        return (self.anon_hot + self.anon_cold + self.file_hot) / 512

    @property
    def demand(self) -> float:
        """New memory this workload asks for in the current tick."""
        return self.want_file + self.want_swapin + self.want_cache + self.want_leak

    def badness(self, totalpages: int) -> int | None:
        """oom_badness: rss + swap + page tables in pages, shifted by oom_score_adj in
        thousandths of all memory; None for oom_score_adj=-1000 (never killed)."""
        if self.oom_score_adj == OOM_SCORE_ADJ_MIN:
            return None
        points = (
            int(self.rss * PAGES_PER_MIB)
            + int(self.swap * PAGES_PER_MIB)
            + int(self.page_tables * PAGES_PER_MIB)
        )
        return points + self.oom_score_adj * (totalpages // 1000)


def _workloads(params: dict) -> list[Workload]:
    web = Workload(
        name="web",
        anon_hot=300,
        anon_cold=100,
        file_hot=600,
        touch_anon=300,
        touch_file=300,
        cache_rate=20,
        memory_low=float(params["web_memory_low"]),
        memory_high=_limit(params["web_memory_high"]),
        memory_max=_limit(params["web_memory_max"]),
    )
    leaky = Workload(
        name="leaky",
        anon_hot=60,
        anon_cold=20,
        file_hot=250,
        touch_anon=200,
        touch_file=300,
        leak_rate=float(params["leak_rate"]),
        memory_high=_limit(params["leaky_memory_high"]),
        memory_max=_limit(params["leaky_memory_max"]),
    )
    system = Workload(
        name="system",
        anon_hot=60,
        anon_cold=20,
        file_hot=120,
        touch_anon=20,
        touch_file=20,
        busy=False,
        oom_score_adj=OOM_SCORE_ADJ_MIN,
        oomd_managed=False,
    )
    for w in (web, leaky, system):
        w.initial = {"anon_hot": w.anon_hot, "anon_cold": w.anon_cold}
    return [web, leaky, system]


@dataclass(frozen=True)
class Kill:
    """A kill: when, by whom ("oom", "memcg", "oomd"), whom, and why in words."""

    t: float
    killer: str
    victim: str
    reason: str


class History:
    """Bounded time series for the charts: one sample per ``every`` ticks, halved in
    density whenever it grows past ``max_points`` so a view never draws more."""

    SERIES = (
        "t",
        "kernel",
        "anon",
        "file",
        "cache",
        "free",
        "swap",
        "refault",
        "some10",
        "some60",
        "some300",
        "full10",
        "full60",
        "full300",
        "watch",
        "rss_web",
        "rss_leaky",
    )

    def __init__(self, max_points: int = 160) -> None:
        self.max_points = max_points - max_points % 2
        self.every = TICKS_PER_SECOND
        self.data: dict[str, list[float]] = {name: [] for name in self.SERIES}
        self.version = 0

    def __len__(self) -> int:
        """Number of samples kept."""
        return len(self.data["t"])

    def add(self, row: dict[str, float]) -> None:
        """Append one sample (a value for every series)."""
        for name in self.SERIES:
            self.data[name].append(row[name])
        if len(self) > self.max_points:
            # Keep every other sample; with an even cap the newest one survives.
            for name in self.SERIES:
                self.data[name] = self.data[name][::2]
            self.every *= 2
        self.version += 1


class Machine:
    """The simulated machine. ``step()`` advances 100 ms; ``now`` is in seconds."""

    def __init__(self, params: dict, rng: random.Random) -> None:
        values = {**DEFAULTS, **params}
        self.rng = rng
        self.ram = float(values["ram_mib"])
        self.kernel = self.ram / 16  # kernel text, slab and other unreclaimable memory
        self.swap_total = float(values["swap_mib"]) if values["swap"] else 0.0
        self.swap_used = 0.0
        self.swappiness = int(values["swappiness"])
        self.killer = values["killer"]
        self.oomd_limit_pct = int(values["oomd_limit"])
        self.oomd_duration_s = float(values["oomd_duration"])
        # Zone watermarks, scaled with memory: kswapd wakes below "low", works until
        # "high", and below "min" only direct reclaim (or the OOM killer) helps.
        self.wm_min = self.ram / 128
        self.wm_low = self.wm_min * 1.5
        self.wm_high = self.wm_min * 2
        self.workloads = _workloads(values)
        for w in self.workloads:
            w.oomd_rule = PressureRule(self.oomd_limit_pct, self.oomd_duration_s)
        self.by_name = {w.name: w for w in self.workloads}
        self.psi = PSI()
        self.anon_cost = 0.0
        self.file_cost = 0.0
        self.ticks = 0
        self.kills: list[Kill] = []
        self.log: list[tuple[float, str, str]] = []
        """(time, kind, text) events in words; kind is "kill" or "note"."""
        self.marks: list[tuple[float, str, str]] = []
        """Notable events for a timeline: (time, name, detail)."""
        self.panicked = False
        self.oomd_post_action_start: float | None = None
        self.history = History()
        self.refault_rate = 0.0
        """MiB/s read back after eviction, over the last second."""
        self._refault_window: list[float] = []
        self._refault_since_sample = 0.0
        self._ticks_since_sample = 0
        self._jitter = {w.name: 1.0 for w in self.workloads}
        self._sample()

    # --- reading the state -------------------------------------------------------------

    @property
    def now(self) -> float:
        """Simulated seconds since boot."""
        return self.ticks / TICKS_PER_SECOND

    @property
    def now_ns(self) -> int:
        """Simulated nanoseconds since boot, the clock PSI runs on."""
        return self.ticks * TICK_NS

    @property
    def done(self) -> bool:
        """True after a kernel panic or at the end of the ten-minute horizon."""
        return self.panicked or self.now >= HORIZON_S

    @property
    def alive(self) -> list[Workload]:
        """Workloads not killed (yet)."""
        return [w for w in self.workloads if w.alive]

    @property
    def free(self) -> float:
        """MemFree: RAM nobody uses, not even the page cache."""
        used = self.kernel
        for w in self.workloads:
            if w.alive:
                used += w.usage
        return self.ram - used

    @property
    def totalpages(self) -> int:
        """RAM plus swap in pages, the scale of oom_score_adj."""
        return int((self.ram + self.swap_total) * PAGES_PER_MIB)

    def first_kill(self) -> Kill | None:
        """The first kill of the run, if any."""
        return self.kills[0] if self.kills else None

    # --- parameters and actions -------------------------------------------------------

    def set_param(self, name: str, value) -> None:
        """Apply a live parameter change, as writing a sysctl or cgroup file would."""
        if name == "swappiness":
            self.swappiness = int(value)
            self._note(f"vm.swappiness set to {self.swappiness}")
        elif name == "leak_rate":
            self.by_name["leaky"].leak_rate = float(value)
            self._note(f"leaky now leaks {float(value):g} MiB/s")
        elif name == "killer":
            self.killer = value
            self._note("systemd-oomd started" if value == "oomd" else "systemd-oomd stopped")
            for w in self.workloads:
                w.oomd_rule.reset()
        elif name == "oomd_limit":
            self.oomd_limit_pct = int(value)
            for w in self.workloads:
                w.oomd_rule.limit_pct = self.oomd_limit_pct
        elif name == "oomd_duration":
            self.oomd_duration_s = float(value)
            for w in self.workloads:
                w.oomd_rule.duration_s = self.oomd_duration_s
        elif name.endswith(("_memory_low", "_memory_high", "_memory_max")):
            group, _, knob = name.partition("_memory_")
            w = self.by_name[group]
            if knob == "low":
                w.memory_low = float(value)
            else:
                setattr(w, f"memory_{knob}", _limit(value))
            shown = f"{int(value)} MiB" if value or knob == "low" else "max"
            self._note(f"memory.{knob} of {group} set to {shown}")
        else:
            raise ValueError(f"parameter {name!r} cannot change while running")

    def act(self, action: str, arg: str | None) -> None:
        """The reader's "restart" action: start killed workloads again."""
        if action != "restart":
            raise ValueError(f"unknown action {action!r}; allowed: restart")
        self.restart_killed()

    def restart_killed(self) -> None:
        """Start every killed workload again from its initial size (systemd Restart=)."""
        for w in self.workloads:
            if w.alive:
                continue
            w.alive = True
            w.anon_hot = w.initial["anon_hot"]
            w.anon_cold = w.initial["anon_cold"]
            # It starts fully resident; if that overcommits RAM, the next step's reclaim
            # (or OOM killer) sorts it out, as after any burst of allocations.
            w.anon_hot_swapped = w.anon_cold_swapped = w.file_hot_evicted = 0.0
            w.cache = 0.0
            w.stall, w.progress = 0.0, 1.0
            w.psi = PSI(start_ns=self.now_ns)
            w.oomd_rule.reset()
            self._note(f"{w.name} restarted")

    # --- one step --------------------------------------------------------------------

    def step(self) -> None:
        """Advance 100 ms: demand, limits, reclaim, the killers, stall accounting."""
        if self.done:
            return
        self.ticks += 1
        if self.ticks % TICKS_PER_SECOND == 1:
            # Workloads are not metronomes: their access rates wander by a few percent
            # from one second to the next.
            for w in self.workloads:
                self._jitter[w.name] = 1.0 + self.rng.uniform(-0.08, 0.08)
        self.anon_cost *= COST_DECAY
        self.file_cost *= COST_DECAY
        for w in self.alive:
            self._plan(w)
        for w in self.alive:
            self._enforce_limits(w)
        self._global_reclaim()
        refaulted = 0.0
        for w in self.alive:
            refaulted += self._grant(w)
        self._account_stall()
        if self.killer == "oomd" and self.ticks % OOMD_INTERVAL_TICKS == 0:
            self._oomd_poll()
        self._refault_window.append(refaulted)
        if len(self._refault_window) > TICKS_PER_SECOND:
            self._refault_window.pop(0)
        self.refault_rate = total(self._refault_window) / (len(self._refault_window) * TICK_S)
        self._refault_since_sample += refaulted
        self._ticks_since_sample += 1
        if self.ticks % self.history.every == 0:
            self._sample()

    def _plan(self, w: Workload) -> None:
        """How long ``w`` stalls this tick and how much memory it asks for.

        A task that needs ``k`` seconds of waiting per second of work runs a share
        1/(1+k) of the time and stalls k/(1+k). Waiting comes from refaults (evicted
        working-set pages touched again), from reclaiming memory itself, and from the
        memory.high throttle.
        """
        jitter = self._jitter[w.name]
        miss_file = w.file_hot_evicted / w.file_hot if w.file_hot else 0.0
        miss_anon = w.anon_hot_swapped / w.anon_hot if w.anon_hot else 0.0
        k_fault = (w.touch_file * miss_file + w.touch_anon * miss_anon) * jitter * FAULT_S_PER_MIB
        k_reclaim = w.direct_reclaim_s / TICK_S
        w.direct_reclaim_s = 0.0
        k_high = 0.0
        if w.usage > w.memory_high:
            # mm/memcontrol.c calculate_high_delay: the sleep owed per 64-page charge
            # batch is 64 * overage**2 seconds (overage as a share of memory.high; 1 %
            # over costs 6 ms, 10 % over 639 ms), at most 2 s. Per MiB that is
            # 256 * overage**2 seconds, at most 8, times what the task wants to charge.
            overage = (w.usage - w.memory_high) / w.memory_high
            charge_rate = (
                w.leak_rate
                + (w.cache_rate + w.touch_file * miss_file + w.touch_anon * miss_anon) * jitter
            )
            k_high = charge_rate * min(256 * overage * overage, 8.0)
        k = k_fault + k_reclaim + k_high
        w.stall = k / (1 + k)
        w.progress = 1 - w.stall
        run = w.progress * TICK_S * jitter
        w.want_file = min(w.file_hot_evicted, w.touch_file * miss_file * run)
        w.want_swapin = min(w.anon_hot_swapped, w.touch_anon * miss_anon * run)
        w.want_cache = w.cache_rate * run
        # The leak is modelled as allocation driven from outside the faulting threads
        # (say, requests that keep arriving), so refaults do not slow it; the throttle
        # and direct reclaim do, because they put the allocating task itself to sleep.
        w.want_leak = w.leak_rate * TICK_S / (1 + k_high + k_reclaim)

    def _enforce_limits(self, w: Workload) -> None:
        """memory.max and memory.high: reclaim inside the cgroup first; above memory.max
        the cgroup's OOM killer acts, above memory.high the task is only throttled."""
        if not w.alive:
            return
        over_max = w.usage + w.demand - w.memory_max
        if over_max > EPS:
            got, swapped = self._reclaim(over_max, [w], protect=False)
            w.direct_reclaim_s += got * RECLAIM_S_PER_MIB + swapped * SWAPOUT_S_PER_MIB
            if over_max - got > EPS:
                if w.badness(self.totalpages) is None:
                    # Nothing in the cgroup may be killed: the charge fails and retries.
                    w.want_leak = w.want_cache = 0.0
                else:
                    self._kill(
                        w,
                        "memcg",
                        f"memory.max of {w.name} ({w.memory_max:.0f} MiB) reached and reclaim "
                        f"inside the cgroup could not free {over_max - got:.0f} MiB",
                    )
                return
        over_high = w.usage + w.demand - w.memory_high
        if over_high > EPS:
            got, swapped = self._reclaim(over_high, [w], protect=False)
            w.direct_reclaim_s += got * RECLAIM_S_PER_MIB + swapped * SWAPOUT_S_PER_MIB

    def _global_reclaim(self) -> None:
        """Keep free memory above the watermarks; when even reclaim cannot cover the
        demand, the kernel OOM killer picks a victim by badness."""
        demanders = self.alive
        need = total(w.demand for w in demanders)
        goal = need + self.wm_high - self.free
        if goal > EPS:
            got, swapped = self._reclaim(goal, self.alive, protect=True)
            direct = max(0.0, got - KSWAPD_MIB_PER_TICK)
            if direct > EPS and need > EPS:
                # Allocating tasks reclaim the part kswapd could not, in proportion to
                # what they asked for.
                share_swapped = swapped / got if got else 0.0
                cost = direct * (RECLAIM_S_PER_MIB + share_swapped * SWAPOUT_S_PER_MIB)
                for w in demanders:
                    w.direct_reclaim_s += cost * w.demand / need
        while not self.panicked:
            alive = self.alive
            need = total(w.demand for w in alive)
            if self.free - need >= self.wm_min - EPS or need <= EPS:
                return
            victim = self._oom_victim()
            if victim is None:
                self.panicked = True
                self._note("Kernel panic - not syncing: out of memory and no killable processes")
                self.marks.append((self.now, "panic", "out of memory and nothing to kill"))
                return
            self._kill(
                victim,
                "oom",
                f"an allocation failed after reclaim found nothing left; highest badness "
                f"{victim.badness(self.totalpages)} pages (rss {victim.rss:.0f} MiB + swap "
                f"{victim.swap:.0f} MiB + page tables {victim.page_tables:.1f} MiB, "
                f"oom_score_adj {victim.oom_score_adj})",
            )

    def _oom_victim(self) -> Workload | None:
        """select_bad_process: the highest badness; later tasks win ties, as in the kernel."""
        chosen, chosen_points = None, None
        totalpages = self.totalpages
        for w in self.alive:
            points = w.badness(totalpages)
            if points is None:
                continue
            if chosen_points is None or points >= chosen_points:
                chosen, chosen_points = w, points
        return chosen

    def _grant(self, w: Workload) -> float:
        """Give ``w`` what it asked for; returns the MiB it read back after eviction."""
        if not w.alive:
            return 0.0
        w.file_hot_evicted -= w.want_file
        w.anon_hot_swapped -= w.want_swapin
        self.swap_used -= w.want_swapin
        w.cache += w.want_cache
        w.anon_cold += w.want_leak
        back = w.want_file + w.want_swapin
        w.refaulted += back
        self.file_cost += w.want_file
        self.anon_cost += w.want_swapin
        return back

    # --- reclaim ---------------------------------------------------------------------

    def _anon_share(self) -> float:
        """The share of reclaim aimed at anonymous pages once the cold cache is gone.

        As in get_scan_count (mm/vmscan.c): swappiness weighs anon against file
        (swappiness : 200 - swappiness), and each side's weight is divided by its recent
        cost (refaults and swap I/O), so the list that hurts more to reclaim is spared.
        """
        if self.swap_total - self.swap_used <= EPS or self.swappiness == 0:
            return 0.0
        total = self.anon_cost + self.file_cost
        anon_cost = total + self.anon_cost
        file_cost = total + self.file_cost
        total_cost = anon_cost + file_cost
        ap = self.swappiness * (total_cost + 1) / (anon_cost + 1)
        fp = (200 - self.swappiness) * (total_cost + 1) / (file_cost + 1)
        return ap / (ap + fp)

    def _available(self, w: Workload, pool: str) -> float:
        if pool == "cache":
            return w.cache
        if pool == "file":
            return w.file_hot - w.file_hot_evicted
        room = min(w.swap_max - w.swap, self.swap_total - self.swap_used)
        if room <= EPS:
            return 0.0
        if pool == "anon_cold":
            return min(room, w.anon_cold - w.anon_cold_swapped)
        return min(room, w.anon_hot - w.anon_hot_swapped)

    def _take(self, pool: str, amount: float, members: list[Workload], budget) -> float:
        """Reclaim up to ``amount`` MiB from one kind of page, spread over ``members`` in
        proportion to what each has (as reclaim scans each cgroup's LRU by its size)."""
        if amount <= EPS:
            return 0.0
        avail = []
        total = 0.0
        for w in members:
            a = self._available(w, pool)
            if budget is not None:
                a = min(a, budget[w.name])
            a = max(a, 0.0)
            avail.append(a)
            total += a
        if pool.startswith("anon"):
            amount = min(amount, self.swap_total - self.swap_used)
        if total <= EPS or amount <= EPS:
            return 0.0
        share = min(1.0, amount / total)
        got = 0.0
        for w, a in zip(members, avail, strict=True):
            x = a * share
            if x <= EPS:
                continue
            if pool == "cache":
                w.cache -= x
                scanned = x
            elif pool == "file":
                w.file_hot_evicted += x
                # Referenced pages get a second trip round the LRU before they go; the
                # kernel counts those rotations as a cost of reclaiming this list.
                scanned = 2 * x
                self.file_cost += x
            elif pool == "anon_cold":
                w.anon_cold_swapped += x
                self.swap_used += x
                scanned = x
            else:
                w.anon_hot_swapped += x
                self.swap_used += x
                scanned = 2 * x
                self.anon_cost += x
            w.pgscan += scanned * PAGES_PER_MIB
            if budget is not None:
                budget[w.name] -= x
            got += x
        return got

    def _take_anon(self, amount: float, members: list[Workload], budget) -> float:
        got = self._take("anon_cold", amount, members, budget)
        got += self._take("anon_hot", amount - got, members, budget)
        self.anon_cost += got  # swap-out is I/O, which counts as cost
        return got

    def _reclaim(self, goal: float, members: list[Workload], protect: bool) -> tuple[float, float]:
        """Free ``goal`` MiB from ``members``; returns (freed, of which swapped out).

        Cold page cache goes first. Then anon and the file working set share the rest by
        :meth:`_anon_share`; what one side cannot give, the other is asked for. With
        ``protect``, cgroups keep their memory.low in a first pass, which is only
        breached when unprotected memory is not enough (cgroup-v2.rst, memory.low).
        """
        got = 0.0
        swapped = 0.0
        for respect_low in (True, False) if protect else (False,):
            need = goal - got
            if need <= EPS:
                break
            budget = None
            if respect_low:
                budget = {w.name: max(0.0, w.usage - w.memory_low) for w in members}
            got += self._take("cache", need, members, budget)
            need = goal - got
            if need <= EPS:
                break
            anon_target = need * self._anon_share()
            a = self._take_anon(anon_target, members, budget)
            f = self._take("file", need - a, members, budget)
            short = need - a - f
            if short > EPS:
                a += self._take_anon(short, members, budget)
            got += a + f
            swapped += a
        return got, swapped

    # --- killing ---------------------------------------------------------------------

    def _kill(self, w: Workload, killer: str, reason: str) -> None:
        """SIGKILL every task of ``w``: its memory and swap are freed at once."""
        w.alive = False
        self.swap_used -= w.swap
        w.anon_hot_swapped = w.anon_cold_swapped = 0.0
        w.file_hot_evicted = w.file_hot
        w.cache = 0.0
        w.anon_cold = w.anon_hot = 0.0
        w.stall, w.progress = 0.0, 0.0
        w.want_file = w.want_swapin = w.want_cache = w.want_leak = 0.0
        kill = Kill(self.now, killer, w.name, reason)
        self.kills.append(kill)
        who = {
            "oom": "kernel OOM killer",
            "memcg": "OOM killer (memory.max)",
            "oomd": "systemd-oomd",
        }[killer]
        self._note(f"{who} killed {w.name}: {reason}", kind="kill")
        self.marks.append((self.now, "kill", f"{who} killed {w.name}"))

    def _oomd_poll(self) -> None:
        """One poll of systemd-oomd (monitor_memory_pressure_contexts_handler).

        For each watched cgroup: if its full avg10, read as text and parsed as systemd
        does, is strictly above the limit, remember since when; once that lasted at
        least the duration, and there was reclaim in the last 30 s, and no kill in the
        last 15 s, kill the candidate with the highest pgscan rate. One kill per poll.
        """
        now = self.now
        targets = []
        for w in self.alive:
            if not w.oomd_managed:
                continue
            if w.pgscan > w.oomd_last_pgscan:
                w.oomd_last_reclaim = now
            if w.oomd_rule.above(now, format_avg(w.psi.full.avg10)):
                targets.append(w)
        rates = {w.name: w.pgscan - w.oomd_last_pgscan for w in self.alive}
        for w in self.alive:
            w.oomd_last_pgscan = w.pgscan
        if self.oomd_post_action_start is not None:
            if now < self.oomd_post_action_start + OOMD_POST_ACTION_DELAY_S:
                return
            self.oomd_post_action_start = None
        for target in targets:
            if now - target.oomd_last_reclaim > OOMD_RECLAIM_WINDOW_S:
                continue
            # Each watched slice holds one workload here, so the candidate with the
            # highest pgscan rate under the slice is that workload.
            candidates = sorted([target], key=lambda c: (-rates[c.name], -c.usage))
            victim = candidates[0]
            pressure = format_avg(target.psi.full.avg10)
            self.oomd_post_action_start = now
            self._kill(
                victim,
                "oomd",
                f"memory pressure of {target.name} {pressure}% > {self.oomd_limit_pct}.00% "
                f"for > {self.oomd_duration_s:g}s with reclaim activity",
            )
            return

    # --- pressure accounting ------------------------------------------------------------

    def _account_stall(self) -> None:
        """Turn this tick's stall shares into PSI stall time, per cgroup and machine-wide.

        Workloads stall independently, so "some" (at least one stalled) is
        1 - prod(1 - s) over all of them, and "full" (all non-idle ones stalled at once)
        is prod(s) over the busy ones. Inside one cgroup the workload's threads wait on
        the same faults, so its some and full are both its own stall share.
        """
        none_stalled = 1.0
        all_stalled = 1.0
        busy = 0
        now_ns = self.now_ns
        for w in self.alive:
            none_stalled *= 1 - w.stall
            if w.busy:
                all_stalled *= w.stall
                busy += 1
            own = round(w.stall * TICK_NS)
            w.psi.add_stall(own, own)
            w.psi.update(now_ns)
        some_ns = round((1 - none_stalled) * TICK_NS)
        full_ns = min(some_ns, round(all_stalled * TICK_NS)) if busy else 0
        self.psi.add_stall(some_ns, full_ns)
        self.psi.update(now_ns)

    # --- history and log -------------------------------------------------------------

    def _sample(self) -> None:
        anon = file = cache = 0.0
        for w in self.alive:
            anon += w.anon_resident
            file += w.file_resident
            cache += w.cache
        some, full = self.psi.some.avg, self.psi.full.avg
        leaky = self.by_name["leaky"]
        web = self.by_name["web"]
        seconds = self._ticks_since_sample * TICK_S
        self.history.add(
            {
                "t": self.now,
                "kernel": self.kernel,
                "anon": anon,
                "file": file,
                "cache": cache,
                "free": max(0.0, self.free),
                "swap": self.swap_used,
                "refault": self._refault_since_sample / seconds if seconds else 0.0,
                "some10": some[0] / FIXED_1,
                "some60": some[1] / FIXED_1,
                "some300": some[2] / FIXED_1,
                "full10": full[0] / FIXED_1,
                "full60": full[1] / FIXED_1,
                "full300": full[2] / FIXED_1,
                "watch": leaky.psi.full.avg10 / FIXED_1 if leaky.alive else 0.0,
                "rss_web": web.rss if web.alive else 0.0,
                "rss_leaky": leaky.rss if leaky.alive else 0.0,
            }
        )
        self._refault_since_sample = 0.0
        self._ticks_since_sample = 0

    def _note(self, text: str, kind: str = "note") -> None:
        """Log an event in words; kills are kept, other notes only the latest 50."""
        self.log.append((self.now, kind, f"{self.now:.1f} s: {text}"))
        if len(self.log) > 60:
            keep = set([i for i, e in enumerate(self.log) if e[1] != "kill"][-50:])
            self.log = [e for i, e in enumerate(self.log) if e[1] == "kill" or i in keep]
