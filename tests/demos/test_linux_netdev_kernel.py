"""The demo's networks, built on the real kernel: what pings the model says get a reply
must be what this kernel's devices do.

Each topology the model builds (``core.build``) is recreated with ``ip`` in network
namespaces of our own, uniquely named and always deleted afterwards (deleting a
namespace deletes the devices in it). Every ordered pair of endpoints is pinged once,
one pair at a time, with the neighbour caches and the bridges' learned entries flushed
before each, as the model's matrix starts each probe from the same state. No traffic
leaves the namespaces; IPv6 is off in them so that no neighbour discovery teaches the
bridges anything before our pings do.

Ping is a raw ICMP socket in a Python run inside the namespace (``ip netns exec``):
this machine has no ``ping``. Skips, with the reason, when not root, without ``ip`` or
``bridge``, or when the kernel lacks a device kind (the checking kernel had no ipvlan).
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from demos.linux_netdev import DEMO
from demos.linux_netdev.core import Network, build

PING = r"""
import select, socket, struct, sys, time
dst, wait = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def checksum(b):
    total = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
packet = struct.pack("!BBHHH", 8, 0, 0, 4242, 1) + b"linux_netdev"
packet = packet[:2] + struct.pack("!H", checksum(packet)) + packet[4:]
try:
    s.sendto(packet, (dst, 0))
except OSError as error:
    print("error", error.errno); sys.exit()
end = time.monotonic() + wait
while (left := end - time.monotonic()) > 0:
    if not select.select([s], [], [], left)[0]:
        continue
    data, (addr, _) = s.recvfrom(2048)
    ihl = (data[0] & 15) * 4
    if addr == dst and data[ihl] == 0 and data[ihl + 4 : ihl + 6] == struct.pack("!H", 4242):
        print("reply"); sys.exit()
print("timeout")
"""

VPND = r"""
import fcntl, os, select, socket, struct, sys
name, kind, fd = sys.argv[1], sys.argv[2], int(sys.argv[3])
flags = (1 if kind == "tun" else 2) | 0x1000  # IFF_TUN or IFF_TAP, IFF_NO_PI
tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, 0x400454CA, struct.pack("16sH22x", name.encode(), flags))  # TUNSETIFF
tunnel = socket.socket(fileno=fd)
print("attached", flush=True)
while True:
    ready = select.select([tun, tunnel], [], [])[0]
    if tun in ready:
        tunnel.send(os.read(tun, 2048))
    if tunnel in ready:
        data = tunnel.recv(2048)
        if not data:
            break
        os.write(tun, data)
"""

WAIT = 0.5
"""Seconds a ping waits for its reply: a reply inside the namespaces takes milliseconds."""

_counter = itertools.count()


def _require_kernel_tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces")
    for tool in ("ip", "bridge"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs the {tool!r} command (iproute2)")


def sh(*cmd: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout


class Lab:
    """Namespaces named after one model network, created and torn down together."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.tag = f"lnd{os.getpid()}x{next(_counter)}"
        self.namespaces: list[str] = []
        self.vpnds: dict[str, subprocess.Popen] = {}
        self.tunnels: list[socket.socket] = []

    def ns(self, name: str) -> str:
        return f"{self.tag}{name}"

    def ip(self, ns: str, *args: str) -> str:
        return sh("ip", "-n", self.ns(ns), *args)

    def close(self) -> None:
        for proc in self.vpnds.values():
            proc.kill()
            proc.wait()
        for sock in self.tunnels:
            sock.close()
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def build(self) -> None:
        net = self.net
        for name in dict.fromkeys(i.ns for i in net.ifaces.values()):
            sh("ip", "netns", "add", self.ns(name))
            self.namespaces.append(self.ns(name))
            for setting in ("all", "default"):
                sh("ip", "netns", "exec", self.ns(name), "sysctl", "-qw",
                   f"net.ipv6.conf.{setting}.disable_ipv6=1")  # fmt: skip
            self.ip(name, "link", "set", "lo", "up")
        done: set[str] = set()
        for iface in net.ifaces.values():
            if iface.kind == "bridge":
                self.ip(iface.ns, "link", "add", "name", iface.name, "type", "bridge")
            elif iface.kind in ("veth", "cable", "eth") and iface.key not in done:
                peer = net.ifaces[iface.peer]
                self.ip(iface.ns, "link", "add", iface.name, "type", "veth", "peer", "name",
                        peer.name, "netns", self.ns(peer.ns))  # fmt: skip
                done |= {iface.key, peer.key}
            elif iface.kind in ("tun", "tap"):
                self.ip(iface.ns, "tuntap", "add", "name", iface.name, "mode", iface.kind)
        for iface in net.ifaces.values():
            if iface.kind in ("macvlan", "ipvlan"):
                parent = net.ifaces[iface.parent]
                mode = net.macvlan_mode if iface.kind == "macvlan" else net.ipvlan_mode
                self.ip(parent.ns, "link", "add", iface.name, "link", parent.name, "type",
                        iface.kind, "mode", mode)  # fmt: skip
                self.ip(parent.ns, "link", "set", iface.name, "netns", self.ns(iface.ns))
        for iface in net.ifaces.values():
            inherits = iface.kind == "ipvlan" or (
                iface.kind == "macvlan" and net.macvlan_mode == "passthru"
            )
            if iface.mac and not inherits:
                self.ip(iface.ns, "link", "set", iface.name, "address", iface.mac)
            if iface.master:
                bridge = net.ifaces[iface.master]
                self.ip(iface.ns, "link", "set", iface.name, "master", bridge.name)
                if iface.key in net.bridges[iface.master].hairpin:
                    sh("ip", "netns", "exec", self.ns(iface.ns), "bridge", "link", "set",
                       "dev", iface.name, "hairpin", "on")  # fmt: skip
            if iface.ip:
                self.ip(iface.ns, "addr", "add", f"{iface.ip}/24", "dev", iface.name)
        for iface in net.ifaces.values():
            if iface.up:
                self.ip(iface.ns, "link", "set", iface.name, "up")
        self.settle()

    def settle(self) -> None:
        """Wait until every link that should have a carrier has it and every bridge
        port forwards: the first ping must not race the links coming up."""
        net = self.net
        wanted = [
            i.key for i in net.ifaces.values() if i.kind not in ("tun", "tap") and net.carrier(i)
        ]
        ports = [i for i in net.ifaces.values() if i.master and net.carrier(i)]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            states = [
                sh("ip", "netns", "exec", self.ns(p.ns), "bridge", "link", "show", "dev", p.name)
                for p in ports
            ]
            if all(self.carrier(k) for k in wanted) and all("forwarding" in s for s in states):
                return
            time.sleep(0.02)
        raise RuntimeError(f"{self.tag}: links did not come up within 5 s")

    def start_vpnds(self) -> None:
        """One vpnd per side, joined by a socket pair: the internet between them."""
        net = self.net
        left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.tunnels += [left, right]
        for proc, sock in zip(net.processes.values(), (left, right), strict=True):
            tun = net.ifaces[proc.tun]
            self.vpnds[proc.key] = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(tun.ns), sys.executable, "-c", VPND,
                 tun.name, tun.kind, str(sock.fileno())],
                pass_fds=(sock.fileno(),), stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
        for proc in self.vpnds.values():
            assert proc.stdout.readline().strip() == "attached"

    def stop_vpnd(self, key: str) -> None:
        proc = self.vpnds.pop(key)
        proc.kill()
        proc.wait()

    def carrier(self, iface_key: str) -> bool:
        iface = self.net.ifaces[iface_key]
        flags = self.ip(iface.ns, "-o", "link", "show", iface.name).split("<", 1)[1].split(">")[0]
        return "LOWER_UP" in flags.split(",")

    def forget(self) -> None:
        """Flush every neighbour cache and every bridge's learned entries."""
        for iface in self.net.ifaces.values():
            if iface.kind == "bridge":
                sh("ip", "netns", "exec", self.ns(iface.ns), "bridge", "fdb", "flush", "dev",
                   iface.name, "dynamic")  # fmt: skip
        for ns in dict.fromkeys(i.ns for i in self.net.ifaces.values()):
            self.ip(ns, "neigh", "flush", "all")

    def ping(self, src: str, dst: str) -> str:
        a, b = self.net.endpoints[src], self.net.endpoints[dst]
        out = subprocess.run(
            ["ip", "netns", "exec", self.ns(a.ns), sys.executable, "-c", PING, b.ip, str(WAIT)],
            capture_output=True, text=True, timeout=20,
        ).stdout.strip()  # fmt: skip
        return out

    def matrix(self) -> dict[tuple[str, str], bool]:
        names = list(self.net.endpoints)
        result = {}
        for a, b in itertools.permutations(names, 2):
            self.forget()
            result[(a, b)] = self.ping(a, b) == "reply"
        return result

    def fdb(self, bridge: str) -> dict[str, str]:
        """Learned (not permanent) entries of a bridge: MAC -> port name."""
        iface = self.net.ifaces[bridge]
        out = sh(
            "ip", "netns", "exec", self.ns(iface.ns), "bridge", "fdb", "show", "br", iface.name
        )
        entries = {}
        for line in out.splitlines():
            words = line.split()
            if "permanent" in words or "dev" not in words or "master" not in words:
                continue
            entries[words[0]] = words[words.index("dev") + 1]
        return entries


def model(topology: str, **params) -> Network:
    return build(topology, DEMO.resolve({"topology": topology, **params}))


def expected(net: Network) -> dict[tuple[str, str], bool]:
    return {pair: outcome == "reply" for pair, outcome in net.matrix().items()}


def in_lab(net: Network, work):
    lab = Lab(net)
    try:
        lab.build()
        return work(lab)
    finally:
        lab.close()


def kernel_has(kind: str, *args: str) -> bool:
    """Can this kernel create a device of ``kind``? Tried in a namespace of our own."""
    ns = f"lnd{os.getpid()}probe{next(_counter)}"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "add", "p0", "type", "veth", "peer", "name", "p1")
        done = subprocess.run(
            ["ip", "-n", ns, "link", "add", "c0", "link", "p0", "type", kind, *args],
            capture_output=True,
        )
        return done.returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def differences(model_matrix, kernel_matrix) -> list[str]:
    word = {True: "reply", False: "no reply"}
    return [
        f"{a} → {b}: model {word[model_matrix[(a, b)]]}, kernel {word[kernel_matrix[(a, b)]]}"
        for (a, b) in model_matrix
        if model_matrix[(a, b)] != kernel_matrix[(a, b)]
    ]


@pytest.fixture(scope="module", autouse=True)
def kernel_tools():
    _require_kernel_tools()


# --- the checks -----------------------------------------------------------------------------


MACVLAN_CASES = [(mode, hairpin) for mode in ("private", "vepa", "bridge", "passthru")
                 for hairpin in (False, True)]  # fmt: skip


def test_macvlan_every_mode_with_and_without_a_hairpin_switch():
    """ip-link(8), MACVLAN: private never, vepa only through a hairpin switch, bridge
    directly; passthru has one child. Children never reach the host's own address
    through eth0; a hairpinning switch is another path."""
    if not kernel_has("macvlan", "mode", "bridge"):
        pytest.skip("this kernel has no macvlan")

    def check(case):
        mode, hairpin = case
        net = model("macvlan", macvlan_mode=mode, hairpin=hairpin)
        return case, expected(net), in_lab(net, Lab.matrix)

    with concurrent.futures.ThreadPoolExecutor(len(MACVLAN_CASES)) as pool:
        results = list(pool.map(check, MACVLAN_CASES))
    problems = []
    for (mode, hairpin), want, got in results:
        problems += [f"{mode}, hairpin {hairpin}: {d}" for d in differences(want, got)]
    assert not problems, "\n".join(problems)
    # The claims the demo's page makes, on the kernel's own answers:
    got = {case: kernel for case, _, kernel in results}
    assert got[("bridge", False)][("c1", "c2")] and not got[("private", True)][("c1", "c2")]
    assert not got[("vepa", False)][("c1", "c2")] and got[("vepa", True)][("c1", "c2")]
    assert not any(got[(m, False)][(c, "host")] for m in ("private", "vepa", "bridge")
                   for c in ("c1", "c2"))  # fmt: skip


def test_passthru_allows_one_child_which_takes_the_parents_mac():
    net = model("macvlan", macvlan_mode="passthru")

    def check(lab):
        second = subprocess.run(
            ["ip", "-n", lab.ns("host"), "link", "add", "mv9", "link", "eth0", "type",
             "macvlan", "mode", "passthru"], capture_output=True,
        )  # fmt: skip
        shown = lab.ip("c1", "-o", "link", "show", "mv1")
        return second.returncode, shown

    code, shown = in_lab(net, check)
    assert code != 0
    assert net.ifaces["host:eth0"].mac in shown


def test_bridge_learns_floods_and_forgets_a_port_that_goes_down():
    """br_input.c / br_fdb.c: after c1 pings c2, br0 has learned c1 on veth1 and c2 on
    veth2, as the model has; a port whose link goes down loses its entries."""
    net = model("bridge")
    assert not differences(expected(net), in_lab(model("bridge"), Lab.matrix))

    def learn(lab):
        lab.forget()
        assert lab.ping("c1", "c2") == "reply"
        learned = lab.fdb("host:br0")
        lab.ip("c1", "link", "set", "eth0", "down")
        time.sleep(0.1)
        return learned, lab.fdb("host:br0")

    learned, after = in_lab(model("bridge"), learn)
    sim_net = model("bridge")
    sim_net.ping(1, sim_net.endpoints["c1"], sim_net.endpoints["c2"])
    while sim_net.pings[1].outcome == "" and sim_net.run_event():
        pass
    bridge = sim_net.bridges["host:br0"]
    assert learned == {m: sim_net.ifaces[e.port].name for m, e in bridge.fdb.items()}
    assert learned == {"02:00:00:00:00:11": "veth1", "02:00:00:00:00:12": "veth2"}
    assert after == {"02:00:00:00:00:12": "veth2"}


def test_bridge_with_a_veth_down_matches_the_model():
    from demos.linux_netdev.core import NetdevSimulation

    sim = NetdevSimulation(DEMO.resolve({"topology": "bridge"}), None)
    sim.act("link_down", "host:veth1")
    net = sim.net

    def check(lab):
        return lab.matrix()

    got = in_lab(net, check)
    assert not differences(expected(net), got)
    assert not got[("c1", "c2")] and got[("c2", "host")]


@pytest.mark.parametrize("kind", ["tun", "tap"])
def test_vpn_over_tun_or_tap_needs_its_process(kind):
    """tuntap.rst: the process holding the device reads what the kernel sends and
    writes what it should receive; without it the link has no carrier."""
    net = model("vpn", tun_kind=kind)

    def check(lab):
        seen = {"carrier_before": lab.carrier(f"host:{kind}0")}
        seen["before"] = lab.ping("host", "office")
        lab.start_vpnds()
        deadline = time.monotonic() + 3
        while not lab.carrier(f"host:{kind}0") and time.monotonic() < deadline:
            time.sleep(0.05)
        seen["carrier_running"] = lab.carrier(f"host:{kind}0")
        seen["matrix"] = lab.matrix()
        lab.stop_vpnd("vpnd@host")
        time.sleep(0.1)
        seen["carrier_stopped"] = lab.carrier(f"host:{kind}0")
        seen["stopped"] = lab.ping("host", "office")
        return seen

    seen = in_lab(net, check)
    assert seen["carrier_before"] is False and seen["before"] != "reply"
    assert seen["carrier_running"] is True
    assert not differences(expected(net), seen["matrix"])
    assert seen["carrier_stopped"] is False and seen["stopped"] != "reply"
    # The model: the same two states.
    from demos.linux_netdev.core import NetdevSimulation

    sim = NetdevSimulation(DEMO.resolve({"topology": "vpn", "tun_kind": kind}), None)
    assert sim.reach[("host", "office")] == "reply"
    sim.act("stop_vpn", "host")
    assert sim.reach[("host", "office")] != "reply"
    assert not sim.net.carrier(sim.net.ifaces[f"host:{kind}0"])


@pytest.mark.parametrize("mode", ["l2", "l3"])
def test_ipvlan_matches_the_model(mode):
    if not kernel_has("ipvlan", "mode", mode):
        pytest.skip("this kernel has no ipvlan (CONFIG_IPVLAN is not set); the model follows "
                    "ipvlan.rst and ipvlan_core.c instead")  # fmt: skip
    net = model("ipvlan", ipvlan_mode=mode)
    assert not differences(expected(net), in_lab(net, Lab.matrix))
