"""Broken notes: each yields exactly the one-line problems a contributor should see."""

from __future__ import annotations

import textwrap

import pytest

from livenotes.site import scan
from tests.conftest import DEMO_TALK, EVENT_PAGE, FIXTURES, GOOD_TALK

BAD_NOTES = {
    "unknown key": (
        GOOD_TALK.replace("order: 1\n", "order: 1\nspeaker: Ada\n"),
        [
            "docs/testconf/talk.md:9: unknown key 'speaker' in a talk note; allowed: title, speakers, "
            "event, date, order, track, summary, links, tags, demos"
        ],
    ),
    "missing title": (
        GOOD_TALK.replace("title: A Good Talk\n", ""),
        [
            "docs/testconf/talk.md:1: missing required key 'title' in a talk note; "
            "The talk's title as the program gives it."
        ],
    ),
    "title not text": (
        GOOD_TALK.replace("title: A Good Talk", "title: 42"),
        ["docs/testconf/talk.md:2: title: int 42 is not text; use a non-empty string"],
    ),
    "bad date": (
        GOOD_TALK.replace("date: 2024-05-01", "date: 2024-13-45"),
        [
            "docs/testconf/talk.md:7: date: '2024-13-45' is not a date; use YYYY-MM-DD, e.g. 2019-06-13"
        ],
    ),
    "date in words": (
        GOOD_TALK.replace("date: 2024-05-01", "date: May 1st"),
        ["docs/testconf/talk.md:7: date: 'May 1st' is not a date; use YYYY-MM-DD, e.g. 2019-06-13"],
    ),
    "speaker as string": (
        GOOD_TALK.replace("  - name: Ada Tester\n    affiliation: Test Lab\n", "  - Ada Tester\n"),
        [
            "docs/testconf/talk.md:4: speakers: 'Ada Tester' must be a mapping; use '- name: Ada Tester' "
            "with an optional 'affiliation:'"
        ],
    ),
    "speaker without name": (
        GOOD_TALK.replace("  - name: Ada Tester\n", "  - affilation: x\n"),
        [
            "docs/testconf/talk.md:4: speakers: a speaker has no name; add 'name: <full name>'",
            "docs/testconf/talk.md:4: speakers: unknown key 'affilation'; allowed: name, affiliation",
        ],
    ),
    "empty speakers": (
        GOOD_TALK.replace("  - name: Ada Tester\n    affiliation: Test Lab\n", "").replace(
            "speakers:", "speakers: []"
        ),
        [
            "docs/testconf/talk.md:3: speakers: expected a list of speakers, each with a name and an "
            "optional affiliation"
        ],
    ),
    "order zero": (
        GOOD_TALK.replace("order: 1", "order: 0"),
        ["docs/testconf/talk.md:8: order: int 0 is not a position; use a whole number from 1"],
    ),
    "unknown link kind": (
        GOOD_TALK.replace("tags:", "links:\n  website: https://example.org\ntags:"),
        [
            "docs/testconf/talk.md:10: links: unknown link kind 'website'; allowed: program, slides, "
            "video, code"
        ],
    ),
    "link not a URL": (
        GOOD_TALK.replace("tags:", "links:\n  slides: slides.pdf\ntags:"),
        [
            "docs/testconf/talk.md:10: links: slides: 'slides.pdf' is not a full URL; "
            "use a full http:// or https:// address"
        ],
    ),
    "bad tag": (
        GOOD_TALK.replace("tags: [testing]", "tags: [Testing Things]"),
        [
            "docs/testconf/talk.md:9: tags: 'Testing Things' is not a tag; use lower-case words "
            "joined by '-'"
        ],
    ),
    "unknown demo": (
        GOOD_TALK.replace("tags: [testing]", "tags: [testing]\ndemos: [nosuch]"),
        ["docs/testconf/talk.md:10: demos: unknown demo 'nosuch'; available: faulty"],
    ),
    "wrong event": (
        GOOD_TALK.replace("event: testconf", "event: otherconf"),
        [
            "docs/testconf/talk.md:6: event: 'otherconf' does not match the note's folder 'testconf'; "
            "move the note to docs/otherconf/ or set event: testconf"
        ],
    ),
    "invalid yaml": (
        GOOD_TALK.replace("order: 1", "order: [1"),
        [
            "docs/testconf/talk.md:9: front matter is not valid YAML (did not find expected ',' "
            "or ']')"
        ],
    ),
    "unclosed front matter": (
        "---\ntitle: A Good Talk\n\nNo closing line.\n",
        ["docs/testconf/talk.md:1: front matter is not closed; end it with a line '---'"],
    ),
    "no front matter": (
        "Just text.\n",
        [
            "docs/testconf/talk.md:1: missing required key 'title' in a talk note; The talk's title as "
            "the program gives it.",
            "docs/testconf/talk.md:1: missing required key 'speakers' in a talk note; Each speaker: "
            "`name` (required) and `affiliation` (optional).",
            "docs/testconf/talk.md:1: missing required key 'event' in a talk note; The event's folder "
            "name under `docs/`, e.g. `srecon19apac`.",
            "docs/testconf/talk.md:1: missing required key 'date' in a talk note; The day of the talk, "
            "`YYYY-MM-DD`.",
            "docs/testconf/talk.md:1: missing required key 'order' in a talk note; Position in the "
            "event's list of talks, from 1; unique per event.",
        ],
    ),
    "unknown demo in block": (
        GOOD_TALK + "\n```demo\nname: nosuch\n```\n",
        ["docs/testconf/talk.md:15: demo block: unknown demo 'nosuch'; available: faulty"],
    ),
    "bad scenario in block": (
        DEMO_TALK + "\n```demo\nname: faulty\nscenario: nope\n```\n",
        [
            "docs/testconf/talk.md:17: demo block: unknown scenario 'nope'; allowed: steady, short, long"
        ],
    ),
    "bad parameter in block": (
        DEMO_TALK + "\n```demo\nname: faulty\nparams: {limit: 1}\n```\n",
        ["docs/testconf/talk.md:17: demo block: limit: 1 is not an integer from 5 to 100000"],
    ),
    "unknown parameter in block": (
        DEMO_TALK + "\n```demo\nname: faulty\nparams: {speed: 3}\n```\n",
        ["docs/testconf/talk.md:17: demo block: unknown parameter 'speed'; allowed: fault, limit"],
    ),
    "block height out of range": (
        DEMO_TALK + "\n```demo\nname: faulty\nheight: 5000\n```\n",
        [
            "docs/testconf/talk.md:17: demo block: height: 5000 is not a pixel height from 240 to 1200"
        ],
    ),
    "embedded but not listed": (
        GOOD_TALK + "\n```demo\nname: faulty\n```\n",
        [
            "docs/testconf/talk.md:14: demo block: 'faulty' is embedded but not listed; add it to the "
            "front matter's demos"
        ],
    ),
}


def _scan(tmp_path, files: dict[str, str]):
    docs = tmp_path / "docs"
    for name, text in files.items():
        path = docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return scan(docs, FIXTURES / "demos")


@pytest.mark.parametrize("text, expected", BAD_NOTES.values(), ids=BAD_NOTES.keys())
def test_bad_note_gives_exact_lines(tmp_path, text, expected):
    _, problems = _scan(tmp_path, {"testconf/index.md": EVENT_PAGE, "testconf/talk.md": text})
    assert sorted(str(p) for p in problems) == sorted(expected)


def test_good_note_has_no_problems(tmp_path):
    index, problems = _scan(
        tmp_path, {"testconf/index.md": EVENT_PAGE, "testconf/talk.md": GOOD_TALK}
    )
    assert problems == []
    talk = index.talks["testconf/talk.md"]
    assert (talk.slug, talk.speakers[0].affiliation, talk.order) == ("talk", "Test Lab", 1)


def test_every_problem_in_every_file_is_listed(tmp_path):
    """Problems are not cut short at the first: two broken files, four problems."""
    _, problems = _scan(
        tmp_path,
        {
            "testconf/index.md": EVENT_PAGE,
            "testconf/a.md": GOOD_TALK.replace("order: 1", "order: x").replace(
                "tags: [testing]", "tags: x"
            ),
            "testconf/b.md": GOOD_TALK.replace("date: 2024-05-01", "date: soon").replace(
                "title: A Good Talk\n", ""
            ),
        },
    )
    assert [(p.path, p.line) for p in sorted(problems)] == [
        ("docs/testconf/a.md", 8),
        ("docs/testconf/a.md", 9),
        ("docs/testconf/b.md", 1),
        ("docs/testconf/b.md", 6),
    ]


def test_duplicate_slug_and_order(tmp_path):
    _, problems = _scan(
        tmp_path,
        {
            "testconf/index.md": EVENT_PAGE,
            "otherconf/index.md": EVENT_PAGE.replace("testconf", "otherconf"),
            "testconf/talk.md": GOOD_TALK,
            "testconf/second.md": GOOD_TALK,
            "otherconf/talk.md": GOOD_TALK.replace("event: testconf", "event: otherconf"),
        },
    )
    assert sorted(str(p) for p in problems) == sorted(
        [
            "docs/testconf/talk.md:8: order: 1 is taken by docs/testconf/second.md; "
            "each talk of an event needs its own position",
            "docs/testconf/talk.md:1: duplicate slug 'talk' (also docs/otherconf/talk.md); "
            "every talk's file name must be unique",
        ]
    )


def test_talk_without_event_page(tmp_path):
    _, problems = _scan(tmp_path, {"testconf/talk.md": GOOD_TALK})
    assert [str(p) for p in problems] == [
        "docs/testconf/talk.md:6: event: 'testconf' has no event page; add docs/testconf/index.md"
    ]


def test_event_page_checked(tmp_path):
    _, problems = _scan(
        tmp_path,
        {
            "testconf/index.md": textwrap.dedent("""\
        ---
        title: T
        event: elsewhere
        date: 2024-05-01
        venue: Somewhere
        ---
        """)
        },
    )
    assert sorted(str(p) for p in problems) == [
        "docs/testconf/index.md:3: event: 'elsewhere' must be the folder name 'testconf'",
        "docs/testconf/index.md:5: unknown key 'venue' in a event page; allowed: title, event, date, "
        "location, summary, links",
    ]
