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
