"""Demos as the build sees them: discovery, embed blocks, previews and wheels.

A demo is a package ``demos/<name>/`` defining ``DEMO`` (a ``demokit.Demo``). The build
imports it under CPython to check notes that embed it and to render its preview, and
packs it as a wheel that the browser worker installs into Pyodide.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.util
import io
import json
import re
import stat
import sys
import tempfile
import types
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import demokit
from livenotes import frontmatter as fm
from livenotes.cachefiles import write_atomic
from livenotes.frontmatter import (
    DEMO_NAME,
    Problem,
    YamlProblem,
    parse_yaml,
    split_lines,
    yaml_line,
)
from livenotes.limits import Deadline

HEIGHT_RANGE = (240, 1200)
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")


@dataclass
class DemoPackage:
    """A discovered demo: its folder and, once imported, its declaration."""

    name: str
    folder: Path
    demo: demokit.Demo | None = None
    error: str | None = None

    @functools.cached_property
    def sources(self) -> list[tuple[str, bytes]]:
        """Its Python files as they go into the wheel."""
        return _sources(self.folder, f"demos/{self.name}")

    @functools.cached_property
    def digest(self) -> str:
        return digest(self.sources)


def discover(demos_dir: Path) -> dict[str, DemoPackage]:
    """Every ``demos_dir/<name>/__init__.py``, imported fresh (so ``serve`` sees edits)."""
    found: dict[str, DemoPackage] = {}
    if not demos_dir.is_dir():
        return found
    for init in sorted(demos_dir.glob("*/__init__.py")):
        name = init.parent.name
        package = DemoPackage(name, init.parent)
        try:
            module = _import_demo(demos_dir, name)
            declared = getattr(module, "DEMO", None)
            if not isinstance(declared, demokit.Demo):
                package.error = "defines no DEMO; add DEMO = demokit.Demo(...) to __init__.py"
            elif declared.name != name:
                package.error = (
                    f"DEMO.name is {declared.name!r}; it must be the folder name {name!r}"
                )
            else:
                package.demo = declared
        except Exception as error:  # a contributor's demo may raise anything on import
            package.error = f"cannot be imported ({type(error).__name__}: {error})"
        found[name] = package
    return found


def _import_demo(demos_dir: Path, name: str) -> types.ModuleType:
    """Import ``demos.<name>`` from ``demos_dir``, whatever is on ``sys.path``.

    The import name is fixed (``demos.<name>``) because the wheel installs the same
    package under that name in the browser. A package imported here before from the
    same folder with the same code is kept, not imported again: its classes stay the
    ones its objects were made from (pickle, and so the runner's checkpoints, need
    that), while an edited demo is imported afresh (``mkdocs serve``).
    """
    folder = demos_dir / name
    fingerprint = (str(folder.resolve()), digest(_sources(folder, "")))
    known = sys.modules.get(f"demos.{name}")
    if known is not None and getattr(known, "__livenotes_fingerprint__", None) == fingerprint:
        return known
    parent = sys.modules.get("demos")
    if parent is None or not hasattr(parent, "__path__"):
        parent = types.ModuleType("demos")
        parent.__path__ = []
        sys.modules["demos"] = parent
    for key in [k for k in sys.modules if k == f"demos.{name}" or k.startswith(f"demos.{name}.")]:
        del sys.modules[key]
    spec = importlib.util.spec_from_file_location(
        f"demos.{name}", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    module.__livenotes_fingerprint__ = fingerprint
    return module


# --- embed blocks -------------------------------------------------------------------


@dataclass
class Embed:
    """One ```` ```demo ```` block in a note: where it is and what it asks for."""

    path: str
    line: int
    start: int  # index of the opening fence line in the body
    end: int  # index one past the closing fence line
    name: str = ""
    scenario: str | None = None
    params: dict = field(default_factory=dict)
    seed: int | None = None
    height: int = 480
    key_lines: dict[str, int] = field(default_factory=dict)  # key -> offset from the fence
    fence: str = "```demo"  # the opening fence line as written, stripped
    anchor: str = ""
    """The widget's element id: ``demo-NAME`` for a page's first embed of a demo,
    ``demo-NAME-2``... for the next ones; links to a moment name it."""


def find_embeds(path: str, body: str, body_line: int) -> tuple[list[Embed], list[Problem]]:
    """Find demo blocks in a note's body (``body_line`` is the body's first line).

    A fence of any other kind is skipped whole, as Markdown reads it: a demo block
    quoted inside a code block is text, not an embed.
    """
    lines = split_lines(body)
    embeds: list[Embed] = []
    problems: list[Problem] = []
    index = 0
    while index < len(lines):
        match = _FENCE_OPEN.match(lines[index].rstrip("\n"))
        if not match:
            index += 1
            continue
        fence = match["fence"]
        # CommonMark: the closing fence is the same character, at least as long.
        close = next(
            (
                j
                for j in range(index + 1, len(lines))
                if (text := lines[j].strip())
                and set(text) == {fence[0]}
                and len(text) >= len(fence)
            ),
            None,
        )
        line = body_line + index
        if match["info"] != "demo":
            index = len(lines) if close is None else close + 1
            continue
        if close is None:
            problems.append(Problem(path, line, f"demo block is not closed; end it with {fence}"))
            break
        embed = Embed(path, line, index, close + 1, fence=lines[index].strip())
        problems.extend(_parse_embed(embed, "".join(lines[index + 1 : close])))
        embeds.append(embed)
        index = close + 1
    seen: dict[str, int] = {}
    for embed in embeds:
        seen[embed.name] = seen.get(embed.name, 0) + 1
        count = seen[embed.name]
        embed.anchor = f"demo-{embed.name}" + (f"-{count}" if count > 1 else "")
    return embeds, problems


class EmbedMoved(Exception):
    """The Markdown MkDocs hands the plugin is not the note's body as the scan read it."""


def mark_embeds(
    body: str, markdown: str, embeds: list[Embed], marker: Callable[[Embed], str]
) -> str:
    """``markdown`` with each of ``embeds`` (parsed from ``body`` by the scan) replaced by
    ``marker(embed)``, a placeholder the plugin fills with the widget where it stands.

    MkDocs hands a page's Markdown over as the body with its leading blank lines removed
    (``mkdocs.utils.meta.get_data``), so each block is found at its own line, shifted by
    those; nothing is parsed again. Raises :class:`EmbedMoved` if a block is not there
    (another plugin changed the Markdown first).
    """
    lines = split_lines(markdown)
    shift = len(body) - len(body.lstrip("\n"))  # the blank lines MkDocs removed
    ordered = sorted(embeds, key=lambda e: e.start)
    for embed in ordered:
        start, end = embed.start - shift, embed.end - shift
        if not (0 <= start < end <= len(lines)) or lines[start].strip() != embed.fence:
            raise EmbedMoved(f"{embed.path}:{embed.line}")
    for embed in reversed(ordered):
        lines[embed.start - shift : embed.end - shift] = ["\n", marker(embed) + "\n", "\n"]
    return "".join(lines)


def _embed_name(value: Any) -> str | None:
    if isinstance(value, str) and DEMO_NAME.match(value):
        return None
    return f"{fm.show(value)} is not a demo name; use the name of a package under demos/"


def _embed_seed(value: Any) -> str | None:
    try:
        demokit.coerce_seed(value)
    except ValueError:
        return f"{value!r} is not a whole number from {demokit.SEED_MIN} to {demokit.SEED_MAX}"
    return None


def _embed_height(value: Any) -> str | None:
    low, high = HEIGHT_RANGE
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return None
    return f"{value!r} is not a pixel height from {low} to {high}"


EMBED_FIELDS: dict[str, fm.Field] = {
    "name": fm.Field(
        True, "string", "The demo package to embed, e.g. `skinny`.", simple=_embed_name
    ),
    "scenario": fm.Field(
        False, "string", "A scenario of the demo (default: its first).", simple=fm.text_check
    ),
    "params": fm.Field(
        False,
        "mapping",
        "Parameter values, checked against the demo's declaration.",
        simple=lambda v: None if isinstance(v, dict) else "expected a mapping, e.g. {loss: 0.1}",
    ),
    "seed": fm.Field(False, "integer", "The run's seed.", simple=_embed_seed),
    "height": fm.Field(False, "integer", "The picture's height in pixels.", simple=_embed_height),
}
"""A demo block's keys, checked by the same machinery as front matter."""
EMBED_KEYS = tuple(EMBED_FIELDS)


def _parse_embed(embed: Embed, text: str) -> list[Problem]:
    def problem(offset: int, message: str) -> Problem:
        return Problem(embed.path, embed.line + offset, f"demo block: {message}")

    try:
        node, data = parse_yaml(text)
    except YamlProblem as error:
        return [problem(error.line + 1, error.message(embed.line + 1))]
    except yaml.YAMLError as error:
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        return [problem(yaml_line(error, text) + 1, f"not valid YAML ({reason})")]
    if not isinstance(data, dict):
        return [
            problem(0, "write 'name: <demo>' and optional scenario, params, seed, height lines")
        ]
    lines: dict[tuple, int] = {}
    fm.index_lines(node, (), embed.line + 1, lines)
    block = fm.Source(embed.path, data, lines, "", embed.line)
    problems = fm.check_fields(
        block, EMBED_FIELDS, "demo block", prefix="demo block: ", start=embed.line
    )
    failed = {key for key, f in EMBED_FIELDS.items() if key in data and f.simple(data[key])}
    embed.key_lines = {key[0]: line - embed.line for key, line in lines.items() if len(key) == 1}
    if "name" not in failed and "name" in data:
        embed.name = data["name"]
    if "scenario" not in failed:
        embed.scenario = data.get("scenario")
    if "params" not in failed:
        embed.params = data.get("params", {})
    if "seed" not in failed:
        embed.seed = data.get("seed")
    if "height" not in failed and "height" in data:
        embed.height = data["height"]
    return problems


def resolve_embed(embed: Embed, packages: dict[str, DemoPackage]) -> list[Problem]:
    """Check an embed's demo, scenario and parameters against the declaration."""
    if not embed.name:
        return []
    lines = embed.key_lines

    def problem(key: str, message: str) -> Problem:
        return Problem(embed.path, embed.line + lines.get(key, 0), f"demo block: {message}")

    package = packages.get(embed.name)
    if package is None:
        available = ", ".join(sorted(packages)) or "none yet"
        return [problem("name", f"unknown demo {embed.name!r}; available: {available}")]
    if package.demo is None:
        return [problem("name", f"demo {embed.name!r} is broken: {package.error}")]
    demo = package.demo
    try:
        scenario = demo.scenario(embed.scenario)
    except ValueError as error:
        return [problem("scenario", f"{error}")]
    try:
        demo.resolve({**scenario.params, **embed.params})
    except ValueError as error:
        return [problem("params", f"{error}")]
    return []


# --- previews ----------------------------------------------------------------------


PREVIEW_SECONDS = 20
"""Wall time a build gives one preview before calling the demo stuck."""


class _Stuck(Exception):
    pass


_PREVIEWS: dict[tuple, dict[str, Any]] = {}
"""Previews already computed in this process, keyed by the demo's and the kit's code
and the embed's settings: ``mkdocs serve`` rebuilds and repeated embeds reuse them."""


PREVIEW_FORMAT = 1
"""Part of a cached preview's name: raised if what a preview file holds changes."""


def preview(
    package: DemoPackage, embed: Embed, kit: str | None = None, cache: Path | None = None
) -> tuple[dict[str, Any] | None, Problem | None]:
    """Run the embed's scenario under CPython to its preview point.

    Returns the snapshot, or a problem naming the embed when the demo raises or runs
    past :data:`PREVIEW_SECONDS`. Whatever the demo prints is discarded. ``kit`` is
    :func:`kit_digest`, when the caller previews many embeds with the same kit. With a
    ``cache`` folder a preview is also kept on disk, named by the demo's and the kit's
    code and the embed's settings, so a new build of an unchanged site runs no demo for
    its previews.
    """
    demo = package.demo
    assert demo is not None
    key = (
        package.digest,
        kit or kit_digest(),
        embed.scenario,
        json.dumps(embed.params, sort_keys=True, default=str),
        embed.seed,
    )
    if key in _PREVIEWS:
        return _PREVIEWS[key], None
    stored = None
    if cache is not None:
        named = hashlib.sha256(json.dumps([PREVIEW_FORMAT, *key]).encode()).hexdigest()[:24]
        stored = cache / f"{demo.name}-{named}.json"
        with contextlib.suppress(OSError, ValueError):  # a damaged file is made again
            _PREVIEWS[key] = json.loads(stored.read_text(encoding="utf-8"))
            return _PREVIEWS[key], None

    try:
        with (
            Deadline(PREVIEW_SECONDS, _Stuck),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            runner = demokit.Runner(demo, embed.scenario, embed.params, embed.seed)
            runner.step(runner.scenario.preview_steps)
            # As JSON reads it back (lists, not tuples): a cached preview is the same.
            _PREVIEWS[key] = json.loads(json.dumps(runner.snapshot()))
        if stored is not None:
            write_atomic(stored, json.dumps(_PREVIEWS[key]))
        return _PREVIEWS[key], None
    except _Stuck:
        message = (
            f"the preview of {demo.name!r} ran longer than {PREVIEW_SECONDS} s; does a step loop?"
        )
    except Exception as error:
        message = f"the preview of {demo.name!r} raised {type(error).__name__}: {error}"
    return None, Problem(embed.path, embed.line, f"demo block: {message}")


# --- wheels ------------------------------------------------------------------------


def _sources(folder: Path, prefix: str) -> list[tuple[str, bytes]]:
    return [
        (f"{prefix}/{path.relative_to(folder).as_posix()}", path.read_bytes())
        for path in sorted(folder.rglob("*.py"))
        if "__pycache__" not in path.parts
    ]


def digest(files: list[tuple[str, bytes]]) -> str:
    """A hash of (archive path, bytes) pairs: the identity of a demo's code."""
    hashed = hashlib.sha256()
    for name, data in files:
        hashed.update(name.encode() + b"\0" + data + b"\0")
    return hashed.hexdigest()


def kit_sources() -> list[tuple[str, bytes]]:
    return _sources(Path(demokit.__file__).parent, "demokit")


def kit_digest() -> str:
    return digest(kit_sources())


WHEEL_TIME = (1980, 1, 1, 0, 0, 0)
"""The date of every file in a wheel: the earliest a zip can hold."""


def build_wheel(distribution: str, files: list[tuple[str, bytes]], out_dir: Path) -> Path:
    """Pack ``files`` (archive path, bytes) as a pure-Python wheel named by content.

    The version's local label is a hash of the contents, so a changed demo gets a new
    file name and browsers never run a stale copy from their cache.
    """
    from wheel.wheelfile import WheelFile  # build-time only

    class Reproducible(WheelFile):
        """Every member dated :data:`WHEEL_TIME`, not the build's clock (``RECORD``
        too), so that equal contents give equal bytes: the offline cache's version is a
        hash of the site's files, and must not change when nothing did."""

        def writestr(self, name, data, compress_type=None):
            if isinstance(name, str):
                info = zipfile.ZipInfo(name, date_time=WHEEL_TIME)
                info.compress_type = self.compression
                info.external_attr = (0o644 | stat.S_IFREG) << 16
                name = info
            super().writestr(name, data, compress_type)

    version = f"0+{digest(files)[:12]}"
    stem = f"{distribution}-{version}"
    path = out_dir / f"{stem}-py3-none-any.whl"
    if path.exists():
        return path
    out_dir.mkdir(parents=True, exist_ok=True)
    # Written under its final name in a scratch folder, then moved: a build that
    # stops half-way never leaves a broken wheel behind.
    scratch = Path(tempfile.mkdtemp(dir=out_dir))
    partial = scratch / path.name
    with Reproducible(partial, "w") as wheel:
        for name, data in files:
            wheel.writestr(name, data)
        wheel.writestr(
            f"{stem}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n",
        )
        wheel.writestr(
            f"{stem}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: livenotes\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
    partial.replace(path)
    scratch.rmdir()
    return path


def kit_wheel(out_dir: Path) -> Path:
    """The shared demo kit as a wheel."""
    return build_wheel(
        "livenotes_demokit", _sources(Path(demokit.__file__).parent, "demokit"), out_dir
    )


def demo_wheel(package: DemoPackage, out_dir: Path) -> Path:
    """One demo package as a wheel installing ``demos/<name>/``."""
    return build_wheel(f"livenotes_demo_{package.name}", package.sources, out_dir)
