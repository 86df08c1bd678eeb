"""The device rules of the linux_netdev demo, one by one, against the kernel's own
sources, and the hops of a ping as exact traces.

Sources (``file@commit`` as read): ``net/bridge/br_forward.c`` (``should_deliver``),
``net/bridge/br_input.c`` (``br_handle_frame_finish``), ``net/bridge/br_fdb.c@02189ca``
(``has_expired``), ``drivers/net/macvlan.c@0013eec`` (``macvlan_queue_xmit``,
``macvlan_handle_frame``, ``macvlan_process_broadcast``),
``drivers/net/ipvlan/ipvlan_core.c@0fae884``, ``Documentation/networking/tuntap.rst``,
``ipvlan.rst`` and ``ip-link(8)`` from iproute2@ee2a4a8. The reachability these rules
add up to is checked on a real kernel in ``test_linux_netdev_kernel.py``.
"""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from demokit import Runner
from demos.linux_netdev import DEMO
from demos.linux_netdev.core import NetdevSimulation, build
from demos.linux_netdev.devices import (
    ARP_REQUEST,
    BROADCAST,
    ECHO_REQUEST,
    Bridge,
    Frame,
    ipvlan_receive,
    ipvlan_xmit,
    macvlan_receive,
    macvlan_xmit,
    tuntap_accepts,
)

A, B, C = "02:00:00:00:00:11", "02:00:00:00:00:12", "02:00:00:00:00:13"


def sim(topology: str, **params) -> NetdevSimulation:
    return NetdevSimulation(DEMO.resolve({"topology": topology, **params}), None)


def ping_log(s: NetdevSimulation, pair: str) -> list[str]:
    """The log lines of one ping, without their times."""
    lines: list[str] = []
    s.log.clear()
    s.act("ping", pair)
    while True:
        lines += [line.split(" · ", 1)[1] for line in s.log]
        s.log.clear()
        if not s.in_flight():
            return lines
        s.step()


# --- bridge ---------------------------------------------------------------------------------


def three_ports() -> Bridge:
    bridge = Bridge("br0", ports=["p1", "p2", "p3"])
    bridge.local["02:00:00:00:00:01"] = ""
    return bridge


def test_a_bridge_learns_the_source_on_the_ingress_port_and_floods_the_unknown():
    """br_handle_frame_finish: learn, then flood broadcast (and pass it up) and unknown
    unicast (not passed up) to every port but the ingress."""
    bridge = three_ports()
    assert bridge.learn(A, "p1", 0.0) == "new"
    arp = Frame(ARP_REQUEST, "10.0.0.11", "10.0.0.12", A, BROADCAST)
    assert bridge.decide(arp, "p1") == (["p2", "p3"], True, "broadcast: flooded")
    unknown = Frame(ECHO_REQUEST, "10.0.0.11", "10.0.0.13", A, C)
    assert bridge.decide(unknown, "p1") == (["p2", "p3"], False, "02:…:13 is unknown: flooded")


def test_known_unicast_goes_out_of_its_port_only_and_local_addresses_go_up():
    bridge = three_ports()
    bridge.learn(B, "p2", 0.0)
    frame = Frame(ECHO_REQUEST, "10.0.0.11", "10.0.0.12", A, B)
    assert bridge.decide(frame, "p1") == (["p2"], False, "02:…:12 is known on p2")
    to_bridge = Frame(ECHO_REQUEST, "10.0.0.11", "10.0.0.1", A, "02:00:00:00:00:01")
    assert bridge.decide(to_bridge, "p1") == ([], True, "02:…:01 is br0's own address")


def test_a_frame_for_the_port_it_came_in_on_is_not_sent_back_unless_hairpin():
    """should_deliver: (hairpin || skb->dev != p->dev) && port forwarding."""
    bridge = three_ports()
    bridge.learn(B, "p1", 0.0)
    frame = Frame(ECHO_REQUEST, "10.0.0.11", "10.0.0.12", A, B)
    assert bridge.decide(frame, "p1")[0] == []
    bridge.hairpin.append("p1")
    assert bridge.decide(frame, "p1")[0] == ["p1"]


def test_entries_expire_when_updated_plus_ageing_time_is_reached():
    """has_expired: time_before_eq(updated + hold_time, now); 300 s by default."""
    bridge = three_ports()
    bridge.learn(A, "p1", 10.0)
    assert bridge.ageing_time == 300.0
    assert bridge.expired(309.999) == []
    assert bridge.expired(310.0) == [A]
    bridge.learn(A, "p1", 200.0)  # refreshed by traffic
    assert bridge.expired(310.0) == []


def test_a_mac_that_moves_is_relearned_on_its_new_port():
    bridge = three_ports()
    bridge.learn(A, "p1", 0.0)
    assert bridge.learn(A, "p3", 1.0) == "moved"
    assert bridge.fdb[A].port == "p3"


macs = st.sampled_from([A, B, C, "02:00:00:00:00:14"])
ports = st.sampled_from(["p1", "p2", "p3"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(macs, ports), max_size=12), macs, macs, ports)
def test_a_bridge_never_sends_a_frame_back_out_of_its_ingress_port(history, src, dst, ingress):
    bridge = three_ports()
    for t, (mac, port) in enumerate(history):
        bridge.learn(mac, port, float(t))
    bridge.learn(src, ingress, 99.0)
    out, _, _ = bridge.decide(Frame(ECHO_REQUEST, "a", "b", src, dst), ingress)
    assert ingress not in out
    if dst in bridge.fdb:
        assert len(out) <= 1  # after learning, known unicast goes out of one port at most
        assert out in ([], [bridge.fdb[dst].port])
    else:
        assert sorted(out) == sorted(p for p in bridge.ports if p != ingress)


# --- macvlan and ipvlan ---------------------------------------------------------------------

CHILDREN = {A: "c1", B: "c2"}


def test_macvlan_only_bridge_mode_switches_between_children():
    """macvlan_queue_xmit: a frame for another child is switched only in bridge mode."""
    to_c2 = Frame(ECHO_REQUEST, "192.168.1.11", "192.168.1.12", A, B)
    assert macvlan_xmit("bridge", to_c2, CHILDREN, "c1")[:2] == (["c2"], False)
    for mode in ("private", "vepa", "passthru"):
        assert macvlan_xmit(mode, to_c2, CHILDREN, "c1")[:2] == ([], True)


def test_a_childs_broadcast_back_from_a_hairpin_switch_depends_on_its_mode():
    """macvlan_handle_frame / macvlan_process_broadcast."""
    arp = Frame(ARP_REQUEST, "192.168.1.11", "192.168.1.10", A, BROADCAST)
    assert macvlan_receive("private", arp, CHILDREN, None)[:2] == (["c1"], False)
    assert macvlan_receive("vepa", arp, CHILDREN, None)[:2] == (["c2"], True)
    assert macvlan_receive("bridge", arp, CHILDREN, None)[:2] == ([], True)
    outside = Frame(ARP_REQUEST, "192.168.1.1", "192.168.1.11", C, BROADCAST)
    assert macvlan_receive("private", outside, CHILDREN, None)[:2] == (["c1", "c2"], True)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["bridge", "vepa", "private", "passthru"]),
    st.booleans(),
    st.sampled_from(["c1", "c2"]),
)
def test_no_child_ever_reaches_the_macvlan_parents_own_address(mode, warm, child):
    """ip-link(8) / macvlan.c: the parent's own stack never sees a child's frames on
    the way out; without a hairpin switch, nothing brings them back."""
    s = sim("macvlan", macvlan_mode=mode)
    if warm:
        ping_log(s, "lan>host")
    if child not in s.net.endpoints:
        return  # passthru: the second child cannot exist
    assert s.reach[(child, "host")] != "reply"
    assert s.reach[("host", child)] != "reply"
    if mode == "private":
        assert s.reach.get(("c1", "c2")) != "reply" and s.reach.get(("c2", "c1")) != "reply"


@settings(max_examples=60, deadline=None)
@given(
    st.booleans(),
    st.lists(st.sampled_from(["c1>c2", "c2>c1", "lan>c1", "c1>lan", "host>c2"]), max_size=4),
)
def test_private_children_never_reach_each_other_whatever_came_before(hairpin, pings):
    s = sim("macvlan", macvlan_mode="private", hairpin=hairpin)
    for pair in pings:
        log = ping_log(s, pair)
        if pair in ("c1>c2", "c2>c1"):
            assert not any("gets the echo reply" in line for line in log)
    assert s.reach[("c1", "c2")] != "reply" and s.reach[("c2", "c1")] != "reply"


def test_ipvlan_children_share_the_parents_mac_and_are_told_apart_by_ip():
    """ipvlan.rst section 1; ipvlan_xmit_mode_l2: a frame to the shared MAC is switched
    by destination IP; l3 mode drops ARP (section 4.2) and routes the rest up."""
    shared = "02:00:00:00:00:01"
    ips = {"192.168.1.11": "c1", "192.168.1.12": "c2"}
    to_c2 = Frame(ECHO_REQUEST, "192.168.1.11", "192.168.1.12", shared, shared)
    assert ipvlan_xmit("l2", to_c2, ips, "c1")[:3] == (["c2"], False, False)
    to_host = Frame(ECHO_REQUEST, "192.168.1.11", "192.168.1.10", shared, shared)
    assert ipvlan_xmit("l2", to_host, ips, "c1")[:3] == ([], False, True)
    arp = Frame(ARP_REQUEST, "192.168.1.11", "192.168.1.12", shared, BROADCAST)
    assert ipvlan_xmit("l3", arp, ips, "c1")[:3] == ([], False, False)
    assert ipvlan_receive("l3", to_c2, ips, shared)[:2] == (["c2"], False)
    b = build("ipvlan", DEMO.resolve({"topology": "ipvlan"}))
    assert b.ifaces["c1:iv1"].mac == b.ifaces["c2:iv2"].mac == b.ifaces["host:eth0"].mac


# --- tun / tap and veth ---------------------------------------------------------------------


def test_a_tun_carries_ip_packets_and_a_tap_ethernet_frames():
    """tuntap.rst FAQ 4: TUN works with IP frames, TAP with Ethernet frames."""
    packet = Frame(ECHO_REQUEST, "10.8.0.2", "10.8.0.1")
    frame = Frame(ECHO_REQUEST, "10.8.0.2", "10.8.0.1", A, B)
    assert tuntap_accepts("tun", packet) and not tuntap_accepts("tun", frame)
    assert tuntap_accepts("tap", frame) and not tuntap_accepts("tap", packet)


def test_a_ping_over_tun_has_no_arp_and_goes_through_both_vpn_processes():
    s = sim("vpn")
    assert ping_log(s, "host>office") == [
        "host pings 10.8.0.1 (office)",
        "tun0 hands the IP packet to vpnd@host: IP packet (ICMP echo request 10.8.0.2 → 10.8.0.1)",
        "vpnd@host reads it from tun0 and sends it, encrypted, over UDP to vpnd@office",
        "vpnd@office writes it into tun0",
        "office answers the echo request",
        "tun0 hands the IP packet to vpnd@office: IP packet (ICMP echo reply 10.8.0.1 → 10.8.0.2)",
        "vpnd@office reads it from tun0 and sends it, encrypted, over UDP to vpnd@host",
        "vpnd@host writes it into tun0",
        "host gets the echo reply after 10 ms",
    ]


def test_stopping_the_vpn_process_takes_the_tuns_carrier():
    s = sim("vpn")
    s.act("stop_vpn", "host")
    assert not s.net.carrier(s.net.ifaces["host:tun0"])
    log = ping_log(s, "host>office")
    assert log[1] == "dropped: tun0 has no carrier"
    assert log[-1] == "no reply within 4 s"
    s.act("start_vpn", "host")
    assert s.reach[("host", "office")] == "reply"


def test_with_tap_the_vpn_carries_arp_too():
    log = ping_log(sim("vpn", tun_kind="tap"), "host>office")
    assert log[1] == "host asks who has 10.8.0.1 (ARP, try 1) on tap0"
    assert any("office answers: 10.8.0.1 is at 02:…:22" in line for line in log)


def test_the_first_ping_across_the_bridge_hop_by_hop():
    """veth: a frame into one end comes out of its peer; br0 learns and floods."""
    s = sim("bridge")
    assert ping_log(s, "c1>c2")[:8] == [
        "c1 pings 10.0.0.12 (c2)",
        "c1 asks who has 10.0.0.12 (ARP, try 1) on eth0",
        "veth: out of c1's eth0 into host's veth1: ARP who-has 10.0.0.12 tell 10.0.0.11 "
        "[02:…:11 → broadcast]",
        "br0 learns 02:…:11 on veth1",
        "br0: broadcast: flooded → veth2",
        "br0 passes it up to its own stack",
        "veth: out of host's veth2 into c2's eth0: ARP who-has 10.0.0.12 tell 10.0.0.11 "
        "[02:…:11 → broadcast]",
        "host: 10.0.0.12 is not ours, no ARP answer",
    ]
    second = ping_log(s, "c1>c2")
    assert not any("ARP" in line or "flooded" in line for line in second)
    assert second[-1] == "c1 gets the echo reply after 10 ms"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["bridge", "macvlan", "ipvlan"]), st.integers(0, 30))
def test_every_frame_sent_into_a_veth_or_cable_comes_out_of_its_peer(topology, steps):
    s = sim(topology)
    s.act("ping", "c1>c2")
    for _ in range(steps):
        s.step()
    for line in s.log:
        if (
            "out of" in line
            and " into " in line
            and line.split(" · ", 1)[1].startswith(("veth", "out"))
        ):
            words = line.split(" · ", 1)[1]
            src = words.split("out of ", 1)[1].split(" into ")[0]
            dst = words.split(" into ", 1)[1].split(":")[0]
            (sn, sname), (dn, dname) = (w.split("'s ") for w in (src, dst))
            assert s.net.ifaces[f"{sn}:{sname}"].peer == f"{dn}:{dname}"


# --- the demo as the reader drives it -------------------------------------------------------


def test_ageing_out_makes_the_bridge_flood_again_and_wait_moves_the_clock():
    s = sim("bridge")
    ping_log(s, "c1>c2")
    assert len(s.net.bridges["host:br0"].fdb) == 2
    s.act("wait", None)
    assert s.net.bridges["host:br0"].fdb == {}
    assert [m[1] for m in s.marks].count("aged") == 2
    log = ping_log(s, "c1>c2")  # ARP caches remember; the bridge does not
    assert "br0: 02:…:12 is unknown: flooded → veth2" in log


def test_flushing_and_setting_a_link_down():
    s = sim("bridge")
    ping_log(s, "c1>c2")
    s.act("flush_fdb", "host:br0")
    assert s.net.bridges["host:br0"].fdb == {}
    s.act("link_down", "c1:eth0")
    assert s.reach[("c1", "c2")] == "no route" and s.reach[("c2", "c1")] != "reply"
    assert s.reach[("c2", "host")] == "reply"


def test_marks_and_values_for_the_timeline_and_downloads():
    runner = Runner(DEMO, "bridge-veth")
    runner.step(40)
    names = [m.name for m in runner.marks if m.kind == "event"]
    assert names[:2] == ["learned", "flooded"] and names.count("reply") == 2
    frame = runner.frame()
    values = {name: number for name, number, _ in frame.values}
    assert values["reachable_pairs"] == 6 and values["br0_learned"] == 2
    assert len(pickle.dumps(runner.sim)) < 50_000


def test_switching_macvlan_from_bridge_to_private_breaks_the_container_ping():
    bridge = Runner(DEMO, "macvlan")
    private = Runner(DEMO, "macvlan", params={"macvlan_mode": "private"})
    for runner in (bridge, private):
        runner.step(13)
    assert bridge.sim.last.outcome == "reply"
    while private.sim.now < 3.5:  # after three ARP tries, before the second ping at 5 s
        private.step()
    assert (private.sim.last.src, private.sim.last.dst) == ("c1", "c2")
    assert private.sim.last.outcome == "unreachable"


def test_a_run_with_no_inputs_keeps_going_and_stays_small():
    runner = Runner(DEMO, "bridge-veth")
    assert runner.step(10_000) == 10_000
    assert not runner.sim.done
    assert len(pickle.dumps(runner.sim)) < 50_000
