"""Turns a :class:`~demos.skinny.core.Cluster` into a :class:`demokit.Frame`.

The picture is a rough world map with one box per instance (promised, id, holder,
up or down, busy), the links between them and the messages on the wire. It is
redrawn every animation frame, so it is plain string building; the parts that do not
change with the state (map, legend, message tracks) are built once.
"""

from __future__ import annotations

from demokit import Frame
from demokit.svg import escape, svg_open

from .core import PARTITIONS, Cluster, Instance, Message, fmt_ms

WIDTH, HEIGHT = 640, 420
BOX_W, BOX_H = 128, 60

# Rough places on a 640x420 world map; moved a little so the boxes do not overlap.
POSITIONS: dict[str, tuple[float, float]] = {
    "oregon": (92, 118),
    "virginia": (204, 186),
    "spaulo": (214, 330),
    "london": (330, 84),
    "mumbai": (430, 216),
    "taiwan": (545, 140),
    "sydney": (558, 330),
}

# Accents chosen for at least 3:1 contrast on white and on #1e2129 (the dark theme).
BLUE = "#4c7fd0"  # promise
AMBER = "#b7791f"  # commit
GREEN = "#1f9d55"  # yes, stored
RED = "#dc3545"  # no, refused, error, partition, down
GREY = "#7a7f8c"  # links

_CONTINENTS = (
    "20,62 178,40 262,70 236,150 172,214 118,222 58,170 20,112",  # North America
    "182,244 262,250 284,300 244,392 210,404 190,322",  # South America
    "288,48 372,38 394,92 342,122 300,112",  # Europe
    "300,142 382,140 404,222 362,304 330,304 302,212",  # Africa
    "384,38 604,40 624,112 572,192 500,224 432,204 392,124",  # Asia
    "506,296 602,286 624,352 584,394 520,372",  # Australia
)

_background_svg: list[str] = []
_tracks: dict[tuple[str, str], tuple[float, float, float, float]] = {}


def _background() -> str:
    """Map and legend: the same for every frame, so built once."""
    if _background_svg:
        return _background_svg[0]
    parts = [
        f'<polygon points="{points}" fill="currentColor" fill-opacity="0.07"/>'
        for points in _CONTINENTS
    ]
    legend = ((BLUE, "promise"), (AMBER, "commit"), (GREEN, "yes / ok"), (RED, "no / error"))
    x = 12
    for colour, label in legend:
        parts.append(f'<circle cx="{x + 4}" cy="404" r="4" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 12}" y="408" font-size="10" fill="currentColor">{label}</text>'
        )
        x += 22 + 6 * len(label)
    parts.append(
        '<text x="628" y="408" font-size="10" text-anchor="end" fill="currentColor"'
        ' fill-opacity="0.8">latencies: our assumption, not Skinny\'s</text>'
    )
    _background_svg.append("".join(parts))
    return _background_svg[0]


def _edge(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """Where the segment from box centre ``a`` towards ``b`` leaves box ``a``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    tx = (BOX_W / 2 + 3) / abs(dx) if dx else float("inf")
    ty = (BOX_H / 2 + 3) / abs(dy) if dy else float("inf")
    t = min(tx, ty, 0.5)
    return a[0] + dx * t, a[1] + dy * t


def _segment(src: str, dst: str) -> tuple[float, float, float, float]:
    """The visible part of the link from ``src`` to ``dst``: box edge to box edge."""
    a, b = POSITIONS[src], POSITIONS[dst]
    x1, y1 = _edge(a, b)
    x2, y2 = _edge(b, a)
    return x1, y1, x2, y2


def _track(src: str, dst: str) -> tuple[float, float, float, float]:
    """Where messages travel: the link minus a margin at each end, so that a label
    next to a message just sent or about to arrive stays clear of the box text."""
    key = (src, dst)
    cached = _tracks.get(key)
    if cached is None:
        x1, y1, x2, y2 = _segment(src, dst)
        dx, dy = x2 - x1, y2 - y1
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        trim = min(24.0, 0.3 * length) / length
        cached = (x1 + dx * trim, y1 + dy * trim, x2 - dx * trim, y2 - dy * trim)
        _tracks[key] = cached
    return cached


def _links(sim: Cluster) -> str:
    parts = []
    names = list(sim.instances)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            x1, y1, x2, y2 = _segment(a, b)
            mode = sim.link_mode(a, b)
            down = not (sim.instances[a].up and sim.instances[b].up)
            if sim.partitioned(a, b):
                style = f'stroke="{RED}" stroke-dasharray="6 5" stroke-opacity="0.8"'
            elif mode == "lossy":
                style = f'stroke="{GREY}" stroke-dasharray="2 4" stroke-opacity="0.9"'
            else:
                opacity = "0.25" if down else "0.55"
                style = f'stroke="{GREY}" stroke-opacity="{opacity}"'
            width = "2.5" if mode == "slow" else "1"
            parts.append(
                f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                f'stroke-width="{width}" {style}/>'
            )
            if mode != "normal":
                parts.append(
                    f'<text x="{(x1 + x2) / 2:.0f}" y="{(y1 + y2) / 2 - 4:.0f}" font-size="9" '
                    f'text-anchor="middle" fill="currentColor">{mode}</text>'
                )
    return "".join(parts)


def _colour(message: Message) -> str:
    if message.kind == "promise":
        return BLUE
    if message.kind == "commit":
        return AMBER
    return GREEN if message.ok else RED


def _messages(sim: Cluster) -> str:
    # Messages close together on one link (sent at about the same time) share a dot
    # and a label; otherwise their labels would print over each other.
    spots: list[list] = []
    last: dict[tuple[str, str], list] = {}
    for message in sim.messages():
        x1, y1, x2, y2 = _track(message.src, message.dst)
        span = message.arrives - message.sent
        progress = (sim.now - message.sent) / span if span > 0 else 1.0
        if message.fate != "arrive":
            progress *= 0.5  # dropped messages vanish halfway
        progress = min(max(progress, 0.0), 1.0)
        dx, dy = x2 - x1, y2 - y1
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        # Offset to the right of travel so requests and replies on one link do not overlap.
        nx, ny = -dy / length, dx / length
        x, y = x1 + dx * progress + nx * 7, y1 + dy * progress + ny * 7
        link = (message.src, message.dst)
        group = last.get(link)
        if group is not None and abs(group[0] - x) + abs(group[1] - y) < 14:
            group[3].append(message.label())
            continue
        group = [x, y, (nx, ny, _colour(message)), [message.label()]]
        last[link] = group
        spots.append(group)
    parts = []
    for x, y, (nx, ny, colour), labels in spots:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>')
        # The label sits on the far side of the dot from the link.
        anchor = "start" if nx > 0.3 else ("end" if nx < -0.3 else "middle")
        lx, ly = x + nx * 9, y + ny * 9 + (7 if ny > 0.3 else (0 if ny < -0.3 else 3))
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="9" text-anchor="{anchor}" '
            f'fill="currentColor">{escape(" + ".join(labels))}</text>'
        )
    return "".join(parts)


def _tag(sim: Cluster, inst: Instance) -> tuple[str, str]:
    """A short line about what the instance is doing, and its colour."""
    if not inst.up:
        return ("host gone" if inst.gone else "down"), RED
    op = inst.owner
    if op is not None and op.round is not None:
        if op.state == "proposing":
            return f"votes on {op.round.id} · {op.client}", BLUE
        return f"commits {op.round.id} · {op.client}", AMBER
    for other in sim.operations():
        if other.instance == inst.name and other.state == "sleeping":
            return f"sleeps · retry {other.retries}", GREY
    return "idle", GREY


def _boxes(sim: Cluster) -> str:
    parts = []
    for inst in sim.instances.values():
        cx, cy = POSITIONS[inst.name]
        x, y = cx - BOX_W / 2, cy - BOX_H / 2
        tag, colour = _tag(sim, inst)
        stroke = RED if not inst.up else ("currentColor" if inst.owner is None else colour)
        dash = ' stroke-dasharray="4 3"' if not inst.up else ""
        dim = ' fill-opacity="0.55"' if not inst.up else ""
        width = "2" if inst.owner is not None else "1.2"
        holder = escape(inst.holder) if inst.holder else "free"
        queue = (
            f'<text x="{x + BOX_W - 7:.0f}" y="{y + 28:.0f}" font-size="9" text-anchor="end" '
            f'fill="currentColor">{len(inst.waiting)} waiting</text>'
            if inst.waiting
            else ""
        )
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="none" stroke="{stroke}" stroke-width="{width}"{dash}/>'
            f'<text x="{x + 7:.0f}" y="{y + 14:.0f}" font-size="12" font-weight="bold" '
            f'fill="currentColor"{dim}>{inst.name}</text>'
            f'<text x="{x + BOX_W - 7:.0f}" y="{y + 14:.0f}" font-size="10" text-anchor="end" '
            f'fill="currentColor" fill-opacity="0.7">+{inst.increment}</text>'
            f'<text x="{x + 7:.0f}" y="{y + 28:.0f}" font-size="11" fill="currentColor"{dim}>'
            f"promised {inst.promised}</text>{queue}"
            f'<text x="{x + 7:.0f}" y="{y + 41:.0f}" font-size="11" fill="currentColor"{dim}>'
            f"id {inst.id} · {holder}</text>"
            f'<circle cx="{x + 11:.0f}" cy="{y + 50.5:.1f}" r="3.5" fill="{colour}"/>'
            f'<text x="{x + 19:.0f}" y="{y + 54:.0f}" font-size="10" fill="currentColor">'
            f"{escape(tag)}</text>"
        )
    return "".join(parts)


def _status(sim: Cluster) -> str:
    busy = []
    for op in sim.operations():
        if op.state == "done":
            continue
        rnd = op.round
        if op.state == "proposing" and rnd is not None:
            busy.append(f"{op.instance} votes on {rnd.id} ({rnd.yes} yes, {rnd.no} no)")
        elif op.state == "committing" and rnd is not None:
            busy.append(f"{op.instance} commits {rnd.id}: {rnd.holder or 'free'}")
        elif op.state == "sleeping":
            busy.append(f"{op.instance} sleeps before retry {op.retries}")
        else:
            busy.append(f"{op.client} waits for {op.instance}")
    if busy:
        return f"t = {fmt_ms(sim.now)} ms · " + "; ".join(busy)
    up = [inst for inst in sim.instances.values() if inst.up]
    pairs = {(inst.id, inst.holder) for inst in up}
    if len(pairs) == 1:
        ((cid, holder),) = pairs
        agreed = f"all running instances agree: id {cid}, holder {holder or 'none'}"
    else:
        agreed = "running instances disagree about the holder"
    quiet = "messages still on the wire" if sim.in_flight else "quiet"
    return f"t = {fmt_ms(sim.now)} ms · {quiet}; {agreed}"


def render(sim: Cluster) -> Frame:
    """The frame for the cluster's current state."""
    title = (
        f"Skinny cluster of {sim.size} at {fmt_ms(sim.now)} ms: "
        f"{len(sim.in_flight)} messages in flight"
    )
    svg = (
        f"{svg_open(WIDTH, HEIGHT, title)}{_background()}"
        f'<text x="12" y="20" font-size="13" fill="currentColor">t = {fmt_ms(sim.now)} ms</text>'
        f"{_links(sim)}{_boxes(sim)}{_messages(sim)}</svg>"
    )
    metrics = [
        ("time", f"{fmt_ms(sim.now)} ms"),
        ("in flight", str(len(sim.in_flight))),
        ("majority", f"{sim.quorum} of {sim.size}"),
        ("partition", PARTITIONS[sim.partition][0]),
    ]
    metrics.extend((client, answer) for client, answer in sim.answers.items())
    count = len(sim.log)
    recent = (sim.log[i] for i in range(max(0, count - 12), count))
    log = tuple(f"{fmt_ms(t)} ms  {text}" for t, text in recent)
    values = (
        ("time", sim.now, "ms"),
        ("in_flight", len(sim.in_flight), "messages"),
        ("majority", sim.quorum, "votes"),
        ("instances", sim.size, "instances"),
        ("holders", len(sim.believers), "clients"),
    )
    return Frame(svg=svg, status=_status(sim), metrics=tuple(metrics), log=log, values=values)
