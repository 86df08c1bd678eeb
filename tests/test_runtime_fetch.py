"""The pinned Pyodide fetch: verified before it enters the cache, cache untouched on failure.

Every test uses small fake tarballs and a fake pin, with a manifest written from the fake
tarball by the same code that writes the real one (no network); npm is replaced by a
fake script first on PATH that records its calls.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

from livenotes import runtime
from livenotes.runtime import (
    CORE_FILES,
    ENV_SOURCE,
    PYODIDE_VERSION,
    RuntimeFetchError,
    core_files,
    core_size,
    fetch_pyodide,
    pinned_hashes,
    tarball_integrity,
    write_manifest,
)

HINT = (
    f"or set the plugin option runtime_source (or {ENV_SOURCE}) to a local "
    f"pyodide-{PYODIDE_VERSION}.tgz or a folder holding the core files"
)


def core_content(name: str) -> bytes:
    return f"fake {name} for pyodide {PYODIDE_VERSION}\n".encode() * 3


def make_tarball(path: Path, files: dict[str, bytes] | None = None, extra=()) -> Path:
    """A gzip tarball laid out like npm's: every member under ``package/``."""
    if files is None:
        files = {name: core_content(name) for name in CORE_FILES}
        files["README.md"] = b"readme\n"
        files["pyodide.mjs.map"] = b"{}\n"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo("package/" + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info, data in extra:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def snapshot(folder: Path):
    """Every path under ``folder`` with its size (None for folders), or None if absent."""
    if not folder.exists():
        return None
    return sorted(
        (str(p.relative_to(folder)), None if p.is_dir() else p.stat().st_size)
        for p in folder.rglob("*")
    )


@pytest.fixture(autouse=True)
def no_env_source(monkeypatch):
    monkeypatch.delenv(ENV_SOURCE, raising=False)


def pin(monkeypatch, tarball: Path) -> Path:
    """Pin ``tarball``: its sha512 becomes the pin, and its files the manifest."""
    monkeypatch.setattr(runtime, "PYODIDE_INTEGRITY", tarball_integrity(tarball))
    manifest = tarball.with_name(f"pyodide-{PYODIDE_VERSION}.sha256")
    monkeypatch.setattr(runtime, "MANIFEST", manifest)
    write_manifest(tarball)
    return manifest


@pytest.fixture
def tarball(tmp_path, monkeypatch) -> Path:
    """A good fake tarball, pinned: the pin is its sha512, the manifest its files."""
    path = make_tarball(tmp_path / f"pyodide-{PYODIDE_VERSION}.tgz")
    pin(monkeypatch, path)
    return path


def make_folder(root: Path) -> Path:
    """A folder holding the fake tarball's core files, as a contributor would copy them."""
    root.mkdir(parents=True)
    for name in CORE_FILES:
        (root / name).write_bytes(core_content(name))
    return root


def flip_one_byte(path: Path) -> None:
    """Damage a file without changing its size."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def cache(tmp_path) -> Path:
    """A cache folder that already holds something of someone else's."""
    folder = tmp_path / "cache"
    (folder / "wheels").mkdir(parents=True)
    (folder / "wheels" / "demo-1.0-py3-none-any.whl").write_bytes(b"wheel")
    return folder


class FakeNpm:
    """A fake ``npm`` script alone on PATH; records each call's arguments."""

    def __init__(self, tmp_path: Path, monkeypatch):
        self.bin = tmp_path / "fakebin"
        self.bin.mkdir()
        self.log = tmp_path / "npm-calls.log"
        script = self.bin / "npm"
        # PATH will hold only the fake npm: call the tools it needs by full path
        cp, sleep = shutil.which("cp"), shutil.which("sleep")
        script.write_text(
            "#!/bin/sh\n"
            'printf "%s\\n" "$*" >> "$FAKE_NPM_LOG"\n'
            f'if [ -n "$FAKE_NPM_SLEEP" ]; then exec {sleep} "$FAKE_NPM_SLEEP"; fi\n'
            'if [ -n "$FAKE_NPM_FAIL" ]; then\n'
            '  printf "%s\\n" "$FAKE_NPM_STDOUT"\n'
            '  printf "%s\\n" "$FAKE_NPM_FAIL" >&2\n'
            "  exit 1\n"
            "fi\n"
            "while [ $# -gt 0 ]; do\n"
            '  if [ "$1" = "--pack-destination" ]; then dest="$2"; fi\n'
            "  shift\n"
            "done\n"
            f'{cp} "$FAKE_NPM_TARBALL" "$dest/pyodide-$FAKE_NPM_VERSION.tgz"\n'
            'printf \'[{"filename": "pyodide-%s.tgz"}]\\n\' "$FAKE_NPM_VERSION"\n'
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        monkeypatch.setenv("PATH", str(self.bin))
        monkeypatch.setenv("FAKE_NPM_LOG", str(self.log))
        monkeypatch.setenv("FAKE_NPM_VERSION", PYODIDE_VERSION)
        self.monkeypatch = monkeypatch

    def serve(self, tarball: Path) -> None:
        self.monkeypatch.setenv("FAKE_NPM_TARBALL", str(tarball))

    def fail(self, stderr: str, stdout: str = "") -> None:
        self.monkeypatch.setenv("FAKE_NPM_FAIL", stderr)
        self.monkeypatch.setenv("FAKE_NPM_STDOUT", stdout)

    def hang(self, seconds: int) -> None:
        self.monkeypatch.setenv("FAKE_NPM_SLEEP", str(seconds))

    @property
    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def npm(tmp_path, monkeypatch) -> FakeNpm:
    return FakeNpm(tmp_path, monkeypatch)


def assert_installed(folder: Path, cache: Path) -> None:
    assert folder == cache / f"pyodide-{PYODIDE_VERSION}"
    for name in CORE_FILES:
        assert (folder / name).read_bytes() == core_content(name)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*CORE_FILES, runtime.MARKER])
    # nothing half-made left beside it
    assert sorted(p.name for p in cache.iterdir()) == [folder.name, "wheels"]


# -- the pin ------------------------------------------------------------------------


def test_the_pin_is_a_sha512_integrity_string():
    assert runtime.PYODIDE_VERSION == "314.0.7"
    prefix, _, digest = runtime.PYODIDE_INTEGRITY.partition("-")
    assert prefix == "sha512"
    assert len(base64.b64decode(digest, validate=True)) == 64


def test_tarball_integrity_matches_npm_format(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"hello\n")
    # `printf 'hello\n' | openssl dgst -sha512 -binary | base64`
    assert tarball_integrity(path) == (
        "sha512-58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3+TH5Sq5B7dosKyB6NuEPi8uNRSI+VIePWzFufOO2vAGWKQ=="
    )


# -- success ------------------------------------------------------------------------


def test_fetch_from_local_tarball(tarball, cache):
    folder = fetch_pyodide(cache, tarball)
    assert_installed(folder, cache)
    assert core_files(folder) == [(name, len(core_content(name))) for name in CORE_FILES]
    assert core_size(folder) == sum(len(core_content(name)) for name in CORE_FILES)
    marker = json.loads((folder / runtime.MARKER).read_text())
    assert marker["version"] == PYODIDE_VERSION
    assert marker["integrity"] == runtime.PYODIDE_INTEGRITY
    # not unpacked: README, source maps
    assert not (folder / "README.md").exists()


def test_fetch_creates_a_missing_cache_folder(tarball, tmp_path):
    folder = fetch_pyodide(tmp_path / "new" / "cache", str(tarball))
    assert folder.is_dir() and core_size(folder) > 0


@pytest.mark.parametrize("layout", ["flat", "package"])
def test_fetch_from_local_folder(tarball, tmp_path, cache, layout):
    source = tmp_path / "pyodide-dist"
    inner = source / "package" if layout == "package" else source
    inner.mkdir(parents=True)
    for name in CORE_FILES:
        (inner / name).write_bytes(core_content(name))
    (inner / "pyodide.d.ts").write_text("types")
    folder = fetch_pyodide(cache, source)
    assert_installed(folder, cache)
    assert json.loads((folder / runtime.MARKER).read_text())["integrity"] is None


def test_env_var_is_the_fallback_source(tarball, cache, monkeypatch, npm):
    monkeypatch.setenv(ENV_SOURCE, str(tarball))
    assert_installed(fetch_pyodide(cache), cache)
    assert npm.calls == []


def test_fetch_with_npm_pack(tarball, cache, npm):
    npm.serve(tarball)
    folder = fetch_pyodide(cache)
    assert_installed(folder, cache)
    [call] = npm.calls
    args = call.split()
    assert args[:2] == ["pack", f"pyodide@{PYODIDE_VERSION}"]
    assert "--pack-destination" in args and "--json" in args
    # the npm download itself is not kept in the cache
    assert not list(cache.rglob("*.tgz"))


def test_cache_hit_does_not_call_npm(tarball, cache, npm):
    npm.serve(tarball)
    first = fetch_pyodide(cache)
    assert len(npm.calls) == 1
    before = snapshot(cache)
    assert fetch_pyodide(cache) == first
    assert fetch_pyodide(cache, "/does/not/exist") == first
    assert len(npm.calls) == 1
    assert snapshot(cache) == before


def test_incomplete_cache_folder_is_replaced(tarball, cache):
    stale = cache / f"pyodide-{PYODIDE_VERSION}"
    stale.mkdir()
    (stale / "pyodide.mjs").write_bytes(b"half")  # no marker: an interrupted copy
    assert_installed(fetch_pyodide(cache, tarball), cache)


def test_cache_with_a_damaged_file_is_fetched_again(tarball, cache):
    folder = fetch_pyodide(cache, tarball)
    (folder / "pyodide.asm.wasm").write_bytes(b"x")
    assert_installed(fetch_pyodide(cache, tarball), cache)


@pytest.mark.parametrize("name", CORE_FILES)
def test_cache_damaged_without_a_size_change_is_caught_by_hash(tarball, cache, name, caplog):
    folder = fetch_pyodide(cache, tarball)
    flip_one_byte(folder / name)
    with caplog.at_level(logging.WARNING, logger="livenotes.runtime"):
        assert_installed(fetch_pyodide(cache, tarball), cache)
    assert f"{folder / name}: sha256 mismatch with the pinned Pyodide" in caplog.text


def test_damaged_cache_and_a_damaged_folder_leave_the_cache_as_it_was(tarball, tmp_path, cache):
    folder = fetch_pyodide(cache, tarball)
    flip_one_byte(folder / "python_stdlib.zip")
    source = make_folder(tmp_path / "dist")
    flip_one_byte(source / "pyodide.asm.wasm")
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError, match=r"dist/pyodide\.asm\.wasm: sha256 mismatch"):
        fetch_pyodide(cache, source)
    assert snapshot(cache) == before


def test_good_cache_is_reused_whatever_the_source(tarball, tmp_path, cache):
    folder = fetch_pyodide(cache, tarball)
    source = make_folder(tmp_path / "dist")
    flip_one_byte(source / "pyodide.mjs")
    before = snapshot(cache), (folder / "pyodide.mjs").read_bytes()
    assert fetch_pyodide(cache, source) == folder
    assert (snapshot(cache), (folder / "pyodide.mjs").read_bytes()) == before


# -- the manifest: a folder is checked file by file --------------------------------


def test_the_checked_in_manifest_is_for_the_pin():
    """livenotes/pyodide-314.0.7.sha256 was written from the tarball the pin names."""
    assert runtime.MANIFEST.name == f"pyodide-{PYODIDE_VERSION}.sha256"
    text = runtime.MANIFEST.read_text(encoding="utf-8")
    assert f"# tarball {runtime.PYODIDE_INTEGRITY}\n" in text
    hashes = pinned_hashes()
    assert set(CORE_FILES) <= set(hashes)
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in hashes.values())
    # the same folder check as sha256sum would do, on the real cache when it is there
    cached = runtime.runtime_dir(Path(__file__).parents[1] / ".cache")
    if (cached / runtime.MARKER).is_file():
        for name in CORE_FILES:
            with open(cached / name, "rb") as stream:
                assert hashlib.file_digest(stream, "sha256").hexdigest() == hashes[name], name


def test_write_manifest_lists_every_file_of_the_tarball(tarball):
    lines = runtime.MANIFEST.read_text(encoding="utf-8").splitlines()
    assert lines[1] == f"# tarball {runtime.PYODIDE_INTEGRITY}"
    entries = [line.split("  ") for line in lines if not line.startswith("#")]
    assert [name for _digest, name in entries] == sorted(
        [*CORE_FILES, "README.md", "pyodide.mjs.map"]
    )
    for digest, name in entries:
        if name in CORE_FILES:
            assert digest == hashlib.sha256(core_content(name)).hexdigest()


def test_write_manifest_refuses_a_tarball_that_is_not_pinned(tarball, tmp_path):
    other = make_tarball(tmp_path / "other.tgz", {name: b"other" for name in CORE_FILES})
    before = runtime.MANIFEST.read_bytes()
    with pytest.raises(RuntimeFetchError, match=r"other\.tgz: sha512 mismatch .* only written"):
        write_manifest(other)
    assert runtime.MANIFEST.read_bytes() == before


def test_cli_writes_the_manifest(tarball, capsys):
    runtime.MANIFEST.unlink()
    assert runtime.main(["--write-manifest", str(tarball)]) == 0
    assert capsys.readouterr().out.strip() == str(runtime.MANIFEST)
    assert set(CORE_FILES) <= set(pinned_hashes())


@pytest.mark.parametrize("name", CORE_FILES)
def test_folder_with_a_file_that_is_not_the_pinned_one(tarball, tmp_path, cache, name):
    source = make_folder(tmp_path / "dist")
    flip_one_byte(source / name)  # same size: only a hash can tell
    stale = cache / f"pyodide-{PYODIDE_VERSION}"
    stale.mkdir()
    (stale / "pyodide.mjs").write_bytes(b"half")
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError) as caught:
        fetch_pyodide(cache, source)
    expected = hashlib.sha256(core_content(name)).hexdigest()
    actual = hashlib.sha256((source / name).read_bytes()).hexdigest()
    assert str(caught.value) == (
        f"{source / name}: sha256 mismatch for Pyodide {PYODIDE_VERSION}: expected {expected} "
        f"(pyodide-{PYODIDE_VERSION}.sha256), got {actual}; this is not the file of the "
        f"pinned tarball: copy it again, {HINT}"
    )
    assert snapshot(cache) == before


def test_manifest_for_another_pin_stops_the_build(tarball, cache, monkeypatch):
    folder = fetch_pyodide(cache, tarball)
    monkeypatch.setattr(runtime, "PYODIDE_INTEGRITY", "sha512-" + "B" * 86 + "==")
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError) as caught:
        fetch_pyodide(cache, tarball)
    message = str(caught.value)
    assert message.startswith(f"{runtime.MANIFEST}: written for the tarball sha512-")
    assert message.endswith(
        f"regenerate it from the verified tarball with python -m livenotes.runtime "
        f"--write-manifest pyodide-{PYODIDE_VERSION}.tgz"
    )
    assert snapshot(cache) == before and folder.is_dir()


def test_manifest_without_a_core_file_is_reported(tarball, cache):
    runtime.MANIFEST.write_text(f"# tarball {runtime.PYODIDE_INTEGRITY}\n", encoding="utf-8")
    with pytest.raises(RuntimeFetchError, match=r"no sha256 for the core file\(s\) pyodide\.mjs, "):
        fetch_pyodide(cache, tarball)


def test_malformed_manifest_line_is_reported(tarball, cache):
    with runtime.MANIFEST.open("a", encoding="utf-8") as stream:
        stream.write("not a line\n")
    with pytest.raises(RuntimeFetchError, match=r"\.sha256:12: not a sha256sum line"):
        fetch_pyodide(cache, tarball)


# -- failures leave the cache as it was ---------------------------------------------


def test_hash_mismatch(tmp_path, cache, monkeypatch):
    path = make_tarball(tmp_path / "other.tgz")
    pinned = "sha512-" + base64.b64encode(b"\0" * 64).decode()
    monkeypatch.setattr(runtime, "PYODIDE_INTEGRITY", pinned)
    stale = cache / f"pyodide-{PYODIDE_VERSION}"
    stale.mkdir()
    (stale / "pyodide.mjs").write_bytes(b"half")
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError) as caught:
        fetch_pyodide(cache, path)
    assert str(caught.value) == (
        f"{path}: sha512 mismatch for pyodide {PYODIDE_VERSION}: expected {pinned}, "
        f"got {tarball_integrity(path)}; this is not the pinned tarball: fetch it again, "
        f"{HINT}"
    )
    assert "\n" not in str(caught.value)
    assert snapshot(cache) == before


def test_hash_mismatch_from_npm(tarball, cache, npm, monkeypatch):
    npm.serve(tarball)
    monkeypatch.setattr(runtime, "PYODIDE_INTEGRITY", "sha512-" + "A" * 86 + "==")
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError, match=r"^npm pack pyodide@314\.0\.7: sha512 mismatch"):
        fetch_pyodide(cache)
    assert snapshot(cache) == before


def test_truncated_tarball(tarball, tmp_path, cache):
    cut = tmp_path / "cut.tgz"
    data = tarball.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError) as caught:
        fetch_pyodide(cache, cut)
    assert str(caught.value) == (
        f"{cut}: the tarball is cut short ({len(data) // 2} bytes, an interrupted download?); "
        f"fetch it again, {HINT}"
    )
    assert snapshot(cache) == before


def test_truncated_tarball_even_when_its_hash_is_pinned(tarball, tmp_path, cache, monkeypatch):
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(tarball.read_bytes()[:-40])
    monkeypatch.setattr(runtime, "PYODIDE_INTEGRITY", tarball_integrity(cut))
    before = snapshot(cache)
    with pytest.raises(
        RuntimeFetchError, match=r"^\S+cut\.tgz: the tarball is cut short or corrupt"
    ):
        fetch_pyodide(cache, cut)
    assert snapshot(cache) == before


def test_npm_missing_from_path(cache, tmp_path, monkeypatch):
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError) as caught:
        fetch_pyodide(cache)
    assert str(caught.value) == (
        f"npm is not on PATH, so pyodide@{PYODIDE_VERSION} cannot be fetched; install "
        f"Node.js/npm (Debian: apt-get install npm), {HINT}"
    )
    assert snapshot(cache) == before


def test_npm_missing_and_no_cache_folder_yet(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(RuntimeFetchError):
        fetch_pyodide(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_npm_failing(cache, npm):
    npm.fail(
        "npm error code ENOTFOUND\n"
        "npm error network request to https://example.invalid/pyodide failed\n"
        "npm error A complete log of this run can be found in: /root/.npm/_logs/x.log"
    )
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError) as caught:
        fetch_pyodide(cache)
    message = str(caught.value)
    assert message == (
        f"npm pack pyodide@{PYODIDE_VERSION} failed: code ENOTFOUND; network request to "
        f"<url> failed (no network?); {HINT}"
    )
    assert "\n" not in message and "://" not in message
    assert len(npm.calls) == 1
    assert snapshot(cache) == before


def test_npm_failing_with_json_error(cache, npm):
    error = {"error": {"code": "ETARGET", "summary": "No matching version found."}}
    npm.fail("npm error code ETARGET", stdout=json.dumps(error))
    with pytest.raises(RuntimeFetchError) as caught:
        fetch_pyodide(cache)
    assert str(caught.value).startswith(
        f"npm pack pyodide@{PYODIDE_VERSION} failed: ETARGET No matching version found. "
    )


def test_npm_hanging_times_out(cache, npm):
    npm.hang(30)
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError, match=r"gave no tarball within 0\.5 s"):
        fetch_pyodide(cache, timeout=0.5)
    assert snapshot(cache) == before


def test_missing_core_file(tmp_path, cache, monkeypatch):
    files = {name: core_content(name) for name in CORE_FILES if name != "pyodide.asm.wasm"}
    path = make_tarball(tmp_path / "partial.tgz", files)
    monkeypatch.setattr(runtime, "PYODIDE_INTEGRITY", tarball_integrity(path))
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError) as caught:
        fetch_pyodide(cache, path)
    assert str(caught.value) == (
        f"{path}: the tarball lacks the Pyodide core file(s) package/pyodide.asm.wasm; {HINT}"
    )
    assert snapshot(cache) == before


def test_folder_missing_core_file(tmp_path, cache):
    source = tmp_path / "dist"
    source.mkdir()
    (source / "pyodide.mjs").write_bytes(b"x")
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError, match=r"missing pyodide\.asm\.mjs, pyodide\.asm\.wasm"):
        fetch_pyodide(cache, source)
    assert snapshot(cache) == before


def test_source_that_does_not_exist(tmp_path, cache):
    with pytest.raises(RuntimeFetchError, match=r"nope\.tgz: Pyodide source not found"):
        fetch_pyodide(cache, tmp_path / "nope.tgz")


def traversal_member(name: str, data: bytes = b"owned\n"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def link_member(name: str, target: str):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info, None


@pytest.mark.parametrize(
    "member",
    [
        traversal_member("package/../../evil.txt"),
        traversal_member("/tmp/evil.txt"),
        link_member("package/link", "/etc/passwd"),
    ],
    ids=["dotdot", "absolute", "symlink"],
)
def test_path_traversal_member_rejected(tmp_path, cache, monkeypatch, member):
    path = make_tarball(
        tmp_path / "evil.tgz",
        {name: core_content(name) for name in CORE_FILES},
        extra=[member],
    )
    monkeypatch.setattr(runtime, "PYODIDE_INTEGRITY", tarball_integrity(path))
    before = snapshot(cache)
    with pytest.raises(RuntimeFetchError, match=r"refusing to unpack it") as caught:
        fetch_pyodide(cache, path)
    assert repr(member[0].name) in str(caught.value)
    assert snapshot(cache) == before
    assert not (tmp_path / "evil.txt").exists()


def test_unwritable_cache_leaves_nothing(tarball, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RuntimeFetchError, match=r"cannot write the Pyodide cache"):
        fetch_pyodide(blocker / "cache", tarball)
    assert blocker.read_text() == "not a folder"


def test_core_files_reports_a_missing_file(tmp_path):
    with pytest.raises(RuntimeFetchError, match=r"pyodide\.mjs is missing"):
        core_files(tmp_path)


# -- command line -------------------------------------------------------------------


def test_cli_prints_folder_and_size(tarball, tmp_path, capsys):
    assert runtime.main(["--cache", str(tmp_path / "c"), "--source", str(tarball)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == str(tmp_path / "c" / f"pyodide-{PYODIDE_VERSION}")
    total = sum(len(core_content(name)) for name in CORE_FILES)
    assert out[-1].startswith(f"Pyodide {PYODIDE_VERSION}: 5 core files, {total:,} bytes")


def test_cli_fails_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", os.fspath(tmp_path / "nothing"))
    assert runtime.main(["--cache", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: npm is not on PATH")
