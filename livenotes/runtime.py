"""The pinned Pyodide runtime: fetch once, verify, cache.

This module is the single place where the Pyodide version and the sha512 of its npm
tarball are pinned. Everything else imports :data:`PYODIDE_VERSION` and
:data:`PYODIDE_INTEGRITY` from here.

:func:`fetch_pyodide` returns a cache folder holding the core files of the pinned
release. The tarball comes from the npm client (``npm pack pyodide@<version>``: the
registry is reached by package name only), or from a local tarball or folder given as
``source`` (the plugin's ``runtime_source`` option, or ``LIVENOTES_PYODIDE_SOURCE``).
Everything is verified before it enters the cache, and a failure leaves the cache
exactly as it was.

A tarball is checked against the pinned sha512. A folder has no tarball to check, so each
core file is checked against :data:`MANIFEST`, the sha256 of every file of the pinned
tarball, checked in beside this module and generated once from the verified tarball. The
same manifest checks a reused cache on every build (about 11 ms for the 13.5 MB core).

Run ``python -m livenotes.runtime [--cache DIR] [--source PATH]`` to fetch by hand, and
``python -m livenotes.runtime --write-manifest pyodide-<version>.tgz`` to regenerate the
manifest after changing the pin.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

__all__ = [
    "CORE_FILES",
    "DEFAULT_CACHE_DIR",
    "ENV_SOURCE",
    "MANIFEST",
    "PYODIDE_INTEGRITY",
    "PYODIDE_VERSION",
    "RuntimeFetchError",
    "core_files",
    "core_size",
    "fetch_pyodide",
    "main",
    "pinned_hashes",
    "runtime_dir",
    "tarball_integrity",
    "write_manifest",
]

# The single pin. PYODIDE_INTEGRITY is the npm package's published ``dist.integrity``.
PYODIDE_VERSION = "314.0.7"
PYODIDE_INTEGRITY = "sha512-0YvXxEhfEdpLfb/XkM2BFAeMROq0iMUX2bzzH9pOttyMcWkwq+HbE5uyuGD82LN7y2q+SNvi/6V5JEsOlD2R1A=="  # noqa: E501

#: What ``loadPyodide`` fetches in a module worker for a pure-Python setup:
#: the ES-module loader, the Emscripten module it imports, the WebAssembly binary,
#: the standard library and the package lock file (``lockFileContents`` can replace
#: the last one). The tarball's ``pyodide.js`` (classic script), source maps, type
#: declarations, consoles and README are not needed.
CORE_FILES: tuple[str, ...] = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)

#: sha256 of every file of the pinned tarball (``sha256sum`` format, paths relative to
#: the tarball's ``package/``), written by :func:`write_manifest` from the tarball whose
#: sha512 is :data:`PYODIDE_INTEGRITY`.
MANIFEST = Path(__file__).with_name(f"pyodide-{PYODIDE_VERSION}.sha256")

ENV_SOURCE = "LIVENOTES_PYODIDE_SOURCE"
DEFAULT_CACHE_DIR = Path(".cache")
NPM_TIMEOUT = 300.0
MARKER = ".livenotes-pyodide.json"
_PREFIX = "package/"
_HINT = (
    f"or set the plugin option runtime_source (or {ENV_SOURCE}) to a local "
    f"pyodide-{PYODIDE_VERSION}.tgz or a folder holding the core files"
)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)

log = logging.getLogger(__name__)


class RuntimeFetchError(RuntimeError):
    """The pinned Pyodide core could not be fetched or verified (one-line message)."""


def runtime_dir(cache_dir: Path | str) -> Path:
    """The cache folder of the pinned version (it may not exist yet)."""
    return Path(cache_dir) / f"pyodide-{PYODIDE_VERSION}"


def core_files(folder: Path | str) -> list[tuple[str, int]]:
    """The core files in ``folder`` with their sizes in bytes, in :data:`CORE_FILES` order.

    This is what the browser downloads before the first Run. Raises
    :class:`RuntimeFetchError` when a core file is missing.
    """
    folder = Path(folder)
    listed = []
    for name in CORE_FILES:
        path = folder / name
        if not path.is_file():
            raise RuntimeFetchError(f"{folder}: Pyodide core file {name} is missing")
        listed.append((name, path.stat().st_size))
    return listed


def core_size(folder: Path | str) -> int:
    """Total bytes of the core files in ``folder``."""
    return sum(size for _name, size in core_files(folder))


def _sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def pinned_hashes() -> dict[str, str]:
    """``{file name: sha256 hex}`` of the pinned tarball's files, read from :data:`MANIFEST`.

    Raises :class:`RuntimeFetchError` when the manifest is missing, malformed, lacks a
    core file, or was written for another tarball than the pinned one.
    """
    regenerate = (
        f"regenerate it from the verified tarball with "
        f"python -m livenotes.runtime --write-manifest pyodide-{PYODIDE_VERSION}.tgz"
    )
    try:
        lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise RuntimeFetchError(
            f"{MANIFEST}: cannot read the Pyodide manifest ({error.strerror or error}); "
            f"{regenerate}"
        ) from None
    hashes: dict[str, str] = {}
    integrity = None
    for number, line in enumerate(lines, 1):
        if line.startswith("# tarball "):
            integrity = line.removeprefix("# tarball ").strip()
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
        if match is None:
            raise RuntimeFetchError(
                f"{MANIFEST}:{number}: not a sha256sum line; expected '<64 hex digits>  <file>', "
                f"{regenerate}"
            )
        hashes[match.group(2)] = match.group(1)
    if integrity != PYODIDE_INTEGRITY:
        raise RuntimeFetchError(
            f"{MANIFEST}: written for the tarball {integrity}, not the pinned "
            f"{PYODIDE_INTEGRITY}; {regenerate}"
        )
    missing = [name for name in CORE_FILES if name not in hashes]
    if missing:
        raise RuntimeFetchError(
            f"{MANIFEST}: no sha256 for the core file(s) {', '.join(missing)}; {regenerate}"
        )
    return hashes


def write_manifest(tarball: Path | str, out: Path | str | None = None) -> Path:
    """Write the sha256 of every file of the pinned ``tarball`` to ``out`` (default
    :data:`MANIFEST`). The tarball must match :data:`PYODIDE_INTEGRITY`."""
    tarball = Path(tarball)
    out = MANIFEST if out is None else Path(out)
    actual = tarball_integrity(tarball)
    if actual != PYODIDE_INTEGRITY:
        raise RuntimeFetchError(
            f"{tarball}: sha512 mismatch for pyodide {PYODIDE_VERSION}: expected "
            f"{PYODIDE_INTEGRITY}, got {actual}; a manifest is only written from the pinned "
            "tarball"
        )
    _check_members(tarball, str(tarball))
    lines = []
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive:
            if not (member.isfile() and member.name.startswith(_PREFIX)):
                continue
            stream = archive.extractfile(member)
            assert stream is not None  # a regular file, checked above
            with stream:
                digest = hashlib.file_digest(stream, "sha256").hexdigest()
            lines.append(f"{digest}  {member.name[len(_PREFIX) :]}")
    header = [
        f"# sha256 of every file of the Pyodide {PYODIDE_VERSION} npm tarball, whose sha512 is:",
        f"# tarball {PYODIDE_INTEGRITY}",
        f"# Written by: python -m livenotes.runtime --write-manifest pyodide-{PYODIDE_VERSION}.tgz",
        "# Check a folder by hand: sha256sum --ignore-missing -c <this file>",
    ]
    lines.sort(key=lambda line: line.split("  ", 1)[1])
    out.write_text("\n".join([*header, *lines]) + "\n", encoding="utf-8")
    return out


def tarball_integrity(path: Path | str) -> str:
    """The npm-style integrity string of a file: ``sha512-`` + base64 of the digest."""
    digest = hashlib.sha512()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def fetch_pyodide(
    cache_dir: Path | str,
    source: str | os.PathLike[str] | None = None,
    *,
    timeout: float = NPM_TIMEOUT,
) -> Path:
    """Return the cache folder holding the verified core of the pinned Pyodide.

    A complete cache folder is returned as is, without network. Otherwise the core
    comes from ``source`` (a local tarball, checked against the pinned sha512, or a
    folder holding the core files), else from ``$LIVENOTES_PYODIDE_SOURCE``, else from
    ``npm pack pyodide@<version>``. Any failure raises :class:`RuntimeFetchError` and
    leaves the cache exactly as it was.
    """
    cache_dir = Path(cache_dir)
    target = runtime_dir(cache_dir)
    if _is_complete(target):
        return target
    if source is None or str(source) == "":
        source = os.environ.get(ENV_SOURCE) or None

    with tempfile.TemporaryDirectory(prefix="livenotes-pyodide-") as scratch:
        if source is None:
            tarball = _npm_pack(Path(scratch), timeout)
            label = f"npm pack pyodide@{PYODIDE_VERSION}"
            return _install_from_tarball(tarball, label, cache_dir, target, origin="npm")
        path = Path(source).expanduser()
        if path.is_dir():
            return _install_from_folder(path, cache_dir, target)
        if path.is_file():
            return _install_from_tarball(path, str(path), cache_dir, target, origin="tarball")
        raise RuntimeFetchError(
            f"{path}: Pyodide source not found; point runtime_source (or {ENV_SOURCE}) "
            f"at an existing pyodide-{PYODIDE_VERSION}.tgz or folder, or unset it to fetch "
            "with npm"
        )


# -- cache --------------------------------------------------------------------------


def _is_complete(folder: Path) -> bool:
    """True when ``folder`` was fully installed and is intact: the marker (written last)
    names the pinned version, and every core file has the sha256 of the pinned tarball's
    file (the sizes in the marker only spare hashing a file that is plainly cut)."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        sizes = marker["files"]
        if marker.get("version") != PYODIDE_VERSION:
            return False
        if not all((folder / name).stat().st_size == sizes[name] for name in CORE_FILES):
            return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    hashes = pinned_hashes()
    for name in CORE_FILES:
        try:
            actual = _sha256(folder / name)
        except OSError:
            return False
        if actual != hashes[name]:
            log.warning(
                "%s: sha256 mismatch with the pinned Pyodide %s (a damaged cache); "
                "fetching the core again",
                folder / name,
                PYODIDE_VERSION,
            )
            return False
    return True


def _verify(staging: Path, where) -> None:
    """Check every core file in ``staging`` against the manifest; ``where(name)`` names
    the file it came from in the error."""
    hashes = pinned_hashes()
    for name in CORE_FILES:
        actual = _sha256(staging / name)
        if actual != hashes[name]:
            raise RuntimeFetchError(
                f"{where(name)}: sha256 mismatch for Pyodide {PYODIDE_VERSION}: expected "
                f"{hashes[name]} ({MANIFEST.name}), got {actual}; this is not the file of "
                f"the pinned tarball: copy it again, {_HINT}"
            )


def _install(
    cache_dir: Path, target: Path, fill, where, *, origin: str, integrity: str | None
) -> Path:
    """Fill a fresh temporary folder inside ``cache_dir`` with ``fill(folder)``, check it
    against the manifest, write the marker last, then rename it into place. On any
    failure nothing new is left behind."""
    made = []
    for parent in reversed([cache_dir, *cache_dir.parents]):
        if not parent.exists():
            made.append(parent)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=cache_dir))
    except OSError as error:
        _remove_made(made)
        raise RuntimeFetchError(
            f"{cache_dir}: cannot write the Pyodide cache ({error.strerror or error})"
        ) from None
    old = None
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the cache is a plain folder
        fill(staging)
        listed = core_files(staging)
        _verify(staging, where)
        marker = {
            "version": PYODIDE_VERSION,
            "integrity": integrity,
            "manifest": MANIFEST.name,
            "origin": origin,
            "files": dict(listed),
        }
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        if target.exists() or target.is_symlink():
            # A stale, incomplete folder: move it aside, and only drop it once the new
            # one is in place.
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=cache_dir))
            os.rmdir(old)
            os.replace(target, old)
        try:
            os.replace(staging, target)
        except OSError:
            if old is not None:
                os.replace(old, target)
                old = None
            if _is_complete(target):  # another build won the race
                shutil.rmtree(staging, ignore_errors=True)
                return target
            raise
    except BaseException as error:  # leave the cache as it was, even on Ctrl-C
        shutil.rmtree(staging, ignore_errors=True)
        _remove_made(made)
        if isinstance(error, OSError):
            raise RuntimeFetchError(
                f"{cache_dir}: cannot write the Pyodide cache ({error.strerror or error})"
            ) from None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _remove_made(made: list[Path]) -> None:
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:
            break


# -- sources -------------------------------------------------------------------------


def _install_from_folder(folder: Path, cache_dir: Path, target: Path) -> Path:
    if not (folder / CORE_FILES[0]).is_file() and (folder / "package" / CORE_FILES[0]).is_file():
        folder = folder / "package"  # an unpacked npm tarball
    missing = [name for name in CORE_FILES if not (folder / name).is_file()]
    if missing:
        raise RuntimeFetchError(
            f"{folder}: not a Pyodide {PYODIDE_VERSION} folder, missing {', '.join(missing)}; "
            f"needs {', '.join(CORE_FILES)}"
        )
    empty = [name for name in CORE_FILES if (folder / name).stat().st_size == 0]
    if empty:
        raise RuntimeFetchError(
            f"{folder}: Pyodide core file {', '.join(empty)} is empty (cut copy?); "
            f"copy the folder again, {_HINT}"
        )

    def fill(staging: Path) -> None:
        for name in CORE_FILES:
            shutil.copyfile(folder / name, staging / name)

    log.info("Pyodide %s: copying the core from %s", PYODIDE_VERSION, folder)
    return _install(
        cache_dir,
        target,
        fill,
        lambda name: folder / name,
        origin=f"folder {folder}",
        integrity=None,
    )


def _install_from_tarball(
    tarball: Path, label: str, cache_dir: Path, target: Path, *, origin: str
) -> Path:
    expected = PYODIDE_INTEGRITY
    if not expected.startswith("sha512-"):
        raise RuntimeFetchError(
            f"livenotes.runtime: PYODIDE_INTEGRITY must be an npm sha512 integrity string, "
            f"got {expected!r}"
        )
    try:
        actual = tarball_integrity(tarball)
    except OSError as error:
        raise RuntimeFetchError(f"{label}: cannot read ({error.strerror or error})") from None
    if actual != expected:
        if _is_cut(tarball):
            raise RuntimeFetchError(
                f"{label}: the tarball is cut short ({tarball.stat().st_size} bytes, "
                f"an interrupted download?); fetch it again, {_HINT}"
            )
        raise RuntimeFetchError(
            f"{label}: sha512 mismatch for pyodide {PYODIDE_VERSION}: expected {expected}, "
            f"got {actual}; this is not the pinned tarball: fetch it again, {_HINT}"
        )
    members = _check_members(tarball, label)
    log.info("Pyodide %s: unpacking the verified core from %s", PYODIDE_VERSION, label)

    def fill(staging: Path) -> None:
        try:
            with tarfile.open(tarball, "r:gz") as archive:
                for member in archive:
                    name = members.get(member.name)
                    if name is None:
                        continue
                    stream = archive.extractfile(member)
                    if stream is None:  # pragma: no cover - _check_members made sure
                        raise RuntimeFetchError(f"{label}: {member.name} is not a file")
                    with stream, open(staging / name, "wb") as out:
                        shutil.copyfileobj(stream, out, 1 << 20)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise RuntimeFetchError(
                f"{label}: the tarball is cut short or corrupt ({error}); fetch it again, {_HINT}"
            ) from None

    return _install(
        cache_dir,
        target,
        fill,
        lambda name: f"{label} ({_PREFIX}{name})",
        origin=origin,
        integrity=actual,
    )


def _is_cut(path: Path) -> bool:
    """True when the gzip stream ends early (a truncated download)."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except EOFError:
        return True
    except (OSError, zlib.error):
        return False
    return False


def _check_members(tarball: Path, label: str) -> dict[str, str]:
    """Read the tarball's table and return ``{member name: core file name}``.

    Rejects unsafe members (absolute paths, ``..``, links or devices) outright, and
    fails when a core file is missing or not a regular file.
    """
    wanted: dict[str, str] = {}
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                name = member.name
                parts = PurePosixPath(name.replace("\\", "/")).parts
                if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
                    raise RuntimeFetchError(
                        f"{label}: unsafe path {name!r} in the tarball (path traversal); "
                        f"refusing to unpack it, {_HINT}"
                    )
                if not (member.isfile() or member.isdir()):
                    raise RuntimeFetchError(
                        f"{label}: {name!r} in the tarball is a link or special file; "
                        f"refusing to unpack it, {_HINT}"
                    )
                if member.isfile() and name.startswith(_PREFIX):
                    rest = name[len(_PREFIX) :]
                    if rest in CORE_FILES:
                        wanted[name] = rest
    except RuntimeFetchError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise RuntimeFetchError(
            f"{label}: the tarball is cut short or corrupt ({error}); fetch it again, {_HINT}"
        ) from None
    missing = [name for name in CORE_FILES if name not in wanted.values()]
    if missing:
        raise RuntimeFetchError(
            f"{label}: the tarball lacks the Pyodide core file(s) "
            f"{', '.join(_PREFIX + name for name in missing)}; {_HINT}"
        )
    return wanted


def _npm_pack(scratch: Path, timeout: float) -> Path:
    """Run ``npm pack pyodide@<version>`` in ``scratch`` and return the tarball path."""
    spec = f"pyodide@{PYODIDE_VERSION}"
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeFetchError(
            f"npm is not on PATH, so {spec} cannot be fetched; install Node.js/npm "
            f"(Debian: apt-get install npm), {_HINT}"
        )
    command = [npm, "pack", spec, "--pack-destination", str(scratch), "--json"]
    env = dict(os.environ)
    env.update(
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
        npm_config_loglevel="error",
    )
    log.info("Pyodide %s: fetching with npm pack %s", PYODIDE_VERSION, spec)
    try:
        done = subprocess.run(
            command,
            cwd=scratch,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeFetchError(
            f"npm pack {spec} gave no tarball within {timeout:g} s (no network, or a slow "
            f"registry?); try again, {_HINT}"
        ) from None
    except OSError as error:
        raise RuntimeFetchError(
            f"npm pack {spec} could not start ({error.strerror or error}); {_HINT}"
        ) from None
    if done.returncode != 0:
        raise RuntimeFetchError(
            f"npm pack {spec} failed: {_npm_reason(done.stdout, done.stderr, done.returncode)}"
            f" (no network?); {_HINT}"
        )
    tarballs = sorted(scratch.glob("*.tgz"))
    try:
        reported = json.loads(done.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        reported = None
    if reported and (scratch / Path(reported).name).is_file():
        return scratch / Path(reported).name
    if len(tarballs) == 1:
        return tarballs[0]
    raise RuntimeFetchError(f"npm pack {spec} reported success but left no tarball; {_HINT}")


def _npm_reason(stdout: str, stderr: str, returncode: int) -> str:
    """One short, host-free line from npm's output explaining why it failed."""
    reason = ""
    try:
        error = json.loads(stdout)["error"]
        reason = " ".join(
            part for part in (str(error.get("code") or ""), str(error.get("summary") or "")) if part
        )
    except (ValueError, LookupError, TypeError, AttributeError):
        pass
    if not reason:
        lines = [
            re.sub(r"^npm (error|ERR!)\s*", "", line).strip()
            for line in stderr.splitlines()
            if line.strip() and "complete log of this run" not in line
        ]
        reason = "; ".join(line for line in lines if line)[:300]
    reason = _URL.sub("<url>", reason).replace("\n", " ").strip()
    return reason or f"exit status {returncode}"


# -- command line --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m livenotes.runtime",
        description=f"Fetch, verify and cache the Pyodide {PYODIDE_VERSION} core.",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE_DIR,
        help=f"cache folder (default: {DEFAULT_CACHE_DIR})",
    )
    parser.add_argument(
        "--source",
        help=f"local pyodide-{PYODIDE_VERSION}.tgz or folder instead of npm "
        f"(default: ${ENV_SOURCE}, else npm pack)",
    )
    parser.add_argument(
        "--timeout", type=float, default=NPM_TIMEOUT, help="seconds to allow npm pack"
    )
    parser.add_argument(
        "--write-manifest",
        metavar="TARBALL",
        type=Path,
        help=f"write {MANIFEST.name} (sha256 of each file) from the pinned tarball, then stop",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.write_manifest is not None:
        try:
            written = write_manifest(args.write_manifest)
        except (RuntimeFetchError, OSError, tarfile.TarError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(written)
        return 0
    try:
        folder = fetch_pyodide(args.cache, args.source, timeout=args.timeout)
        listed = core_files(folder)
    except RuntimeFetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    total = sum(size for _name, size in listed)
    print(folder)
    for name, size in listed:
        print(f"  {name:<20} {size:>12,} bytes")
    summary = f"{len(listed)} core files, {total:,} bytes ({total / 1e6:.1f} MB)"
    print(f"Pyodide {PYODIDE_VERSION}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
