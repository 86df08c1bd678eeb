"""Which browser the browser tests drive, here and on GitHub's ubuntu-24.04 runners.

GitHub's image (actions/runner-images, images/ubuntu/Ubuntu2404-Readme.md, "Browsers
and Drivers") carries Google Chrome and a Chromium build; its install script
(scripts/build/install-google-chrome.sh) puts Chrome at /usr/bin/google-chrome, names
it in CHROME_BIN, and links /usr/bin/chromium and chromium-browser to the Chromium
build. Plain Ubuntu's chromium-browser is a wrapper that starts the chromium snap, which
Playwright cannot drive. Each case below lays out such a PATH with small executables
that answer ``--version`` the way those browsers do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import chromium_path, find_browser

SNAP_WRAPPER = """\
#!/bin/sh
if [ -x /snap/bin/chromium ]; then exec /snap/bin/chromium "$@"; fi
echo "Command '$0' requires the chromium snap to be installed." >&2
exit 1
"""


def executable(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text(script, encoding="utf-8")
    path.chmod(0o755)
    return path


def says(version: str, code: int = 0) -> str:
    return f"#!/bin/sh\necho '{version}'\nexit {code}\n"


def test_debian_chromium_comes_first(tmp_path):
    chromium = executable(tmp_path, "chromium", says("Chromium 156.0.8078.114 built on Debian"))
    executable(tmp_path, "google-chrome", says("Google Chrome 140.0.7339.80"))
    assert find_browser({"PATH": str(tmp_path)}) == (str(chromium), [])


def test_github_image_chrome_on_path(tmp_path):
    chrome = executable(tmp_path, "google-chrome", says("Google Chrome 140.0.7339.80"))
    assert find_browser({"PATH": str(tmp_path)}) == (
        str(chrome),
        ["chromium: not on PATH", "chromium-browser: not on PATH"],
    )


def test_chrome_bin_when_nothing_is_on_path(tmp_path):
    folder = tmp_path / "opt"
    folder.mkdir()
    chrome = executable(folder, "chrome", says("Google Chrome 140.0.7339.80"))
    path, passed_over = find_browser({"PATH": str(tmp_path), "CHROME_BIN": str(chrome)})
    assert path == str(chrome)
    assert len(passed_over) == 4


def test_the_ubuntu_snap_wrapper_is_passed_over(tmp_path):
    wrapper = executable(tmp_path, "chromium-browser", SNAP_WRAPPER)
    chrome = executable(tmp_path, "google-chrome", says("Google Chrome 140.0.7339.80"))
    path, passed_over = find_browser({"PATH": str(tmp_path)})
    assert path == str(chrome)
    assert f"chromium-browser: {wrapper} is a wrapper that starts the chromium snap" in passed_over


def test_a_snap_is_passed_over(tmp_path):
    """Snap links point at /usr/bin/snap, which dispatches on the name it was run as."""
    (tmp_path / "chromium").symlink_to(executable(tmp_path, "snap", says("snap 2.63")))
    path, passed_over = find_browser({"PATH": str(tmp_path)})
    assert path is None
    assert passed_over[0].endswith("is a snap, which cannot see Playwright's profile in /tmp")


def test_a_program_that_is_not_a_browser_is_passed_over(tmp_path):
    executable(tmp_path, "chromium", says("usage: something else", code=2))
    path, passed_over = find_browser({"PATH": str(tmp_path)})
    assert path is None
    assert "exited 2 saying 'usage: something else'" in passed_over[0]


def test_an_explicit_choice_is_the_only_candidate(tmp_path):
    executable(tmp_path, "chromium", says("Chromium 156.0.8078.114"))
    broken = executable(tmp_path, "mine", says("", code=1))
    path, passed_over = find_browser({"PATH": str(tmp_path), "CHROMIUM": str(broken)})
    assert path is None
    assert passed_over == [f"$CHROMIUM={broken}: {broken} `--version` exited 1 saying ''"]


def test_no_browser_fails_the_test_and_says_how_to_install_one(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.delenv("CHROME_BIN", raising=False)
    with pytest.raises(pytest.fail.Exception) as failed:
        chromium_path()
    message = str(failed.value)
    assert "chromium: not on PATH" in message
    assert "google-chrome: not on PATH" in message
    assert "sudo apt-get install chromium" in message
    assert "\n" not in message


def test_this_machine_has_a_browser_that_runs():
    """The same code path the browser fixture takes, on the real PATH."""
    path, _passed_over = find_browser()
    assert path is not None, _passed_over
