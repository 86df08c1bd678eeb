"""A broken host: each runtime file fails on the server in turn, and the widget says
which file and why within seconds, then recovers on Run (retry) once it is served again.

The fixture site is served by a server that can be told to answer one file with an HTTP
error, to close the connection with no answer, to cut the body off midway, or to send it
with the wrong MIME type (keeping Last-Modified, so that the browser may cache the bad
answer as a real host's would be cached). Real Chromium, real Pyodide.
"""

from __future__ import annotations

import fnmatch
import functools
import http.server
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import pytest

from tests.browser.helpers import Recorder, frame_text, prefer_live, wait_state
from tests.conftest import _Handler

pytestmark = pytest.mark.browser

FAIL_FAST_S = 5.0
"""The widget must show the error this soon after the fault (the fixture's boot deadline
is 15 s, so an error that waited for the deadline fails this and names no file)."""


@dataclass
class Faults:
    """What the server breaks: ``{file name pattern: fault}``, and when it broke it."""

    rules: dict[str, tuple] = field(default_factory=dict)
    served: list[tuple[str, float]] = field(default_factory=list)  # (file, monotonic time)
    requests: list[str] = field(default_factory=list)

    def match(self, name: str) -> tuple | None:
        return next((f for p, f in self.rules.items() if fnmatch.fnmatchcase(name, p)), None)


class _FaultyHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = _Handler.extensions_map  # the MIME types a static host sends

    def __init__(self, *args, faults: Faults, **kwargs) -> None:
        self.faults = faults
        super().__init__(*args, **kwargs)

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        name = unquote(urlsplit(self.path).path.rsplit("/", 1)[-1])
        self.faults.requests.append(name)
        fault = self.faults.match(name)
        if fault is None:
            super().do_GET()
            return
        self.faults.served.append((name, time.monotonic()))
        kind, arg = fault
        if kind == "status":
            self.send_error(arg)
            return
        if kind == "drop":  # no answer at all
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        path = self.translate_path(self.path)
        with open(path, "rb") as stream:
            data = stream.read()
        self.send_response(200)
        self.send_header("Content-Type", arg if kind == "type" else self.guess_type(path))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Last-Modified", self.date_time_string(os.stat(path).st_mtime))
        self.end_headers()
        if kind == "cut":  # the connection dies halfway through the body
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)


@pytest.fixture(scope="module")
def faulty_host(fixture_site):
    """The fixture site on a server that breaks what ``Faults.rules`` names."""
    faults = Faults()
    handler = functools.partial(_FaultyHandler, directory=str(fixture_site.folder), faults=faults)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", faults
    server.shutdown()


@pytest.fixture
def broken(browser, faulty_host):
    """Open the talk page on the faulty host in a fresh context (an empty HTTP cache)."""
    base, faults = faulty_host
    contexts = []

    def open_(rules: dict[str, tuple], width: int = 1280):
        faults.rules.clear()
        faults.rules.update(rules)
        faults.served.clear()
        faults.requests.clear()
        context = prefer_live(browser.new_context(viewport={"width": width, "height": 900}))
        contexts.append(context)
        recorder = Recorder(base)
        page = recorder.attach(context.new_page())
        page.goto(base + "testconf/talk-one/")
        page.wait_for_selector("[data-demo][data-mounted]")
        return page, faults

    yield open_
    faults.rules.clear()
    for context in contexts:
        context.close()


def error_after_fault(page, faults: Faults) -> float:
    """Click Run, wait for the error state; return seconds from the fault to the error."""
    page.get_by_role("button", name="Run", exact=True).click()
    wait_state(page, "error", timeout=30_000)
    seen = time.monotonic()
    assert faults.served, "the server never served the fault"
    return seen - faults.served[0][1]


CASES = [
    # (file pattern, fault, what the status must say after "could not load: ")
    ("pyodide.asm.wasm", ("status", 404), "pyodide.asm.wasm: HTTP 404 Not Found"),
    ("pyodide.asm.wasm", ("cut", None), "pyodide.asm.wasm: the download was cut off after"),
    (
        "pyodide.asm.wasm",
        ("type", "application/octet-stream"),
        "pyodide.asm.wasm: served as application/octet-stream; WebAssembly needs application/wasm",
    ),
    ("pyodide.mjs", ("status", 404), "pyodide.mjs: HTTP 404 Not Found"),
    (
        "pyodide.mjs",
        ("type", "text/plain"),
        "pyodide.mjs: served as text/plain; a JavaScript module needs text/javascript",
    ),
    ("pyodide.asm.mjs", ("drop", None), "pyodide.asm.mjs: the download failed"),
    (
        "pyodide.asm.mjs",
        ("type", "application/octet-stream"),
        "pyodide.asm.mjs: served as application/octet-stream; a JavaScript module needs",
    ),
    ("python_stdlib.zip", ("status", 404), "python_stdlib.zip: HTTP 404 Not Found"),
    ("pyodide-lock.json", ("status", 503), "pyodide-lock.json: HTTP 503 Service Unavailable"),
    ("livenotes_demokit-*.whl", ("status", 404), "HTTP 404 Not Found"),
    ("livenotes_demo_faulty-*.whl", ("cut", None), "the download was cut off after"),
    ("worker.js", ("status", 404), "worker.js: HTTP 404 Not Found"),
]


@pytest.mark.parametrize(
    ("pattern", "fault", "says"),
    CASES,
    ids=[f"{pattern.replace('-*', '')}-{fault[0]}" for pattern, fault, _ in CASES],
)
def test_a_broken_file_fails_fast_names_itself_and_retry_works(broken, pattern, fault, says):
    page, faults = broken({pattern: fault})
    elapsed = error_after_fault(page, faults)
    status = page.inner_text("[role=status]")
    print(f"{pattern} {fault[0]}: error {elapsed:.2f} s after the fault: {status}")
    assert elapsed < FAIL_FAST_S, status
    whose = "The demo's code" if pattern.endswith(".whl") else "The Python runtime"
    assert status.startswith(f"{whose} could not load: "), status
    assert says in status, status
    assert fnmatch.fnmatchcase(status.split(": ")[1], pattern), status  # the file, named
    assert status.endswith("Run (retry) loads it again."), status
    assert page.get_attribute("[data-demo]", "data-error") == "runtime"
    assert "Ticker at step 2" in frame_text(page)  # the preview stays

    faults.rules.clear()  # the host is fixed
    asked = len(faults.requests)
    page.get_by_role("button", name="Run (retry)").click()
    wait_state(page, "running", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('[data-demo-frame]').textContent.includes('step 2')",
        polling=50,
        timeout=15_000,
    )
    assert page.get_attribute("[data-demo]", "data-error") is None
    # the retry asked the server again for the file that had failed
    assert any(fnmatch.fnmatchcase(name, pattern) for name in faults.requests[asked:])


def test_error_state_at_desktop_and_phone_width(broken, output_dir):
    """Screenshots for a person to look at: the error reads as the runtime's, not the demo's."""
    for width in (1280, 390):
        page, faults = broken({"pyodide.asm.wasm": ("status", 404)}, width=width)
        error_after_fault(page, faults)
        figure = page.locator("[data-demo]")
        figure.scroll_into_view_if_needed()
        figure.screenshot(path=str(output_dir / f"runtime-error-{width}.png"))
        box = page.locator("[role=status]").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert page.get_by_role("button", name="Run (retry)").is_enabled()
