"""Hostile and careless notes: each gets its exact one-line problems, once, fast, from
``livenotes check`` and from ``mkdocs build`` alike, never a traceback or a hang.

The cases are classes, not single examples: encodings, YAML that expands or lies,
numbers and characters that break code downstream, demo blocks in odd places, files
MkDocs would leave out, one person under two spellings, and HTML that Markdown makes
active (raw tags, links, attr_list attributes, images from elsewhere).
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

import pytest

from livenotes.cli import main
from tests.conftest import DEMO_TALK, EVENT_PAGE, GOOD_TALK, ROOT, mkdocs_yml, run_build

EXTENSIONS = """\
markdown_extensions:
  - abbr
  - attr_list
  - md_in_html
  - footnotes
  - tables
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.tabbed:
      alternate_style: true
  - pymdownx.highlight
"""

T = "docs/testconf/talk.md"


def talk(extra: str = "", base: str = GOOD_TALK) -> str:
    """The good talk with ``extra`` appended after its paragraph (line 12): text after
    a leading blank line starts at line 14 (15 for DEMO_TALK, one line longer)."""
    return base + extra


def meta(line: str, base: str = GOOD_TALK) -> str:
    """The good talk with ``line`` added to its front matter as line 9."""
    return base.replace("order: 1\n", f"order: 1\n{line}\n")


BOMB = "l0: &l0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10)
)
"""A billion laughs: ten lines that stand for 9**10 values."""

CASES: dict[str, tuple[dict[str, str | bytes], list[str]]] = {
    # --- encodings --------------------------------------------------------------------
    "latin-1": (
        {T: GOOD_TALK.replace("Test Lab", "Caf\u00e9 Lab").encode("latin-1")},
        [
            f"{T}:5: byte 0xe9 at column 21 is not UTF-8 (Latin-1 or Windows-1252?); "
            "save the file as UTF-8"
        ],
    ),
    "windows-1252 in the body": (
        {T: (GOOD_TALK + "\nIt\u2019s fine.\n").encode("cp1252")},
        [
            f"{T}:14: byte 0x92 at column 3 is not UTF-8 (Latin-1 or Windows-1252?); "
            "save the file as UTF-8"
        ],
    ),
    "utf-16 with a BOM": (
        {T: GOOD_TALK.encode("utf-16")},
        [f"{T}:1: the file is UTF-16 text; save it as UTF-8"],
    ),
    "utf-16 without a BOM": (
        {T: GOOD_TALK.encode("utf-16-le")},
        [f"{T}:1: the file holds NUL bytes (UTF-16 without a BOM?); save it as UTF-8"],
    ),
    "a UTF-8 BOM is accepted": ({T: b"\xef\xbb\xbf" + GOOD_TALK.encode()}, []),
    "CRLF line endings are accepted": ({T: GOOD_TALK.replace("\n", "\r\n")}, []),
    "a form feed or U+2028 does not shift line numbers": (
        {T: talk("\nA\fform feed, a\u2028line separator.\n\n<script>x</script>\n")},
        [
            f'{T}:16: <script> is not allowed in a note; see "HTML in notes" in '
            "CONTRIBUTING.md for the elements that are"
        ],
    ),
    "a control character in the front matter": (
        {T: GOOD_TALK.replace("A Good Talk", "A Good\x07Talk")},
        [
            f"{T}:2: front matter is not valid YAML (unacceptable character #x0007: "
            "control characters are not allowed)"
        ],
    ),
    "too big": (
        {T: GOOD_TALK + "x" * 200_001},
        [
            f"{T}:1: the file is {len(GOOD_TALK) + 200_001:,} bytes; a note must be under 200,000 bytes"
        ],
    ),
    # --- YAML -------------------------------------------------------------------------
    "duplicate key": (
        {T: meta("title: Again")},
        [f"{T}:9: key 'title' is given twice (first on line 2); keep one"],
    ),
    "duplicate nested key": (
        {T: GOOD_TALK.replace("    affiliation: Test Lab\n", "    name: Bo\n")},
        [f"{T}:5: key 'name' is given twice (first on line 4); keep one"],
    ),
    "alias bomb": (
        {T: meta(BOMB)},
        [f"{T}:9: YAML anchors (&l0) are not allowed; write each value out"],
    ),
    "non-string key": (
        {T: meta("1: one")},
        [f"{T}:9: key '1' is a number, not text; write keys as words"],
    ),
    "null key": (
        {T: meta("~: nothing")},
        [f"{T}:9: key '~' is empty, not text; write keys as words"],
    ),
    "complex key": (
        {T: meta("? [a, b]\n: c")},
        [f"{T}:9: a key must be text, not a list or mapping"],
    ),
    "huge number": (
        {T: GOOD_TALK.replace("order: 1", "order: " + "9" * 400)},
        [f"{T}:8: number 99999999999999999999... is too large; use at most 15 digits"],
    ),
    "beyond Python's int string limit": (
        {T: GOOD_TALK.replace("order: 1", "order: " + "9" * 5000)},
        [f"{T}:8: number 99999999999999999999... is too large; use at most 15 digits"],
    ),
    "infinity": (
        {T: GOOD_TALK.replace("order: 1", "order: .inf")},
        [f"{T}:8: '.inf' is not a finite number; use an ordinary number"],
    ),
    "bidi override in a title": (
        {T: GOOD_TALK.replace("A Good Talk", "A Good \u202eklaT")},
        [f"{T}:2: text contains the invisible character U+202E; remove it"],
    ),
    "python tag": (
        {T: meta("track: !!python/object/apply:os.system [echo]")},
        [
            f"{T}:9: front matter is not valid YAML (could not determine a constructor for "
            "the tag 'tag:yaml.org,2002:python/object/apply:os.system')"
        ],
    ),
    "deep nesting": (
        {T: meta("track: " + "[" * 5000 + "]" * 5000)},
        [f"{T}:9: front matter is not valid YAML (exceeded maximum nesting depth)"],
    ),
    "unclosed front matter": (
        {T: GOOD_TALK.replace("---\n\nA good", "\nA good")},
        [f"{T}:1: front matter is not closed; end it with a line '---'"],
    ),
    # --- links ------------------------------------------------------------------------
    "link with a quote": (
        {T: meta('links: {slides: "https://example.org/a\\" onmouseover=\\"x"}')},
        [
            f"{T}:9: links: slides: 'https://example.org/a\" onmouseover=\"x' holds '\"', "
            "which a URL may not; use a full http:// or https:// address"
        ],
    ),
    "javascript link in front matter": (
        {T: meta("links: {slides: 'javascript:alert(1)'}")},
        [
            f"{T}:9: links: slides: 'javascript:alert(1)' uses javascript:, not http or "
            "https; use a full http:// or https:// address"
        ],
    ),
    "link with a space": (
        {T: meta("links: {slides: 'https://example.org/a b'}")},
        [
            f"{T}:9: links: slides: 'https://example.org/a b' holds ' ', which a URL may not; "
            "use a full http:// or https:// address"
        ],
    ),
    "link with a bad port": (
        {T: meta("links: {slides: 'https://example.org:99999999/'}")},
        [
            f"{T}:9: links: slides: 'https://example.org:99999999/' is not a URL; "
            "use a full http:// or https:// address"
        ],
    ),
    # --- speakers ---------------------------------------------------------------------
    "one person, two spellings": (
        {
            T: GOOD_TALK,
            "docs/testconf/other.md": GOOD_TALK.replace("order: 1", "order: 2").replace(
                "Ada Tester", "ada  TESTER."
            ),
        },
        [
            f"{T}:4: speakers: 'Ada Tester' is the same person as 'ada  TESTER.' "
            "(docs/testconf/other.md:4); spell the name the same way everywhere"
        ],
    ),
    "one speaker listed twice": (
        {T: GOOD_TALK.replace("    affiliation: Test Lab\n", "  - name: Ada Tester\n")},
        [f"{T}:5: speakers: 'Ada Tester' is listed twice (also line 4); list each speaker once"],
    ),
    "a name with no letters": (
        {T: GOOD_TALK.replace("Ada Tester", "'!!!'")},
        [f"{T}:4: speakers: name: '!!!' has no letters; write the person's name"],
    ),
    # --- files MkDocs treats its own way ----------------------------------------------
    ".markdown note": (
        {"docs/testconf/talk.markdown": GOOD_TALK},
        [
            "docs/testconf/talk.markdown:1: notes are Markdown files ending in .md; "
            "rename it to talk.md"
        ],
    ),
    "note in a hidden folder": (
        {"docs/.drafts/talk.md": GOOD_TALK},
        [
            "docs/.drafts/talk.md:1: MkDocs leaves this file out (names starting with '.' "
            "and the templates/ folder are not built); move it into an event folder"
        ],
    ),
    # --- demo blocks ------------------------------------------------------------------
    "demo block with bad YAML": (
        {T: talk("\n```demo\nname: [faulty\n```\n", DEMO_TALK)},
        [f"{T}:17: demo block: not valid YAML (did not find expected ',' or ']')"],
    ),
    "demo block with an unknown demo": (
        {T: talk("\n```demo\nname: nope\n```\n", DEMO_TALK)},
        [f"{T}:16: demo block: unknown demo 'nope'; available: faulty"],
    ),
    "demo block with a non-string key": (
        {T: talk("\n```demo\nname: faulty\n1: x\n```\n", DEMO_TALK)},
        [f"{T}:17: demo block: key '1' is a number, not text; write keys as words"],
    ),
    "demo block with a huge parameter": (
        {T: talk("\n```demo\nname: faulty\nparams: {limit: %s}\n```\n" % ("9" * 400), DEMO_TALK)},
        [f"{T}:17: demo block: number 99999999999999999999... is too large; use at most 15 digits"],
    ),
    "demo block with a duplicate key": (
        {T: talk("\n```demo\nname: faulty\nname: faulty\n```\n", DEMO_TALK)},
        [f"{T}:17: demo block: key 'name' is given twice (first on line 16); keep one"],
    ),
    "demo block with a bad parameter is reported once": (
        {T: talk("\n```demo\nname: faulty\nparams: {limit: -3}\n```\n", DEMO_TALK)},
        [f"{T}:17: demo block: limit: -3 is not an integer from 5 to 100000"],
    ),
    "demo block with an unknown key": (
        {T: talk("\n```demo\nname: faulty\nspeed: 3\n```\n", DEMO_TALK)},
        [f"{T}:17: demo block: unknown key 'speed'; allowed: name, scenario, params, seed, height"],
    ),
    "demo block without a name": (
        {T: talk("\n```demo\nscenario: steady\n```\n", DEMO_TALK)},
        [
            f"{T}:15: demo block: missing required key 'name'; The demo package to embed, "
            "e.g. `skinny`."
        ],
    ),
    "demo block with a seed out of range": (
        {T: talk("\n```demo\nname: faulty\nseed: -1\n```\n", DEMO_TALK)},
        [f"{T}:17: demo block: seed: -1 is not a whole number from 0 to 4294967295"],
    ),
    "demo block quoted in a code fence is text": (
        {T: talk("\n````markdown\n```demo\nname: nope\n```\n````\n")},
        [],
    ),
    "demo block quoted in a tilde fence is text": (
        {T: talk("\n~~~\n```demo\nname: nope\n```\n~~~\n")},
        [],
    ),
    # --- active content in the rendered HTML ------------------------------------------
    "script tag": (
        {T: talk("\n<script>alert(1)</script>\n")},
        [
            f'{T}:14: <script> is not allowed in a note; see "HTML in notes" in '
            "CONTRIBUTING.md for the elements that are"
        ],
    ),
    "event handler in raw HTML": (
        {T: talk("\nA <img src=x.png onerror=alert(1)> picture.\n")},
        [
            f"{T}:14: <img onerror=...>: event handler attributes are not allowed; a note carries no scripts"
        ],
    ),
    "javascript link in Markdown": (
        {T: talk("\nSee [this](javascript:alert(1)).\n")},
        [
            f'{T}:14: <a href="javascript:alert(1)">: javascript: links are not allowed; '
            "use http, https, mailto or a relative link"
        ],
    ),
    "entity-encoded javascript link": (
        {T: talk('\n<a href="&#106;avascript:alert(1)">x</a>\n')},
        [
            f'{T}:14: <a href="javascript:alert(1)">: javascript: links are not allowed; '
            "use http, https, mailto or a relative link"
        ],
    ),
    "javascript link split by an encoded newline": (
        {T: talk('\n<a href="java&#10;script:alert(1)">x</a>\n')},
        [
            f'{T}:14: <a href="java script:alert(1)">: javascript: links are not allowed; '
            "use http, https, mailto or a relative link"
        ],
    ),
    "data URL in a link": (
        {T: talk("\n[x](data:text/html,hi)\n")},
        [
            f'{T}:14: <a href="data:text/html,hi">: data: links are not allowed; use http, '
            "https, mailto or a relative link"
        ],
    ),
    "attr_list event handler": (
        {T: talk('\nA paragraph.\n{: onmouseover="alert(1)" }\n')},
        [
            f"{T}:15: <p onmouseover=...>: event handler attributes are not allowed; a note carries no scripts"
        ],
    ),
    "attr_list data attribute that would mount a widget": (
        {T: talk('\nA paragraph.\n{: data-demo="faulty" }\n')},
        [
            f"{T}:15: attribute 'data-demo' is not allowed on <p>; allowed: class, dir, "
            "hidden, id, lang, style, title, aria-*"
        ],
    ),
    "image from another host": (
        {T: talk("\n![chart](https://tracker.example/pixel.png)\n")},
        [
            f'{T}:14: <img src="https://tracker.example/pixel.png">: images and media must '
            "come from this site, not another host or a data: URL; use a relative path to a "
            "file under docs/"
        ],
    ),
    "protocol-relative image through a backslash": (
        {T: talk('\n<img src="/\\tracker.example/p.png" alt="">\n')},
        [
            f'{T}:14: <img src="/\\tracker.example/p.png">: images and media must come from '
            "this site, not another host or a data: URL; use a relative path to a file "
            "under docs/"
        ],
    ),
    "style that loads a URL": (
        {T: talk('\n<p style="background: url(https://tracker.example/p)">x</p>\n')},
        [
            f'{T}:14: <p style="background: url(https://tracker.example/p)">: a style may '
            "not load anything (url(), image-set(), @import, CSS escapes); use plain "
            "declarations"
        ],
    ),
    "iframe, object, embed, form, base, meta refresh": (
        {
            T: talk(
                '\n<iframe src="x.html"></iframe>\n\n<object data="x"></object>\n\n'
                '<embed src="x">\n\n<form action="x"><input></form>\n\n<base href="//evil/">\n\n'
                '<meta http-equiv="refresh" content="0;url=//evil/">\n'
            )
        },
        [
            f'{T}:14: <iframe> is not allowed in a note; see "HTML in notes" in '
            "CONTRIBUTING.md for the elements that are",
            f'{T}:16: <object> is not allowed in a note; see "HTML in notes" in '
            "CONTRIBUTING.md for the elements that are",
            f'{T}:18: <embed> is not allowed in a note; see "HTML in notes" in '
            "CONTRIBUTING.md for the elements that are",
            f'{T}:20: <form> is not allowed in a note; see "HTML in notes" in '
            "CONTRIBUTING.md for the elements that are",
            f'{T}:22: <base> is not allowed in a note; see "HTML in notes" in '
            "CONTRIBUTING.md for the elements that are",
            f'{T}:24: <meta> is not allowed in a note; see "HTML in notes" in '
            "CONTRIBUTING.md for the elements that are",
        ],
    ),
    "svg with a script": (
        {T: talk('\n<svg><a href="#"><text>x</text></a></svg>\n')},
        [
            f'{T}:14: <svg> is not allowed in a note; see "HTML in notes" in '
            "CONTRIBUTING.md for the elements that are"
        ],
    ),
    "a forged demo placeholder": (
        {T: talk('\n<div data-livenotes-embed="0"></div>\n')},
        [
            f"{T}:14: attribute 'data-livenotes-embed' is not allowed on <div>; allowed: "
            "class, data-tabs, dir, hidden, id, lang, style, title, aria-*"
        ],
    ),
    "an id the page's scripts use": (
        {T: talk('\n<div id="__search">x</div>\n\n## Heading {#ln-demo}\n')},
        [
            f'{T}:14: <div id="__search">: ids starting with "__" or "ln-" belong to the '
            "page's own scripts; choose another",
            f'{T}:16: <h2 id="ln-demo">: ids starting with "__" or "ln-" belong to the '
            "page's own scripts; choose another",
        ],
    ),
    "Markdown that Python-Markdown renders very slowly": (
        {T: talk("\n" + "[" * 150_000 + "\n")},
        [
            f"{T}:14: Markdown took over 2 s to render this note; a long run of '[', '(' or "
            "'<' on one line is the usual cause: break it up or put it in a code block"
        ],
    ),
    "the inline HTML writers rely on is allowed": (
        {
            T: talk(
                "\nPress <kbd>Ctrl</kbd>+<kbd>C</kbd>; H<sub>2</sub>O, x<sup>2</sup>,"
                ' <abbr title="Site Reliability Engineering">SRE</abbr><br>\n\n'
                "<details><summary>More</summary>Hidden text.</details>\n\n"
                "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n"
                '=== "One"\n    Tab one.\n\n'
                "A footnote.[^1]\n\n[^1]: The note.\n\n"
                '![a local chart](chart.png){ width="300" }\n\n'
                "[mail](mailto:a@example.org) and [a page](https://example.org/)\n\n"
                "```python\nprint('<script>')\n```\n"
            )
        },
        [],
    ),
}


def _project(root: Path, files: dict[str, str | bytes]) -> Path:
    (root / "mkdocs.yml").write_text(mkdocs_yml(runtime=False, extra=EXTENSIONS), encoding="utf-8")
    (root / "docs/testconf").mkdir(parents=True)
    (root / "docs/testconf/index.md").write_text(EVENT_PAGE, encoding="utf-8")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def _check(root: Path) -> tuple[int, list[str], float]:
    err = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["--root", str(root), "check"])
    lines = [line for line in err.getvalue().splitlines() if not line.endswith("problem(s) found")]
    return code, lines, time.perf_counter() - start


@pytest.mark.parametrize("case", CASES)
def test_check_names_the_line(case, tmp_path):
    files, expected = CASES[case]
    code, lines, seconds = _check(_project(tmp_path, files))
    assert lines == expected
    assert code == (1 if expected else 0)
    assert seconds < 5, f"livenotes check took {seconds:.1f} s"


BUILT = [
    "latin-1",
    "duplicate key",
    "alias bomb",
    "one person, two spellings",
    "demo block with a huge parameter",
    "demo block with a bad parameter is reported once",
    "javascript link in Markdown",
    "iframe, object, embed, form, base, meta refresh",
    "Markdown that Python-Markdown renders very slowly",
]


@pytest.mark.parametrize("case", BUILT)
def test_build_prints_the_same_lines_once(case, tmp_path):
    """The build runs the same checks: the same lines, each once, and no traceback."""
    files, expected = CASES[case]
    result = run_build(_project(tmp_path, files))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for line in expected:
        assert result.stderr.count(line) == 1, (line, result.stderr)
    reported = [line for line in result.stderr.splitlines() if line.startswith("docs/")]
    assert reported == expected


def test_a_warm_build_is_the_cold_one_and_still_checks_what_changed(tmp_path):
    """The second build takes the first's verdicts on unchanged pages (content
    .CheckedPages): its site is byte for byte the first's, and an edited note is
    checked again."""
    (tmp_path / "p").mkdir()
    note = CASES["the inline HTML writers rely on is allowed"][0][T]
    root = _project(tmp_path / "p", {T: note, "docs/testconf/chart.png": b"\x89PNG\r\n\x1a\n"})
    yml = root / "mkdocs.yml"
    yml.write_text(
        yml.read_text().replace(
            f"runtime_cache: {ROOT / '.cache'}", f"runtime_cache: {tmp_path / 'cache'}"
        )
    )
    sites = []
    for n in range(2):
        assert run_build(root, "-d", str(tmp_path / f"site{n}")).returncode == 0
        sites.append(
            {
                p.relative_to(tmp_path / f"site{n}"): p.read_bytes()
                for p in (tmp_path / f"site{n}").rglob("*")
                if p.is_file()
            }
        )
    assert sites[0] == sites[1]
    assert len(list((tmp_path / "cache/checks").glob("*.json"))) == 1
    (root / T).write_text(talk("\n<script>alert(1)</script>\n"), encoding="utf-8")
    result = run_build(root, "-d", str(tmp_path / "site2"))
    assert result.returncode == 1
    reported = [line for line in result.stderr.splitlines() if line.startswith("docs/")]
    assert reported == CASES["script tag"][1]
