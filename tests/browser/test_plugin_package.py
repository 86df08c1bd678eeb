"""The plugin works in any MkDocs site, not only in this repository.

A fresh project in a temp folder, with only ``theme: material`` and ``plugins: [search,
livenotes]``, one event and one note embedding a demo from the project's own
``demos/``, is built by the plugin as installed from its wheel (a plain, non-editable
``pip install`` into a clean virtual environment); the demo then runs in Chromium.
Everything the widget and the generated pages need must ship in the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from livenotes.runtime import runtime_dir
from tests.browser.helpers import Recorder, prefer_live, wait_state
from tests.conftest import DEMO_TALK, EVENT_PAGE, FIXTURES, ROOT, free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A clean virtual environment with the package installed from its wheel."""
    folder = tmp_path_factory.mktemp("installed")
    dist = folder / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    (wheel,) = dist.glob("livenotes-*.whl")
    result = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return venv


def _project(root: Path, port: int) -> Path:
    root.mkdir(parents=True)
    (root / "mkdocs.yml").write_text(
        textwrap.dedent(f"""\
            site_name: Elsewhere
            site_url: http://127.0.0.1:{port}/
            theme:
              name: material
            plugins:
              - search
              - livenotes
            """),
        encoding="utf-8",
    )
    (root / "docs/testconf").mkdir(parents=True)
    (root / "docs/index.md").write_text("---\ntitle: Home\n---\n\nHello.\n", encoding="utf-8")
    (root / "docs/testconf/index.md").write_text(EVENT_PAGE, encoding="utf-8")
    (root / "docs/testconf/talk.md").write_text(
        DEMO_TALK + "\n```demo\nname: faulty\nscenario: long\n```\n", encoding="utf-8"
    )
    shutil.copytree(FIXTURES / "demos", root / "demos")
    return root


def test_a_fresh_site_builds_with_the_installed_plugin_and_its_demo_runs(
    installed, tmp_path, browser, serve
):
    port = free_port()
    project = _project(tmp_path / "project", port)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SITE_URL")},
        "NO_MKDOCS_2_WARNING": "1",
        # The verified runtime of this checkout, checked file by file against the pin.
        "LIVENOTES_PYODIDE_SOURCE": str(runtime_dir(ROOT / ".cache")),
    }
    result = subprocess.run(
        [str(installed / "bin/mkdocs"), "build", "--strict"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    site = project / "site"
    for generated in ("speakers/index.html", "demos/index.html", "testconf/talk/index.html"):
        assert (site / generated).is_file(), generated
    talk = (site / "testconf/talk/index.html").read_text(encoding="utf-8")
    assert 'class="ln-talk-header"' in talk and "data-demo=" in talk

    base = serve(site, port)
    page = prefer_live(browser.new_page())
    recorder = Recorder(base)
    recorder.attach(page)
    page.goto(base + "testconf/talk/")
    page.wait_for_selector("[data-demo][data-mounted]")
    before = page.inner_html("[data-demo-frame]")
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "running", timeout=90_000)
    page.wait_for_function(
        "(before) => document.querySelector('[data-demo-frame]').innerHTML !== before",
        arg=before,
        polling=50,
        timeout=30_000,
    )
    # Material itself loads Google Fonts unless a site sets `theme.font: false` (ours
    # does); that is the site's choice. Nothing else may come from another host.
    fonts = ("fonts.googleapis.com", "fonts.gstatic.com")
    assert [url for url in recorder.foreign() if not any(host in url for host in fonts)] == []
    # Google's font hosts cannot be reached from this machine; that is all that may fail.
    assert [e for e in recorder.errors if "ERR_NAME_NOT_RESOLVED" not in e] == []
    page.close()
