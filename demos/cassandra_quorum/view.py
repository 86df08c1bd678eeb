"""Turns the quorum simulation into a Frame: a map of the data centres with the latest
quorum drawn on it, a table of what every consistency level gives, and the traveller.

Runs on every animation frame: it only summarises the bounded windows the simulation
keeps (:data:`core.WINDOW` operations per level).
"""

from __future__ import annotations

from demokit import Frame
from demokit.svg import escape, svg_open

from . import consistency as cl
from .core import (
    CONTINENT,
    DATACENTRES,
    DC_NAME,
    PARTITIONS,
    READ,
    READ_TIMEOUT_MS,
    REGION_NAME,
    REGIONS,
    WRITE,
    WRITE_TIMEOUT_MS,
    QuorumSim,
    describe,
    percentile,
    rtt,
)

WIDTH, HEIGHT = 640, 496
DC_X = {"dal": 62, "wdc": 160, "lon": 300, "fra": 400, "tok": 548}
DC_Y = 104
BOXES = {"us": (10, 212), "eu": (248, 452), "apac": (488, 630)}
TABLE_TOP, ROW = 208, 18
COLUMNS = (
    ("reads ok", 168),
    ("p50", 216),
    ("p99", 264),
    ("stale", 312),
    ("writes ok", 404),
    ("p50", 452),
    ("p99", 500),
    ("crossed an ocean", 626),
)
READ_COLOUR = "#1c7ed6"
WRITE_COLOUR = "#e8590c"
DOWN_COLOUR = "#e03131"
BAD_COLOUR = "#e03131"
SUCCEEDING = 0.95
"""A level "still succeeds" when at least this share of its recent operations did."""


def summary(sim: QuorumSim, kind: str, level: str) -> dict:
    """Success share, p50/p99 of successful latencies (ms), stale and crossed shares."""
    codes = sim.stats[(kind, level)]
    latencies: list[float] = []
    stale = crossed = timed_out = 0
    for code in codes:
        if code & 8:
            latencies.append((code >> 4) / 10)
            stale += (code >> 2) & 1
            crossed += (code >> 1) & 1
        else:
            timed_out += code & 1
    done = len(latencies)
    return {
        "n": len(codes),
        "ok": done / len(codes) if codes else None,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "stale": stale / done if done else None,
        "crossed": crossed / done if done else None,
        "timed_out": timed_out,
    }


def render(sim: QuorumSim) -> Frame:
    """The frame for the simulation's current state."""
    read_cl, write_cl = sim.params["read_cl"], sim.params["write_cl"]
    table = {
        (kind, level): summary(sim, kind, level) for kind in (READ, WRITE) for level in cl.LEVELS
    }
    reads, writes = table[(READ, read_cl)], table[(WRITE, write_cl)]
    traveller = sim.traveller
    phases = {name: _ms_list(bucket) for name, bucket in traveller.buckets.items()}
    faults = _faults(sim)

    status = (
        f"t = {sim.now:.0f} s · {read_cl} reads {_pct(reads['ok'])} ok, p50 {_ms(reads['p50'])} · "
        f"{write_cl} writes {_pct(writes['ok'])} ok, p50 {_ms(writes['p50'])} · "
        f"{faults or 'no faults'}"
    )
    still_reads = [lvl for lvl in cl.LEVELS if _succeeds(table[(READ, lvl)])]
    still_writes = [lvl for lvl in cl.LEVELS if _succeeds(table[(WRITE, lvl)])]
    metrics = [
        (f"Reads ({read_cl})", _line(reads)),
        (f"Writes ({write_cl})", _line(writes)),
        (f"Stale reads ({read_cl})", _pct(reads["stale"])),
        (
            "Cross-ocean requests",
            f"reads {_pct(reads['crossed'])} · writes {_pct(writes['crossed'])}",
        ),
        ("Read quorum", _quorum(sim, READ)),
        ("Write quorum", _quorum(sim, WRITE)),
        ("Reads still succeeding at", _levels(still_reads)),
        ("Writes still succeeding at", _levels(still_writes)),
        ("Faults", faults or "none"),
        (
            "Traveller",
            f"in {REGION_NAME[traveller.location]} · data in the "
            f"{REGION_NAME[traveller.data_region]} cluster",
        ),
        ("Traveller before the trip", _pair(phases["before"], words=True)),
        ("Traveller away from her data", _pair(phases["away"], words=True)),
        ("Traveller after migration", _pair(phases["after"], words=True)),
        ("Operations simulated", f"{sim.operations:,}"),
    ]
    values: list[tuple[str, float, str]] = [("time", sim.now, "s")]
    for prefix, row in (("read", reads), ("write", writes)):
        _add(values, f"{prefix}_success", row["ok"], "%", 100)
        _add(values, f"{prefix}_p50", row["p50"], "ms")
        _add(values, f"{prefix}_p99", row["p99"], "ms")
    _add(values, "stale_reads", reads["stale"], "%", 100)
    _add(values, "cross_ocean_reads", reads["crossed"], "%", 100)
    _add(values, "cross_ocean_writes", writes["crossed"], "%", 100)
    for phase in ("away", "after"):
        _add(values, f"traveller_p50_{phase}", percentile(phases[phase], 50), "ms")
        _add(values, f"traveller_p99_{phase}", percentile(phases[phase], 99), "ms")
    values.append(("operations", sim.operations, "operations"))
    return Frame(
        svg=_svg(sim, table, phases),
        status=status,
        metrics=tuple(metrics),
        log=tuple(sim.log[-12:]),
        values=tuple(values[:16]),
    )


# -- words ---------------------------------------------------------------------------------


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"


def _ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def _line(row: dict) -> str:
    return f"{_pct(row['ok'])} ok · p50 {_ms(row['p50'])} · p99 {_ms(row['p99'])}"


def _pair(latencies: list[float], words: bool = False) -> str:
    if not latencies:
        return "—"
    p50, p99 = _ms(percentile(latencies, 50)), _ms(percentile(latencies, 99))
    return f"p50 {p50} · p99 {p99}" if words else f"{p50} / {p99}"


def _levels(levels: list[str]) -> str:
    """The levels, or what is missing when that is shorter (metrics are capped)."""
    if not levels:
        return "no level"
    if len(levels) == len(cl.LEVELS):
        return "every level"
    missing = [level for level in cl.LEVELS if level not in levels]
    if len(levels) > 5:
        return "all but " + ", ".join(missing)
    return ", ".join(levels)


def _ms_list(bucket) -> list[float]:
    return [value / 10 for value in bucket]


def _succeeds(row: dict) -> bool:
    return row["ok"] is not None and row["ok"] >= SUCCEEDING


def _add(values: list, name: str, number: float | None, unit: str, scale: float = 1) -> None:
    if number is not None:
        values.append((name, number * scale, unit))


def _faults(sim: QuorumSim) -> str:
    parts = [f"{DC_NAME[dc]} down" for dc, up in sim.dc_up.items() if not up]
    labels = dict(PARTITIONS)
    parts += [f"{labels[pair]} cut" for pair in sim.cuts]
    return "; ".join(parts)


def _quorum(sim: QuorumSim, kind: str) -> str:
    last = sim.last.get(kind)
    if last is None:
        return "—"
    coordinator, _, waited, status, required = last
    if status != cl.OK:
        return f"{status} (needs {required})"
    counts: dict[str, int] = {}
    for dc in waited:
        counts[dc] = counts.get(dc, 0) + 1
    parts = " + ".join(f"{DC_NAME[dc]} {n}" for dc, n in counts.items())
    return f"{len(waited)} replies from {DC_NAME[coordinator]}: {parts}"


# -- the picture ---------------------------------------------------------------------------


def _svg(sim: QuorumSim, table: dict, phases: dict) -> str:
    read_cl, write_cl = sim.params["read_cl"], sim.params["write_cl"]
    keyspace = sim.keyspaces["eu"]
    reads, writes = table[(READ, read_cl)], table[(WRITE, write_cl)]
    title = (
        f"EU keyspace {describe(keyspace)} at {sim.now:.0f} s: {read_cl} reads "
        f"{_pct(reads['ok'])} ok (p50 {_ms(reads['p50'])}), {write_cl} writes "
        f"{_pct(writes['ok'])} ok (p50 {_ms(writes['p50'])}); "
        f"{_faults(sim) or 'no faults'}"
    )
    out = [svg_open(WIDTH, HEIGHT, title, font_size=11, fill="currentColor")]
    quorum = cl.quorum_for(keyspace)
    out.append(
        f'<text x="10" y="16" font-size="12" font-weight="600">EU keyspace: '
        f"{escape(describe(keyspace))} · QUORUM needs {quorum} of {keyspace.total_rf}</text>"
    )
    _map(out, sim)
    _table(out, table, read_cl, write_cl)
    _traveller(out, sim, phases)
    out.append(
        f'<text x="10" y="{HEIGHT - 22}" font-size="9" fill-opacity="0.85">'
        "Round trips: IBM Cloud's published averages between its regions (Dec 2025–Jan 2026), "
        "used as round-trip times. Our assumptions:</text>"
        f'<text x="10" y="{HEIGHT - 9}" font-size="9" fill-opacity="0.85">'
        f"0.5 ms inside a DC, replica service times, timeouts (read {READ_TIMEOUT_MS / 1000:g} s, "
        f"write {WRITE_TIMEOUT_MS / 1000:g} s), 10 s to convict a silent replica, traffic, "
        "routing, the migration rule.</text>"
    )
    out.append("</svg>")
    return "".join(out)


def _map(out: list[str], sim: QuorumSim) -> None:
    keyspace = sim.keyspaces["eu"]
    for region, name in REGIONS:
        left, right = BOXES[region]
        out.append(
            f'<rect x="{left}" y="26" width="{right - left}" height="116" rx="6" fill="none" '
            'stroke="currentColor" stroke-opacity="0.35"/>'
            f'<text x="{right - 8}" y="40" text-anchor="end" font-weight="600">{escape(name)}</text>'
        )
    # Gaps between continents: the round trips and any partition.
    gaps = (("us", "eu", "eu-us", 230, "wdc", "lon"), ("eu", "apac", "eu-apac", 470, "fra", "tok"))
    for _, _, pair, x, a, b in gaps:
        cut = pair in sim.cuts
        out.append(_gap(x, f"{rtt(a, b):.0f}", cut))
    pacific_cut = "us-apac" in sim.cuts
    out.append(
        f'<text x="{BOXES["apac"][0] + 8}" y="54" font-size="9"{_red(pacific_cut)}>'
        f"U.S. ↔ Asia {rtt('wdc', 'tok'):.0f}–{rtt('dal', 'tok'):.0f} ms"
        f"{' · CUT' if pacific_cut else ''}</text>"
    )
    _quorum_arcs(out, sim)
    for code, name, _ in DATACENTRES:
        x, up = DC_X[code], sim.dc_up[code]
        replicas = keyspace.rf_of(code)
        fill = DOWN_COLOUR if not up else "currentColor"
        opacity = "0.9" if not up else ("0.18" if replicas else "0.06")
        out.append(
            f'<circle cx="{x}" cy="{DC_Y}" r="17" fill="{fill}" fill-opacity="{opacity}" '
            'stroke="currentColor" stroke-opacity="0.6"/>'
            f'<text x="{x}" y="{DC_Y + 4}" text-anchor="middle" font-size="12" '
            f'font-weight="700">{replicas}</text>'
            f'<text x="{x}" y="{DC_Y + 31}" text-anchor="middle" font-size="10">{escape(name)}'
            f"{' · DOWN' if not up else ''}</text>"
        )
    out.append(
        f'<text x="10" y="{DC_Y + 52}" font-size="9" fill-opacity="0.85">Circles: EU replicas '
        "per data centre. Arcs: the replies an EU user's latest read (blue) and write (orange) "
        "waited for;</text>"
        f'<text x="10" y="{DC_Y + 63}" font-size="9" fill-opacity="0.85">dashed arcs cross an '
        "ocean. Between the boxes: round trips in ms.</text>"
    )


def _gap(x: int, label: str, cut: bool) -> str:
    mark = (
        f'<line x1="{x - 8}" y1="{DC_Y - 14}" x2="{x + 8}" y2="{DC_Y + 14}" '
        f'stroke="{DOWN_COLOUR}" stroke-width="3"/>'
        if cut
        else ""
    )
    return (
        f'<text x="{x}" y="{DC_Y - 20}" text-anchor="middle" font-size="9"{_red(cut)}>{label} ms</text>'
        f"{mark}"
        f'<text x="{x}" y="{DC_Y + 28}" text-anchor="middle" font-size="9" font-weight="700" '
        f'fill="{DOWN_COLOUR}">{"CUT" if cut else ""}</text>'
    )


def _red(flag: bool) -> str:
    return f' fill="{DOWN_COLOUR}" font-weight="700"' if flag else ""


def _quorum_arcs(out: list[str], sim: QuorumSim) -> None:
    for kind, colour, lift in ((READ, READ_COLOUR, 1.0), (WRITE, WRITE_COLOUR, 1.35)):
        last = sim.last.get(kind)
        if last is None or last[3] != cl.OK:
            continue
        coordinator, _, waited, _, _ = last
        x1 = DC_X[coordinator]
        for dc in dict.fromkeys(waited):
            if dc == coordinator:
                out.append(
                    f'<circle cx="{x1}" cy="{DC_Y}" r="{20 if kind == READ else 23}" fill="none" '
                    f'stroke="{colour}" stroke-width="2"/>'
                )
                continue
            x2 = DC_X[dc]
            height = min(56.0, 14 + abs(x2 - x1) * 0.12) * lift
            dash = "" if CONTINENT[dc] == CONTINENT[coordinator] else ' stroke-dasharray="5 3"'
            out.append(
                f'<path d="M{x1} {DC_Y - 17} Q{(x1 + x2) / 2:.0f} {DC_Y - 17 - height:.0f} '
                f'{x2} {DC_Y - 17}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
            )


def _table(out: list[str], table: dict, read_cl: str, write_cl: str) -> None:
    top = TABLE_TOP
    out.append(
        f'<text x="10" y="{top - 16}" font-size="11" font-weight="600">What each consistency '
        f"level gives on the same operations (last {next(iter(table.values()))['n'] or 0} "
        "EU operations per level; R, W: your levels)</text>"
    )
    out.append(f'<text x="10" y="{top}" font-size="10" font-weight="600">level</text>')
    for label, x in COLUMNS:
        out.append(
            f'<text x="{x}" y="{top}" text-anchor="end" font-size="10" font-weight="600">'
            f"{label}</text>"
        )
    for k, level in enumerate(cl.LEVELS):
        y = top + (k + 1) * ROW
        read, write = table[(READ, level)], table[(WRITE, level)]
        if level == read_cl:
            out.append(
                f'<rect x="4" y="{y - 13}" width="318" height="{ROW}" fill="{READ_COLOUR}" '
                'fill-opacity="0.16"/>'
            )
        if level == write_cl:
            out.append(
                f'<rect x="330" y="{y - 13}" width="178" height="{ROW}" fill="{WRITE_COLOUR}" '
                'fill-opacity="0.16"/>'
            )
        # The shading says which levels are chosen; R and W say it without colour.
        chosen = " R" if level == read_cl else ""
        chosen += " W" if level == write_cl else ""
        out.append(
            f'<text x="10" y="{y}">{level}<tspan font-size="8" font-weight="700">{chosen}'
            "</tspan></text>"
        )
        cells = (
            (_pct(read["ok"]), _bad(read["ok"])),
            (_ms(read["p50"]), ""),
            (_ms(read["p99"]), ""),
            (_pct(read["stale"]), _bad_stale(read["stale"])),
            (_pct(write["ok"]), _bad(write["ok"])),
            (_ms(write["p50"]), ""),
            (_ms(write["p99"]), ""),
            (f"r {_pct(read['crossed'])} · w {_pct(write['crossed'])}", ""),
        )
        for (text, style), (_, x) in zip(cells, COLUMNS, strict=True):
            out.append(f'<text x="{x}" y="{y}" text-anchor="end"{style}>{text}</text>')


def _bad(share: float | None) -> str:
    return (
        f' fill="{BAD_COLOUR}" font-weight="700"'
        if share is not None and share < SUCCEEDING
        else ""
    )


def _bad_stale(share: float | None) -> str:
    return f' fill="{BAD_COLOUR}" font-weight="700"' if share else ""


def _traveller(out: list[str], sim: QuorumSim, phases: dict) -> None:
    traveller = sim.traveller
    top = TABLE_TOP + 9 * ROW + 24
    recent = traveller.recent
    here = 0
    for region in recent:
        here += region == traveller.location
    if sim.params["migration"]:
        rule = (
            f"Our rule: her data moves when {sim.params['migrate_share']} % of her last "
            f"{recent.maxlen} requests come from one other region. Now {here} of {len(recent)} "
            f"from {REGION_NAME[traveller.location]}."
        )
    else:
        rule = "migration off"
    out.append(
        f'<text x="10" y="{top}" font-size="11" font-weight="600">The traveller: in '
        f"{REGION_NAME[traveller.location]}, her data in the {REGION_NAME[traveller.data_region]} "
        f"cluster</text>"
        f'<text x="10" y="{top + 15}" font-size="10">{escape(rule)}</text>'
    )
    x = 10
    for phase, label in (
        ("before", "at home, before the trip"),
        ("away", "away from her data"),
        ("after", "after migration"),
    ):
        out.append(
            f'<text x="{x}" y="{top + 33}" font-size="10">{label}</text>'
            f'<text x="{x}" y="{top + 50}" font-size="14" font-weight="700">'
            f"{_pair(phases[phase])}</text>"
        )
        x += 210
    out.append(
        f'<text x="{WIDTH - 10}" y="{top}" text-anchor="end" font-size="9">'
        f"p50 / p99 of her {sim.params['read_cl']} reads and {sim.params['write_cl']} writes</text>"
    )
