"""Reading offline: the site's own service worker, written at build time.

The worker (``theme/offline/sw.js``) is written to the site root as ``sw.js``, so that
its scope is the whole site, with the build's facts filled in: the content hash of
every file the build wrote (it names the caches, so each deploy is a new worker that
drops the last deploy's caches), the hash of the Pyodide runtime's files (the
runtime's own cache outlives deploys that leave it alone), the offline page and the
files Material fetches for every page (the sitemap, the search index).

``assets/livenotes/offline.js`` registers it on every page. Under ``mkdocs serve``, and
with the plugin option ``offline: false``, no page registers it, ``sw.js`` is a worker
that deletes its caches and unregisters itself (the kill switch, for readers who have
the worker from an earlier deploy, or from a built site once served on the same
address), and pages load ``offline.js?off``, which has such a browser fetch it at once.

The offline page (shown for an address never opened on the device) is one of the
theme's pages (``offline.html``), rendered like Material's 404 page with links from the
site root, since it is shown at any address; it travels inside ``sw.js``, so nothing is
fetched only to be kept, and it is not a page of the site.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.commands.build import get_context
from mkdocs.config.config_options import ExtraScriptValue
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files

SCRIPT = "sw.js"
"""The worker's path in the site: at the root, to control every page."""
PAGE = "offline.html"
"""The offline page's template (rendered into the site, then moved into the worker)."""
CLIENT = "assets/livenotes/offline.js"
"""The script that registers the worker (and fills in the offline page)."""
SOURCE = Path(__file__).parent / "theme" / "offline" / "sw.js"
SOURCE_URI = "offline/sw.js"
"""The worker as the theme holds it, before the build fills it in; not copied as is."""
CACHE_FIRST = ("assets/pyodide/",)
"""Pinned, hash-checked and versioned in their path: served from the cache first."""
WARM = ("sitemap.xml", "search/search_index.json")
"""Fetched by Material on every page (instant navigation, search): kept with the first."""
RUNTIME = "assets/pyodide/"

_PLACEHOLDER = "const BUILD = null; // filled in by the build"


def content_hashes(
    site_dir: Path,
    known: Mapping[Path, str] | None = None,
    skip: frozenset[str] = frozenset({SCRIPT}),
) -> tuple[str, str]:
    """A sha256 of every file under ``site_dir`` (each file's path and the sha256 of its
    bytes, in path order), and one of those under the runtime's folder alone.

    ``known`` holds the sha256 (hex) of files the build has just written and hashed
    (the pages the policy was written into), so that they are not read again."""
    known = known or {}
    whole = hashlib.sha256()
    runtime = hashlib.sha256()
    for path in sorted(site_dir.rglob("*")):
        name = path.relative_to(site_dir).as_posix()
        if name in skip or not path.is_file():
            continue
        digest = known.get(path) or hashlib.sha256(path.read_bytes()).hexdigest()
        record = f"{name}\0{digest}\n".encode()
        for hasher in (whole, runtime) if name.startswith(RUNTIME) else (whole,):
            hasher.update(record)
    return whole.hexdigest(), runtime.hexdigest()


def worker_script(build: dict) -> str:
    """The worker's source with ``build`` in place of its placeholder."""
    source = SOURCE.read_text(encoding="utf-8")
    if _PLACEHOLDER not in source:
        raise PluginError(f"{SOURCE}: the line `{_PLACEHOLDER}` is missing")
    return source.replace(_PLACEHOLDER, f"const BUILD = {json.dumps(build, sort_keys=True)};", 1)


class Offline:
    """What the plugin does for reading offline, hook by hook."""

    def __init__(self) -> None:
        self.enabled = False
        self.build: dict = {}

    def configure(self, config, enabled: bool) -> None:
        """``on_config``: with ``enabled``, render the offline page and load the
        registering script on every page; without, the script that retires the worker."""
        self.enabled = enabled
        if enabled:
            config.theme.static_templates.add(PAGE)
        script = CLIENT if enabled else f"{CLIENT}?off"
        listed = [str(path).split("?")[0] for path in config.extra_javascript]
        if CLIENT not in listed:
            value = ExtraScriptValue(script)
            value.type = "module"
            config.extra_javascript.append(value)

    def files(self, files: Files, config) -> None:
        """``on_files``: the worker's source is not a file of the site, and no file of
        the site may take the worker's place."""
        source = files.get_file_from_path(SOURCE_URI)
        if source is not None:
            files.remove(source)
        if self.enabled:
            for file in files:
                if file.dest_uri in (SCRIPT, PAGE):
                    raise PluginError(
                        f"{Path(config.docs_dir).name}/{file.src_uri}:1: {file.dest_uri} is "
                        "where the plugin writes the site's service worker and offline page; "
                        "rename the file, or set the plugin option `offline: false`"
                    )

    def context(self, context: dict, template_name: str, config) -> dict:
        """``on_template_context``: the offline page links from the site root, as
        Material's 404 page does, since the worker shows it at any address."""
        if template_name != PAGE or not self.enabled:
            return context
        base = urlsplit(config.site_url or "/").path or "/"
        context.update(get_context(context["nav"], context["pages"], config, base_url=base))
        return context

    def finish(self, site_dir: Path, known: Mapping[Path, str] | None = None) -> dict:
        """``on_post_build``, once every other file is written: write ``sw.js``.
        ``known``: the sha256 of files just written (see :func:`content_hashes`)."""
        if self.enabled:
            site, runtime = content_hashes(site_dir, known)
            page = site_dir / PAGE
            build = {
                "enabled": True,
                "version": site[:20],
                "runtime": runtime[:20],
                "offline": page.read_text(encoding="utf-8"),
                "cacheFirst": list(CACHE_FIRST),
                "warm": [path for path in WARM if (site_dir / path).is_file()],
            }
        else:
            page = None
            build = {"enabled": False, "version": "off", "runtime": "off", "offline": ""}
            build |= {"cacheFirst": [], "warm": []}
        script = worker_script(build)
        if self.enabled or not (site_dir / SCRIPT).exists():
            (site_dir / SCRIPT).write_text(script, encoding="utf-8")
        if page is not None:
            page.unlink()
        self.build = {**build, "bytes": len(script.encode("utf-8"))}
        return self.build
