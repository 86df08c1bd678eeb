"""Instagram's regional Cassandra clusters as a deterministic simulation.

Five data centres on three continents hold the keyspaces; requests from users in
Europe, the U.S. and Asia go to a coordinator, which applies the consistency rules of
:mod:`.consistency` (Cassandra's own). Every operation is evaluated at all eight
consistency levels on the same replies, so the frame can say what each level would
have given; the chosen read and write levels decide what is written and what the
traveller waits for.

Published figures: round-trip times between regions are IBM Cloud's published
averages (see :data:`RTT_MS`). Everything else marked ASSUMPTION is our choice, and
the page and picture say so.

Time is simulated seconds (latencies in ms); events run in ``(time, seq)`` order
(``demokit.events``) and all randomness comes from the ``random.Random`` handed in.
State is plain data, small enough to pickle every 100 steps.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from demokit.events import EventQueue

from . import consistency as cl
from .consistency import Keyspace

STEP_S = 0.1
"""Simulated seconds per step."""
MAX_TIME_S = 3600.0
"""The run ends after an hour of simulated time (36,000 steps)."""

DATACENTRES: tuple[tuple[str, str, str], ...] = (
    ("dal", "Dallas", "us"),
    ("wdc", "Washington DC", "us"),
    ("lon", "London", "eu"),
    ("fra", "Frankfurt", "eu"),
    ("tok", "Tokyo", "apac"),
)
"""(code, name, continent). Cities of IBM Cloud regions, so their published latency
applies; Instagram's own data centres are not named in the notes."""
DC_NAME = {code: name for code, name, _ in DATACENTRES}
CONTINENT = {code: continent for code, _, continent in DATACENTRES}
REGIONS: tuple[tuple[str, str], ...] = (("us", "U.S."), ("eu", "Europe"), ("apac", "Asia"))
REGION_NAME = dict(REGIONS)
EDGE = {"us": "wdc", "eu": "fra", "apac": "tok"}
"""ASSUMPTION: where a region's users enter the network (their app servers' DC)."""
PARTITIONS: tuple[tuple[str, str], ...] = (
    ("eu-us", "Europe | U.S. (Atlantic)"),
    ("eu-apac", "Europe | Asia"),
    ("us-apac", "U.S. | Asia (Pacific)"),
)

RTT_MS: dict[tuple[str, str], float] = {
    ("dal", "wdc"): 31.0,
    ("dal", "lon"): 113.0,
    ("dal", "fra"): 123.0,
    ("dal", "tok"): 142.0,
    ("wdc", "lon"): 76.0,
    ("wdc", "fra"): 89.0,
    ("wdc", "tok"): 139.0,
    ("lon", "fra"): 13.0,
    ("lon", "tok"): 246.0,
    ("fra", "tok"): 235.0,
}
"""Average latency between IBM Cloud regions, ms, from the table for 20 Dec 2025 to
18 Jan 2026 in ibm-cloud-docs/vpc ``_include-segments/network-latency.md`` @ be2d5d2e
(the larger of the two directions). The table says "average latency"; its figures
match ping round trips, and we use them as round-trip times (our reading)."""
INTRA_DC_RTT_MS = 0.5
"""ASSUMPTION: a round trip inside one data centre (IBM lists 0.1-2 ms between zones)."""

READ_TIMEOUT_MS = 5000.0
WRITE_TIMEOUT_MS = 2000.0
"""ASSUMPTION: the coordinator's request timeouts (read, write)."""
CONVICT_S = 10.0
"""ASSUMPTION: seconds of silence before the failure detector convicts a replica; until
then the coordinator still sends to it and waits for the timeout."""
HINT_MS = 0.2
"""ASSUMPTION: time to store a hint on the coordinator (ANY writes)."""

EU_USERS = 24
"""EU users whose rows the workload reads and writes (rows of the EU keyspace)."""
WRITE_SHARE = 0.25
"""ASSUMPTION: share of the workload that is writes (an EU user posting from Europe)."""
READ_ORIGINS = (("eu", 0.7), ("us", 0.2), ("apac", 0.1))
"""ASSUMPTION: where the readers of EU users' rows are."""
FOLLOWERS = (("us", 0.8), ("apac", 0.2))
"""ASSUMPTION: after a post, a follower on that continent reads it with this chance..."""
FOLLOW_DELAY_S = 0.1
"""...after an exponentially distributed delay with this mean (a notification)."""
TRAVELLER_RPS = 2.0
TRAVELLER_READ_SHARE = 0.7
"""ASSUMPTION: the traveller's own requests per second, and the share that are reads."""
SLOW_SHARE, SLOW_MS = 0.01, (20.0, 80.0)
"""ASSUMPTION: a replica's answer is slow (compaction, GC pause) this often, by this much."""
SERVICE_MS = {"read": (0.4, 0.6), "write": (0.2, 0.4)}
"""ASSUMPTION: a replica's work: a fixed part plus an exponential part of this mean."""

WINDOW = 150
"""Operations per consistency level over which rates and percentiles are measured."""
TRAVELLER_WINDOW = 150
DEBOUNCE_S = 5.0
"""A notable event of one kind is marked again only after this many quiet seconds."""

US_KEYSPACE = Keyspace("us", (("wdc", 3), ("dal", 3)))
APAC_KEYSPACE = Keyspace("apac", (("tok", 3), ("dal", 3)))
"""ASSUMPTION: the U.S. and Asian clusters. Asia, like Europe, has one data centre of
its own, so its quorum includes a U.S. cluster too."""
EU_RF_PARAMS = (
    ("lon", "rf_lon"),
    ("fra", "rf_fra"),
    ("wdc", "rf_wdc"),
    ("dal", "rf_dal"),
    ("tok", "rf_tok"),
)

READ, WRITE = "read", "write"
_ARRIVAL, _TRAVELLER, _FOLLOW = 0, 1, 2


def rtt(a: str, b: str) -> float:
    """Round-trip time between two data centres, ms."""
    if a == b:
        return INTRA_DC_RTT_MS
    return RTT_MS[(a, b)] if (a, b) in RTT_MS else RTT_MS[(b, a)]


def cut_key(a: str, b: str) -> str:
    """The partition name for two continents, e.g. ``eu-us``."""
    first, second = sorted((a, b))
    return f"{first}-{second}"


def eu_keyspace(params: dict) -> Keyspace:
    return Keyspace("eu", tuple((dc, int(params[name])) for dc, name in EU_RF_PARAMS))


class Row:
    """One user's row: what each replica holds (last write wins on a version number),
    mutations on their way, hints waiting for a replica to come back, and which
    versions were acknowledged to the client, and when."""

    def __init__(self, region: str, replicas: int, version: int = 0) -> None:
        self.region = region
        self.next_version = version + 1
        self.reset(replicas, version)

    def reset(self, replicas: int, version: int) -> None:
        """A new replica set, repaired: every replica holds ``version``."""
        self.base = [version] * replicas
        self.deliveries: list[list[tuple[float, int]]] = [[] for _ in range(replicas)]
        self.pending: list[dict[str, int]] = [{} for _ in range(replicas)]
        """Per replica: coordinator DC -> newest version hinted there."""
        self.acked: list[tuple[float, int]] = []
        self.acked_base = version

    def visible(self, replica: int, at: float, now: float) -> int:
        """The version replica ``replica`` returns at time ``at`` (``at >= now``)."""
        version = self.base[replica]
        waiting = self.deliveries[replica]
        if waiting:
            keep, seen = [], version
            for arrival, v in waiting:
                if arrival <= now:
                    version = max(version, v)
                else:
                    keep.append((arrival, v))
                    if arrival <= at:
                        seen = max(seen, v)
            self.base[replica] = version
            self.deliveries[replica] = keep
            return max(version, seen)
        return version

    def latest_acked(self, at: float) -> int:
        """The newest version acknowledged to a client by time ``at``."""
        newest = self.acked_base
        keep = []
        for when, v in self.acked:
            if when <= at:
                newest = max(newest, v)
            else:
                keep.append((when, v))
        self.acked_base = newest
        self.acked = keep
        return newest


class Traveller:
    """The user who moves: where she is, where her data lives, and her counters."""

    def __init__(self, window: int) -> None:
        self.location = "eu"
        self.data_region = "eu"
        self.recent: deque[str] = deque(maxlen=window)
        """ASSUMPTION: the counters: the regions her last ``window`` requests came from."""
        self.migrated_at: float | None = None
        self.trips = 0
        self.buckets: dict[str, deque[int]] = {
            phase: deque(maxlen=TRAVELLER_WINDOW) for phase in ("before", "away", "after")
        }
        """Latencies (0.1 ms) of her requests: at home before travelling, away from her
        data, and at home again after her data migrated."""
        self.failed = 0

    def phase(self) -> str:
        if self.location != self.data_region:
            return "away"
        return "after" if self.migrated_at is not None else "before"


class QuorumSim:
    """The demo's simulation (see ``demokit.Simulation``); ``view.render`` draws it."""

    def __init__(self, params: dict, rng: random.Random) -> None:
        self.params = dict(params)
        self.rng = rng
        self.now = 0.0
        self.steps = 0
        self.done = False
        self.marks: list[tuple[float, str, str]] = []
        self.log: list[str] = []
        self.dc_up = {code: True for code, _, _ in DATACENTRES}
        self.down_at: dict[str, float] = {}
        self.cuts: dict[str, float] = {}
        """Partitioned continent pairs and since when."""
        self.keyspaces = {"us": US_KEYSPACE, "eu": eu_keyspace(self.params), "apac": APAC_KEYSPACE}
        self.rows = [Row("eu", len(self.keyspaces["eu"].replicas)) for _ in range(EU_USERS)]
        self.traveller = Traveller(int(self.params["migrate_window"]))
        self.traveller_row = Row("eu", len(self.keyspaces["eu"].replicas))
        self.stats: dict[tuple[str, str], deque[int]] = {
            (kind, level): deque(maxlen=WINDOW) for kind in (READ, WRITE) for level in cl.LEVELS
        }
        """Per (kind, level): packed results, see :func:`pack`."""
        self.operations = 0
        self.stale_total = 0
        self.last: dict[str, tuple] = {}
        """Per kind: (coordinator, keyspace, waited DCs, status) of the latest operation
        at the chosen level by an EU user in Europe: the picture draws it."""
        self._crossing = {READ: False, WRITE: False}
        self._marked_at: dict[str, float] = {}
        self._queue = EventQueue()
        self._queue.schedule(rng.expovariate(self._rate()), _ARRIVAL)
        self._queue.schedule(rng.expovariate(TRAVELLER_RPS), _TRAVELLER)

    # -- the Simulation protocol -------------------------------------------------------

    def step(self) -> None:
        self.steps += 1
        end = self.steps * STEP_S
        queue = self._queue
        while (event := queue.pop_until(end)) is not None:
            self.now = event.time
            if event.kind == _ARRIVAL:
                self._arrival()
            elif event.kind == _TRAVELLER:
                self._traveller_request()
            else:
                row, origin = event.payload
                self._operate(READ, self.rows[row], origin, "follower")
        self.now = end
        if self.now >= MAX_TIME_S:
            self.done = True

    def act(self, action: str, arg: str | None) -> None:
        """Faults and the traveller: ``dc_down``/``dc_up`` (a DC), ``region_down``/
        ``region_up`` (a continent), ``partition``/``heal_partition`` (a continent pair),
        ``heal_all``, ``travel`` (a continent)."""
        if action in ("dc_down", "dc_up"):
            dc = self._choice(arg, [code for code, _, _ in DATACENTRES], "data centre")
            self._set_dc(dc, action == "dc_up")
        elif action in ("region_down", "region_up"):
            region = self._choice(arg, [code for code, _ in REGIONS], "region")
            up = action == "region_up"
            for code, _, continent in DATACENTRES:
                if continent == region and self.dc_up[code] != up:
                    self._set_dc(code, up, quiet=True)
            self._event(
                "healed" if up else "region_down",
                f"{REGION_NAME[region]} {'back up' if up else 'down: all its data centres'}",
            )
        elif action in ("partition", "heal_partition"):
            pair = self._choice(arg, [code for code, _ in PARTITIONS], "partition")
            if action == "partition" and pair not in self.cuts:
                self.cuts[pair] = self.now
                self._event("partition", f"network partition {dict(PARTITIONS)[pair]}")
            elif action == "heal_partition" and pair in self.cuts:
                del self.cuts[pair]
                self._replay_hints()
                self._event("healed", f"partition {dict(PARTITIONS)[pair]} healed")
        elif action == "heal_all":
            for code, _, _ in DATACENTRES:
                if not self.dc_up[code]:
                    self._set_dc(code, True, quiet=True)
            self.cuts.clear()
            self._replay_hints()
            self._event("healed", "every data centre up, no partitions")
        elif action == "travel":
            region = self._choice(arg, [code for code, _ in REGIONS], "region")
            if region != self.traveller.location:
                self.traveller.location = region
                self.traveller.trips += 1
                self._event("traveller_moved", f"the traveller is now in {REGION_NAME[region]}")
        else:
            raise ValueError(
                f"unknown action {action!r}; allowed: dc_down, dc_up, region_down, region_up, "
                "partition, heal_partition, heal_all, travel"
            )

    def set_param(self, name: str, value: Any) -> None:
        self.params[name] = value
        if name.startswith("rf_"):
            self.keyspaces["eu"] = keyspace = eu_keyspace(self.params)
            size = len(keyspace.replicas)
            rows = self.rows + ([self.traveller_row] if self.traveller_row.region == "eu" else [])
            for row in rows:
                row.reset(size, row.next_version - 1)
            self._log(f"EU keyspace now {describe(keyspace)} (new replicas assumed repaired)")
        elif name == "migrate_window":
            self.traveller.recent = deque(self.traveller.recent, maxlen=int(value))

    # -- the network and the failure detector ---------------------------------------------

    def reachable(self, a: str, b: str) -> bool:
        """Can a message from DC ``a`` reach DC ``b`` now?"""
        if not (self.dc_up[a] and self.dc_up[b]):
            return False
        return CONTINENT[a] == CONTINENT[b] or cut_key(CONTINENT[a], CONTINENT[b]) not in self.cuts

    def believed_alive(self, coordinator: str, dc: str) -> bool:
        """Does the coordinator's failure detector still think DC ``dc``'s replicas are up?
        An unreachable replica is convicted :data:`CONVICT_S` after it went silent."""
        if self.reachable(coordinator, dc):
            return True
        since = []
        if not self.dc_up[dc]:
            since.append(self.down_at[dc])
        if CONTINENT[dc] != CONTINENT[coordinator]:
            key = cut_key(CONTINENT[dc], CONTINENT[coordinator])
            if key in self.cuts:
                since.append(self.cuts[key])
        return self.now - min(since) < CONVICT_S

    def route(self, origin: str, keyspace: Keyspace) -> str | None:
        """ASSUMPTION: the app sends a request to the nearest data centre that is up,
        reachable from the user's region and holds replicas of the data; that DC's
        Cassandra node coordinates (the client's data centre)."""
        edge = EDGE[origin]
        best, best_rtt = None, 0.0
        for code, _, continent in DATACENTRES:
            if not self.dc_up[code] or keyspace.rf_of(code) == 0:
                continue
            if continent != origin and cut_key(continent, origin) in self.cuts:
                continue
            distance = 0.0 if code == edge else rtt(edge, code)
            if best is None or distance < best_rtt:
                best, best_rtt = code, distance
        return best

    # -- the workload ----------------------------------------------------------------------

    def _rate(self) -> float:
        return float(self.params["requests_per_second"])

    def _arrival(self) -> None:
        rng = self.rng
        row = rng.randrange(EU_USERS)
        if rng.random() < WRITE_SHARE:
            if self._operate(WRITE, self.rows[row], "eu", "owner"):
                for region, chance in FOLLOWERS:
                    if rng.random() < chance:
                        at = self.now + rng.expovariate(1 / FOLLOW_DELAY_S)
                        self._queue.schedule(at, _FOLLOW, (row, region))
        else:
            pick, origin = rng.random(), READ_ORIGINS[-1][0]
            for region, share in READ_ORIGINS:
                if pick < share:
                    origin = region
                    break
                pick -= share
            self._operate(READ, self.rows[row], origin, "owner" if origin == "eu" else "reader")
        self._queue.schedule(self.now + rng.expovariate(self._rate()), _ARRIVAL)

    def _traveller_request(self) -> None:
        rng = self.rng
        traveller = self.traveller
        kind = READ if rng.random() < TRAVELLER_READ_SHARE else WRITE
        self._operate(kind, self.traveller_row, traveller.location, "traveller")
        traveller.recent.append(traveller.location)
        self._maybe_migrate()
        self._queue.schedule(self.now + rng.expovariate(TRAVELLER_RPS), _TRAVELLER)

    def _maybe_migrate(self) -> None:
        """ASSUMPTION (the talk says counters decide; the rule is ours): once the last
        ``migrate_window`` requests are in, a region other than the data's home that sent
        at least ``migrate_share`` % of them becomes the new home."""
        traveller = self.traveller
        if not self.params["migration"] or len(traveller.recent) < traveller.recent.maxlen:
            return
        for region, _ in REGIONS:
            if region == traveller.data_region:
                continue
            count = 0
            for seen in traveller.recent:
                count += seen == region
            if count * 100 >= self.params["migrate_share"] * len(traveller.recent):
                old, total = traveller.data_region, len(traveller.recent)
                traveller.data_region = region
                traveller.migrated_at = self.now
                traveller.recent.clear()
                row = self.traveller_row
                row.region = region
                row.reset(len(self.keyspaces[region].replicas), row.next_version - 1)
                self._event(
                    "user_migrated",
                    f"traveller's data moved from the {REGION_NAME[old]} cluster to the "
                    f"{REGION_NAME[region]} cluster ({count} of her last {total} requests came "
                    "from there)",
                )
                return

    # -- one operation ---------------------------------------------------------------------

    def _operate(self, kind: str, row: Row, origin: str, who: str) -> bool:
        """Run one read or write at every level on the same replies; apply the chosen
        level's effects. Returns True if a write was applied."""
        self.operations += 1
        rng = self.rng
        keyspace = self.keyspaces[row.region]
        replicas = keyspace.replicas
        chosen = self.params["read_cl" if kind == READ else "write_cl"]
        coordinator = self.route(origin, keyspace) if replicas else None
        traveller = who == "traveller"
        if coordinator is None:
            if traveller:
                self.traveller.failed += 1
            else:
                for level in cl.LEVELS:
                    self.stats[(kind, level)].append(pack(0.0, False, False, False, False))
                self._notice_failure(
                    cl.UNAVAILABLE, kind, "no data centre holding the data is reachable"
                )
            return False
        edge = EDGE[origin]
        to_coordinator = 0.0 if coordinator == edge else rtt(edge, coordinator)
        sent = self.now + to_coordinator / 2000
        # The snitch ranks replicas by distance from the coordinator (static proximity;
        # the dynamic snitch would rank by measured latency, with the same result here).
        order = sorted(range(len(replicas)), key=lambda i: (rtt(coordinator, replicas[i]), i))
        live = [i for i in order if self.believed_alive(coordinator, replicas[i])]
        fixed, mean = SERVICE_MS[kind]
        reply: list[float | None] = []
        one_way: list[float] = []
        for dc in replicas:
            jitter, service = rng.random(), fixed + rng.expovariate(1 / mean)
            if rng.random() < SLOW_SHARE:
                service += rng.uniform(*SLOW_MS)
            flight = rtt(coordinator, dc) * (1 + 0.1 * jitter)
            one_way.append(flight / 2)
            reply.append(flight + service if self.reachable(coordinator, dc) else None)
        continent = CONTINENT[coordinator]
        routed_across = CONTINENT[edge] != continent

        levels = (chosen,) if traveller else cl.LEVELS
        applied = False
        for level in levels:
            if kind == READ:
                outcome = cl.read(level, keyspace, coordinator, live, reply, READ_TIMEOUT_MS)
            else:
                outcome = cl.write(
                    level, keyspace, coordinator, live, reply, WRITE_TIMEOUT_MS, HINT_MS
                )
            ok = outcome.status == cl.OK
            crossed = routed_across or any(
                CONTINENT[replicas[i]] != continent for i in outcome.waited
            )
            stale = False
            if ok and kind == READ:
                returned = 0
                for i in outcome.waited:
                    returned = max(returned, row.visible(i, sent + one_way[i] / 1000, self.now))
                stale = returned < row.latest_acked(self.now)
            latency = to_coordinator + outcome.latency
            if level == chosen:
                if kind == WRITE and outcome.status != cl.UNAVAILABLE:
                    applied = True
                    self._apply_write(row, coordinator, sent, one_way, reply, outcome, latency)
                if traveller:
                    self._traveller_result(ok, latency)
                else:
                    self._chosen_result(
                        kind, who, origin, coordinator, keyspace, outcome, crossed, stale
                    )
            if not traveller:
                self.stats[(kind, level)].append(
                    pack(latency, ok, stale, crossed, outcome.status == cl.TIMEOUT)
                )
        return applied

    def _apply_write(self, row, coordinator, sent, one_way, reply, outcome, latency) -> None:
        version = row.next_version
        row.next_version += 1
        for i in range(len(self.keyspaces[row.region].replicas)):
            if reply[i] is not None:
                service = reply[i] - 2 * one_way[i]
                row.deliveries[i].append((sent + (one_way[i] + service) / 1000, version))
            else:
                # Hinted handoff: the coordinator keeps the mutation until the replica is back.
                pending = row.pending[i]
                pending[coordinator] = max(pending.get(coordinator, 0), version)
        if outcome.status == cl.OK:
            row.acked.append((self.now + latency / 1000, version))

    def _traveller_result(self, ok: bool, latency: float) -> None:
        traveller = self.traveller
        if ok:
            traveller.buckets[traveller.phase()].append(round(latency * 10))
        else:
            traveller.failed += 1

    def _chosen_result(self, kind, who, origin, coordinator, keyspace, outcome, crossed, stale):
        if who == "owner" and origin == "eu":
            waited = tuple(keyspace.replicas[i] for i in outcome.waited)
            self.last[kind] = (coordinator, keyspace.name, waited, outcome.status, outcome.required)
            if outcome.status == cl.OK:
                was, self._crossing[kind] = self._crossing[kind], crossed
                if crossed and not was:
                    far = sorted({dc for dc in waited if CONTINENT[dc] != CONTINENT[coordinator]})
                    names = ", ".join(DC_NAME[dc] for dc in far) or "another continent"
                    self._mark(
                        "quorum_crossed",
                        f"{outcome.level} {kind} from {DC_NAME[coordinator]} waited for {names}",
                    )
        if outcome.status in (cl.UNAVAILABLE, cl.TIMEOUT):
            self._notice_failure(
                outcome.status, kind, outcome.detail or f"{outcome.level} {kind} timed out"
            )
        if stale:
            self.stale_total += 1
            self._mark(
                "stale_read",
                f"{outcome.level} read in {DC_NAME[coordinator]} missed an acknowledged write",
            )

    def _notice_failure(self, status: str, kind: str, detail: str) -> None:
        if status == cl.UNAVAILABLE:
            self._mark("unavailable", f"{kind}: Unavailable ({detail})")
        else:
            self._mark("timed_out", f"{kind}: {detail}")

    # -- faults ----------------------------------------------------------------------------

    def _set_dc(self, dc: str, up: bool, quiet: bool = False) -> None:
        if self.dc_up[dc] == up:
            return
        self.dc_up[dc] = up
        if up:
            del self.down_at[dc]
            self._replay_hints()
            if not quiet:
                self._event("healed", f"{DC_NAME[dc]} back up; hints replayed")
        else:
            self.down_at[dc] = self.now
            if not quiet:
                self._event("dc_down", f"{DC_NAME[dc]} down")

    def _replay_hints(self) -> None:
        """Deliver hinted mutations to replicas that are reachable again (ASSUMPTION: at
        once; Cassandra replays hints when it sees the node up, throttled)."""
        rows = self.rows + [self.traveller_row]
        for row in rows:
            replicas = self.keyspaces[row.region].replicas
            for i, pending in enumerate(row.pending):
                if not pending:
                    continue
                for coordinator in list(pending):
                    if self.reachable(coordinator, replicas[i]):
                        arrival = self.now + rtt(coordinator, replicas[i]) / 2000
                        row.deliveries[i].append((arrival, pending.pop(coordinator)))

    # -- bookkeeping -------------------------------------------------------------------------

    @staticmethod
    def _choice(arg: str | None, allowed: list[str], what: str) -> str:
        if arg is None:
            return allowed[0]
        if arg not in allowed:
            raise ValueError(f"unknown {what} {arg!r}; allowed: {', '.join(allowed)}")
        return arg

    def _event(self, name: str, detail: str) -> None:
        self.marks.append((self.now, name, detail))
        self._log(detail)

    def _mark(self, name: str, detail: str) -> None:
        """A notable event, marked once per quiet spell of :data:`DEBOUNCE_S`."""
        last = self._marked_at.get(name)
        self._marked_at[name] = self.now
        if last is None or self.now - last >= DEBOUNCE_S:
            self._event(name, detail)

    def _log(self, text: str) -> None:
        self.log.append(f"{self.now:.1f} s · {text}")
        if len(self.log) > 24:
            del self.log[:-12]


def pack(latency_ms: float, ok: bool, stale: bool, crossed: bool, timed_out: bool) -> int:
    """One operation's result as an int: latency in 0.1 ms and four flags."""
    return (round(latency_ms * 10) << 4) | (ok << 3) | (stale << 2) | (crossed << 1) | timed_out


def unpack(code: int) -> tuple[float, bool, bool, bool, bool]:
    """(latency ms, ok, stale, crossed, timed out)."""
    return (code >> 4) / 10, bool(code & 8), bool(code & 4), bool(code & 2), bool(code & 1)


def describe(keyspace: Keyspace) -> str:
    """E.g. ``Frankfurt 3 + Washington DC 3``."""
    return " + ".join(f"{DC_NAME[dc]} {n}" for dc, n in keyspace.rf) or "no replicas"


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def create(params: dict, rng: random.Random) -> QuorumSim:
    """Build the simulation from validated parameters and a seeded generator."""
    return QuorumSim(params, rng)
