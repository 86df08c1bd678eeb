"""Skinny driven as a program, without a UI: request handles, timed actions, marks.

The race follows lock.go: the Acquire reply reads the instance's own state after the
commit round, whatever the commit stored on its peers, so two clients can be told yes.
"""

from __future__ import annotations

import random

import pytest

from demokit import Runner
from demos.skinny import DEMO
from demos.skinny.core import Cluster


def test_a_request_returns_a_handle_with_its_answer_holder_time_and_attempts():
    cluster = Cluster(random.Random(1))
    handle = cluster.request("acquire", "london", "beaver")
    assert handle is not None and not handle.answered and handle.asked_at == 0.0
    cluster.run()
    assert (handle.answer, handle.holder, handle.attempts) == ("acquired", "beaver", 1)
    assert handle.answered_at is not None and handle.answered_at > 0
    assert cluster.requests == [handle]
    assert cluster.request("acquire", "atlantis", "beaver") is None


def test_without_a_majority_the_handle_counts_every_attempt():
    cluster = Cluster(random.Random(1))
    for name in ("spaulo", "sydney", "taiwan"):
        cluster.stop(name)
    handle = cluster.request("acquire", "london", "beaver")
    cluster.run()
    # MAX_RETRIES = 3 in consensus.go: the first round and three retries.
    assert (handle.answer, handle.holder, handle.attempts) == ("not acquired", "", 4)


def test_a_request_to_a_stopped_instance_is_an_error_at_once():
    cluster = Cluster(random.Random(1))
    cluster.stop("london")
    handle = cluster.request("acquire", "london", "beaver")
    cluster.step()
    assert (handle.answer, handle.answered_at) == ("error", 0.0)


def test_an_action_can_be_scheduled_at_an_absolute_time():
    cluster = Cluster(random.Random(1))
    cluster.act_at(250.0, "acquire", "london:beaver")
    cluster.run(until=249.0)
    assert cluster.requests == []
    cluster.run()
    (handle,) = cluster.requests
    assert handle.asked_at == 250.0 and handle.answer == "acquired"
    with pytest.raises(ValueError, match="in the past"):
        cluster.act_at(1.0, "stop", "oregon")


def test_the_race_is_marked_when_the_second_client_is_told_yes():
    runner = Runner(DEMO, "race")
    runner.step(200)
    names = [mark.name for mark in runner.marks]
    assert names.count("granted") == 2 and "two_holders" in names
    two = next(mark for mark in runner.marks if mark.name == "two_holders")
    assert two.detail == "beaver and alien were all told yes"
    assert dict((v[0], v[1]) for v in runner.snapshot()["values"])["holders"] == 2


def test_the_happy_path_has_one_holder_at_a_time():
    runner = Runner(DEMO, "happy-path")
    runner.step(200)
    assert [mark.name for mark in runner.marks if mark.kind == "event"] == ["granted"]


def _acquire_with_sydney_and_taiwan(gone: bool) -> Cluster:
    cluster = Cluster(random.Random(1))
    for name in ("sydney", "taiwan"):
        cluster.stop(name, gone=gone)
    cluster.request("acquire", "london", "beaver")
    cluster.run()
    return cluster


def test_a_crashed_process_refuses_at_once_a_gone_host_makes_callers_wait():
    """A crashed Skinny process: the peer's TCP stack refuses the call, an error comes
    back within a round trip. A host that is gone: nothing comes back; the promise round ends on a
    majority (Skinny cancels the other calls), but the commit round waits for every peer
    until its deadline (TIMEOUT_MS after it opened), so beaver is told yes only then;
    either way three votes of five win."""
    crashed = _acquire_with_sydney_and_taiwan(gone=False)
    gone = _acquire_with_sydney_and_taiwan(gone=True)
    for cluster in (crashed, gone):
        (handle,) = cluster.requests
        assert (handle.answer, handle.holder) == ("acquired", "beaver")
    lines = [text for _, text in gone.log]
    assert any("to sydney is lost: host gone" in text for text in lines)
    assert any("sydney is down" in text for _, text in crashed.log)
    assert gone.requests[0].answered_at > crashed.requests[0].answered_at
    assert (190.0, "london commits 1: beaver") in gone.log
    assert (690.0, "london stops waiting for sydney, taiwan on commit 1") in gone.log
    assert gone.requests[0].answered_at == 690.0


def test_a_client_of_a_gone_host_gets_no_answer_until_its_timeout():
    cluster = Cluster(random.Random(1))
    cluster.stop("london", gone=True)
    handle = cluster.request("acquire", "london", "beaver")
    cluster.run()
    assert (handle.answer, handle.answered_at) == ("error", cluster.timeout_ms)
    assert cluster.answers["beaver"] == "error: london did not answer"
    cluster.restart("london")
    again = cluster.request("acquire", "london", "beaver")
    cluster.run()
    assert again.answer == "acquired"


def test_latency_can_be_set_per_direction():
    cluster = Cluster(random.Random(1))
    there, back = cluster.latency("london", "oregon"), cluster.latency("oregon", "london")
    assert there == back
    cluster.set_latency("london", "oregon", 200.0)
    assert cluster.latency("london", "oregon") == 200.0
    assert cluster.latency("oregon", "london") == back
    cluster.latency_scale = 2.0
    assert cluster.latency("london", "oregon") == 400.0
    with pytest.raises(ValueError, match="not a finite number"):
        cluster.set_latency("london", "oregon", -1)
    with pytest.raises(ValueError, match="no link"):
        cluster.set_latency("london", "london", 1)


def test_the_gone_host_action_is_a_reader_action():
    runner = Runner(DEMO, "happy-path")
    runner.act("vanish", "oregon")
    runner.step(60)
    assert runner.sim.instances["oregon"].gone
    assert "host gone" in runner.snapshot()["svg"]
