"""Time travel in a real Chromium on the project's own site, with real Pyodide: the
timeline (keyboard and mouse), Step back, a fork, links to an exact moment (the very
frame, byte for byte), a bad link, the note's own moment links, both downloads, and the
controls at 390 px.

Frames are compared as the browser serialises them (``innerHTML`` of the picture): the
SVG the worker sent, or that CPython's runner draws for the same step, put into a node
of the page and read back, so both sides pass through the same parser."""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest

from demokit import Runner
from tests.browser.helpers import Recorder, frame_text, prefer_live, wait_state

pytestmark = pytest.mark.browser

PAGE = "demos/skinny/"
SKINNY = importlib.import_module("demos.skinny").DEMO


@pytest.fixture(scope="module")
def site(real_url):
    return real_url


@pytest.fixture
def open_page(browser, site):
    opened = []

    def open_(path: str = PAGE, width: int = 1280, **options):
        context = prefer_live(
            browser.new_context(
                viewport={"width": width, "height": 900}, accept_downloads=True, **options
            )
        )
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


def as_browser_svg(page, svg: str) -> str:
    """``svg`` as the page's HTML parser serialises it."""
    return page.evaluate(
        "(svg) => { const d = document.createElement('div'); d.innerHTML = svg; return d.innerHTML; }",
        svg,
    )


def python_frame(page, scenario: str, step: int, inputs=()) -> str:
    runner = Runner(SKINNY, scenario)
    for at, action, arg in inputs:
        runner.seek(at)
        runner.act(action, arg)
    runner.seek(step)
    return as_browser_svg(page, runner.snapshot()["svg"])


def status(page) -> str:
    return page.inner_text("[data-demo] [data-demo-status]")


def valuetext(page) -> str:
    return page.get_attribute("[data-demo] [data-demo-timeline]", "aria-valuetext")


def wait_step(page, step: int) -> None:
    page.wait_for_function(
        "(step) => document.querySelector('[data-demo] [data-demo-clock]').textContent"
        ".startsWith(`Step ${step} `)",
        arg=step,
        timeout=20_000,
    )


def run_to_end(page) -> None:
    page.locator("[data-demo] [data-demo-speed]").select_option("8")
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "done", timeout=90_000)


def test_the_timeline_seeks_by_keyboard_and_mouse_to_the_frame_of_that_step(open_page):
    page = open_page()
    slider = page.get_by_role("slider", name="Timeline")
    assert slider.is_disabled()  # nothing to scrub before a run
    run_to_end(page)
    assert valuetext(page) == "Step 38 of 38, 1920 ms"
    slider.focus()
    page.keyboard.press("Home")
    wait_step(page, 0)
    assert frame_text(page) == python_frame(page, "happy-path", 0)
    assert "Step 0 of 38, 0 ms." in status(page)  # announced once the seek settles
    page.keyboard.press("ArrowRight")
    wait_step(page, 1)
    page.keyboard.press("PageUp")
    wait_step(page, 5)
    assert frame_text(page) == python_frame(page, "happy-path", 5)
    page.keyboard.press("End")
    wait_step(page, 38)
    assert page.get_attribute("[data-demo]", "data-state") == "done"
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_step(page, 19)
    assert frame_text(page) == python_frame(page, "happy-path", 19)
    assert page.get_attribute("[data-demo]", "data-state") == "paused"
    page.get_by_role("button", name="Step back").click()
    wait_step(page, 18)
    assert frame_text(page) == python_frame(page, "happy-path", 18)
    page.get_by_role("button", name="Step", exact=True).click()  # forward, within history
    wait_step(page, 19)
    assert valuetext(page).startswith("Step 19 of 38,")


def test_marks_show_the_readers_action_and_the_demos_events(open_page):
    page = open_page()
    page.get_by_label("Scenario").select_option("race")
    run_to_end(page)
    moments = page.locator("[data-demo] [data-demo-moments] button")
    labels = moments.all_text_contents()
    assert any(re.match(r"Step \d+: two clients told yes: ", label) for label in labels), labels
    assert any(re.match(r"Step \d+: lock granted: ", label) for label in labels), labels
    assert page.locator("[data-demo] [data-demo-marks] .ln-mark").count() == len(labels)
    first = labels[0]
    step = int(re.match(r"Step (\d+):", first).group(1))
    page.locator("[data-demo] summary").click()
    moments.first.click()
    wait_step(page, step)


def test_acting_after_seeking_back_forks_the_run_and_says_so(open_page):
    page = open_page()
    run_to_end(page)
    slider = page.get_by_role("slider", name="Timeline")
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    wait_step(page, 10)
    page.get_by_label("Stop: target").select_option("london")
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo] [data-demo-status]').textContent"
        ".includes('forked at step 10')"
    )
    assert "the later history (28 steps) was dropped" in status(page)
    assert valuetext(page) == "Step 10 of 10, 270 ms"
    moments = page.locator("[data-demo] [data-demo-moments] button").all_text_contents()
    assert "Step 10: Stop london" in moments
    # Playing on from a step seeked back to forks too.
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "done", timeout=90_000)
    slider.focus()
    page.keyboard.press("Home")
    wait_step(page, 0)
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo] [data-demo-status]').textContent"
        ".includes('forked at step 0')",
        timeout=30_000,
    )


def test_a_link_to_a_moment_shows_that_very_frame(open_page, site):
    page = open_page()
    page.get_by_role("button", name="Step", exact=True).click()
    wait_state(page, "paused", timeout=90_000)
    for _ in range(11):
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_timeout(30)
    wait_step(page, 12)
    page.get_by_label("Stop: target").select_option("taiwan")
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "done", timeout=90_000)
    slider = page.get_by_role("slider", name="Timeline")
    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    end = int(page.get_attribute("[data-demo] [data-demo-timeline]", "max"))
    wait_step(page, end - 3)
    seen = frame_text(page)
    assert seen == python_frame(page, "happy-path", end - 3, [(12, "stop", "taiwan")])
    page.get_by_role("button", name="Copy link to this moment").click()
    link = page.url
    assert re.search(rf"#demo-skinny\?v=1&s=happy-path&seed=1&t={end - 3}&i=12a:stop:taiwan$", link)
    assert len(link.split("#")[1]) < 80  # short

    other = open_page(link.replace(site, ""))
    assert "This link shows step" in status(other) and "Run to see this moment" in status(other)
    assert other.get_by_role("button", name="Run to see this moment").is_visible()
    assert [u for u in other.recorder.requests if "pyodide" in u or u.endswith(".whl")] == []
    other.get_by_role("button", name="Run to see this moment").click()
    wait_state(other, "paused", timeout=90_000)
    assert frame_text(other) == seen
    assert "as linked" in status(other)
    assert other.get_by_role("button", name="Run", exact=True).is_visible()


@pytest.mark.parametrize(
    ("hash_", "reason"),
    [
        ("v=2&s=race&seed=1&t=3", "it was made by version 2 of this demo, and this is version 1"),
        ("v=1&s=nope&seed=1&t=3", "it names a scenario this demo does not have (“nope”)"),
        ("v=1&s=race&seed=1&t=3&p=loss:%zz", "it is garbled (a broken %-escape)"),
        ("v=1&s=race&seed=-4&t=3", "its seed is not a whole number from 0 to 4294967295"),
        ("v=1&s=race&seed=1&t=3&i=2a:dance", "it uses an action this demo does not have (“dance”)"),
    ],
)
def test_a_bad_link_says_why_and_shows_the_scenario_start(open_page, hash_, reason):
    page = open_page(f"{PAGE}#demo-skinny?{hash_}")
    assert status(page).startswith(f"This link could not be used: {reason}. Showing the start of")
    assert page.get_attribute("[data-demo]", "data-state") == "idle"
    assert [u for u in page.recorder.requests if "pyodide" in u] == []


def test_a_link_past_the_end_of_its_run_says_so_after_run(open_page):
    page = open_page(f"{PAGE}#demo-skinny?v=1&s=race&seed=1&t=3000")
    page.get_by_role("button", name="Run to see this moment").click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo] [data-demo-status]').textContent"
        ".startsWith('This link could not be used')",
        timeout=90_000,
    )
    assert "this run ends at step 40, before step 3000" in status(page)
    assert "Showing the start of “The race: two clients told yes” instead." in status(page)
    wait_state(page, "paused")
    assert valuetext(page) == "Step 0 of 0, 0 ms"


def test_a_notes_moment_link_sets_its_demo_to_that_moment(open_page):
    page = open_page()
    link = page.locator("a[data-demo-moment]").first
    href = unquote(link.get_attribute("href"))
    match = re.search(r"s=([a-z0-9-]+)&seed=(\d+)&t=(\d+)", href)
    scenario, step = match.group(1), int(match.group(3))
    assert "downloads the Python runtime" in link.get_attribute("title")  # said first
    link.click()
    assert "Downloading the Python runtime" in status(page) or "Rebuilding" in status(page)
    wait_state(page, "paused", timeout=90_000)
    wait_step(page, step)
    assert page.input_value("[data-demo] [data-demo-scenario]") == scenario
    if "&p=" not in href:
        assert frame_text(page) == python_frame(page, scenario, step)
    assert page.evaluate("() => document.activeElement.matches('[data-demo-frame]')")


def test_downloads_save_the_frame_as_svg_and_the_metrics_as_csv(open_page):
    page = open_page()
    run_to_end(page)
    page.get_by_role("slider", name="Timeline").focus()
    page.keyboard.press("Home")
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    wait_step(page, 7)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download SVG").click()
    assert download.value.suggested_filename == "skinny-happy-path-seed-1-step-7.svg"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    root = ET.fromstring(text)  # well-formed, standalone
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.find(f"{ns}title").text.startswith(
        "Skinny: a Paxos-style lock service you can break: Happy path, step 7 of 38"
    )
    desc = root.find(f"{ns}desc").text
    assert "Happy path." in desc and "#demo-skinny?v=1&s=happy-path&seed=1&t=7" in desc
    link = root.find(f"{ns}a")
    assert link.get("href").endswith("#demo-skinny?v=1&s=happy-path&seed=1&t=7")
    picture = root.find(f"{ns}svg")
    assert picture is not None and picture.find(f"{ns}title") is not None
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("step,simulated time (ms),")
    assert [line.split(",")[0] for line in lines[1:]] == [str(k) for k in range(39)]
    assert "39 rows" in status(page)
    assert valuetext(page).startswith("Step 7 of 38")  # the reader's view stayed put


def test_the_timeline_fits_a_phone_and_respects_reduced_motion(open_page):
    page = open_page(width=390, reduced_motion="reduce")
    page.get_by_role("button", name="Step", exact=True).click()  # a run, one frame a step
    wait_state(page, "paused", timeout=90_000)
    page.get_by_role("button", name="Step", exact=True).click()
    slider = page.get_by_role("slider", name="Timeline")
    box = slider.bounding_box()
    assert box["width"] > 200 and box["x"] + box["width"] <= 390
    for name in ("Step back", "Copy link to this moment", "Download SVG", "Download CSV"):
        button = page.get_by_role("button", name=name).bounding_box()
        assert button["x"] >= 0 and button["x"] + button["width"] <= 390, name
    slider.focus()
    page.keyboard.press("ArrowLeft")  # keyboard use: focus is shown
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
