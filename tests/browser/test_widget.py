"""The demo widget in a real Chromium on the fixture site (test-only demos, real Pyodide)."""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import Recorder, frame_text, prefer_live, wait_state

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(fixture_url):
    return fixture_url


@pytest.fixture
def open_page(browser, site):
    contexts = []

    def open_(path: str, **options):
        context = prefer_live(
            browser.new_context(viewport={"width": 1280, "height": 900}, **options)
        )
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
        "() => document.querySelector('[data-demo-frame]').textContent.includes('step 4')",
        polling=50,
        timeout=10_000,
    )
    page.get_by_role("button", name="Pause").click()
    wait_state(page, "paused")
    paused = frame_text(page)
    time.sleep(0.6)
    assert frame_text(page) == paused  # paused means nothing moves
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(
        "(before) => document.querySelector('[data-demo-frame]').innerHTML !== before",
        arg=paused,
        polling=50,
        timeout=5_000,
    )
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo-frame] title').textContent === 'Ticker at step 0'",
        polling=50,
        timeout=5_000,
    )
    page.get_by_role("button", name="Bump").click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo-frame]').textContent.includes('bumps 1')",
        polling=50,
        timeout=5_000,
    )
    page.get_by_label("Fault", exact=True).select_option("flood")  # not live: the run restarts
    page.wait_for_function(
        "() => document.querySelector('[data-demo-frame]').textContent.includes('bumps 0')",
        polling=50,
        timeout=5_000,
    )
    assert page.get_attribute("[data-demo]", "data-state") == "paused"
    assert recorder.foreign() == [] and recorder.errors == []


def test_failed_runtime_load_shows_error_and_retry_works(open_page):
    page, recorder = open_page("testconf/talk-one/")
    # At the context: the site's service worker fetches the runtime, and a page's routes
    # do not see a service worker's requests.
    page.context.route("**/pyodide.asm.wasm", lambda route: route.abort())
    run_button(page).click()
    # An aborted download leaves loadPyodide hanging (it never rejects): the worker
    # watches the download itself, so the error comes long before the boot deadline.
    wait_state(page, "error", timeout=5_000)
    assert page.inner_text("[role=status]").startswith(
        "The Python runtime could not load: pyodide.asm.wasm: the download failed"
    )
    assert page.get_attribute("[data-demo]", "data-error") == "runtime"
    page.context.unroute("**/pyodide.asm.wasm")
    page.get_by_role("button", name="Run (retry)").click()
    wait_state(page, "running")


def test_hanging_runtime_times_out_and_retry_works(open_page):
    page, recorder = open_page("testconf/talk-one/")
    held = []
    page.context.route("**/pyodide.asm.wasm", lambda route: held.append(route))  # never answered
    run_button(page).click()
    wait_state(page, "error", timeout=30_000)
    assert "boot took longer than 15 s" in page.inner_text("[role=status]")
    page.context.unroute("**/pyodide.asm.wasm")
    page.get_by_role("button", name="Run (retry)").click()
    wait_state(page, "running")


def test_demo_that_raises_shows_traceback_and_reset_works(open_page):
    page, recorder = open_page("testconf/fault-raise/")
    run_button(page).click()
    wait_state(page, "error")
    status = page.inner_text("[role=status]")
    assert status.startswith("The demo raised an error: RuntimeError: the faulty demo broke")
    assert page.get_attribute("[data-demo]", "data-error") == "demo"  # not the runtime's
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
        "() => document.querySelector('[data-demo-frame]').textContent.includes('step 4')",
        polling=50,
        timeout=15_000,
    )
    assert recorder.count("pyodide.asm.mjs") >= before  # a fresh worker booted


def test_stop_ends_an_endless_step_within_a_second(open_page):
    page, recorder = open_page("testconf/fault-loop/")
    step = page.get_by_role("button", name="Step", exact=True)
    step.click()
    wait_state(page, "paused")
    step.click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo-frame]').textContent.includes('step 2')",
        polling=50,
        timeout=5_000,
    )
    step.click()  # step 3 never returns
    time.sleep(0.2)
    started = time.monotonic()
    page.get_by_role("button", name="Stop run").click()
    wait_state(page, "idle", timeout=1_000)
    page.wait_for_function(
        "() => document.querySelector('[role=status]').textContent.includes('Stopped')",
        polling=50,
        timeout=1_000,
    )
    assert time.monotonic() - started < 1.0
    page.get_by_label("Fault", exact=True).select_option("none")
    run_button(page).click()
    wait_state(page, "running", timeout=30_000)


def test_flooding_output_is_capped(open_page):
    page, recorder = open_page("testconf/fault-flood/")
    page.get_by_role("button", name="Step", exact=True).click()
    wait_state(page, "paused")
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-demo-output]').textContent.includes('not shown')",
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
    page.get_by_role("button", name="Copy link to this moment").click()
    # Copy link writes the moment format (livenotes/theme/assets/livenotes/moments.js).
    assert page.url.endswith("#demo-faulty?v=1&s=short&seed=7&t=0&p=fault:flood,limit:25")


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


# -- Stop stops only what it must ----------------------------------------------------

RUNS_IN_WORKER = """async () => {
  const { shared } = await import(document.querySelector('script[src*="livenotes/demos.js"]').src);
  return shared.runs();
}"""
"""Asks the page's worker how many runs it holds (the protocol's ``runs`` request)."""

WATCH_STATES = """(index) => {
  const root = document.querySelectorAll('[data-demo]')[index];
  window.__states = [];
  new MutationObserver(() => window.__states.push(root.dataset.state))
    .observe(root, { attributes: true, attributeFilter: ['data-state'] });
}"""

RUN_STOP = """async (count) => {
  const root = document.querySelectorAll('[data-demo]')[1];
  const run = root.querySelector('[data-demo-run]');
  const stop = root.querySelector('[data-demo-stop]');
  const until = (test) => new Promise((resolve, reject) => {
    const started = performance.now();
    const poll = () => test() ? resolve()
      : performance.now() - started > 10000 ? reject(new Error(`stuck in ${root.dataset.state}`))
      : setTimeout(poll, 1);
    poll();
  });
  const stoppedIn = {};
  for (let cycle = 0; cycle < count; cycle++) {
    await until(() => !run.disabled);
    run.click();
    // Stop before the run is asked for, while it is being started, and while it runs.
    if (cycle % 3 === 1) await new Promise((resolve) => setTimeout(resolve, 0));
    if (cycle % 3 === 2) await until(() => root.dataset.state === 'running');
    stoppedIn[root.dataset.state] = (stoppedIn[root.dataset.state] || 0) + 1;
    stop.click();
  }
  return stoppedIn;
}"""


def widget(page, index: int) -> str:
    return f"[data-demo] >> nth={index}"


def wait_widget(page, index: int, state: str, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "([index, state]) => document.querySelectorAll('[data-demo]')[index]?.dataset.state === state",
        arg=[index, state],
        polling=50,
        timeout=timeout,
    )


def step_shown(page, index: int) -> int:
    title = page.locator(widget(page, index)).locator("[data-demo-frame] title").text_content()
    return int(title.rsplit(" ", 1)[1])


def test_run_stop_a_hundred_times_holds_one_run_and_spares_the_other_widget(open_page):
    page, recorder = open_page("testconf/two-demos/")
    first, second = page.locator(widget(page, 0)), page.locator(widget(page, 1))
    first.get_by_role("button", name="Run", exact=True).click()
    wait_widget(page, 0, "running")
    page.evaluate(WATCH_STATES, 0)
    started_at = step_shown(page, 0)

    stopped_in = page.evaluate(RUN_STOP, 100)
    assert set(stopped_in) == {"loading", "running"} and sum(stopped_in.values()) == 100
    assert stopped_in["running"] >= 33
    second.get_by_role("button", name="Run", exact=True).click()
    wait_widget(page, 1, "running")

    assert page.evaluate(RUNS_IN_WORKER) == 2  # one per widget, not one per cycle
    # the other widget ran on throughout, in the same worker
    assert page.evaluate("() => window.__states") == []
    assert step_shown(page, 0) > started_at
    assert "Stopped" not in first.locator("[role=status]").inner_text()
    assert recorder.count("pyodide.asm.wasm") == 1
    assert recorder.errors == []


def test_stopping_a_stuck_step_ends_the_worker_and_tells_the_other_widget(open_page):
    page, recorder = open_page("testconf/two-demos/")
    first, second = page.locator(widget(page, 0)), page.locator(widget(page, 1))
    first.get_by_role("button", name="Run", exact=True).click()
    wait_widget(page, 0, "running")
    page.wait_for_function(
        "() => document.querySelector('[data-demo-frame] title').textContent !== 'Ticker at step 0'",
        polling=50,
        timeout=10_000,
    )
    second.get_by_label("Fault", exact=True).select_option("loop")
    step = second.get_by_role("button", name="Step", exact=True)
    step.click()
    wait_widget(page, 1, "paused")
    step.click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-demo]')[1].textContent.includes('step 2')",
        polling=50,
        timeout=5_000,
    )
    step.click()  # step 3 never returns; the first widget's steps queue behind it
    time.sleep(0.1)
    last_frame = first.locator("[data-demo-frame]").inner_html()
    second.get_by_role("button", name="Stop run").click()

    wait_widget(page, 0, "idle", timeout=3_000)
    assert first.locator("[role=status]").inner_text() == (
        "Stopped, because another demo on this page was stopped mid-step, which restarts "
        "the Python runtime. The picture shows the last frame; Run starts a fresh run."
    )
    assert first.locator("[data-demo-frame]").inner_html() == last_frame
    assert page.get_attribute(widget(page, 0), "data-error") is None
    assert page.get_attribute(widget(page, 1), "data-state") == "idle"
    assert second.locator("[role=status]").inner_text() == "Stopped. Run starts a fresh run."

    before = step_shown(page, 0)
    first.get_by_role("button", name="Run", exact=True).click()
    wait_widget(page, 0, "running", timeout=30_000)
    assert step_shown(page, 0) < before  # a fresh run, in a fresh worker
    assert recorder.count("pyodide.asm.wasm") == 2
    assert page.evaluate(RUNS_IN_WORKER) == 1


def test_a_moment_link_names_the_embed_it_means(open_page):
    """Two embeds of one demo have their own ids; the note's link to the second sets the
    second, and the first stays as it was."""
    page, recorder = open_page("testconf/two-demos/")
    ids = page.eval_on_selector_all("[data-demo]", "(els) => els.map((el) => el.id)")
    assert ids == ["demo-faulty", "demo-faulty-2"]
    link = page.get_by_role("link", name="the second one at step 7")
    assert link.get_attribute("href").endswith("#demo-faulty-2?v=1&s=long&seed=1&t=7&p=limit:50")
    link.click()
    second = "#demo-faulty-2"
    wait_state(page, "paused", selector=second)
    assert "Ticker at step 7" in frame_text(page, second)
    assert page.input_value(f"{second} [data-demo-param=limit]") == "50"
    assert page.get_attribute("#demo-faulty", "data-state") == "idle"
    assert "Ticker at step 2" in frame_text(page, "#demo-faulty")  # still its preview
