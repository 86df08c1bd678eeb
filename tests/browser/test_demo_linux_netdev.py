"""The linux_netdev demo on its own page, in real Chromium and Pyodide: switching
macvlan from bridge to private mode makes the container-to-container ping fail."""

from __future__ import annotations

import pytest

from tests.browser.helpers import wait_state
from tests.browser.test_demos import metric, page, site  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

LAST_PING_IS = """(want) => [...document.querySelectorAll('[data-demo-metrics] div')]
  .some((r) => r.querySelector('dt').textContent === 'Last ping'
               && r.querySelector('dd').textContent === want)"""


def test_macvlan_private_mode_stops_the_containers_reaching_each_other(page, site):  # noqa: F811
    page.goto(site + "demos/linux_netdev/")
    page.wait_for_selector("[data-demo][data-mounted]")
    page.locator("[data-demo-scenario]").select_option("macvlan")
    page.locator("[data-demo-speed]").select_option("8")
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "running")
    page.wait_for_function(LAST_PING_IS, arg="c1 → c2: reply received", polling=50, timeout=90_000)
    assert metric(page, "Reachable pairs") == "8 of 12"

    page.get_by_label("macvlan mode").select_option("private")  # not live: a fresh run
    page.wait_for_function(
        LAST_PING_IS, arg="c1 → c2: host unreachable", polling=50, timeout=60_000
    )
    assert metric(page, "Reachable pairs") == "6 of 12"
    assert "private mode" in page.locator("[data-demo-frame] svg title").text_content()
