"""Turns the edge simulation into a Frame: the ladder, three charts, one reader's path.

Runs every animation frame, so it reads the simulation's rolling counters and bounded
histories and never walks the caches' entries.
"""

from __future__ import annotations

import math

from demokit import Frame
from demokit.svg import escape, svg_open

from .core import (
    CACHE_TIERS,
    CAPACITY,
    CLIENT,
    CLIENTS,
    HISTORY,
    HITS,
    LAST_MILE,
    LAST_MILE_SITES,
    LATENCY_SAMPLE,
    LOAD_ERRORS,
    LOAD_REQUESTS,
    LOAD_SOURCES,
    LOOKUPS,
    ORIGIN,
    ORIGIN_BYTES,
    ORIGIN_REQUESTS,
    SERVED,
    SITES,
    STALE,
    STALE_ON_ERROR,
    STATE_FETCHES,
    TIERS,
    USER_ERRORS,
    USER_REQUESTS,
    VALIDATED,
    EdgeSimulation,
    _percentile,
    reach_ms,
)

WIDTH, HEIGHT = 640, 470
LADDER_TOP, ROW = 30, 52
CHART_LEFT, CHART_RIGHT = 462, 630
BOXES, BOXES_WIDTH = 140, 150
BAR, BAR_WIDTH = 300, 90
HIT_COLOUR = "#2f9e44"
STALE_COLOUR = "#e67700"
ERROR_COLOUR = "#e03131"
ORIGIN_COLOUR = "#1c7ed6"
P99_COLOUR = "#845ef7"
SHORT_SOURCES = {"origin_dc": "origin DC", "far_edge": "far edge"}


def render(sim: EdgeSimulation) -> Frame:
    """The frame for the simulation's current state."""
    w = sim.window()
    seconds = sim.window_seconds()
    ratios = {
        tier: _ratio(w[HITS + tier] + w[STALE + tier], w[LOOKUPS + tier]) for tier in CACHE_TIERS
    }
    origin_rps = w[ORIGIN_REQUESTS] / seconds
    origin_bps = w[ORIGIN_BYTES] / seconds
    ordered = sorted(sim.latencies)
    p50, p99 = _percentile(ordered, 0.5), _percentile(ordered, 0.99)
    errors = _ratio(w[USER_ERRORS], w[USER_REQUESTS])
    fetches = w[STATE_FETCHES] / seconds
    load = _load(sim, w)
    norm = "on" if sim.params["normalise"] else "off"
    origin_state = "down" if sim.origin_down else "up"

    status = (
        f"t = {sim.now:.0f} s · origin {origin_state} · normalisation {norm} · "
        f"hit ratio last mile {_pct(ratios[LAST_MILE])}, city {_pct(ratios[3])} · "
        f"origin {origin_rps:.0f} req/s · p50 {_ms(p50)}, p99 {_ms(p99)} · "
        f"reader errors {_pct(errors)}"
    )
    if sim.broken_areas:
        status += " · last mile down: " + ", ".join(LAST_MILE_SITES[a] for a in sim.broken_areas)
    metrics = [(f"Hit ratio: {TIERS[tier]}", _pct(ratios[tier])) for tier in CACHE_TIERS]
    metrics += [
        ("Origin requests", f"{origin_rps:.1f} req/s"),
        ("Bytes from origin", f"{origin_bps / 1e6:.2f} MB/s · {sim.totals['origin_bytes'] / 1e9:.2f} GB in all"),
        ("Latency p50", _ms(p50)),
        ("Latency p99", _ms(p99)),
        ("Reader errors", _pct(errors)),
        ("Served stale on error", f"{w[STALE_ON_ERROR] / seconds:.1f} /s · {sim.totals['stale_on_error']:,} in all"),
        ("Paywall state fetches", f"{fetches:.1f} /s ({sim.params['paywall_state']})"),
        ("Health checks", _health_words(sim)),
        ("Load test", load["words"]),
        ("Origin", f"{origin_state} · capacity {sim.params['origin_capacity']} req/s"),
    ]  # fmt: skip
    values = [("time", sim.now, "s")]
    for tier in CACHE_TIERS:
        if ratios[tier] is not None:
            values.append((f"hit_ratio_{TIERS[tier].replace(' ', '_')}", ratios[tier] * 100, "%"))
    values += [
        ("origin_requests", origin_rps, "req/s"),
        ("origin_bytes", origin_bps, "B/s"),
        ("origin_bytes_total", sim.totals["origin_bytes"], "B"),
    ]
    if p50 is not None:
        values += [("latency_p50", p50, "ms"), ("latency_p99", p99, "ms")]
    if errors is not None:
        values.append(("reader_errors", errors * 100, "%"))
    values += [
        ("stale_on_error", w[STALE_ON_ERROR] / seconds, "responses/s"),
        ("paywall_state_fetches", fetches, "req/s"),
    ]
    if load["p50"] is not None:
        values += [("load_test_p50", load["p50"], "ms"), ("load_test_p99", load["p99"], "ms")]
    svg = _svg(sim, w, ratios, origin_rps, p50, p99, errors, load)
    return Frame(
        svg=svg,
        status=status,
        metrics=tuple(metrics),
        log=tuple(sim.log[-12:]),
        values=tuple(values[:16]),
    )


# -- words --------------------------------------------------------------------------------


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"


def _ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _health_words(sim: EdgeSimulation) -> str:
    if not sim.health:
        return "first round at 10 s"
    failing = [name for name, ok in sim.health if not ok]
    where = "data centres" if sim.params["health_checks"] == "datacentres" else "last-mile probes"
    if failing:
        return f"ALERT: {len(failing)} of {len(sim.health)} failing ({where})"
    return f"all {len(sim.health)} passing ({where})"


def _load(sim: EdgeSimulation, w: list[int]) -> dict:
    if not sim.load_test_on and not sim.load_latencies:
        return {"words": "off", "p50": None, "p99": None}
    ordered = sorted(sim.load_latencies)
    p50, p99 = _percentile(ordered, 0.5), _percentile(ordered, 0.99)
    errors = _ratio(w[LOAD_ERRORS], w[LOAD_REQUESTS])
    state = "" if sim.load_test_on else "stopped · "
    words = (
        f"{state}from {LOAD_SOURCES[sim.load_from]}: p50 {_ms(p50)}, p99 {_ms(p99)}, "
        f"errors {_pct(errors)}"
    )
    short = (
        f"{state}{SHORT_SOURCES[sim.load_from]}: p50 {_ms(p50)}, p99 {_ms(p99)}, "
        f"errors {_pct(errors)}"
    )
    return {"words": words, "short": short, "p50": p50, "p99": p99, "errors": errors}


# -- the picture --------------------------------------------------------------------------------


def _svg(sim, w, ratios, origin_rps, p50, p99, errors, load) -> str:
    title = (
        f"Edge caches at {sim.now:.0f} s: hit ratio last mile {_pct(ratios[LAST_MILE])}, "
        f"origin {origin_rps:.0f} requests per second, p50 {_ms(p50)}, p99 {_ms(p99)}, "
        f"reader errors {_pct(errors)}"
    )
    out = [svg_open(WIDTH, HEIGHT, title, font_size=11, fill="currentColor")]
    out.append(
        '<text x="10" y="16" font-size="12" font-weight="600">The ladder, last 10 s</text>'
        f'<text x="{BOXES}" y="28" font-size="9" fill-opacity="0.75">a box per process, '
        "darker = fuller</text>"
        f'<text x="{BAR}" y="16" font-size="9" fill-opacity="0.75">hit ratio (stale in orange)</text>'
    )
    for row, tier in enumerate((ORIGIN, 4, 3, 2, LAST_MILE, CLIENT)):
        _rung(out, sim, w, ratios, tier, LADDER_TOP + row * ROW)
    _charts(out, sim)
    _followed(out, sim)
    _footer(out, sim, load)
    out.append("</svg>")
    return "".join(out)


def _rung(out, sim, w, ratios, tier, top) -> None:
    served = w[SERVED + tier]
    answered = _ratio(served, w[USER_REQUESTS] - w[USER_ERRORS])
    name = TIERS[tier]
    if tier == CLIENT:
        note = f"{CLIENTS} browsers, 0 ms"
    else:
        low, high = reach_ms(tier)
        span = f"{low:.0f} ms" if low == high else f"{low:.0f}–{high:.0f} ms"
        note = f"{span} away (assumed)"
    out.append(
        f'<text x="10" y="{top + 12}" font-weight="600">{escape(name)}</text>'
        f'<text x="10" y="{top + 24}" font-size="9" fill-opacity="0.75">{note}</text>'
    )
    if tier == ORIGIN:
        state = "DOWN: 503 to everything" if sim.origin_down else "up"
        colour = ERROR_COLOUR if sim.origin_down else HIT_COLOUR
        out.append(
            f'<rect x="{BOXES}" y="{top + 3}" width="9" height="9" fill="{colour}"/>'
            f'<text x="{BOXES + 13}" y="{top + 12}" font-size="10">{state}</text>'
            f'<text x="{BOXES}" y="{top + 26}" font-size="9">{_rate(w, ORIGIN_REQUESTS, sim)} req/s '
            f"(capacity {sim.params['origin_capacity']}, assumed)</text>"
            f'<text x="{BAR}" y="{top + 26}" font-size="9">{_pct(answered)} answered here</text>'
        )
        return
    # The hit-ratio bar, with the stale part in orange.
    ratio = ratios[tier] or 0.0
    stale = _ratio(w[STALE + tier], w[LOOKUPS + tier]) or 0.0
    validated = _ratio(w[VALIDATED + tier], w[LOOKUPS + tier]) or 0.0
    bar = BAR_WIDTH
    fresh = (ratio - stale) * bar
    out.append(
        f'<rect x="{BAR}" y="{top + 3}" width="{bar}" height="10" fill="none" '
        'stroke="currentColor" stroke-opacity="0.35"/>'
        f'<rect x="{BAR}" y="{top + 3}" width="{fresh:.1f}" height="10" fill="{HIT_COLOUR}"/>'
        f'<rect x="{BAR + fresh:.1f}" y="{top + 3}" width="{stale * bar:.1f}" '
        f'height="10" fill="{STALE_COLOUR}"/>'
        f'<text x="{BAR + bar + 4}" y="{top + 12}" font-size="10">{_pct(ratios[tier])}</text>'
        f'<text x="{BAR}" y="{top + 26}" font-size="9">{_pct(answered)} answered here'
        f"{f' · {validated * 100:.0f} % 304' if validated >= 0.005 else ''}</text>"
    )
    if tier == CLIENT:
        out.append(
            f'<text x="{BOXES}" y="{top + 12}" font-size="9">one private cache each,</text>'
            f'<text x="{BOXES}" y="{top + 23}" font-size="9">{CAPACITY[CLIENT]} responses</text>'
        )
        return
    # One small box per serving process, filled by how full its cache is.
    sites = SITES[tier]
    x = BOXES
    processes = len(sim.caches[tier][0])
    size = min(9, (BOXES_WIDTH - 3 * len(sites)) // (len(sites) * processes) - 1)
    for s in range(len(sites)):
        broken = tier == LAST_MILE and s in sim.broken_areas
        for process, cache in enumerate(sim.caches[tier][s]):
            fill = len(cache) / cache.capacity
            bx = x + process * (size + 1)
            out.append(
                f'<rect x="{bx}" y="{top + 3}" width="{size}" height="{size}" fill="{ORIGIN_COLOUR}" '
                f'fill-opacity="{0.15 + 0.85 * fill:.2f}" stroke="currentColor" stroke-opacity="0.3"/>'
            )
        if broken:
            right = x + len(sim.caches[tier][s]) * (size + 1)
            out.append(
                f'<line x1="{x - 1}" y1="{top + 1}" x2="{right}" y2="{top + size + 5}" '
                f'stroke="{ERROR_COLOUR}" stroke-width="2"/>'
            )
        x += len(sim.caches[tier][s]) * (size + 1) + 3
    label = ", ".join(sites) if len(sites) <= 4 else f"{sites[0]} … {sites[-1]}"
    out.append(
        f'<text x="{BOXES}" y="{top + 24}" font-size="8.5" fill-opacity="0.8">{escape(label)}</text>'
    )


def _rate(w, slot, sim) -> str:
    return f"{w[slot] / sim.window_seconds():.0f}"


def _chart_frame(out, top, height, label, ticks) -> None:
    out.append(
        f'<text x="{CHART_LEFT}" y="{top - 4}" font-size="10" font-weight="600">{label}</text>'
    )
    for value, y in ticks:
        out.append(
            f'<line x1="{CHART_LEFT}" y1="{y:.1f}" x2="{CHART_RIGHT}" y2="{y:.1f}" '
            'stroke="currentColor" stroke-opacity="0.15"/>'
            f'<text x="{CHART_LEFT - 3}" y="{y + 3:.1f}" font-size="8" text-anchor="end">{value}</text>'
        )


def _polyline(points, colour, dash="") -> str:
    if len(points) < 2:
        return ""
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
        f'stroke-width="1.6"{extra}/>'
    )


def _charts(out, sim) -> None:
    history = list(sim.history)
    now = sim.now
    width = CHART_RIGHT - CHART_LEFT

    def x(t: float) -> float:
        return CHART_LEFT + (t - (now - HISTORY)) / HISTORY * width

    # Origin requests per second, with the origin's capacity.
    top, height = 40, 56
    capacity = sim.params["origin_capacity"]
    peak = max([capacity * 1.25, *(h[1] for h in history)])
    scale = height / peak

    def y_rps(v: float) -> float:
        return top + height - v * scale

    _chart_frame(
        out, top, height, "Origin requests/s", [(0, y_rps(0)), (f"{capacity}", y_rps(capacity))]
    )
    out.append(
        f'<text x="{CHART_RIGHT}" y="{y_rps(capacity) - 2:.1f}" font-size="8" text-anchor="end" '
        'fill-opacity="0.7">capacity (assumed)</text>'
    )
    out.append(_polyline([f"{x(h[0]):.1f},{y_rps(h[1]):.1f}" for h in history], ORIGIN_COLOUR))

    # Latency, log scale from 1 ms to 5 s.
    top, height = 126, 60
    ticks = [
        (label, _y_ms(ms, top, height)) for label, ms in (("1 ms", 1), ("30 ms", 30), ("1 s", 1000))
    ]
    _chart_frame(out, top, height, "Reader latency", ticks)
    out.append(
        _polyline(
            [f"{x(h[0]):.1f},{_y_ms(h[2], top, height):.1f}" for h in history if h[2] is not None],
            ORIGIN_COLOUR,
        )
    )
    out.append(
        _polyline(
            [f"{x(h[0]):.1f},{_y_ms(h[3], top, height):.1f}" for h in history if h[3] is not None],
            P99_COLOUR,
            "4 2",
        )
    )
    out.append(
        f'<text x="{CHART_RIGHT}" y="{top - 4}" font-size="8" text-anchor="end">'
        f'<tspan fill="{ORIGIN_COLOUR}">— p50</tspan> <tspan fill="{P99_COLOUR}">- - p99</tspan></text>'
    )

    # Reader errors.
    top, height = 216, 40

    def y_err(share: float) -> float:
        return top + height - share * height

    _chart_frame(out, top, height, "Reader errors", [("0", y_err(0)), ("100 %", y_err(1))])
    out.append(_polyline([f"{x(h[0]):.1f},{y_err(h[4]):.1f}" for h in history], ERROR_COLOUR))
    axis = top + height + 11
    out.append(
        f'<text x="{CHART_LEFT}" y="{axis}" font-size="8">−{HISTORY} s</text>'
        f'<text x="{CHART_RIGHT}" y="{axis}" font-size="8" text-anchor="end">now</text>'
    )


def _y_ms(ms: float, top: float, height: float) -> float:
    ms = min(max(ms, 1.0), 5000.0)
    return top + height - math.log10(ms) / math.log10(5000.0) * height


def _followed(out, sim) -> None:
    top = 350
    out.append(
        f'<text x="10" y="{top}" font-size="11" font-weight="600">One reader\'s latest requests '
        "(reader 0, "
        f"{escape(LAST_MILE_SITES[sim.clients[0].area])}): each lands on its own rung and process</text>"
    )
    for i, (t, url, tier, site, process, outcome, ms, status) in enumerate(reversed(sim.followed)):
        where = _where(tier, site, process, outcome)
        colour = ERROR_COLOUR if status == 0 or status >= 500 else "currentColor"
        out.append(
            f'<text x="10" y="{top + 14 + i * 12}" font-size="9.5" fill="{colour}">'
            f"{t:7.1f} s  {escape(url[:34])}</text>"
            f'<text x="200" y="{top + 14 + i * 12}" font-size="9.5" fill="{colour}">'
            f"{escape(where)}{'' if outcome == 'unreachable' else ' · ' + escape(outcome)} · "
            f"{_ms(ms)}</text>"
        )


def _where(tier: int, site: int, process: int, outcome: str) -> str:
    if outcome == "unreachable":
        return "nothing: the last mile is down"
    if tier == CLIENT:
        return "own browser cache"
    if tier == ORIGIN:
        return "origin"
    name = SITES[tier][site]
    return f"{TIERS[tier]} {name} process {process + 1}"


def _footer(out, sim, load) -> None:
    top = 292
    x = CHART_LEFT
    checks = _health_words(sim)
    alert = checks.startswith("ALERT")
    out.append(
        f'<text x="{x}" y="{top + 6}" font-size="10" font-weight="600">Health checks</text>'
        f'<text x="{x}" y="{top + 19}" font-size="9.5" fill="{ERROR_COLOUR if alert else "currentColor"}">'
        f"{escape(checks)}</text>"
    )
    if load["p50"] is not None or sim.load_test_on:
        out.append(
            f'<text x="{x}" y="{top + 33}" font-size="10" font-weight="600">Load test '
            f"({sim.params['load_rps']} req/s)</text>"
            f'<text x="{x}" y="{top + 45}" font-size="8.5">{escape(load["short"])}</text>'
        )
    out.append(
        f'<text x="10" y="{HEIGHT - 18}" font-size="8.5" fill-opacity="0.8">assumed: every '
        "latency, request rate, object size, cache size and TTL here is our assumption, not "
        "the talk's.</text>"
        f'<text x="10" y="{HEIGHT - 6}" font-size="8.5" fill-opacity="0.8">Latency percentiles '
        f"are over the latest {LATENCY_SAMPLE:,} reader requests; hit ratio = answered from this "
        "rung's cache / requests that reached it.</text>"
    )
