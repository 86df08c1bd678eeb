"""The cassandra_quorum simulation, its view and its scenarios: what the page says the
reader will see. Rules cited from apache/cassandra ``doc/modules/cassandra/pages/
architecture/dynamo.adoc`` @ 098ab9f044cd ("Picking Consistency Levels"); round trips
from ibm-cloud-docs/vpc ``_include-segments/network-latency.md`` @ be2d5d2e."""

from __future__ import annotations

import importlib
import pickle
import random
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demokit import Runner
from demos.cassandra_quorum import DEMO, core
from demos.cassandra_quorum import consistency as cl
from demos.cassandra_quorum.view import render, summary

SVG = "{http://www.w3.org/2000/svg}"


def run(scenario: str, steps: int, seed: int | None = None, **params) -> Runner:
    runner = Runner(DEMO, scenario, params=params, seed=seed)
    runner.step(steps)
    return runner


def metric(runner: Runner, label: str) -> str:
    return dict(runner.frame().metrics)[label]


def marks(runner: Runner, name: str) -> list[float]:
    return [mark.time for mark in runner.marks if mark.name == name and mark.kind != "script"]


# --- the network ------------------------------------------------------------------------


def test_round_trips_are_ibm_clouds_published_figures():
    """The 20 Dec 2025 - 18 Jan 2026 table, larger direction where the two differ."""
    assert core.rtt("fra", "wdc") == 89 and core.rtt("wdc", "fra") == 89
    assert core.rtt("lon", "fra") == 13
    assert core.rtt("wdc", "tok") == 139
    assert core.rtt("fra", "fra") == core.INTRA_DC_RTT_MS
    assert len(core.RTT_MS) == 10  # every pair of the five data centres


def test_requests_go_to_the_nearest_data_centre_holding_the_data():
    sim = DEMO.create(DEMO.resolve({}), random.Random(1))
    eu = sim.keyspaces["eu"]
    assert [sim.route(region, eu) for region in ("eu", "us", "apac")] == ["fra", "wdc", "wdc"]
    assert sim.route("apac", sim.keyspaces["apac"]) == "tok"
    sim.act("dc_down", "fra")
    assert sim.route("eu", eu) == "wdc"
    sim.act("partition", "eu-us")
    assert sim.route("eu", eu) is None  # Europe's only replicas are down, the U.S. cut off


# --- the talk's picture: the EU quorum includes a U.S. cluster ----------------------------


def test_the_eu_quorum_waits_for_washington_and_local_quorum_does_not():
    runner = run("eu-quorum-crosses", 200)
    sim = runner.sim
    assert sim.last[core.WRITE][:3] == ("fra", "eu", ("fra", "fra", "fra", "wdc"))
    quorum = summary(sim, core.WRITE, cl.QUORUM)
    local = summary(sim, core.WRITE, cl.LOCAL_QUORUM)
    assert quorum["ok"] == local["ok"] == 1.0
    assert quorum["p50"] >= 89 and quorum["crossed"] == 1.0
    assert local["p50"] < 3
    assert marks(runner, "quorum_crossed") and marks(runner, "quorum_crossed")[0] < 1
    assert metric(runner, "Write quorum") == (
        "4 replies from Frankfurt: Frankfurt 3 + Washington DC 1"
    )


def test_a_second_eu_data_centre_keeps_the_quorum_home_until_frankfurt_fails():
    runner = run("second-eu-dc", 290)  # 29 s: before Frankfurt fails
    assert runner.sim.last[core.WRITE][2] == ("fra", "fra", "fra", "lon", "lon")
    assert marks(runner, "quorum_crossed") == []
    assert summary(runner.sim, core.WRITE, cl.QUORUM)["p50"] < 20
    runner.step(160)  # 45 s: Frankfurt convicted at 40 s, requests go to London
    coordinator, _, waited, status, _ = runner.sim.last[core.WRITE]
    assert (coordinator, status) == ("lon", cl.OK)
    assert "wdc" in waited
    assert [t for t in marks(runner, "quorum_crossed") if t >= 30]


def test_local_quorum_reads_in_washington_miss_writes_acknowledged_in_frankfurt():
    runner = run("stale-local-quorum", 400)
    sim = runner.sim
    assert summary(sim, core.READ, cl.LOCAL_QUORUM)["stale"] > 0
    assert sim.stale_total > 0 and marks(runner, "stale_read")
    # The same reads at QUORUM would have seen... not necessarily: the writes were at
    # LOCAL_QUORUM, and 2 + 4 is not more than 6. EACH_QUORUM writes would be safe.


@settings(max_examples=8, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([(cl.QUORUM, cl.QUORUM), (cl.EACH_QUORUM, cl.LOCAL_QUORUM), (cl.ALL, cl.ONE)]),
    st.sampled_from(["eu-quorum-crosses", "frankfurt-down", "atlantic-partition", "second-eu-dc"]),
)
def test_overlapping_levels_never_read_stale_whatever_fails(seed, levels, scenario):
    """W + R > RF: every successful read returns the latest acknowledged write, through
    DC outages, partitions, hints and rerouting."""
    write_cl, read_cl = levels
    runner = run(scenario, 500, seed=seed, write_cl=write_cl, read_cl=read_cl)
    assert runner.sim.stale_total == 0
    assert summary(runner.sim, core.READ, read_cl)["stale"] in (0.0, None)


# --- faults -------------------------------------------------------------------------------


def test_frankfurt_down_first_times_out_then_is_unavailable_while_local_levels_go_on():
    runner = run("frankfurt-down", 150)  # 15 s: down since 10 s, not yet convicted
    assert marks(runner, "timed_out") and 10 <= marks(runner, "timed_out")[0] < 11
    assert marks(runner, "unavailable") == []
    runner.step(150)  # 30 s
    assert 20 <= marks(runner, "unavailable")[0] < 21
    assert metric(runner, "Reads (QUORUM)").startswith("0 % ok")
    still = metric(runner, "Reads still succeeding at").split(", ")
    assert {"LOCAL_ONE", "LOCAL_QUORUM", "ONE"} <= set(still)
    assert not {"QUORUM", "EACH_QUORUM", "ALL"} & set(still)
    assert summary(runner.sim, core.WRITE, cl.LOCAL_QUORUM)["p50"] >= 89  # served from Washington
    runner.step(300)  # 60 s: back since 45 s
    assert summary(runner.sim, core.READ, cl.QUORUM)["ok"] == 1.0


def test_an_atlantic_partition_keeps_local_quorum_and_hides_europes_writes_from_the_us():
    runner = run("atlantic-partition", 150)  # 15 s, cut since 10 s, not yet convicted
    quorum = summary(runner.sim, core.READ, cl.QUORUM)
    assert quorum["timed_out"] > 0 and quorum["ok"] < 1
    runner.step(200)  # 35 s
    sim = runner.sim
    assert summary(sim, core.READ, cl.QUORUM)["ok"] == 0.0  # convicted: Unavailable
    assert summary(sim, core.WRITE, cl.LOCAL_QUORUM)["ok"] == 1.0
    assert summary(sim, core.WRITE, cl.EACH_QUORUM)["ok"] == 0.0
    assert summary(sim, core.READ, cl.LOCAL_QUORUM)["stale"] > 0.2
    assert marks(runner, "timed_out") == marks(runner, "unavailable") == []  # none at LOCAL_QUORUM
    runner.step(350)  # 70 s: healed at 40 s, hints replayed, the window refilled
    assert summary(sim, core.WRITE, cl.EACH_QUORUM)["ok"] == 1.0
    assert not any(row.pending[i] for row in sim.rows for i in range(len(row.pending)))


def test_a_region_down_takes_all_its_data_centres():
    runner = run("second-eu-dc", 10)
    runner.act("region_down", "eu")
    assert runner.sim.dc_up == {"dal": True, "wdc": True, "lon": False, "fra": False, "tok": True}
    assert metric(runner, "Faults") == "London down; Frankfurt down"
    runner.act("region_up", "eu")
    assert all(runner.sim.dc_up.values())


def test_actions_refuse_unknown_arguments_with_what_is_allowed():
    sim = DEMO.create(DEMO.resolve({}), random.Random(1))
    with pytest.raises(ValueError, match="unknown data centre 'mars'; allowed: dal, wdc"):
        sim.act("dc_down", "mars")
    with pytest.raises(ValueError, match="unknown action 'nuke'"):
        sim.act("nuke", None)


# --- the traveller ------------------------------------------------------------------------


def test_a_traveller_to_asia_pays_an_ocean_until_her_data_migrates():
    runner = run("traveller", 600)
    traveller = runner.sim.traveller
    assert traveller.data_region == "apac"
    (moved,) = marks(runner, "user_migrated")
    assert 10 < moved < 40
    away = [v / 10 for v in traveller.buckets["away"]]
    after = [v / 10 for v in traveller.buckets["after"]]
    assert core.percentile(away, 50) >= 139  # Tokyo to Washington DC and back
    assert core.percentile(after, 50) < 5
    assert metric(runner, "Traveller") == "in Asia · data in the Asia cluster"


def test_without_migration_the_traveller_keeps_crossing():
    runner = run("traveller", 600, migration=False)
    assert runner.sim.traveller.data_region == "eu"
    assert marks(runner, "user_migrated") == []
    assert runner.sim.traveller.buckets["after"] == type(runner.sim.traveller.buckets["after"])(
        maxlen=core.TRAVELLER_WINDOW
    )


def test_the_migration_rule_counts_her_last_requests():
    """Our rule: 80 % of the last 40 requests from one other region."""
    sim = DEMO.create(DEMO.resolve({}), random.Random(3))
    traveller = sim.traveller
    traveller.recent.extend(["eu"] * 9 + ["apac"] * 31)
    sim._maybe_migrate()
    assert traveller.data_region == "eu"  # 31 of 40 is 77.5 %
    traveller.recent.append("apac")  # the oldest "eu" drops out: 32 of the last 40
    sim._maybe_migrate()
    assert traveller.data_region == "apac" and len(traveller.recent) == 0


# --- live parameters and the view -----------------------------------------------------


def test_changing_rf_live_changes_the_quorum():
    runner = run("eu-quorum-crosses", 50)
    assert runner.set_param("rf_lon", 3)
    runner.step(50)
    assert cl.quorum_for(runner.sim.keyspaces["eu"]) == 5
    assert runner.sim.last[core.WRITE][2] == ("fra", "fra", "fra", "lon", "lon")


def test_the_frame_carries_values_with_units_and_a_titled_picture():
    frame = render(run("frankfurt-down", 250).sim)
    values = {name: (number, unit) for name, number, unit in frame.values}
    assert values["time"] == (25.0, "s")
    assert values["read_success"] == (0.0, "%")
    assert values["write_p50"][1] == "ms" and values["operations"][1] == "operations"
    root = ET.fromstring(frame.svg)
    assert root.get("role") == "img"
    assert "Frankfurt down" in root.find(f"{SVG}title").text
    text = "".join(root.itertext())
    assert "IBM Cloud" in text and "Our assumptions" in text


def test_the_state_stays_small_over_a_long_run():
    """The runner pickles a checkpoint every ~100 steps: keep one under 50 KB."""
    # The demo as sys.modules holds it now: other tests re-import demos fresh, and
    # pickle refuses objects of a class that has since been imported again.
    demo = importlib.import_module("demos.cassandra_quorum").DEMO
    runner = Runner(demo, "atlantic-partition")
    runner.step(3000)
    assert len(pickle.dumps(runner.sim)) < 50_000
