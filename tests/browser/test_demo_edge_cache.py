"""The edge demo on its talk page: the reader changes one thing and the outcome shown
changes. Real Chromium, real Pyodide, the project's own built site."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import Recorder, prefer_live, wait_state

pytestmark = pytest.mark.browser

NOTE = "srecon19apac/edge-computing/"

METRIC = """(label) => [...document.querySelectorAll('[data-demo-metrics] div')]
  .find((row) => row.querySelector('dt').textContent === label)?.querySelector('dd').textContent"""

AT_LEAST = """([seconds]) => {
  const status = document.querySelector('[data-demo] [role=status]')?.textContent || '';
  const match = status.match(/t = (\\d+) s/);
  return match && Number(match[1]) >= seconds;
}"""

PERCENT_ABOVE = """([label, floor]) => {
  const row = [...document.querySelectorAll('[data-demo-metrics] div')]
    .find((r) => r.querySelector('dt').textContent === label);
  return row && parseFloat(row.querySelector('dd').textContent) > floor;
}"""


@pytest.fixture(scope="module")
def site(real_url):
    return real_url


@pytest.fixture
def page(browser, site):
    context = prefer_live(browser.new_context(viewport={"width": 1280, "height": 900}))
    recorder = Recorder(site)
    page = recorder.attach(context.new_page())
    yield page
    assert recorder.errors == [] and recorder.foreign() == []
    context.close()


def metric(page, label: str) -> str:
    return page.evaluate(METRIC, label) or ""


def percent(page, label: str) -> float:
    match = re.match(r"([\d.]+) %", metric(page, label))
    return float(match.group(1)) if match else -1.0


def run_until(page, seconds: float) -> None:
    page.wait_for_function(AT_LEAST, arg=[seconds], polling=50, timeout=120_000)


def test_normalising_at_the_edge_raises_the_city_hit_ratio(page, site):
    """Vary: User-Agent, Accept-Language fragments the cache; the edge function that maps
    both to a device class and a language (a live parameter) makes the city rung hit."""
    page.goto(site + NOTE)
    page.wait_for_selector("[data-demo][data-mounted]")
    page.locator("[data-demo-speed]").select_option("8")
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "running")
    run_until(page, 40)
    before = percent(page, "Hit ratio: city data centre")
    assert 0 <= before < 20, before
    page.get_by_role("checkbox", name="Normalise requests at the edge").check()
    page.wait_for_function(
        PERCENT_ABOVE,
        arg=["Hit ratio: city data centre", before + 10],
        polling=50,
        timeout=120_000,
    )
    assert percent(page, "Hit ratio: city data centre") > before + 10


def test_an_origin_outage_shows_errors_and_stale_if_error_serves_stale(page, site):
    """The origin answers 503 from 30 s on. Without stale-if-error most reader requests
    fail by 70 s; with it, caches serve stale copies and far fewer fail."""
    page.goto(site + NOTE)
    page.wait_for_selector("[data-demo][data-mounted]")
    page.locator("[data-demo-speed]").select_option("8")
    page.get_by_label("Scenario").select_option("origin-outage")
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "running")
    run_until(page, 70)
    without = percent(page, "Reader errors")
    assert without > 40, without
    assert metric(page, "Served stale on error").endswith(" 0 in all")

    page.get_by_label("Scenario").select_option("origin-outage-stale-if-error")
    page.wait_for_function(
        "() => !/t = ([3-9]\\d|\\d{3,}) s/.test(document.querySelector('[data-demo] [role=status]').textContent)",
        polling=50,
        timeout=30_000,
    )  # the run restarted
    run_until(page, 70)
    with_stale = percent(page, "Reader errors")
    assert 0 <= with_stale < without - 15, (with_stale, without)
    served = re.search(r"([\d,]+) in all", metric(page, "Served stale on error"))
    assert served and int(served.group(1).replace(",", "")) > 50
