"""Options of the livenotes MkDocs plugin (``plugins: - livenotes: ...``)."""

from mkdocs.config.base import Config
from mkdocs.config.config_options import Optional, Type


class LiveNotesConfig(Config):
    enabled = Type(bool, default=True)
    """Turn the whole plugin off (the site then builds as plain Material)."""

    demos_dir = Type(str, default="demos")
    """Folder of demo packages, relative to mkdocs.yml."""

    runtime = Type(bool, default=True)
    """Copy the pinned Pyodide core into the site so demos can run live."""

    runtime_cache = Type(str, default=".cache")
    """Where the verified Pyodide core is kept between builds, relative to mkdocs.yml."""

    runtime_source = Optional(Type(str))
    """A local Pyodide tarball or folder to use instead of fetching with npm (also
    ``LIVENOTES_PYODIDE_SOURCE``)."""

    runtime_timeout = Type(int, default=60)
    """Seconds the browser waits for the runtime to boot before showing an error."""

    step_deadline = Type(int, default=1000)
    """Milliseconds one batch of demo steps may take in the browser before the worker is
    stopped and replaced (a step that loops forever ends here)."""

    previews = Type(bool, default=True)
    """Render each embedded demo's preview frame with CPython at build time."""

    recordings = Type(bool, default=True)
    """Record each embedded demo's scenarios with CPython at build time, so readers can
    play them without the Python runtime (cached in ``runtime_cache``/recordings)."""

    offline = Type(bool, default=True)
    """Register a service worker (``sw.js`` at the site root) that keeps the pages a
    reader opened readable offline. ``false`` ships a worker that deletes its caches and
    unregisters itself instead (the kill switch)."""
