"""The site index: every event, talk, speaker and demo, read from front matter.

``scan`` reads ``docs/`` without building anything, so the ``check`` command and the
plugin share it. Pages such as the event listing, the speakers index and the demo
gallery are rendered from this index, never kept by hand.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from livenotes import frontmatter as fm
from livenotes.demos import DemoPackage, Embed, discover, find_embeds, resolve_embed
from livenotes.frontmatter import Problem

DEMO_PAGES = "demos"
"""The docs folder holding one page per demo; every other folder is an event."""


def anchor(name: str) -> str:
    """The id of a person's entry in the speakers index: the name with case, spacing,
    punctuation and accents' composed forms ironed out, so that two spellings of one
    person get one entry (and one id)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"[\W_]+", "-", folded).strip("-")


@dataclass
class Speaker:
    name: str
    affiliation: str | None = None

    @property
    def anchor(self) -> str:
        return anchor(self.name)


@dataclass
class Talk:
    src_uri: str  # e.g. "srecon19apac/edge-computing.md"
    slug: str
    title: str
    speakers: list[Speaker]
    event: str
    date: dt.date
    order: int
    summary: str | None = None
    track: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    demos: list[str] = field(default_factory=list)


@dataclass
class Event:
    id: str
    src_uri: str
    title: str
    date: dt.date
    location: str | None = None
    summary: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    talks: list[Talk] = field(default_factory=list)


@dataclass
class SpeakerEntry:
    """A person in the speakers index, with every talk they gave."""

    name: str
    affiliations: list[str]
    talks: list[Talk]

    @property
    def anchor(self) -> str:
        return anchor(self.name)


@dataclass
class SiteIndex:
    events: dict[str, Event] = field(default_factory=dict)
    talks: dict[str, Talk] = field(default_factory=dict)  # by src_uri
    demos: dict[str, DemoPackage] = field(default_factory=dict)
    embeds: dict[str, list[Embed]] = field(default_factory=dict)  # by src_uri
    demo_pages: dict[str, str] = field(default_factory=dict)  # demo name -> src_uri
    sources: dict[str, fm.Source] = field(default_factory=dict)  # every page read, by src_uri
    urls: dict[str, str] = field(default_factory=dict)  # src_uri -> URL, from MkDocs' files

    def event_talks(self, event: str) -> list[Talk]:
        return self.events[event].talks if event in self.events else []

    def neighbours(self, talk: Talk) -> tuple[Talk | None, Talk | None]:
        """The previous and next talk within the same event."""
        talks = self.event_talks(talk.event)
        position = talks.index(talk)
        before = talks[position - 1] if position > 0 else None
        after = talks[position + 1] if position + 1 < len(talks) else None
        return before, after

    def speakers(self) -> list[SpeakerEntry]:
        entries: dict[str, SpeakerEntry] = {}
        for event in self.events.values():
            for talk in event.talks:
                for speaker in talk.speakers:
                    entry = entries.setdefault(speaker.name, SpeakerEntry(speaker.name, [], []))
                    if speaker.affiliation and speaker.affiliation not in entry.affiliations:
                        entry.affiliations.append(speaker.affiliation)
                    entry.talks.append(talk)
        return sorted(entries.values(), key=lambda e: (e.name.split()[-1].lower(), e.name.lower()))

    def demo_talks(self, name: str) -> list[Talk]:
        return [talk for talk in self.talks.values() if name in talk.demos]


def _kind(src_uri: str) -> str:
    parts = src_uri.split("/")
    if len(parts) == 2 and parts[0] == DEMO_PAGES:
        return "demo-page"
    if len(parts) == 2 and parts[1] == "index.md":
        return "event"
    if len(parts) == 2:
        return "talk"
    return "page"


def scan(
    docs_dir: Path, demos_dir: Path, src_uris: list[str] | None = None
) -> tuple[SiteIndex, list[Problem]]:
    """Read and check every note under ``docs_dir``; return the index and all problems.

    ``src_uris`` limits the scan to those pages (the plugin passes MkDocs' own list);
    paths in problems are given as ``docs/<src_uri>`` relative to the project.
    """
    if src_uris is None:
        src_uris = sorted(p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md"))
    index = SiteIndex(demos=discover(demos_dir))
    problems: list[Problem] = []
    label = docs_dir.name
    sources: dict[str, fm.Source] = {}
    for src_uri in src_uris:
        path = f"{label}/{src_uri}"
        file = docs_dir / src_uri
        if not src_uri.endswith(".md"):
            problems.append(
                Problem(
                    path,
                    1,
                    f"notes are Markdown files ending in .md; rename it to {Path(src_uri).stem}.md",
                )
            )
            continue
        if file.is_symlink():
            problems.append(
                Problem(path, 1, "the file is a symbolic link; put the note itself here")
            )
            continue
        text, problem = fm.decode(path, file.read_bytes())
        if problem:
            problems.append(problem)
            continue
        source, found = fm.read_source(path, text)
        problems.extend(found)
        if found:
            continue
        sources[src_uri] = source
        index.sources[src_uri] = source
        kind = _kind(src_uri)
        if kind == "event":
            problems.extend(_add_event(index, src_uri, source))
        elif kind == "demo-page":
            problems.extend(fm.check_fields(source, fm.PAGE_FIELDS, "demo page"))
            index.demo_pages[Path(src_uri).stem] = src_uri
        elif kind == "page":
            problems.extend(fm.check_fields(source, fm.PAGE_FIELDS, "page"))
    for src_uri, source in sources.items():
        if _kind(src_uri) == "talk":
            problems.extend(_add_talk(index, src_uri, source))
    for event in index.events.values():
        event.talks.sort(key=lambda t: (t.order, t.slug))
    problems.extend(_check_speakers(index, sources))
    problems.extend(_check_demos(index, sources))
    return index, problems


def _add_event(index: SiteIndex, src_uri: str, source: fm.Source) -> list[Problem]:
    problems = fm.check_fields(source, fm.EVENT_FIELDS, "event page")
    folder = src_uri.split("/")[0]
    meta = source.meta
    if isinstance(meta.get("event"), str) and meta["event"] != folder:
        problems.append(
            Problem(
                source.path,
                source.line("event"),
                f"event: {meta['event']!r} must be the folder name {folder!r}",
            )
        )
    if problems:
        return problems
    index.events[folder] = Event(
        folder,
        src_uri,
        meta["title"],
        meta["date"],
        meta.get("location"),
        meta.get("summary"),
        dict(meta.get("links") or {}),
    )
    return []


def _add_talk(index: SiteIndex, src_uri: str, source: fm.Source) -> list[Problem]:
    problems = fm.check_fields(source, fm.TALK_FIELDS, "talk note")
    folder, file_name = src_uri.split("/")
    slug = file_name.removesuffix(".md")
    meta = source.meta
    if not fm.SLUG.match(slug):
        problems.append(
            Problem(
                source.path,
                1,
                f"file name {file_name!r} is not a slug; use lower-case words joined by '-'",
            )
        )
    event = meta.get("event")
    if isinstance(event, str) and event.strip():
        if event != folder:
            problems.append(
                Problem(
                    source.path,
                    source.line("event"),
                    f"event: {event!r} does not match the note's folder {folder!r}; "
                    f"move the note to docs/{event}/ or set event: {folder}",
                )
            )
        elif event not in index.events:
            problems.append(
                Problem(
                    source.path,
                    source.line("event"),
                    f"event: {event!r} has no event page; add docs/{event}/index.md",
                )
            )
    for other in index.talks.values():
        if other.slug == slug:
            problems.append(
                Problem(
                    source.path,
                    1,
                    f"duplicate slug {slug!r} (also docs/{other.src_uri}); "
                    "every talk's file name must be unique",
                )
            )
        if (
            other.event == event
            and other.order == meta.get("order")
            and isinstance(meta.get("order"), int)
        ):
            problems.append(
                Problem(
                    source.path,
                    source.line("order"),
                    f"order: {meta['order']} is taken by docs/{other.src_uri}; "
                    "each talk of an event needs its own position",
                )
            )
    if problems:
        return problems
    talk = Talk(
        src_uri=src_uri,
        slug=slug,
        title=meta["title"],
        speakers=[Speaker(s["name"], s.get("affiliation")) for s in meta["speakers"]],
        event=event,
        date=meta["date"],
        order=meta["order"],
        summary=meta.get("summary"),
        track=meta.get("track"),
        links=dict(meta.get("links") or {}),
        tags=list(meta.get("tags") or []),
        demos=list(meta.get("demos") or []),
    )
    index.talks[src_uri] = talk
    index.events[event].talks.append(talk)
    return []


def _check_speakers(index: SiteIndex, sources: dict[str, fm.Source]) -> list[Problem]:
    """One person, one spelling: names that differ only in case, spacing or punctuation
    would share an id in the speakers index."""
    problems: list[Problem] = []
    first: dict[str, tuple[str, str, int]] = {}  # anchor -> (name, path, line)
    for src_uri in sorted(index.talks):
        talk, source = index.talks[src_uri], sources[src_uri]
        for position, speaker in enumerate(talk.speakers):
            line = source.line("speakers", position, "name")
            key = speaker.anchor
            if not key:
                problems.append(
                    Problem(
                        source.path,
                        line,
                        f"speakers: name: {speaker.name!r} has no letters; write the person's name",
                    )
                )
                continue
            if key not in first:
                first[key] = (speaker.name, source.path, line)
                continue
            name, path, where = first[key]
            if (name, path) == (speaker.name, source.path):
                problems.append(
                    Problem(
                        source.path,
                        line,
                        f"speakers: {speaker.name!r} is listed twice (also line {where}); "
                        "list each speaker once",
                    )
                )
            elif name != speaker.name:
                problems.append(
                    Problem(
                        source.path,
                        line,
                        f"speakers: {speaker.name!r} is the same person as {name!r} "
                        f"({path}:{where}); spell the name the same way everywhere",
                    )
                )
    return problems


def _check_demos(index: SiteIndex, sources: dict[str, fm.Source]) -> list[Problem]:
    problems: list[Problem] = []
    available = ", ".join(sorted(index.demos)) or "none yet"
    for name, package in sorted(index.demos.items()):
        if package.error:
            problems.append(
                Problem(f"demos/{name}/__init__.py", 1, f"demo {name!r} {package.error}")
            )
    for src_uri, source in sources.items():
        listed = source.meta.get("demos") if isinstance(source.meta.get("demos"), list) else []
        for position, name in enumerate(listed):
            if isinstance(name, str) and fm.DEMO_NAME.match(name) and name not in index.demos:
                problems.append(
                    Problem(
                        source.path,
                        source.line("demos", position),
                        f"demos: unknown demo {name!r}; available: {available}",
                    )
                )
        embeds, found = find_embeds(source.path, source.body, source.body_line)
        problems.extend(found)
        for embed in embeds:
            problems.extend(resolve_embed(embed, index.demos))
            if embed.name and embed.name not in listed and embed.name in index.demos:
                problems.append(
                    Problem(
                        source.path,
                        embed.line,
                        f"demo block: {embed.name!r} is embedded but not listed; "
                        f"add it to the front matter's demos",
                    )
                )
        if embeds:
            index.embeds[src_uri] = embeds
    return problems
