"""Linux software network devices: tun and tap, bridge, veth, macvlan and ipvlan.

From "Software Networking and Interfaces on Linux" (Matt Turner, SREcon19
Asia/Pacific). ``devices.py`` holds each device's rules with their kernel sources;
``core.py`` builds the talk's four small networks and sends pings through them hop by
hop; ``view.py`` draws them.
"""

from __future__ import annotations

from demokit import Action, BoolParam, ChoiceParam, Cue, Demo, IntParam, Notable, Scenario

from . import view
from .core import TOPOLOGIES, create

ENDPOINTS = ("c1", "c2", "host", "lan", "office")
PINGS = tuple(
    (f"{a}>{b}", f"{a} → {b}") for a in ENDPOINTS for b in ENDPOINTS if a != b
)  # fmt: skip

INTERFACES = (
    ("host:tun0", "host's tun0 (or tap0)"),
    ("office:tun0", "office's tun0"),
    ("c1:eth0", "c1's eth0 (veth)"),
    ("host:veth1", "host's veth1 (c1's peer)"),
    ("c2:eth0", "c2's eth0 (veth)"),
    ("host:veth2", "host's veth2 (c2's peer)"),
    ("host:br0", "host's br0"),
    ("host:eth0", "host's eth0 (the parent)"),
    ("c1:mv1", "c1's mv1 (macvlan)"),
    ("c2:mv2", "c2's mv2 (macvlan)"),
    ("c1:iv1", "c1's iv1 (ipvlan)"),
    ("c2:iv2", "c2's iv2 (ipvlan)"),
)

PARAMS = (
    ChoiceParam("topology", "Topology", "bridge", TOPOLOGIES),
    ChoiceParam("tun_kind", "VPN device (chosen at creation)", "tun",
                (("tun", "tun: IP packets"), ("tap", "tap: Ethernet frames"))),
    ChoiceParam("macvlan_mode", "macvlan mode", "bridge", (
        ("bridge", "bridge"), ("private", "private"), ("vepa", "vepa (the kernel's default)"),
        ("passthru", "passthru (one child)"))),
    ChoiceParam("ipvlan_mode", "ipvlan mode", "l2", (("l2", "l2"), ("l3", "l3"))),
    BoolParam("hairpin", "External switch: hairpin", False, live=True),
    IntParam("ageing_time", "Bridge ageing_time", 300, 10, 600, 10, "s", live=True),
)  # fmt: skip

_PING = "ping"

SCENARIOS = (
    Scenario(
        name="bridge-veth",
        title="Two containers on a bridge through veth pairs",
        caption=(
            "c1 pings c2. The ARP request leaves c1's eth0 and comes out of its veth peer "
            "on the host; br0 learns c1's MAC on veth1 and floods the broadcast. The second "
            "ping, five seconds later, needs no ARP and goes out of one port only. Wait five "
            "minutes and the learned entries age out; flush the FDB or take a veth down."
        ),
        params={"topology": "bridge"},
        script=(Cue(0.0, _PING, "c1>c2"), Cue(5.0, _PING, "c1>c2")),
        preview_steps=21,
    ),
    Scenario(
        name="vpn-tun",
        title="A VPN process on a tun",
        caption=(
            "The host pings the office through tun0. A tun carries IP packets, so there is "
            "no ARP: the kernel hands the packet to vpnd, which holds tun0 open and sends it "
            "over UDP to the office's vpnd. Stop vpnd and tun0 loses its carrier: pings are "
            "dropped. Pick tap to see Ethernet frames and ARP instead."
        ),
        params={"topology": "vpn"},
        script=(Cue(0.0, _PING, "host>office"),),
        preview_steps=10,
    ),
    Scenario(
        name="macvlan",
        title="Two containers on macvlan, no bridge",
        caption=(
            "c1 and c2 each have a macvlan child of the host's eth0 with its own MAC. In "
            "bridge mode c1 reaches c2 directly; in private mode never; in vepa mode only if "
            "the external switch sends frames back (hairpin). In no mode does a child reach "
            "the host's own address through eth0: see the matrix."
        ),
        params={"topology": "macvlan", "macvlan_mode": "bridge"},
        script=(Cue(0.0, _PING, "c1>c2"), Cue(5.0, _PING, "c1>host")),
        preview_steps=13,
    ),
    Scenario(
        name="ipvlan",
        title="Two containers on ipvlan",
        caption=(
            "The children share eth0's MAC and are told apart by IP address. In l2 mode "
            "ipvlan switches between them and passes ARP; in l3 mode the children do no ARP "
            "and the host's namespace routes their packets. Read from the kernel's source and "
            "documentation: the kernel we checked on has no ipvlan."
        ),
        params={"topology": "ipvlan", "ipvlan_mode": "l2"},
        script=(Cue(0.0, _PING, "c1>c2"),),
        preview_steps=13,
    ),
)

DEMO = Demo(
    name="linux_netdev",
    title="Linux software network devices",
    summary=(
        "Ping between containers, a VPN and the host through tun, tap, veth, a bridge, "
        "macvlan and ipvlan, and watch each device decide, hop by hop."
    ),
    talk="srecon19apac/linux-software-networking",
    params=PARAMS,
    actions=(
        Action("ping", "Ping", PINGS),
        Action("link_down", "Set link down", INTERFACES),
        Action("link_up", "Set link up", INTERFACES),
        Action(
            "stop_vpn", "Stop VPN process", (("host", "host's vpnd"), ("office", "office's vpnd"))
        ),
        Action(
            "start_vpn", "Start VPN process", (("host", "host's vpnd"), ("office", "office's vpnd"))
        ),
        Action(
            "flush_fdb",
            "Flush bridge FDB",
            (("host:br0", "br0"), ("switch:sw0", "external switch")),
        ),
        Action("wait", "Wait 5 minutes"),
    ),
    scenarios=SCENARIOS,
    create=create,
    render=view.render,
    seed=1,
    steps_per_second=3.0,
    step_label="hop (or idle second)",
    version=1,
    notable=(
        Notable("flooded", "a bridge flooded a frame"),
        Notable("learned", "a bridge learned a MAC"),
        Notable("aged", "a bridge entry aged out"),
        Notable("dropped", "a frame was dropped"),
        Notable("reply", "a ping got its reply"),
        Notable("lost", "a ping got no reply"),
    ),
)
