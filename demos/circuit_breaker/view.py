"""Turns the booking simulation into a Frame: an SVG, a status line, metrics and a log.

Runs every animation frame, so it only reads counters the simulation keeps up to date
and draws at most 90 seconds of history.
"""

from __future__ import annotations

from demokit import Frame
from demokit.svg import escape, svg_open

from .breaker import CLOSED, DISABLED, FORCED_OPEN, HALF_OPEN, METRICS_ONLY, OPEN
from .core import DEPENDENCIES, HISTORY, NO_BREAKER, SHARE_WINDOW, BookingSimulation

WIDTH, HEIGHT = 640, 420
CHART_LEFT, CHART_RIGHT = 186, 630
CHART_TOP, CHART_BOTTOM = 14, 118
ROWS_TOP, ROW_HEIGHT = 146, 50
CHART_SMOOTHING = 10
"""Seconds averaged per point of the completion chart."""

# Mid-tone accents that keep at least 3:1 contrast on white and on #1e2129.
MAIN_COLOUR = "#1c7ed6"
SHADOW_COLOUR = "#868e96"
STATE_COLOURS = {
    CLOSED: "#2f9e44",
    OPEN: "#e03131",
    HALF_OPEN: "#e67700",
    NO_BREAKER: "#868e96",
    DISABLED: "#868e96",
    FORCED_OPEN: "#d6336c",
    METRICS_ONLY: "#845ef7",
}
STATE_WORDS = {NO_BREAKER: "no breaker"}
FALLBACK_WORDS = {"cache": "from cache", "skip": "skipped", "cash": "paid cash"}


def render(sim: BookingSimulation) -> Frame:
    """The frame for the simulation's current state."""
    main_share = sim.main.share(sim.now)
    shadow_share = sim.shadow.share(sim.now)
    mode = sim.params["breaker_mode"]
    protection = (
        f"{mode} breakers {'on' if sim.params['breakers'] else 'off'}, "
        f"fallbacks {'on' if sim.main.fallbacks else 'off'}"
    )
    svg = _svg(sim, main_share, shadow_share, protection)

    trouble = [
        f"{dep.name} {'broken' if health.broken else 'slow'}"
        for dep, health in zip(DEPENDENCIES, sim.health, strict=True)
        if health.broken or health.slowed
    ]
    status = (
        f"t = {sim.now:.0f} s · {', '.join(trouble) or 'all dependencies healthy'} · "
        f"{protection} · {_percent(main_share)} of bookings completed "
        f"({_percent(shadow_share)} without breakers and fallbacks)"
    )
    metrics = [
        ("Bookings completed", _percent(main_share)),
        ("Without breakers & fallbacks", _percent(shadow_share)),
        ("Whole run", f"{_percent(sim.main.total_share)} of {sim.main.started:,} started"),
        ("Booking time", f"{sim.main.booking_time:.1f} s"),
        ("Passengers gave up", f"{sim.main.abandoned:,}"),
        ("Stopped at the rating dialog", f"{sim.main.blocked_by_rating:,}"),
    ]
    for i, dep in enumerate(DEPENDENCIES):
        metrics.append((f"{dep.label} breaker", _state_word(sim.breaker_state(i))))
    metrics.append(("Calls simulated", f"{sim.calls:,}"))
    values = [("time", sim.now, "s")]
    if main_share is not None:
        values.append(("completed", main_share * 100, "%"))
    if shadow_share is not None:
        values.append(("completed_without_protection", shadow_share * 100, "%"))
    values += [
        ("booking_time", sim.main.booking_time, "s"),
        ("abandoned", sim.main.abandoned, "bookings"),
        ("calls", sim.calls, "calls"),
    ]
    return Frame(
        svg=svg,
        status=status,
        metrics=tuple(metrics),
        log=tuple(sim.log[-12:]),
        values=tuple(values),
    )


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"


def _state_word(state: str) -> str:
    return STATE_WORDS.get(state, state)


def _count(n: int) -> str:
    # Keeps the counter line inside the picture on long runs.
    return f"{n:,}" if n < 10_000 else f"{n / 1000:.0f}k"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _x(t: float, start: float) -> float:
    return CHART_LEFT + (t - start) / HISTORY * (CHART_RIGHT - CHART_LEFT)


def _svg(sim: BookingSimulation, main: float | None, shadow: float | None, protection: str) -> str:
    now = sim.now
    start = now - HISTORY
    title = (
        f"Booking flow at {now:.0f} s: {_percent(main)} of bookings completed ({protection}), "
        f"{_percent(shadow)} without breakers and fallbacks"
    )
    out = [svg_open(WIDTH, HEIGHT, title, font_size=11, fill="currentColor")]
    _header(out, sim, main, shadow)
    _chart(out, sim, start)
    for i, dep in enumerate(DEPENDENCIES):
        _row(out, sim, i, dep, ROWS_TOP + i * ROW_HEIGHT, start)
    _legend(out)
    out.append("</svg>")
    return "".join(out)


def _header(out: list[str], sim: BookingSimulation, main: float | None, shadow: float | None):
    out.append('<text x="10" y="18" font-size="12" font-weight="600">Bookings completed</text>')
    out.append(
        f'<text x="10" y="54" font-size="34" font-weight="700">{_percent(main)}</text>'
        f'<line x1="10" y1="64" x2="28" y2="64" stroke="{MAIN_COLOUR}" stroke-width="3"/>'
        '<text x="32" y="68" font-size="10">your settings</text>'
    )
    out.append(
        f'<text x="10" y="92" font-size="18" font-weight="600">{_percent(shadow)}</text>'
        f'<line x1="10" y1="101" x2="28" y2="101" stroke="{SHADOW_COLOUR}" stroke-width="3" '
        'stroke-dasharray="4 3"/>'
        '<text x="32" y="105" font-size="10">no breakers, no fallbacks</text>'
    )
    out.append(
        f'<text x="10" y="122" font-size="10">last {SHARE_WINDOW} s · '
        f"booking {sim.main.booking_time:.1f} s</text>"
    )


def _chart(out: list[str], sim: BookingSimulation, start: float) -> None:
    height = CHART_BOTTOM - CHART_TOP
    for share in (0, 50, 100):
        y = CHART_BOTTOM - share / 100 * height
        out.append(
            f'<line x1="{CHART_LEFT}" y1="{y:.0f}" x2="{CHART_RIGHT}" y2="{y:.0f}" '
            'stroke="currentColor" stroke-opacity="0.2"/>'
            f'<text x="{CHART_LEFT - 4}" y="{y + 4:.0f}" text-anchor="end" '
            f'font-size="9">{share} %</text>'
        )
    # The dashed shadow line goes on top so it stays visible where the two coincide.
    lines = ((sim.main, MAIN_COLOUR, ""), (sim.shadow, SHADOW_COLOUR, ' stroke-dasharray="4 3"'))
    for flow, colour, dash in lines:
        points = _share_points(flow, start, sim.now, height)
        if len(points) > 1:
            out.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dash}/>'
            )
    axis_y = CHART_BOTTOM + 12
    out.append(
        f'<text x="{CHART_LEFT}" y="{axis_y}" font-size="9">−{HISTORY} s</text>'
        f'<text x="{(CHART_LEFT + CHART_RIGHT) / 2:.0f}" y="{axis_y}" font-size="9" '
        f'text-anchor="middle">completed share, {CHART_SMOOTHING} s average</text>'
        f'<text x="{CHART_RIGHT}" y="{axis_y}" font-size="9" text-anchor="end">now</text>'
    )


def _share_points(flow, start: float, now: float, height: float) -> list[str]:
    finished, completed = flow.finished_per_second, flow.completed_per_second
    last = min(int(now), len(finished))  # seconds [0, last) are complete
    first = max(0, int(start) + 1)
    points = []
    window_finished = sum(finished[max(0, first - CHART_SMOOTHING) : first])
    window_completed = sum(completed[max(0, first - CHART_SMOOTHING) : first])
    for second in range(first, last):
        window_finished += finished[second]
        window_completed += completed[second]
        old = second - CHART_SMOOTHING
        if old >= 0:
            window_finished -= finished[old]
            window_completed -= completed[old]
        if window_finished:
            x = _x(second + 1, start)
            y = CHART_BOTTOM - window_completed / window_finished * height
            points.append(f"{x:.1f},{y:.1f}")
    return points


def _row(out: list[str], sim: BookingSimulation, i: int, dep, top: int, start: float) -> None:
    state = sim.breaker_state(i)
    health = sim.health[i]
    where = "critical path" if dep.critical else "off the critical path"
    fallback = f"fallback: {dep.fallback}" if dep.fallback else "no fallback"
    trouble = " · broken" if health.broken else " · slow" if health.slowed else ""
    out.append(
        f'<text x="10" y="{top + 12}" font-weight="600">{escape(dep.label)}</text>'
        f'<text x="10" y="{top + 25}" font-size="9">{where} · {fallback}</text>'
        f'<rect x="10" y="{top + 31}" width="9" height="9" fill="{STATE_COLOURS[state]}"/>'
        f'<text x="23" y="{top + 40}" font-size="10">{_state_word(state)}{trouble}</text>'
    )
    band_top = top + 2
    out.append(
        f'<rect x="{CHART_LEFT}" y="{band_top}" width="{CHART_RIGHT - CHART_LEFT}" height="14" '
        'fill="none" stroke="currentColor" stroke-opacity="0.25"/>'
    )
    timeline = sim.timelines[i]
    for k, (at, seg_state) in enumerate(timeline):
        end = timeline[k + 1][0] if k + 1 < len(timeline) else sim.now
        left, right = _x(max(at, start), start), _x(min(end, sim.now), start)
        if right - left >= 0.5:
            out.append(
                f'<rect x="{left:.1f}" y="{band_top}" width="{right - left:.1f}" height="14" '
                f'fill="{STATE_COLOURS[seg_state]}"/>'
            )
    main, shadow = sim.main.stats[i], sim.shadow.stats[i]
    covered = f"{FALLBACK_WORDS[dep.fallback]} {_count(main.fallback)} · " if dep.fallback else ""
    line = (
        f"passed {_count(main.passed)} · failed {_count(main.failed)} · "
        f"slow {_count(main.slow)} · rejected {_count(main.rejected)} · {covered}"
        f"latency {_ms(main.latency)}"
    )
    without = (
        f"without breakers and fallbacks: failed {_count(shadow.failed)} · "
        f"latency {_ms(shadow.latency)}"
    )
    out.append(
        f'<text x="{CHART_LEFT}" y="{top + 29}" font-size="10.5">{line}</text>'
        f'<text x="{CHART_LEFT}" y="{top + 42}" font-size="9" fill-opacity="0.8">{without}</text>'
    )


def _legend(out: list[str]) -> None:
    y = ROWS_TOP + len(DEPENDENCIES) * ROW_HEIGHT + 14
    x = CHART_LEFT
    for state in (CLOSED, OPEN, HALF_OPEN, NO_BREAKER):
        word = _state_word(state)
        out.append(
            f'<rect x="{x}" y="{y - 8}" width="9" height="9" fill="{STATE_COLOURS[state]}"/>'
            f'<text x="{x + 13}" y="{y}" font-size="10">{word}</text>'
        )
        x += 20 + len(word) * 6
    out.append(
        f'<text x="{CHART_RIGHT}" y="{y}" font-size="10" text-anchor="end">'
        f"breaker state, last {HISTORY} s</text>"
    )
