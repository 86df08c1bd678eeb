"""Links from prose to a moment of a demo on the same page (``livenotes.moments``):
resolved into the widget's own link format, checked with one line per mistake by the
build and by ``livenotes check`` alike, and two embeds of one demo told apart."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from livenotes import moments
from livenotes.demos import discover, find_embeds
from tests.conftest import DEMO_TALK, EVENT_PAGE, FIXTURES, make_site, run_build

TWO_EMBEDS = (
    DEMO_TALK
    + "\n```demo\nname: faulty\n```\n\nAnd again, shorter:\n\n"
    + "```demo\nname: faulty\nscenario: short\n```\n\n"
)


def build(tmp_path, body: str):
    make_site(
        tmp_path,
        {"docs/testconf/index.md": EVENT_PAGE, "docs/testconf/talk.md": TWO_EMBEDS + body},
    )
    return run_build(tmp_path)


def check(tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "livenotes.cli", "check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_moment_link_points_at_its_embed_in_the_widgets_format(tmp_path):
    result = build(
        tmp_path,
        "See [step 7](demo:faulty?step=7), [the second at 3](demo:faulty?embed=2&step=3) "
        "and [a bigger limit](demo:faulty?scenario=long&limit=50&seed=9&step=4).\n",
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site/testconf/talk/index.html").read_text(encoding="utf-8")
    assert re.findall(r'<figure class="ln-demo" id="([^"]+)"', page) == [
        "demo-faulty",
        "demo-faulty-2",
    ]
    links = re.findall(r'<a href="(#[^"]+)" data-demo-moment="([^"]+)" title="([^"]+)"', page)
    assert [(href, anchor) for href, anchor, _ in links] == [
        ("#demo-faulty?v=1&amp;s=steady&amp;seed=1&amp;t=7", "demo-faulty"),
        ("#demo-faulty-2?v=1&amp;s=short&amp;seed=1&amp;t=3", "demo-faulty-2"),
        ("#demo-faulty?v=1&amp;s=long&amp;seed=9&amp;t=4&amp;p=limit:50", "demo-faulty"),
    ]
    assert links[0][2] == "Shows this moment in the demo on this page"
    assert "demo:faulty" not in page


def test_every_mistake_in_a_moment_link_is_one_line_from_build_and_check(tmp_path):
    body = "\n".join(
        [
            "[a](demo:nothing?step=1)",  # 26
            "[b](demo:faulty?scenario=sideways)",
            "[c](demo:faulty?limit=3)",
            "[d](demo:faulty?colour=red)",
            "[e](demo:faulty?step=-2)",  # 30
            "[f](demo:faulty?scenario=short&step=50)",
            "[g](demo:faulty?embed=3)",
            "[h](demo:faulty?step=1&step=2)",
            "[i](demo:faulty?step)",
            "[j](demo:faulty?seed=4294967296)",  # 35
            "`[k](demo:nothing)` is code, and so is this:",
            "",
            "    [l](demo:nothing)",
            "",
        ]
    )
    expected = [
        "docs/testconf/talk.md:26: demo:nothing: there is no demo 'nothing'; demos: faulty",
        "docs/testconf/talk.md:27: demo:faulty: unknown scenario 'sideways'; allowed: steady, "
        "short, long",
        "docs/testconf/talk.md:28: demo:faulty: limit: '3' is not an integer from 5 to 100000",
        "docs/testconf/talk.md:29: demo:faulty: unknown parameter 'colour'; allowed: fault, limit",
        "docs/testconf/talk.md:30: demo:faulty: step='-2' is not a whole number from 0 to 100000",
        "docs/testconf/talk.md:31: demo:faulty: step 50 is past the end of scenario short (it "
        "ends at step 5); link to a step from 0 to 5",
        "docs/testconf/talk.md:32: demo:faulty: embed='3' is not a whole number from 1 to 2",
        "docs/testconf/talk.md:33: demo:faulty: step is given twice",
        "docs/testconf/talk.md:34: demo:faulty: 'step' is not key=value; write demo:NAME?"
        "scenario=SLUG&step=N (also seed=, embed=, and the demo's parameters)",
        "docs/testconf/talk.md:35: demo:faulty: seed='4294967296' is not a whole number from 0 "
        "to 4294967295",
    ]
    result = build(tmp_path, body)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    for line in expected:
        assert result.stderr.count(line + "\n") == 1, (line, result.stderr)
    assert "nothing)`" not in result.stderr and ":38:" not in result.stderr
    checked = check(tmp_path)
    assert checked.returncode == 1
    assert checked.stderr.splitlines()[:-1] == expected


def test_a_moment_link_to_a_demo_the_page_does_not_embed_says_so(tmp_path):
    make_site(
        tmp_path,
        {
            "docs/testconf/index.md": EVENT_PAGE,
            "docs/testconf/talk.md": DEMO_TALK + "\n[x](demo:faulty?step=1)\n",
        },
    )
    result = run_build(tmp_path)
    assert (
        "docs/testconf/talk.md:15: demo:faulty: this page does not embed faulty; a moment link "
        "points at a demo embedded on the same page\n"
    ) in result.stderr


def test_how_far_a_run_reaches_is_kept_on_disk_and_learned_from_recordings(tmp_path, monkeypatch):
    """A rebuild runs no demo for links it checked before, nor for links inside a run the
    build recorded; what it is told still decides the link's fate."""
    demos = discover(FIXTURES / "demos")
    embeds, problems = find_embeds("talk.md", "```demo\nname: faulty\n```\n", 1)
    assert problems == []
    moments.Resolver(demos, tmp_path).parse("demo:faulty?step=7", embeds)
    [stored] = tmp_path.glob("faulty-*.json")
    assert json.loads(stored.read_text(encoding="utf-8")) == {"steps": 7, "done": False}

    def no_run(*args, **kwargs):
        raise AssertionError("the demo was run again")

    monkeypatch.setattr(moments, "Runner", no_run)
    again = moments.Resolver(demos, tmp_path)
    assert again.parse("demo:faulty?step=7", embeds).step == 7
    assert again.parse("demo:faulty?step=4", embeds).step == 4
    with pytest.raises(AssertionError):  # further than known: it runs
        again.parse("demo:faulty?step=8", embeds)

    told = moments.Resolver(demos)
    params = demos["faulty"].demo.resolve({})
    told.learn("faulty", "steady", params, 1, 20, False)
    assert told.parse("demo:faulty?step=20", embeds).step == 20
    told.learn("faulty", "steady", params, 1, 30, True)
    with pytest.raises(ValueError, match="past the end of scenario steady .it ends at step 30"):
        told.parse("demo:faulty?step=31", embeds)
