"""Turns a :class:`~.core.Machine` into a :class:`demokit.Frame`: one SVG with four
stacked charts over time, a status line, metrics and a log of kills in words.

The SVG uses no ids, scripts or external resources; text is ``currentColor`` so it
follows the page's light or dark theme, and the accent colours keep at least 3:1
contrast on white and on the dark theme's #1e2129.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from demokit import Frame, total
from demokit.svg import escape, svg_open

from .core import Kill, Machine
from .psi import FIXED_1, format_avg

W, H = 640, 420
X0, X1 = 50, 630
MEM = (30, 146)
REFAULT = (160, 182)
PRESSURE = (224, 298)
RSS = (322, 392)
AXIS_Y = 405

ANON = "#e8590c"
FILE = "#1c7ed6"
CACHE = "#1098ad"
SWAP = "#ae3ec9"
SOME = "#2f9e44"
FULL = "#e03131"
WEB = "#4c6ef5"
LEAKY = "#d6336c"
FREE = "#868e96"

_KILLER_WORDS = {"oom": "OOM kill", "memcg": "OOM kill", "oomd": "oomd kill"}
_NICE_SPANS = (60, 120, 180, 240, 300, 420, 600, 900, 1200)


def outcome(machine: Machine) -> str:
    """The run's outcome in a short phrase, e.g. "OOM kill at 134 s (leaky)"."""
    if machine.panicked and not machine.kills:
        return f"kernel panic at {machine.now:.0f} s"
    first = machine.first_kill()
    if first is None:
        return "no kill" if machine.done else "no kill yet"
    who = first.victim + (", memory.max" if first.killer == "memcg" else "")
    text = f"{_KILLER_WORDS[first.killer]} at {first.t:.0f} s ({who})"
    more = len(machine.kills) - 1
    return text + (f" +{more} more" if more else "")


def phase(machine: Machine) -> str:
    """What the machine is doing right now, in a few words."""
    if machine.panicked:
        return "kernel panic: out of memory and nothing left to kill"
    last = machine.kills[-1] if machine.kills else None
    if last is not None and machine.now - last.t < 3:
        return f"{last.victim} was just killed"
    full10 = machine.psi.full.avg10 / 2048
    some10 = machine.psi.some.avg10 / 2048
    throttled = [w.name for w in machine.alive if w.usage > w.memory_high]
    if machine.refault_rate > 5 and full10 > 10:
        return "thrashing: working sets are evicted and read back"
    if throttled:
        return f"{', '.join(throttled)} throttled above memory.high"
    if machine.refault_rate > 5 or some10 > 10:
        if machine.swap_total and machine.swap_used > 1:
            return "swapping out cold pages; some tasks wait on refaults"
        return "reclaim is evicting working sets; refaults rising"
    if machine.free < machine.wm_high * 1.5:
        if machine.swap_used > 1:
            return "free memory at the watermark; cold pages go to swap"
        return "free memory at the watermark; page cache is being recycled"
    return "plenty of free memory"


_pictures: WeakKeyDictionary[Machine, tuple[tuple, str]] = WeakKeyDictionary()
"""Each machine's last SVG and what it was drawn from: the widget asks for a frame on
every animation frame, and the picture changes only with the history, kills, limits or
the PSI lines it prints. A frame must never depend on when earlier frames were drawn."""


def render(machine: Machine) -> Frame:
    """The current frame: SVG, status line, metrics and log."""
    # The picture also prints /proc/pressure/memory, whose totals move every tick.
    key = (
        machine.history.version,
        len(machine.kills),
        machine.killer,
        _limits(machine),
        machine.psi.show(),
    )
    cached = _pictures.get(machine)
    if cached is None or cached[0] != key:
        cached = (key, render_svg(machine))
        _pictures[machine] = cached
    return Frame(
        svg=cached[1],
        status=status_line(machine),
        metrics=metrics(machine),
        log=log_lines(machine),
        values=values(machine),
    )


def values(machine: Machine) -> tuple[tuple[str, float, str], ...]:
    """The numbers behind :func:`metrics`, with their units."""
    return (
        ("time", machine.now, "s"),
        ("kills", len(machine.kills), "kills"),
        ("free", max(0.0, machine.free), "MiB"),
        ("swap_used", machine.swap_used, "MiB"),
        ("refaults", machine.refault_rate, "MiB/s"),
        ("some_avg10", machine.psi.some.avg10 / FIXED_1, "%"),
        ("full_avg10", machine.psi.full.avg10 / FIXED_1, "%"),
    )


def _limits(machine: Machine) -> tuple:
    leaky = machine.by_name["leaky"]
    return (machine.oomd_limit_pct, leaky.memory_high, leaky.memory_max)


def status_line(machine: Machine) -> str:
    """One line: time, what is happening, and the numbers that show it."""
    return (
        f"{machine.now:.1f} s · {phase(machine)} · free {max(0.0, machine.free):.0f} MiB · "
        f"refaults {machine.refault_rate:.1f} MiB/s · "
        f"some avg10 {format_avg(machine.psi.some.avg10)}% · "
        f"full avg10 {format_avg(machine.psi.full.avg10)}%"
    )


def metrics(machine: Machine) -> tuple[tuple[str, str], ...]:
    """Label/value pairs; "Kills" and "Outcome" are read by browser tests."""
    web = machine.by_name["web"]
    leaky = machine.by_name["leaky"]
    cache = total(w.cache for w in machine.alive)
    swap = (
        f"{machine.swap_used:.0f} / {machine.swap_total:.0f} MiB" if machine.swap_total else "off"
    )
    return (
        ("Time", f"{machine.now:.0f} s"),
        ("Outcome", outcome(machine)),
        ("Kills", str(len(machine.kills))),
        ("Free", f"{max(0.0, machine.free):.0f} MiB"),
        ("Page cache", f"{cache:.0f} MiB"),
        ("Swap used", swap),
        ("RSS web", f"{web.rss:.0f} MiB" if web.alive else "killed"),
        ("RSS leaky", f"{leaky.rss:.0f} MiB" if leaky.alive else "killed"),
        ("Refaults", f"{machine.refault_rate:.1f} MiB/s"),
        ("some avg10", format_avg(machine.psi.some.avg10) + " %"),
        ("full avg10", format_avg(machine.psi.full.avg10) + " %"),
        ("leaky full avg10", format_avg(leaky.psi.full.avg10) + " %" if leaky.alive else "–"),
        ("web progress", f"{100 * web.progress:.0f} %" if web.alive else "killed"),
    )


def log_lines(machine: Machine, limit: int = 12) -> tuple[str, ...]:
    """Every kill with its reason, plus the most recent other events, oldest first."""
    entries = machine.log
    if len(entries) > limit:
        kills = [i for i, e in enumerate(entries) if e[1] == "kill"][-limit:]
        room = limit - len(kills)
        others = [i for i, e in enumerate(entries) if e[1] != "kill"][-room:] if room else []
        keep = set(kills) | set(others)
        entries = [e for i, e in enumerate(entries) if i in keep]
    return tuple(text for _, _, text in entries)


# --- SVG ---------------------------------------------------------------------------------


def _span(now: float) -> float:
    for span in _NICE_SPANS:
        if now <= span:
            return float(span)
    return float(_NICE_SPANS[-1])


def _points(xs: list[int], ys: list[int]) -> str:
    return " ".join(f"{x},{y}" for x, y in zip(xs, ys, strict=True))


def _area(xs: list[int], ys: list[int], base: int, colour: str, opacity: float) -> str:
    if not xs:
        return ""
    edge = _points(xs, ys)
    return (
        f'<polygon points="{xs[0]},{base} {edge} {xs[-1]},{base}" fill="{colour}" '
        f'fill-opacity="{opacity}"/>'
    )


def _line(xs: list[int], ys: list[int], colour: str, width: float = 1.5, dash: str = "") -> str:
    if len(xs) < 2:
        return ""
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{_points(xs, ys)}" fill="none" stroke="{colour}" '
        f'stroke-width="{width}"{dash_attr} stroke-linejoin="round"/>'
    )


def _text(x: float, y: float, text: str, size: float = 10, anchor: str = "start", **extra) -> str:
    attrs = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in extra.items())
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="currentColor"{attrs}>{escape(text)}</text>'
    )


def _legend(x: float, y: float, items: list[tuple[str, str]]) -> tuple[list[str], float]:
    out = []
    for colour, label in items:
        # The kernel's band is drawn in the text colour, faded, to stay neutral.
        fade = ' fill-opacity="0.35"' if colour == "currentColor" else ""
        out.append(
            f'<rect x="{x:.0f}" y="{y - 8:.0f}" width="9" height="9" fill="{colour}"{fade}/>'
        )
        out.append(_text(x + 12, y, label, size=10))
        x += 12 + 5.6 * len(label) + 12
    return out, x


def render_svg(machine: Machine) -> str:
    """The picture: memory composition, refaults, pressure, RSS and free over time."""
    h = machine.history.data
    span = _span(machine.now)
    sx = (X1 - X0) / span
    xs = [round(X0 + t * sx) for t in h["t"]]
    ram = machine.ram
    top_mem = ram + machine.swap_total
    out = [
        svg_open(
            W,
            H,
            "Memory composition, refaults, memory pressure (PSI), RSS and free memory "
            "over time, with every kill marked",
        )
    ]

    # Legend for the memory chart.
    items = [("currentColor", "kernel"), (ANON, "anon"), (FILE, "file working set")]
    items += [(CACHE, "page cache"), (FREE, "free")]
    if machine.swap_total:
        items.append((SWAP, "swap used"))
    legend, _ = _legend(X0, 12, items)
    out += legend

    # Memory composition, stacked: kernel, anon, file, cache, free up to RAM; swap above.
    top, bottom = MEM
    scale = (bottom - top) / top_mem

    def ym(v: float) -> int:
        return round(bottom - v * scale)

    k = h["kernel"]
    c_anon = [a + b for a, b in zip(k, h["anon"], strict=True)]
    c_file = [a + b for a, b in zip(c_anon, h["file"], strict=True)]
    c_cache = [a + b for a, b in zip(c_file, h["cache"], strict=True)]
    y_ram = ym(ram)
    if xs:
        out.append(
            f'<rect x="{xs[0]}" y="{y_ram}" width="{max(0, xs[-1] - xs[0])}" '
            f'height="{bottom - y_ram}" fill="{FREE}" fill-opacity="0.25"/>'
        )
    if machine.swap_total:
        out.append(_area(xs, [ym(ram + s) for s in h["swap"]], y_ram, SWAP, 0.7))
    out.append(_area(xs, [ym(v) for v in c_cache], bottom, CACHE, 0.55))
    out.append(_area(xs, [ym(v) for v in c_file], bottom, FILE, 0.75))
    out.append(_area(xs, [ym(v) for v in c_anon], bottom, ANON, 0.75))
    out.append(_area(xs, [ym(v) for v in k], bottom, "currentColor", 0.35))
    out.append(
        f'<line x1="{X0}" y1="{y_ram}" x2="{X1}" y2="{y_ram}" stroke="currentColor" '
        f'stroke-width="1"/>'
    )
    out.append(_text(X0 - 4, y_ram + 3, f"{ram:.0f}", size=9, anchor="end"))
    out.append(_text(X0 - 4, bottom, "0", size=9, anchor="end"))
    title = f"memory, MiB: {ram:.0f} RAM"
    title += f" + {machine.swap_total:.0f} swap" if machine.swap_total else ", no swap"
    out.append(_text(X1, 26, title, size=9, anchor="end"))
    if machine.swap_total:
        out.append(_text(X0 - 4, top + 8, f"{top_mem:.0f}", size=9, anchor="end"))

    # Refaults: what reclaim took and had to read back.
    top, bottom = REFAULT
    peak = max([20.0, *h["refault"]])
    ys = [round(bottom - (bottom - top) * r / peak) for r in h["refault"]]
    out.append(_area(xs, ys, bottom, FULL, 0.6))
    out.append(_text(X0, top - 3, "refaults (evicted pages read back), MiB/s", size=9))
    out.append(_text(X0 - 4, top + 6, f"{peak:.0f}", size=9, anchor="end"))
    out.append(_text(X0 - 4, bottom, "0", size=9, anchor="end"))

    # Pressure: /proc/pressure/memory and the leaky cgroup's memory.pressure.
    top, bottom = PRESSURE
    pscale = (bottom - top) / 100.0

    def yp(v: float) -> int:
        return round(bottom - v * pscale)

    for pct in (50, 100):
        out.append(
            f'<line x1="{X0}" y1="{yp(pct)}" x2="{X1}" y2="{yp(pct)}" stroke="currentColor" '
            f'stroke-opacity="0.2"/>'
        )
        out.append(_text(X0 - 4, yp(pct) + 3, f"{pct}%", size=9, anchor="end"))
    out.append(_text(X0 - 4, bottom, "0", size=9, anchor="end"))
    if machine.killer == "oomd":
        y = yp(machine.oomd_limit_pct)
        out.append(
            f'<line x1="{X0}" y1="{y}" x2="{X1}" y2="{y}" stroke="{LEAKY}" '
            f'stroke-dasharray="6 3" stroke-width="1"/>'
        )
        label = f"oomd limit {machine.oomd_limit_pct}%"
        out.append(_text(X1 - 2, y - 3, label, size=9, anchor="end"))
    for name, colour in (("some", SOME), ("full", FULL)):
        for window, dash, width in (("10", "", 1.8), ("60", "5 3", 1.2), ("300", "1 3", 1.2)):
            ys = [yp(v) for v in h[name + window]]
            out.append(_line(xs, ys, colour, width, dash))
    out.append(_line(xs, [yp(v) for v in h["watch"]], LEAKY, 1.2))
    out.append(
        f'<text x="{X0}" y="{top - 25}" font-size="9" fill="currentColor">pressure, %: '
        f'<tspan fill="{SOME}">some</tspan> / <tspan fill="{FULL}">full</tspan> '
        f"(solid avg10, dashed avg60, dotted avg300), "
        f'<tspan fill="{LEAKY}">leaky cgroup full avg10</tspan></text>'
    )
    # The same numbers as the kernel prints them.
    for i, line in enumerate(machine.psi.show().splitlines()):
        out.append(_text(X0, top - 14 + i * 9, line, size=8, font_family="ui-monospace, monospace"))

    # RSS and free: the numbers people watch, next to the ones that matter.
    top, bottom = RSS
    series = [(h["rss_web"], WEB, "RSS web"), (h["rss_leaky"], LEAKY, "RSS leaky")]
    series.append((h["free"], FREE, "free"))
    peak = max([256.0, *h["rss_web"], *h["rss_leaky"], *h["free"]])
    leaky = machine.by_name["leaky"]
    for limit in (leaky.memory_high, leaky.memory_max):
        if limit != float("inf"):
            peak = max(peak, limit)
    rscale = (bottom - top) / peak

    def yr(v: float) -> int:
        return round(bottom - v * rscale)

    for values, colour, _ in series:
        out.append(_line(xs, [yr(v) for v in values], colour, 1.6))
    for limit, label in ((leaky.memory_high, "memory.high"), (leaky.memory_max, "memory.max")):
        if limit != float("inf"):
            out.append(
                f'<line x1="{X0}" y1="{yr(limit)}" x2="{X1}" y2="{yr(limit)}" stroke="{LEAKY}" '
                f'stroke-dasharray="4 3" stroke-width="1"/>'
            )
            out.append(_text(X1 - 2, yr(limit) - 3, f"leaky {label}", size=9, anchor="end"))
    legend, _ = _legend(X0, top - 4, [(c, label) for _, c, label in series])
    out += legend
    out.append(_text(X1, top - 4, "MiB", size=9, anchor="end"))
    out.append(_text(X0 - 4, top + 6, f"{peak:.0f}", size=9, anchor="end"))
    out.append(_text(X0 - 4, bottom, "0", size=9, anchor="end"))

    # Time axis.
    step = 10 if span <= 60 else 30 if span <= 180 else 60 if span <= 360 else 120
    for t in range(0, int(span) + 1, step):
        x = round(X0 + t * sx)
        out.append(
            f'<line x1="{x}" y1="{RSS[1]}" x2="{x}" y2="{RSS[1] + 3}" stroke="currentColor"/>'
        )
        out.append(_text(x, AXIS_Y + 4, f"{t} s", size=9, anchor="middle"))

    # Kills: one marker across all charts.
    for kill in machine.kills:
        out += _kill_marker(kill, X0 + kill.t * sx)

    out.append("</svg>")
    return "".join(part for part in out if part)


def _kill_marker(kill: Kill, x: float) -> list[str]:
    label = f"{_KILLER_WORDS[kill.killer]}: {kill.victim}"
    anchor, dx = ("end", -3) if x > X1 - 90 else ("start", 3)
    return [
        f'<line x1="{x:.0f}" y1="{MEM[0]}" x2="{x:.0f}" y2="{RSS[1]}" stroke="currentColor" '
        f'stroke-width="1.2" stroke-dasharray="3 2"/>',
        _text(x + dx, MEM[0] + 10, label, size=10, anchor=anchor, font_weight="bold"),
    ]
