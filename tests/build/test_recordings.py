"""Recorded runs (``livenotes.recordings``): every frame decodes to exactly what the live
run shows at that step, recordings are cached by what they depend on, a run that breaks
is recorded up to its last good frame, and the build ships them and tells the widget."""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import time
from pathlib import Path

import pytest

from demokit import Runner
from livenotes import recordings
from livenotes.demos import discover
from tests.conftest import DEMO_TALK, EVENT_PAGE, FIXTURES, ROOT, make_site, run_build


def real() -> dict:
    """The site's demos, imported afresh: the fixtures' demos share the package name
    ``demos``, so a class imported before them is no longer the one pickle finds."""
    return discover(ROOT / "demos")


def fake() -> dict:
    return discover(FIXTURES / "demos")


TRANSFER_LIMIT = 150_000
"""Bytes a recording may take on the wire, gzip-compressed as static hosts serve it."""


@pytest.mark.parametrize(
    ("name", "scenario"),
    [("skinny", "race"), ("circuit_breaker", "rating-outage"), ("linux_netdev", "macvlan")],
)
def test_every_recorded_frame_is_the_live_frame_of_its_step(name, scenario):
    package = real()[name]
    setup = recordings.Setup.of(package.demo, scenario, {}, None)
    recording = recordings.record(package, setup)
    frames = recordings.decode(recording)
    assert recording["stride"] == recordings.stride(package.demo)
    assert [f["steps"] for f in frames] == recording["at"]
    live = Runner(package.demo, scenario)
    for frame in frames:
        live.seek(frame["steps"])
        assert live.snapshot() == frame, frame["steps"]
    assert recording["done"] == live.sim.done
    assert recording["timeline"] == live.timeline()


def test_a_recording_follows_the_widgets_rate_and_the_scenarios_length():
    memory = real()["memory_pressure"].demo  # 100 steps a second: a frame every 4 steps
    assert recordings.stride(memory) == 4
    assert recordings.length(memory, "no-swap") == 3000  # thirty seconds of play
    breaker = real()["circuit_breaker"].demo
    assert recordings.length(breaker, "rating-outage") == 240  # its scenario says so


def test_a_run_that_breaks_is_recorded_up_to_its_last_good_frame():
    package = fake()["faulty"]
    raises = recordings.Setup.of(package.demo, "long", {"fault": "raise"}, None)
    recording = recordings.record(package, raises)
    assert recording["at"] == [0, 1, 2] and recording["done"] is False
    loops = recordings.Setup.of(package.demo, "long", {"fault": "loop"}, None)
    recording = recordings.record(package, loops, seconds=0.5)
    assert recording["at"] == [0, 1, 2] and recording["done"] is False


def test_recordings_are_cached_by_code_and_setup(tmp_path):
    package = real()["skinny"]
    race = recordings.Setup.of(package.demo, "race", {}, None)
    first = recordings.recorded(package, race, tmp_path)
    stamp = first.stat().st_ino
    assert recordings.recorded(package, race, tmp_path) == first
    assert first.stat().st_ino == stamp  # not recorded again (that writes a new file)
    # What a build reads of it is kept beside it, and made again from it if lost.
    data = json.loads(first.read_text(encoding="utf-8"))
    head = {"stride": data["stride"], "end": data["at"][-1], "done": data["done"]}
    beside = first.with_name(first.stem + ".head")
    assert json.loads(beside.read_text(encoding="utf-8")) == head
    beside.unlink()
    assert recordings._header(first) == head
    assert json.loads(beside.read_text(encoding="utf-8")) == head
    other = recordings.Setup.of(package.demo, "race", {}, 7)
    assert recordings.recorded(package, other, tmp_path) != first
    assert recordings.digest(package, race) != recordings.digest(real()["circuit_breaker"], race)


def test_the_build_ships_each_embeds_recording_and_every_scenarios(tmp_path):
    make_site(
        tmp_path,
        {
            "docs/testconf/index.md": EVENT_PAGE,
            "docs/testconf/talk.md": DEMO_TALK + "\n```demo\nname: faulty\nseed: 5\n```\n",
        },
    )
    result = run_build(tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site/testconf/talk/index.html").read_text(encoding="utf-8")
    spec = json.loads(html.unescape(re.search(r"data-demo-spec='([^']*)'", page).group(1)))
    shipped = {(r["scenario"], r["seed"]) for r in spec["recordings"]}
    assert shipped == {("steady", 5), ("steady", 1), ("short", 1), ("long", 1)}
    for entry in spec["recordings"]:
        path = (tmp_path / "site/testconf/talk" / entry["url"]).resolve()
        data = json.loads(path.read_text(encoding="utf-8"))
        assert (data["scenario"], data["seed"], data["stride"]) == (
            entry["scenario"],
            entry["seed"],
            entry["stride"],
        )
        assert data["at"][-1] == entry["end"] and entry["bytes"] == path.stat().st_size


def test_every_recording_of_the_real_site_fits_the_transfer_budget(tmp_path):
    """What the site ships: each is at most 150 KB gzip-compressed."""
    from livenotes.site import scan

    index, problems = scan(ROOT / "docs", ROOT / "demos")
    assert problems == []
    entries, files, problems, _reached = recordings.for_site(index, ROOT / ".cache/recordings")
    assert problems == []
    sizes = {
        Path(site_path).name: len(gzip.compress(path.read_bytes(), 6)) for site_path, path in files
    }
    assert {name for name, size in sizes.items() if size > TRANSFER_LIMIT} == set(), sizes
    recorded = {(demo, entry["scenario"]) for demo, items in entries.items() for entry in items}
    for name, package in real().items():
        assert {(name, s.name) for s in package.demo.scenarios} <= recorded


def test_recordings_no_build_used_for_two_weeks_are_deleted(tmp_path):
    """Every change of demo or kit code records again under new names; what no build
    has used for KEEP_DAYS goes, what a build uses is marked used and stays."""
    package = real()["skinny"]
    race = recordings.Setup.of(package.demo, "race", {}, None)
    used = recordings.recorded(package, race, tmp_path)
    old = tmp_path / "skinny-00000000000000000000.json"  # an older code's recording
    old.write_text("{}", encoding="utf-8")
    recordings._header_path(old).write_text("{}", encoding="utf-8")
    now = time.time()
    weeks_ago = now - (recordings.KEEP_DAYS + 1) * 86_400
    for path in (used, old):
        os.utime(path, (weeks_ago, weeks_ago))
    lately = tmp_path / "skinny-11111111111111111111.json"  # another site's, used lately
    lately.write_text("{}", encoding="utf-8")

    assert recordings.recorded(package, race, tmp_path) == used  # a hit marks it used
    assert used.stat().st_mtime > weeks_ago
    assert recordings.prune(tmp_path, {used}, now) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [used.name, recordings._header_path(used).name, lately.name]
    )
    # What this build uses is kept however old its file looks.
    os.utime(used, (weeks_ago, weeks_ago))
    assert recordings.prune(tmp_path, {used}, now) == []
