"""``livenotes new-demo``: the scaffolded demo passes its own test and the contract test,
is lint-clean, passes ``livenotes check`` and builds with its preview; nothing is ever
overwritten."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from livenotes.cli import main
from tests.conftest import EVENT_PAGE, GOOD_TALK, make_site, run_build

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")


def _project(tmp_path: Path) -> Path:
    (tmp_path / "demos").mkdir()
    return make_site(
        tmp_path,
        {"docs/testconf/index.md": EVENT_PAGE, "docs/testconf/a-good-talk.md": GOOD_TALK},
        demos=tmp_path / "demos",
    )


def test_new_demo_scaffolds_a_demo_that_passes_the_contract_and_builds(tmp_path, capsys):
    root = _project(tmp_path)
    assert main(["--root", str(root), "new-demo", "queue_lab", "--title", "Queue lab"]) == 0
    written = capsys.readouterr().out.split()
    assert written == [
        "demos/queue_lab/__init__.py",
        "demos/queue_lab/core.py",
        "demos/queue_lab/view.py",
        "tests/demos/test_queue_lab.py",
        "docs/demos/queue_lab.md",
    ]
    files = [str(root / name) for name in written if name.endswith(".py")]
    for args in (["format", "--check"], ["check"]):
        lint = subprocess.run(
            [str(RUFF), *args, "--config", str(ROOT / "pyproject.toml"), *files],
            capture_output=True,
            text=True,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr

    assert main(["--root", str(root), "check"]) == 0
    assert "1 demo(s)" in capsys.readouterr().out

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), str(ROOT)]),
        "LIVENOTES_CONTRACT_DEMOS": str(root / "demos"),
    }
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(root / "tests" / "demos" / "test_queue_lab.py"),
            str(ROOT / "tests" / "demos" / "test_contract.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "skipped" not in tests.stdout

    built = run_build(root)
    assert built.returncode == 0, built.stderr[-3000:]
    page = (root / "site" / "demos" / "queue_lab" / "index.html").read_text(encoding="utf-8")
    assert 'data-demo="queue_lab"' in page
    assert "<title>Queue at 30 s:" in page  # the preview frame, rendered at build time


def test_new_demo_never_overwrites_and_refuses_bad_names(tmp_path, capsys):
    root = _project(tmp_path)
    assert main(["--root", str(root), "new-demo", "queue_lab"]) == 0
    capsys.readouterr()
    before = (root / "demos" / "queue_lab" / "core.py").read_text()
    assert main(["--root", str(root), "new-demo", "queue_lab"]) == 2
    err = capsys.readouterr().err
    assert err == "new-demo: demos/queue_lab/__init__.py already exists; not overwriting\n"
    assert (root / "demos" / "queue_lab" / "core.py").read_text() == before
    for bad in ("Queue", "9lives", "class", "queue-lab", "../x"):
        assert main(["--root", str(root), "new-demo", bad]) == 2
        assert capsys.readouterr().err.startswith(f"new-demo: {bad!r} is not a demo name;")
    assert main(["--root", str(root), "new-demo", "other", "--title", 'say "hi"']) == 2
    assert "--title may not hold quotes" in capsys.readouterr().err
    assert not (root / "demos" / "other").exists()


def test_contributings_add_a_demo_command_writes_what_it_says(tmp_path, capsys):
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("\n## Add a demo\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0].strip()
    words = shlex.split(block)
    assert words[:4] == [".venv/bin/python", "-m", "livenotes.cli", "new-demo"]
    root = _project(tmp_path)
    assert main(["--root", str(root), *words[3:]]) == 0
    written = capsys.readouterr().out.split()
    name = words[4]
    for path in written:
        assert f"`{path}`" in section or f"`{Path(path).name}`" in section, path
    assert f"demos/{name}/" in section and (root / "demos" / name / "core.py").is_file()
    init = (root / "demos" / name / "__init__.py").read_text(encoding="utf-8")
    title, talk = words[words.index("--title") + 1], words[words.index("--talk") + 1]
    assert f'title="{title}"' in init and f'talk="{talk}"' in init
