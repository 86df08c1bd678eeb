"""Command line: ``livenotes check`` (fast, builds nothing), ``livenotes new-talk`` and
``livenotes new-demo``."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import unicodedata
from pathlib import Path

import yaml

from livenotes.site import scan


def _project(path: str | None) -> Path:
    return Path(path).resolve() if path else Path.cwd()


def check(root: Path) -> int:
    """Check every note as the build would; print one line per problem."""
    config_file = root / "mkdocs.yml"
    if not config_file.is_file():
        print(
            f"{root}: no mkdocs.yml here; run from the project root or pass --root",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.exceptions import ConfigurationError

    from livenotes.checks import check_project

    try:
        index, problems = check_project(config_file)
    except ConfigurationError as error:
        print(f"mkdocs.yml: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print(
        f"ok: {len(index.talks)} talk(s) in {len(index.events)} event(s), "
        f"{sum(1 for p in index.demos.values() if p.demo)} demo(s)"
    )
    return 0


def slugify(title: str) -> str:
    """A file name from a title: ASCII, lower case, words joined by '-'."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:60].strip("-") or "talk"


def _speaker(text: str) -> dict:
    match = re.fullmatch(r"\s*(?P<name>[^()]+?)\s*(?:\((?P<affiliation>[^()]+)\))?\s*", text)
    if not match:
        raise ValueError(f"--speaker {text!r}: use 'Name' or 'Name (Affiliation)'")
    speaker = {"name": match["name"]}
    if match["affiliation"]:
        speaker["affiliation"] = match["affiliation"].strip()
    return speaker


def new_talk(
    root: Path, event: str, title: str, speakers: list[str], date: str | None, slug: str | None
) -> int:
    """Write a valid talk note with a unique slug; never overwrite a file."""
    docs = root / "docs"
    index, problems = scan(docs, root / "demos")
    if event not in index.events:
        known = ", ".join(sorted(index.events)) or "none"
        print(
            f"new-talk: no event {event!r}; known events: {known} "
            f"(an event is a folder docs/<event>/ with an index.md)",
            file=sys.stderr,
        )
        return 2
    try:
        people = [_speaker(s) for s in speakers]
        day = dt.date.fromisoformat(date) if date else index.events[event].date
    except ValueError as error:
        print(f"new-talk: {error}", file=sys.stderr)
        return 2
    base = slug or slugify(title)
    taken = {talk.slug for talk in index.talks.values()} | {p.stem for p in docs.rglob("*.md")}
    if slug and (slug in taken or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug)):
        print(
            f"new-talk: slug {slug!r} is taken or not lower-case words joined by '-'",
            file=sys.stderr,
        )
        return 2
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    path = docs / event / f"{candidate}.md"
    if path.exists():
        print(
            f"new-talk: {path.relative_to(root)} already exists; not overwriting", file=sys.stderr
        )
        return 2
    order = max((t.order for t in index.event_talks(event)), default=0) + 1
    meta = {
        "title": title,
        "speakers": people,
        "event": event,
        "date": day,
        "order": order,
        "summary": "TODO: one or two sentences on what the talk is about.",
        "tags": [],
    }
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    body = (
        "TODO: a one-paragraph summary of the talk, in your own words.\n\n"
        "## Key ideas\n\n- TODO\n\n## Takeaways\n\n- TODO\n"
    )
    with path.open("x", encoding="utf-8") as out:
        out.write(f"---\n{front}---\n\n{body}")
    print(path.relative_to(root))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="livenotes", description=__doc__)
    parser.add_argument("--root", help="project folder (default: the current folder)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "check", help="check every note's front matter and demo blocks; builds nothing"
    )
    talk = commands.add_parser("new-talk", help="write a new talk note from a template")
    talk.add_argument("--event", required=True, help="the event's folder name, e.g. srecon19apac")
    talk.add_argument("--title", required=True)
    talk.add_argument(
        "--speaker",
        action="append",
        required=True,
        help="'Name (Affiliation)'; repeat for several speakers",
    )
    talk.add_argument("--date", help="YYYY-MM-DD (default: the event's date)")
    talk.add_argument("--slug", help="file name without .md (default: from the title)")
    demo = commands.add_parser(
        "new-demo", help="write a small working demo (core, view, test, page) to start from"
    )
    demo.add_argument("name", help="the package name under demos/, e.g. retry_storm")
    demo.add_argument("--title", help="the demo's title (default: from the name)")
    demo.add_argument(
        "--talk", help="the note it belongs to, e.g. srecon19apac/my-talk (default: its page)"
    )
    args = parser.parse_args(argv)
    root = _project(args.root)
    if args.command == "check":
        return check(root)
    if args.command == "new-demo":
        from livenotes.newdemo import new_demo

        return new_demo(root, args.name, args.title, args.talk)
    return new_talk(root, args.event, args.title, args.speaker, args.date, args.slug)


if __name__ == "__main__":
    sys.exit(main())
