"""Each real demo on its talk page: the reader changes one thing and the outcome shown
changes. Real Chromium, real Pyodide, the project's own built site."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import Recorder, prefer_live, wait_state

pytestmark = pytest.mark.browser

SEEN = """() => {
  window.__seen = new Set();
  const metrics = document.querySelector('[data-demo-metrics]');
  new MutationObserver(() => {
    for (const row of metrics.querySelectorAll('div')) window.__seen.add(row.textContent);
  }).observe(metrics, { childList: true, subtree: true, characterData: true });
}"""


@pytest.fixture(scope="module")
def site(real_url):
    return real_url


@pytest.fixture
def page(browser, site):
    context = prefer_live(browser.new_context(viewport={"width": 1280, "height": 900}))
    recorder = Recorder(site)
    page = recorder.attach(context.new_page())
    page.recorder = recorder
    yield page
    assert recorder.errors == [] and recorder.foreign() == []
    context.close()


def metric(page, label: str) -> str:
    return page.evaluate(
        """(label) => [...document.querySelectorAll('[data-demo-metrics] div')]
             .find((row) => row.querySelector('dt').textContent === label)?.querySelector('dd').textContent""",
        label,
    )


def percent(page, label: str) -> float:
    value = metric(page, label) or ""
    match = re.match(r"([\d.]+) %", value)
    return float(match.group(1)) if match else -1.0


def test_skinny_stopping_two_instances_loses_the_lock(page, site):
    """Three instances need two votes; with two of them stopped beaver is refused."""

    def run_to_end() -> set[str]:
        page.evaluate(SEEN)
        page.get_by_role("button", name="Run", exact=True).click()
        wait_state(page, "done", timeout=60_000)
        return page.evaluate("[...window.__seen]")

    page.goto(site + "srecon19apac/implementing-distributed-consensus/")
    page.wait_for_selector("[data-demo][data-mounted]")
    page.locator("[data-demo-speed]").select_option("8")
    page.get_by_label("Instances").fill("3")
    baseline = run_to_end()
    assert not any("not acquired" in row for row in baseline), baseline

    page.get_by_role("button", name="Reset").click()
    wait_state(page, "paused")
    picker = page.locator("[data-demo-action-arg=stop]")
    for name in ("oregon", "spaulo"):
        picker.select_option(name)
        page.get_by_role("button", name="Stop", exact=True).click()
        page.wait_for_function(
            "(name) => document.querySelector('[data-demo-log]').textContent.includes(name)",
            arg=name,
            polling=50,
            timeout=5_000,
        )
    stopped = run_to_end()
    assert any(row.startswith("beaver") and "not acquired" in row for row in stopped), stopped


def test_circuit_breaker_on_rating_outage_raises_completed_bookings(page, site):
    page.goto(site + "srecon19apac/critical-path-analysis/")
    page.wait_for_selector("[data-demo][data-mounted]")
    page.locator("[data-demo-speed]").select_option("8")
    page.locator("[data-demo-action-arg=break]").select_option(label="Rating")
    page.get_by_role("button", name="Break (no answer)").click()
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "running")
    page.wait_for_function(
        """() => { const row = [...document.querySelectorAll('[data-demo-metrics] div')]
             .find((r) => r.querySelector('dt').textContent === 'Bookings completed');
             return row && parseFloat(row.querySelector('dd').textContent) < 70; }""",
        polling=50,
        timeout=60_000,
    )
    without = percent(page, "Bookings completed")
    page.get_by_role("checkbox", name="Circuit breakers").check()
    page.wait_for_function(
        """(before) => { const row = [...document.querySelectorAll('[data-demo-metrics] div')]
             .find((r) => r.querySelector('dt').textContent === 'Bookings completed');
             return row && parseFloat(row.querySelector('dd').textContent) > before + 15; }""",
        arg=without,
        polling=50,
        timeout=90_000,
    )
    assert percent(page, "Bookings completed") > without + 15


def test_memory_turning_swap_off_brings_the_oom_kill(page, site):
    page.goto(site + "srecon19apac/linux-memory-management/")
    page.wait_for_selector("[data-demo][data-mounted]")
    page.locator("[data-demo-speed]").select_option("8")
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "running")
    page.wait_for_function(
        "() => document.querySelector('[data-demo-frame] svg') && "
        "parseFloat(document.querySelector('[data-demo-metrics] dd').textContent) >= 150",
        polling=50,
        timeout=90_000,
    )
    assert metric(page, "Outcome") == "no kill yet"
    page.get_by_role(
        "checkbox", name="Swap", exact=True
    ).uncheck()  # not live: the run restarts without swap
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-demo-metrics] div')]
             .some((r) => r.querySelector('dt').textContent === 'Outcome'
                          && r.querySelector('dd').textContent.startsWith('OOM kill'))""",
        polling=50,
        timeout=90_000,
    )
    assert re.match(r"OOM kill at \d+ s \(leaky\)", metric(page, "Outcome"))
