"""The content check's memory (``content.CheckedPages``): a page found clean is not
parsed again, under the next build's nonce too; nothing else ever skips the check."""

from __future__ import annotations

import json

import pytest

from livenotes import content
from livenotes.content import CheckedPages

CLEAN = '<p>Read <a href="https://example.org/">this</a>.</p>\n<div data-livenotes-embed="{nonce}-14"></div>\n'
HOSTILE = '<p>Hi</p><img src="x.png" onerror="alert(1)">'
BODY = "Read [this](https://example.org/).\n\nHi <img src=x.png onerror=alert(1)>\n"


def _check(pages: CheckedPages, html: str, nonce: str) -> tuple[list, list[str]]:
    links: list[str] = []
    problems = pages.check(
        "docs/t/talk.md", html.format(nonce=nonce), BODY, 10, frozenset({f"{nonce}-14"}), links
    )
    return problems, links


@pytest.fixture
def parses(monkeypatch):
    """How many times the real check ran."""
    calls = []
    real = content.check_html

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(content, "check_html", counted)
    return calls


def test_a_clean_page_is_parsed_once_then_remembered_across_builds(tmp_path, parses):
    first = CheckedPages(tmp_path, "aaaa1111")
    assert _check(first, CLEAN, "aaaa1111") == ([], ["https://example.org/"])
    assert _check(first, CLEAN, "aaaa1111") == ([], ["https://example.org/"])  # a copy
    assert len(parses) == 1
    first.save()
    (saved,) = tmp_path.glob("*.json")
    assert len(json.loads(saved.read_text())) == 1

    # The next build draws a new nonce: the same page is the same page.
    second = CheckedPages(tmp_path, "bbbb2222")
    assert _check(second, CLEAN, "bbbb2222") == ([], ["https://example.org/"])
    assert len(parses) == 1


def test_a_page_with_a_problem_is_checked_every_time_and_never_kept(tmp_path, parses):
    for _ in range(2):
        pages = CheckedPages(tmp_path, "aaaa1111")
        problems, _links = _check(pages, HOSTILE, "aaaa1111")
        assert [p.message for p in problems] == [
            "<img onerror=...>: event handler attributes are not allowed; a note carries no scripts"
        ]
        assert problems[0].line == 12
        pages.save()
    assert len(parses) == 2
    assert list(tmp_path.glob("*.json")) == []


def test_a_placeholder_without_the_nonce_is_not_taken_for_the_real_one(tmp_path, parses):
    """The nonce is hashed as a NUL, which no note can hold: a note that writes the
    placeholder with the nonce left out is a different page, checked, and refused."""
    pages = CheckedPages(tmp_path, "aaaa1111")
    assert _check(pages, CLEAN, "aaaa1111")[0] == []
    pages.save()
    forged = CLEAN.replace("{nonce}", "")  # data-livenotes-embed="-14", as a note could write
    again = CheckedPages(tmp_path, "bbbb2222")
    problems, _links = _check(again, forged, "bbbb2222")
    assert len(parses) == 2
    assert [p.message.split(";")[0] for p in problems] == [
        "attribute 'data-livenotes-embed' is not allowed on <div>"
    ]


def test_a_damaged_or_foreign_file_means_checking_again(tmp_path, parses):
    pages = CheckedPages(tmp_path, "aaaa1111")
    pages.path.write_text('{"truncated": ["https://', encoding="utf-8")
    (tmp_path / "0123456789abcdef0123.json").write_text("{}", encoding="utf-8")  # old code's
    assert _check(CheckedPages(tmp_path, "aaaa1111"), CLEAN, "aaaa1111")[0] == []
    pages.path.write_text(json.dumps(["not", "a", "mapping"]), encoding="utf-8")
    fresh = CheckedPages(tmp_path, "aaaa1111")
    assert _check(fresh, CLEAN, "aaaa1111")[0] == []
    assert len(parses) == 2
    fresh.save()
    assert [p.name for p in tmp_path.glob("*.json")] == [fresh.path.name]
    assert len(json.loads(fresh.path.read_text())) == 1


def test_each_build_keeps_only_its_own_pages(tmp_path):
    old = CheckedPages(tmp_path, "aaaa1111")
    _check(old, CLEAN, "aaaa1111")
    _check(old, CLEAN.replace("this", "that"), "aaaa1111")
    old.save()
    new = CheckedPages(tmp_path, "bbbb2222")
    _check(new, CLEAN, "bbbb2222")
    new.save()
    assert len(json.loads(new.path.read_text())) == 1


def test_without_a_folder_nothing_is_written(tmp_path, parses):
    pages = CheckedPages(None, "aaaa1111")
    _check(pages, CLEAN, "aaaa1111")
    _check(pages, CLEAN, "aaaa1111")
    pages.save()
    assert len(parses) == 1
    assert list(tmp_path.iterdir()) == []
