"""What each Linux software network device decides about one frame, rule by rule.

Each function takes plain data and returns plain data plus the decision in words, so
tests can check every rule on its own and ``core.py`` can chain them hop by hop. The
sources are the kernel's own files and documentation, named where a rule is made
(``file@commit`` is the version read for this demo); every rule that a reachability
test depends on was also checked on a real kernel (``tests/demos/
test_linux_netdev_kernel.py``), except ipvlan, which the checking kernel lacks.

* tun / tap: ``Documentation/networking/tuntap.rst`` (sections 1 and 3, FAQ 4).
* bridge: ``net/bridge/br_input.c`` (``br_handle_frame_finish``),
  ``net/bridge/br_forward.c`` (``should_deliver``, ``br_flood``), ``net/bridge/
  br_fdb.c@02189ca`` (``has_expired``, ``br_fdb_cleanup``), ``ip-link(8)``
  (``ageing_time``, ``hairpin``).
* macvlan: ``drivers/net/macvlan.c@0013eec`` (``macvlan_queue_xmit``,
  ``macvlan_handle_frame``, ``macvlan_process_broadcast``), ``ip-link(8)`` "MACVLAN
  and MACVTAP Type Support".
* ipvlan: ``drivers/net/ipvlan/ipvlan_core.c@0fae884`` (``ipvlan_xmit_mode_l2``,
  ``ipvlan_xmit_mode_l3``, ``ipvlan_handle_mode_l2``, ``ipvlan_process_multicast``,
  ``ipvlan_process_v4_outbound``), ``Documentation/networking/ipvlan.rst`` (4.1, 4.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

BROADCAST = "ff:ff:ff:ff:ff:ff"

ARP_REQUEST, ARP_REPLY = "ARP request", "ARP reply"
ECHO_REQUEST, ECHO_REPLY = "echo request", "echo reply"

AGEING_TIME = 300.0
"""Seconds a learned bridge entry lives without being refreshed (``ageing_time``,
300 s by default: ``ip-link(8)`` and ``hold_time`` in ``br_fdb.c``)."""

MACVLAN_MODES = ("private", "vepa", "bridge", "passthru")
IPVLAN_MODES = ("l2", "l3")


@dataclass(frozen=True)
class Frame:
    """A frame (or, on a tun, a bare IP packet: no MAC addresses) of one ping.

    For ARP, ``src_ip`` is the sender's address and ``dst_ip`` the address asked
    about (the target)."""

    kind: str
    src_ip: str
    dst_ip: str
    src_mac: str = ""
    dst_mac: str = ""
    seq: int = 0

    @property
    def layer2(self) -> bool:
        return bool(self.src_mac or self.dst_mac)

    @property
    def multicast(self) -> bool:
        """Broadcast counts as multicast, as ``is_multicast_ether_addr`` has it."""
        return self.dst_mac == BROADCAST

    def packet(self) -> Frame:
        """The IP packet inside: what a tun carries (tuntap.rst, FAQ 4)."""
        return Frame(self.kind, self.src_ip, self.dst_ip, seq=self.seq)

    def describe(self) -> str:
        if self.kind == ARP_REQUEST:
            what = f"ARP who-has {self.dst_ip} tell {self.src_ip}"
        elif self.kind == ARP_REPLY:
            what = f"ARP {self.src_ip} is-at {short(self.src_mac)}"
        else:
            what = f"ICMP {self.kind} {self.src_ip} → {self.dst_ip}"
        if not self.layer2:
            return f"IP packet ({what})"
        dst = "broadcast" if self.multicast else short(self.dst_mac)
        return f"{what} [{short(self.src_mac)} → {dst}]"


def short(mac: str) -> str:
    """02:00:00:00:00:0b as 02:…:0b, as the log shows it."""
    if not mac:
        return "no MAC"
    if mac == BROADCAST:
        return "ff:…:ff"
    return f"{mac[:2]}:…:{mac[-2:]}"


# --- tun / tap -----------------------------------------------------------------------


def tuntap_accepts(kind: str, frame: Frame) -> bool:
    """A tun carries IP packets, a tap Ethernet frames; the kind is fixed when the
    device is created (tuntap.rst section 1: IFF_TUN or IFF_TAP in the ioctl)."""
    return frame.layer2 == (kind == "tap")


def tuntap_carrier(process_running: bool) -> bool:
    """With no process holding the device's file descriptor, the link has no carrier
    (checked: ``ip tuntap add`` gives NO-CARRIER until a process attaches)."""
    return process_running


# --- bridge --------------------------------------------------------------------------


@dataclass
class FdbEntry:
    port: str
    updated: float


@dataclass
class Bridge:
    """A Linux bridge: its ports in order (``br->port_list``), its forwarding database
    of learned MACs, its own local (permanent) addresses, and per-port hairpin flags."""

    name: str
    ports: list[str] = field(default_factory=list)
    local: dict[str, str] = field(default_factory=dict)
    """Own addresses (``bridge fdb show``: permanent): MAC -> port, or "" for the
    bridge device itself."""
    fdb: dict[str, FdbEntry] = field(default_factory=dict)
    ageing_time: float = AGEING_TIME
    hairpin: list[str] = field(default_factory=list)
    forwarding: dict[str, bool] = field(default_factory=dict)
    """Port state: False (disabled) while the port's link is down or has no carrier."""
    names: dict[str, str] = field(default_factory=dict)
    """How the log names a port (its interface name)."""

    def label(self, port: str) -> str:
        return self.names.get(port, port)

    def learn(self, mac: str, port: str, now: float) -> str:
        """``br_fdb_update`` on ingress: "new", "moved", "refreshed" or "" (a local
        address, or a multicast source, is never learned)."""
        if mac in self.local or mac == BROADCAST or not mac:
            return ""
        entry = self.fdb.get(mac)
        if entry is None:
            self.fdb[mac] = FdbEntry(port, now)
            return "new"
        moved = entry.port != port
        entry.port, entry.updated = port, now
        return "moved" if moved else "refreshed"

    def should_deliver(self, port: str, ingress: str | None) -> bool:
        """``should_deliver`` (br_forward.c): never back out the ingress port unless the
        port is in hairpin mode, and only through a forwarding port."""
        if not self.forwarding.get(port, True):
            return False
        return port != ingress or port in self.hairpin

    def decide(self, frame: Frame, ingress: str | None) -> tuple[list[str], bool, str]:
        """Where a frame goes: (ports to send it out of, deliver it to the bridge's own
        stack?, why). ``ingress`` is None for a frame the bridge device itself sends.

        ``br_handle_frame_finish`` (br_input.c): broadcast is flooded and also passed up
        locally; a destination that is one of the bridge's own addresses goes up only;
        a learned destination goes out of its port only; an unknown unicast destination
        is flooded (not passed up, unless the bridge is promiscuous, which ours is not).
        """
        if frame.multicast:
            ports = [p for p in self.ports if self.should_deliver(p, ingress)]
            return ports, ingress is not None, "broadcast: flooded"
        if frame.dst_mac in self.local:
            return [], ingress is not None, f"{short(frame.dst_mac)} is {self.name}'s own address"
        entry = self.fdb.get(frame.dst_mac)
        if entry is not None:
            if self.should_deliver(entry.port, ingress):
                return (
                    [entry.port],
                    False,
                    f"{short(frame.dst_mac)} is known on {self.label(entry.port)}",
                )
            return (
                [],
                False,
                f"{short(frame.dst_mac)} is on {self.label(entry.port)}, the port it came in on",
            )
        ports = [p for p in self.ports if self.should_deliver(p, ingress)]
        return ports, False, f"{short(frame.dst_mac)} is unknown: flooded"

    def expired(self, now: float) -> list[str]:
        """Learned entries whose time is up (``has_expired``: updated + ageing_time is
        at or before now); ``br_fdb_cleanup`` deletes them."""
        return [mac for mac, e in self.fdb.items() if e.updated + self.ageing_time <= now]

    def forget_port(self, port: str) -> list[str]:
        """Entries learned on a port that goes down are deleted with it (checked on
        the kernel: ``bridge fdb show`` drops them when the port loses its link)."""
        gone = [mac for mac, e in self.fdb.items() if e.port == port]
        for mac in gone:
            del self.fdb[mac]
        return gone


# --- macvlan -------------------------------------------------------------------------


def macvlan_xmit(mode: str, frame: Frame, children: dict[str, str], sender: str):
    """A child (``sender``) sends ``frame``; children maps each child's MAC to its name.

    Returns (children that get it directly, send it out of the parent?, why), after
    ``macvlan_queue_xmit``: only bridge mode switches between children; broadcast goes
    to the other bridge-mode children and out; a frame for another child's MAC goes
    straight to it; everything else (all frames in private, vepa and passthru mode) is
    sent out of the parent onto the wire. The parent's own stack never sees a child's
    frame on the way out.
    """
    if mode == "bridge":
        if frame.multicast:
            others = [name for name in children.values() if name != sender]
            return (
                others,
                True,
                "bridge mode: broadcast to the other children and out of the parent",
            )
        dest = children.get(frame.dst_mac)
        if dest is not None:
            return (
                [dest],
                False,
                f"bridge mode: {short(frame.dst_mac)} is child {dest}, switched directly",
            )
    return [], True, f"{mode} mode: out of the parent onto the wire"


def macvlan_receive(
    mode: str, frame: Frame, children: dict[str, str], passthru_child: str | None
) -> tuple[list[str], bool, str]:
    """A frame arrives on the parent from the wire: (children that get it, does the
    parent's own stack get it?, why), after ``macvlan_handle_frame`` and
    ``macvlan_process_broadcast``.

    Broadcast: from an outside address it goes to every child and up the parent; from
    a child of ours (a switch sent it back in hairpin mode) a vepa child's frame goes to
    the other children, a bridge child's to vepa children only (none here: all
    children share the mode) and both go up the parent, while a private child's frame
    goes back to that child alone. Unicast: passthru hands everything to its one child;
    otherwise a child's MAC gets it, anything else goes up the parent.
    """
    if frame.multicast:
        src = children.get(frame.src_mac)
        if src is None:
            return (
                list(children.values()),
                True,
                "broadcast from outside: to every child and the parent",
            )
        if mode in ("private", "passthru"):
            return [src], False, f"{mode} mode: a child's own broadcast goes back to it alone"
        if mode == "vepa":
            others = [name for name in children.values() if name != src]
            return (
                others,
                True,
                "vepa mode: a child's broadcast, back from the switch, to the other children",
            )
        return [], True, "bridge mode: the other children already had this broadcast"
    if mode == "passthru" and passthru_child is not None:
        return [passthru_child], False, f"passthru: everything goes to {passthru_child}"
    dest = children.get(frame.dst_mac)
    if dest is not None:
        return [dest], False, f"{short(frame.dst_mac)} is child {dest}"
    return [], True, f"{short(frame.dst_mac)} is no child's: up the parent"


# --- ipvlan --------------------------------------------------------------------------


def ipvlan_xmit(mode: str, frame: Frame, child_ips: dict[str, str], sender: str):
    """A child sends ``frame``; child_ips maps each child's IP to its name. Children
    share the parent's MAC (ipvlan.rst section 1). Returns (children that get it, send
    it out of the parent?, route it in the parent's namespace?, why).

    l2 (``ipvlan_xmit_mode_l2``): a frame addressed to the shared MAC is for a child
    whose IP matches (switched directly) or else forwarded up the parent's stack;
    broadcast goes to the other children and out of the parent (the parent's own stack
    does not get it: ``ipvlan_process_multicast``); other unicast goes out.
    l3 (``ipvlan_xmit_mode_l3``): no broadcast at all (section 4.2); a packet for a
    child's IP is switched directly, anything else is routed by the parent's namespace
    (``ipvlan_process_outbound``).
    """
    if mode == "l2":
        if frame.multicast:
            others = [name for name in child_ips.values() if name != sender]
            return others, True, False, "l2: broadcast to the other children and out of the parent"
        if frame.dst_mac == frame.src_mac:
            dest = child_ips.get(frame.dst_ip)
            if dest is not None:
                return [dest], False, False, f"l2: {frame.dst_ip} is child {dest}"
            return [], False, True, "l2: the shared MAC, no child's IP: up the parent's stack"
        return [], True, False, "l2: out of the parent onto the wire"
    if frame.kind in (ARP_REQUEST, ARP_REPLY):
        return [], False, False, "l3: no ARP or broadcast from a child; dropped"
    dest = child_ips.get(frame.dst_ip)
    if dest is not None:
        return [dest], False, False, f"l3: {frame.dst_ip} is child {dest}"
    return [], False, True, "l3: routed in the parent's namespace"


def ipvlan_receive(mode: str, frame: Frame, child_ips: dict[str, str], shared_mac: str):
    """A frame arrives on the parent from the wire: (children that get it, does the
    parent's own stack get it?, why), after ``ipvlan_handle_mode_l2`` / ``_l3``.

    l2: a broadcast from outside goes to every child and up the parent; one of our
    children's own broadcasts sent back by the switch goes up the parent only
    (``ipvlan_external_frame``). Otherwise, in both modes, the packet goes to the child
    whose IP it is addressed to (an ARP by its target address), else up the parent:
    the MAC is not looked at, all children share it.
    """
    if frame.multicast and mode == "l2":
        own = frame.src_mac == shared_mac and frame.src_ip in child_ips
        if own:
            return (
                [],
                True,
                "l2: our own child's broadcast, back from the switch: up the parent only",
            )
        return list(child_ips.values()), True, "l2: broadcast to every child and the parent"
    dest = child_ips.get(frame.dst_ip)
    if dest is not None:
        return [dest], False, f"{mode}: {frame.dst_ip} is child {dest}"
    return [], True, f"{mode}: {frame.dst_ip} is no child's: up the parent"
