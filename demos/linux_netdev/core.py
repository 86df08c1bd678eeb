"""Four small Linux networks from Matt Turner's talk, a ping at a time, hop by hop.

A :class:`Network` holds namespaces (each with an IP stack: addresses, an ARP cache,
packets waiting for ARP), interfaces, bridges and VPN processes. A ping is a chain of
events on a ``demokit.events`` queue: each event is one frame arriving at one device,
and the device's rule (``devices.py``) decides where it goes next, in words for the
log. One step of the simulation is one such hop; when nothing is in flight a step is
one idle second, so learned bridge entries age out as time passes.

Our choices, not the kernel's (all visible in the demo's page): the addresses and MAC
addresses; 1 ms per hop; ping gives up after 2 s; ARP asks three times, 1 s apart
(the kernel's default ``mcast_solicit`` and ``retrans_time``); ARP caches never expire
(Linux re-checks entries after about 30 s, which changes no outcome here); the VPN's
trip across the internet is one hop and is not modelled.

Nothing here draws randomly: the seed changes nothing. Stdlib only; runs under
CPython and Pyodide.
"""

from __future__ import annotations

import pickle
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from demokit.events import EventQueue

from . import devices
from .devices import (
    ARP_REPLY,
    ARP_REQUEST,
    BROADCAST,
    ECHO_REPLY,
    ECHO_REQUEST,
    Bridge,
    Frame,
    short,
)

HOP = 0.001
"""Seconds one hop takes (ours)."""
IDLE = 1.0
"""Seconds an idle step moves the clock."""
PING_TIMEOUT = 4.0
"""Seconds ping waits for its reply (ours): longer than ARP's three tries."""
ARP_TRIES = 3
ARP_INTERVAL = 1.0
WAIT = 300.0
"""Seconds the "Wait 5 minutes" action moves the clock."""
PROBE_EVENTS = 400
"""A reachability probe gives up after this many hops."""

TOPOLOGIES = (
    ("vpn", "VPN process on a tun (or tap)"),
    ("bridge", "Two containers on a bridge (veth pairs)"),
    ("macvlan", "Two containers on macvlan, no bridge"),
    ("ipvlan", "Two containers on ipvlan"),
)

# Event kinds: a device sends (XMIT), a frame arrives from below (RCV), a namespace's
# stack takes it (STACK), a VPN process reads it from its tun (READ) or gets it from
# the tunnel (TUNNEL), or a timer fires.
XMIT, RCV, STACK, READ, TUNNEL, ARP_TIMER, PING_TIMER = range(7)


@dataclass
class Iface:
    """A network interface. ``peer`` is the other end of a veth pair or of a cable;
    ``master`` the bridge a port belongs to; ``parent`` the device a macvlan or ipvlan
    child sits on; ``process`` the VPN process that holds a tun or tap."""

    key: str
    ns: str
    name: str
    kind: str  # veth, cable, eth, bridge, macvlan, ipvlan, tun, tap
    mac: str = ""
    ip: str = ""
    up: bool = True
    peer: str = ""
    master: str = ""
    parent: str = ""
    process: str = ""

    @property
    def noarp(self) -> bool:
        return self.kind == "tun"


@dataclass
class Stack:
    """One network namespace's IP stack."""

    name: str
    arp: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, list[Frame]] = field(default_factory=dict)
    """Packets queued for an address ARP has not answered yet."""


@dataclass
class Process:
    """A VPN process: it holds ``tun`` and exchanges what it reads with ``peer``."""

    key: str
    tun: str
    peer: str
    running: bool = True


@dataclass(frozen=True)
class Endpoint:
    name: str
    ns: str
    ip: str


@dataclass
class Ping:
    seq: int
    src: str
    dst: str
    started: float
    outcome: str = ""
    """"", "reply", "lost", "unreachable" or "no route"."""
    hops: int = 0


def subnet(ip: str) -> str:
    return ip.rsplit(".", 1)[0]


class Network:
    """The devices and stacks of one topology and the hops in flight."""

    def __init__(self) -> None:
        self.now = 0.0
        self.ifaces: dict[str, Iface] = {}
        self.stacks: dict[str, Stack] = {}
        self.bridges: dict[str, Bridge] = {}
        self.processes: dict[str, Process] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.macvlan_mode = "bridge"
        self.ipvlan_mode = "l2"
        self.queue = EventQueue()
        self.pings: dict[int, Ping] = {}
        self.trace: list[tuple[float, str, str, str]] = []
        """(time, device key, words, notable name or "") since the caller last read it."""
        self.quiet = False
        self.current = ""
        """The device the last hop happened at."""

    # -- building -----------------------------------------------------------------------

    def add(self, iface: Iface) -> Iface:
        self.ifaces[iface.key] = iface
        self.stacks.setdefault(iface.ns, Stack(iface.ns))
        return iface

    def veth(self, a: Iface, b: Iface) -> None:
        a.peer, b.peer = b.key, a.key

    def children(self, parent: str) -> list[Iface]:
        return [i for i in self.ifaces.values() if i.parent == parent]

    # -- reading ------------------------------------------------------------------------

    def carrier(self, iface: Iface) -> bool:
        """Is the link up and has it a carrier (``LOWER_UP``)?"""
        if not iface.up:
            return False
        if iface.kind in ("veth", "cable", "eth"):
            peer = self.ifaces.get(iface.peer)
            return peer is not None and peer.up
        if iface.kind in ("tun", "tap"):
            return devices.tuntap_carrier(self.processes[iface.process].running)
        if iface.parent:
            return self.carrier(self.ifaces[iface.parent])
        return True

    def own_ips(self, ns: str) -> list[str]:
        return [i.ip for i in self.ifaces.values() if i.ns == ns and i.ip and i.up]

    def route(self, ns: str, dst_ip: str) -> Iface | None:
        """The interface whose on-link subnet holds ``dst_ip``; a link that is down has
        lost its route, one without carrier keeps it (``linkdown``)."""
        for iface in self.ifaces.values():
            if iface.ns == ns and iface.ip and iface.up and subnet(iface.ip) == subnet(dst_ip):
                return iface
        return None

    # -- running ------------------------------------------------------------------------

    def say(self, where: str, words: str, mark: str = "") -> None:
        if not self.quiet:
            self.trace.append((self.now, where, words, mark))

    def schedule(self, kind: int, payload: Any, delay: float = HOP) -> None:
        self.queue.schedule(self.now + delay, kind, payload)

    def ping(self, seq: int, src: Endpoint, dst: Endpoint) -> Ping:
        """Start ``ping -c 1`` from ``src`` to ``dst``."""
        ping = Ping(seq, src.name, dst.name, self.now)
        self.pings[seq] = ping
        for old in [s for s, p in self.pings.items() if p.outcome][:-4]:
            del self.pings[old]
        self.schedule(PING_TIMER, seq, PING_TIMEOUT)
        frame = Frame(ECHO_REQUEST, src.ip, dst.ip, seq=seq)
        self.say(src.ns, f"{src.name} pings {dst.ip} ({dst.name})")
        self.send_ip(src.ns, frame)
        return ping

    def finish(self, seq: int, outcome: str, words: str, where: str) -> None:
        ping = self.pings.get(seq)
        if ping is None or ping.outcome:
            return
        ping.outcome = outcome
        mark = {"reply": "reply", "lost": "lost"}.get(outcome, "lost")
        self.say(where, words, mark)

    def drop(self, where: str, frame: Frame, why: str) -> None:
        self.say(where, f"dropped: {why}", "dropped")

    def run_event(self) -> bool:
        """Handle the next event; False if none is queued."""
        event = self.queue.pop_until(float("inf"))
        if event is None:
            return False
        self.now = max(self.now, event.time)
        self.handle(event.kind, event.payload)
        return True

    def handle(self, kind: int, payload: Any) -> None:
        if kind in (PING_TIMER, ARP_TIMER):
            self.current = ""
        if kind == PING_TIMER:
            ping = self.pings.get(payload)
            if ping is not None and not ping.outcome:
                self.finish(payload, "lost", f"no reply within {PING_TIMEOUT:g} s", ping.src)
            return
        if kind == ARP_TIMER:
            self._arp_timer(*payload)
            return
        key, frame = payload
        if frame.seq in self.pings:
            self.pings[frame.seq].hops += 1
        self.current = key
        if kind == XMIT:
            self._xmit(self.ifaces[key], frame)
        elif kind == RCV:
            self._rcv(self.ifaces[key], frame)
        elif kind == STACK:
            self._stack(self.ifaces[key], frame)
        elif kind == READ:
            self._read(self.processes[key], frame)
        elif kind == TUNNEL:
            self._tunnel(self.processes[key], frame)

    # -- the stack ----------------------------------------------------------------------

    def send_ip(self, ns: str, frame: Frame) -> None:
        """A packet leaves ``ns``'s stack: local delivery, or the route's interface,
        after ARP for the destination unless the interface does no ARP."""
        if frame.dst_ip in self.own_ips(ns):
            local = next(i for i in self.ifaces.values() if i.ns == ns and i.ip == frame.dst_ip)
            self.say(ns, f"{frame.dst_ip} is {ns}'s own address: delivered locally")
            self.schedule(STACK, (local.key, frame))
            return
        iface = self.route(ns, frame.dst_ip)
        if iface is None:
            self.say(ns, f"{ns} has no route to {frame.dst_ip} (its link is down)", "dropped")
            if frame.kind == ECHO_REQUEST:
                self.finish(frame.seq, "no route", "Network is unreachable", ns)
            return
        if iface.noarp:
            self.schedule(XMIT, (iface.key, frame.packet()))
            return
        if iface.kind == "ipvlan" and self.ipvlan_mode == "l3":
            # The child has ARP off (IFF_NOARP in l3 mode): its own MAC stands in.
            out = Frame(frame.kind, frame.src_ip, frame.dst_ip, iface.mac, iface.mac, frame.seq)
            self.schedule(XMIT, (iface.key, out))
            return
        stack = self.stacks[ns]
        mac = stack.arp.get(frame.dst_ip)
        if mac is not None:
            out = Frame(frame.kind, frame.src_ip, frame.dst_ip, iface.mac, mac, frame.seq)
            self.schedule(XMIT, (iface.key, out))
            return
        queued = stack.waiting.setdefault(frame.dst_ip, [])
        queued.append(frame)
        if len(queued) == 1:
            self._arp_ask(iface, frame.dst_ip, 1)

    def _arp_ask(self, iface: Iface, ip: str, attempt: int) -> None:
        ask = Frame(ARP_REQUEST, iface.ip, ip, iface.mac, BROADCAST)
        self.say(iface.key, f"{iface.ns} asks who has {ip} (ARP, try {attempt}) on {iface.name}")
        self.schedule(XMIT, (iface.key, ask))
        self.schedule(ARP_TIMER, (iface.key, ip, attempt), ARP_INTERVAL)

    def _arp_timer(self, key: str, ip: str, attempt: int) -> None:
        iface = self.ifaces[key]
        stack = self.stacks[iface.ns]
        if ip not in stack.waiting:
            return
        if attempt < ARP_TRIES and iface.up:
            self._arp_ask(iface, ip, attempt + 1)
            return
        for frame in stack.waiting.pop(ip):
            if frame.kind == ECHO_REQUEST:
                self.finish(
                    frame.seq, "unreachable",
                    f"no ARP answer for {ip} after {ARP_TRIES} tries: Destination Host Unreachable",
                    key,
                )  # fmt: skip
            else:
                self.say(key, f"no ARP answer for {ip}: the {frame.kind} is lost", "dropped")

    def _stack(self, iface: Iface, frame: Frame) -> None:
        ns = iface.ns
        where = iface.key
        if not iface.up:
            self.drop(where, frame, f"{iface.name} is down")
            return
        if frame.layer2 and not frame.multicast and frame.dst_mac != iface.mac:
            self.drop(where, frame, f"{short(frame.dst_mac)} is not {iface.name}'s address")
            return
        stack = self.stacks[ns]
        ours = frame.dst_ip in self.own_ips(ns)
        if frame.kind == ARP_REQUEST:
            if frame.src_ip in self.own_ips(ns):
                self.say(where, f"{ns} ignores its own ARP request, back again")
                return
            if iface.noarp or (iface.kind == "ipvlan" and self.ipvlan_mode == "l3"):
                self.drop(where, frame, f"{iface.name} has ARP off")
                return
            if not ours:
                self.say(where, f"{ns}: {frame.dst_ip} is not ours, no ARP answer")
                return
            stack.arp[frame.src_ip] = frame.src_mac
            reply = Frame(ARP_REPLY, frame.dst_ip, frame.src_ip, iface.mac, frame.src_mac)
            self.say(where, f"{ns} answers: {frame.dst_ip} is at {short(iface.mac)}")
            self.schedule(XMIT, (iface.key, reply))
            return
        if frame.kind == ARP_REPLY:
            if iface.noarp or (iface.kind == "ipvlan" and self.ipvlan_mode == "l3"):
                self.drop(where, frame, f"{iface.name} has ARP off")
                return
            waiting = stack.waiting.pop(frame.src_ip, None)
            if waiting is None:
                self.say(where, f"{ns} did not ask about {frame.src_ip}: ARP reply ignored")
                return
            stack.arp[frame.src_ip] = frame.src_mac
            self.say(where, f"{ns} learns {frame.src_ip} is at {short(frame.src_mac)}")
            for packet in waiting:
                self.send_ip(ns, packet)
            return
        if not ours:
            self.drop(where, frame, f"{frame.dst_ip} is not an address of {ns} (no forwarding)")
            return
        if frame.kind == ECHO_REQUEST:
            self.say(where, f"{ns} answers the echo request")
            self.send_ip(ns, Frame(ECHO_REPLY, frame.dst_ip, frame.src_ip, seq=frame.seq))
            return
        ping = self.pings.get(frame.seq)
        took = f" after {(self.now - ping.started) * 1000:.0f} ms" if ping else ""
        self.finish(frame.seq, "reply", f"{ns} gets the echo reply{took}", where)

    # -- devices ------------------------------------------------------------------------

    def _xmit(self, iface: Iface, frame: Frame) -> None:
        where = iface.key
        if not iface.up:
            self.drop(where, frame, f"{iface.name} is down")
            return
        if not self.carrier(iface):
            self.drop(where, frame, f"{iface.name} has no carrier")
            return
        kind = iface.kind
        if kind in ("veth", "cable", "eth"):
            peer = self.ifaces[iface.peer]
            what = "veth: out of" if kind == "veth" else "out of"
            self.say(
                where,
                f"{what} {iface.ns}'s {iface.name} into {peer.ns}'s {peer.name}: {frame.describe()}",
            )
            self.schedule(RCV, (peer.key, frame))
        elif kind == "bridge":
            bridge = self.bridges[iface.key]
            ports, _, why = bridge.decide(frame, None)
            self._bridge_out(bridge, iface, ports, why, frame)
        elif kind == "macvlan":
            self._macvlan_xmit(iface, frame)
        elif kind == "ipvlan":
            self._ipvlan_xmit(iface, frame)
        elif kind in ("tun", "tap"):
            proc = self.processes[iface.process]
            self.say(
                where,
                f"{iface.name} hands the {'IP packet' if kind == 'tun' else 'frame'} to {proc.key}: {frame.describe()}",
            )
            self.schedule(READ, (proc.key, frame))

    def _bridge_out(self, bridge: Bridge, iface: Iface, ports: list[str], why: str, frame) -> None:
        names = [self.ifaces[p].name for p in ports]
        flooded = "flooded" in why
        if not ports:
            self.say(iface.key, f"{bridge.name}: {why}; sent nowhere")
        else:
            self.say(
                iface.key,
                f"{bridge.name}: {why} → {', '.join(names)}",
                "flooded" if flooded else "",
            )
        for port in ports:
            self.schedule(XMIT, (port, frame))

    def _rcv(self, iface: Iface, frame: Frame) -> None:
        """A frame arrives at ``iface`` from its peer, its cable or its process."""
        where = iface.key
        if not iface.up:
            self.drop(where, frame, f"{iface.name} is down")
            return
        if iface.kind in ("tun", "tap") and not devices.tuntap_accepts(iface.kind, frame):
            self.drop(where, frame, f"a {iface.kind} does not carry this")
            return
        if iface.master:
            bridge = self.bridges[iface.master]
            learned = bridge.learn(frame.src_mac, iface.key, self.now)
            if learned == "new":
                self.say(
                    where, f"{bridge.name} learns {short(frame.src_mac)} on {iface.name}", "learned"
                )
            elif learned == "moved":
                self.say(
                    where, f"{bridge.name} moves {short(frame.src_mac)} to {iface.name}", "learned"
                )
            ports, local, why = bridge.decide(frame, iface.key)
            self._bridge_out(bridge, iface, ports, why, frame)
            if local and self.ifaces[iface.master].ip:
                self.say(where, f"{bridge.name} passes it up to its own stack")
                self.schedule(STACK, (iface.master, frame))
            return
        children = self.children(iface.key)
        if children and self.ifaces[children[0].key].kind == "macvlan":
            self._macvlan_rcv(iface, children, frame)
            return
        if children:
            self._ipvlan_rcv(iface, children, frame)
            return
        self.schedule(STACK, (iface.key, frame))

    def _named(self, words: str) -> str:
        """Child keys ("c1:mv1") in a rule's words, as the log says them ("c1's mv1")."""
        for child in self.ifaces.values():
            if child.parent and child.key in words:
                words = words.replace(child.key, f"{child.ns}'s {child.name}")
        return words

    # macvlan

    def _macvlan_children(self, parent: str) -> dict[str, str]:
        return {c.mac: c.key for c in self.children(parent) if c.up}

    def _macvlan_xmit(self, iface: Iface, frame: Frame) -> None:
        mode = self.macvlan_mode
        direct, out, why = devices.macvlan_xmit(
            mode, frame, self._macvlan_children(iface.parent), iface.key
        )
        why = self._named(why)
        self.say(iface.key, f"macvlan {iface.name}: {why}")
        parent = self.ifaces[iface.parent]
        if frame.dst_ip == parent.ip and frame.kind in (ARP_REQUEST, ECHO_REQUEST):
            self.say(
                iface.key,
                f"macvlan, {mode} mode: the parent's address is not reachable from a child "
                f"({parent.name}'s own stack never sees this)",
            )
        for child in direct:
            self.schedule(STACK, (child, frame))
        if out:
            self.schedule(XMIT, (iface.parent, frame))

    def _macvlan_rcv(self, iface: Iface, children: list[Iface], frame: Frame) -> None:
        mode = self.macvlan_mode
        up = [c for c in children if c.up]
        passthru = up[0].key if (mode == "passthru" and up) else None
        got, parent, why = devices.macvlan_receive(
            mode, frame, {c.mac: c.key for c in up}, passthru
        )
        why = self._named(why)
        self.say(iface.key, f"macvlan on {iface.name}: {why}")
        for child in got:
            self.schedule(STACK, (child, frame))
        if parent:
            self.schedule(STACK, (iface.key, frame))

    # ipvlan

    def _ipvlan_children(self, parent: str) -> dict[str, str]:
        return {c.ip: c.key for c in self.children(parent) if c.up and c.ip}

    def _ipvlan_xmit(self, iface: Iface, frame: Frame) -> None:
        mode = self.ipvlan_mode
        direct, out, up, why = devices.ipvlan_xmit(
            mode, frame, self._ipvlan_children(iface.parent), iface.key
        )
        why = self._named(why)
        self.say(iface.key, f"ipvlan {iface.name}: {why}", "" if direct or out or up else "dropped")
        parent = self.ifaces[iface.parent]
        if frame.dst_ip == parent.ip and frame.kind == ARP_REQUEST:
            self.say(
                iface.key,
                f"ipvlan, {mode}: {parent.name}'s own stack never sees a child's broadcast",
            )
        for child in direct:
            self.schedule(STACK, (child, frame))
        if out:
            self.schedule(XMIT, (iface.parent, frame))
        if up and mode == "l2":
            self.schedule(STACK, (iface.parent, frame))
        elif up:
            parent = self.ifaces[iface.parent]
            self.send_ip(parent.ns, frame.packet())

    def _ipvlan_rcv(self, iface: Iface, children: list[Iface], frame: Frame) -> None:
        got, parent, why = devices.ipvlan_receive(
            self.ipvlan_mode, frame, self._ipvlan_children(iface.key), iface.mac
        )
        why = self._named(why)
        self.say(iface.key, f"ipvlan on {iface.name}: {why}")
        for child in got:
            self.schedule(STACK, (child, frame))
        if parent:
            self.schedule(STACK, (iface.key, frame))

    # tun / tap and the VPN

    def _read(self, proc: Process, frame: Frame) -> None:
        peer = self.processes[proc.peer]
        self.say(
            proc.key,
            f"{proc.key} reads it from {self.ifaces[proc.tun].name} and sends it, encrypted, "
            f"over UDP to {peer.key}",
        )
        self.schedule(TUNNEL, (peer.key, frame))

    def _tunnel(self, proc: Process, frame: Frame) -> None:
        if not proc.running:
            self.drop(
                proc.key, frame, f"{proc.key} is not running: nothing takes it off the tunnel"
            )
            return
        tun = self.ifaces[proc.tun]
        self.say(proc.key, f"{proc.key} writes it into {tun.name}")
        self.schedule(RCV, (tun.key, frame))

    # -- probes -------------------------------------------------------------------------

    def probe(self, src: str, dst: str) -> str:
        """Would a ping from ``src`` to ``dst`` get its reply now? Runs on a copy."""
        queue, trace = self.queue, self.trace
        self.queue, self.trace = EventQueue(), []
        try:
            copy = pickle.loads(pickle.dumps(self, pickle.HIGHEST_PROTOCOL))
        finally:
            self.queue, self.trace = queue, trace
        copy.quiet = True
        ping = copy.ping(0, copy.endpoints[src], copy.endpoints[dst])
        for _ in range(PROBE_EVENTS):
            if ping.outcome or not copy.run_event():
                break
        return ping.outcome or "lost"

    def matrix(self) -> dict[tuple[str, str], str]:
        names = list(self.endpoints)
        return {(a, b): self.probe(a, b) for a in names for b in names if a != b}


# --- the four topologies ------------------------------------------------------------------


def mac(n: int) -> str:
    """Our locally administered MAC addresses: 02:00:00:00:00:nn."""
    return f"02:00:00:00:00:{n:02x}"


def build(topology: str, params: dict) -> Network:
    """The network of one topology (all names, addresses and MACs are ours)."""
    net = Network()
    if topology == "vpn":
        kind = params["tun_kind"]
        for n, (ns, ip) in enumerate((("host", "10.8.0.2"), ("office", "10.8.0.1")), 1):
            net.add(Iface(f"{ns}:{kind}0", ns, f"{kind}0", kind,
                          mac=mac(0x20 + n) if kind == "tap" else "", ip=ip,
                          process=f"vpnd@{ns}"))  # fmt: skip
            other = "office" if ns == "host" else "host"
            net.processes[f"vpnd@{ns}"] = Process(f"vpnd@{ns}", f"{ns}:{kind}0", f"vpnd@{other}")
            net.endpoints[ns] = Endpoint(ns, ns, ip)
        return net
    if topology == "bridge":
        br = net.add(Iface("host:br0", "host", "br0", "bridge", mac(0x01), "10.0.0.1"))
        bridge = Bridge("br0", ageing_time=float(params["ageing_time"]))
        bridge.local[br.mac] = ""
        net.bridges[br.key] = bridge
        for n in (1, 2):
            inside = net.add(
                Iface(f"c{n}:eth0", f"c{n}", "eth0", "veth", mac(0x10 + n), f"10.0.0.1{n}")
            )
            outside = net.add(
                Iface(f"host:veth{n}", "host", f"veth{n}", "veth", mac(0xA0 + n), master=br.key)
            )
            net.veth(inside, outside)
            bridge.ports.append(outside.key)
            bridge.names[outside.key] = outside.name
            bridge.local[outside.mac] = outside.key
            net.endpoints[f"c{n}"] = Endpoint(f"c{n}", f"c{n}", inside.ip)
        net.endpoints["host"] = Endpoint("host", "host", br.ip)
        return net
    # macvlan and ipvlan: the host's eth0 is cabled to an external switch with a LAN host.
    eth0 = net.add(Iface("host:eth0", "host", "eth0", "eth", mac(0x01), "192.168.1.10"))
    sw = net.add(Iface("switch:sw0", "switch", "sw0", "bridge", mac(0xE0)))
    switch = Bridge("switch", ageing_time=float(params["ageing_time"]))
    switch.local[sw.mac] = ""
    net.bridges[sw.key] = switch
    lan = net.add(Iface("lan:eth0", "lan", "eth0", "eth", mac(0x02), "192.168.1.1"))
    for n, end in ((1, eth0), (2, lan)):
        port = net.add(
            Iface(f"switch:p{n}", "switch", f"p{n}", "cable", mac(0xE0 + n), master=sw.key)
        )
        net.veth(end, port)
        switch.ports.append(port.key)
        switch.names[port.key] = port.name
        switch.local[port.mac] = port.key
        if params["hairpin"]:
            switch.hairpin.append(port.key)
    net.endpoints["host"] = Endpoint("host", "host", eth0.ip)
    net.endpoints["lan"] = Endpoint("lan", "lan", lan.ip)
    kind = topology
    if kind == "macvlan":
        net.macvlan_mode = params["macvlan_mode"]
    else:
        net.ipvlan_mode = params["ipvlan_mode"]
    for n in (1, 2):
        if kind == "macvlan" and net.macvlan_mode == "passthru" and n == 2:
            continue  # passthru allows one child only (the kernel refuses a second: EINVAL)
        name = f"{'mv' if kind == 'macvlan' else 'iv'}{n}"
        if kind == "ipvlan":
            child_mac = eth0.mac  # ipvlan children share the parent's MAC
        elif net.macvlan_mode == "passthru":
            child_mac = eth0.mac  # a passthru child takes over the parent's MAC
        else:
            child_mac = mac(0x10 + n)
        child = net.add(
            Iface(
                f"c{n}:{name}", f"c{n}", name, kind, child_mac, f"192.168.1.1{n}", parent=eth0.key
            )
        )
        net.endpoints[f"c{n}"] = Endpoint(f"c{n}", child.ns, child.ip)
    return net


# --- the simulation -------------------------------------------------------------------------


class NetdevSimulation:
    """The demo's simulation (see ``demokit.Simulation``); ``view.render`` draws it."""

    def __init__(self, params: dict, rng: random.Random) -> None:
        self.params = dict(params)
        self.topology = self.params["topology"]
        self.net = build(self.topology, self.params)
        self.done = False
        self.steps = 0
        self.marks: list[tuple[float, str, str]] = []
        self.log: deque[str] = deque(maxlen=12)
        self.seq = 0
        self.last: Ping | None = None
        """The latest ping the reader (or the scenario) sent."""
        self.recent: deque[tuple[float, str, str]] = deque(maxlen=4)
        """The last few hops: (time, device key, words), for the picture."""
        self.reach: dict[tuple[str, str], str] = {}
        self._stale = True
        self._refresh()

    @property
    def now(self) -> float:
        return self.net.now

    # -- the Simulation protocol ------------------------------------------------------------

    def step(self) -> None:
        """One hop, or one idle second when nothing is in flight."""
        self.steps += 1
        net = self.net
        due = net.queue.peek()
        if due is not None and due <= net.now + IDLE:
            net.run_event()
        else:
            net.now += IDLE
            net.current = ""
        self._age()
        self._collect()
        if self._stale and not self.in_flight():
            self._refresh()

    def act(self, action: str, arg: str | None) -> None:
        net = self.net
        if action == "ping":
            src, _, dst = (arg or "c1>c2").partition(">")
            if src not in net.endpoints or dst not in net.endpoints:
                self._note(f"no {src if src not in net.endpoints else dst} in this topology")
                return
            self.seq += 1
            self.last = net.ping(self.seq, net.endpoints[src], net.endpoints[dst])
        elif action in ("link_down", "link_up"):
            iface = net.ifaces.get(arg or "")
            if iface is None:
                self._note(f"no interface {arg} in this topology")
                return
            iface.up = action == "link_up"
            self._note(f"ip link set {iface.name} {'up' if iface.up else 'down'} ({iface.ns})")
            self._port_states()
        elif action in ("stop_vpn", "start_vpn"):
            proc = net.processes.get(f"vpnd@{arg or 'host'}")
            if proc is None:
                self._note("no VPN process in this topology")
                return
            proc.running = action == "start_vpn"
            tun = net.ifaces[proc.tun]
            state = "holds it again: carrier" if proc.running else "exits: no carrier"
            self._note(f"{proc.key} {state} on {tun.name}")
        elif action == "flush_fdb":
            bridge = net.bridges.get(arg or "host:br0")
            if bridge is None:
                self._note(f"no bridge {arg} in this topology")
                return
            count = len(bridge.fdb)
            bridge.fdb.clear()
            self._note(f"bridge fdb flush on {bridge.name}: {count} learned entries gone")
        elif action == "wait":
            net.now += WAIT
            self._note(f"{WAIT / 60:g} minutes pass")
            self._age()
        else:
            raise ValueError(f"unknown action {action!r}")
        self._collect()
        self._stale = True
        if not self.in_flight():
            self._refresh()

    def set_param(self, name: str, value: Any) -> None:
        self.params[name] = value
        if name == "hairpin":
            for bridge in self.net.bridges.values():
                if bridge.name == "switch":
                    bridge.hairpin = list(bridge.ports) if value else []
            self._note(f"external switch hairpin {'on' if value else 'off'}")
        elif name == "ageing_time":
            for bridge in self.net.bridges.values():
                bridge.ageing_time = float(value)
            self._note(f"ageing_time {value} s")
        self._stale = True
        if not self.in_flight():
            self._refresh()

    # -- bookkeeping ------------------------------------------------------------------------

    def in_flight(self) -> bool:
        """Is a ping still waiting for its outcome?"""
        return any(not ping.outcome for ping in self.net.pings.values())

    def _port_states(self) -> None:
        """A bridge port without carrier stops forwarding and its entries go."""
        net = self.net
        for _key, bridge in net.bridges.items():
            for port in bridge.ports:
                forwarding = net.carrier(net.ifaces[port])
                if bridge.forwarding.get(port, True) and not forwarding:
                    gone = bridge.forget_port(port)
                    if gone:
                        names = ", ".join(short(m) for m in gone)
                        net.say(
                            port,
                            f"{bridge.name} forgets {names}: {net.ifaces[port].name} lost its link",
                        )
                bridge.forwarding[port] = forwarding

    def _age(self) -> None:
        net = self.net
        for key, bridge in net.bridges.items():
            for mac_address in bridge.expired(net.now):
                entry = bridge.fdb.pop(mac_address)
                port = net.ifaces[entry.port].name
                net.say(
                    key,
                    f"{bridge.name} forgets {short(mac_address)} on {port}: not seen for "
                    f"{bridge.ageing_time:g} s",
                    "aged",
                )
                self._stale = True

    def _note(self, words: str) -> None:
        self.net.say("", words)

    def _collect(self) -> None:
        net = self.net
        for at, where, words, mark in net.trace:
            self.log.append(f"{at:.3f} s · {words}")
            if where:
                self.recent.append((at, where, words))
            if mark:
                self.marks.append((at, mark, words))
            if mark in ("reply", "lost"):
                self._stale = True
        net.trace.clear()

    def _refresh(self) -> None:
        self.reach = self.net.matrix()
        self._stale = False


def create(params: dict, rng: random.Random) -> NetdevSimulation:
    """Build the simulation from validated parameters (the generator is not needed:
    nothing in these networks is random)."""
    return NetdevSimulation(params, rng)
