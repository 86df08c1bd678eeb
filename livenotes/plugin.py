"""The livenotes MkDocs plugin: checked front matter, generated pages, live demos."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from livenotes.config import LiveNotesConfig
from livenotes.demos import Embed, demo_wheel, find_embeds, kit_wheel, preview
from livenotes.frontmatter import NoteError
from livenotes.site import SiteIndex, scan

TALKS_MARKER = "<!-- talks -->"
_EMBED_MARK = '<div data-livenotes-embed="{}"></div>'
_TALKS_RE = re.compile(r"<p>\s*<!-- talks -->\s*</p>|<!-- talks -->")
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")

GENERATED = {
    "speakers.md": "---\ntitle: Speakers\ntemplate: speakers.html\nsummary: Everyone who spoke, "
    "with their affiliation and their talks.\n---\n",
    "demos/index.md": "---\ntitle: Demo gallery\ntemplate: gallery.html\nsummary: Live Python "
    "simulations of the talks' ideas that run in your browser.\n---\n",
    "tags.md": "---\ntitle: Tags\nsummary: Every talk grouped by its topics, from consensus to Linux memory.\n---\n\n<!-- material/tags -->\n",
}


class LiveNotesPlugin(BasePlugin[LiveNotesConfig]):
    """Checks notes, generates index pages, embeds demo previews and ships the runtime."""

    def __init__(self) -> None:
        self.index = SiteIndex()
        self.env: Environment | None = None
        self.root = Path.cwd()
        self.runtime: dict[str, Any] = {}
        self.wheels: dict[str, str] = {}  # demo name (or "demokit") -> site path
        self.previews: dict[tuple[str, int], dict | None] = {}

    # --- hooks, in build order -------------------------------------------------------

    def on_config(self, config):
        # Options such as demos_dir are relative to mkdocs.yml, not to the shell's folder.
        self.root = Path(config.config_file_path).parent
        return config

    def on_files(self, files: Files, *, config) -> Files:
        if not self.config.enabled:
            return files
        docs_dir = Path(config.docs_dir)
        pages = sorted(f.src_uri for f in files.documentation_pages() if f.abs_src_path)
        self.index, problems = scan(docs_dir, self.root / self.config.demos_dir, pages)
        self.previews = {}
        if self.config.previews:
            problems += self._render_previews()
        if problems:
            raise PluginError(f"{len(problems)} problem(s) in the notes:\n{NoteError(problems)}")
        for src_uri, content in GENERATED.items():
            if files.get_file_from_path(src_uri) is None:
                files.append(File.generated(config, src_uri, content=content))
        self._add_wheels(files, config)
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
        src_uri = page.file.src_uri
        self._describe(page)
        embeds = self.index.embeds.get(src_uri)
        if not embeds:
            return markdown
        # MkDocs strips blank lines after the front matter, so find the blocks again
        # in the text we are given; they are the same blocks, in the same order.
        found, _ = find_embeds(page.file.src_uri, markdown, 1)
        lines = markdown.splitlines()
        for number, embed in reversed(list(enumerate(found))):
            lines[embed.start : embed.end] = ["", _EMBED_MARK.format(number), ""]
        return "\n".join(lines)

    def on_page_content(self, content: str, *, page: Page, config, files) -> str:
        if not self.config.enabled:
            return content
        if "description" not in page.meta:
            match = _FIRST_PARAGRAPH.search(content)
            if match:
                text = html.unescape(_TAG.sub("", match.group(1)))
                page.meta["description"] = _attribute(text)
        return content

    def on_env(self, env: Environment, *, config, files) -> Environment:
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
            for number, embed in enumerate(embeds):
                # str.replace, not a regex over the whole page: pages carry the whole
                # navigation, and this runs for every page with a demo.
                output = output.replace(
                    _EMBED_MARK.format(number), self._render_embed(embed, number, page, config), 1
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
        return output

    # --- helpers -----------------------------------------------------------------------

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
            section.title = event.title
        for child in section.children:
            if isinstance(child, Section):
                self._order_section(child)

    def _render_previews(self) -> list:
        problems = []
        for src_uri, embeds in self.index.embeds.items():
            for number, embed in enumerate(embeds):
                frame, problem = preview(self.index.demos[embed.name], embed)
                if problem:
                    problems.append(problem)
                self.previews[(src_uri, number)] = frame
        return problems

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

    def _render_embed(self, embed: Embed, number: int, page: Page, config) -> str:
        package = self.index.demos[embed.name]
        demo = package.demo
        assert demo is not None and self.env is not None
        frame = self.previews.get((page.file.src_uri, number))
        scenario = demo.scenario(embed.scenario)

        def url(site_path: str) -> str:
            return get_relative_url(site_path, page.url)

        spec = {
            "demo": demo.describe(),
            "scenario": scenario.name,
            "params": demo.resolve({**scenario.params, **embed.params}),
            "seed": demo.seed if embed.seed is None else embed.seed,
            "wheels": [url(self.wheels["demokit"]), url(self.wheels[embed.name])],
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
        page_url = self.index.demo_pages.get(embed.name)
        return self.env.get_template("partials/demo.html").render(
            **_url_context(page, config),
            demo=demo,
            scenario=scenario,
            embed=embed,
            frame=frame,
            spec_runtime=spec["runtime"],
            spec=json.dumps(spec, separators=(",", ":")),
            demo_page=(
                url(page_url.removesuffix(".md") + "/")
                if page_url and page_url != page.file.src_uri
                else None
            ),
        )


def _attribute(text: str) -> str:
    """One line of text, escaped for an HTML attribute: Material's base template puts
    ``page.meta.description`` into ``content="..."`` as it is."""
    return html.escape(" ".join(text.split()), quote=True)


def _url_context(page: Page, config) -> dict:
    """What MkDocs' ``url`` filter needs to make links relative to ``page``."""
    return {"page": page, "config": config, "base_url": get_relative_url(".", page.url)}
