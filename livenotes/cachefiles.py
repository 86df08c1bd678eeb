"""Files a build keeps for the next one (under the plugin's ``runtime_cache``)."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` so that no reader, another build included,
    ever sees half a file: into a scratch file of this process beside it, renamed over
    it. Makes the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text, encoding="utf-8")
    scratch.replace(path)
