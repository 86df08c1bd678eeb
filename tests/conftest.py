"""Shared fixtures: tiny sites in temp folders, builds, a static server, a browser."""

from __future__ import annotations

import functools
import http.server
import importlib
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"

# The site's demos, imported the way the build imports them before any test module
# imports them by name: the builds that tests run in this process then keep these very
# modules, so the classes of objects made earlier still pickle.
from livenotes.demos import discover  # noqa: E402

importlib.import_module("demos")  # first: the namespace package over every demos/ on sys.path
discover(ROOT / "demos")
OUTPUT = ROOT / "test-output"

EVENT_PAGE = """\
---
title: Test Conference 2024
event: testconf
date: 2024-05-01
---

<!-- talks -->
"""

GOOD_TALK = """\
---
title: A Good Talk
speakers:
  - name: Ada Tester
    affiliation: Test Lab
event: testconf
date: 2024-05-01
order: 1
tags: [testing]
---

A good talk's first paragraph.
"""


DEMO_TALK = GOOD_TALK.replace("tags: [testing]", "tags: [testing]\ndemos: [faulty]")
"""The good talk, listing the test-only demo so that its body may embed it."""


def mkdocs_yml(
    runtime: bool = False, plugin: bool = True, extra: str = "", demos: Path | None = None
) -> str:
    """A site config using the project's templates and the test-only demos."""
    livenotes = (
        textwrap.dedent(f"""\
      - livenotes:
          demos_dir: {demos or FIXTURES / "demos"}
          runtime: {str(runtime).lower()}
          runtime_cache: {ROOT / ".cache"}
    """)
        if plugin
        else ""
    )
    return (
        textwrap.dedent(f"""\
        site_name: Tiny
        site_url: http://127.0.0.1:8000/
        theme:
          name: material
          custom_dir: {ROOT / "overrides"}
          font: false
        plugins:
          - search
          - tags
        """)
        + textwrap.indent(livenotes, "  ")
        + extra
    )


def make_site(root: Path, files: dict[str, str], **config) -> Path:
    """Write ``files`` (paths under the site folder) and a mkdocs.yml into ``root``."""
    (root / "mkdocs.yml").write_text(mkdocs_yml(**config), encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def run_build(site: Path, *args: str, site_url: str | None = None) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` in ``site``; returns the finished process."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("SITE_URL", None)
    if site_url:
        env["SITE_URL"] = site_url
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", *args],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def host_headers(folder: Path, path: str) -> list[tuple[str, str]]:
    """The headers ``folder/_headers`` gives ``path`` the way Cloudflare Pages applies
    them: every matching rule's, values of one name joined with ", " (so two
    Content-Security-Policy values are two policies, both enforced); ``! Name`` drops a
    header an earlier rule set. Patterns: ``*`` matches anything, ``:name`` one segment."""
    try:
        text = (folder / "_headers").read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
    found: dict[str, list[str]] = {}
    matches = False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            pattern = re.sub(r"\\\*", ".*", re.escape(line.strip()))
            pattern = re.sub(r":\w+", "[^/]+", pattern)
            matches = re.fullmatch(pattern, path) is not None
        elif matches and line.strip().startswith("!"):
            found.pop(line.strip()[1:].strip().lower(), None)
        elif matches:
            name, _, value = line.strip().partition(":")
            found.setdefault(name.strip().lower(), []).append(value.strip())
    return [(name, ", ".join(values)) for name, values in found.items()]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a built site as a static host does: the MIME types Pyodide needs, and the
    site's ``_headers`` rules (the file itself is not served)."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".whl": "application/zip",
        ".zip": "application/zip",
    }

    def send_head(self):
        if urllib.parse.urlsplit(self.path).path == "/_headers":
            self.send_error(404)
            return None
        return super().send_head()

    def end_headers(self) -> None:
        for name, value in host_headers(Path(self.directory), self.path):
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def serve():
    """Serve a folder on 127.0.0.1; returns its base URL. Servers stop after the session."""
    servers = []

    def start(folder: Path, port: int = 0) -> str:
        handler = functools.partial(_Handler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()


#: Where the browser tests look for a browser, in order. ``$CHROMIUM`` is an explicit
#: choice and is the only candidate when set. Then the names on PATH: Debian's
#: ``chromium``; ``chromium-browser`` (older Ubuntu, and GitHub's ubuntu-24.04 image,
#: whose /usr/bin/chromium and chromium-browser link to a Chromium build); Google's
#: ``google-chrome`` package, which that image also carries and names in ``$CHROME_BIN``.
BROWSER_ENV = "CHROMIUM"
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_FALLBACK_ENV = "CHROME_BIN"
_BROWSER_VERSION = re.compile(r"^(Chromium|Google Chrome)\b.*\d", re.IGNORECASE)


def _browser_problem(path: str) -> str | None:
    """Why Playwright cannot drive the browser at ``path``, or None when it can."""
    real = os.path.realpath(path)
    if real.startswith("/snap/") or os.path.basename(real) == "snap":
        # A snap has its own /tmp, so it never sees the profile Playwright makes there.
        return "is a snap, which cannot see Playwright's profile in /tmp"
    try:
        with open(real, "rb") as stream:
            head = stream.read(8192)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if head.startswith(b"#!") and b"/snap/" in head:
        return "is a wrapper that starts the chromium snap"
    try:
        done = subprocess.run(
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"does not run ({error})"
    version = done.stdout.strip()
    if done.returncode != 0 or not _BROWSER_VERSION.match(version):
        said = (version or done.stderr.strip()).splitlines()
        return f"`--version` exited {done.returncode} saying {(said or [''])[0][:80]!r}"
    return None


def find_browser(environ: Mapping[str, str] = os.environ) -> tuple[str | None, list[str]]:
    """The first browser that runs, and why each one before it was passed over."""
    if environ.get(BROWSER_ENV):
        wanted = [(f"${BROWSER_ENV}={environ[BROWSER_ENV]}", environ[BROWSER_ENV])]
    else:
        wanted = [(name, name) for name in BROWSER_NAMES]
        if environ.get(BROWSER_FALLBACK_ENV):
            fallback = environ[BROWSER_FALLBACK_ENV]
            wanted.append((f"${BROWSER_FALLBACK_ENV}={fallback}", fallback))
    search = environ.get("PATH", os.defpath)
    passed_over = []
    seen = set()
    for label, name in wanted:
        path = shutil.which(name, path=search)
        if not path:
            passed_over.append(f"{label}: not found" if label != name else f"{name}: not on PATH")
            continue
        if os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        problem = _browser_problem(path)
        if problem is None:
            return path, passed_over
        passed_over.append(f"{label}: {path} {problem}")
    return None, passed_over


def chromium_path() -> str:
    """The browser the tests drive; fails the test (never skips) when there is none."""
    path, passed_over = find_browser()
    if path is None:
        pytest.fail(
            f"no browser for the browser tests ({'; '.join(passed_over)}); install Chromium "
            "(`sudo apt-get install chromium` on Debian) or Google Chrome, or set "
            f"{BROWSER_ENV}=/path/to/chromium",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser():
    """The system Chromium, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Built:
    """A site built for the address it will be served on (instant navigation only
    follows links whose host and port match the sitemap's)."""

    folder: Path
    url: str
    port: int
    log: str


def _build_for_serving(source: Path, out: Path) -> Built:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    result = run_build(source, "-d", str(out), site_url=url)
    assert result.returncode == 0, result.stderr
    return Built(out, url, port, result.stderr)


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory) -> Built:
    """tests/fixtures/site (test-only demos, the real runtime) built once."""
    return _build_for_serving(FIXTURES / "site", tmp_path_factory.mktemp("fixture-site"))


@pytest.fixture(scope="session")
def real_site(tmp_path_factory) -> Built:
    """The project's own site, built once by ``bin/build`` (as the deploy job builds it)
    for the address it will be served on."""
    out = tmp_path_factory.mktemp("real-site")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "SITE_URL": url}
    env.pop("EDIT_URI", None)
    run = functools.partial(
        subprocess.run,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    # Set up first, so that the build's log holds only MkDocs' lines (pip, when it has
    # to install, prints warnings of its own).
    setup = run(["bash", "-c", "source bin/_setup"])
    assert setup.returncode == 0, setup.stderr
    result = run([str(ROOT / "bin" / "build"), "-d", str(out)])
    assert result.returncode == 0, result.stderr
    return Built(out, url, port, result.stderr)


@pytest.fixture(scope="session")
def real_url(real_site, serve) -> str:
    """The project's own site, served on the address it was built for."""
    return serve(real_site.folder, real_site.port)


@pytest.fixture(scope="session")
def fixture_url(fixture_site, serve) -> str:
    """The fixture site, served on the address it was built for."""
    return serve(fixture_site.folder, fixture_site.port)
