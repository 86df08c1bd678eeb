"""Front matter of notes: read with line numbers, checked against a schema.

Every problem is one line, ``docs/<file>.md:<line>: <what is wrong; what is allowed>``,
so a contributor can jump straight to it. The schemas here are the single source of
truth: CONTRIBUTING.md's field reference is tested against them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG = SLUG
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
DEMO_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FENCE = re.compile(r"^-{3}[ \t]*$")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, printed as ``path:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class NoteError(Exception):
    """Raised with every problem found, one per line, sorted by file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Source:
    """A Markdown file split into front matter (with the line of every key) and body."""

    path: str
    meta: dict
    lines: dict[tuple, int]
    body: str
    body_line: int

    def line(self, *keys: Any) -> int:
        """Line of the deepest known node on ``keys`` (1 if none)."""
        while keys:
            if keys in self.lines:
                return self.lines[keys]
            keys = keys[:-1]
        return 1


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML's safe loader (libyaml's when present, as MkDocs uses), except that an
    impossible date (2019-13-45) stays a string for the date check to report, instead
    of raising mid-parse."""

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def parse_yaml(text: str) -> tuple[yaml.Node | None, object]:
    """Parse once, keeping the node tree (for line numbers) and the data."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _index_lines(node: yaml.Node, path: tuple, offset: int, out: dict) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            out[child] = key.start_mark.line + offset
            _index_lines(value, child, offset, out)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            child = (*path, position)
            out[child] = item.start_mark.line + offset
            _index_lines(item, child, offset, out)


def read_source(path: str, text: str) -> tuple[Source, list[Problem]]:
    """Split ``text`` into front matter and body; YAML errors become problems."""
    lines = text.splitlines(keepends=True)
    if not lines or not _FENCE.match(lines[0].rstrip("\n")):
        return Source(path, {}, {}, text, 1), []
    for end in range(1, len(lines)):
        if re.match(r"^(-{3}|\.{3})[ \t]*$", lines[end].rstrip("\n")):
            break
    else:
        return Source(path, {}, {}, text, 1), [
            Problem(path, 1, "front matter is not closed; end it with a line '---'")
        ]
    yaml_text = "".join(lines[1:end])
    body = "".join(lines[end + 1 :])
    try:
        node, meta = parse_yaml(yaml_text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        return Source(path, {}, {}, body, end + 2), [
            Problem(path, line, f"front matter is not valid YAML ({reason})")
        ]
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return Source(path, {}, {}, body, end + 2), [
            Problem(path, 2, "front matter must be a mapping of keys to values")
        ]
    index: dict[tuple, int] = {}
    if node is not None:
        _index_lines(node, (), 2, index)
    return Source(path, meta, index, body, end + 2), []


# --- field checks ---------------------------------------------------------------
# A check returns None when the value is fine, else "what is wrong; what is allowed".


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return f"{_show(value)} is not text; use a non-empty string"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "an empty value"
    return (
        f"{type(value).__name__} {value!r}"
        if not isinstance(value, (dict, list))
        else ("a mapping" if isinstance(value, dict) else "a list")
    )


def _date(value: Any) -> str | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return None
    return f"{_show(value)} is not a date; use YYYY-MM-DD, e.g. 2019-06-13"


def _order(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return None
    return f"{_show(value)} is not a position; use a whole number from 1"


@dataclass(frozen=True)
class Field:
    """One front matter key: whether it is required, its check, and its doc line."""

    required: bool
    kind: str
    doc: str
    check: Callable[[Source, tuple, Any], list[Problem]] | None = None
    simple: Callable[[Any], str | None] | None = None


def _run(field_: Field, source: Source, key: tuple, value: Any) -> list[Problem]:
    if field_.simple is not None:
        message = field_.simple(value)
        return [Problem(source.path, source.line(*key), f"{key[-1]}: {message}")] if message else []
    assert field_.check is not None
    return field_.check(source, key, value)


def _speakers(source: Source, key: tuple, value: Any) -> list[Problem]:
    where = source.line(*key)
    if not isinstance(value, list) or not value:
        return [
            Problem(
                source.path,
                where,
                "speakers: expected a list of speakers, each with a name and an optional affiliation",
            )
        ]
    problems = []
    for position, speaker in enumerate(value):
        item = (*key, position)
        if isinstance(speaker, str):
            problems.append(
                Problem(
                    source.path,
                    source.line(*item),
                    f"speakers: {speaker!r} must be a mapping; use '- name: {speaker}' "
                    "with an optional 'affiliation:'",
                )
            )
            continue
        if not isinstance(speaker, dict):
            problems.append(
                Problem(
                    source.path,
                    source.line(*item),
                    "speakers: each speaker must be a mapping with name and optional affiliation",
                )
            )
            continue
        for sub in speaker:
            if sub not in ("name", "affiliation"):
                problems.append(
                    Problem(
                        source.path,
                        source.line(*item, sub),
                        f"speakers: unknown key {sub!r}; allowed: name, affiliation",
                    )
                )
        if "name" not in speaker:
            problems.append(
                Problem(
                    source.path,
                    source.line(*item),
                    "speakers: a speaker has no name; add 'name: <full name>'",
                )
            )
        for sub in ("name", "affiliation"):
            if sub in speaker and (message := _text(speaker[sub])):
                problems.append(
                    Problem(source.path, source.line(*item, sub), f"speakers: {sub}: {message}")
                )
    return problems


LINK_KINDS = ("program", "slides", "video", "code")
EVENT_LINK_KINDS = ("program", "notes")


def _links(kinds: tuple[str, ...]) -> Callable[[Source, tuple, Any], list[Problem]]:
    def check(source: Source, key: tuple, value: Any) -> list[Problem]:
        if not isinstance(value, dict):
            return [
                Problem(
                    source.path,
                    source.line(*key),
                    f"links: expected a mapping of link kind to URL; kinds: {', '.join(kinds)}",
                )
            ]
        problems = []
        for kind, url in value.items():
            where = source.line(*key, kind)
            if kind not in kinds:
                problems.append(
                    Problem(
                        source.path,
                        where,
                        f"links: unknown link kind {kind!r}; allowed: {', '.join(kinds)}",
                    )
                )
            elif not isinstance(url, str) or not URL.match(url):
                problems.append(
                    Problem(
                        source.path,
                        where,
                        f"links: {kind}: {_show(url)} is not a URL; use https://...",
                    )
                )
        return problems

    return check


def _tags(source: Source, key: tuple, value: Any) -> list[Problem]:
    if not isinstance(value, list):
        return [
            Problem(
                source.path, source.line(*key), "tags: expected a list, e.g. [reliability, linux]"
            )
        ]
    problems = []
    for position, tag in enumerate(value):
        if not isinstance(tag, str) or not TAG.match(tag):
            problems.append(
                Problem(
                    source.path,
                    source.line(*key, position),
                    f"tags: {_show(tag)} is not a tag; use lower-case words joined by '-'",
                )
            )
        elif value.index(tag) != position:
            problems.append(
                Problem(
                    source.path,
                    source.line(*key, position),
                    f"tags: {tag!r} is listed twice; list each tag once",
                )
            )
    return problems


def _demos(source: Source, key: tuple, value: Any) -> list[Problem]:
    if not isinstance(value, list):
        return [
            Problem(
                source.path,
                source.line(*key),
                "demos: expected a list of demo names, e.g. [skinny]",
            )
        ]
    return [
        Problem(
            source.path,
            source.line(*key, position),
            f"demos: {_show(name)} is not a demo name; use the name of a package under demos/",
        )
        for position, name in enumerate(value)
        if not isinstance(name, str) or not DEMO_NAME.match(name)
    ]


TALK_FIELDS: dict[str, Field] = {
    "title": Field(True, "string", "The talk's title as the program gives it.", simple=_text),
    "speakers": Field(
        True,
        "list",
        "Each speaker: `name` (required) and `affiliation` (optional).",
        check=_speakers,
    ),
    "event": Field(
        True, "string", "The event's folder name under `docs/`, e.g. `srecon19apac`.", simple=_text
    ),
    "date": Field(True, "date", "The day of the talk, `YYYY-MM-DD`.", simple=_date),
    "order": Field(
        True,
        "integer",
        "Position in the event's list of talks, from 1; unique per event.",
        simple=_order,
    ),
    "track": Field(False, "string", "The program's track, if it had one.", simple=_text),
    "summary": Field(
        False,
        "string",
        "One or two sentences; the page's description for search engines and sharing "
        "(default: the note's first paragraph).",
        simple=_text,
    ),
    "links": Field(
        False,
        "mapping",
        "URLs by kind: " + ", ".join(f"`{k}`" for k in LINK_KINDS) + ".",
        check=_links(LINK_KINDS),
    ),
    "tags": Field(
        False, "list", "Lower-case, hyphenated topics, e.g. `[linux, memory]`.", check=_tags
    ),
    "demos": Field(
        False, "list", "Names of demo packages under `demos/` that the note embeds.", check=_demos
    ),
}

EVENT_FIELDS: dict[str, Field] = {
    "title": Field(True, "string", "The event's name as readers should see it.", simple=_text),
    "event": Field(True, "string", "The event's id: the name of its folder.", simple=_text),
    "date": Field(True, "date", "The day the page covers, `YYYY-MM-DD`.", simple=_date),
    "location": Field(False, "string", "Venue and city.", simple=_text),
    "summary": Field(False, "string", "One or two sentences describing the page.", simple=_text),
    "links": Field(
        False,
        "mapping",
        "URLs by kind: " + ", ".join(f"`{k}`" for k in EVENT_LINK_KINDS) + ".",
        check=_links(EVENT_LINK_KINDS),
    ),
}

PAGE_FIELDS: dict[str, Field] = {
    "title": Field(True, "string", "The page title.", simple=_text),
    "summary": Field(False, "string", "One or two sentences describing the page.", simple=_text),
    "demos": Field(
        False, "list", "Names of demo packages under `demos/` that the page embeds.", check=_demos
    ),
    "hide": Field(
        False,
        "list",
        "Material's `hide` (navigation, toc, footer).",
        check=None,
        simple=lambda v: None if isinstance(v, list) else "expected a list",
    ),
}


def check_fields(source: Source, fields: dict[str, Field], what: str) -> list[Problem]:
    """Check ``source.meta`` against ``fields``; ``what`` names the kind of page."""
    problems = []
    allowed = ", ".join(fields)
    for key in source.meta:
        if key not in fields:
            problems.append(
                Problem(
                    source.path,
                    source.line(key),
                    f"unknown key {key!r} in a {what}; allowed: {allowed}",
                )
            )
    for name, field_ in fields.items():
        if name not in source.meta:
            if field_.required:
                problems.append(
                    Problem(
                        source.path, 1, f"missing required key {name!r} in a {what}; {field_.doc}"
                    )
                )
            continue
        problems.extend(_run(field_, source, (name,), source.meta[name]))
    return problems
