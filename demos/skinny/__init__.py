"""Skinny, the Paxos-style lock service of "Implementing Distributed Consensus"."""

from __future__ import annotations

import random

from demokit import Action, ChoiceParam, Cue, Demo, FloatParam, Frame, IntParam, Scenario

from .core import CLIENTS, INSTANCES, PARTITIONS, Cluster, link_key
from .view import render


class SkinnySimulation(Cluster):
    """The core cluster plus the view: what ``DEMO.create`` hands the runner."""

    def frame(self) -> Frame:
        """The current state drawn as a frame."""
        return render(self)


def create(params: dict, rng: random.Random) -> SkinnySimulation:
    """Build a cluster from validated parameters and a seeded RNG."""
    return SkinnySimulation(
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
    for a, b in sorted({link_key(a, b) for a in _NAMES for b in _NAMES if a != b},
                       key=lambda k: (_NAMES.index(k[0]), _NAMES.index(k[1])))
)
