"""Every example in README.md and CONTRIBUTING.md is run or checked here, so none drifts.

Examples are found by the heading they sit under and the kind of block they are, never
by their position, so sections can be added to either file without touching this test.
"""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from livenotes import demos as live_demos
from livenotes.cli import main, slugify
from livenotes.plugin import GENERATED, TALKS_MARKER
from livenotes.site import scan
from tests.conftest import ROOT, mkdocs_yml, run_build

README = (ROOT / "README.md").read_text(encoding="utf-8")
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
EVENT_PAGE = (ROOT / "docs/srecon19apac/index.md").read_text(encoding="utf-8")

_HEADING = re.compile(r"^(#{1,6}) ")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


def section(text: str, heading: str) -> str:
    """The lines under ``heading`` (a whole heading line), up to the next heading of the
    same or a higher level; fenced blocks may hold '#' lines and do not end it."""
    lines = text.splitlines()
    start = lines.index(heading) + 1
    level = len(_HEADING.match(heading).group(1))
    fence = None
    for end in range(start, len(lines)):
        line = lines[end]
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match["fence"]
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None and (found := _HEADING.match(line)) and len(found.group(1)) <= level:
            return "\n".join(lines[start:end])
    return "\n".join(lines[start:])


def fences(text: str) -> list[tuple[str, str]]:
    """The outermost fenced blocks of ``text`` as ``(info, body)``, bodies dedented."""
    blocks = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        close = next(j for j in range(index + 1, len(lines)) if lines[j].strip() == fence)
        body = "\n".join(line[indent:] for line in lines[index + 1 : close])
        blocks.append((match["info"].strip(), body + "\n"))
        index = close + 1
    return blocks


def only(blocks: list[tuple[str, str]], info: str) -> str:
    """The one block whose info string is ``info``."""
    bodies = [body for kind, body in blocks if kind == info]
    assert len(bodies) == 1, f"expected one {info!r} block, found {len(bodies)}"
    return bodies[0]


# --- CONTRIBUTING: the front matter sample and the demo block ----------------------


def front_matter_sample() -> str:
    return only(fences(section(CONTRIBUTING, "### Talk notes (`docs/<event>/<slug>.md`)")), "yaml")


def demo_block_example() -> str:
    """The ```demo block inside CONTRIBUTING's ````markdown example, fences included."""
    return only(fences(section(CONTRIBUTING, "## Embed a demo")), "markdown")


def _embed_settings(block: str) -> dict:
    """The keys a demo block example sets, as the checker reads them."""
    return yaml.safe_load(only(fences(block), "demo"))


def _sample_meta() -> dict:
    """The front matter sample's keys (the sample is a whole ``---`` block)."""
    sample = front_matter_sample()
    assert sample.startswith("---\n") and sample.endswith("---\n")
    return yaml.safe_load(sample.removeprefix("---\n").removesuffix("---\n"))


def moment_link_example() -> str:
    return only(fences(section(CONTRIBUTING, "### Link to a moment")), "md")


def _sample_note() -> tuple[str, str]:
    """The sample's path and a note made of the sample, the demo block example and the
    moment link example."""
    meta = _sample_meta()
    path = f"docs/{meta['event']}/{slugify(meta['title'])}.md"
    note = (
        f"{front_matter_sample()}\nThe talk in one paragraph.\n\n{demo_block_example()}\n"
        f"{moment_link_example()}"
    )
    return path, note


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory) -> Path:
    """A tiny site holding the real event page and a note built from CONTRIBUTING's
    front matter sample with its demo block, using the project's own demos."""
    root = tmp_path_factory.mktemp("contributing-sample")
    path, note = _sample_note()
    event = _sample_meta()["event"]
    (root / "docs" / event).mkdir(parents=True)
    (root / f"docs/{event}/index.md").write_text(EVENT_PAGE, encoding="utf-8")
    (root / path).write_text(note, encoding="utf-8")
    (root / "demos").symlink_to(ROOT / "demos")
    (root / "mkdocs.yml").write_text(mkdocs_yml(demos=ROOT / "demos"), encoding="utf-8")
    return root


def test_front_matter_sample_and_demo_block_pass_the_checker(sample_site, capsys):
    assert main(["--root", str(sample_site), "check"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("ok: 1 talk(s) in 1 event(s)")
    index, problems = scan(sample_site / "docs", sample_site / "demos")
    assert problems == []
    (talk,) = index.talks.values()
    meta = _sample_meta()
    assert talk.title == meta["title"] and talk.demos == meta["demos"]
    assert [embed.name for embed in index.embeds[talk.src_uri]] == meta["demos"]


def test_demo_block_example_builds_with_what_it_asks_for(sample_site):
    result = run_build(sample_site)
    assert result.returncode == 0, result.stderr
    path, _ = _sample_note()
    page = sample_site / "site" / path.removeprefix("docs/").removesuffix(".md") / "index.html"
    text = page.read_text(encoding="utf-8")
    settings = _embed_settings(demo_block_example())
    figure = re.search(r'<figure class="ln-demo"[^>]*>', text).group(0)
    assert f'data-demo="{settings["name"]}"' in figure
    assert f'data-demo-height="{settings["height"]}"' in figure
    spec = json.loads(html.unescape(re.search(r"data-demo-spec='([^']*)'", figure).group(1)))
    assert spec["scenario"] == settings["scenario"]
    assert spec["seed"] == settings["seed"]
    for key, value in settings["params"].items():
        assert spec["params"][key] == value
    # The page shows a real frame computed at build time, before anyone presses Run.
    frame = text[text.index("data-demo-frame") :]
    assert frame.split(">", 1)[1].lstrip().startswith("<svg")
    # The moment link example points at that embed, at that step, with its parameters.
    link = re.search(r'<a href="([^"]+)" data-demo-moment="([^"]+)"', text)
    assert link.group(2) == f"demo-{settings['name']}"
    assert html.unescape(link.group(1)) == (
        f"#demo-{settings['name']}?v=1&s=rating-outage&seed={settings['seed']}&t=160"
        "&p=breakers:true"
    )


def test_demo_block_comments_match_the_checker():
    """The optional keys and the height range the example's comments state."""
    block = only(fences(demo_block_example()), "demo")
    comments = dict(
        (line.split(":", 1)[0], line.split("#", 1)[1].strip())
        for line in block.splitlines()
        if "#" in line
    )
    assert set(comments) == set(live_demos.EMBED_KEYS)
    low, high = live_demos.HEIGHT_RANGE
    assert f"({low} to {high})" in comments["height"]
    settings = _embed_settings(demo_block_example())
    demo = scan(ROOT / "docs", ROOT / "demos")[0].demos[settings["name"]].demo
    assert "default: the demo's first scenario" in comments["scenario"]
    assert demo.scenario(None) is demo.scenarios[0]


def test_new_talk_example_prints_the_path_it_promises(tmp_path, capsys):
    block = only(fences(section(CONTRIBUTING, "## Add a talk")), "sh")
    words = shlex.split(block.replace("\\\n", " "))
    program, args = Path(words[0]), words[1:]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert program.parent == Path(".venv/bin") and program.name in scripts
    (tmp_path / "docs/srecon19apac").mkdir(parents=True)
    (tmp_path / "docs/srecon19apac/index.md").write_text(EVENT_PAGE, encoding="utf-8")
    (tmp_path / "demos").symlink_to(ROOT / "demos")
    (tmp_path / "mkdocs.yml").write_text(mkdocs_yml(demos=ROOT / "demos"), encoding="utf-8")
    assert main(["--root", str(tmp_path), *args]) == 0
    event, title = args[args.index("--event") + 1], args[args.index("--title") + 1]
    printed = capsys.readouterr().out.strip()
    assert printed == f"docs/{event}/{slugify(title)}.md"
    assert re.fullmatch(r"docs/[a-z0-9-]+/[a-z0-9-]+\.md", printed)  # CONTRIBUTING's shape
    assert main(["--root", str(tmp_path), "check"]) == 0


def _prose(text: str) -> str:
    return " ".join(text.split())


def test_event_marker_is_the_one_the_plugin_looks_for():
    assert f"put `{TALKS_MARKER}` where its list of talks should appear" in _prose(CONTRIBUTING)
    assert f"where its page says `{TALKS_MARKER}`" in _prose(README)


# --- README: the error lines, the generated pages, the layout and the commands ------


def _broken_note(text: str) -> str:
    """What README's example describes: the date as 'June 13' and a demo listed that
    does not exist."""
    broken, dated = re.subn(r"(?m)^date: .*$", "date: June 13", text, count=1)
    broken, listed = re.subn(r"(?m)^(tags: .*)$", r"\1\ndemos: [mindfulness]", broken, count=1)
    assert dated == listed == 1
    return broken


@pytest.fixture
def broken_copy(tmp_path) -> Path:
    """The project's docs in a temp folder, with README's example mistakes made."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    note = tmp_path / "docs/srecon19apac/collective-mindfulness.md"
    note.write_text(_broken_note(note.read_text(encoding="utf-8")), encoding="utf-8")
    (tmp_path / "demos").symlink_to(ROOT / "demos")
    (tmp_path / "mkdocs.yml").write_text(mkdocs_yml(demos=ROOT / "demos"), encoding="utf-8")
    return tmp_path


def readme_error_lines() -> list[str]:
    (block,) = [body for _, body in fences(section(README, "## Checks a contributor sees"))]
    return block.splitlines()


def test_readme_error_lines_are_what_check_prints(broken_copy, capsys):
    assert main(["--root", str(broken_copy), "check"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == readme_error_lines()


def test_readme_error_lines_follow_contributings_format():
    """CONTRIBUTING: one line per problem, `docs/<file>.md:<line>: <what is wrong; what
    is allowed>`; the last line counts them."""
    assert "`docs/<file>.md:<line>: <what is wrong; what is allowed>`" in _prose(CONTRIBUTING)
    *problems, total = readme_error_lines()
    assert problems
    for line in problems:
        assert re.fullmatch(r"docs/[\w/-]+\.md:\d+: [^;]+; .+", line), line
    assert total == f"{len(problems)} problem(s) found"


def test_mkdocs_build_fails_with_the_same_lines(broken_copy):
    result = run_build(broken_copy)
    assert result.returncode != 0
    *problems, _ = readme_error_lines()
    shown = [line for line in result.stderr.splitlines() if line.startswith("docs/")]
    assert shown == problems, result.stderr


def test_readme_names_exactly_the_generated_pages():
    intro = README.split("\n## ", 1)[0]
    (bullet,) = [item for item in intro.split("\n- ") if item.startswith("generate ")]
    assert sorted(re.findall(r"`([\w/]+\.md)`", bullet)) == sorted(GENERATED)
    for name in GENERATED:
        assert not (ROOT / "docs" / name).exists(), f"docs/{name} would hide the generated page"


def test_readme_layout_paths_exist():
    rows = re.findall(r"^\| `([^`]+)` \|", section(README, "## Layout"), re.M)
    assert rows
    for row in rows:
        pattern = re.sub(r"<[^>]+>", "*", row.rstrip("/"))
        assert list(ROOT.glob(pattern)), f"README's layout names {row}, which does not exist"


@pytest.mark.parametrize(
    "text, heading", [(README, "## Two commands"), (CONTRIBUTING, "## Set up and preview")]
)
def test_setup_commands_exist(text, heading):
    block = only(fences(section(text, heading)), "sh")
    commands = [line.split()[0] for line in block.splitlines() if line.strip()]
    assert commands
    for command in commands:
        path = ROOT / command
        assert path.is_file() and path.stat().st_mode & 0o111, f"{command} is not executable"
