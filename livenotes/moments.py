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
import html
import io
import math
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from selectolax.lexbor import LexborHTMLParser

from demokit import Demo, Runner, coerce_seed
from livenotes.demos import DemoPackage, Embed
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


class Resolver:
    """Parses and checks moment links; remembers how far each run reaches, so a
    thousand copies of a note cost one run per distinct link."""

    def __init__(self, demos: dict[str, DemoPackage]) -> None:
        self.demos = demos
        self._ends: dict[tuple, int | str] = {}

    def parse(self, href: str, embeds: list[Embed]) -> Moment:
        """The moment ``href`` names on a page with ``embeds``; ValueError saying what
        is wrong and what is allowed."""
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
        if known is None or (isinstance(known, tuple) and known[0] < moment.step and not known[1]):
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
            self._ends[key] = known
        if isinstance(known, str):
            raise ValueError(f"{SCHEME}{moment.demo.name}: {known}; link to an earlier step")
        if known[0] < moment.step:
            raise ValueError(
                f"{SCHEME}{moment.demo.name}: step {moment.step} is past the end of scenario "
                f"{moment.scenario} (it ends at step {known[0]}); link to a step from 0 to "
                f"{known[0]}"
            )

    def check(self, path: str, rendered: str, body: str, body_line: int, embeds: list[Embed]):
        """A problem for every moment link of a rendered note that does not resolve."""
        if SCHEME not in rendered:
            return []
        problems = []
        lines = split_lines(body)
        for node in LexborHTMLParser(rendered).css("a[href]"):
            href = (node.attributes.get("href") or "").strip()
            if not href.lower().startswith(SCHEME):
                continue
            try:
                self.parse(href, embeds)
            except ValueError as error:
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

        def rewrite(match: re.Match) -> str:
            try:
                moment = self.parse(html.unescape(match[2]), embeds)
            except ValueError:
                return match[0]  # reported by check(); the build stops before writing
            title = html.escape(f"Shows this moment in the demo on this page{note}")
            return (
                f'{match[1]}{html.escape(moment.fragment())}" data-demo-moment="{moment.anchor}" '
                f'title="{title}{match[3]}'
            )

        return _HREF.sub(rewrite, rendered)


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
