"""The demo widget in a real Chromium on the fixture site (test-only demos, real Pyodide)."""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import Recorder, frame_text, wait_state

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(fixture_url):
    return fixture_url


@pytest.fixture
def open_page(browser, site):
    contexts = []

    def open_(path: str, **options):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
        contexts.append(context)
        recorder = Recorder(site)
        page = recorder.attach(context.new_page())
        page.goto(site + path)
        page.wait_for_selector("[data-demo][data-mounted]")
        return page, recorder

    yield open_
    for context in contexts:
        context.close()


def run_button(page):
    return page.get_by_role("button", name="Run", exact=True)


def test_reading_a_page_downloads_no_runtime(open_page):
    page, recorder = open_page("testconf/talk-one/")
    page.mouse.wheel(0, 2000)  # scrolling the demo into view is not intent
    time.sleep(0.5)
    assert [url for url in recorder.requests if "pyodide" in url or ".whl" in url] == []
    assert page.get_attribute("[data-demo]", "data-state") == "idle"
    assert "Ticker at step 2" in frame_text(page)  # the build-time preview
    assert "Run downloads the Python runtime (Pyodide 314.0.7" in page.inner_text("[role=status]")


def test_run_step_pause_reset_and_parameters_change_the_frame(open_page):
    page, recorder = open_page("testconf/talk-one/")
    run_button(page).click()
    wait_state(page, "running")
    page.wait_for_function(
        "document.querySelector('[data-demo-frame]').textContent.includes('step 4')",
        polling=50,
        timeout=10_000,
    )
    page.get_by_role("button", name="Pause").click()
    wait_state(page, "paused")
    paused = frame_text(page)
    time.sleep(0.6)
    assert frame_text(page) == paused  # paused means nothing moves
    page.get_by_role("button", name="Step").click()
    page.wait_for_function(
        "(before) => document.querySelector('[data-demo-frame]').innerHTML !== before",
        arg=paused,
        polling=50,
        timeout=5_000,
    )
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function(
        "document.querySelector('[data-demo-frame] title').textContent === 'Ticker at step 0'",
        polling=50,
        timeout=5_000,
    )
    page.get_by_role("button", name="Bump").click()
    page.wait_for_function(
        "document.querySelector('[data-demo-frame]').textContent.includes('bumps 1')",
        polling=50,
        timeout=5_000,
    )
    page.get_by_label("Fault", exact=True).select_option("flood")  # not live: the run restarts
    page.wait_for_function(
        "document.querySelector('[data-demo-frame]').textContent.includes('bumps 0')",
        polling=50,
        timeout=5_000,
    )
    assert page.get_attribute("[data-demo]", "data-state") == "paused"
    assert recorder.foreign() == [] and recorder.errors == []


def test_failed_runtime_load_shows_error_and_retry_works(open_page):
    page, recorder = open_page("testconf/talk-one/")
    page.route("**/pyodide.asm.wasm", lambda route: route.abort())
    run_button(page).click()
    wait_state(page, "error")
    # An aborted download leaves loadPyodide hanging (it never rejects): the boot
    # deadline is what turns it into an error.
    assert page.inner_text("[role=status]").startswith("The Python runtime did not load in time")
    page.unroute("**/pyodide.asm.wasm")
    page.get_by_role("button", name="Run (retry)").click()
    wait_state(page, "running")


def test_hanging_runtime_times_out_and_retry_works(open_page):
    page, recorder = open_page("testconf/talk-one/")
    held = []
    page.route("**/pyodide.asm.wasm", lambda route: held.append(route))  # never answered
    run_button(page).click()
    wait_state(page, "error", timeout=20_000)
    assert "boot took longer than 6 s" in page.inner_text("[role=status]")
    page.unroute("**/pyodide.asm.wasm")
    page.get_by_role("button", name="Run (retry)").click()
    wait_state(page, "running")


def test_demo_that_raises_shows_traceback_and_reset_works(open_page):
    page, recorder = open_page("testconf/fault-raise/")
    run_button(page).click()
    wait_state(page, "error")
    assert "RuntimeError: the faulty demo broke at step 3" in page.inner_text("[role=status]")
    assert "Traceback" in page.inner_text("[data-demo-output]")
    page.get_by_role("link", name="Talk One").first.click()  # the page still works
    page.wait_for_url("**/talk-one/")
    page.go_back()
    page.wait_for_selector("[data-demo][data-mounted]")
    run_button(page).click()
    wait_state(page, "error")
    page.get_by_role("button", name="Reset").click()
    wait_state(page, "paused")
    assert "Ticker at step 0" in frame_text(page)


def test_endless_step_hits_the_deadline_and_a_fresh_worker_runs_next(open_page):
    page, recorder = open_page("testconf/fault-loop/")
    run_button(page).click()
    wait_state(page, "running")
    wait_state(page, "error", timeout=10_000)
    assert "step took longer than 1 s" in page.inner_text("[role=status]")
    before = recorder.count("pyodide.asm.mjs")
    page.get_by_label("Fault", exact=True).select_option("none")
    page.get_by_role("button", name="Run (retry)").click()
    wait_state(page, "running")
    page.wait_for_function(
        "document.querySelector('[data-demo-frame]').textContent.includes('step 4')",
        polling=50,
        timeout=15_000,
    )
    assert recorder.count("pyodide.asm.mjs") >= before  # a fresh worker booted


def test_stop_ends_an_endless_step_within_a_second(open_page):
    page, recorder = open_page("testconf/fault-loop/")
    step = page.get_by_role("button", name="Step")
    step.click()
    wait_state(page, "paused")
    step.click()
    page.wait_for_function(
        "document.querySelector('[data-demo-frame]').textContent.includes('step 2')",
        polling=50,
        timeout=5_000,
    )
    step.click()  # step 3 never returns
    time.sleep(0.2)
    started = time.monotonic()
    page.get_by_role("button", name="Stop run").click()
    wait_state(page, "idle", timeout=1_000)
    page.wait_for_function(
        "document.querySelector('[role=status]').textContent.includes('Stopped')",
        polling=50,
        timeout=1_000,
    )
    assert time.monotonic() - started < 1.0
    page.get_by_label("Fault", exact=True).select_option("none")
    run_button(page).click()
    wait_state(page, "running", timeout=30_000)


def test_flooding_output_is_capped(open_page):
    page, recorder = open_page("testconf/fault-flood/")
    page.get_by_role("button", name="Step").click()
    wait_state(page, "paused")
    page.get_by_role("button", name="Step").click()
    page.wait_for_function(
        "document.querySelector('[data-demo-output]').textContent.includes('not shown')",
        polling=50,
        timeout=10_000,
    )
    output = page.inner_text("[data-demo-output]")
    assert output.count("flood line") <= 400
    assert page.get_attribute("[data-demo]", "data-state") == "paused"


def test_permalink_restores_scenario_parameters_and_seed(open_page, site):
    page, recorder = open_page("testconf/talk-one/#demo=faulty&scenario=short&seed=7&p.limit=25")
    assert page.input_value("[data-demo-scenario]") == "short"
    assert page.input_value("[data-demo-seed]") == "7"
    assert page.input_value("[data-demo-param=limit]") == "25"
    page.get_by_label("Fault", exact=True).select_option("flood")
    page.get_by_role("button", name="Copy link").click()
    assert "p.fault=flood" in page.url and "seed=7" in page.url


def test_instant_navigation_reuses_the_runtime(open_page):
    page, recorder = open_page("testconf/talk-one/")
    run_button(page).click()
    wait_state(page, "running")
    assert recorder.count("pyodide.asm.wasm") == 1
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("link", name="Talk Two").last.click()
    page.wait_for_url("**/talk-two/")
    page.wait_for_selector("[data-demo][data-mounted]")
    assert page.evaluate("window.__sameDocument") is True  # instant, not a full load
    run_button(page).click()
    wait_state(page, "running")
    assert recorder.count("pyodide.asm.wasm") == 1
    assert recorder.foreign() == [] and recorder.errors == []
