"""Recorded runs in a real Chromium on the project's own site: nothing is fetched before
the reader shows intent, Run plays the build's recording at once (the very frames the
live run gives), the timeline scrubs it, and the Python runtime takes over at the step
on screen, frame for frame, only when the reader asks for something a recording cannot
show, having said so with its size; the reader's choice is remembered."""

from __future__ import annotations

import importlib

import pytest

from demokit import Runner
from tests.browser.helpers import Recorder, frame_text, wait_state

pytestmark = pytest.mark.browser

PAGE = "demos/circuit_breaker/"
BREAKER = importlib.import_module("demos.circuit_breaker").DEMO
STATUSES = """() => {
  window.__statuses = [];
  const status = document.querySelector('[data-demo] [data-demo-status]');
  new MutationObserver(() => window.__statuses.push(status.textContent))
    .observe(status, { childList: true, subtree: true, characterData: true });
}"""


@pytest.fixture(scope="module")
def site(real_url):
    return real_url


@pytest.fixture
def open_page(browser, site):
    opened = []

    def open_(path: str = PAGE, context=None):
        context = context or browser.new_context(viewport={"width": 1280, "height": 900})
        recorder = Recorder(site)
        page = recorder.attach(context.new_page())
        opened.append((context, recorder))
        page.goto(site + path)
        page.wait_for_selector("[data-demo][data-mounted]")
        page.recorder = recorder
        return page

    yield open_
    for context, recorder in opened:
        context.close()
        assert recorder.errors == [] and recorder.foreign() == []


def fetched(page, kind: str) -> list[str]:
    marker = {"runtime": "/assets/pyodide/", "recording": "/recordings/"}[kind]
    return [url for url in page.recorder.requests if marker in url]


def live_svg(page, step: int, **params) -> str:
    runner = Runner(BREAKER, "rating-outage", params)
    runner.seek(step)
    return page.evaluate(
        "(svg) => { const d = document.createElement('div'); d.innerHTML = svg; return d.innerHTML; }",
        runner.snapshot()["svg"],
    )


def clock_step(page) -> int:
    return int(page.inner_text("[data-demo] [data-demo-clock]").split()[1])


def test_a_recording_plays_at_once_and_its_frames_are_the_live_ones(open_page):
    page = open_page()
    page.mouse.wheel(0, 1500)  # reading is not intent
    page.wait_for_timeout(300)
    assert fetched(page, "runtime") == [] and fetched(page, "recording") == []
    run = page.get_by_role("button", name="Run", exact=True)
    run.hover()  # intent: the recording comes, the runtime does not
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').some((e) => e.name.includes('/recordings/'))"
    )
    assert len(fetched(page, "recording")) == 1 and fetched(page, "runtime") == []
    run.click()
    page.wait_for_function(
        "() => { const d = document.querySelector('[data-demo]');"
        " return d.dataset.source === 'recording' && d.querySelector('[data-demo-timeline]').value > 20; }"
    )
    page.get_by_role("button", name="Pause").click()
    step = clock_step(page)
    assert frame_text(page) == live_svg(page, step)
    slider = page.get_by_role("slider", name="Timeline")
    slider.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")  # one recorded frame on
    page.wait_for_function(
        "() => document.querySelector('[data-demo] [data-demo-clock]').textContent.startsWith('Step 1 ')"
    )
    assert frame_text(page) == live_svg(page, 1)
    assert "(recorded)" in page.inner_text("[data-demo] [data-demo-status]")
    assert fetched(page, "runtime") == []


def test_the_runtime_takes_over_at_the_step_on_screen_frame_for_frame(open_page):
    page = open_page()
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo] [data-demo-timeline]').value > 30"
    )
    page.get_by_role("button", name="Pause").click()
    step = clock_step(page)
    recorded = frame_text(page)
    page.locator("[data-demo] [data-demo-choice]").select_option("live")  # at once, from here
    page.wait_for_function(
        "() => document.querySelector('[data-demo]').dataset.source === 'live'", timeout=90_000
    )
    wait_state(page, "paused")
    assert clock_step(page) == step
    assert frame_text(page) == recorded  # the hand-over: the same frame, now live
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(
        f"() => document.querySelector('[data-demo] [data-demo-clock]').textContent.startsWith('Step {step + 1} ')"
    )
    assert frame_text(page) == live_svg(page, step + 1)


def test_a_change_a_recording_cannot_show_says_so_with_the_size_first(open_page):
    page = open_page()
    page.evaluate(STATUSES)
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo]').dataset.source === 'recording'"
    )
    page.get_by_role("checkbox", name="Circuit breakers").check()  # live parameter
    page.wait_for_function(
        "() => document.querySelector('[data-demo]').dataset.source === 'live'", timeout=90_000
    )
    statuses = page.evaluate("window.__statuses")
    first = next(s for s in statuses if "Python runtime" in s)
    assert first.startswith("Changing Circuit breakers needs the Python runtime (")
    assert " MB)" in first
    assert len(fetched(page, "runtime")) > 0


def test_the_readers_choice_is_remembered_and_ask_waits_for_a_click(open_page, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = open_page(context=context)
    page.locator("[data-demo] [data-demo-choice]").select_option("ask")
    page.reload()
    page.wait_for_selector("[data-demo][data-mounted]")
    assert page.input_value("[data-demo] [data-demo-choice]") == "ask"
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo]').dataset.source === 'recording'"
    )
    load = page.locator("[data-demo] [data-demo-load]")
    assert not load.is_visible()  # a recording plays: nothing to ask yet
    page.get_by_label("Seed").fill("9")
    page.get_by_label("Seed").dispatch_event("change")  # no recording of seed 9
    load.wait_for(state="visible")
    assert load.inner_text().startswith("Load the Python runtime (")
    assert "needs the Python runtime (" in page.inner_text("[data-demo] [data-demo-status]")
    page.wait_for_timeout(500)
    assert fetched(page, "runtime") == []
    load.click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo]').dataset.source === 'live'", timeout=90_000
    )
    assert fetched(page, "runtime")
    assert not load.is_visible()


def test_playing_past_the_recordings_end_goes_on_live(open_page):
    page = open_page()
    page.get_by_label("Speed").select_option("8")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo] [data-demo-status]').textContent"
        ".startsWith('The recording ends here, at step 240.')",
        timeout=60_000,
    )
    assert "needs the Python runtime (" in page.inner_text("[data-demo] [data-demo-status]")
    assert fetched(page, "runtime") == []
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo] [data-demo-timeline]').value > 240",
        timeout=90_000,
    )
    assert page.get_attribute("[data-demo]", "data-source") == "live"
