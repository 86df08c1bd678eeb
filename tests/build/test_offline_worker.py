"""The service worker as the build writes it: ``sw.js`` at the site root, named by the
build's content hash (the same for the same site, another for any change), the offline
page inside it in the site's look and policy, the registering script on every page,
the worker's headers; the kill switch (``offline: false``), and ``mkdocs serve``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from livenotes import csp, offline
from tests.conftest import EVENT_PAGE, GOOD_TALK, free_port, make_site, run_build

FILES = {
    "docs/index.md": "---\ntitle: Home\n---\n\nHome.\n",
    "docs/testconf/index.md": EVENT_PAGE,
    "docs/testconf/good.md": GOOD_TALK,
}
SCRIPT_TAG = re.compile(r'<script src="([^"]*assets/livenotes/offline\.js[^"]*)" type="module">')


def _build(root: Path, files=FILES, site_url: str | None = None) -> Path:
    root.mkdir(exist_ok=True)
    make_site(root, files)
    if site_url:
        config = root / "mkdocs.yml"
        text = config.read_text(encoding="utf-8")
        config.write_text(re.sub(r"(?m)^site_url: .*$", f"site_url: {site_url}", text))
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    return root / "site"


def _worker(site: Path) -> dict:
    found = re.findall(r"^const BUILD = (.*);$", (site / offline.SCRIPT).read_text(), re.M)
    assert len(found) == 1
    return json.loads(found[0])


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("offline"))


def test_the_worker_is_at_the_root_and_is_valid_javascript(site):
    build = _worker(site)
    assert build["enabled"] is True
    assert re.fullmatch(r"[0-9a-f]{20}", build["version"])
    assert build["warm"] == ["sitemap.xml", "search/search_index.json"]
    assert build["cacheFirst"] == ["assets/pyodide/"]
    assert not (site / offline.PAGE).exists()  # it travels inside sw.js
    assert not (site / "offline").exists()  # the worker's source is not copied as is
    if shutil.which("node"):
        checked = subprocess.run(["node", "--check", str(site / offline.SCRIPT)])
        assert checked.returncode == 0


def test_every_page_loads_the_registering_script(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 4
    for page in pages:
        html = page.read_text(encoding="utf-8")
        scripts = SCRIPT_TAG.findall(html)
        assert len(scripts) == 1 and not scripts[0].endswith("?off"), page


def test_the_offline_page_has_the_sites_look_policy_and_links_from_the_root(site):
    page = _worker(site)["offline"]
    home = (site / "index.html").read_text(encoding="utf-8")
    policy = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert policy == re.findall(
        r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', home
    )
    assert csp.PLACEHOLDER not in page
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]*)">', page)
    assert stylesheets and all(href.startswith("/assets/") for href in stylesheets)
    assert [href.lstrip("/") for href in stylesheets] == re.findall(
        r'<link rel="stylesheet" href="([^"]*)">', home
    )
    assert '"base": "/"' in page and "<title>Offline · Tiny</title>" in page
    assert SCRIPT_TAG.findall(page) == ["/assets/livenotes/offline.js"]
    assert "You are offline" in page and "data-livenotes-kept" in page


def test_the_worker_has_headers_of_its_own(site):
    headers = (site / "_headers").read_text(encoding="utf-8")
    rule = headers.split(f"\n{csp.SERVICE_WORKER_PATH}\n", 1)[1]
    assert rule.splitlines()[:2] == [f"  {header}" for header in csp.SERVICE_WORKER_HEADERS]


def test_the_version_is_the_sites_content(site, tmp_path):
    again = _build(tmp_path / "again")
    assert _worker(again)["version"] == _worker(site)["version"]  # same site, same worker
    changed = _build(
        tmp_path / "changed",
        {**FILES, "docs/index.md": FILES["docs/index.md"].replace("Home.", "Home, edited.")},
    )
    assert _worker(changed)["version"] != _worker(site)["version"]
    assert _worker(changed)["runtime"] == _worker(site)["runtime"]  # the runtime's own


def test_a_site_under_a_path_links_the_offline_page_from_that_path(tmp_path):
    site = _build(tmp_path, site_url="https://ada.github.io/livenotes/")
    page = _worker(site)["offline"]
    assert '"base": "/livenotes/"' in page
    assert 'src="/livenotes/assets/livenotes/offline.js"' in page


def test_the_kill_switch_ships_a_worker_that_removes_itself(tmp_path):
    make_site(tmp_path, FILES)
    config = tmp_path / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"\n( +)runtime: false\n", r"\n\1runtime: false\n\1offline: false\n", text)
    assert "offline: false" in text
    config.write_text(text, encoding="utf-8")
    result = run_build(tmp_path)
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"
    build = _worker(site)
    assert build["enabled"] is False and build["offline"] == ""
    source = (site / offline.SCRIPT).read_text(encoding="utf-8")
    assert "registration.unregister()" in source
    for page in site.rglob("*.html"):
        # Material's 404 page links from the site root, as the offline page does.
        if page.name == "404.html":
            path = "/" + offline.CLIENT
        else:
            path = os.path.relpath(site / offline.CLIENT, page.parent)
        assert SCRIPT_TAG.findall(page.read_text(encoding="utf-8")) == [path + "?off"], page


def test_a_file_of_the_site_cannot_take_the_workers_place(tmp_path):
    make_site(tmp_path, {**FILES, "docs/sw.js": "// mine\n"})
    result = run_build(tmp_path)
    assert result.returncode != 0
    assert (
        "docs/sw.js:1: sw.js is where the plugin writes the site's service worker and offline "
        "page; rename the file, or set the plugin option `offline: false`"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_mkdocs_serve_registers_no_worker(tmp_path):
    make_site(tmp_path, FILES)
    port = free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "testconf/good/", timeout=2) as response:
                    html = response.read().decode("utf-8")
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        with urllib.request.urlopen(base + offline.SCRIPT, timeout=5) as response:
            worker = response.read().decode("utf-8")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert SCRIPT_TAG.findall(html) == ["../../assets/livenotes/offline.js?off"]
    assert '"enabled": false' in worker
