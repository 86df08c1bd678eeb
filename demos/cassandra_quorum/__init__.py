"""Cassandra quorums across continents, after Instagram's talk.

From "Cross Continent Infrastructure Scaling at Instagram" (Sherry Xiao, Facebook,
SREcon19 Asia/Pacific). ``consistency.py`` holds Cassandra's consistency rules,
exactly; ``core.py`` simulates regional clusters, their users and a traveller;
``view.py`` draws it. See docs/demos/cassandra_quorum.md.
"""

from __future__ import annotations

from demokit import (
    Action,
    BoolParam,
    ChoiceParam,
    Cue,
    Demo,
    IntParam,
    Notable,
    Scenario,
)

from . import view
from .consistency import LEVELS, LOCAL_QUORUM, QUORUM
from .core import DATACENTRES, PARTITIONS, REGIONS, create

__all__ = ["DEMO"]

_LEVEL_CHOICES = tuple((level, level) for level in LEVELS)
_DC_OPTIONS = tuple((code, name) for code, name, _ in DATACENTRES)
_REGION_OPTIONS = tuple((code, name) for code, name in REGIONS)


def _rf(dc: str, name: str, default: int) -> IntParam:
    return IntParam(
        f"rf_{dc}", f"EU keyspace: replicas in {name}", default, 0, 3, unit="replicas", live=True
    )


PARAMS = (
    ChoiceParam("read_cl", "Read consistency level", QUORUM, _LEVEL_CHOICES, live=True),
    ChoiceParam("write_cl", "Write consistency level", QUORUM, _LEVEL_CHOICES, live=True),
    _rf("lon", "London", 0),
    _rf("fra", "Frankfurt", 3),
    _rf("wdc", "Washington DC", 3),
    _rf("dal", "Dallas", 0),
    _rf("tok", "Tokyo", 0),
    IntParam(
        "requests_per_second", "EU requests per second", 30, 5, 80, step=5, unit="/s", live=True
    ),
    BoolParam("migration", "Migrate a user whose requests come from elsewhere", True, live=True),
    IntParam("migrate_share", "Migrate at this share of requests", 80, 50, 100, 5, "%", live=True),
    IntParam(
        "migrate_window", "Counted requests", 40, 10, 200, step=10, unit="requests", live=True
    ),
)

_ONE_EU_DC = {"rf_lon": 0, "rf_fra": 3, "rf_wdc": 3, "rf_dal": 0, "rf_tok": 0}

SCENARIOS = (
    Scenario(
        name="eu-quorum-crosses",
        title="The EU quorum includes a U.S. cluster",
        caption=(
            "Europe has one data centre, Frankfurt, so the EU keyspace keeps three replicas "
            "there and three in Washington DC. QUORUM needs 4 of the 6: every QUORUM read "
            "and write waits for Washington, about 90 ms away. The table shows what the "
            "other levels would have given on the same operations: LOCAL_QUORUM answers "
            "in about a millisecond. Switch reads to LOCAL_QUORUM and watch U.S. readers."
        ),
        params={**_ONE_EU_DC, "read_cl": QUORUM, "write_cl": QUORUM},
        preview_steps=200,
    ),
    Scenario(
        name="stale-local-quorum",
        title="LOCAL_QUORUM is fast, and can be stale",
        caption=(
            "Reads and writes at LOCAL_QUORUM. An EU user posts from Frankfurt; the write is "
            "acknowledged by two Frankfurt replicas in about a millisecond. A follower in "
            "the U.S. reads it from Washington DC at LOCAL_QUORUM, and if the mutation has "
            "not crossed the Atlantic yet (about 45 ms one way), the read returns the old "
            "row: a stale read. QUORUM reads with QUORUM writes never are (4 + 4 > 6)."
        ),
        params={**_ONE_EU_DC, "read_cl": LOCAL_QUORUM, "write_cl": LOCAL_QUORUM},
        preview_steps=200,
    ),
    Scenario(
        name="second-eu-dc",
        title="A second EU data centre keeps the quorum at home",
        caption=(
            "London gets three replicas too: QUORUM now needs 5 of 9 and finds them in "
            "Frankfurt and London, 13 ms apart. At 30 s Frankfurt goes down; after the "
            "failure detector convicts it (10 s, our assumption), requests go to London "
            "and the quorum has to cross the Atlantic again. Frankfurt is back at 60 s."
        ),
        params={**_ONE_EU_DC, "rf_lon": 3, "read_cl": QUORUM, "write_cl": QUORUM},
        script=(Cue(30.0, "dc_down", "fra"), Cue(60.0, "dc_up", "fra")),
        preview_steps=200,
    ),
    Scenario(
        name="traveller",
        title="A traveller moves to Asia",
        caption=(
            "At 10 s the traveller, an EU user, lands in Tokyo. Tokyo holds no replicas of "
            "her data, so every request goes to Washington DC, 139 ms away. Her requests "
            "are counted per region; once 80 % of her last 40 come from Asia (our rule) "
            "her data migrates to the Asian cluster and her requests stay in Tokyo."
        ),
        params={**_ONE_EU_DC, "read_cl": LOCAL_QUORUM, "write_cl": LOCAL_QUORUM},
        script=(Cue(10.0, "travel", "apac"),),
        preview_steps=400,
    ),
    Scenario(
        name="frankfurt-down",
        title="Frankfurt goes down",
        caption=(
            "At 10 s the only EU data centre fails. For 10 s the coordinators still think "
            "its replicas are up and operations that need them time out; then they are "
            "convicted, requests go to Washington DC, QUORUM (4 of 6, only 3 alive) is "
            "refused as Unavailable and LOCAL_QUORUM and LOCAL_ONE still succeed, an ocean "
            "away from the users. Frankfurt is back at 45 s and hints are replayed."
        ),
        params={**_ONE_EU_DC, "read_cl": QUORUM, "write_cl": LOCAL_QUORUM},
        script=(Cue(10.0, "dc_down", "fra"), Cue(45.0, "dc_up", "fra")),
        preview_steps=300,
    ),
    Scenario(
        name="atlantic-partition",
        title="The Atlantic is cut",
        caption=(
            "At 10 s Europe and the U.S. can no longer talk. QUORUM and EACH_QUORUM first "
            "time out, then fail as Unavailable; LOCAL_QUORUM goes on in both Frankfurt and "
            "Washington DC, but U.S. readers now see none of Europe's new writes: every "
            "post made during the cut is missing there until the partition heals at 40 s."
        ),
        params={**_ONE_EU_DC, "read_cl": LOCAL_QUORUM, "write_cl": LOCAL_QUORUM},
        script=(Cue(10.0, "partition", "eu-us"), Cue(40.0, "heal_partition", "eu-us")),
        preview_steps=300,
    ),
)

DEMO = Demo(
    name="cassandra_quorum",
    title="Cassandra quorums across continents",
    summary=(
        "Regional Cassandra clusters after Instagram's talk: see when a quorum has to cross "
        "an ocean and what it costs, what each consistency level gives up, what a data "
        "centre or ocean outage does, and how migrating a traveller's data pays off."
    ),
    talk="srecon19apac/instagram-cross-continent-scaling",
    params=PARAMS,
    actions=(
        Action("dc_down", "Take a data centre down", _DC_OPTIONS),
        Action("dc_up", "Bring a data centre back", _DC_OPTIONS),
        Action("region_down", "Take a region down", _REGION_OPTIONS),
        Action("region_up", "Bring a region back", _REGION_OPTIONS),
        Action("partition", "Cut the network between", PARTITIONS),
        Action("heal_partition", "Heal the network between", PARTITIONS),
        Action("heal_all", "Heal everything"),
        Action("travel", "Traveller flies to", _REGION_OPTIONS),
    ),
    scenarios=SCENARIOS,
    create=create,
    render=view.render,
    seed=19,
    steps_per_second=10.0,
    step_label="100 ms",
    version=1,
    notable=(
        Notable("quorum_crossed", "a quorum crossed an ocean"),
        Notable("dc_down", "a data centre went down"),
        Notable("region_down", "a region went down"),
        Notable("partition", "the network between continents was cut"),
        Notable("healed", "a fault was healed"),
        Notable("unavailable", "an operation was refused as Unavailable"),
        Notable("timed_out", "an operation timed out"),
        Notable("stale_read", "a read missed an acknowledged write"),
        Notable("traveller_moved", "the traveller moved"),
        Notable("user_migrated", "the traveller's data migrated"),
    ),
)
