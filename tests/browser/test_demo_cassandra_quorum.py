"""The cassandra_quorum demo on its talk page, in real Chromium with real Pyodide: taking
Frankfurt down makes QUORUM reads fail while LOCAL_ONE still succeeds (ReplicaPlans.java
assureSufficientLiveReplicas: 3 live replicas < 4 for QUORUM of {fra: 3, wdc: 3})."""

from __future__ import annotations

import pytest

from tests.browser.helpers import Recorder, prefer_live, wait_state

pytestmark = pytest.mark.browser

METRIC = """(label) => [...document.querySelectorAll('[data-demo-metrics] div')]
  .find((row) => row.querySelector('dt').textContent === label)?.querySelector('dd').textContent"""


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


def wait_metric(page, label: str, test: str, timeout: float = 90_000) -> str:
    """Wait until the metric ``label``'s text ``t`` satisfies the JS expression ``test``."""
    page.wait_for_function(
        f"([label]) => {{ const t = ({METRIC})(label); return t !== undefined && ({test}); }}",
        arg=[label],
        polling=50,
        timeout=timeout,
    )
    return page.evaluate(METRIC, label)


def test_frankfurt_down_fails_quorum_reads_while_local_one_still_succeeds(page, site):
    page.goto(site + "srecon19apac/instagram-cross-continent-scaling/")
    page.wait_for_selector("[data-demo][data-mounted]")
    page.locator("[data-demo-speed]").select_option("8")
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "running")
    before = wait_metric(page, "Reads (QUORUM)", "t.startsWith('100 % ok')")
    assert "p50 9" in before  # about 90 ms: the quorum waits for Washington DC
    assert wait_metric(page, "Reads still succeeding at", "t.length > 0") == "every level"

    page.locator("[data-demo-action-arg=dc_down]").select_option(label="Frankfurt")
    page.get_by_role("button", name="Take a data centre down").click()
    # Timeouts until the failure detector convicts Frankfurt, then Unavailable.
    after = wait_metric(page, "Reads (QUORUM)", "t.startsWith('0 % ok')")
    assert after.startswith("0 % ok")
    still = wait_metric(
        page,
        "Reads still succeeding at",
        "t !== 'every level' && !t.split(', ').includes('QUORUM')",
    )
    assert "LOCAL_ONE" in still.split(", ") and "QUORUM" not in still.split(", ")
    assert page.evaluate(METRIC, "Faults") == "Frankfurt down"
