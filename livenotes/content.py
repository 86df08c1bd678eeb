"""What a note may put into a page: its rendered HTML, checked with a real HTML parser.

Notes come by pull request from people we don't know, and Markdown makes HTML in more
ways than raw tags (a link to ``javascript:``, an ``attr_list`` attribute, an image from
another host). So the check reads the HTML that Markdown *produced*, parsed as a browser
parses it (selectolax's Lexbor engine follows the WHATWG HTML parsing algorithm, so what
it sees is what a browser would build), against an allowlist: elements and attributes
that Markdown and our extensions write, and the few inline tags writers rely on.
Anything else is refused with one line naming the note's line.

CONTRIBUTING.md's "HTML in notes" lists the same elements; a test keeps the two in sync.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import selectolax
from selectolax.lexbor import LexborHTMLParser

from livenotes.cachefiles import write_atomic
from livenotes.frontmatter import Problem, split_lines

_ELEMENTS = """a abbr b bdi bdo blockquote br caption cite code col colgroup dd del details
    dfn div dl dt em figcaption figure h1 h2 h3 h4 h5 h6 hr i img input ins kbd label li
    mark ol p picture pre q s samp small source span strong sub summary sup table tbody
    td tfoot th thead time tr u ul var wbr"""
ALLOWED_ELEMENTS = frozenset(_ELEMENTS.split())
"""Elements a note may contain: what Markdown, its extensions (tables, footnotes,
admonitions, details, tabs, highlighting) and md_in_html write, plus inline HTML such as
``<kbd>``, ``<abbr>``, ``<details>``, ``<sup>`` and ``<br>``."""

GLOBAL_ATTRIBUTES = frozenset({"id", "class", "title", "lang", "dir", "style", "hidden"})
"""Attributes allowed on every element (``aria-*`` too); ``style`` may not load URLs."""

ELEMENT_ATTRIBUTES: dict[str, frozenset[str]] = {
    name: frozenset(attributes.split())
    for name, attributes in {
        "a": "href name rel target hreflang",
        "blockquote": "cite",
        "q": "cite",
        "del": "cite datetime",
        "ins": "cite datetime",
        "col": "span",
        "colgroup": "span",
        "details": "open",
        "div": "data-tabs",  # pymdownx.tabbed
        "span": "data-linenos",  # pymdownx.highlight
        "img": "src srcset sizes alt width height loading decoding",
        "source": "srcset sizes type media",
        "input": "type checked disabled name",  # tabs are radio buttons
        "label": "for",
        "ol": "start reversed type",
        "li": "value",
        "td": "colspan rowspan headers align",
        "th": "colspan rowspan headers scope abbr align",
        "time": "datetime",
    }.items()
}

INPUT_TYPES = frozenset({"radio", "checkbox"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_LINK_ATTRIBUTES = frozenset({"href", "cite"})
_SOURCE_ATTRIBUTES = frozenset({"src", "srcset"})
# CSS that fetches something: url(), image-set() and friends, @import; a backslash
# could spell any of them as a CSS escape, so it is refused too.
_STYLE_LOADS = re.compile(r"url\s*\(|image|@import|expression|binding|behavior|\\", re.I)
# What browsers remove from a URL before parsing it (WHATWG URL: strip C0 controls and
# spaces at either end, drop tabs and newlines anywhere).
_URL_TRIM = "".join(chr(c) for c in range(0x21))

HELP = 'see "HTML in notes" in CONTRIBUTING.md'

# Ids the page's own code looks elements up by: Material's (``__search``, ``__config``,
# ``__drawer``...) and the widget's (``ln-...``). A note holding one would take it over
# ("DOM clobbering"). Markdown's extensions write the ``__tabbed_...`` and
# ``__codelineno-...`` ids themselves.
_RESERVED_ID = re.compile(r"^(?:__|ln-)", re.I)
_EXTENSION_ID = re.compile(r"^__(?:tabbed_\d+(?:_\d+)?|codelineno-[\w-]+|span-[\w-]+)$")


@dataclass(frozen=True)
class Finding:
    """Something active in a note's HTML: what it is, and text to find it by."""

    message: str
    needles: tuple[str, ...]


def check_html(
    path: str,
    rendered: str,
    body: str,
    body_line: int,
    markers: frozenset[str] = frozenset(),
    links: list[str] | None = None,
) -> list[Problem]:
    """Problems with the HTML a note rendered to, each placed on the note's line.

    ``body`` is the note's Markdown as written (``body_line`` its first line), searched
    for the offending text to name the line; ``markers`` are the ``data-livenotes-embed``
    values the plugin itself put in for demo blocks. When ``links`` is given, the
    ``href`` of every ``<a>`` that has one is appended to it, so that the links to a
    moment are checked without parsing the note again.
    """
    findings = _inspect(rendered, markers, links)
    if not findings:
        return []
    lines = [line.casefold() for line in split_lines(body)]
    problems = []
    for finding in findings:
        problems.append(Problem(path, _locate(finding, lines, body_line), finding.message))
    return sorted(set(problems))


class CheckedPages:
    """:func:`check_html` for a build, remembering what it found clean.

    Verdicts are kept on disk in ``folder`` (``<runtime_cache>/checks/``), named by the
    code of this module and the parser's version, so an unchanged note is not parsed
    again on the next build, and copies of a note are parsed once. The key is the
    sha256 of the rendered HTML and of the page's own placeholder values, with the
    build's nonce replaced by a NUL (which no note can hold: the scan refuses NUL
    bytes), so a page found clean under one build's nonce is the same page under the
    next. Only clean pages are kept: a page with a problem is checked every time, and
    each build's file holds only that build's pages (the older ones are dropped).
    """

    def __init__(self, folder: Path | None, nonce: str) -> None:
        self.nonce = nonce
        self.path = folder / f"{_CODE}.json" if folder is not None else None
        self.known: dict[str, list[str]] = {}
        if self.path is not None:
            try:
                self.known = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.known = {}  # none yet, or damaged: every page is checked
            if not isinstance(self.known, dict):
                self.known = {}
        self.used: dict[str, list[str]] = {}

    def _key(self, rendered: str, markers: frozenset[str]) -> str:
        nonce = self.nonce
        hasher = hashlib.sha256()
        for text in (rendered, *sorted(markers)):
            hasher.update(
                (text.replace(nonce, "\0") if nonce else text).encode("utf-8", "surrogatepass")
            )
            hasher.update(b"\xff")  # never in UTF-8: ends each text
        return hasher.hexdigest()

    def check(
        self,
        path: str,
        rendered: str,
        body: str,
        body_line: int,
        markers: frozenset[str],
        links: list[str],
    ) -> list[Problem]:
        """As :func:`check_html`; ``links`` gets the page's ``<a href>`` values."""
        key = self._key(rendered, markers)
        found = self.used.get(key)
        if found is None:
            found = self.known.get(key)
        if isinstance(found, list) and all(isinstance(link, str) for link in found):
            self.used[key] = found
            links.extend(found)
            return []
        mine: list[str] = []
        problems = check_html(path, rendered, body, body_line, markers, mine)
        links.extend(mine)
        if not problems:
            self.used[key] = mine
        return problems

    def save(self) -> None:
        """Keep this build's verdicts (``on_post_build``), in place of older ones."""
        if self.path is None or self.used == self.known:
            return
        write_atomic(self.path, json.dumps(self.used, separators=(",", ":")))
        for old in self.path.parent.glob("*.json"):
            if old != self.path:
                old.unlink(missing_ok=True)  # another version of this module's verdicts


def _inspect(rendered: str, markers: frozenset[str], links: list[str] | None) -> list[Finding]:
    tree = LexborHTMLParser(rendered)
    findings: list[Finding] = []
    refused: set[int] = set()  # a refused element is reported once, not its insides
    for node in tree.root.traverse(include_text=False):
        tag = node.tag
        if tag == "a" and links is not None:
            given = node.attributes
            if "href" in given:
                links.append(given["href"] or "")
        if tag in ("-comment", "!doctype") or _inside(node, refused):
            continue
        attributes = {name.lower(): value or "" for name, value in node.attributes.items()}
        if tag in ("html", "head", "body"):
            # A fragment's <body onload=...> lands on the page's own body element.
            for name, value in attributes.items():
                handler = name.startswith("on")
                findings.append(
                    _handler_finding(tag, name, value) if handler else _attribute_finding(tag, name)
                )
            continue
        if tag not in ALLOWED_ELEMENTS:
            refused.add(node.mem_id)
            findings.append(
                Finding(
                    f"<{tag}> is not allowed in a note; {HELP} for the elements that are",
                    (f"<{tag}", _text_needle(node.text(deep=True))),
                )
            )
            continue
        if tag == "div" and attributes.get("data-livenotes-embed") in markers and markers:
            attributes.pop("data-livenotes-embed")
        allowed = ELEMENT_ATTRIBUTES.get(tag, frozenset())
        for name, value in attributes.items():
            finding = _check_attribute(tag, name, value, allowed)
            if finding:
                findings.append(finding)
    return findings


def _inside(node, refused: set[int]) -> bool:
    parent = node.parent
    while refused and parent is not None:
        if parent.mem_id in refused:
            return True
        parent = parent.parent
    return False


def _check_attribute(tag: str, name: str, value: str, allowed: frozenset[str]) -> Finding | None:
    if name.startswith("on"):
        return _handler_finding(tag, name, value)
    if not (name in GLOBAL_ATTRIBUTES or name in allowed or name.startswith("aria-")):
        return _attribute_finding(tag, name, allowed)
    if (
        name in ("id", "for", "name")
        and _RESERVED_ID.match(value)
        and not _EXTENSION_ID.match(value.strip())
    ):
        return Finding(
            f'<{tag} {name}="{_short(value, quote=False)}">: ids starting with "__" or "ln-" '
            "belong to the page's own scripts; choose another",
            (value, f"{name}="),
        )
    if name == "style" and _STYLE_LOADS.search(value):
        return Finding(
            f"<{tag} style={_short(value)}>: a style may not load anything (url(), "
            "image-set(), @import, CSS escapes); use plain declarations",
            (value, "style="),
        )
    if tag == "input" and name == "type" and value.lower() not in INPUT_TYPES:
        return Finding(
            f'<input type="{_short(value, quote=False)}"> is not allowed; inputs may only be '
            "the radio buttons of content tabs or checkboxes",
            ("<input", value),
        )
    if name in _LINK_ATTRIBUTES:
        return _check_link(tag, name, value)
    if name in _SOURCE_ATTRIBUTES:
        urls = (
            [c.split()[0] for c in value.split(",") if c.split()] if name == "srcset" else [value]
        )
        for url in urls:
            finding = _check_source(tag, name, url)
            if finding:
                return finding
    return None


def _handler_finding(tag: str, name: str, value: str) -> Finding:
    return Finding(
        f"<{tag} {name}=...>: event handler attributes are not allowed; a note carries no scripts",
        (f"{name}=", f"{name} =", value),
    )


def _attribute_finding(tag: str, name: str, allowed: frozenset[str] = frozenset()) -> Finding:
    needles = (f"{name}=", f"{name} =", name)
    if tag in ("html", "head", "body"):
        return Finding(f"attribute {name!r} is not allowed on the page's <{tag}>; {HELP}", needles)
    names = ", ".join(sorted(GLOBAL_ATTRIBUTES | allowed)) + ", aria-*"
    return Finding(f"attribute {name!r} is not allowed on <{tag}>; allowed: {names}", needles)


def _normalise_url(value: str) -> str:
    value = value.strip(_URL_TRIM)
    return re.sub(r"[\t\n\r]", "", value).replace("\\", "/")


def _check_link(tag: str, name: str, value: str) -> Finding | None:
    url = _normalise_url(value)
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = "?"
    if scheme == "demo" and tag == "a" and name == "href":
        return None  # a link to a moment of a demo: livenotes.moments checks it
    if scheme and scheme not in LINK_SCHEMES:
        return Finding(
            f"<{tag} {name}={_short(value)}>: {scheme}: links are not allowed; use http, "
            "https, mailto or a relative link",
            (value, f"{scheme}:"),
        )
    return None


def _check_source(tag: str, name: str, value: str) -> Finding | None:
    url = _normalise_url(value)
    try:
        parts = urlsplit(url)
        foreign = bool(parts.scheme or parts.netloc)
    except ValueError:
        foreign = True
    if foreign:
        return Finding(
            f"<{tag} {name}={_short(value)}>: images and media must come from this site, "
            "not another host or a data: URL; use a relative path to a file under docs/",
            (value, f"{name}="),
        )
    return None


def _short(value: str, quote: bool = True) -> str:
    shown = value if len(value) <= 60 else value[:57] + "..."
    shown = shown.replace("\n", " ")
    return f'"{shown}"' if quote else shown


def _text_needle(text: str | None) -> str:
    words = " ".join((text or "").split())
    return words[:40]


def _locate(finding: Finding, lines: list[str], body_line: int) -> int:
    """The first line of the note holding one of the finding's needles, tried in order
    (raw, then as entities decode); the body's first line when none is found."""
    for needle in finding.needles:
        needle = needle.strip().casefold()
        if len(needle) < 2:
            continue
        for number, line in enumerate(lines):
            if needle in line or needle in html.unescape(line):
                return body_line + number
    return body_line


_CODE = hashlib.sha256(
    Path(__file__).read_bytes() + f"\0selectolax {selectolax.__version__}".encode()
).hexdigest()[:20]
"""What a verdict depends on besides the page: this module's code and the parser's."""
