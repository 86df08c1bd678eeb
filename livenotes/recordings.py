"""Recorded runs: what a demo shows, computed at build time by CPython, so a reader can
play it at once, with no Python runtime in the browser.

A recording is the run of one setup (demo, scenario, parameters, seed) with no reader
inputs, one frame every ``stride`` steps, where ``stride`` is how many steps the widget
advances per frame when it plays at 1x (``steps_per_second`` / 30 frames a second, at
least one). Its length is the scenario's ``record_steps``, or by default thirty seconds
of play at 1x, or less when the run ends first.

Frames are stored compactly: the first SVG as a list of tokens (the text up to and
including each ``>``), every later one as edits to the previous frame's tokens
(``[i1, i2, [new tokens]]``: tokens ``i1..i2`` replaced, as ``difflib`` finds them), and
of the rest of a snapshot only what changed. ``demos.js`` (``Recording``) decodes it;
:func:`decode` here is the same algorithm in Python, and the tests hold the two to the
frames the live run gives, byte for byte.

Recordings are cached on disk under ``<runtime_cache>/recordings/`` by a digest of the
demo's code, the kit's code and the setup, so an unchanged site rebuilds without
recording again.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import json
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import demokit
from demokit import Demo, Runner
from livenotes.cachefiles import write_atomic
from livenotes.demos import DemoPackage, _sources

FORMAT = 1
"""Raised when the encoding changes: the digest includes it, so old files are ignored."""
FRAMES_PER_SECOND = 30
"""The rate the widget draws at while playing (``TICK_MS`` in demos.js)."""
DEFAULT_SECONDS = 30
"""A recording's length, in seconds of play at 1x, when a scenario does not say."""
_TOKEN = re.compile(r"(?<=>)")


class _TooLong(Exception):
    pass


@dataclass(frozen=True)
class Setup:
    """What a recording shows: a demo's run, with no reader inputs."""

    demo: str
    scenario: str
    params: tuple[tuple[str, object], ...]  # every parameter, resolved, sorted by name
    seed: int

    @classmethod
    def of(cls, demo: Demo, scenario: str | None, params: dict, seed: int | None) -> Setup:
        chosen = demo.scenario(scenario)
        resolved = demo.resolve({**chosen.params, **params})
        return cls(
            demo.name,
            chosen.name,
            tuple(sorted(resolved.items())),
            demo.seed if seed is None else seed,
        )


def stride(demo: Demo) -> int:
    return max(1, math.ceil(demo.steps_per_second / FRAMES_PER_SECOND))


def length(demo: Demo, scenario: str) -> int:
    """Steps a recording of ``scenario`` covers (at most; the run may end first)."""
    chosen = demo.scenario(scenario)
    if chosen.record_steps:
        return chosen.record_steps
    return max(chosen.preview_steps, math.ceil(demo.steps_per_second * DEFAULT_SECONDS))


def _tokens(svg: str) -> list[str]:
    return [token for token in _TOKEN.split(svg) if token]


def _edits(before: list[str], after: list[str]) -> list:
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [
        [i1, i2, after[j1:j2]] for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]


def _apply(tokens: list[str], edits: list) -> list[str]:
    """``tokens`` with ``edits`` made, last first so that earlier indices hold."""
    result = list(tokens)
    for i1, i2, new in reversed(edits):
        result[i1:i2] = new
    return result


_FIELDS = (("status", "s"), ("metrics", "m"), ("log", "l"), ("values", "v"))


def record(package: DemoPackage, setup: Setup, seconds: float = 10.0) -> dict:
    """The recording of ``setup`` as JSON-able data (see the module docstring). A run
    that raises, or takes over ``seconds``, is recorded up to its last good frame: past
    it the widget hands over to the Python runtime, which shows what went wrong."""
    from livenotes.limits import Deadline

    demo = package.demo
    assert demo is not None
    every, end = stride(demo), length(demo, setup.scenario)
    runner = Runner(demo, setup.scenario, dict(setup.params), setup.seed)
    frames, at = [], []
    previous: dict | None = None
    tokens: list[str] = []
    broke = False
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        Deadline(seconds, _TooLong),
    ):
        while True:
            snapshot = runner.snapshot()
            frame: dict = {"n": snapshot["now"]}
            new_tokens = _tokens(snapshot["svg"])
            if previous is None:
                frame["t"] = new_tokens
            else:
                frame["d"] = _edits(tokens, new_tokens)
            tokens = new_tokens
            for name, key in _FIELDS:
                value = snapshot.get(name, [] if name == "values" else None)
                if previous is None or previous.get(name, []) != value:
                    frame[key] = value
            if snapshot["done"]:
                frame["done"] = True
            frames.append(frame)
            at.append(runner.steps)
            previous = snapshot
            if runner.sim.done or runner.steps >= end:
                break
            try:
                runner.step(min(every, end - runner.steps))
            except (Exception, _TooLong):
                broke = True
                break
    return {
        "format": FORMAT,
        "demo": demo.name,
        "version": demo.version,
        "scenario": setup.scenario,
        "params": dict(setup.params),
        "seed": setup.seed,
        "stride": every,
        "at": at,
        "frames": frames,
        "timeline": [m for m in runner.timeline() if m["step"] <= at[-1]]
        if broke
        else runner.timeline(),
        "done": bool(runner.sim.done) and not broke,
    }


def decode(recording: dict) -> list[dict]:
    """Every frame of ``recording`` as the snapshot the live run gave at its step (the
    algorithm of ``Recording`` in demos.js)."""
    snapshots, tokens, current = [], [], {}
    for step, frame in zip(recording["at"], recording["frames"], strict=True):
        tokens = frame["t"] if "t" in frame else _apply(tokens, frame["d"])
        for name, key in _FIELDS:
            if key in frame:
                current[name] = frame[key]
        snapshot = {
            "svg": "".join(tokens),
            "status": current["status"],
            "metrics": current["metrics"],
            "log": current["log"],
            "now": frame["n"],
            "steps": step,
            "done": bool(frame.get("done")),
        }
        if current.get("values"):
            snapshot["values"] = current["values"]
        snapshots.append(snapshot)
    return snapshots


def digest(package: DemoPackage, setup: Setup) -> str:
    """Names a recording by everything it depends on."""
    kit = _sources(Path(demokit.__file__).parent, "demokit")
    hasher = hashlib.sha256(f"recording {FORMAT}\n".encode())
    for name, data in [*kit, *package.sources]:
        hasher.update(f"{name}\n{len(data)}\n".encode())
        hasher.update(data)
    hasher.update(json.dumps([setup.scenario, setup.params, setup.seed], default=str).encode())
    return hasher.hexdigest()[:20]


KEEP_DAYS = 14
"""A cached recording no build has used for this long is deleted (by :func:`prune`):
each change of a demo's or the kit's code records every run again, under new names."""


def recorded(package: DemoPackage, setup: Setup, cache: Path) -> Path:
    """The recording's file in ``cache``, recorded now if it is not there yet; a file
    found is marked as used now (its modification time), for :func:`prune`."""
    path = cache / f"{setup.demo}-{digest(package, setup)}.json"
    if path.is_file():
        with contextlib.suppress(OSError):  # a read-only cache is still a cache
            os.utime(path)
    else:
        cache.mkdir(parents=True, exist_ok=True)
        recording = record(package, setup)
        data = json.dumps(recording, separators=(",", ":"), ensure_ascii=False)
        write_atomic(path, data)
        write_atomic(_header_path(path), json.dumps(_head(recording)))
    return path


def prune(cache: Path, keep: set[Path], now: float | None = None) -> list[Path]:
    """Delete the recordings in ``cache`` (and their ``.head`` files) that are not in
    ``keep`` and that no build has used for :data:`KEEP_DAYS` days; returns them.
    Sites that share a cache keep what any of them used lately."""
    cutoff = (time.time() if now is None else now) - KEEP_DAYS * 86_400
    removed = []
    for path in sorted(cache.glob("*.json")):
        try:
            stale = path not in keep and path.stat().st_mtime < cutoff
        except OSError:
            continue
        if stale:
            for old in (path, _header_path(path)):
                with contextlib.suppress(OSError):
                    old.unlink()
            removed.append(path)
    return removed


def for_site(
    index, cache: Path
) -> tuple[dict[str, list[dict]], list[tuple[str, Path]], list, list[tuple[Setup, int, bool]]]:
    """Every recording a site's embeds need: each embed's own setup and every declared
    scenario of the demos embedded. Returns, per demo, what the widget is told about
    each (``url`` the file's path in the site), the files to add, the problems, and how
    far each recorded run reached (its last frame's step, and whether it ended there)."""
    from livenotes.frontmatter import Problem

    wanted: dict[Setup, object] = {}
    seen: set[tuple] = set()  # copies of a note embed the same demo the same way
    for embeds in index.embeds.values():
        for embed in embeds:
            settings = (embed.name, embed.scenario, repr(embed.params), embed.seed)
            if settings in seen:
                continue
            seen.add(settings)
            demo = index.demos[embed.name].demo
            own = Setup.of(demo, embed.scenario, embed.params, embed.seed)
            wanted.setdefault(own, embed)
            for scenario in demo.scenarios:
                wanted.setdefault(Setup.of(demo, scenario.name, {}, None), embed)
    entries: dict[str, list[dict]] = {}
    files, problems, reached = [], [], []
    for setup, embed in sorted(wanted.items(), key=lambda item: repr(item[0])):
        package = index.demos[setup.demo]
        try:
            path = recorded(package, setup, cache)
        except Exception as error:  # the first frame itself fails: the demo's fault
            problems.append(
                Problem(
                    embed.path,
                    embed.line,
                    f"demo block: recording {setup.demo}/{setup.scenario} raised "
                    f"{type(error).__name__}: {error}",
                )
            )
            continue
        head = _header(path)
        site_path = f"assets/livenotes/recordings/{path.name}"
        files.append((site_path, path))
        entries.setdefault(setup.demo, []).append(
            {
                "scenario": setup.scenario,
                "params": dict(setup.params),
                "seed": setup.seed,
                "stride": head["stride"],
                "end": head["end"],
                "bytes": path.stat().st_size,
                "url": site_path,
            }
        )
        reached.append((setup, head["end"], head["done"]))
    if cache.is_dir():
        prune(cache, {path for _site_path, path in files})
    return entries, files, problems, reached


def _head(recording: dict) -> dict:
    return {"stride": recording["stride"], "end": recording["at"][-1], "done": recording["done"]}


def _header_path(path: Path) -> Path:
    return path.with_name(path.stem + ".head")


def _header(path: Path) -> dict:
    """A recording's stride, last step and end, from the small file kept beside it (a
    warm build reads no recording whole: 29 MB of JSON at 1,000 notes' worth of embeds);
    written from the recording if it is missing or unreadable."""
    beside = _header_path(path)
    try:
        head = json.loads(beside.read_text(encoding="utf-8"))
        if {"stride", "end", "done"} <= set(head):
            return head
    except (OSError, ValueError):
        pass
    head = _head(json.loads(path.read_text(encoding="utf-8")))
    write_atomic(beside, json.dumps(head))
    return head
