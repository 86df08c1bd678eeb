"""The demo kit's shared pieces: the event queue and the SVG helper.

The queue follows SimPy's kernel (``simpy/core.py``: events queued as
``(time, priority, id, event)``, so ties run in scheduling order).
"""

from __future__ import annotations

import copy

import pytest

from demokit import svg
from demokit.events import EventQueue


def test_ties_in_time_run_in_scheduling_order():
    queue = EventQueue()
    for name in ("a", "b", "c"):
        queue.schedule(5.0, name)
    queue.schedule(1.0, "first")
    queue.schedule(5.0, "d")
    assert [queue.pop().kind for _ in range(5)] == ["first", "a", "b", "c", "d"]
    assert not queue and queue.peek() is None


def test_a_cancelled_event_is_skipped_and_not_counted():
    queue = EventQueue()
    first = queue.schedule(1.0, "deadline")
    queue.schedule(2.0, "wake", {"retry": 1})
    first.cancel()
    first.cancel()  # twice is harmless
    assert len(queue) == 1 and queue.peek() == 2.0
    event = queue.pop()
    assert (event.kind, event.payload, event.time) == ("wake", {"retry": 1}, 2.0)
    with pytest.raises(IndexError):
        queue.pop()


def test_pop_until_stops_at_the_end_of_a_tick():
    queue = EventQueue()
    for t in (0.1, 0.2, 0.35, 0.4):
        queue.schedule(t, "tick")
    times = []
    while (event := queue.pop_until(0.35)) is not None:
        times.append(event.time)
    assert times == [0.1, 0.2, 0.35] and queue.peek() == 0.4


def test_a_nan_time_is_refused_at_once():
    with pytest.raises(ValueError, match="not a number"):
        EventQueue().schedule(float("nan"), "x")


def test_a_queue_of_data_survives_a_deep_copy_with_its_handles():
    queue = EventQueue()
    handle = queue.schedule(3.0, "deadline", ["round", 1])
    holder = {"queue": queue, "deadline": handle}
    twin = copy.deepcopy(holder)
    twin["deadline"].cancel()  # the copy's handle is the copy's event
    assert twin["queue"].peek() is None
    assert queue.peek() == 3.0 and not handle.cancelled


def test_iteration_sees_live_events_only():
    queue = EventQueue()
    a = queue.schedule(2.0, "a")
    queue.schedule(1.0, "b")
    a.cancel()
    assert [event.kind for event in queue] == ["b"]


# --- svg ------------------------------------------------------------------------------


def test_text_is_escaped_and_attributes_quoted():
    assert svg.escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert svg.escape_attr('say "hi" & <go>') == "say &quot;hi&quot; &amp; &lt;go&gt;"
    assert (
        svg.text(12, 20.5, "<script>", font_size=10, text_anchor="end")
        == '<text x="12" y="20.5" font-size="10" text-anchor="end">&lt;script&gt;</text>'
    )


def test_numbers_are_short():
    assert [svg.number(v) for v in (3, 2.0, 2.5, 1 / 3, -0.001, "12")] == [
        "3",
        "2",
        "2.5",
        "0.33",
        "0",
        "12",
    ]


def test_a_root_has_role_img_and_an_escaped_title():
    picture = svg.svg(640, 420, "Tom & Jerry <live>", "<g/>", font_size=11)
    assert picture == (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 420" role="img" '
        'font-family="system-ui, sans-serif" font-size="11">'
        "<title>Tom &amp; Jerry &lt;live&gt;</title><g/></svg>"
    )
