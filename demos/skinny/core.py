"""Skinny's lock service as a deterministic discrete-event simulation.

The model follows danrl/skinny at commit b9a379a: ``skinny/skinny.go`` (state and
quorum), ``skinny/consensus.go`` (the promise and commit phases) and
``skinny/lock.go`` (Acquire and Release with their retries). Time is simulated
milliseconds; events run in ``(time, seq)`` order and all randomness comes from the
``random.Random`` handed in, so a seed replays a run exactly.

One :meth:`Cluster.step` processes one event: a client request reaching an instance,
a message arriving (or being lost), a round's 500 ms deadline, or the end of a retry
sleep. Handlers take no simulated time. When nothing is pending, a few more steps let
a quiet second pass before the run counts as done.

Where Skinny's behaviour depends on its runtime (Go's mutex, gRPC), the model makes
these choices, each noted where it is made:

* The instance mutex is fair: waiters take it in arrival order.
* A request that waits for a busy instance is still handled once the mutex frees up,
  even if its sender gave up meanwhile (Skinny's handlers never look at the context).
* Requests already on the wire when a round ends early keep going and are handled;
  only their replies are ignored.
* A stopped instance refuses connections: the sender gets an error one round trip
  later. A partitioned or lossy link drops messages silently, so the sender waits for
  its deadline.

Stdlib only: this module runs under CPython and Pyodide and knows nothing of either.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from demokit.events import Event, EventQueue

TIMEOUT_MS = 500.0
"""Peer timeout of the example cluster (``timeout: 500ms`` in doc/examples/skinnyd)."""

QUIET_MS = 1000.0
IDLE_TICK_MS = 250.0
"""Once nothing is pending, time still runs for QUIET_MS in IDLE_TICK_MS steps."""

MAX_RETRIES = 3
"""lock.go retries a lost promise round at most three more times."""

INSTANCES: tuple[tuple[str, int], ...] = (
    ("london", 1),
    ("oregon", 2),
    ("spaulo", 3),
    ("sydney", 4),
    ("taiwan", 5),
    # Not in Skinny's example: our extra instances for clusters of six and seven.
    ("virginia", 6),
    ("mumbai", 7),
)
"""Instance names and increments; the first five are Skinny's example cluster."""

CLIENTS: tuple[str, ...] = ("beaver", "alien", "giraffe")
"""Client (holder) names, after the pictures in Skinny's documentation."""

ASSUMED_RTT_MS: dict[tuple[str, str], float] = {
    ("london", "oregon"): 140,
    ("london", "spaulo"): 190,
    ("london", "sydney"): 270,
    ("london", "taiwan"): 230,
    ("london", "virginia"): 75,
    ("london", "mumbai"): 115,
    ("oregon", "spaulo"): 180,
    ("oregon", "sydney"): 160,
    ("oregon", "taiwan"): 130,
    ("oregon", "virginia"): 70,
    ("oregon", "mumbai"): 220,
    ("spaulo", "sydney"): 310,
    ("spaulo", "taiwan"): 300,
    ("spaulo", "virginia"): 120,
    ("spaulo", "mumbai"): 300,
    ("sydney", "taiwan"): 130,
    ("sydney", "virginia"): 200,
    ("sydney", "mumbai"): 150,
    ("taiwan", "virginia"): 200,
    ("taiwan", "mumbai"): 90,
    ("virginia", "mumbai"): 190,
}
"""Round-trip times in ms between instances. ASSUMPTION: Skinny's repository gives no
latencies; these are our rough guesses for cloud regions in those places. A message
takes half the round trip, times the latency scale."""

PARTITIONS: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "none": ("no partition", ()),
    "london": ("london cut off", (("london",),)),
    "americas": ("the Americas cut off", (("oregon", "spaulo", "virginia"),)),
    "asia_pacific": ("Asia-Pacific cut off", (("sydney", "taiwan", "mumbai"),)),
    "three_way": (
        "three-way split",
        (("london", "oregon", "virginia"), ("spaulo",), ("sydney", "taiwan", "mumbai")),
    ),
}
"""Partition presets: value -> (label, groups). Instances in no group form one more
group; messages between groups are dropped."""

LINK_MODES: tuple[str, ...] = ("normal", "slow", "lossy")
"""What the per-link action cycles through."""
SLOW_LINK_FACTOR = 4.0
LOSSY_LINK_LOSS = 0.5


def rtt(a: str, b: str) -> float:
    """The assumed round-trip time between instances ``a`` and ``b`` in ms."""
    return ASSUMED_RTT_MS[(a, b)] if (a, b) in ASSUMED_RTT_MS else ASSUMED_RTT_MS[(b, a)]


def link_key(a: str, b: str) -> tuple[str, str]:
    """A link's name, independent of direction, in the order of :data:`INSTANCES`."""
    order = [name for name, _ in INSTANCES]
    return (a, b) if order.index(a) < order.index(b) else (b, a)


def fmt_ms(t: float) -> str:
    """Simulated time for people: whole ms when whole, else one decimal."""
    return f"{t:.0f}" if abs(t - round(t)) < 1e-6 else f"{t:.1f}"


# --- the pieces ---------------------------------------------------------------------


@dataclass(eq=False)
class Operation:
    """One client call (Acquire or Release) on one instance (lock.go); what
    :meth:`Cluster.request` hands back, so a program can wait for its answer."""

    kind: str  # "acquire" | "release"
    client: str
    instance: str
    retries: int = 0
    state: str = "queued"  # queued | proposing | committing | sleeping | unanswered | done
    round: Round | None = None
    wake: Event | None = None
    asked_at: float = 0.0
    answer: str | None = None
    """None while pending; then "acquired", "not acquired", "released", "not released"
    or "error" (the instance was down or went down)."""
    holder: str = ""
    """The holder the answer named ("" for none)."""
    answered_at: float | None = None

    @property
    def attempts(self) -> int:
        """Promise rounds it took: the first one plus each retry."""
        return self.retries + 1

    @property
    def answered(self) -> bool:
        return self.answer is not None


@dataclass(eq=False)
class Round:
    """One promise or commit round of a proposer, sharing one deadline (consensus.go)."""

    phase: str  # "promise" | "commit"
    op: Operation
    id: int
    holder: str = ""
    waiting: set[str] = field(default_factory=set)
    yes: int = 1  # the proposer counts itself in both phases
    no: int = 0
    open: bool = True
    deadline: Event | None = None


@dataclass(eq=False)
class Message:
    """A request or reply between two instances.

    ``kind`` is "promise" or "commit" (requests), "vote" or "stored" (their replies)
    or "error" (the connection was refused or reset). Replies keep the ``round``
    they answer so a proposer can tell a late reply from a current one.
    """

    kind: str
    src: str
    dst: str
    id: int
    round: Round
    holder: str = ""
    ok: bool = False
    known_id: int = 0
    known_holder: str = ""
    sent: float = 0.0
    arrives: float = 0.0
    fate: str = "arrive"  # arrive | lost | cut

    def label(self) -> str:
        """How the view labels the message on its link."""
        if self.kind == "promise":
            return f"promise {self.id}"
        if self.kind == "commit":
            return f"commit {self.id}"
        if self.kind == "vote":
            return "yes" if self.ok else "no"
        if self.kind == "stored":
            return "ok" if self.ok else "refused"
        return "error"


@dataclass(eq=False)
class Instance:
    """One Skinny instance: ``New`` in skinny.go plus its mutex and who waits for it."""

    name: str
    increment: int
    promised: int = 0
    id: int = 0
    holder: str = ""
    up: bool = True
    gone: bool = False
    """Down as a host that is gone (messages to it are lost), not a crashed process."""
    owner: Operation | None = None  # the Acquire/Release holding the mutex
    waiting: deque = field(default_factory=deque)  # Messages and Operations, FIFO
    restarts: int = 0

    def clear(self) -> None:
        """A restart: Skinny keeps its state in memory only."""
        self.promised, self.id, self.holder = 0, 0, ""

    def promise(self, pid: int) -> bool:
        """consensus.go Promise: yes only for an ID strictly above ``promised``."""
        if pid > self.promised:
            self.promised = pid
            return True
        return False

    def known(self) -> tuple[int, str]:
        """The committed pair a Promise reply carries; ``(0, "")`` before any commit."""
        return (self.id, self.holder) if self.id > 0 else (0, "")

    def commit(self, cid: int, holder: str) -> bool:
        """consensus.go Commit: store the pair if ``cid >= promised``, leaving
        ``promised`` alone; the reply says whether the stored ID now equals ``cid``."""
        if cid >= self.promised:
            self.id, self.holder = cid, holder
        return cid == self.id


# --- the cluster --------------------------------------------------------------------


class Cluster:
    """A Skinny cluster of 3 to 7 instances, their links and their clients."""

    def __init__(
        self,
        rng: random.Random,
        instances: int = 5,
        latency_scale: float = 1.0,
        loss: float = 0.0,
        partition: str = "none",
        timeout_ms: float = TIMEOUT_MS,
    ) -> None:
        if not 3 <= instances <= len(INSTANCES):
            raise ValueError(f"instances must be 3 to {len(INSTANCES)}, not {instances}")
        self.rng = rng
        self.now = 0.0
        self.timeout_ms = timeout_ms
        self.latency_scale = latency_scale
        self.loss = loss
        self.partition = "none"
        self.set_partition(partition)
        self.instances: dict[str, Instance] = {
            name: Instance(name, inc) for name, inc in INSTANCES[:instances]
        }
        self.links: dict[tuple[str, str], str] = {}  # only links not "normal"
        self.latencies: dict[tuple[str, str], float] = {}  # one-way ms set per direction
        self.in_flight: dict[int, Message] = {}
        self.answers: dict[str, str] = {}  # client -> the last answer it got
        self.requests: list[Operation] = []
        """Every client call so far, with its answer once given."""
        self.believers: dict[str, str] = {}
        """Clients told "acquired" and not told "released" since -> the instance."""
        self.marks: list[tuple[float, str, str]] = []
        """Notable events for a timeline: (time, name, detail)."""
        self.log: deque[tuple[float, str]] = deque(maxlen=2000)
        self._quiet_until = 0.0
        # Events of kind client | deliver | deadline | wake; cancelled ones cost no step.
        self._queue = EventQueue()
        self._sent = 0  # messages sent so far; names them in ``in_flight``

    # --- the kernel -----------------------------------------------------------------

    def _schedule(self, time: float, kind: str, payload: object) -> Event:
        # Whole microseconds, as Go's timers; it also keeps float sums from drifting.
        return self._queue.schedule(round(time, 3), kind, payload)

    def _note(self, text: str) -> None:
        self.log.append((self.now, text))

    @property
    def done(self) -> bool:
        """True once nothing is pending and a quiet second has passed; a client
        request or any other action makes the cluster busy again."""
        return self._next_time() is None

    def _next_time(self) -> float | None:
        when = self._queue.peek()
        if when is not None:
            return when
        if self._quiet_until - self.now > 1e-6:
            return round(min(self.now + IDLE_TICK_MS, self._quiet_until), 3)
        return None

    def step(self) -> None:
        """Process the next event, or let quiet time pass; does nothing once done."""
        when = self._next_time()
        if when is None:
            return
        if not self._queue:
            # Nothing happens, but simulated time moves on, so that a scenario's later
            # cues still come due when a run settles sooner than the script expected.
            self.now = when
            return
        event = self._queue.pop()
        self.now = when
        handler = getattr(self, "_on_" + event.kind)
        handler(event.payload)
        self._busy()

    def _busy(self) -> None:
        # Rounded like event times, so the idle ticks land on it exactly.
        self._quiet_until = round(self.now + QUIET_MS, 3)

    def run(self, until: float | None = None, max_steps: int = 100_000) -> int:
        """Step until done (or until the next step would pass simulated time ``until``);
        returns the number of steps run."""
        steps = 0
        while steps < max_steps:
            when = self._next_time()
            if when is None or (until is not None and when > until):
                break
            self.step()
            steps += 1
        return steps

    # --- quorum and network ---------------------------------------------------------

    @property
    def size(self) -> int:
        """Instances in the cluster (each one's peers are all the others)."""
        return len(self.instances)

    def is_majority(self, votes: int) -> bool:
        """skinny.go ``isMajority``: ``n > (len(peers)+1)/2`` in integer arithmetic."""
        return votes > ((self.size - 1) + 1) // 2

    @property
    def quorum(self) -> int:
        """The smallest number of votes that is a majority."""
        return self.size // 2 + 1

    def set_partition(self, preset: str) -> None:
        """Apply a partition preset from :data:`PARTITIONS`."""
        if preset not in PARTITIONS:
            raise ValueError(f"unknown partition {preset!r}; allowed: {', '.join(PARTITIONS)}")
        self.partition = preset
        self._side = {}
        for index, group in enumerate(PARTITIONS[preset][1], start=1):
            for name in group:
                self._side[name] = index

    def partitioned(self, a: str, b: str) -> bool:
        """True if the current partition separates ``a`` and ``b``."""
        return self._side.get(a, 0) != self._side.get(b, 0)

    def link_mode(self, a: str, b: str) -> str:
        """ "normal", "slow" or "lossy" for the link between ``a`` and ``b``."""
        return self.links.get(link_key(a, b), "normal")

    def latency(self, a: str, b: str) -> float:
        """One-way delay from ``a`` to ``b`` in ms: half the assumed round trip, or the
        delay set for this direction with :meth:`set_latency`."""
        factor = SLOW_LINK_FACTOR if self.link_mode(a, b) == "slow" else 1.0
        base = self.latencies.get((a, b))
        if base is None:
            base = rtt(a, b) / 2
        return base * self.latency_scale * factor

    def set_latency(self, src: str, dst: str, ms: float) -> None:
        """Give the direction ``src`` -> ``dst`` its own one-way delay (ASSUMPTION-free:
        the reader's or a test's number), e.g. an asymmetric route."""
        if src not in self.instances or dst not in self.instances or src == dst:
            raise ValueError(f"there is no link {src}->{dst} in a cluster of {self.size}")
        if not ms >= 0 or ms == float("inf"):
            raise ValueError(f"latency {ms!r} ms is not a finite number >= 0")
        self.latencies[(src, dst)] = float(ms)
        self._note(f"{src} -> {dst} now takes {ms:g} ms one way")

    def _send(self, message: Message) -> None:
        message.sent = self.now
        delay = self.latency(message.src, message.dst)
        loss = LOSSY_LINK_LOSS if self.link_mode(message.src, message.dst) == "lossy" else 0.0
        loss = 1 - (1 - loss) * (1 - self.loss)
        # Only draw when loss is possible, so loss-free runs use the RNG for retry
        # jitter alone and their traces stay easy to read.
        if loss > 0 and self.rng.random() < loss:
            message.fate = "lost"
        elif self.partitioned(message.src, message.dst):
            message.fate = "cut"
        # A dropped message vanishes halfway along its link, where the reader sees it go.
        message.arrives = round(self.now + (delay if message.fate == "arrive" else delay / 2), 3)
        self._sent += 1
        self.in_flight[self._sent] = message
        self._queue.schedule(message.arrives, "deliver", (self._sent, message))

    # --- client side ----------------------------------------------------------------

    def request(self, kind: str, instance: str, client: str) -> Operation | None:
        """A client sends Acquire or Release to ``instance``; it arrives as the next event.
        Returns the call's handle (None if there is no such instance)."""
        if kind not in ("acquire", "release"):
            raise ValueError(f"unknown request {kind!r}")
        if instance not in self.instances:
            self._note(f"there is no {instance} in a cluster of {self.size}")
            return None
        self.answers[client] = f"waiting on {instance}"
        op = Operation(kind, client, instance, asked_at=self.now)
        self.requests.append(op)
        self._schedule(self.now, "client", op)
        return op

    def _fail(self, op: Operation, why: str) -> None:
        op.state = "done"
        op.answer, op.answered_at = "error", self.now
        self.answers[op.client] = f"error: {why}"

    def _on_client(self, op: Operation) -> None:
        inst = self.instances[op.instance]
        verb = "for the lock" if op.kind == "acquire" else "to release the lock"
        if inst.gone:
            self._note(f"{op.client} asks {inst.name} {verb}: no answer, the host is gone")
            op.state = "unanswered"
            self._schedule(self.now + self.timeout_ms, "client_timeout", op)
            return
        if not inst.up:
            self._note(f"{op.client} asks {inst.name} {verb}: {inst.name} is down")
            self._fail(op, f"{inst.name} is down")
            return
        self._note(f"{op.client} asks {inst.name} {verb}")
        self._want_mutex(inst, op)

    def _on_client_timeout(self, op: Operation) -> None:
        self._note(f"{op.client} gives up on {op.instance} after {fmt_ms(self.timeout_ms)} ms")
        self._fail(op, f"{op.instance} did not answer")

    def _answer(self, op: Operation) -> None:
        """lock.go: the reply reads the instance's own state, whatever the commit did."""
        inst = self.instances[op.instance]
        op.state = "done"
        holder = inst.holder or "none"
        if op.kind == "acquire":
            acquired = inst.holder == op.client
            verdict = "acquired" if acquired else "not acquired"
        else:
            verdict = "released" if inst.holder == "" else "not released"
        self.answers[op.client] = f"{verdict}, holder {holder} (via {inst.name})"
        self._note(f"{inst.name} answers {op.client}: {verdict}, holder {holder}")
        op.answer, op.holder, op.answered_at = verdict, inst.holder, self.now
        if verdict == "acquired":
            others = [c for c in self.believers if c != op.client]
            self.believers[op.client] = inst.name
            self.marks.append((self.now, "granted", f"{op.client} via {inst.name}"))
            if others:
                both = " and ".join([*others, op.client])
                self.marks.append((self.now, "two_holders", f"{both} were all told yes"))
        elif verdict == "released":
            self.believers.pop(op.client, None)

    # --- the instance mutex ---------------------------------------------------------

    def _want_mutex(self, inst: Instance, item: Operation | Message) -> None:
        if inst.owner is None and not inst.waiting:
            self._take(inst, item)
            self._drain(inst)
            return
        inst.waiting.append(item)
        if isinstance(item, Message):
            self._note(f"{item.label()} from {item.src} waits: {inst.name} is busy")
        elif item.state == "queued":
            self._note(f"{item.client}'s request waits: {inst.name} is busy")
        else:
            self._note(f"{inst.name} waits for its own lock to retry")

    def _take(self, inst: Instance, item: Operation | Message) -> None:
        if isinstance(item, Message):
            self._handle_request(inst, item)
            return
        inst.owner = item
        if item.state != "queued":
            self._note(f"{inst.name} retries ({item.retries} of {MAX_RETRIES})")
        self._propose(inst, item)

    def _release_mutex(self, inst: Instance) -> None:
        inst.owner = None
        self._drain(inst)

    def _drain(self, inst: Instance) -> None:
        # Peer handlers take the mutex only briefly; a client call keeps it, so stop there.
        while inst.up and inst.owner is None and inst.waiting:
            self._take(inst, inst.waiting.popleft())

    # --- the acceptor side (consensus.go Promise and Commit) ------------------------

    def _on_deliver(self, payload: tuple[int, Message]) -> None:
        key, message = payload
        del self.in_flight[key]
        if message.fate == "lost":
            self._note(f"{message.label()} from {message.src} to {message.dst} is lost")
            return
        if message.fate == "cut" or self.partitioned(message.src, message.dst):
            self._note(f"{message.label()} from {message.src} to {message.dst} hits the partition")
            return
        inst = self.instances[message.dst]
        if inst.gone:
            # Nobody answers for a host that is gone; the sender waits out its timeout.
            self._note(f"{message.label()} from {message.src} to {inst.name} is lost: host gone")
            return
        if message.kind in ("promise", "commit"):
            if not inst.up:
                self._note(f"{inst.name} is down: {message.label()} from {message.src} refused")
                self._reply(message, "error")
                return
            self._want_mutex(inst, message)
        else:
            self._on_reply(inst, message)

    def _reply(self, request: Message, kind: str, **fields: object) -> None:
        reply = Message(kind, request.dst, request.src, request.id, request.round, **fields)
        self._send(reply)

    def _handle_request(self, inst: Instance, message: Message) -> None:
        if message.kind == "promise":
            self._handle_promise(inst, message)
        else:
            self._handle_commit(inst, message)

    def _handle_promise(self, inst: Instance, message: Message) -> None:
        known_id, known_holder = inst.known()
        known = f"knows {known_id}: {known_holder or 'free'}" if known_id else ""
        before = inst.promised
        ok = inst.promise(message.id)
        if ok:
            detail = f" ({known})" if known else ""
            self._note(f"{inst.name} promises {message.id} to {message.src}{detail}")
        else:
            detail = "; ".join(part for part in (f"promised {before}", known) if part)
            self._note(f"{inst.name} refuses {message.id} to {message.src} ({detail})")
        # The committed pair rides along whatever the answer.
        self._reply(message, "vote", ok=ok, known_id=known_id, known_holder=known_holder)

    def _handle_commit(self, inst: Instance, message: Message) -> None:
        value = message.holder or "free"
        if message.id >= inst.promised:
            self._note(f"{inst.name} stores {message.id}: {value} from {message.src}")
        else:
            self._note(
                f"{inst.name} refuses commit {message.id}: {value} from {message.src}"
                f" (promised {inst.promised})"
            )
        ok = inst.commit(message.id, message.holder)
        self._reply(message, "stored", ok=ok)

    # --- the proposer side (consensus.go propose and commit) ------------------------

    def _propose(self, inst: Instance, op: Operation) -> None:
        inst.promised += inst.increment
        op.state = "proposing"
        rnd = Round("promise", op, inst.promised)
        op.round = rnd
        self._note(f"{inst.name} asks for votes on {rnd.id}")
        self._open(inst, rnd, "promise")

    def _open(self, inst: Instance, rnd: Round, kind: str) -> None:
        for peer in self.instances:
            if peer != inst.name:
                rnd.waiting.add(peer)
                self._send(Message(kind, inst.name, peer, rnd.id, rnd, holder=rnd.holder))
        rnd.deadline = self._schedule(self.now + self.timeout_ms, "deadline", rnd)

    def _current(self, inst: Instance, rnd: Round) -> bool:
        return inst.up and rnd.open and inst.owner is rnd.op and rnd.op.round is rnd

    def _on_reply(self, inst: Instance, message: Message) -> None:
        rnd = message.round
        what = {"vote": "yes" if message.ok else "no", "stored": "ok" if message.ok else "refusal"}
        word = what.get(message.kind, "error")
        if not inst.up:
            self._note(f"{inst.name} is down: {message.src}'s {word} on {message.id} is dropped")
            return
        if not self._current(inst, rnd):
            self._note(f"{inst.name} ignores {message.src}'s {word} on {message.id}: round over")
            return
        rnd.waiting.discard(message.src)
        if message.ok:
            rnd.yes += 1
        else:
            rnd.no += 1
        if rnd.phase == "commit":
            if message.kind == "error":
                self._note(f"{inst.name} hears an error from {message.src} on commit {rnd.id}")
            else:
                verb = "stored" if message.ok else "refused"
                self._note(f"{inst.name} hears {message.src} {verb} {rnd.id}")
            if not rnd.waiting:
                self._end_commit(inst, rnd)
            return
        self._note(
            f"{inst.name} counts {message.src}'s {word} on {rnd.id} ({rnd.yes} yes, {rnd.no} no)"
        )
        # Learn from any reply, yes or no, that knows a newer committed pair.
        if message.known_id > inst.id:
            inst.id, inst.holder = message.known_id, message.known_holder
            self._note(f"{inst.name} learns {inst.id}: {inst.holder or 'free'} from {message.src}")
        # Skinny cancels the outstanding calls as soon as either side has a majority.
        if self.is_majority(rnd.yes) or self.is_majority(rnd.no) or not rnd.waiting:
            self._end_promise(inst, rnd)

    def _on_deadline(self, rnd: Round) -> None:
        inst = self.instances[rnd.op.instance]
        if not self._current(inst, rnd):
            return
        late = ", ".join(sorted(rnd.waiting))
        if rnd.phase == "promise":
            # A call that hit the deadline is an error, and errors count as no.
            rnd.no += len(rnd.waiting)
            self._note(f"{inst.name} gives up on {late} after {fmt_ms(self.timeout_ms)} ms: no")
            rnd.waiting.clear()
            self._end_promise(inst, rnd)
        else:
            # In the commit phase a timed-out call is simply not counted.
            self._note(f"{inst.name} stops waiting for {late} on commit {rnd.id}")
            rnd.waiting.clear()
            self._end_commit(inst, rnd)

    def _close(self, rnd: Round) -> None:
        rnd.open = False
        if rnd.deadline is not None:
            rnd.deadline.cancel()

    def _end_promise(self, inst: Instance, rnd: Round) -> None:
        self._close(rnd)
        op = rnd.op
        won = self.is_majority(rnd.yes)
        result = "wins" if won else "loses"
        self._note(f"{inst.name} {result} the vote on {rnd.id} ({rnd.yes} yes, {rnd.no} no)")
        if inst.id > inst.promised:
            inst.promised = inst.id
            self._note(f"{inst.name} jumps promised to {inst.promised}")
        if won:
            # lock.go: a free lock goes to the requester, a held one is re-committed as is.
            if op.kind == "acquire":
                holder = op.client if inst.holder == "" else inst.holder
            else:
                holder = ""
            self._commit(inst, op, inst.promised, holder)
        elif op.retries < MAX_RETRIES:
            op.retries += 1
            # Go: retries*2 ms plus rand.Int63n(1000) microseconds.
            sleep = op.retries * 2 + self.rng.randrange(1000) / 1000
            op.state = "sleeping"
            op.round = None
            op.wake = self._schedule(self.now + sleep, "wake", op)
            self._note(f"{inst.name} sleeps {sleep:.3f} ms before retry {op.retries}")
            # The mutex is released only for the sleep, so peers get answers meanwhile.
            self._release_mutex(inst)
        else:
            op.round = None
            self._answer(op)
            self._release_mutex(inst)

    def _commit(self, inst: Instance, op: Operation, cid: int, holder: str) -> None:
        op.state = "committing"
        rnd = Round("commit", op, cid, holder=holder)
        op.round = rnd
        # The proposer writes its own state first and counts it as a yes.
        inst.id, inst.holder = cid, holder
        self._note(f"{inst.name} commits {cid}: {holder or 'free'}")
        self._open(inst, rnd, "commit")

    def _end_commit(self, inst: Instance, rnd: Round) -> None:
        self._close(rnd)
        # lock.go throws the commit result away; say what it was, since nobody checks.
        self._note(
            f"{inst.name} ends commit {rnd.id}: stored on {rnd.yes} of {self.size} (not checked)"
        )
        rnd.op.round = None
        self._answer(rnd.op)
        self._release_mutex(inst)

    def _on_wake(self, op: Operation) -> None:
        inst = self.instances[op.instance]
        op.wake = None
        self._note(f"{inst.name} wakes for retry {op.retries}")
        self._want_mutex(inst, op)

    # --- the reader's hands ---------------------------------------------------------

    def stop(self, name: str, gone: bool = False) -> None:
        """Stop an instance. A crashed process (the default): its calls fail, waiting
        peers and clients get an error at once, later calls are refused. A host that is
        gone (``gone=True``): the same inside, but nothing answers for it: messages to it
        are lost and callers wait out their timeouts."""
        inst = self.instances.get(name)
        if inst is None:
            self._note(f"there is no {name} in a cluster of {self.size}")
            return
        if not inst.up:
            self._note(f"{name} is already down")
            return
        inst.up = False
        inst.gone = gone
        self._note(f"{name} is gone: its host no longer answers" if gone else f"{name} stops")
        self.marks.append((self.now, "stopped", name))
        ops = [inst.owner] if inst.owner is not None else []
        for item in inst.waiting:
            if isinstance(item, Message):
                if not gone:
                    # The connection resets under the waiting call: an error for its sender.
                    self._reply(item, "error")
            else:
                ops.append(item)
        inst.waiting.clear()
        inst.owner = None
        # An operation sleeping before a retry holds no mutex but dies with the process.
        for op_ in self._operations_on(name):
            if op_ not in ops:
                ops.append(op_)
        for op_ in ops:
            if op_.round is not None:
                self._close(op_.round)
            if op_.wake is not None:
                op_.wake.cancel()
            self._fail(op_, f"{name} went down")

    def _operations_on(self, name: str) -> list[Operation]:
        return [
            event.payload
            for event in self._queue
            if event.kind == "wake" and event.payload.instance == name
        ]

    def restart(self, name: str) -> None:
        """(Re)start an instance with empty state, as a fresh Skinny process has."""
        inst = self.instances.get(name)
        if inst is None:
            self._note(f"there is no {name} in a cluster of {self.size}")
            return
        if inst.up:
            self.stop(name)
        inst.clear()
        inst.up = True
        inst.gone = False
        inst.restarts += 1
        self._note(f"{name} restarts with empty state")

    def cycle_link(self, a: str, b: str) -> str:
        """Move a link to its next mode (normal, slow, lossy); returns the new mode."""
        if a not in self.instances or b not in self.instances or a == b:
            self._note(f"there is no link {a}-{b} in a cluster of {self.size}")
            return "normal"
        key = link_key(a, b)
        mode = LINK_MODES[(LINK_MODES.index(self.link_mode(a, b)) + 1) % len(LINK_MODES)]
        if mode == "normal":
            self.links.pop(key, None)
        else:
            self.links[key] = mode
        detail = {
            "normal": "back to normal",
            "slow": f"slow (x{SLOW_LINK_FACTOR:g} latency)",
            "lossy": f"lossy ({LOSSY_LINK_LOSS:.0%} loss)",
        }
        self._note(f"link {key[0]}-{key[1]} is {detail[mode]}")
        return mode

    # --- what the view reads --------------------------------------------------------

    def messages(self) -> list[Message]:
        """Messages on the wire, oldest first."""
        return list(self.in_flight.values())

    def operations(self) -> list[Operation]:
        """Client calls in progress: holding a mutex, waiting for one, or sleeping."""
        found: list[Operation] = []
        for inst in self.instances.values():
            if inst.owner is not None:
                found.append(inst.owner)
            found.extend(item for item in inst.waiting if isinstance(item, Operation))
        for event in self._queue:
            if event.kind in ("wake", "client", "client_timeout"):
                found.append(event.payload)
        return found

    # --- the demokit Simulation protocol --------------------------------------------

    def act_at(self, time: float, action: str, arg: str | None = None) -> None:
        """Schedule a reader's action at absolute simulated ``time`` (ms, not before now)."""
        if time < self.now:
            raise ValueError(f"time {time:g} ms is in the past; now is {fmt_ms(self.now)} ms")
        self._schedule(time, "action", (action, arg))

    def _on_action(self, payload: tuple[str, str | None]) -> None:
        self.act(*payload)

    def act(self, action: str, arg: str | None) -> None:
        """Apply a reader's action: acquire/release ("instance:client"), stop/restart
        ("instance") or link ("a-b", cycling its mode)."""
        self._busy()
        if action in ("acquire", "release"):
            instance, _, client = (arg or "london:beaver").partition(":")
            self.request(action, instance, client or CLIENTS[0])
        elif action == "stop":
            self.stop(arg or INSTANCES[0][0])
        elif action == "vanish":
            self.stop(arg or INSTANCES[0][0], gone=True)
        elif action == "restart":
            self.restart(arg or INSTANCES[0][0])
        elif action == "link":
            a, _, b = (arg or "london-oregon").partition("-")
            self.cycle_link(a, b)
        else:
            raise ValueError(f"unknown action {action!r}")

    def set_param(self, name: str, value: object) -> None:
        """Change a live parameter: latency_scale, loss or partition."""
        if name == "latency_scale":
            self.latency_scale = float(value)
        elif name == "loss":
            self.loss = float(value)
        elif name == "partition":
            self.set_partition(str(value))
        else:
            raise ValueError(f"{name} cannot change while the simulation runs")
        self._note(f"{name.replace('_', ' ')} set to {value}")
