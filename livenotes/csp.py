"""One Content-Security-Policy for the whole site, the demo worker's included.

Material's instant navigation keeps the first page's ``<head>`` for the whole visit, so
every page carries the same policy: a ``<meta http-equiv>`` right after the charset
declaration (before ``<title>``, any script or stylesheet), and a ``_headers`` file for
hosts that read one, which adds what a ``<meta>`` cannot carry (``frame-ancestors``)
and the policy of the demo worker (a worker takes its policy from its own response).

Scripts run from the site's own files and, inline, only Material's own scripts, allowed
by their sha256: each page's are hashed as it is written (one of them embeds the page's
depth, so the policy lists a variant per depth), and once every page is written the
policy is final and replaces a placeholder in each of them. A note's own text is never
hashed as a script. Style attributes (Python-Markdown's table alignment writes
``style="text-align: ..."``) are allowed by the hash of each value the build wrote,
with CSP3's ``'unsafe-hashes'`` in ``style-src-attr``; a value nobody wrote stays
blocked.

While ``mkdocs serve`` runs, MkDocs injects its live-reload script into every page as it
serves it; that script carries a timestamp, so it cannot be hashed ahead. The policy
is then the same but for ``script-src``, which allows inline scripts
(``'unsafe-inline'`` instead of the hashes: a hash would switch ``'unsafe-inline'`` off).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

PLACEHOLDER = "livenotes-content-security-policy"
"""Stands in each page for the policy until every page's hashes are known."""

META = f'<meta http-equiv="Content-Security-Policy" content="{PLACEHOLDER}">'

DIRECTIVES: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    # Pyodide compiles its WebAssembly in the demo worker; on hosts that merge
    # `_headers` rules the worker is under this policy too.
    "script-src": ("'self'", "'wasm-unsafe-eval'"),
    "style-src": ("'self'",),
    # Material's icons are data: SVGs in its stylesheet.
    "img-src": ("'self'", "data:"),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "worker-src": ("'self'",),
    "connect-src": ("'self'",),
}
"""The site's policy before the hashes of inline scripts and style attributes."""

GOOGLE_FONTS = {
    "style-src": "https://fonts.googleapis.com",
    "font-src": "https://fonts.gstatic.com",
}
"""Where Material loads its fonts from when ``theme.font`` is not ``false``."""

HEADER_ONLY = "frame-ancestors 'none'"
"""What a ``<meta>`` policy cannot carry; sent as a header where the host allows."""

WORKER_PATH = "/assets/livenotes/worker.js"
WORKER_POLICY = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'"
"""The demo worker imports Pyodide's modules, fetches the runtime and the demo wheels
and compiles WebAssembly; nothing else."""

SERVICE_WORKER_PATH = "/sw.js"
SERVICE_WORKER_HEADERS = (
    "Content-Security-Policy: default-src 'none'; connect-src 'self'",
    "Cache-Control: no-cache",
)
"""The service worker (livenotes/offline.py) fetches the site's own files and runs no
other script; browsers check it for a new deploy on every visit."""

# Types of <script> that the browser runs, and so checks against script-src.
_RUN_TYPES = frozenset(
    {"", "module", "importmap", "speculationrules"}
    | {
        f"{kind}/{name}"
        for kind in ("text", "application")
        for name in ("javascript", "ecmascript")
    }
    | {"text/x-javascript", "application/x-javascript", "text/jscript"}
)
_TYPE = re.compile(r"""\stype\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_SRC = re.compile(r"\ssrc\s*=", re.IGNORECASE)
# On the UTF-8 bytes, lowered: a case-blind regex over a str is ten times slower.
_STYLE_ATTRIBUTE = re.compile(rb"style\s*=")


def sha256(text: str) -> str:
    """A CSP hash source for ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def inline_scripts(html: str, begin: int = 0, end: int | None = None) -> list[str]:
    """The text of every inline ``<script>`` in ``html[begin:end]`` that the browser
    would run.

    A plain scan, not a parser: it reads the theme's own markup (a note's part of the
    page is left out, see ``SitePolicy.page``). A script it missed is blocked by the
    policy, which the browser tests would see.
    """
    found = []
    position = begin
    end = len(html) if end is None else end
    while (start := html.find("<script", position, end)) != -1:
        tag_end = html.find(">", start)
        if tag_end == -1:
            break
        close = html.find("</script", tag_end)
        if close == -1:
            break
        position = close + len("</script")
        tag = html[start : tag_end + 1]
        if not (tag[7:8].isspace() or tag[7:8] in (">", "/")):
            continue  # <scripts>, not <script>
        if _SRC.search(tag):
            continue
        kind = _TYPE.search(tag)
        value = next((group for group in kind.groups() if group is not None), "") if kind else ""
        if value.strip().lower() in _RUN_TYPES:
            # The HTML parser turns CRLF and CR into LF before the browser hashes.
            found.append(html[tag_end + 1 : close].replace("\r\n", "\n").replace("\r", "\n"))
    return found


def inline_style_elements(html: str) -> list[str]:
    """The text of every ``<style>`` element in the theme's part of a page (Material
    writes one with the font names when a site keeps ``theme.font``)."""
    found = []
    position = 0
    while (start := html.find("<style", position)) != -1:
        tag_end = html.find(">", start)
        close = html.find("</style", tag_end)
        if tag_end == -1 or close == -1:
            break
        position = close + len("</style")
        if html[start + 6 : start + 7] in (">", " ", "\n", "\t"):
            found.append(html[tag_end + 1 : close].replace("\r\n", "\n").replace("\r", "\n"))
    return found


def style_attributes(html: str) -> set[str]:
    """Every ``style`` attribute's value in ``html``, as a browser's parser reads it."""
    if not _STYLE_ATTRIBUTE.search(html.encode("utf-8", "surrogatepass").lower()):
        return set()
    tree = LexborHTMLParser(html)
    return {node.attributes.get("style") or "" for node in tree.css("[style]")}


def article(html: str) -> tuple[int, int] | None:
    """Where the page's ``<article>`` starts and ends: Material puts the note's HTML
    there; the rest is the theme's and ours."""
    start = html.find("<article")
    end = html.rfind("</article>")
    return None if start == -1 or end < start else (start, end)


def insert_meta(html: str) -> str | None:
    """``html`` with the policy placeholder as the first element of ``<head>`` after the
    charset declaration (which HTML wants within the first 1,024 bytes, and the policy
    may be longer); None for output with no ``<head>``."""
    head = html.find("<head")
    while head != -1 and html[head + 5 : head + 6] not in (">", " ", "\n", "\t"):
        head = html.find("<head", head + 5)  # <header>, not <head>
    if head == -1:
        return None
    at = html.find(">", head) + 1
    first = at
    while html[first : first + 1].isspace():
        first += 1
    if html[first : first + 13].lower() == "<meta charset":
        at = html.find(">", first) + 1
    start = html[:at]  # one pass over the page, not two slices and a join
    return html.replace(start, start + META, 1)


class SitePolicy:
    """Collects the hashes a build needs and writes the policy once all pages are out."""

    def __init__(self) -> None:
        self.serving = False
        self.fonts = False  # the theme loads Google Fonts (Material's default)
        self.reset()

    def reset(self) -> None:
        """Forget the last build (``mkdocs serve`` keeps the plugin between builds)."""
        self.scripts: set[str] = set()
        self.styles: set[str] = set()
        self.style_elements: set[str] = set()
        self.pages: list[Path] = []

    def page(self, html: str, dest: Path) -> str:
        """Record what ``html`` (a page about to be written to ``dest``) needs; return it
        with the placeholder in its ``<head>``."""
        marked = insert_meta(html)
        if marked is None:
            return html
        span = article(marked)
        if span is None:  # all theme
            self.scripts.update(inline_scripts(marked))
            self.style_elements.update(inline_style_elements(marked))
            self.styles.update(style_attributes(marked))
        else:
            start, end = span
            # A note's text is never hashed as a script, even one inside an HTML comment.
            self.scripts.update(inline_scripts(marked, 0, start), inline_scripts(marked, end))
            self.style_elements.update(inline_style_elements(marked[:start]))
            # Any style attribute, however a note spells it; the theme writes `style="`.
            self.styles.update(style_attributes(marked[start:end]))
            if marked.find(' style="', 0, start) != -1 or marked.find(' style="', end) != -1:
                self.styles.update(style_attributes(marked[:start] + marked[end:]))
        self.pages.append(dest)
        return marked

    def policy(self) -> str:
        """The policy as a ``<meta>`` carries it."""
        directives = {name: list(sources) for name, sources in DIRECTIVES.items()}
        if self.fonts:
            # A site that keeps Material's default `theme.font` asks for its stylesheet
            # and font files from Google; ours sets `font: false` and allows neither.
            directives["style-src"].append(GOOGLE_FONTS["style-src"])
            directives["font-src"] = ["'self'", GOOGLE_FONTS["font-src"]]
        directives["style-src"] += sorted(sha256(text) for text in self.style_elements)
        if self.serving:
            directives["script-src"].append("'unsafe-inline'")
        else:
            directives["script-src"] += sorted(sha256(text) for text in self.scripts)
        if self.styles:
            directives["style-src-attr"] = ["'unsafe-hashes'"] + sorted(
                sha256(text) for text in self.styles
            )
        return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())

    def headers(self) -> str:
        """A ``_headers`` file (the format Netlify and Cloudflare Pages read).

        Cloudflare Pages sends the headers of every rule that matches, joining values of
        one name with a comma (two policies, both enforced); Netlify sends the last
        matching rule's. The worker's policy allows nothing the site's does not, so the
        worker runs under the worker's policy either way.
        """
        return (
            "# Written by the livenotes plugin at build time: the policy of every page's\n"
            "# <meta http-equiv>, and what only a header can carry.\n"
            f"/*\n  Content-Security-Policy: {self.policy()}; {HEADER_ONLY}\n"
            f"{WORKER_PATH}\n  Content-Security-Policy: {WORKER_POLICY}\n"
            f"{SERVICE_WORKER_PATH}\n"
            + "".join(f"  {header}\n" for header in SERVICE_WORKER_HEADERS)
        )

    def finish(self, site_dir: Path) -> dict[Path, str]:
        """Put the policy into every page written and write ``_headers``. Returns the
        sha256 (hex) of each page as written, for the offline cache's version."""
        policy = self.policy().encode("utf-8")
        placeholder = PLACEHOLDER.encode("ascii")
        written = {}
        for path in self.pages:
            data = path.read_bytes().replace(placeholder, policy, 1)
            path.write_bytes(data)
            written[path] = hashlib.sha256(data).hexdigest()
        (site_dir / "_headers").write_text(self.headers(), encoding="utf-8")
        return written
