"""Every check a note goes through, in one place, for ``mkdocs build`` and for
``livenotes check`` alike, so the two print the same lines.

Two stages: first the files themselves (encoding, front matter, demo blocks, speakers),
read without building; then, once those are sound, the HTML each page renders to. The
build runs the first stage in ``on_files`` and the second as MkDocs renders each page;
``livenotes check`` runs both with MkDocs' own file list and Markdown settings.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files

from livenotes import recordings
from livenotes.content import check_html
from livenotes.demos import Embed, EmbedMoved, kit_digest, mark_embeds, preview
from livenotes.frontmatter import NoteError, Problem, Source, split_lines
from livenotes.limits import Deadline
from livenotes.moments import Resolver
from livenotes.site import SiteIndex, scan


def scan_files(files: Files, docs_dir: Path, demos_dir: Path) -> tuple[SiteIndex, list[Problem]]:
    """Stage one over MkDocs' own list of files: the notes it builds are the notes we
    check, and a note it would silently leave out is a problem."""
    pages = sorted(f.src_uri for f in files.documentation_pages() if f.abs_src_path)
    index, problems = scan(docs_dir, demos_dir, pages)
    index.urls = {f.src_uri: f.url for f in files.documentation_pages()}
    for file in files:
        if file.is_documentation_page() and file.inclusion.is_excluded() and file.abs_src_path:
            hidden = any(part.startswith(".") for part in Path(file.src_uri).parts)
            if hidden or file.src_uri.startswith("templates/"):
                problems.append(
                    Problem(
                        f"{docs_dir.name}/{file.src_uri}",
                        1,
                        "MkDocs leaves this file out (names starting with '.' and the "
                        "templates/ folder are not built); move it into an event folder",
                    )
                )
    return index, problems


def render_previews(
    index: SiteIndex, cache: Path | None = None
) -> tuple[dict[tuple[str, int], dict | None], list[Problem]]:
    """Each embed's preview frame, run under CPython (or read from ``cache``, where an
    earlier build left it); a demo that raises or hangs is a problem of the note that
    embeds it."""
    previews: dict[tuple[str, int], dict | None] = {}
    problems = []
    kit = kit_digest()  # read once, not once per embed
    for src_uri, embeds in index.embeds.items():
        for embed in embeds:
            frame, problem = preview(index.demos[embed.name], embed, kit, cache)
            if problem:
                problems.append(problem)
            previews[(src_uri, embed.line)] = frame
    return previews, problems


RENDER_SECONDS = 2.0
"""Wall time Markdown may take to render one note. A real note (a few to a few dozen
KB) renders in well under 0.1 s; Python-Markdown's link and raw-HTML parsing slow down
without bound on some inputs (a long run of '[', '[a](' or '<a '), and a build must not
hang on one."""


class RenderTooSlow(Exception):
    pass


def too_slow(path: str, body: str, body_line: int) -> Problem:
    """The slow-render problem, placed on the note's longest line (where such runs sit)."""
    lines = split_lines(body) or [""]
    longest = max(range(len(lines)), key=lambda n: len(lines[n]))
    return Problem(
        path,
        body_line + longest,
        f"Markdown took over {RENDER_SECONDS:g} s to render this note; a long run of '[', "
        "'(' or '<' on one line is the usual cause: break it up or put it in a code block",
    )


def new_nonce() -> str:
    """A value a note cannot guess, so that only the plugin's own demo placeholders are
    taken for demo blocks."""
    return secrets.token_hex(8)


def marker_html(nonce: str, embed: Embed) -> str:
    """The placeholder of one demo block: the nonce, and the block's line as its id."""
    return f'<div data-livenotes-embed="{nonce}-{embed.line}"></div>'


def markers(nonce: str, embeds: list[Embed]) -> frozenset[str]:
    """The placeholder values a page may hold: those of its own demo blocks."""
    return frozenset(f"{nonce}-{embed.line}" for embed in embeds)


def mark_page(source: Source, markdown: str, embeds: list[Embed], nonce: str) -> str:
    """``markdown`` (the note's body as MkDocs hands it over) with its demo blocks
    replaced by placeholders; a block that is not where the scan found it is an error."""
    if not embeds:
        return markdown
    try:
        return mark_embeds(source.body, markdown, embeds, lambda e: marker_html(nonce, e))
    except EmbedMoved as error:
        raise PluginError(
            f"{error}: the demo block is not where livenotes read it; list livenotes before "
            "plugins that change a page's Markdown"
        ) from None


def report(problems: list[Problem]) -> str:
    """Every problem once, one per line, sorted by file and line."""
    unique = sorted(set(problems))
    return f"{len(unique)} problem(s) in the notes:\n{NoteError(unique)}"


def add_recordings(
    files: Files,
    config,
    index: SiteIndex,
    cache_root: Path,
    enabled: bool,
    moments: Resolver | None = None,
) -> tuple[dict[str, list[dict]], list[Problem]]:
    """Record (or take from the cache) every run the site's embeds can play without
    the Python runtime, and add the files to the site. ``moments`` learns how far each
    recorded run reaches, so a link to a moment inside one runs nothing again."""
    if not enabled or not index.embeds:
        return {}, []
    from mkdocs.structure.files import File

    entries, paths, problems, reached = recordings.for_site(index, cache_root / "recordings")
    for site_path, path in paths:
        files.append(File.generated(config, site_path, abs_src_path=str(path)))
    if moments is not None:
        for setup, steps, done in reached:
            moments.learn(setup.demo, setup.scenario, dict(setup.params), setup.seed, steps, done)
    return entries, problems


def check_project(config_file: Path) -> tuple[SiteIndex | None, list[Problem]]:
    """Both stages for the site of ``config_file``, as a build would run them."""
    import markdown
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    config = load_config(str(config_file))
    plugin = config.plugins.get("livenotes")
    root = config_file.parent
    demos_dir = root / (plugin.config.demos_dir if plugin is not None else "demos")
    index, problems = scan_files(get_files(config), Path(config.docs_dir), demos_dir)
    cache = root / (plugin.config.runtime_cache if plugin is not None else ".cache")
    if not problems and (plugin is None or plugin.config.previews):
        problems = render_previews(index, cache / "previews")[1]
    if problems:
        return index, sorted(set(problems))
    nonce = new_nonce()

    def renderer() -> markdown.Markdown:
        return markdown.Markdown(
            extensions=config.markdown_extensions, extension_configs=config.mdx_configs or {}
        )

    md = renderer()
    moments = Resolver(index.demos, cache / "moments")
    for src_uri, source in index.sources.items():
        embeds = index.embeds.get(src_uri, [])
        text = mark_page(source, source.body.lstrip("\n"), embeds, nonce)
        try:
            with Deadline(RENDER_SECONDS, RenderTooSlow):
                rendered = md.reset().convert(text)
        except RenderTooSlow:
            problems.append(too_slow(source.path, source.body, source.body_line))
            md = renderer()  # an interrupted converter may hold half a document
            continue
        links: list[str] = []
        problems += check_html(
            source.path, rendered, source.body, source.body_line, markers(nonce, embeds), links
        )
        problems += moments.check(
            source.path, rendered, source.body, source.body_line, embeds, links
        )
    return index, sorted(set(problems))
