"""Skinny, the Paxos-style lock service of "Implementing Distributed Consensus"."""

from __future__ import annotations

import random

from demokit import Action, ChoiceParam, Cue, Demo, FloatParam, IntParam, Notable, Scenario

from .core import CLIENTS, INSTANCES, PARTITIONS, Cluster, link_key
from .view import render


def create(params: dict, rng: random.Random) -> Cluster:
    """Build a cluster from validated parameters and a seeded RNG."""
    return Cluster(
        rng,
        instances=params["instances"],
        latency_scale=params["latency_scale"],
        loss=params["loss"],
        partition=params["partition"],
    )


_NAMES = [name for name, _ in INSTANCES]
_CLIENT_OPTIONS = tuple(
    (f"{name}:{client}", f"{client} via {name}") for name in _NAMES for client in CLIENTS
)
_INSTANCE_OPTIONS = tuple((name, name) for name in _NAMES)
_LINK_OPTIONS = tuple(
    (f"{a}-{b}", f"{a} – {b}")
    for a, b in sorted(
        {link_key(a, b) for a in _NAMES for b in _NAMES if a != b},
        key=lambda k: (_NAMES.index(k[0]), _NAMES.index(k[1])),
    )
)

PARAMS = (
    IntParam("instances", "Instances", default=5, min=3, max=len(INSTANCES)),
    FloatParam(
        "latency_scale",
        "Latency scale",
        default=1.0,
        min=0.25,
        max=4.0,
        step=0.25,
        unit="x",
        live=True,
    ),
    FloatParam("loss", "Message loss", default=0.0, min=0.0, max=0.5, step=0.05, live=True),
    ChoiceParam(
        "partition",
        "Partition",
        default="none",
        choices=tuple((value, label) for value, (label, _) in PARTITIONS.items()),
        live=True,
    ),
)

ACTIONS = (
    Action("acquire", "Acquire", _CLIENT_OPTIONS),
    Action("release", "Release", _CLIENT_OPTIONS),
    Action("stop", "Stop", _INSTANCE_OPTIONS),  # a crashed process: peers get an error
    Action("vanish", "Host gone (messages lost)", _INSTANCE_OPTIONS),
    Action("restart", "Restart", _INSTANCE_OPTIONS),
    Action("link", "Degrade link (normal, slow, lossy)", _LINK_OPTIONS),
)

SCENARIOS = (
    Scenario(
        "happy-path",
        "Happy path",
        "beaver asks london for the lock. london proposes ID 1, every peer promises, "
        "london commits beaver and says yes. Then beaver releases it under ID 2.",
        script=(Cue(0, "acquire", "london:beaver"), Cue(460, "release", "london:beaver")),
        preview_steps=10,
    ),
    Scenario(
        "minority-down",
        "Minority down",
        "sydney and taiwan are stopped. london still gets three votes out of five "
        "(its own, oregon's and spaulo's), so beaver gets the lock.",
        script=(
            Cue(0, "stop", "sydney"),
            Cue(0, "stop", "taiwan"),
            Cue(0, "acquire", "london:beaver"),
        ),
        preview_steps=10,
    ),
    Scenario(
        "majority-down",
        "Majority down",
        "Only london and oregon run. Two votes are never a majority of five: london "
        "tries IDs 1, 2, 3 and 4, sleeping about 2, 4 and 6 ms in between, then says no.",
        script=(
            Cue(0, "stop", "spaulo"),
            Cue(0, "stop", "sydney"),
            Cue(0, "stop", "taiwan"),
            Cue(0, "acquire", "london:beaver"),
        ),
        preview_steps=33,
    ),
    Scenario(
        "competing",
        "Competing acquirers",
        "beaver asks london and alien asks taiwan at the same moment. taiwan's higher ID "
        "wins; london, locked in its own round, cannot answer taiwan and times out, then "
        "learns alien holds the lock and re-commits alien. beaver is told no.",
        script=(Cue(0, "acquire", "london:beaver"), Cue(0, "acquire", "taiwan:alien")),
        preview_steps=25,
    ),
    Scenario(
        "restart-catch-up",
        "A restarted instance catches up",
        "beaver takes the lock via london. Then sydney restarts and forgets everything. "
        "giraffe asks sydney: its promise replies tell it beaver holds ID 1, so it "
        "re-commits beaver under ID 4 and tells giraffe no.",
        script=(
            Cue(0, "acquire", "london:beaver"),
            Cue(460, "restart", "sydney"),
            Cue(460, "acquire", "sydney:giraffe"),
        ),
        preview_steps=21,
    ),
    Scenario(
        "race",
        "The race: two clients told yes",
        "alien asks taiwan 115 ms after beaver asked london. london wins its vote, but "
        "taiwan's higher ID reaches the voters before london's commit, so they refuse "
        "it. Skinny never checks the commit result: london tells beaver yes from its own "
        "record, then taiwan tells alien yes too. beaver believes it holds a lock that "
        "the cluster gave to alien, and no lease will ever end that belief.",
        script=(Cue(0, "acquire", "london:beaver"), Cue(115, "acquire", "taiwan:alien")),
        preview_steps=33,
    ),
)

DEMO = Demo(
    name="skinny",
    title="Skinny: a Paxos-style lock service you can break",
    summary=(
        "Five Skinny instances agree on one lock holder with promise and commit rounds; "
        "stop, restart and partition them and watch what their simplified Paxos does."
    ),
    talk="srecon19apac/implementing-distributed-consensus",
    params=PARAMS,
    actions=ACTIONS,
    scenarios=SCENARIOS,
    create=create,
    render=render,
    seed=1,
    steps_per_second=4.0,
    step_label="event",
    time_unit="ms",
    version=1,
    notable=(
        Notable("granted", "lock granted"),
        Notable("two_holders", "two clients told yes"),
        Notable("stopped", "instance stopped"),
    ),
)
