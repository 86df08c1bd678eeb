"""The livenotes MkDocs plugin: checked front matter, generated pages, live demos."""

from __future__ import annotations

import html
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache
from markupsafe import Markup, escape
from mkdocs.config.config_options import ExtraScriptValue
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

import demokit
from livenotes import checks
from livenotes.config import LiveNotesConfig
from livenotes.content import CheckedPages
from livenotes.csp import SitePolicy
from livenotes.demos import Embed, demo_wheel, kit_wheel
from livenotes.frontmatter import Problem
from livenotes.limits import Deadline
from livenotes.moments import Resolver
from livenotes.offline import Offline
from livenotes.site import SiteIndex

TALKS_MARKER = "<!-- talks -->"
_TALKS_RE = re.compile(r"<p>\s*<!-- talks -->\s*</p>|<!-- talks -->")
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")

OWN_TEMPLATES = frozenset(
    {
        "gallery.html",
        "speakers.html",
        "partials/demo.html",
        "partials/event-talks.html",
        "partials/share-meta.html",
        "partials/talk-header.html",
        "partials/talk-pager.html",
    }
)
"""Templates of ours, rendered with Jinja's autoescaping: front matter is text."""

GENERATED = {
    "speakers.md": "---\ntitle: Speakers\ntemplate: speakers.html\nsummary: Everyone who spoke, "
    "with their affiliation and their talks.\n---\n",
    "demos/index.md": "---\ntitle: Demo gallery\ntemplate: gallery.html\nsummary: Live Python "
    "simulations of the talks' ideas that run in your browser.\n---\n",
    "tags.md": "---\ntitle: Tags\nsummary: Every talk grouped by its topics, from consensus to Linux memory.\n---\n\n<!-- material/tags -->\n",
}


class TemplateCache(FileSystemBytecodeCache):
    """Jinja's compiled templates (the theme's and ours), kept between builds in
    ``<runtime_cache>/templates``: a build otherwise spends about 0.3 s compiling the
    same 53 templates again.

    Jinja names a template's file by its name and path and checks its source; the
    code it compiles also depends on the environment (whether the template
    autoescapes, its extensions and syntax), which is added to the name, so a change
    of setting never runs code compiled under another."""

    def get_bucket(self, environment: Environment, name: str, filename, source: str):
        escape_ = environment.autoescape
        settings = (
            bool(escape_(name) if callable(escape_) else escape_),
            sorted(environment.extensions),
            environment.block_start_string,
            environment.variable_start_string,
            environment.comment_start_string,
            environment.line_statement_prefix,
            environment.line_comment_prefix,
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.newline_sequence,
            environment.keep_trailing_newline,
            environment.optimized,
            environment.finalize is not None,
        )
        return super().get_bucket(environment, f"{name}\0{settings!r}", filename, source)


class LiveNotesPlugin(BasePlugin[LiveNotesConfig]):
    """Checks notes, generates index pages, embeds demo previews and ships the runtime."""

    def __init__(self) -> None:
        self.index = SiteIndex()
        self.env: Environment | None = None
        self.root = Path.cwd()
        self.runtime: dict[str, Any] = {}
        self.recordings: dict[str, list[dict]] = {}
        self.wheels: dict[str, str] = {}  # demo name (or "demokit") -> site path
        self.previews: dict[tuple[str, int], dict | None] = {}
        self.rendered: dict[tuple, str] = {}  # widget HTML by what it depends on
        self.nonce = ""  # marks the demo blocks the plugin itself put into a page
        self.content_problems: list[Problem] = []
        self.checked = CheckedPages(None, "")
        self.render_deadline: Deadline | None = None
        self.csp = SitePolicy()
        self.offline = Offline()

    # --- hooks, in build order -------------------------------------------------------

    def on_startup(self, *, command, dirty) -> None:
        # Under `mkdocs serve` the page policy allows MkDocs' live-reload script.
        self.csp.serving = command == "serve"

    def on_config(self, config):
        # Options such as demos_dir are relative to mkdocs.yml, not to the shell's folder.
        self.root = Path(config.config_file_path).parent
        if self.config.enabled:
            _add_theme(config)
            # No service worker under `mkdocs serve`: its pages change as you write.
            self.offline.configure(config, self.config.offline and not self.csp.serving)
            self.csp.fonts = config.theme.get("font") is not False
        if _SLOW_RENDER not in _BUILD_LOG.filters:
            _BUILD_LOG.addFilter(_SLOW_RENDER)
        return config

    def on_files(self, files: Files, *, config) -> Files:
        if not self.config.enabled:
            return files
        self.offline.files(files, config)
        self.index, problems = checks.scan_files(
            files, Path(config.docs_dir), self.root / self.config.demos_dir
        )
        self.nonce = checks.new_nonce()
        self.csp.reset()
        self.content_problems = []
        self.moments = Resolver(self.index.demos, self.root / self.config.runtime_cache / "moments")
        self.checked = CheckedPages(self.root / self.config.runtime_cache / "checks", self.nonce)
        self.previews = {}
        self.rendered: dict[tuple, str] = {}
        if self.config.previews and not problems:
            # Only sound embeds are previewed: a mistake is reported once, not again as
            # the preview it breaks.
            self.previews, problems = checks.render_previews(
                self.index, self.root / self.config.runtime_cache / "previews"
            )
        if problems:
            raise PluginError(checks.report(problems))
        for src_uri, content in GENERATED.items():
            if files.get_file_from_path(src_uri) is None:
                files.append(File.generated(config, src_uri, content=content))
            self.index.urls[src_uri] = files.get_file_from_path(src_uri).url
        self._add_wheels(files, config)
        recorded, problems = checks.add_recordings(
            files,
            config,
            self.index,
            self.root / self.config.runtime_cache,
            self.config.recordings,
            self.moments,
        )
        if problems:
            raise PluginError(checks.report(problems))
        self.recordings = recorded
        if self.config.runtime:
            self._add_runtime(files, config)
        return files

    def on_nav(self, nav: Navigation, *, config, files) -> Navigation:
        if not self.config.enabled:
            return nav
        for item in nav.items:
            if isinstance(item, Section):
                self._order_section(item)
        return nav

    def on_page_markdown(self, markdown: str, *, page: Page, config, files) -> str:
        if not self.config.enabled:
            return markdown
        self._describe(page)
        title = page.meta.get("title")
        if isinstance(title, str) and not isinstance(title, Markup):
            # Material prints page titles raw in places (navigation, header, <title>):
            # as Markup of the escaped text they read right everywhere, and ``| e``
            # leaves them alone.
            page.meta["title"] = escape(title)
        source = self.index.sources.get(page.file.src_uri)
        if source is None:
            return markdown
        embeds = self.index.embeds.get(page.file.src_uri, [])
        markdown = checks.mark_page(source, markdown, embeds, self.nonce)
        self._limit_render(source)
        return markdown

    def on_page_content(self, content: str, *, page: Page, config, files) -> str:
        if not self.config.enabled:
            return content
        if self.render_deadline is not None:
            self.render_deadline.stop()
        if "description" not in page.meta:
            match = _FIRST_PARAGRAPH.search(content)
            if match:
                text = html.unescape(_TAG.sub("", match.group(1)))
                page.meta["description"] = _attribute(text)
        source = self.index.sources.get(page.file.src_uri)
        if source is not None:
            embeds = self.index.embeds.get(page.file.src_uri, [])
            links: list[str] = []  # every <a href>, read by the one parse of the page
            self.content_problems += self.checked.check(
                source.path,
                content,
                source.body,
                source.body_line,
                checks.markers(self.nonce, embeds),
                links,
            )
            self.content_problems += self.moments.check(
                source.path, content, source.body, source.body_line, embeds, links
            )
            runtime_bytes = self.runtime["bytes"] if self.runtime else None
            content = self.moments.resolve(content, embeds, runtime_bytes)
        return content

    def on_build_error(self, *, error: Exception) -> None:
        if self.render_deadline is not None:
            self.render_deadline.stop()

    def on_env(self, env: Environment, *, config, files) -> Environment:
        if not self.config.enabled:
            return env
        if self.content_problems:
            raise PluginError(checks.report(self.content_problems))
        previous = env.autoescape
        env.autoescape = lambda name: (
            name in OWN_TEMPLATES or (previous(name) if callable(previous) else bool(previous))
        )
        # Jinja's striptags unescapes what it keeps (``&lt;`` becomes ``<``), and
        # Material prints its result raw; ours keeps the text escaped.
        env.filters["striptags"] = lambda value: escape(Markup(str(value)).striptags())
        folder = self.root / self.config.runtime_cache / "templates"
        folder.mkdir(parents=True, exist_ok=True)
        env.bytecode_cache = TemplateCache(str(folder))
        self.env = env
        return env

    def on_page_context(self, context: dict, *, page: Page, config, nav) -> dict:
        if not self.config.enabled:
            return context
        src_uri = page.file.src_uri
        context["livenotes"] = self.index
        talk = self.index.talks.get(src_uri)
        if talk is not None:
            context["talk"] = talk
            context["talk_neighbours"] = self.index.neighbours(talk)
        event_id = src_uri.split("/")[0]
        if src_uri.endswith("/index.md") and event_id in self.index.events:
            context["event"] = self.index.events[event_id]
        return context

    def on_post_page(self, output: str, *, page: Page, config) -> str:
        if not self.config.enabled or self.env is None:
            return output
        src_uri = page.file.src_uri
        embeds = self.index.embeds.get(src_uri)
        if embeds:
            for embed in embeds:
                # Each placeholder stands where its block stood and names it by line.
                # str.replace, not a regex over the whole page: pages carry the whole
                # navigation, and this runs for every page with a demo.
                output = output.replace(
                    checks.marker_html(self.nonce, embed),
                    self._render_embed(embed, page, config),
                    1,
                )
        event_id = src_uri.split("/")[0]
        if (
            src_uri.endswith("/index.md")
            and event_id in self.index.events
            and TALKS_MARKER in output
        ):
            listing = self.env.get_template("partials/event-talks.html").render(
                event=self.index.events[event_id],
                livenotes=self.index,
                **_url_context(page, config),
            )
            output = _TALKS_RE.sub(lambda _: listing, output, count=1)
        return self.csp.page(output, Path(page.file.abs_dest_path))

    def on_post_template(self, output: str, *, template_name: str, config) -> str:
        if not self.config.enabled or not template_name.endswith(".html"):
            return output
        return self.csp.page(output, Path(config.site_dir) / template_name)

    def on_template_context(self, context: dict, *, template_name: str, config) -> dict:
        if not self.config.enabled:
            return context
        return self.offline.context(context, template_name, config)

    @event_priority(-100)  # after other plugins' files (the search index): sw.js hashes them
    def on_post_build(self, *, config) -> None:
        if self.config.enabled:
            written = self.csp.finish(Path(config.site_dir))
            self.offline.finish(Path(config.site_dir), written)
            self.checked.save()

    # --- helpers -----------------------------------------------------------------------

    def _limit_render(self, source) -> None:
        """Arm the render deadline for the page MkDocs is about to render."""

        def error() -> PluginError:
            _SLOW_RENDER.problem = checks.too_slow(source.path, source.body, source.body_line)
            return PluginError(checks.report([_SLOW_RENDER.problem]))

        _SLOW_RENDER.problem = None
        self.render_deadline = Deadline(checks.RENDER_SECONDS, error)
        self.render_deadline.start()

    def _describe(self, page: Page) -> None:
        """Summary from front matter becomes the page's meta description."""
        summary = page.meta.get("summary")
        if isinstance(summary, str) and "description" not in page.meta:
            page.meta["description"] = _attribute(summary)

    def _order_section(self, section: Section) -> None:
        """Talks in an event section follow their ``order``; the event page leads."""

        def key(item: Any) -> tuple:
            file = getattr(item, "file", None)
            if file is None:
                return (2, 0, str(getattr(item, "title", "")))
            if file.src_uri.endswith("index.md"):
                return (0, 0, "")
            talk = self.index.talks.get(file.src_uri)
            return (1, talk.order if talk else 10**6, file.src_uri)

        section.children.sort(key=key)
        index = next(
            (
                c
                for c in section.children
                if getattr(c, "file", None) and c.file.src_uri.endswith("/index.md")
            ),
            None,
        )
        event = self.index.events.get(index.file.src_uri.split("/")[0]) if index else None
        if event is not None:
            section.title = escape(event.title)
        for child in section.children:
            if isinstance(child, Section):
                self._order_section(child)

    def _add_wheels(self, files: Files, config) -> None:
        out = self.root / self.config.runtime_cache / "wheels"
        used = {embed.name for embeds in self.index.embeds.values() for embed in embeds}
        self.wheels = {}
        if not used:
            return
        built = {"demokit": kit_wheel(out)}
        for name in sorted(used):
            built[name] = demo_wheel(self.index.demos[name], out)
        for name, path in built.items():
            src_uri = f"assets/livenotes/wheels/{path.name}"
            files.append(File.generated(config, src_uri, abs_src_path=str(path)))
            self.wheels[name] = src_uri

    def _add_runtime(self, files: Files, config) -> None:
        if not self.index.embeds:
            return
        from livenotes.runtime import PYODIDE_VERSION, RuntimeFetchError, core_files, fetch_pyodide

        source = self.config.runtime_source or os.environ.get("LIVENOTES_PYODIDE_SOURCE")
        try:
            folder = fetch_pyodide(self.root / self.config.runtime_cache, source)
        except RuntimeFetchError as error:
            raise PluginError(str(error)) from None
        base = f"assets/pyodide/{PYODIDE_VERSION}"
        listed = core_files(folder)
        size = 0
        for name, bytes_ in listed:
            if name == "pyodide-lock.json":
                # Demos use only the standard library, so the 119 KB package list is
                # replaced by its header: same format, nothing for the browser to parse.
                lock = json.loads((folder / name).read_text(encoding="utf-8"))
                content = json.dumps({"info": lock["info"], "packages": {}})
                files.append(File.generated(config, f"{base}/{name}", content=content))
                size += len(content)
            else:
                files.append(
                    File.generated(config, f"{base}/{name}", abs_src_path=str(folder / name))
                )
                size += bytes_
        self.runtime = {"version": PYODIDE_VERSION, "base": base, "bytes": size}

    def _render_embed(self, embed: Embed, page: Page, config) -> str:
        """The widget for ``embed`` on ``page``. What it holds depends on the embed's
        settings and line, and on the page only through relative URLs (its folder
        depth) and whether it is the demo's own page, so equal embeds at equal depths
        (copies of a note, or one demo embedded on many pages) are rendered once."""
        page_url = self.index.demo_pages.get(embed.name)
        key = (
            embed.name,
            embed.scenario,
            json.dumps(embed.params, sort_keys=True, default=str),
            embed.seed,
            embed.height,
            embed.line,
            embed.anchor,
            page.url.count("/"),
            page_url == page.file.src_uri,
            self.previews.get((page.file.src_uri, embed.line)) is not None,
        )
        if key not in self.rendered:
            self.rendered[key] = self._render_widget(embed, page, config, page_url)
        return self.rendered[key]

    def _render_widget(self, embed: Embed, page: Page, config, page_url: str | None) -> str:
        package = self.index.demos[embed.name]
        demo = package.demo
        assert demo is not None and self.env is not None
        frame = self.previews.get((page.file.src_uri, embed.line))
        scenario = demo.scenario(embed.scenario)

        def url(site_path: str) -> str:
            return get_relative_url(site_path, page.url)

        spec = {
            "demo": demo.describe(),
            "scenario": scenario.name,
            "params": demo.resolve({**scenario.params, **embed.params}),
            "seed": demo.seed if embed.seed is None else embed.seed,
            "seeds": [demokit.SEED_MIN, demokit.SEED_MAX],
            "wheels": [url(self.wheels["demokit"]), url(self.wheels[embed.name])],
            "recordings": [
                {**entry, "url": url(entry["url"])} for entry in self.recordings.get(embed.name, [])
            ],
            "worker": url("assets/livenotes/worker.js"),
            "timeouts": {
                "boot": self.config.runtime_timeout * 1000,
                "step": self.config.step_deadline,
            },
            "runtime": (
                {
                    "url": url(self.runtime["base"]) + "/",
                    "version": self.runtime["version"],
                    "bytes": self.runtime["bytes"],
                }
                if self.runtime
                else None
            ),
        }
        return self.env.get_template("partials/demo.html").render(
            **_url_context(page, config),
            demo=demo,
            scenario=scenario,
            embed=embed,
            frame=frame,
            spec_runtime=spec["runtime"],
            seeds=spec["seeds"],
            spec=_single_quoted(json.dumps(spec, separators=(",", ":"))),
            demo_page=(
                url(self.index.urls[page_url])
                if page_url and page_url != page.file.src_uri
                else None
            ),
        )


THEME_DIR = Path(__file__).parent / "theme"
"""The plugin's own templates (talk header, pager, event listing, speakers page, gallery,
the demo widget) and the widget's assets (``assets/livenotes/``)."""
ASSETS = ("assets/livenotes/livenotes.css", "assets/livenotes/demos.js")


def _add_theme(config) -> None:
    """Put the plugin's templates and assets between the site's ``custom_dir`` and the
    theme, as a theme's own files are: the site can override any of them, and MkDocs
    copies the assets into the site with the theme's. Add the widget's stylesheet and
    module script to the page unless the site lists them already."""
    dirs = config.theme.dirs
    if str(THEME_DIR) not in dirs:
        dirs.insert(1 if config.theme.custom_dir else 0, str(THEME_DIR))
    css, script = ASSETS
    if css not in [str(path) for path in config.extra_css]:
        config.extra_css.append(css)
    if script not in [str(path) for path in config.extra_javascript]:
        value = ExtraScriptValue(script)
        value.type = "module"
        config.extra_javascript.append(value)


_BUILD_LOG = logging.getLogger("mkdocs.commands.build")


class _SlowRenderFilter(logging.Filter):
    """MkDocs logs "Error reading page '...':" before the error a hook raised while the
    page rendered; for a render that ran out of time our one line says it all."""

    problem: Problem | None = None  # set while a render that ran out of time aborts

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.problem is not None and str(record.msg).startswith("Error reading page"))


_SLOW_RENDER = _SlowRenderFilter()


def _attribute(text: str) -> Markup:
    """One line of text, escaped for an HTML attribute: Material's base template puts
    ``page.meta.description`` into ``content="..."`` as it is."""
    return escape(" ".join(text.split()))


def _single_quoted(text: str) -> Markup:
    """``text`` escaped for an attribute in single quotes: JSON's many double quotes stay
    as they are (``&#34;`` each in a double-quoted one made a spec a third longer)."""
    return Markup(
        text.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _url_context(page: Page, config) -> dict:
    """What MkDocs' ``url`` filter needs to make links relative to ``page``."""
    return {"page": page, "config": config, "base_url": get_relative_url(".", page.url)}
