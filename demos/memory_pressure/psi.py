"""Pressure Stall Information (PSI) averages, computed the way the Linux kernel does.

This module is standalone and uses only the standard library, so a reader can copy it
and check numbers against a real ``/proc/pressure/memory``. It starts where the
kernel's per-CPU aggregation ends (``collect_percpu_times`` in kernel/sched/psi.c):
you feed it the machine-wide stall time of the "some" and "full" states, it keeps the
cumulative ``total`` and the running averages ``avg10``, ``avg60`` and ``avg300``
exactly as ``update_averages`` and ``calc_avgs`` do, in the same fixed-point integers.

Sources (read, not copied): kernel/sched/psi.c (``PSI_FREQ``, ``EXP_10s``...,
``update_averages``, ``calc_avgs``, ``psi_show``), include/linux/sched/loadavg.h
(``FSHIFT``, ``FIXED_1``, ``calc_load``, ``LOAD_INT``, ``LOAD_FRAC``),
kernel/sched/loadavg.c (``fixed_power_int``, ``calc_load_n``), kernel/time/time.c
(``jiffies_to_nsecs``) and Documentation/accounting/psi.rst.

Example::

    psi = PSI()
    for second in range(1, 11):              # 10 s in which tasks stall half the time
        psi.record(some_us=500_000, full_us=250_000, now_us=second * 1_000_000)
    print(psi.show())
"""

from __future__ import annotations

__all__ = [
    "EXP_10s",
    "EXP_60s",
    "EXP_300s",
    "FIXED_1",
    "FSHIFT",
    "PSI",
    "PSI_PERIOD_NS",
    "StallAverages",
    "calc_avgs",
    "calc_load",
    "calc_load_n",
    "fixed_power_int",
    "format_avg",
    "load_frac",
    "load_int",
    "psi_period_ns",
]

FSHIFT = 11
"""Bits of fraction in the kernel's load-average fixed point."""
FIXED_1 = 1 << FSHIFT
"""1.0 in that fixed point (2048)."""

EXP_10s = 1677
"""1/exp(2s/10s) in fixed point: the decay of avg10 per 2 s period."""
EXP_60s = 1981
"""1/exp(2s/60s): the decay of avg60."""
EXP_300s = 2034
"""1/exp(2s/300s): the decay of avg300."""

NSEC_PER_USEC = 1_000
USEC_PER_SEC = 1_000_000
_U32 = 0xFFFF_FFFF


def psi_period_ns(hz: int = 1000) -> int:
    """The averaging period in nanoseconds for a kernel built with ``CONFIG_HZ=hz``.

    psi.c defines ``PSI_FREQ`` as ``2*HZ+1`` jiffies ("2 sec intervals") and converts it
    with ``jiffies_to_nsecs``, so the real period is 2 s plus one tick: 2.001 s at
    HZ=1000, 2.004 s at HZ=250, 2.01 s at HZ=100.
    """
    if hz <= 0 or USEC_PER_SEC % hz:
        # Other HZ values go through a multiply-and-shift in jiffies_to_usecs that
        # this module does not reproduce.
        raise ValueError(f"HZ={hz} is not modelled; use a divisor of 1000000 (100, 250, 1000)")
    return (2 * hz + 1) * (USEC_PER_SEC // hz) * NSEC_PER_USEC


PSI_PERIOD_NS = psi_period_ns(1000)
"""The period at HZ=1000, the default here: 2_001_000_000 ns."""


def calc_load(load: int, exp: int, active: int) -> int:
    """One step of the exponential average: ``load*e + active*(1-e)`` in fixed point.

    As in loadavg.h, the sum is rounded up (``+ FIXED_1-1``) when the average is
    rising (``active >= load``) and truncated otherwise, so a constant input is
    reached exactly from below and 0 is reached exactly from above.
    """
    newload = load * exp + active * (FIXED_1 - exp)
    if active >= load:
        newload += FIXED_1 - 1
    return newload // FIXED_1


def fixed_power_int(x: int, frac_bits: int, n: int) -> int:
    """``x**n`` for a fixed-point ``x`` with ``frac_bits`` bits of fraction, by repeated
    squaring, rounding to nearest after every multiply, as loadavg.c does."""
    result = 1 << frac_bits
    half = 1 << (frac_bits - 1)
    while n:
        if n & 1:
            result = (result * x + half) >> frac_bits
        n >>= 1
        if not n:
            break
        x = (x * x + half) >> frac_bits
    return result


def calc_load_n(load: int, exp: int, active: int, n: int) -> int:
    """``n`` steps of :func:`calc_load` with the same ``active`` at once, using ``exp**n``.

    This is not bit-identical to calling :func:`calc_load` ``n`` times: ``exp**n`` is
    rounded once and the average is truncated once, instead of ``n`` times.
    """
    return calc_load(load, fixed_power_int(exp, FSHIFT, n), active)


def calc_avgs(avg: list[int], missed_periods: int, time: int, period: int) -> None:
    """Fold one sample into ``avg`` = [avg10, avg60, avg300], in place.

    ``time`` is the stall time of the sample and ``period`` the length of the sample's
    period, both in nanoseconds. Periods with no activity (``missed_periods``) are
    filled in as zero pressure *before* the sample, in one ``calc_load_n`` step each.
    The percentage is an integer first (``time*100 // period``), then scaled by
    FIXED_1, so fractions of a percent in a single period are dropped.
    """
    if missed_periods:
        avg[0] = calc_load_n(avg[0], EXP_10s, 0, missed_periods)
        avg[1] = calc_load_n(avg[1], EXP_60s, 0, missed_periods)
        avg[2] = calc_load_n(avg[2], EXP_300s, 0, missed_periods)
    pct = (time * 100) // period
    pct *= FIXED_1
    avg[0] = calc_load(avg[0], EXP_10s, pct)
    avg[1] = calc_load(avg[1], EXP_60s, pct)
    avg[2] = calc_load(avg[2], EXP_300s, pct)


def load_int(x: int) -> int:
    """``LOAD_INT``: the integer part of a fixed-point value."""
    return x >> FSHIFT


def load_frac(x: int) -> int:
    """``LOAD_FRAC``: two decimals of the fraction, truncated (not rounded)."""
    return load_int((x & (FIXED_1 - 1)) * 100)


def format_avg(x: int) -> str:
    """A fixed-point average as /proc/pressure shows it, e.g. ``"9.05"``."""
    # psi_show prints "%lu.%02lu" of LOAD_INT and LOAD_FRAC.
    return f"{load_int(x)}.{load_frac(x):02d}"


class StallAverages:
    """The state of one PSI line ("some" or "full").

    ``avg`` holds avg10, avg60 and avg300 as fixed-point integers (percent * 2048);
    ``total_ns`` is all stall time recorded; ``avg_total_ns`` is the part already folded
    into the averages (stall beyond a period's length waits here for the next one).
    """

    __slots__ = ("avg", "total_ns", "avg_total_ns")

    def __init__(self) -> None:
        self.avg = [0, 0, 0]
        self.total_ns = 0
        self.avg_total_ns = 0

    @property
    def avg10(self) -> int:
        """avg10 in fixed point (percent * 2048)."""
        return self.avg[0]

    @property
    def avg60(self) -> int:
        """avg60 in fixed point (percent * 2048)."""
        return self.avg[1]

    @property
    def avg300(self) -> int:
        """avg300 in fixed point (percent * 2048)."""
        return self.avg[2]

    @property
    def total_us(self) -> int:
        """``total=`` as /proc/pressure shows it: microseconds, truncated."""
        return self.total_ns // NSEC_PER_USEC

    def percent(self, window: int = 0) -> float:
        """An average as a float percentage (0 = avg10, 1 = avg60, 2 = avg300), for charts."""
        return self.avg[window] / FIXED_1

    def line(self, name: str) -> str:
        """The line psi_show prints for this state, named ``name`` ("some" or "full"),
        e.g. ``some avg10=9.05 avg60=1.63 avg300=0.34 total=2000000``."""
        a10, a60, a300 = (format_avg(x) for x in self.avg)
        return f"{name} avg10={a10} avg60={a60} avg300={a300} total={self.total_us}"


class PSI:
    """The memory pressure of one group (the whole machine or one cgroup).

    Feed stall time with :meth:`record` (microseconds) or :meth:`add_stall` plus
    :meth:`update` (nanoseconds), read ``some.avg10`` and friends, or :meth:`show` the
    two lines of ``/proc/pressure/memory``. Time starts at ``start_ns``; the first
    averages are computed one period later, as in ``group_init``.
    """

    def __init__(self, period_ns: int = PSI_PERIOD_NS, start_ns: int = 0) -> None:
        if period_ns <= 0:
            raise ValueError(f"period_ns must be positive, got {period_ns}")
        self.period_ns = period_ns
        self.some = StallAverages()
        self.full = StallAverages()
        self.avg_last_update = start_ns
        self.avg_next_update = start_ns + period_ns
        self.updates = 0
        """How many times the averages were recomputed (for tests and charts)."""

    def add_stall(self, some_ns: int, full_ns: int) -> None:
        """Add stall time (nanoseconds) to the cumulative totals.

        "full" time is also "some" time (everybody stalled implies somebody stalled), so
        ``full_ns`` may not exceed ``some_ns``.
        """
        if some_ns < 0 or full_ns < 0:
            raise ValueError(f"stall time cannot be negative: some={some_ns} full={full_ns}")
        if full_ns > some_ns:
            raise ValueError(f"full stall ({full_ns} ns) cannot exceed some stall ({some_ns} ns)")
        self.some.total_ns += some_ns
        self.full.total_ns += full_ns

    def update(self, now_ns: int) -> bool:
        """Recompute the averages if a period has ended by ``now_ns``; True if it did.

        This is ``update_averages``: missed whole periods are counted, the sample is the
        stall time since the last update, capped at the sample's period (the rest carries
        over), and it is folded into avg10/avg60/avg300 by :func:`calc_avgs`. The next
        deadline stays on the fixed grid ``start + k*period`` so that late updates do not
        drift.
        """
        if now_ns < self.avg_next_update:
            return False
        expires = self.avg_next_update
        missed_periods = 0
        if now_ns - expires >= self.period_ns:
            missed_periods = (now_ns - expires) // self.period_ns
        self.avg_next_update = expires + (1 + missed_periods) * self.period_ns
        period = now_ns - (self.avg_last_update + missed_periods * self.period_ns)
        self.avg_last_update = now_ns
        for state in (self.some, self.full):
            # The kernel keeps the sample in a u32; mirror the wrap so results match.
            sample = (state.total_ns - state.avg_total_ns) & _U32
            if sample > period:
                sample = period
            state.avg_total_ns += sample
            calc_avgs(state.avg, missed_periods, sample, period)
        self.updates += 1
        return True

    def record(self, some_us: int = 0, full_us: int = 0, now_us: int | None = None) -> bool:
        """Add stall time in microseconds and, if ``now_us`` is given, update the averages
        as a read of /proc/pressure/memory at that time would. True if they changed."""
        self.add_stall(int(some_us) * NSEC_PER_USEC, int(full_us) * NSEC_PER_USEC)
        if now_us is None:
            return False
        return self.update(int(now_us) * NSEC_PER_USEC)

    def show(self, now_ns: int | None = None) -> str:
        """The two lines of ``/proc/pressure/memory``; like ``psi_show`` it first updates
        the averages when ``now_ns`` is given and a period has ended."""
        if now_ns is not None:
            self.update(now_ns)
        return self.some.line("some") + "\n" + self.full.line("full")
