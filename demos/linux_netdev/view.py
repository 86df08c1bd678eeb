"""Turns the network into a Frame: the topology with the device of the latest hop lit,
the last hops in words, the reachability matrix and the bridge's learned entries.

Runs every animation frame, so it only reads what the simulation keeps up to date (the
matrix is worked out by the simulation when something changes, not here).
"""

from __future__ import annotations

from demokit import Frame
from demokit.svg import escape, svg_open

from .core import NetdevSimulation
from .devices import short

WIDTH, HEIGHT = 640, 460
ACCENT = "#e8590c"
GOOD, BAD = "#2f9e44", "#e03131"
BOX = 'fill="none" stroke="currentColor" stroke-opacity="0.45" rx="6"'

# Per topology: namespace boxes (ns, x, y, w, h, label), interface pills (key: x, y)
# and links (a, b, dashed?, label).
LAYOUTS = {
    "bridge": (
        [("c1", 10, 34, 170, 64, "container c1"), ("c2", 460, 34, 170, 64, "container c2"),
         ("host", 10, 120, 620, 110, "host")],
        {"c1:eth0": (95, 78), "c2:eth0": (545, 78), "host:veth1": (95, 150),
         "host:veth2": (545, 150), "host:br0": (320, 200)},
        [("c1:eth0", "host:veth1", False, "veth pair"), ("c2:eth0", "host:veth2", False, "veth pair"),
         ("host:veth1", "host:br0", True, "port"), ("host:veth2", "host:br0", True, "port")],
    ),
    "vpn": (
        [("host", 10, 40, 250, 150, "host (the VPN client)"),
         ("office", 380, 40, 250, 150, "office (the far end)")],
        {"host:tun0": (135, 90), "office:tun0": (505, 90), "host:tap0": (135, 90),
         "office:tap0": (505, 90), "vpnd@host": (135, 160), "vpnd@office": (505, 160)},
        [("host:tun0", "vpnd@host", True, "fd"), ("office:tun0", "vpnd@office", True, "fd"),
         ("host:tap0", "vpnd@host", True, "fd"), ("office:tap0", "vpnd@office", True, "fd"),
         ("vpnd@host", "vpnd@office", False, "UDP over the internet\n(not modelled)")],
    ),
    "macvlan": (
        [("c1", 10, 34, 140, 64, "container c1"), ("c2", 170, 34, 140, 64, "container c2"),
         ("lan", 480, 34, 150, 64, "LAN host"), ("host", 10, 128, 300, 100, "host"),
         ("switch", 360, 128, 270, 100, "external switch (ours)")],
        {"c1:mv1": (80, 78), "c2:mv2": (240, 78), "c1:iv1": (80, 78), "c2:iv2": (240, 78),
         "host:eth0": (160, 200), "switch:p1": (410, 200), "switch:p2": (580, 200),
         "switch:sw0": (495, 160), "lan:eth0": (555, 78)},
        [("c1:mv1", "host:eth0", True, ""), ("c2:mv2", "host:eth0", True, ""),
         ("c1:iv1", "host:eth0", True, ""), ("c2:iv2", "host:eth0", True, ""),
         ("host:eth0", "switch:p1", False, "cable"), ("switch:p2", "lan:eth0", False, ""),
         ("switch:p1", "switch:sw0", True, ""), ("switch:p2", "switch:sw0", True, "")],
    ),
}  # fmt: skip
LAYOUTS["ipvlan"] = LAYOUTS["macvlan"]

OUTCOME_WORDS = {
    "reply": "reply received",
    "lost": "no reply",
    "unreachable": "host unreachable",
    "no route": "network unreachable",
    "": "in flight",
}


def render(sim: NetdevSimulation) -> Frame:
    """The frame for the simulation's current state."""
    net = sim.net
    mode = _mode(sim)
    reachable = sum(1 for v in sim.reach.values() if v == "reply")
    last = sim.last
    outcome = OUTCOME_WORDS[last.outcome] if last else "no ping yet"
    ping_words = f"{last.src} → {last.dst}: {outcome}" if last else outcome
    title = f"{_topology_words(sim)}{mode}: last ping {ping_words}; {reachable} of {len(sim.reach)} pairs reachable"
    out = [svg_open(WIDTH, HEIGHT, title, font_size=11, fill="currentColor")]
    out.append(
        f'<text x="10" y="20" font-size="12" font-weight="700">{escape(_topology_words(sim) + mode)}'
        f'</text><text x="630" y="20" font-size="11" text-anchor="end">t = {net.now:.3f} s · '
        f"last ping {escape(ping_words)}</text>"
    )
    _diagram(out, sim)
    _hops(out, sim)
    _matrix(out, sim)
    _table(out, sim)
    out.append("</svg>")

    status = f"t = {net.now:.3f} s · {_topology_words(sim)}{mode} · last ping {ping_words}"
    metrics = [
        ("Last ping", ping_words),
        ("Reachable pairs", f"{reachable} of {len(sim.reach)}"),
        ("Hops of the last ping", str(last.hops) if last else "—"),
    ]
    for bridge in net.bridges.values():
        metrics.append((f"{bridge.name}: learned MACs", str(len(bridge.fdb))))
    for proc in net.processes.values():
        metrics.append((proc.key, "running" if proc.running else "stopped (no carrier)"))
    values = [
        ("time", net.now, "s"),
        ("reachable_pairs", reachable, "pairs"),
        ("pairs", len(sim.reach), "pairs"),
        ("last_ping_replied", 1 if last and last.outcome == "reply" else 0, "bool"),
    ]
    for bridge in net.bridges.values():
        values.append((f"{bridge.name}_learned", len(bridge.fdb), "entries"))
    return Frame(
        svg="".join(out),
        status=status,
        metrics=tuple(metrics),
        log=tuple(sim.log),
        values=tuple(values),
    )


def _topology_words(sim: NetdevSimulation) -> str:
    return {"vpn": "VPN", "bridge": "bridge", "macvlan": "macvlan", "ipvlan": "ipvlan"}[
        sim.topology
    ]


def _mode(sim: NetdevSimulation) -> str:
    p = sim.params
    if sim.topology == "vpn":
        return f" over {p['tun_kind']}"
    if sim.topology == "macvlan":
        return f", {p['macvlan_mode']} mode" + (", hairpin switch" if p["hairpin"] else "")
    if sim.topology == "ipvlan":
        return f", {p['ipvlan_mode']} mode" + (", hairpin switch" if p["hairpin"] else "")
    return ""


def _diagram(out: list[str], sim: NetdevSimulation) -> None:
    net = sim.net
    boxes, pills, links = LAYOUTS[sim.topology]
    lit = {where for _, where, _ in list(sim.recent)[-1:]}
    for ns, x, y, w, h, label in boxes:
        out.append(
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" {BOX}/>'
            f'<text x="{x + 6}" y="{y + 14}" font-size="10" font-weight="600">{escape(label)}</text>'
        )
        if not any(i.ns == ns for i in net.ifaces.values()):
            out.append(
                f'<text x="{x + w / 2:.0f}" y="{y + 40}" font-size="9" text-anchor="middle">'
                "no child: passthru has one</text>"
            )
    present = {k: v for k, v in pills.items() if k in net.ifaces or k in net.processes}
    for a, b, dashed, label in links:
        if a not in present or b not in present:
            continue
        (x1, y1), (x2, y2) = present[a], present[b]
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        out.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="currentColor" '
            f'stroke-opacity="0.6" stroke-width="1.5"{dash}/>'
        )
        if label and abs(y1 - y2) < 10:  # a level link: its words centred under it
            for k, line in enumerate(label.split("\n")):
                out.append(
                    f'<text x="{(x1 + x2) / 2:.0f}" y="{y1 + 14 + 11 * k}" font-size="9" '
                    f'text-anchor="middle" fill-opacity="0.8">{escape(line)}</text>'
                )
        elif label:
            out.append(
                f'<text x="{(x1 + x2) / 2 + 4:.0f}" y="{(y1 + y2) / 2 - 3:.0f}" font-size="9" '
                f'fill-opacity="0.8">{escape(label)}</text>'
            )
    for key, (x, y) in present.items():
        if key in net.processes:
            proc = net.processes[key]
            text, sub, down = "vpnd", "running" if proc.running else "stopped", not proc.running
        else:
            iface = net.ifaces[key]
            text = iface.name
            sub = iface.ip or (short(iface.mac) if iface.mac else "")
            if iface.mac and iface.ip:
                sub = f"{iface.ip} · {short(iface.mac)}"
            down = not net.carrier(iface)
        width = max(58, 5.1 * max(len(text), len(sub)) + 12)
        stroke = ACCENT if key in lit else (BAD if down else "currentColor")
        weight = 3 if key in lit else 1.2
        out.append(
            f'<rect x="{x - width / 2:.0f}" y="{y - 13}" width="{width:.0f}" height="26" rx="9" '
            f'fill="Canvas" stroke="{stroke}" stroke-width="{weight}"/>'
            f'<text x="{x}" y="{y - 1}" text-anchor="middle" font-size="10.5" font-weight="600">'
            f"{escape(text)}{' (down)' if down else ''}</text>"
            f'<text x="{x}" y="{y + 10}" text-anchor="middle" font-size="8.5">{escape(sub)}</text>'
        )


def _hops(out: list[str], sim: NetdevSimulation) -> None:
    y = 252
    out.append(f'<text x="10" y="{y}" font-size="10" font-weight="600">Latest hops</text>')
    recent = list(sim.recent)
    for i, (at, _, words) in enumerate(recent):
        colour = f' fill="{ACCENT}"' if i == len(recent) - 1 else ""
        text = words if len(words) <= 104 else words[:103] + "…"
        out.append(
            f'<text x="10" y="{y + 14 + 13 * i}" font-size="9.5"{colour}>{at:.3f} s · {escape(text)}</text>'
        )


def _matrix(out: list[str], sim: NetdevSimulation) -> None:
    names = list(sim.net.endpoints)
    top, left, cell = 322, 60, 40
    out.append(
        f'<text x="10" y="{top}" font-size="10" font-weight="600">Reachability now '
        "(row pings column)</text>"
    )
    for j, name in enumerate(names):
        out.append(
            f'<text x="{left + cell * j + cell / 2:.0f}" y="{top + 16}" text-anchor="middle" '
            f'font-size="9.5">{name}</text>'
        )
    for i, a in enumerate(names):
        y = top + 22 + 20 * i
        out.append(f'<text x="10" y="{y + 13}" font-size="9.5">{a}</text>')
        for j, b in enumerate(names):
            x = left + cell * j
            if a == b:
                out.append(
                    f'<rect x="{x + 2}" y="{y}" width="{cell - 4}" height="17" fill="currentColor" '
                    'fill-opacity="0.08"/>'
                )
                continue
            ok = sim.reach.get((a, b)) == "reply"
            out.append(
                f'<rect x="{x + 2}" y="{y}" width="{cell - 4}" height="17" rx="3" '
                f'fill="{GOOD if ok else BAD}" fill-opacity="0.85"/>'
                f'<text x="{x + cell / 2:.0f}" y="{y + 12}" text-anchor="middle" font-size="9" '
                f'fill="#fff">{"yes" if ok else "no"}</text>'
            )


def _table(out: list[str], sim: NetdevSimulation) -> None:
    net = sim.net
    x, top = 300, 322
    bridges = list(net.bridges.values())
    if not bridges:
        out.append(
            f'<text x="{x}" y="{top}" font-size="10" font-weight="600">No bridge here</text>'
            f'<text x="{x}" y="{top + 16}" font-size="9.5">A tun has no MAC and does no ARP; '
            "a tap carries Ethernet frames.</text>"
            f'<text x="{x}" y="{top + 30}" font-size="9.5">The kernel hands each packet to the '
            "process holding the device.</text>"
        )
        return
    row = top
    for bridge in bridges:
        out.append(
            f'<text x="{x}" y="{row}" font-size="10" font-weight="600">{escape(bridge.name)}: '
            f"learned MACs (ageing_time {bridge.ageing_time:g} s)</text>"
        )
        row += 14
        if not bridge.fdb:
            out.append(
                f'<text x="{x}" y="{row}" font-size="9.5">none yet: unknown unicast is flooded</text>'
            )
            row += 13
        for mac_address, entry in list(bridge.fdb.items())[:4]:
            age = net.now - entry.updated
            out.append(
                f'<text x="{x}" y="{row}" font-size="9.5">{mac_address} on '
                f"{escape(net.ifaces[entry.port].name)} · seen {age:.0f} s ago</text>"
            )
            row += 13
        row += 6
