"""CONTRIBUTING.md's front matter reference says exactly what the schema checks."""

from __future__ import annotations

import re

import pytest

from livenotes.frontmatter import EVENT_FIELDS, TALK_FIELDS
from tests.conftest import ROOT


def _table(text: str, heading: str) -> list[str]:
    section = text.split(heading, 1)[1]
    rows = re.findall(r"^\| `.*$", section, re.M)
    keys_seen, table = set(), []
    for row in rows:  # the first table after the heading
        key = row.split("|")[1].strip()
        if key in keys_seen:
            break
        keys_seen.add(key)
        table.append(row)
        if not section.split(row, 1)[1].startswith("\n| `"):
            break
    return table


@pytest.mark.parametrize(
    "heading, fields",
    [
        ("### Talk notes", TALK_FIELDS),
        ("### Event pages", EVENT_FIELDS),
    ],
)
def test_reference_matches_schema(heading, fields):
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    expected = [
        f"| `{name}` | {'yes' if field.required else 'no'} | {field.kind} | {field.doc} |"
        for name, field in fields.items()
    ]
    assert _table(text, heading) == expected


def test_html_allowlist_matches_the_checker():
    """CONTRIBUTING's "HTML in notes" lists exactly the elements the checker allows."""
    from livenotes.content import ALLOWED_ELEMENTS, GLOBAL_ATTRIBUTES, LINK_SCHEMES

    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    part = text[text.index("## HTML in notes") :]
    part = part[: part.index("\n## ", 1)]
    elements = part[part.index("- Elements:") : part.index("- Attributes:")]
    assert set(re.findall(r"`([a-z0-9]+)`", elements)) == ALLOWED_ELEMENTS
    attributes = part[part.index("- Attributes:") : part.index("on\n  any of them")]
    assert set(re.findall(r"`([a-z]+)`", attributes)) == GLOBAL_ATTRIBUTES
    links = part[part.index("- Links") : part.index("Images and media")]
    assert set(re.findall(r"`([a-z]+)`", links)) - {"href", "cite"} == LINK_SCHEMES
