"""The site's Content-Security-Policy as the build writes it: one policy on every page,
hashes that match exactly the inline scripts and style attributes a browser would find,
and a ``_headers`` file with what only a header can carry."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from livenotes import csp
from tests.conftest import EVENT_PAGE, GOOD_TALK, make_site, run_build

TABLE_TALK = GOOD_TALK.replace("title: A Good Talk", "title: A Table").replace(
    "order: 1", "order: 2"
) + (
    "\n| left | middle | right |\n|:-----|:------:|------:|\n| a | b | c |\n\n"
    "<!-- <script>alert('from a note')</script> -->\n\n"
    'Raw HTML keeps its spelling: <span title="x" STYLE = "font-weight: bold">bold</span>.\n'
)
SCRIPT_TYPES = ("", "text/javascript", "module")  # what Material and our pages use


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} twice"
        parsed[name] = sources
    return parsed


def _meta_policies(html: str) -> list[str]:
    return re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = make_site(
        tmp_path_factory.mktemp("csp"),
        {
            "docs/index.md": "---\ntitle: Home\n---\n\nHome.\n",
            "docs/testconf/index.md": EVENT_PAGE,
            "docs/testconf/good.md": GOOD_TALK,
            "docs/testconf/table.md": TABLE_TALK,
        },
        extra="markdown_extensions:\n  - tables\n",
    )
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    return root / "site"


@pytest.fixture(scope="module")
def pages(site) -> dict[str, str]:
    return {
        str(path.relative_to(site)): path.read_text(encoding="utf-8")
        for path in sorted(site.rglob("*.html"))
    }


@pytest.fixture(scope="module")
def policy(pages) -> str:
    found = {p for html in pages.values() for p in _meta_policies(html)}
    assert len(found) == 1, found
    return found.pop()


def test_every_page_carries_the_same_policy_first_in_its_head(pages, policy):
    assert {"404.html", "index.html", "testconf/table/index.html"} <= set(pages)
    for name, html in pages.items():
        assert len(_meta_policies(html)) == 1, name
        head = html[html.index("<head>") : html.index("</head>")]
        elements = re.findall(r"<(\w+)[^>]*>", head)
        # The charset comes first (HTML wants it in the first 1,024 bytes), then the
        # policy, before the title and before anything that loads or runs.
        assert elements[:2] == ["head", "meta"] and 'charset="utf-8"' in head[:60], name
        first = re.findall(r"<meta [^>]*>", head)[:2]
        assert first[1].startswith('<meta http-equiv="Content-Security-Policy"'), name
        assert head.index(first[1]) < head.index("<title>"), name
        assert head.index(first[1]) < min(head.index(tag) for tag in ("<script", "<link")), name
    assert csp.PLACEHOLDER not in "".join(pages.values())


def test_the_policy_is_strict(policy):
    directives = _directives(policy)
    hashes = [s for s in directives["script-src"] if s.startswith("'sha256-")]
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'", *hashes]
    assert hashes == sorted(hashes) and len(hashes) == len(set(hashes))
    assert directives["default-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    for name in ("base-uri", "form-action", "worker-src", "connect-src"):
        assert directives[name] == ["'self'"], name
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors" not in directives  # a <meta> policy cannot carry it


def test_script_hashes_are_exactly_those_of_the_pages_inline_scripts(pages, policy):
    """Hashes computed here from a real HTML parser's view of every page."""
    wanted = set()
    for html in pages.values():
        for node in LexborHTMLParser(html).css("script"):
            attributes = node.attributes
            if "src" not in attributes and (attributes.get("type") or "") in SCRIPT_TYPES:
                wanted.add(_hash(node.text(deep=True)))
    hashes = {s for s in _directives(policy)["script-src"] if s.startswith("'sha256-")}
    assert hashes == wanted
    # The note's commented-out script is text of the note, not a script of the theme.
    assert _hash("alert('from a note')") not in policy


def test_the_script_that_knows_the_page_depth_has_a_hash_per_depth(pages, policy):
    scopes = {}
    for name, html in pages.items():
        match = re.search(r"<script>(__md_scope=new URL\(\"([^\"]*)\".*?)</script>", html, re.S)
        assert match, name
        scopes[match.group(2)] = match.group(1)
    # Home ".", event page "..", talk pages "../..", and the 404 page served anywhere "/".
    assert set(scopes) == {".", "..", "../..", "/"}
    for text in scopes.values():
        assert _hash(text) in policy


def test_style_attributes_are_allowed_by_the_hash_of_each_value(pages, policy):
    table = LexborHTMLParser(pages["testconf/table/index.html"])
    values = {node.attributes["style"] for node in table.css("article [style]")}
    assert values == {
        "text-align: left;",
        "text-align: center;",
        "text-align: right;",
        "font-weight: bold",
    }
    directives = _directives(policy)
    assert directives["style-src-attr"] == ["'unsafe-hashes'", *sorted(map(_hash, values))]


def test_headers_file_carries_frame_ancestors_and_the_worker_policy(site, policy):
    text = (site / "_headers").read_text(encoding="utf-8")
    rules: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if not line[0].isspace():
            path = line.strip()
            rules[path] = []
        else:
            rules[path].append(line.strip())
    assert rules["/*"] == [f"Content-Security-Policy: {policy}; frame-ancestors 'none'"]
    assert rules[csp.WORKER_PATH] == [f"Content-Security-Policy: {csp.WORKER_POLICY}"]
    assert (site / csp.WORKER_PATH.lstrip("/")).is_file()
    assert max(len(line) for line in text.splitlines()) < 2000  # Cloudflare Pages' line limit


def test_worker_policy_allows_nothing_the_site_policy_does_not(policy):
    """Hosts that join every matching rule enforce both policies on the worker: the
    site's must allow what the worker's allows, so the worker's is what holds."""
    site = _directives(policy)
    for name, sources in _directives(csp.WORKER_POLICY).items():
        allowed = site.get(name, site["default-src"])
        assert sources == ["'none'"] or set(sources) <= set(allowed), name


def test_serving_allows_inline_scripts_instead_of_hashing_them():
    policy = csp.SitePolicy()
    policy.page("<html><head><meta charset='utf-8'></head><body><script>1</script>", Path("x"))
    built = _directives(policy.policy())
    assert built["script-src"] == ["'self'", "'wasm-unsafe-eval'", _hash("1")]
    assert "style-src-attr" not in built  # no style attribute was written
    policy.serving = True
    served = _directives(policy.policy())
    assert served["script-src"] == ["'self'", "'wasm-unsafe-eval'", "'unsafe-inline'"]
    assert {k: v for k, v in served.items() if k != "script-src"} == {
        k: v for k, v in built.items() if k != "script-src"
    }


@pytest.mark.parametrize(
    ("html", "scripts"),
    [
        ("<script>a()</script>", ["a()"]),
        ('<script type="module">b()</script>', ["b()"]),
        ("<script type='text/javascript'>c()</script>", ["c()"]),
        ('<script type="application/json">{"d": 1}</script>', []),
        ('<script src="e.js"></script>', []),
        ("<scripts>f()</scripts><script >g()</script>", ["g()"]),
        ("<script>\r\nh()\r\n</script>", ["\nh()\n"]),
        ("<script>i()", []),
    ],
)
def test_inline_scripts(html, scripts):
    assert csp.inline_scripts(html) == scripts


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<head>\n  <meta charset="utf-8"><title>', f'<head>\n  <meta charset="utf-8">{csp.META}'),
        ("<head><title>", f"<head>{csp.META}<title>"),
        ("<html><header>x</header>", None),
    ],
)
def test_insert_meta(html, expected):
    marked = csp.insert_meta(html)
    assert (marked if marked is None else marked[: len(expected)]) == expected


def test_a_page_is_read_as_theme_around_the_notes_article():
    policy = csp.SitePolicy()
    policy.page(
        '<head><meta charset="utf-8"></head><body><div style="a: b"></div>'
        '<article><p STYLE = "c: d"></p><!-- <script>e()</script> --></article>'
        "<script>f()</script></body>",
        Path("x"),
    )
    assert policy.scripts == {"f()"}  # the article's text is the note's, never a script
    assert policy.styles == {"a: b", "c: d"}
