"""Tests of the Skinny demo against the semantics of danrl/skinny at commit b9a379a.

Sources cited below: ``skinny/skinny.go`` (state, quorum), ``skinny/consensus.go``
(Promise, Commit, propose, commit) and ``skinny/lock.go`` (Acquire, Release, retries).
"""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demokit import Runner
from demos.skinny import DEMO
from demos.skinny.core import (
    ASSUMED_RTT_MS,
    CLIENTS,
    INSTANCES,
    PARTITIONS,
    Cluster,
    Instance,
    fmt_ms,
)
from demos.skinny.view import render

SVG = "{http://www.w3.org/2000/svg}"


def trace(sim: Cluster) -> list[str]:
    """The log as "time text" lines, the form the exact-trace tests compare."""
    return [f"{fmt_ms(t)} {text}" for t, text in sim.log]


def cluster(seed: int = 1, **options) -> Cluster:
    return Cluster(random.Random(seed), **options)


def states(sim: Cluster) -> dict[str, tuple[int, int, str]]:
    return {name: (i.promised, i.id, i.holder) for name, i in sim.instances.items()}


def every(sim: Cluster, state: tuple[int, int, str]) -> dict[str, tuple[int, int, str]]:
    return dict.fromkeys(sim.instances, state)


# --- the spec's example cases -----------------------------------------------------------


def test_fresh_cluster_beaver_acquires_via_london_exact_trace():
    """lock.go Acquire -> consensus.go propose/commit on the example cluster
    (doc/examples/skinnyd/*.yml): london proposes ID 1, stops counting at three yes
    votes, writes its own state, commits to all and answers from its local holder."""
    sim = cluster()
    sim.request("acquire", "london", "beaver")
    sim.run()
    assert trace(sim) == [
        "0 beaver asks london for the lock",
        "0 london asks for votes on 1",
        "70 oregon promises 1 to london",
        "95 spaulo promises 1 to london",
        "115 taiwan promises 1 to london",
        "135 sydney promises 1 to london",
        "140 london counts oregon's yes on 1 (2 yes, 0 no)",
        "190 london counts spaulo's yes on 1 (3 yes, 0 no)",
        "190 london wins the vote on 1 (3 yes, 0 no)",
        "190 london commits 1: beaver",
        "230 london ignores taiwan's yes on 1: round over",
        "260 oregon stores 1: beaver from london",
        "270 london ignores sydney's yes on 1: round over",
        "285 spaulo stores 1: beaver from london",
        "305 taiwan stores 1: beaver from london",
        "325 sydney stores 1: beaver from london",
        "330 london hears oregon stored 1",
        "380 london hears spaulo stored 1",
        "420 london hears taiwan stored 1",
        "460 london hears sydney stored 1",
        "460 london ends commit 1: stored on 5 of 5 (not checked)",
        "460 london answers beaver: acquired, holder beaver",
    ]
    assert states(sim) == every(sim, (1, 1, "beaver"))
    assert sim.answers == {"beaver": "acquired, holder beaver (via london)"}
    assert sim.done and not sim.in_flight


def test_two_instances_down_still_three_votes():
    """skinny.go isMajority: 3 of 5 is a majority, so with sydney and taiwan stopped
    london's own vote plus oregon's and spaulo's win (consensus.go propose)."""
    sim = cluster()
    sim.stop("sydney")
    sim.stop("taiwan")
    sim.request("acquire", "london", "beaver")
    sim.run()
    lines = trace(sim)
    assert "190 london wins the vote on 1 (3 yes, 0 no)" in lines
    assert "115 taiwan is down: promise 1 from london refused" in lines
    assert "460 london ends commit 1: stored on 3 of 5 (not checked)" in lines
    assert sim.answers["beaver"] == "acquired, holder beaver (via london)"
    assert states(sim) == {
        "london": (1, 1, "beaver"),
        "oregon": (1, 1, "beaver"),
        "spaulo": (1, 1, "beaver"),
        "sydney": (0, 0, ""),
        "taiwan": (0, 0, ""),
    }


def test_only_london_and_oregon_up_four_attempts_then_no():
    """lock.go Acquire: a lost vote is retried at most 3 more times, sleeping
    retries*2 ms + rand.Int63n(1000) us; consensus.go propose raises promised by the
    increment each time, so london tries IDs 1, 2, 3, 4. Errors count as no."""
    sim = cluster()
    for name in ("spaulo", "sydney", "taiwan"):
        sim.stop(name)
    sim.request("acquire", "london", "beaver")
    sim.run()
    lines = [text for _, text in sim.log]
    asked = [int(text.rsplit(" ", 1)[1]) for text in lines if "asks for votes on" in text]
    assert asked == [1, 2, 3, 4]
    sleeps = [float(text.split()[2]) for text in lines if " sleeps " in text]
    assert len(sleeps) == 3
    for retry, sleep in enumerate(sleeps, start=1):
        assert retry * 2 <= sleep < retry * 2 + 1
    assert lines.count("london loses the vote on 4 (2 yes, 3 no)") == 1
    assert sim.answers["beaver"] == "not acquired, holder none (via london)"
    assert sim.instances["london"].holder == ""
    assert states(sim)["oregon"] == (4, 0, "")


def test_alien_via_oregon_learns_beaver_and_recommits_it():
    """consensus.go propose learns (id, holder) from promise replies; lock.go Acquire
    then re-commits the learned holder under the new ID and answers from local state."""
    sim = cluster()
    for inst in sim.instances.values():
        inst.promised, inst.id, inst.holder = 1, 1, "beaver"
    sim.request("acquire", "oregon", "alien")
    sim.run()
    lines = trace(sim)
    assert lines[:4] == [
        "0 alien asks oregon for the lock",
        "0 oregon asks for votes on 3",  # promised 1 + increment 2
        "65 taiwan promises 3 to oregon (knows 1: beaver)",
        "70 london promises 3 to oregon (knows 1: beaver)",
    ]
    assert "140 oregon commits 3: beaver" in lines
    assert lines[-1] == "320 oregon answers alien: not acquired, holder beaver"
    assert states(sim) == every(sim, (3, 3, "beaver"))


def test_single_node_rules_promise_strict_commit_inclusive():
    """consensus.go Promise answers yes only for req.ID > promised; Commit accepts
    req.ID >= promised and leaves promised alone."""
    node = Instance("london", 1, promised=5)
    assert node.promise(5) is False
    assert node.promised == 5
    assert node.promise(6) is True
    assert node.promised == 6

    node = Instance("london", 1, promised=5)
    node.commit(5, "beaver")
    assert (node.promised, node.id, node.holder) == (5, 5, "beaver")
    node.commit(4, "alien")
    assert (node.promised, node.id, node.holder) == (5, 5, "beaver")


def test_single_node_rules_over_the_wire():
    """consensus.go Promise as seen by a proposer: peers at promised 5 refuse london's
    ID 5, attach their committed pair (sent whenever id > 0), and grant its retry 6."""
    sim = cluster()
    for inst in sim.instances.values():
        inst.promised, inst.id, inst.holder = 5, 5, "alien"
    sim.instances["london"].promised, sim.instances["london"].id = 4, 0
    sim.request("acquire", "london", "beaver")
    sim.run()
    lines = trace(sim)
    assert lines[2] == "70 oregon refuses 5 to london (promised 5; knows 5: alien)"
    assert "302.1 oregon promises 6 to london (knows 5: alien)" in lines
    assert sim.answers["beaver"] == "not acquired, holder alien (via london)"
    assert states(sim) == every(sim, (6, 6, "alien"))


# --- more of Skinny's rules -------------------------------------------------------------


@pytest.mark.parametrize(("size", "needed"), [(3, 2), (4, 3), (5, 3), (6, 4), (7, 4)])
def test_quorum_arithmetic(size, needed):
    """skinny.go isMajority: n > (len(peers)+1)/2 with integer division."""
    sim = cluster(instances=size)
    assert not sim.is_majority(needed - 1)
    assert sim.is_majority(needed)
    assert sim.quorum == needed


def test_proposer_writes_its_own_state_before_any_peer():
    """consensus.go commit sets in.id and in.holder before counting any reply."""
    sim = cluster()
    sim.request("acquire", "london", "beaver")
    sim.run(until=190)
    assert trace(sim)[-1] == "190 london commits 1: beaver"
    assert states(sim)["london"] == (1, 1, "beaver")
    assert states(sim)["oregon"] == (1, 0, "")


def test_learning_from_no_votes_and_jumping_promised():
    """consensus.go propose learns from every reply, yes or no, and afterwards jumps
    promised to a learned id above it; lock.go then retries with promised + increment."""
    sim = cluster()
    for inst in sim.instances.values():
        inst.promised, inst.id, inst.holder = 6, 6, "alien"
    sim.instances["london"].clear()  # as after a restart
    sim.request("acquire", "london", "beaver")
    sim.run()
    lines = trace(sim)
    assert lines[7:13] == [
        "140 london learns 6: alien from oregon",
        "190 london counts spaulo's no on 1 (1 yes, 2 no)",
        "230 london counts taiwan's no on 1 (1 yes, 3 no)",
        "230 london loses the vote on 1 (1 yes, 3 no)",
        "230 london jumps promised to 6",
        "230 london sleeps 2.137 ms before retry 1",
    ]
    assert "232.1 london asks for votes on 7" in lines
    assert "422.1 london commits 7: alien" in lines
    assert sim.answers["beaver"] == "not acquired, holder alien (via london)"
    assert states(sim) == every(sim, (7, 7, "alien"))


def test_release_has_no_holder_check():
    """lock.go Release commits holder "" whoever asks and answers released = (holder == "")."""
    sim = cluster()
    sim.request("acquire", "london", "beaver")
    sim.run()
    sim.request("release", "spaulo", "alien")
    sim.run()
    assert sim.answers["alien"] == "released, holder none (via spaulo)"
    assert states(sim) == every(sim, (4, 4, ""))  # spaulo: promised 1 + increment 3


def test_acquire_again_by_the_holder_is_yes():
    """lock.go Acquire: a held lock is re-committed to its holder, and the answer is
    local holder == requested, so the holder asking again is told yes."""
    sim = cluster()
    sim.request("acquire", "london", "beaver")
    sim.run()
    sim.request("acquire", "taiwan", "beaver")
    sim.run()
    assert sim.answers["beaver"] == "acquired, holder beaver (via taiwan)"
    assert states(sim) == every(sim, (6, 6, "beaver"))


def test_locked_instance_makes_peers_wait_until_their_deadline():
    """lock.go Acquire holds in.mu through propose and commit; consensus.go Promise
    needs in.mu, so two proposers cannot answer each other and each counts the other
    as no at the 500 ms deadline. The sleep before a retry frees the mutex."""
    sim = cluster()
    sim.request("acquire", "london", "beaver")
    sim.request("acquire", "taiwan", "alien")
    sim.run()
    lines = trace(sim)
    assert "115 promise 1 from london waits: taiwan is busy" in lines
    assert "115 promise 5 from taiwan waits: london is busy" in lines
    start = lines.index("500 london gives up on taiwan after 500 ms: no")
    assert lines[start : start + 5] == [
        "500 london gives up on taiwan after 500 ms: no",
        "500 london loses the vote on 1 (2 yes, 3 no)",
        "500 london sleeps 2.137 ms before retry 1",
        # Skinny's handlers never look at the context: the queued calls still run.
        "500 london promises 5 to taiwan",
        "500 london stores 5: alien from taiwan",
    ]
    assert "615 taiwan answers alien: acquired, holder alien" in lines
    assert lines[-1] == "962.1 london answers beaver: not acquired, holder alien"
    assert states(sim) == every(sim, (6, 6, "alien"))


def test_race_two_clients_both_told_acquired():
    """The race Skinny allows: lock.go Acquire ignores the result of consensus.go
    commit and answers acquired = (local holder == requested). london's commit 1
    reaches only itself (the voters already promised taiwan's 6), yet beaver is told
    yes; taiwan's commit 6 then wins everywhere and alien is told yes as well."""
    runner = Runner(DEMO, "race")
    runner.step(1000)
    sim = runner.sim
    lines = trace(sim)
    assert "115 alien asks taiwan for the lock" in lines
    assert "260 oregon refuses commit 1: beaver from london (promised 6)" in lines
    assert "690 london ends commit 1: stored on 1 of 5 (not checked)" in lines
    assert "690 london answers beaver: acquired, holder beaver" in lines
    assert "745 taiwan answers alien: acquired, holder alien" in lines
    assert sim.answers == {
        "beaver": "acquired, holder beaver (via london)",
        "alien": "acquired, holder alien (via taiwan)",
    }
    assert states(sim) == every(sim, (6, 6, "alien"))


def test_restart_clears_state_and_instance_catches_up_by_proposing():
    """skinny.go keeps promised/id/holder in memory only: a restart zeroes them.
    Proposing (consensus.go propose) is how the restarted instance learns again."""
    sim = cluster()
    sim.request("acquire", "london", "beaver")
    sim.run()
    sim.restart("sydney")
    assert states(sim)["sydney"] == (0, 0, "")
    sim.request("acquire", "sydney", "giraffe")
    sim.run()
    # run() let a quiet second pass first, so giraffe asked at 1460 ms.
    assert "1590 sydney learns 1: beaver from taiwan" in trace(sim)
    assert sim.answers["giraffe"] == "not acquired, holder beaver (via sydney)"
    assert states(sim) == every(sim, (4, 4, "beaver"))


def test_commit_timeouts_are_dropped_and_the_client_still_hears_yes():
    """consensus.go commit drops calls that hit the deadline, waiting the full 500 ms
    for partitioned peers; lock.go answers from the local holder anyway."""
    sim = cluster(partition="asia_pacific")
    sim.request("acquire", "london", "beaver")
    sim.run()
    lines = trace(sim)
    assert "57.5 promise 1 from london to taiwan hits the partition" in lines
    assert lines[-3:] == [
        "690 london stops waiting for sydney, taiwan on commit 1",
        "690 london ends commit 1: stored on 3 of 5 (not checked)",
        "690 london answers beaver: acquired, holder beaver",
    ]
    assert states(sim)["sydney"] == (0, 0, "")


def test_isolated_proposer_times_out_and_retries():
    """consensus.go propose: a call that hits the deadline is an error, counted as no."""
    sim = cluster(partition="london")
    sim.request("acquire", "london", "beaver")
    sim.run()
    lines = trace(sim)
    assert "500 london gives up on oregon, spaulo, sydney, taiwan after 500 ms: no" in lines
    assert "500 london loses the vote on 1 (1 yes, 4 no)" in lines
    assert sim.answers["beaver"] == "not acquired, holder none (via london)"
    assert states(sim)["london"] == (4, 0, "")
    assert states(sim)["oregon"] == (0, 0, "")


def test_stopping_the_proposer_mid_acquire_fails_the_client():
    """A stopped skinnyd drops its in-flight Acquire; the client sees an error."""
    sim = cluster()
    sim.request("acquire", "london", "beaver")
    sim.run(until=140)
    sim.stop("london")
    sim.run()
    assert sim.answers["beaver"] == "error: london went down"
    assert "190 london is down: spaulo's yes on 1 is dropped" in trace(sim)
    assert not sim.operations()


def test_several_clients_on_one_instance_queue_for_its_mutex():
    """lock.go: a second Acquire on the same instance blocks on in.mu until the first
    is done (or sleeps), then runs its own rounds."""
    sim = cluster()
    sim.request("acquire", "london", "beaver")
    sim.request("acquire", "london", "alien")
    sim.run()
    lines = trace(sim)
    assert "0 alien's request waits: london is busy" in lines
    assert "460 london asks for votes on 2" in lines
    assert sim.answers == {
        "beaver": "acquired, holder beaver (via london)",
        "alien": "not acquired, holder beaver (via london)",
    }


def test_links_cycle_and_slow_links_are_slower():
    sim = cluster()
    assert sim.latency("london", "oregon") == ASSUMED_RTT_MS[("london", "oregon")] / 2
    assert sim.cycle_link("oregon", "london") == "slow"
    assert sim.latency("london", "oregon") == 4 * 70
    assert sim.cycle_link("london", "oregon") == "lossy"
    assert sim.cycle_link("london", "oregon") == "normal"
    assert sim.links == {}


def test_assumed_latency_table_covers_every_pair():
    names = [name for name, _ in INSTANCES]
    pairs = {tuple(sorted((a, b))) for a in names for b in names if a != b}
    assert {tuple(sorted(key)) for key in ASSUMED_RTT_MS} == pairs


# --- determinism --------------------------------------------------------------------


def _busy_run(seed: int) -> list[str]:
    sim = cluster(seed, loss=0.3)
    sim.request("acquire", "london", "beaver")
    sim.request("acquire", "taiwan", "alien")
    sim.run(until=300)
    sim.request("release", "spaulo", "giraffe")
    sim.run()
    return trace(sim)


def test_same_seed_same_trace():
    assert _busy_run(7) == _busy_run(7)
    assert len({tuple(_busy_run(seed)) for seed in range(5)}) > 1


# --- properties of what Skinny does guarantee ---------------------------------------

ACTION = st.tuples(
    st.integers(0, 40),
    st.sampled_from(["acquire", "acquire", "release", "stop", "restart"]),
    st.sampled_from([name for name, _ in INSTANCES]),
    st.sampled_from(CLIENTS),
)


def _checked_run(sim: Cluster, script: list) -> None:
    """Run ``script`` (steps to wait, action, instance, client) and check Skinny's
    per-instance guarantees after every step."""

    def step() -> None:
        before = {
            n: (i.promised, i.id, i.holder, i.up, i.restarts) for n, i in sim.instances.items()
        }
        seen = set(sim.in_flight)
        sim.step()
        yes_sent: dict[str, list[int]] = {}
        for key, message in sim.in_flight.items():
            if key in seen or message.kind != "vote":
                continue
            if message.ok:
                yes_sent.setdefault(message.src, []).append(message.id)
            else:
                # consensus.go Promise: no only when the ID is not above promised.
                assert message.id <= sim.instances[message.src].promised
        for name, inst in sim.instances.items():
            promised, cid, holder, up, restarts = before[name]
            if inst.restarts == restarts:
                # An instance that has not restarted never lowers promised...
                assert inst.promised >= promised
            if not up and not inst.up:
                # ...and a stopped one changes nothing.
                assert (inst.promised, inst.id, inst.holder) == (promised, cid, holder)
            ids = yes_sent.get(name, [])
            # It never says yes to an ID at or below what it promised.
            assert ids == sorted(set(ids))
            if ids and inst.restarts == restarts:
                assert ids[0] > promised
                assert inst.promised >= ids[-1]

    for wait, action, name, client in script:
        for _ in range(wait):
            if sim.done:
                break
            step()
        sim.act(action, f"{name}:{client}" if action in ("acquire", "release") else name)
    guard = 0
    while not sim.done:
        step()
        guard += 1
        assert guard < 20_000, "the simulation did not settle"
    # Every call ends: bounded retries and deadlines leave nobody waiting.
    assert not sim.operations()
    assert all(inst.owner is None and not inst.waiting for inst in sim.instances.values())
    assert not any(answer.startswith("waiting") for answer in sim.answers.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(3, 7),
    scale=st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0]),
    loss=st.sampled_from([0.0, 0.1, 0.3, 0.5]),
    partition=st.sampled_from(sorted(PARTITIONS)),
    script=st.lists(ACTION, max_size=8),
    start=st.lists(st.integers(0, 9), min_size=7, max_size=7),
)
def test_promise_rules_hold_under_any_schedule(seed, size, scale, loss, partition, script, start):
    """consensus.go Promise/Commit and skinny.go's in-memory state: whatever the
    network and the reader do, an instance that has not restarted never lowers
    promised, never says yes to an ID <= promised, and every client call ends
    (lock.go retries at most 3 times; every round has a deadline)."""
    sim = Cluster(
        random.Random(seed), instances=size, latency_scale=scale, loss=loss, partition=partition
    )
    # Start from uneven counters (as after earlier rounds) so IDs collide with promises.
    for inst, promised in zip(sim.instances.values(), start[:size], strict=True):
        inst.promised = promised
        inst.id, inst.holder = (promised // 2, "beaver") if promised > 1 else (0, "")
    _checked_run(sim, script)


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(3, 7),
    scale=st.sampled_from([0.25, 0.5, 1.0, 1.5]),
    calls=st.lists(
        st.tuples(
            st.sampled_from(["acquire", "release"]),
            st.sampled_from([name for name, _ in INSTANCES]),
            st.sampled_from(CLIENTS),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_one_call_at_a_time_on_a_good_network_behaves_like_a_lock(size, scale, calls):
    """With no loss, no partition, round trips under the 500 ms timeout and one call
    at a time, Skinny (lock.go + consensus.go) acts as a plain lock: every instance
    ends with the same (id, holder), and each answer matches a sequential lock."""
    sim = cluster(instances=size, latency_scale=scale)
    names = list(sim.instances)
    holder = ""
    for kind, name, client in calls:
        name = names[[n for n, _ in INSTANCES].index(name) % size]
        sim.request(kind, name, client)
        sim.run()
        if kind == "acquire":
            holder = holder or client
            verdict = "acquired" if holder == client else "not acquired"
        else:
            holder = ""
            verdict = "released"
        assert sim.answers[client] == f"{verdict}, holder {holder or 'none'} (via {name})"
        assert len({(i.id, i.holder) for i in sim.instances.values()}) == 1
        assert sim.instances[name].holder == holder


# --- the demo declaration, scenarios and frames -------------------------------------


def test_demo_declaration_validates():
    described = DEMO.describe()
    json.dumps(described)
    assert described["talk"] == "srecon19apac/implementing-distributed-consensus"
    assert [s["name"] for s in described["scenarios"]] == [
        "happy-path",
        "minority-down",
        "majority-down",
        "competing",
        "restart-catch-up",
        "race",
    ]
    options = {action.name: {value for value, _ in action.options} for action in DEMO.actions}
    for scenario in DEMO.scenarios:
        assert scenario.caption
        for cue in scenario.script:
            assert cue.arg in options[cue.action]
    live = {param.name for param in DEMO.params if param.live}
    assert live == {"latency_scale", "loss", "partition"}


def _check_svg(svg: str) -> ET.Element:
    assert len(svg) < 30_000
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert root.get("viewBox") == "0 0 640 420"
    assert root[0].tag == SVG + "title" and root[0].text
    for element in root.iter():
        assert element.tag not in (SVG + "script", SVG + "foreignObject")
        assert "id" not in element.attrib
        if element.tag == SVG + "text":
            assert element.get("fill") == "currentColor"
    return root


EXPECTED_ANSWERS = {
    "happy-path": {"beaver": "released, holder none (via london)"},
    "minority-down": {"beaver": "acquired, holder beaver (via london)"},
    "majority-down": {"beaver": "not acquired, holder none (via london)"},
    "competing": {
        "beaver": "not acquired, holder alien (via london)",
        "alien": "acquired, holder alien (via taiwan)",
    },
    "restart-catch-up": {
        "beaver": "acquired, holder beaver (via london)",
        "giraffe": "not acquired, holder beaver (via sydney)",
    },
    "race": {
        "beaver": "acquired, holder beaver (via london)",
        "alien": "acquired, holder alien (via taiwan)",
    },
}


@pytest.mark.parametrize("name", [scenario.name for scenario in DEMO.scenarios])
def test_scenario_preview_is_a_well_formed_frame(name):
    """Every scenario runs through demokit.Runner to its preview step and on to its
    end, where the clients hold the answers its caption promises."""
    runner = Runner(DEMO, name)
    scenario = DEMO.scenario(name)
    assert runner.step(scenario.preview_steps) == scenario.preview_steps
    snap = runner.snapshot()
    _check_svg(snap["svg"])
    assert snap["status"].startswith("t = ")
    assert 1 <= len(snap["log"]) <= 12
    runner.step(10_000)
    assert runner.sim.done
    assert runner.sim.answers == EXPECTED_ANSWERS[name]


def test_preview_shows_messages_in_flight():
    runner = Runner(DEMO, "happy-path")
    runner.step(DEMO.default_scenario.preview_steps)
    root = _check_svg(runner.snapshot()["svg"])
    labels = [el.text for el in root.iter(SVG + "text")]
    assert "commit 1" in labels
    assert "promised 1" in labels


def test_frame_of_a_broken_seven_instance_cluster():
    sim = cluster(instances=7, partition="three_way", loss=0.2)
    sim.cycle_link("london", "virginia")
    sim.cycle_link("taiwan", "mumbai")
    sim.cycle_link("taiwan", "mumbai")
    sim.stop("spaulo")
    sim.request("acquire", "mumbai", "giraffe")
    sim.request("acquire", "mumbai", "beaver")
    sim.run(until=120)
    frame = render(sim)
    root = _check_svg(frame.svg)
    dashed = [el for el in root.iter(SVG + "line") if el.get("stroke-dasharray")]
    assert dashed  # partitioned and lossy links are drawn dashed
    labels = [el.text for el in root.iter(SVG + "text")]
    assert "down" in labels and "slow" in labels and "lossy" in labels
    assert ("majority", "4 of 7") in frame.metrics
    assert frame.log[-1].startswith("120 ms") or len(frame.log) <= 12


def test_live_parameters_and_actions_through_the_runner():
    """A live partition change reaches the running cluster. Cut off, london loses
    every vote; its Release still says released, because lock.go answers
    (local holder == "") and the holder was never set."""
    runner = Runner(DEMO, "happy-path")
    assert runner.set_param("partition", "london") is True
    assert runner.set_param("instances", 7) is False
    runner.act("stop", "mumbai")  # not in a cluster of five: a note, no crash
    assert runner.sim.log[-1][1] == "there is no mumbai in a cluster of 5"
    runner.step(10_000)
    lines = trace(runner.sim)
    # The Release, queued behind the Acquire, takes london's mutex whenever the
    # Acquire sleeps before a retry, so the two calls' rounds interleave.
    assert "500 london asks for votes on 2" in lines
    assert "502.1 london waits for its own lock to retry" in lines
    assert "3500 london answers beaver: not acquired, holder none" in lines
    assert lines[-1] == "4000 london answers beaver: released, holder none"
    assert states(runner.sim)["oregon"] == (0, 0, "")


def test_scenario_cues_still_fire_when_a_run_settles_early():
    """At a quarter of the latency beaver's acquire is over long before the scripted
    release at 460 ms; the quiet second after the last event lets the cue come due."""
    runner = Runner(DEMO, "happy-path", params={"latency_scale": 0.25})
    runner.act("link", "london-oregon")
    assert runner.sim.link_mode("oregon", "london") == "slow"
    runner.step(10_000)
    assert runner.sim.done
    assert runner.sim.answers == {"beaver": "released, holder none (via london)"}
    assert not [line for _, line in runner.sim.log if "gives up" in line]
