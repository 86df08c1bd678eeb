"""Cassandra's consistency levels, as the coordinator applies them: how many replicas
an operation needs, when it is refused before anything is sent, which replicas a read
asks, and when the coordinator can answer.

Rule for rule after Apache Cassandra (files read at these commits):

* ``src/java/org/apache/cassandra/db/ConsistencyLevel.java`` @ 0676af036fc1:
  ``blockFor``, ``quorumFor``, ``localQuorumFor``, ``validateForRead``.
* ``src/java/org/apache/cassandra/locator/ReplicaPlans.java`` @ 00f2c1e2f1a6:
  ``assureSufficientLiveReplicas`` (Unavailable), ``candidatesForRead``,
  ``contactForRead`` and ``contactForEachQuorumRead`` (whom a read asks), ``writeAll``
  (a write goes to every replica).
* ``src/java/org/apache/cassandra/service/DatacenterWriteResponseHandler.java``
  @ 3893f24098c3 (LOCAL_* writes count local acknowledgements only) and
  ``DatacenterSyncWriteResponseHandler.java`` @ 1b1e911826e0 (EACH_QUORUM waits for a
  quorum in every data centre).
* ``doc/modules/cassandra/pages/architecture/dynamo.adoc`` @ 098ab9f044cd, sections
  "NetworkTopologyStrategy", "Tunable Consistency" and "Picking Consistency Levels".

Left out: SERIAL/LOCAL_SERIAL (lightweight transactions), NODE_LOCAL, transient
replicas, pending ranges (bootstrap), speculative retry and read repair. A data centre
with RF 0 is simply not listed in the keyspace.

Stdlib only; runs under CPython and Pyodide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ANY = "ANY"
ONE = "ONE"
TWO = "TWO"
THREE = "THREE"
QUORUM = "QUORUM"
ALL = "ALL"
LOCAL_QUORUM = "LOCAL_QUORUM"
EACH_QUORUM = "EACH_QUORUM"
LOCAL_ONE = "LOCAL_ONE"

LEVELS = (ONE, TWO, THREE, QUORUM, LOCAL_QUORUM, EACH_QUORUM, LOCAL_ONE, ALL)
"""The levels the demo offers for reads and writes (ANY is for writes only)."""
DC_LOCAL = frozenset({LOCAL_QUORUM, LOCAL_ONE})
"""``isDatacenterLocal()``: only replicas in the coordinator's data centre count."""

OK, UNAVAILABLE, TIMEOUT, INVALID = "ok", "unavailable", "timeout", "invalid"


class InvalidRequest(ValueError):
    """The level cannot be used for this kind of operation (``validateForRead``)."""


class Unavailable(Exception):
    """Too few replicas are alive to even try: raised before anything is sent."""

    def __init__(self, level: str, required: int, alive: int, dc: str | None = None) -> None:
        where = f" in {dc}" if dc else ""
        super().__init__(f"{level}: {required} replicas{where} required, {alive} alive")
        self.level, self.required, self.alive, self.dc = level, required, alive, dc


@dataclass(frozen=True)
class Keyspace:
    """A keyspace with ``NetworkTopologyStrategy``: a replication factor per data centre.

    ``rf`` lists ``(dc, replicas)``; DCs with 0 are dropped. Replica ``i`` lives in
    ``replicas[i]`` (the DC's name), a DC's replicas being consecutive.
    """

    name: str
    rf: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        for dc, count in self.rf:
            if not isinstance(count, int) or count < 0:
                raise ValueError(f"keyspace {self.name}: RF {count!r} for {dc} is not >= 0")
        object.__setattr__(self, "rf", tuple((dc, n) for dc, n in self.rf if n > 0))

    @property
    def replicas(self) -> tuple[str, ...]:
        return tuple(dc for dc, n in self.rf for _ in range(n))

    @property
    def datacenters(self) -> tuple[str, ...]:
        return tuple(dc for dc, _ in self.rf)

    def rf_of(self, dc: str) -> int:
        """``getReplicationFactor(dc)``: 0 for a DC that is not listed."""
        for name, n in self.rf:
            if name == dc:
                return n
        return 0

    @property
    def total_rf(self) -> int:
        """``getReplicationFactor().allReplicas``: the sum over all DCs."""
        total = 0
        for _, n in self.rf:
            total += n
        return total


def quorum_for(keyspace: Keyspace) -> int:
    """``quorumFor``: ⌊Σ RF / 2⌋ + 1."""
    return keyspace.total_rf // 2 + 1


def local_quorum_for(keyspace: Keyspace, dc: str) -> int:
    """``localQuorumFor``: ⌊RF(dc) / 2⌋ + 1 (1 for a DC without replicas)."""
    return keyspace.rf_of(dc) // 2 + 1


def each_quorum(keyspace: Keyspace) -> dict[str, int]:
    """``eachQuorumForRead``: a local quorum per listed DC."""
    return {dc: local_quorum_for(keyspace, dc) for dc in keyspace.datacenters}


def block_for(level: str, keyspace: Keyspace, local_dc: str) -> int:
    """``ConsistencyLevel.blockFor``: how many replies the coordinator waits for."""
    if level in (ONE, LOCAL_ONE, ANY):
        return 1
    if level == TWO:
        return 2
    if level == THREE:
        return 3
    if level == QUORUM:
        return quorum_for(keyspace)
    if level == ALL:
        return keyspace.total_rf
    if level == LOCAL_QUORUM:
        return local_quorum_for(keyspace, local_dc)
    if level == EACH_QUORUM:
        total = 0
        for dc in keyspace.datacenters:
            total += local_quorum_for(keyspace, dc)
        return total
    raise ValueError(f"unknown consistency level {level!r}; allowed: {', '.join(LEVELS)}, ANY")


def validate_for_read(level: str) -> None:
    """``validateForRead``: ANY is for writes only (EACH_QUORUM reads are allowed)."""
    if level == ANY:
        raise InvalidRequest("ANY ConsistencyLevel is only supported for writes")


def assure_sufficient(
    level: str, keyspace: Keyspace, live: Sequence[int], local_dc: str, required: int
) -> None:
    """``assureSufficientLiveReplicas``: raise :class:`Unavailable` when the replicas
    in ``live`` (indices into ``keyspace.replicas``) cannot meet ``required``."""
    if level == ANY:
        return  # a hint on the coordinator will do
    dcs = keyspace.replicas
    if level in DC_LOCAL:
        local = 0
        for i in live:
            local += dcs[i] == local_dc
        if local < required:
            raise Unavailable(level, required, local, local_dc)
        return
    if level == EACH_QUORUM:
        for dc in keyspace.datacenters:
            need = local_quorum_for(keyspace, dc)
            alive = 0
            for i in live:
                alive += dcs[i] == dc
            if alive < need:
                raise Unavailable(level, need, alive, dc)
        return
    if len(live) < required:
        raise Unavailable(level, required, len(live))


def _require_replicas(level: str, keyspace: Keyspace) -> None:
    # With no replicas at all ALL would block for 0 and "succeed" with nothing stored.
    if not keyspace.replicas:
        raise Unavailable(level, 1, 0)


def read_contacts(
    level: str, keyspace: Keyspace, live_sorted: Sequence[int], local_dc: str
) -> tuple[int, ...]:
    """The replicas a read asks: live replicas in the snitch's order (closest first),
    local ones only for LOCAL_* (``candidatesForRead``); then a local quorum of each DC
    for EACH_QUORUM (``contactForEachQuorumRead``), else the first ``blockFor``
    (``contactForRead``). Raises :class:`InvalidRequest` or :class:`Unavailable`."""
    validate_for_read(level)
    dcs = keyspace.replicas
    _require_replicas(level, keyspace)
    candidates = [i for i in live_sorted if level not in DC_LOCAL or dcs[i] == local_dc]
    if level == EACH_QUORUM:
        left = each_quorum(keyspace)
        contacts = []
        for i in candidates:
            left[dcs[i]] -= 1
            if left[dcs[i]] >= 0:
                contacts.append(i)
    else:
        contacts = candidates[: block_for(level, keyspace, local_dc)]
    # ReplicaPlans.forRead checks the contacts, not all candidates.
    assure_sufficient(level, keyspace, contacts, local_dc, block_for(level, keyspace, local_dc))
    return tuple(contacts)


@dataclass(frozen=True)
class Outcome:
    """What the coordinator answers, and after how long (ms, from when it got the
    request). ``waited`` are the replies it needed: the slowest of them sets
    ``latency``. A timeout answers at the timeout; Unavailable and invalid at once."""

    level: str
    status: str
    latency: float
    contacted: tuple[int, ...] = ()
    waited: tuple[int, ...] = ()
    required: int = 0
    alive: int = 0
    detail: str = ""


def read(
    level: str,
    keyspace: Keyspace,
    local_dc: str,
    live_sorted: Sequence[int],
    reply_ms: Sequence[float | None],
    timeout_ms: float,
) -> Outcome:
    """A read at ``level`` by a coordinator in ``local_dc``.

    ``live_sorted``: the replicas the failure detector believes alive, closest first.
    ``reply_ms[i]``: when replica ``i``'s answer would be back (None: never, e.g. it is
    down or cut off but not yet convicted). Without speculative retry the coordinator
    needs every replica it asked; it answers when the slowest of them is back.
    """
    try:
        contacts = read_contacts(level, keyspace, live_sorted, local_dc)
    except InvalidRequest as error:
        return Outcome(level, INVALID, 0.0, detail=str(error))
    except Unavailable as error:
        return Outcome(
            level, UNAVAILABLE, 0.0, required=error.required, alive=error.alive, detail=str(error)
        )
    required = block_for(level, keyspace, local_dc)
    latest = 0.0
    for i in contacts:
        reply = reply_ms[i]
        if reply is None:
            return Outcome(level, TIMEOUT, timeout_ms, contacts, contacts, required, len(contacts))
        latest = max(latest, reply)
    if latest > timeout_ms:
        return Outcome(level, TIMEOUT, timeout_ms, contacts, contacts, required, len(contacts))
    return Outcome(level, OK, latest, contacts, contacts, required, len(contacts))


def write(
    level: str,
    keyspace: Keyspace,
    local_dc: str,
    live: Sequence[int],
    reply_ms: Sequence[float | None],
    timeout_ms: float,
    hint_ms: float = 0.0,
) -> Outcome:
    """A write at ``level``: sent to every replica (hints for those believed down);
    the coordinator answers once enough acknowledgements that count are back.

    ``live``: replicas the failure detector believes alive. ``reply_ms[i]``: when
    replica ``i``'s acknowledgement would be back (None: never). For ANY a hint stored
    for a replica believed down counts as an acknowledgement after ``hint_ms``.
    """
    required = block_for(level, keyspace, local_dc)
    try:
        _require_replicas(level, keyspace)
        assure_sufficient(level, keyspace, live, local_dc, required)
    except Unavailable as error:
        return Outcome(
            level, UNAVAILABLE, 0.0, required=error.required, alive=error.alive, detail=str(error)
        )
    dcs = keyspace.replicas
    contacted = tuple(range(len(dcs)))
    live_set = set(live)
    acks = [
        (reply_ms[i], i)
        for i in live
        if reply_ms[i] is not None and (level not in DC_LOCAL or dcs[i] == local_dc)
    ]
    acks.sort()
    if level == EACH_QUORUM:
        latest, waited = 0.0, []
        for dc, need in each_quorum(keyspace).items():
            mine = [ack for ack in acks if dcs[ack[1]] == dc]
            if len(mine) < need:
                return _write_timeout(level, timeout_ms, contacted, required, len(live))
            latest = max(latest, mine[need - 1][0])
            waited += [i for _, i in mine[:need]]
        return _write_done(level, latest, timeout_ms, contacted, tuple(waited), required, live)
    if level == ANY and len(live_set) < len(dcs):
        acks.append((hint_ms, -1))  # the hint on the coordinator
        acks.sort()
    if len(acks) < required:
        return _write_timeout(level, timeout_ms, contacted, required, len(live))
    needed = acks[:required]
    waited = tuple(i for _, i in needed if i >= 0)
    return _write_done(level, needed[-1][0], timeout_ms, contacted, waited, required, live)


def _write_timeout(level, timeout_ms, contacted, required, alive) -> Outcome:
    return Outcome(level, TIMEOUT, timeout_ms, contacted, (), required, alive)


def _write_done(level, latest, timeout_ms, contacted, waited, required, live) -> Outcome:
    if latest > timeout_ms:
        return Outcome(level, TIMEOUT, timeout_ms, contacted, waited, required, len(live))
    return Outcome(level, OK, latest, contacted, waited, required, len(live))
