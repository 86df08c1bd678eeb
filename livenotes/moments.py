"""Links from a note's prose to a moment of a demo on the same page.

A writer links to ``demo:NAME?scenario=SLUG&step=N`` (optionally ``seed``, ``embed``
for the second embed of one demo, and any of the demo's parameters by name). Markdown
renders it as an ordinary link whose scheme MkDocs leaves alone; the plugin checks it
against the page's embeds and the demo's declaration (a mistake is one ``path:line``
problem, from ``mkdocs build`` and ``livenotes check`` alike) and rewrites it into the
widget's own link format, ``#<embed id>?v=..&s=..&seed=..&t=..[&p=..]``, the same one
Copy link writes. ``demos.js`` reads that format and owns the rest (inputs ``i=``).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from selectolax.lexbor import LexborHTMLParser

from demokit import Demo, Runner, coerce_seed
from livenotes.cachefiles import write_atomic
from livenotes.demos import DemoPackage, Embed, kit_sources
from livenotes.frontmatter import Problem, split_lines
from livenotes.limits import Deadline

SCHEME = "demo:"
MAX_STEP = 100_000
"""The furthest step a link may name: a reader's browser re-simulates every step."""
RUN_SECONDS = 5.0
"""Wall time the build may spend running a demo to the step a link names."""
SYNTAX = "demo:NAME?scenario=SLUG&step=N (also seed=, embed=, and the demo's parameters)"
_HREF = re.compile(r'(<a\b[^>]*?\bhref=")(demo:[^"]*)(")', re.I)


@dataclass(frozen=True)
class Moment:
    """A resolved link: which embed, and the run it shows (no reader inputs)."""

    anchor: str
    demo: Demo
    scenario: str
    params: dict
    seed: int
    step: int

    def fragment(self) -> str:
        """The widget's link format for this moment (see ``demos.js``)."""
        scenario = self.demo.scenario(self.scenario)
        defaults = self.demo.resolve(scenario.params)
        changed = [
            f"{quote(name, safe='')}:{quote(value_text(value), safe='')}"
            for name, value in self.params.items()
            if defaults.get(name) != value
        ]
        parts = [
            f"v={self.demo.version}",
            f"s={quote(self.scenario, safe='')}",
            f"seed={self.seed}",
            f"t={self.step}",
        ]
        if changed:
            parts.append("p=" + ",".join(changed))
        return f"#{self.anchor}?{'&'.join(parts)}"


def value_text(value) -> str:
    """A parameter's value as the widget reads it back (``Number()``, ``"true"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


class _TooLong(Exception):
    pass


REACH_FORMAT = 1
"""Part of a cached reach's name: raised if what a reach file holds changes."""


class Resolver:
    """Parses and checks moment links; remembers how far each run reaches, so a
    thousand copies of a note cost one run per distinct link.

    With a ``cache`` folder, how far a run reaches is also kept on disk, named by a
    digest of the demo's code, the kit's code and the run's setup (as recordings are),
    so an unchanged site rebuilds without running a demo for its links again."""

    def __init__(self, demos: dict[str, DemoPackage], cache: Path | None = None) -> None:
        self.demos = demos
        self.cache = cache
        self._ends: dict[tuple, tuple[int, bool] | str] = {}
        self._parsed: dict[tuple, Moment | str] = {}  # (href, the page's embeds) -> result
        self._rewritten: dict[tuple, str | None] = {}  # (href as written, embeds, note) -> link
        self._pages: dict[int, tuple[list[Embed], tuple]] = {}  # id -> (embeds, their key)
        self._kit: list[tuple[str, bytes]] | None = None

    def _page_key(self, embeds: list[Embed]) -> tuple:
        """What of a page's embeds its links depend on (copies of a note share it)."""
        held = self._pages.get(id(embeds))
        if held is None or held[0] is not embeds:
            held = self._pages[id(embeds)] = (embeds, tuple(_embed_key(e) for e in embeds))
        return held[1]

    def parse(self, href: str, embeds: list[Embed]) -> Moment:
        """The moment ``href`` names on a page with ``embeds``; ValueError saying what
        is wrong and what is allowed."""
        # Copies of a note, and the check and rewrite of one page, ask the same question.
        key = (href, self._page_key(embeds))
        known = self._parsed.get(key)
        if known is None:
            try:
                known = self._parse(href, embeds)
            except ValueError as error:
                known = str(error)
            self._parsed[key] = known
        if isinstance(known, str):
            raise ValueError(known)
        return known

    def _parse(self, href: str, embeds: list[Embed]) -> Moment:
        rest = href.strip()[len(SCHEME) :]
        name, _, query = rest.partition("?")
        package = self.demos.get(name)
        if package is None or package.demo is None:
            known = ", ".join(sorted(n for n, p in self.demos.items() if p.demo)) or "none"
            raise ValueError(f"{SCHEME}{name}: there is no demo {name!r}; demos: {known}")
        demo = package.demo
        mine = [embed for embed in embeds if embed.name == name]
        if not mine:
            raise ValueError(
                f"{SCHEME}{name}: this page does not embed {name}; a moment link points at "
                "a demo embedded on the same page"
            )
        fields: dict[str, str] = {}
        for pair in query.split("&") if query else []:
            key, equals, value = pair.partition("=")
            key, value = unquote(key), unquote(value)
            if not equals or not key:
                raise ValueError(f"{SCHEME}{name}: {pair!r} is not key=value; write {SYNTAX}")
            if key in fields:
                raise ValueError(f"{SCHEME}{name}: {key} is given twice")
            fields[key] = value
        try:
            return self._moment(demo, mine, fields)
        except ValueError as error:
            text = str(error)
            raise ValueError(
                text if text.startswith(SCHEME) else f"{SCHEME}{name}: {text}"
            ) from None

    def _moment(self, demo: Demo, mine: list[Embed], fields: dict[str, str]) -> Moment:
        which = _whole(fields.pop("embed", "1"), "embed", 1, len(mine))
        embed = mine[which - 1]
        scenario = demo.scenario(fields.pop("scenario", embed.scenario))
        base = dict(scenario.params)
        if scenario.name == (embed.scenario or demo.default_scenario.name):
            base.update(embed.params)
        seed_text = fields.pop("seed", None)
        if seed_text is None:
            seed = demo.seed if embed.seed is None else embed.seed
        else:
            seed = coerce_seed(_whole(seed_text, "seed", 0, 2**32 - 1))
        step = _whole(fields.pop("step", "0"), "step", 0, MAX_STEP)
        for key, value in fields.items():
            base[key] = demo.param(key).coerce(value)
        params = demo.resolve(base)
        moment = Moment(embed.anchor, demo, scenario.name, params, seed, step)
        self._check_reach(moment)
        return moment

    def _check_reach(self, moment: Moment) -> None:
        key = (moment.demo.name, moment.scenario, tuple(sorted(moment.params.items())), moment.seed)
        known = self._ends.get(key)  # (steps reached, done) or what went wrong
        if not _answers(known, moment.step):
            stored = self._stored(key)
            if stored is not None and (known is None or stored[0] > known[0]):
                known = stored
        if not _answers(known, moment.step):
            runner = Runner(moment.demo, moment.scenario, moment.params, moment.seed)
            try:
                with (
                    Deadline(RUN_SECONDS, _TooLong),
                    contextlib.redirect_stdout(io.StringIO()),
                    contextlib.redirect_stderr(io.StringIO()),
                ):
                    runner.step(moment.step)
                known = (runner.steps, bool(runner.sim.done))
            except _TooLong:
                known = f"running to step {moment.step} took over {RUN_SECONDS:g} s"
            except Exception as error:  # the demo's own fault, reported on the link's line
                known = f"the demo raised {type(error).__name__} on the way to step {moment.step}"
            self._store(key, known)
        self._ends[key] = known
        if isinstance(known, str):
            raise ValueError(f"{SCHEME}{moment.demo.name}: {known}; link to an earlier step")
        if known[0] < moment.step:
            raise ValueError(
                f"{SCHEME}{moment.demo.name}: step {moment.step} is past the end of scenario "
                f"{moment.scenario} (it ends at step {known[0]}); link to a step from 0 to "
                f"{known[0]}"
            )

    def learn(self, demo: str, scenario: str, params: dict, seed: int, steps: int, done: bool):
        """Take it as known that the run of this setup reaches ``steps`` (and ends there
        if ``done``): the build's recordings ran it already."""
        key = (demo, scenario, tuple(sorted(params.items())), seed)
        known = self._ends.get(key)
        if known is None or (isinstance(known, tuple) and known[0] < steps):
            self._ends[key] = (steps, done)

    def _reach_file(self, key: tuple) -> Path | None:
        package = self.demos.get(key[0])
        if self.cache is None or package is None:
            return None
        if self._kit is None:
            self._kit = kit_sources()
        hasher = hashlib.sha256(f"reach {REACH_FORMAT}\n".encode())
        for name, data in [*self._kit, *package.sources]:
            hasher.update(f"{name}\n{len(data)}\n".encode())
            hasher.update(data)
        hasher.update(json.dumps(list(key[1:]), default=str).encode())
        return self.cache / f"{key[0]}-{hasher.hexdigest()[:20]}.json"

    def _stored(self, key: tuple) -> tuple[int, bool] | None:
        """How far the run of ``key`` is known to reach, from the cache folder."""
        path = self._reach_file(key)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return (int(data["steps"]), bool(data["done"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged file is run again and rewritten

    def _store(self, key: tuple, known: tuple[int, bool] | str) -> None:
        # Only a reach is kept: a run that raised or ran out of time fails the build,
        # and a deadline depends on the machine.
        path = self._reach_file(key)
        if path is None or isinstance(known, str):
            return
        write_atomic(path, json.dumps({"steps": known[0], "done": known[1]}))

    def check(
        self,
        path: str,
        rendered: str,
        body: str,
        body_line: int,
        embeds: list[Embed],
        hrefs: list[str] | None = None,
    ):
        """A problem for every moment link of a rendered note that does not resolve.

        ``hrefs`` are the ``href`` values of the note's ``<a>`` elements when the caller
        has parsed it already (``content.check_html`` collects them); otherwise the note
        is parsed here."""
        if SCHEME not in rendered:
            return []
        if hrefs is None:
            tree = LexborHTMLParser(rendered)
            hrefs = [node.attributes.get("href") or "" for node in tree.css("a[href]")]
        problems = []
        lines: list[str] | None = None
        for href in hrefs:
            href = href.strip()
            if not href.lower().startswith(SCHEME):
                continue
            try:
                self.parse(href, embeds)
            except ValueError as error:
                if lines is None:
                    lines = split_lines(body)
                problems.append(Problem(path, _line(href, lines, body_line), str(error)))
        return problems

    def resolve(self, rendered: str, embeds: list[Embed], runtime_bytes: int | None) -> str:
        """``rendered`` with each (checked) moment link pointing at its embed."""
        if SCHEME not in rendered:
            return rendered
        note = (
            f" (the first time, this downloads the Python runtime, {runtime_bytes / 1e6:.1f} MB)"
            if runtime_bytes
            else ""
        )
        page = self._page_key(embeds)

        def rewrite(match: re.Match) -> str:
            key = (match[2], page, note)
            if key not in self._rewritten:
                self._rewritten[key] = self._rewrite(match[2], embeds, note)
            link = self._rewritten[key]
            if link is None:
                return match[0]  # reported by check(); the build stops before writing
            return f"{match[1]}{link}{match[3]}"

        return _HREF.sub(rewrite, rendered)

    def _rewrite(self, written: str, embeds: list[Embed], note: str) -> str | None:
        """What stands between ``href="`` and the closing quote of a link to a moment."""
        try:
            moment = self.parse(html.unescape(written), embeds)
        except ValueError:
            return None
        title = html.escape(f"Shows this moment in the demo on this page{note}")
        return (
            f'{html.escape(moment.fragment())}" data-demo-moment="{moment.anchor}" title="{title}'
        )


def _answers(known: tuple[int, bool] | str | None, step: int) -> bool:
    """Whether what is known of a run says if it reaches ``step``."""
    if known is None:
        return False
    return isinstance(known, str) or known[0] >= step or known[1]


def _embed_key(embed: Embed) -> tuple:
    """What of an embed a moment link depends on."""
    params = json.dumps(embed.params, sort_keys=True, default=str)
    return (embed.name, embed.scenario, params, embed.seed, embed.anchor)


def _whole(text: str, key: str, low: int, high: int) -> int:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not (number.is_integer() and low <= number <= high):
        raise ValueError(f"{key}={text!r} is not a whole number from {low} to {high}")
    return int(number)


def _line(href: str, lines: list[str], body_line: int) -> int:
    """The note's line holding the link (its target as written, or its demo name)."""
    needles = [f"]({href})", f"]({href} ", f"<{href}>", f": {href}", href, href.split("?")[0]]
    for needle in needles:
        for number, line in enumerate(lines):
            if needle in line or needle in html.unescape(line):
                return body_line + number
    return body_line
