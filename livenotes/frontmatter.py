"""Front matter of notes: read with line numbers, checked against a schema.

Every problem is one line, ``docs/<file>.md:<line>: <what is wrong; what is allowed>``,
so a contributor can jump straight to it. The schemas here are the single source of
truth: CONTRIBUTING.md's field reference is tested against them.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG = SLUG
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

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
MAX_DIGITS = 15
"""Whole numbers in front matter and demo blocks have at most this many digits: every
such number is exact as a JavaScript number, and none is big enough to overflow."""
_KEY_KINDS = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "empty",
    "tag:yaml.org,2002:timestamp": "a date",
}
# Characters that change how text reads without being seen: C0/C1 controls (tab and
# newline aside), bidirectional overrides ("Trojan Source"), zero-width marks.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb]"
)


class YamlProblem(Exception):
    """A front matter or demo block mistake found before the data is constructed."""

    def __init__(self, line: int, message: str, first: int | None = None) -> None:
        self.line = line  # 0-based, within the YAML text
        self.first = first  # for a key given twice: where it was given first
        super().__init__(message)

    def message(self, offset: int) -> str:
        """The message, with line numbers counted as the file counts them."""
        text = str(self)
        return text if self.first is None else text.format(first=self.first + offset)


def _aliases(text: str) -> YamlProblem | None:
    """The first anchor or alias in ``text``. Aliases let a few hundred bytes stand for
    millions of values (a "billion laughs" bomb); notes never need them."""
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            return YamlProblem(
                event.start_mark.line,
                f"YAML aliases (*{event.anchor}) are not allowed; write the value out",
            )
        if getattr(event, "anchor", None):
            return YamlProblem(
                event.start_mark.line,
                f"YAML anchors (&{event.anchor}) are not allowed; write each value out",
            )
    return None


def _check_nodes(root: yaml.Node, text: str) -> None:
    """Refuse what YAML allows but a note must not hold: aliases, keys that are not
    text, a key given twice, numbers too large, invisible characters. Iterative, and
    each node is visited once, so no input can make this slow or deep."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:  # only an alias shares a node
            raise _aliases(text) or YamlProblem(
                node.start_mark.line, "YAML aliases are not allowed"
            )
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: dict[str, int] = {}
            for key, value in node.value:
                line = key.start_mark.line
                if not isinstance(key, yaml.ScalarNode):
                    raise YamlProblem(line, "a key must be text, not a list or mapping")
                if key.tag != _STR:
                    kind = _KEY_KINDS.get(key.tag, key.tag)
                    raise YamlProblem(
                        line, f"key {key.value!r} is {kind}, not text; write keys as words"
                    )
                if key.value in keys:
                    raise YamlProblem(
                        line,
                        f"key {key.value!r} is given twice (first on line {{first}}); keep one",
                        first=keys[key.value],
                    )
                keys[key.value] = line
                stack.append(key)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.ScalarNode):
            _check_scalar(node)


def _check_scalar(node: yaml.ScalarNode) -> None:
    value = node.value
    line = node.start_mark.line
    if node.tag == _INT and sum(c.isdigit() for c in value) > MAX_DIGITS:
        raise YamlProblem(
            line, f"number {value[:20]}... is too large; use at most {MAX_DIGITS} digits"
        )
    if node.tag == _FLOAT:
        lowered = value.lower().lstrip("+-")
        mantissa, _, exponent = lowered.partition("e")
        if lowered in (".inf", ".nan") or (exponent and abs(int(exponent or 0)) > 300):
            raise YamlProblem(line, f"{value!r} is not a finite number; use an ordinary number")
    if node.tag == _STR and (found := _INVISIBLE.search(value)):
        raise YamlProblem(
            line,
            f"text contains the invisible character U+{ord(found.group()):04X}; remove it",
        )


def yaml_line(error: yaml.YAMLError, text: str) -> int:
    """The 0-based line of ``text`` that ``error`` is about."""
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        return mark.line
    if isinstance(error, yaml.reader.ReaderError):  # a character YAML refuses
        return text.count("\n", 0, error.position)
    return 0


def parse_yaml(text: str) -> tuple[yaml.Node | None, object]:
    """Parse once, keeping the node tree (for line numbers) and the data.

    Raises :class:`YamlProblem` for what a note must not hold (see ``_check_nodes``)
    and ``yaml.YAMLError`` for text that is not YAML.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_nodes(node, text)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def index_lines(node: yaml.Node, path: tuple, offset: int, out: dict) -> None:
    stack = [(node, path)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, key.value)
                out[child] = key.start_mark.line + offset
                stack.append((value, child))
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                child = (*path, position)
                out[child] = item.start_mark.line + offset
                stack.append((item, child))


def split_lines(text: str) -> list[str]:
    """Lines as MkDocs and editors count them: split at newlines only (``str.splitlines``
    also splits at form feeds, U+2028 and others, which would shift every line number)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


MAX_BYTES = 200_000
"""A note bigger than this is refused: it is not a note, and every check stays fast."""


def decode(path: str, data: bytes) -> tuple[str | None, Problem | None]:
    """A note's bytes as text. UTF-8 only, with or without a byte order mark (MkDocs
    accepts one); anything else names the line of the first byte that is not UTF-8."""
    if len(data) > MAX_BYTES:
        return None, Problem(
            path, 1, f"the file is {len(data):,} bytes; a note must be under {MAX_BYTES:,} bytes"
        )
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            return None, Problem(path, 1, f"the file is {name} text; save it as UTF-8")
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        return None, Problem(
            path,
            line,
            f"byte 0x{data[error.start]:02x} at column {column} is not UTF-8 "
            "(Latin-1 or Windows-1252?); save the file as UTF-8",
        )
    # As MkDocs reads files: universal newlines.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return None, Problem(
            path, line, "the file holds NUL bytes (UTF-16 without a BOM?); save it as UTF-8"
        )
    return text, None


def read_source(path: str, text: str) -> tuple[Source, list[Problem]]:
    """Split ``text`` into front matter and body; YAML errors become problems."""
    lines = split_lines(text)
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
    except YamlProblem as problem:
        return Source(path, {}, {}, body, end + 2), [
            Problem(path, problem.line + 2, problem.message(2))
        ]
    except yaml.YAMLError as error:
        line = yaml_line(error, yaml_text) + 2
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
        index_lines(node, (), 2, index)
    return Source(path, meta, index, body, end + 2), []


# --- field checks ---------------------------------------------------------------
# A check returns None when the value is fine, else "what is wrong; what is allowed".


def text_check(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return f"{show(value)} is not text; use a non-empty string"


def show(value: Any) -> str:
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
    return f"{show(value)} is not a date; use YYYY-MM-DD, e.g. 2019-06-13"


def _order(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return None
    return f"{show(value)} is not a position; use a whole number from 1"


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
            if sub in speaker and (message := text_check(speaker[sub])):
                problems.append(
                    Problem(source.path, source.line(*item, sub), f"speakers: {sub}: {message}")
                )
    return problems


_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\"'<>\\`{}|^]")


def _url_problem(value: Any) -> str | None:
    """Why ``value`` is not a link we print, or None. Parsed with a real URL parser:
    http and https only, a host name, no quotes, spaces or control characters."""
    if not isinstance(value, str):
        return "is not a URL"
    if found := _URL_UNSAFE.search(value):
        return f"holds {found.group()!r}, which a URL may not"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "is not a URL"
    if not parts.scheme:
        return "is not a full URL"
    if parts.scheme not in ("http", "https"):
        return f"uses {parts.scheme}:, not http or https"
    if not parts.hostname or "." not in parts.hostname.strip("."):
        return "has no host name"
    if parts.username is not None or parts.password is not None:
        return "holds a user name or password"
    return None


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
            elif reason := _url_problem(url):
                problems.append(
                    Problem(
                        source.path,
                        where,
                        f"links: {kind}: {show(url)} {reason}; use a full http:// or https:// "
                        "address",
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
                    f"tags: {show(tag)} is not a tag; use lower-case words joined by '-'",
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
            f"demos: {show(name)} is not a demo name; use the name of a package under demos/",
        )
        for position, name in enumerate(value)
        if not isinstance(name, str) or not DEMO_NAME.match(name)
    ]


TALK_FIELDS: dict[str, Field] = {
    "title": Field(True, "string", "The talk's title as the program gives it.", simple=text_check),
    "speakers": Field(
        True,
        "list",
        "Each speaker: `name` (required) and `affiliation` (optional).",
        check=_speakers,
    ),
    "event": Field(
        True,
        "string",
        "The event's folder name under `docs/`, e.g. `srecon19apac`.",
        simple=text_check,
    ),
    "date": Field(True, "date", "The day of the talk, `YYYY-MM-DD`.", simple=_date),
    "order": Field(
        True,
        "integer",
        "Position in the event's list of talks, from 1; unique per event.",
        simple=_order,
    ),
    "track": Field(False, "string", "The program's track, if it had one.", simple=text_check),
    "summary": Field(
        False,
        "string",
        "One or two sentences; the page's description for search engines and sharing "
        "(default: the note's first paragraph).",
        simple=text_check,
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
    "title": Field(True, "string", "The event's name as readers should see it.", simple=text_check),
    "event": Field(True, "string", "The event's id: the name of its folder.", simple=text_check),
    "date": Field(True, "date", "The day the page covers, `YYYY-MM-DD`.", simple=_date),
    "location": Field(False, "string", "Venue and city.", simple=text_check),
    "summary": Field(
        False, "string", "One or two sentences describing the page.", simple=text_check
    ),
    "links": Field(
        False,
        "mapping",
        "URLs by kind: " + ", ".join(f"`{k}`" for k in EVENT_LINK_KINDS) + ".",
        check=_links(EVENT_LINK_KINDS),
    ),
}

PAGE_FIELDS: dict[str, Field] = {
    "title": Field(True, "string", "The page title.", simple=text_check),
    "summary": Field(
        False, "string", "One or two sentences describing the page.", simple=text_check
    ),
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


def check_fields(
    source: Source, fields: dict[str, Field], what: str, *, prefix: str = "", start: int = 1
) -> list[Problem]:
    """Check ``source.meta`` against ``fields``; ``what`` names the kind of page.

    A block inside a note (a demo block) passes ``prefix`` ("demo block: "), which every
    message starts with, and ``start``, the line a missing key is reported on.
    """
    problems = []
    allowed = ", ".join(fields)
    where = "" if prefix else f" in a {what}"
    for key in source.meta:
        if key not in fields:
            problems.append(
                Problem(
                    source.path,
                    source.line(key) if (key,) in source.lines else start,
                    f"{prefix}unknown key {key!r}{where}; allowed: {allowed}",
                )
            )
    for name, field_ in fields.items():
        if name not in source.meta:
            if field_.required:
                problems.append(
                    Problem(
                        source.path,
                        start,
                        f"{prefix}missing required key {name!r}{where}; {field_.doc}",
                    )
                )
            continue
        found = _run(field_, source, (name,), source.meta[name])
        problems.extend(Problem(p.path, p.line, prefix + p.message) if prefix else p for p in found)
    return problems
