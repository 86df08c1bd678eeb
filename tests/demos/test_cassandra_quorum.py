"""Cassandra's consistency rules (demos/cassandra_quorum/consistency.py) against the
source and documentation they follow.

Sources, read at these commits of apache/cassandra:
- ``src/java/org/apache/cassandra/db/ConsistencyLevel.java`` @ 0676af036fc1
  (``blockFor``, ``quorumFor``, ``localQuorumFor``, ``validateForRead``);
- ``src/java/org/apache/cassandra/locator/ReplicaPlans.java`` @ 00f2c1e2f1a6
  (``assureSufficientLiveReplicas``, ``candidatesForRead``, ``contactForRead``,
  ``contactForEachQuorumRead``, ``writeAll``);
- ``src/java/org/apache/cassandra/service/DatacenterWriteResponseHandler.java``
  @ 3893f24098c3 and ``DatacenterSyncWriteResponseHandler.java`` @ 1b1e911826e0;
- ``doc/modules/cassandra/pages/architecture/dynamo.adoc`` @ 098ab9f044cd, sections
  "Tunable Consistency" and "Picking Consistency Levels".
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.cassandra_quorum import consistency as cl
from demos.cassandra_quorum.consistency import (
    ALL,
    ANY,
    EACH_QUORUM,
    LOCAL_ONE,
    LOCAL_QUORUM,
    ONE,
    QUORUM,
    THREE,
    TWO,
    Keyspace,
)

EU = Keyspace("eu", (("fra", 3), ("wdc", 3)))
"""The talk's picture: one EU data centre, and a U.S. one in the EU quorum."""
TWO_EU = Keyspace("eu", (("lon", 3), ("fra", 3), ("wdc", 3)))
DCS = ("lon", "fra", "wdc", "dal", "tok")
NEVER = None


def everyone(keyspace: Keyspace) -> list[int]:
    return list(range(len(keyspace.replicas)))


# --- blockFor ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "local", "expected"),
    [
        (ONE, "fra", 1),
        (LOCAL_ONE, "fra", 1),
        (ANY, "fra", 1),
        (TWO, "fra", 2),
        (THREE, "fra", 3),
        (QUORUM, "fra", 4),  # ⌊6 / 2⌋ + 1
        (ALL, "fra", 6),
        (LOCAL_QUORUM, "fra", 2),  # ⌊3 / 2⌋ + 1, Frankfurt only
        (LOCAL_QUORUM, "wdc", 2),
        (LOCAL_QUORUM, "tok", 1),  # ⌊0 / 2⌋ + 1: and none of them can be local
        (EACH_QUORUM, "fra", 4),  # 2 + 2
    ],
)
def test_block_for_the_eu_keyspace(level, local, expected):
    """ConsistencyLevel.blockFor for NetworkTopologyStrategy {fra: 3, wdc: 3}."""
    assert cl.block_for(level, EU, local) == expected


def test_block_for_with_a_second_eu_data_centre():
    """Σ RF = 9: QUORUM is 5, EACH_QUORUM 2 + 2 + 2 = 6, ALL 9."""
    assert cl.block_for(QUORUM, TWO_EU, "fra") == 5
    assert cl.block_for(EACH_QUORUM, TWO_EU, "fra") == 6
    assert cl.block_for(ALL, TWO_EU, "fra") == 9


@pytest.mark.parametrize(("rf", "local_quorum"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
def test_local_quorum_is_half_the_local_rf_rounded_down_plus_one(rf, local_quorum):
    assert cl.local_quorum_for(Keyspace("k", (("fra", rf),)), "fra") == local_quorum


def test_a_data_centre_with_rf_0_is_not_listed():
    keyspace = Keyspace("k", (("lon", 0), ("fra", 3), ("wdc", 0)))
    assert keyspace.datacenters == ("fra",)
    assert keyspace.replicas == ("fra", "fra", "fra")
    assert cl.block_for(EACH_QUORUM, keyspace, "fra") == 2


def test_an_unknown_level_is_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match="unknown consistency level 'SERIAL'; allowed: ONE"):
        cl.block_for("SERIAL", EU, "fra")


# --- Unavailable and InvalidRequest ------------------------------------------------------


def test_reads_refuse_any_but_allow_each_quorum():
    """validateForRead refuses ANY; EACH_QUORUM reads are allowed (since 3.0)."""
    with pytest.raises(cl.InvalidRequest, match="only supported for writes"):
        cl.validate_for_read(ANY)
    cl.validate_for_read(EACH_QUORUM)
    outcome = cl.read(ANY, EU, "fra", everyone(EU), [1.0] * 6, 5000)
    assert outcome.status == cl.INVALID


@pytest.mark.parametrize("level", [TWO, THREE])
def test_two_and_three_are_unavailable_with_fewer_replicas_than_that(level):
    """blockFor is 2 / 3 whatever the RF: with RF 1 there are never enough."""
    keyspace = Keyspace("k", (("fra", 1),))
    outcome = cl.write(level, keyspace, "fra", [0], [1.0], 2000)
    assert (outcome.status, outcome.required, outcome.alive) == (
        cl.UNAVAILABLE,
        cl.block_for(level, keyspace, "fra"),
        1,
    )


def test_local_levels_are_unavailable_where_the_coordinator_holds_no_replicas():
    """LOCAL_* count replicas in the coordinator's DC only (countInOurDc)."""
    for level in (LOCAL_ONE, LOCAL_QUORUM):
        assert cl.read(level, EU, "tok", everyone(EU), [1.0] * 6, 5000).status == cl.UNAVAILABLE
        assert cl.write(level, EU, "tok", everyone(EU), [1.0] * 6, 2000).status == cl.UNAVAILABLE
    assert cl.read(ONE, EU, "tok", everyone(EU), [1.0] * 6, 5000).status == cl.OK


def test_frankfurt_down_quorum_is_unavailable_local_quorum_in_washington_is_not():
    """Three Frankfurt replicas convicted: 3 live < 4 for QUORUM; Washington still has
    its local quorum; EACH_QUORUM names the data centre that fails it."""
    live = [3, 4, 5]
    replies = [NEVER, NEVER, NEVER, 1.0, 1.2, 1.4]
    quorum = cl.read(QUORUM, EU, "wdc", live, replies, 5000)
    assert (quorum.status, quorum.required, quorum.alive) == (cl.UNAVAILABLE, 4, 3)
    assert cl.read(LOCAL_QUORUM, EU, "wdc", live, replies, 5000).status == cl.OK
    with pytest.raises(cl.Unavailable) as refused:
        cl.assure_sufficient(EACH_QUORUM, EU, live, "wdc", 4)
    assert (refused.value.dc, refused.value.required, refused.value.alive) == ("fra", 2, 0)


def test_not_yet_convicted_replicas_make_an_operation_time_out_not_unavailable():
    """A replica the failure detector still believes alive is asked; no answer comes,
    so the coordinator waits for the timeout (it is not refused up front)."""
    replies = [NEVER, NEVER, NEVER, 90.0, 91.0, 92.0]
    order = [0, 1, 2, 3, 4, 5]
    read = cl.read(QUORUM, EU, "fra", order, replies, 5000)
    assert (read.status, read.latency, read.contacted) == (cl.TIMEOUT, 5000, (0, 1, 2, 3))
    write = cl.write(QUORUM, EU, "fra", order, replies, 2000)
    assert (write.status, write.latency) == (cl.TIMEOUT, 2000)
    assert cl.write(LOCAL_QUORUM, EU, "fra", order, replies, 2000).status == cl.TIMEOUT
    assert cl.write(LOCAL_QUORUM, EU, "wdc", order, replies, 2000).status == cl.OK


# --- whom a read asks, and how long it waits ---------------------------------------------


def test_a_quorum_read_asks_the_closest_four_and_waits_for_the_slowest_of_them():
    """contactForRead: the first blockFor live replicas in snitch order. Without
    speculative retry the read waits for all of them, even for a slow one, while a
    faster replica that was not asked goes unused."""
    order = [0, 1, 2, 3, 4, 5]  # Frankfurt's three, then Washington's
    replies = [0.8, 60.0, 1.1, 90.5, 91.0, 89.9]  # replica 1 is slow (a GC pause)
    outcome = cl.read(QUORUM, EU, "fra", order, replies, 5000)
    assert (outcome.status, outcome.contacted, outcome.latency) == (cl.OK, (0, 1, 2, 3), 90.5)


def test_local_quorum_reads_ask_local_replicas_only():
    order = [3, 0, 4, 1, 5, 2]  # interleaved: candidatesForRead filters to the local DC
    outcome = cl.read(LOCAL_QUORUM, EU, "fra", order, [1.0, 2.0, 3.0, 90, 90, 90], 5000)
    assert (outcome.contacted, outcome.latency) == ((0, 1), 2.0)


def test_each_quorum_reads_ask_a_local_quorum_in_every_data_centre():
    """contactForEachQuorumRead keeps per DC the first ⌊RF/2⌋+1 candidates."""
    order = list(range(9))
    replies = [13.0, 14.0, 15.0, 1.0, 2.0, 3.0, 76.0, 77.0, 78.0]
    outcome = cl.read(EACH_QUORUM, TWO_EU, "fra", order, replies, 5000)
    assert (outcome.contacted, outcome.latency) == ((0, 1, 3, 4, 6, 7), 77.0)


def test_one_reads_the_closest_replica_even_across_an_ocean():
    outcome = cl.read(ONE, EU, "fra", [3, 4, 5], [NEVER] * 3 + [89.0, 90.0, 91.0], 5000)
    assert (outcome.status, outcome.contacted, outcome.latency) == (cl.OK, (3,), 89.0)


# --- writes: sent to all, answered at the acknowledgement that completes the level -------


def test_a_quorum_write_answers_at_the_fourth_acknowledgement():
    """Writes go to every replica (writeAll); QUORUM waits for any 4 of them."""
    replies = [1.0, 1.5, 2.0, 89.5, 90.0, 95.0]
    outcome = cl.write(QUORUM, EU, "fra", everyone(EU), replies, 2000)
    assert (outcome.latency, outcome.waited, outcome.contacted) == (
        89.5,
        (0, 1, 2, 3),
        (0, 1, 2, 3, 4, 5),
    )


def test_local_quorum_writes_count_local_acknowledgements_only():
    """DatacenterWriteResponseHandler ignores responses from other data centres."""
    replies = [NEVER, 30.0, 31.0, 0.9, 1.0, 1.1]  # Washington is fast, but not local
    assert cl.write(LOCAL_QUORUM, EU, "fra", everyone(EU), replies, 2000).latency == 31.0


def test_each_quorum_writes_wait_for_the_slowest_data_centres_quorum():
    """DatacenterSyncWriteResponseHandler: a quorum in every DC."""
    replies = [1.0, 2.0, 3.0, 90.0, 95.0, 89.0]
    outcome = cl.write(EACH_QUORUM, EU, "fra", everyone(EU), replies, 2000)
    assert (outcome.latency, outcome.waited) == (90.0, (0, 1, 5, 3))


def test_any_counts_a_hint_when_replicas_are_down():
    """ANY: the coordinator's hint for a replica believed down is an acknowledgement."""
    keyspace = Keyspace("k", (("fra", 1),))
    hinted = cl.write(ANY, keyspace, "fra", [], [NEVER], 2000, hint_ms=0.2)
    assert (hinted.status, hinted.latency, hinted.waited) == (cl.OK, 0.2, ())
    assert cl.write(ANY, keyspace, "fra", [0], [4.0], 2000).latency == 4.0


# --- properties -------------------------------------------------------------------------

keyspaces = st.lists(st.integers(0, 3), min_size=5, max_size=5).map(
    lambda rfs: Keyspace("k", tuple(zip(DCS, rfs, strict=True)))
)


@st.composite
def situations(draw):
    """A keyspace, a coordinator, which replicas are believed alive (in snitch order),
    and when each would answer (None: never)."""
    keyspace = draw(keyspaces)
    n = len(keyspace.replicas)
    local = draw(st.sampled_from(DCS))
    order = draw(st.permutations(list(range(n))))
    believed = [i for i in order if draw(st.booleans())]
    replies = [draw(st.one_of(st.none(), st.floats(0.1, 3000, allow_nan=False))) for _ in range(n)]
    return keyspace, local, believed, replies


@settings(max_examples=300, deadline=None)
@given(keyspaces, st.sampled_from(DCS))
def test_block_for_matches_the_published_formulas(keyspace, local):
    total = keyspace.total_rf
    assert cl.block_for(QUORUM, keyspace, local) == total // 2 + 1
    assert cl.block_for(ALL, keyspace, local) == total
    assert cl.block_for(LOCAL_QUORUM, keyspace, local) == keyspace.rf_of(local) // 2 + 1
    each = 0
    for _, rf in keyspace.rf:
        each += rf // 2 + 1
    assert cl.block_for(EACH_QUORUM, keyspace, local) == each


def counting(level: str, keyspace: Keyspace, local: str, replicas) -> int:
    return sum(1 for i in replicas if level not in cl.DC_LOCAL or keyspace.replicas[i] == local)


@settings(max_examples=400, deadline=None)
@given(situations(), st.sampled_from(cl.LEVELS))
def test_an_operation_never_succeeds_with_fewer_live_replicas_than_it_blocks_for(situation, level):
    keyspace, local, believed, replies = situation
    required = cl.block_for(level, keyspace, local)
    for outcome in (
        cl.read(level, keyspace, local, believed, replies, 5000),
        cl.write(level, keyspace, local, believed, replies, 2000),
    ):
        if outcome.status == cl.OK:
            assert counting(level, keyspace, local, believed) >= required
            assert len(outcome.waited) == required
            assert set(outcome.waited) <= set(believed)
            assert all(replies[i] is not None for i in outcome.waited)
            assert outcome.latency == max(replies[i] for i in outcome.waited)
        elif outcome.status == cl.UNAVAILABLE:
            assert outcome.latency == 0.0 and not outcome.contacted


@settings(max_examples=400, deadline=None)
@given(situations(), st.sampled_from([ONE, TWO, THREE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM]))
def test_a_write_takes_the_kth_fastest_acknowledgement_that_counts(situation, level):
    keyspace, local, believed, replies = situation
    outcome = cl.write(level, keyspace, local, believed, replies, 1e9)
    if outcome.status != cl.OK:
        return
    acks = sorted(
        replies[i]
        for i in believed
        if replies[i] is not None and (level not in cl.DC_LOCAL or keyspace.replicas[i] == local)
    )
    assert outcome.latency == acks[cl.block_for(level, keyspace, local) - 1]


@settings(max_examples=400, deadline=None)
@given(situations(), st.sampled_from(cl.LEVELS))
def test_a_read_whose_snitch_order_is_the_reply_order_takes_the_kth_fastest_reply(situation, level):
    keyspace, local, believed, replies = situation
    replies = [1.0 + i if r is None else r for i, r in enumerate(replies)]  # all answer
    order = sorted(believed, key=lambda i: (replies[i], i))
    outcome = cl.read(level, keyspace, local, order, replies, 1e9)
    if outcome.status != cl.OK or level == EACH_QUORUM:
        return
    candidates = [
        replies[i] for i in order if level not in cl.DC_LOCAL or keyspace.replicas[i] == local
    ]
    assert outcome.latency == candidates[cl.block_for(level, keyspace, local) - 1]


@settings(max_examples=400, deadline=None)
@given(
    situations(),
    st.permutations(list(range(15))),
    st.sampled_from(
        [
            (QUORUM, QUORUM),
            (ALL, ONE),
            (ONE, ALL),
            (EACH_QUORUM, LOCAL_QUORUM),
            (EACH_QUORUM, QUORUM),
        ]
    ),
)
def test_overlapping_levels_read_a_replica_that_acknowledged_the_write(situation, shuffle, levels):
    """dynamo.adoc, "Picking Consistency Levels": with W + R > RF the replicas a read
    asks include one that acknowledged the acknowledged write, whichever replicas are
    down and however the snitch orders them."""
    keyspace, local, believed, replies = situation
    write_level, read_level = levels
    write = cl.write(write_level, keyspace, local, believed, replies, 1e9)
    read_order = [i for i in shuffle if i < len(keyspace.replicas)]
    for reader in DCS:
        read = cl.read(read_level, keyspace, reader, read_order, [1.0] * 15, 1e9)
        if write.status == cl.OK and read.status == cl.OK:
            assert set(write.waited) & set(read.waited)


def test_local_quorum_in_another_data_centre_can_miss_a_write():
    """The weaker guarantee: LOCAL_QUORUM sees the latest write from the same DC only.
    A LOCAL_QUORUM write acknowledged in Frankfurt and a LOCAL_QUORUM read in
    Washington DC share no replica."""
    write = cl.write(LOCAL_QUORUM, EU, "fra", everyone(EU), [1.0] * 6, 2000)
    read = cl.read(LOCAL_QUORUM, EU, "wdc", [3, 4, 5, 0, 1, 2], [1.0] * 6, 5000)
    assert write.status == read.status == cl.OK
    assert not set(write.waited) & set(read.waited)
