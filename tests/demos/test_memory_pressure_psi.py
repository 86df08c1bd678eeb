"""PSI arithmetic of the memory-pressure demo, checked against the kernel's formulas.

Every expected number below is worked out by hand from the kernel sources (read at
torvalds/linux): kernel/sched/psi.c (``update_averages``, ``calc_avgs``, ``psi_show``,
``EXP_10s = 1677``, ``EXP_60s = 1981``, ``EXP_300s = 2034``, ``PSI_FREQ = 2*HZ+1``),
include/linux/sched/loadavg.h (``FIXED_1 = 2048``, ``calc_load``, ``LOAD_INT``,
``LOAD_FRAC``), kernel/sched/loadavg.c (``fixed_power_int``, ``calc_load_n``) and
Documentation/accounting/psi.rst ("total absolute stall time (in us)").

The formulas used by hand:

* pct = (stall * 100 // period) * 2048            (calc_avgs: div_u64, then *= FIXED_1)
* calc_load(a, e, p) = (a*e + p*(2048-e) + (2047 if p >= a else 0)) // 2048
* display = f"{x >> 11}.{((x & 2047) * 100) >> 11:02d}"   (LOAD_INT.LOAD_FRAC, truncated)
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.memory_pressure.psi import (
    FIXED_1,
    PSI,
    PSI_PERIOD_NS,
    EXP_10s,
    EXP_60s,
    EXP_300s,
    calc_load,
    calc_load_n,
    fixed_power_int,
    format_avg,
    psi_period_ns,
)

S = 1_000_000_000  # ns per second
P = 2 * S  # a round 2 s period keeps the hand arithmetic short


def test_constants_are_the_kernels():
    """psi.c: EXP_10s 1677, EXP_60s 1981, EXP_300s 2034; loadavg.h: FIXED_1 = 1 << 11."""
    assert (EXP_10s, EXP_60s, EXP_300s, FIXED_1) == (1677, 1981, 2034, 2048)


def test_period_is_two_seconds_plus_one_jiffy():
    """PSI_FREQ is 2*HZ+1 jiffies, turned into ns by jiffies_to_nsecs
    (= jiffies * (USEC_PER_SEC / HZ) * NSEC_PER_USEC when HZ divides 10^6)."""
    assert psi_period_ns(1000) == 2_001_000_000 == PSI_PERIOD_NS
    assert psi_period_ns(250) == 2_004_000_000
    assert psi_period_ns(100) == 2_010_000_000
    with pytest.raises(ValueError):
        psi_period_ns(300)


def test_half_stall_for_one_period():
    """1 s of stall in a 2 s period, from zero:

    pct = 1e9*100 // 2e9 = 50 -> 50*2048 = 102400, which is >= 0, so round up:
    avg10  = (0 + 102400*371 + 2047) // 2048 = (37_990_400 + 2047) // 2048 = 18550 -> "9.05"
             (18550 >> 11 = 9; (18550 & 2047) = 118; 118*100 >> 11 = 5)
    avg60  = (102400*67 + 2047) // 2048  = 3350 -> "1.63"
    avg300 = (102400*14 + 2047) // 2048  = 700  -> "0.34"
    full, 0.5 s of 2 s = 25% -> 51200: avg10 = 51200*371 // 2048 = 9275 -> "4.52",
    avg60 = 1675 -> "0.81", avg300 = 350 -> (350*100) >> 11 = 17 -> "0.17".
    """
    psi = PSI(period_ns=P)
    psi.add_stall(some_ns=S, full_ns=S // 2)
    assert psi.update(P) is True
    assert psi.some.avg == [18550, 3350, 700]
    assert psi.show() == (
        "some avg10=9.05 avg60=1.63 avg300=0.34 total=1000000\n"
        "full avg10=4.52 avg60=0.81 avg300=0.17 total=500000"
    )


def test_full_stall_then_none_stepped():
    """Two periods of 100% then one of 0%, avg10 by hand:

    P1: pct = 204800; (0*1677 + 204800*371 + 2047) // 2048 = (75_980_800 + 2047) // 2048
        = 37100 -> "18.11"
    P2: (37100*1677 + 75_980_800 + 2047) // 2048 = 138_199_547 // 2048 = 67480 -> "32.94"
    P3: pct = 0 < 67480, no round-up: 67480*1677 // 2048 = 113_163_960 // 2048 = 55255
        -> "26.97" (55255 & 2047 = 2007; 200700 >> 11 = 97)
    avg60 P1: (204800*67 + 2047) // 2048 = 6700; P2: (6700*1981 + 13_721_600 + 2047) // 2048
        = 26_996_347 // 2048 = 13181.
    """
    psi = PSI(period_ns=P)
    seen = []
    for stall, now in ((P, P), (P, 2 * P), (0, 3 * P)):
        psi.add_stall(stall, stall)
        psi.update(now)
        seen.append((psi.some.avg10, format_avg(psi.some.avg10)))
    assert seen == [(37100, "18.11"), (67480, "32.94"), (55255, "26.97")]
    assert psi.full.avg10 == 55255
    psi2 = PSI(period_ns=P)
    psi2.record(some_us=2_000_000, now_us=2_000_000)
    psi2.record(some_us=2_000_000, now_us=4_000_000)
    assert psi2.some.avg60 == 13181


def test_percent_is_truncated_to_an_integer_before_scaling():
    """0.999 s of 2 s is 49.95%, but calc_avgs computes div_u64(time*100, period) = 49
    first: avg10 = 49*2048*371 // 2048 (+2047 does not carry) = 18179 -> "8.87", not the
    "9.05" of a full 50%. At HZ=1000 the period is 2.001 s, so an exact 1 s of stall is
    1e11 // 2.001e9 = 49% too."""
    psi = PSI(period_ns=P)
    psi.add_stall(999_000_000, 0)
    psi.update(P)
    assert psi.some.avg10 == 18179
    assert format_avg(psi.some.avg10) == "8.87"
    kernel_hz = PSI()
    kernel_hz.add_stall(S, 0)
    kernel_hz.update(PSI_PERIOD_NS)
    assert kernel_hz.some.avg10 == 18179


def test_missed_periods_are_zero_filled_with_exp_to_the_n_before_the_sample():
    """update_averages counts missed = (now - expires) // period, then calc_avgs first
    decays avg by calc_load_n(avg, e, 0, missed) and only then applies the sample of the
    last, partial period (period = now - (last_update + missed*psi_period)).

    Start from avg10 = 67480 (two full periods, updates at 2 s and 4 s; next deadline 6 s).
    Next read at 12.5 s with 1.25 s of stall: missed = 6.5 // 2 = 3, period = 12.5 - (4 + 6)
    = 2.5 s, pct = 1.25*100 // 2.5 = 50 -> 102400.

    fixed_power_int(1677, 11, 3): result = (2048*1677 + 1024) >> 11 = 1677;
      x = (1677*1677 + 1024) >> 11 = 2_813_353 >> 11 = 1373;
      result = (1677*1373 + 1024) >> 11 = 2_303_545 >> 11 = 1124.
    zero fill: 67480*1124 // 2048 = 75_847_520 // 2048 = 37034
    sample:    (37034*1677 + 102400*371 + 2047) // 2048 = 100_098_465 // 2048 = 48876

    Not the same as three single zero steps (67480 -> 55255 -> 45245 -> 37048), and not the
    same as sample-then-decay ((67480*1677 + 37_990_400 + 2047) // 2048 = 73806, then
    73806*1124 // 2048 = 40506).
    """
    assert fixed_power_int(EXP_10s, 11, 3) == 1124
    assert calc_load_n(67480, EXP_10s, 0, 3) == 37034
    repeated = 67480
    for _ in range(3):
        repeated = calc_load(repeated, EXP_10s, 0)
    assert repeated == 37048

    psi = PSI(period_ns=P)
    for now in (P, 2 * P):
        psi.add_stall(P, 0)
        psi.update(now)
    assert psi.some.avg10 == 67480
    psi.add_stall(1_250_000_000, 0)
    assert psi.update(12_500_000_000)
    assert psi.some.avg10 == 48876
    assert psi.avg_next_update == 14 * S  # 6 s + (1 + 3) * 2 s: the grid does not drift


def test_stall_beyond_the_period_carries_over():
    """update_averages caps the sample at the period and keeps the rest in
    avg_total for later ("we punt any overage into the future").

    3 s recorded before the first 2 s deadline: P1 sample = 2 s -> 100% -> 37100;
    P2 sample = the carried 1 s -> 50% -> (37100*1677 + 102400*371 + 2047) // 2048
    = 100_209_147 // 2048 = 48930. total keeps all 3 s: 3_000_000 us.
    """
    psi = PSI(period_ns=P)
    psi.add_stall(3 * S, 0)
    psi.update(P)
    assert psi.some.avg10 == 37100
    psi.update(2 * P)
    assert psi.some.avg10 == 48930
    assert psi.some.total_us == 3_000_000


def test_sample_is_a_u32_as_in_the_kernel():
    """``u32 sample = total - avg_total``: a difference of 2**32 + 1 ms ns wraps to 1 ms,
    which is 0% of 2 s (1e6*100 // 2e9 = 0)."""
    psi = PSI(period_ns=P)
    psi.add_stall(2**32 + 1_000_000, 0)
    psi.update(P)
    assert psi.some.avg10 == 0
    assert psi.some.avg_total_ns == 1_000_000


def test_no_update_before_the_deadline_and_no_drift_after_a_late_one():
    """psi_avgs_work/psi_show update only once now >= avg_next_update, and the next
    deadline is expires + (1 + missed) * period, not now + period."""
    psi = PSI(period_ns=P)
    psi.add_stall(S, S)
    assert psi.update(P - 1) is False
    assert psi.some.avg10 == 0
    assert psi.update(2_100_000_000) is True  # 100 ms late
    assert psi.avg_next_update == 2 * P


def test_display_truncates_like_load_frac():
    """LOAD_FRAC(x) = ((x & 2047) * 100) >> 11 truncates: 2047 -> 204700 >> 11 = 99
    ("0.99"), 20 -> 2000 >> 11 = 0 ("0.00"), 21 -> 2100 >> 11 = 1 ("0.01"),
    20479 = 10*2048 - 1 -> "9.99", never rounded up to "10.00"."""
    assert [format_avg(x) for x in (0, 20, 21, 2047, 20479, 204800)] == [
        "0.00",
        "0.00",
        "0.01",
        "0.99",
        "9.99",
        "100.00",
    ]


def test_total_is_in_microseconds_truncated():
    """psi_show prints div_u64(total, NSEC_PER_USEC); psi.rst: total is in us."""
    psi = PSI(period_ns=P)
    psi.record(some_us=1500, full_us=1000)
    psi.add_stall(999, 999)
    assert (psi.some.total_us, psi.full.total_us) == (1500, 1000)
    assert psi.some.total_ns == 1_500_999
    assert psi.show().splitlines()[0] == "some avg10=0.00 avg60=0.00 avg300=0.00 total=1500"


def test_full_cannot_exceed_some():
    """FULL implies SOME (psi.c: SOME = delayed != 0; FULL = delayed && !productive)."""
    psi = PSI()
    with pytest.raises(ValueError):
        psi.add_stall(1, 2)
    with pytest.raises(ValueError):
        psi.add_stall(-1, 0)


@settings(max_examples=30, deadline=None)
@given(
    history=st.lists(st.integers(min_value=0, max_value=100), max_size=20),
    pct=st.integers(min_value=0, max_value=100),
)
def test_any_constant_pressure_is_reached_exactly(history, pct):
    """calc_load rounds up while rising and truncates while falling, so after enough
    periods of a constant input every average equals it exactly, whatever came before;
    and no average ever leaves 0..100%."""
    psi = PSI(period_ns=P)
    now = 0
    for value in [*history, *[pct] * 2000]:
        now += P
        psi.add_stall(P * value // 100, 0)
        psi.update(now)
        assert all(0 <= a <= 100 * FIXED_1 for a in psi.some.avg)
    assert psi.some.avg == [pct * FIXED_1] * 3
