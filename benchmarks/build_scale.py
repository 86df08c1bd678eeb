#!/usr/bin/env python
"""Build time at scale: our plugin against the same site without it.

Prints numbers; it is not a test and asserts nothing about speed.

For each size N (default 10, 100 and 1,000) the script writes a synthetic site into a
temporary folder: N copies of the real talk notes (cycling through
``docs/<source event>/*.md``), each with its own file name and ``order``, spread over
synthetic events of ``--per-event`` talks, each event with a copy of the real event
page. Copies keep their demo blocks (three of the seven real notes embed a demo), so
the cost of build-time previews is included. The rest of ``docs/`` (home page, demo
pages) is copied once, with its links pointing at the copies.

Each site is built with ``mkdocs build`` in a subprocess, side by side and interleaved
over ``--repeat`` rounds (median reported):

* plugin: the project's ``mkdocs.yml`` as it is (``--strict``, as CI builds it);
* plain:  the same config without ``livenotes`` in ``plugins`` (not ``--strict``: the
  pages then hold raw ``demo`` blocks and links to pages only the plugin generates).

With ``--side-by-side`` each round builds both at the same time, one per core (a filler
build keeps the other core busy when one ends first), so that a pair shares the
machine's state: steadier ratios where the machine's speed drifts. Every round's pair is
printed, in wall and in CPU seconds.

Only paths change in the written configs (absolute ``docs_dir``, ``site_dir``,
``theme.custom_dir``, ``watch``, ``hooks``, and the plugin's ``demos_dir`` and
``runtime_cache``).

When the ratio at the largest size misses the target (or with ``--breakdown always``)
the plugin's cost is broken down by switching its options off one at a time, and the
navigation is measured with and without Material's ``navigation.prune`` (page size).
``--profile N`` builds the N-note site in this process instead, times every plugin
hook and prints cProfile's hot spots. ``--cold`` starts every plugin build from an
empty cache of its own (the build records every run again); by default the plugin uses
the project's cache (``.cache/recordings/``...), warm after one build.

    . .venv/bin/activate
    python benchmarks/build_scale.py                     # 10, 100, 1000; 3 rounds
    python benchmarks/build_scale.py --sizes 10,100 --repeat 1
    python benchmarks/build_scale.py --sizes 1000 --profile 1000
    python benchmarks/build_scale.py --sizes 1000 --repeat 1 --cold
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml
from mkdocs.utils.yaml import yaml_load

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.15
TARGET_SIZE = 1000
PLUGIN = "livenotes"
DROP_FEATURES: set[str] = set()  # --drop-feature, applied to every config written
PLUGIN_PATH_OPTIONS = {"demos_dir": "demos", "runtime_cache": ".cache", "runtime_source": None}


# --- the synthetic site ----------------------------------------------------------------


def _set_key(text: str, key: str, value: str) -> str:
    """Replace a top-level front matter key's value (the key must be there)."""
    head, sep, body = text.partition("\n---\n")
    new, count = re.subn(rf"(?m)^{key}:.*$", f"{key}: {value}", head, count=1)
    if count != 1:
        raise SystemExit(f"front matter has no {key!r}: {head[:80]!r}")
    return new + sep + body


def make_site(docs: Path, source_docs: Path, source_event: str, n: int, per_event: int) -> dict:
    """Write N talk copies under ``docs``; return what was written (for page sizes)."""
    event_dir = source_docs / source_event
    sources = sorted(p for p in event_dir.glob("*.md") if p.name != "index.md")
    if not sources:
        raise SystemExit(f"no talk notes in {event_dir}")
    event_page = (event_dir / "index.md").read_text(encoding="utf-8")
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sources}

    talks: list[str] = []  # src_uris of the copies
    first_copy: dict[str, str] = {}  # original stem -> src_uri of its first copy
    events: list[str] = []
    with_demo = 0
    for i in range(n):
        stem = sources[i % len(sources)].stem
        event = f"event{i // per_event + 1:03d}"
        if i % per_event == 0:
            events.append(event)
            (docs / event).mkdir(parents=True)
            (docs / event / "index.md").write_text(
                _set_key(event_page, "event", event), encoding="utf-8"
            )
        text = _set_key(texts[stem], "event", event)
        text = _set_key(text, "order", str(i % per_event + 1))
        src_uri = f"{event}/{stem}-{i + 1:04d}.md"
        (docs / src_uri).write_text(text, encoding="utf-8")
        talks.append(src_uri)
        first_copy.setdefault(stem, src_uri)
        with_demo += "```demo" in text

    # Everything else in docs/ (home page, demo pages, assets) once, with links to the
    # source event pointed at its copies.
    def relink(match: re.Match) -> str:
        prefix, name = match.group(1), match.group(2)
        stem = name.removesuffix(".md")
        target = (
            first_copy.get(stem, f"{events[0]}/index.md")
            if name != "index.md"
            else f"{events[0]}/index.md"
        )
        return prefix + target

    link = re.compile(rf"(\]\(\s*(?:\.\./)*){re.escape(source_event)}/([\w.-]+\.md)")
    for path in sorted(source_docs.rglob("*")):
        rel = path.relative_to(source_docs)
        if rel.parts[0] == source_event or path.is_dir():
            continue
        out = docs / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".md":
            out.write_text(link.sub(relink, path.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            shutil.copy2(path, out)
    return {"talks": talks, "events": events, "with_demo": with_demo}


# --- configs ---------------------------------------------------------------------------


def load_project_config(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return yaml_load(f)


def _plugin_name(item) -> str:
    return item if isinstance(item, str) else next(iter(item))


def write_config(
    base: dict,
    folder: Path,
    name: str,
    docs: Path,
    *,
    plugin: dict | None | bool = True,
    prune: bool = True,
    sections: bool = True,
) -> Path:
    """A copy of the project config with absolute paths and the given changes.

    ``plugin``: True keeps livenotes as configured, False removes it, a dict overrides
    some of its options.
    """
    cfg = copy.deepcopy(base)
    cfg["docs_dir"] = str(docs)
    cfg["site_dir"] = str(folder / f"site-{name}")
    theme = cfg.get("theme")
    if isinstance(theme, dict) and theme.get("custom_dir"):
        theme["custom_dir"] = str((ROOT / theme["custom_dir"]).resolve())
    if isinstance(theme, dict):
        features = list(theme.get("features") or [])
        if not prune:
            features = [f for f in features if f != "navigation.prune"]
        if not sections:
            features = [f for f in features if f != "navigation.sections"]
        features = [f for f in features if f not in DROP_FEATURES]
        theme["features"] = features
    for key in ("hooks", "watch"):  # paths relative to mkdocs.yml
        if cfg.get(key):
            cfg[key] = [str((ROOT / path).resolve()) for path in cfg[key]]
    plugins = []
    for item in cfg.get("plugins") or []:
        if _plugin_name(item) != PLUGIN:
            plugins.append(item)
            continue
        if plugin is False:
            continue
        options = dict(item[PLUGIN] or {}) if isinstance(item, dict) else {}
        for key, default in PLUGIN_PATH_OPTIONS.items():
            value = options.get(key, default)
            if value is not None:
                options[key] = str((ROOT / value).resolve())
        if isinstance(plugin, dict):
            options.update(plugin)
        plugins.append({PLUGIN: options})
    cfg["plugins"] = plugins
    path = folder / f"mkdocs-{name}.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# --- building and measuring ------------------------------------------------------------


def cold_cache(folder: Path) -> dict:
    """Plugin options for a build from an empty cache in ``folder``: nothing recorded,
    no run's reach known, no wheel packed. Only the pinned Pyodide core is linked in
    from the project's cache (fetching it is a download, not build work)."""
    from livenotes.runtime import runtime_dir

    cache = (ROOT / PLUGIN_PATH_OPTIONS["runtime_cache"]).resolve()
    core = runtime_dir(cache)
    if not core.is_dir():
        raise SystemExit(f"{core}: no Pyodide core in the cache; build the site once first")
    folder.mkdir(parents=True)
    (folder / core.name).symlink_to(core, target_is_directory=True)
    return {"runtime_cache": str(folder)}


def build(config: Path, strict: bool) -> float:
    return build_timed(config, strict)[0]


def build_timed(config: Path, strict: bool) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one build in a subprocess. CPU
    time moves less than wall time when something else shares the machine."""
    command = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)]
    if strict:
        command.append("--strict")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=config.parent, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"build failed: {' '.join(command)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def _command(config: Path, strict: bool, site_dir: Path | None = None) -> list[str]:
    command = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)]
    if strict:
        command.append("--strict")
    if site_dir is not None:
        command += ["-d", str(site_dir)]
    return command


def build_side_by_side(variants: dict[str, tuple[Path, bool]]) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds of every variant built at once, one per core, so that all
    run under the same conditions (this machine's speed drifts by 20 % within a
    minute). When one ends first, the same build runs again into a scratch folder
    (its time unused) until the last ends, so none has the machine to itself."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    running: dict[int, tuple[str, io.TextIOBase, float]] = {}
    for name, (config, strict) in variants.items():
        log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (a pipe could fill while we wait; closed below)
        process = subprocess.Popen(
            _command(config, strict),
            cwd=config.parent,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        running[process.pid] = (name, log, time.perf_counter())
    results: dict[str, tuple[float, float]] = {}
    fillers: dict[int, tuple[str, subprocess.Popen, Path]] = {}

    def fill(name: str) -> None:
        """Build ``name`` again into a scratch folder, only to keep its core busy."""
        config, strict = variants[name]
        scratch = config.parent / f"filler-{name}"
        shutil.rmtree(scratch, ignore_errors=True)
        filler = subprocess.Popen(
            _command(config, strict, scratch),
            cwd=config.parent,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        fillers[filler.pid] = (name, filler, scratch)

    while len(results) < len(variants):
        pid, status, usage = os.wait4(-1, 0)
        if pid in fillers:
            name, _process, _scratch = fillers.pop(pid)
            if len(results) < len(variants):  # still needed: again
                fill(name)
            continue
        name, log, started = running.pop(pid)
        with log:
            if os.waitstatus_to_exitcode(status) != 0:
                log.seek(0)
                sys.stderr.write(log.read())
                raise SystemExit(f"build failed: {name}")
        results[name] = (time.perf_counter() - started, usage.ru_utime + usage.ru_stime)
        if len(results) < len(variants):
            fill(name)
    for _name, filler, scratch in fillers.values():
        filler.kill()
        filler.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def page_sizes(site: Path, talks: list[str]) -> tuple[float, float]:
    """Average talk page and whole-site HTML, in KB and MB."""
    sizes = [(site / uri.removesuffix(".md") / "index.html").stat().st_size for uri in talks]
    total = sum(p.stat().st_size for p in site.rglob("*.html"))
    return statistics.mean(sizes) / 1000, total / 1e6


def _fmt_ratio(with_: float, without: float) -> str:
    return f"{with_ / without:.2f}" if without else "-"


def run_sizes(args, base: dict, work: Path) -> dict[int, dict]:
    results: dict[int, dict] = {}
    print(
        f"{'N':>6} {'plugin s':>9} {'plain s':>9} {'ratio':>6} {'talk KB plugin':>15} "
        f"{'talk KB plain':>14} {'HTML MB plugin':>15} {'HTML MB plain':>14}",
        flush=True,
    )
    for n in args.sizes:
        folder = work / f"n{n}"
        docs = folder / "docs"
        site = make_site(docs, ROOT / "docs", args.source_event, n, args.per_event)
        variants = {
            "plugin": (write_config(base, folder, "plugin", docs), True),
            "plain": (write_config(base, folder, "plain", docs, plugin=False), False),
        }
        times: dict[str, list[float]] = defaultdict(list)
        cpu: dict[str, list[float]] = defaultdict(list)
        for round_ in range(args.repeat):
            order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
            if args.cold:  # every plugin build starts from an empty cache of its own
                variants["plugin"] = (
                    write_config(
                        base, folder, "plugin", docs, plugin=cold_cache(folder / f"cache-{round_}")
                    ),
                    True,
                )
            if args.side_by_side:
                for name, (wall, seconds) in build_side_by_side(variants).items():
                    times[name].append(wall)
                    cpu[name].append(seconds)
                continue
            for name in order:
                config, strict = variants[name]
                wall, seconds = build_timed(config, strict)
                times[name].append(wall)
                cpu[name].append(seconds)
        med = {name: statistics.median(values) for name, values in times.items()}
        kb_with, mb_with = page_sizes(folder / "site-plugin", site["talks"])
        kb_without, mb_without = page_sizes(folder / "site-plain", site["talks"])
        results[n] = {
            "configs": {name: config for name, (config, _strict) in variants.items()},
            "folder": folder,
            "docs": docs,
            "site": site,
            "median": med,
            "times": dict(times),
            "cpu": dict(cpu),
            "kb": (kb_with, kb_without),
            "mb": (mb_with, mb_without),
        }
        print(
            f"{n:>6} {med['plugin']:>9.2f} {med['plain']:>9.2f} {_fmt_ratio(med['plugin'], med['plain']):>6} "
            f"{kb_with:>15.1f} {kb_without:>14.1f} {mb_with:>15.1f} {mb_without:>14.1f}",
            flush=True,
        )
        # The spread, so that one median is not read as the whole story, and CPU time.
        for label, values in (("wall", times), ("CPU", cpu)):
            pairs = zip(values["plugin"], values["plain"], strict=True)
            median = _fmt_ratio(
                statistics.median(values["plugin"]), statistics.median(values["plain"])
            )
            print(
                f"{'':>6} {label:>4} s, plugin / plain (ratio), by round: "
                + "; ".join(f"{a:.2f} / {b:.2f} ({_fmt_ratio(a, b)})" for a, b in pairs)
                + f"; ratio of medians {median}",
                flush=True,
            )
        if not args.keep and n != max(args.sizes):
            shutil.rmtree(folder)
    return results


def breakdown(args, base: dict, result: dict, n: int) -> None:
    """What the plugin's cost is made of: switch its parts off one at a time.

    Every variant is built in the same interleaved rounds as fresh plain and plugin
    builds, so the ratios compare builds made under the same machine load.
    """
    folder, docs, site = result["folder"], result["docs"], result["site"]
    variants = {
        "plain (no livenotes)": (result["configs"]["plain"], False),
        "plugin as configured": (result["configs"]["plugin"], True),
    }
    for label, options in {
        "previews: false": {"previews": False},
        "runtime: false": {"runtime": False},
        "previews: false, runtime: false": {"previews": False, "runtime": False},
        "enabled: false (plugin loaded, off)": {"enabled": False},
    }.items():
        name = "bd-" + re.sub(r"\W+", "-", label).strip("-")
        variants[label] = (write_config(base, folder, name, docs, plugin=options), False)
    times: dict[str, list[float]] = defaultdict(list)
    labels = list(variants)
    for round_ in range(args.breakdown_repeat):
        shift = round_ % len(labels)
        for label in labels[shift:] + labels[:shift]:
            config, strict = variants[label]
            times[label].append(build(config, strict))
    plain = statistics.median(times["plain (no livenotes)"])
    print(
        f"\nBreakdown at N={n} ({args.breakdown_repeat} interleaved round(s), median; "
        f"{site['with_demo']} of {n} notes embed a demo)"
    )
    print(f"{'variant':<38} {'s':>7} {'ratio':>6} {'over plain s':>13} {'talk KB':>8}")
    for label, (config, _strict) in variants.items():
        seconds = statistics.median(times[label])
        site_dir = folder / f"site-{config.stem.removeprefix('mkdocs-')}"
        kb = page_sizes(site_dir, site["talks"])[0]
        if config.stem.startswith("mkdocs-bd-"):
            shutil.rmtree(site_dir)
        print(
            f"{label:<38} {seconds:>7.2f} {_fmt_ratio(seconds, plain):>6} {seconds - plain:>13.2f} "
            f"{kb:>8.1f}",
            flush=True,
        )


def navigation(args, base: dict, result: dict, n: int) -> None:
    """Page size and time with and without Material's navigation.prune and .sections."""
    folder, docs, site = result["folder"], result["docs"], result["site"]
    theme = base.get("theme") if isinstance(base.get("theme"), dict) else {}
    configured = [f for f in theme.get("features") or [] if f not in DROP_FEATURES]
    nav = [f for f in ("navigation.sections", "navigation.prune") if f in configured]
    print(
        f"\nNavigation at N={n} ({len(site['events'])} events of {args.per_event} talks; "
        f"plugin on; 1 build each); configured: {', '.join(nav) or 'neither sections nor prune'}"
    )
    print(f"{'theme.features':<42} {'s':>7} {'talk KB':>8} {'HTML MB':>8}")
    variants = [()] + [(f,) for f in nav] + ([tuple(nav)] if len(nav) == 2 else [])
    for drop in variants:
        label = (
            "as configured" if not drop else "minus " + " and ".join(f.split(".")[1] for f in drop)
        )
        if not drop:
            seconds, (kb, mb) = result["median"]["plugin"], (result["kb"][0], result["mb"][0])
        else:
            name = "nav-" + "-".join(f.split(".")[1] for f in drop)
            config = write_config(
                base,
                folder,
                name,
                docs,
                prune="navigation.prune" not in drop,
                sections="navigation.sections" not in drop,
            )
            seconds = build(config, strict=False)
            kb, mb = page_sizes(folder / f"site-{name}", site["talks"])
            shutil.rmtree(folder / f"site-{name}")
        print(f"{label:<42} {seconds:>7.2f} {kb:>8.1f} {mb:>8.1f}", flush=True)


# --- in-process profile ----------------------------------------------------------------


def profile(args, base: dict, work: Path, n: int) -> None:
    """Time every plugin hook of an in-process build, then cProfile one build."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    folder = work / f"profile-n{n}"
    docs = folder / "docs"
    make_site(docs, ROOT / "docs", args.source_event, n, args.per_event)
    results = {}
    for name, plugin in (("plugin", True), ("plain", False)):
        config_path = write_config(base, folder, f"profile-{name}", docs, plugin=plugin)
        # Hook times (no profiler overhead): wrap every registered event method.
        config = load_config(str(config_path))
        spent: dict[tuple[str, str], float] = defaultdict(float)
        collection = config.plugins
        for event, methods in collection.events.items():
            for position, method in enumerate(methods):
                origin = collection._event_origins.get(method, "<unknown>")

                def timed(*a, _m=method, _key=(origin, event), _spent=spent, **k):
                    start = time.perf_counter()
                    try:
                        return _m(*a, **k)
                    finally:
                        _spent[_key] += time.perf_counter() - start

                methods[position] = timed
                collection._event_origins[timed] = origin
        start = time.perf_counter()
        mkdocs_build(config)
        total = time.perf_counter() - start
        results[name] = total
        print(f"\nIn-process build, {name}, N={n}: {total:.2f} s; time inside plugin hooks:")
        for (origin, event), seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
            if seconds >= 0.005:
                print(f"  {origin:<10} on_{event:<16} {seconds:7.2f} s")
    print(f"\nIn-process ratio plugin/plain: {results['plugin'] / results['plain']:.2f}")

    config = load_config(str(folder / "mkdocs-profile-plugin.yml"))
    profiler = cProfile.Profile()
    profiler.enable()
    mkdocs_build(config)
    profiler.disable()
    for title, sort, pattern, limit in (
        (
            "cumulative time, livenotes/ and our templates",
            "cumulative",
            r"livenotes/|overrides/",
            25,
        ),
        ("cumulative time, whole build", "cumulative", "", 40),
        ("own time, whole build", "tottime", "", 25),
    ):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(sort)
        if pattern:
            stats.print_stats(pattern, limit)
        else:
            stats.print_stats(limit)
        text = out.getvalue().replace(str(ROOT) + "/", "").replace(sys.prefix + "/", "")
        print(f"\n--- cProfile: {title} (N={n}) ---")
        print(text[text.find("   ncalls") :].rstrip())
    if args.profile_out:
        profiler.dump_stats(args.profile_out)
        print(f"\nprofile written to {args.profile_out} (python -m pstats {args.profile_out})")


# --- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10,100,1000", help="note counts, comma separated (default 10,100,1000)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="interleaved rounds per size; median (default 3)"
    )
    parser.add_argument(
        "--per-event", type=int, default=10, help="talks per synthetic event (default 10)"
    )
    parser.add_argument(
        "--source-event", default="srecon19apac", help="docs/ folder whose notes are copied"
    )
    parser.add_argument("--config", type=Path, default=ROOT / "mkdocs.yml")
    parser.add_argument(
        "--breakdown",
        choices=("auto", "always", "never"),
        default="auto",
        help="break the plugin's cost down at the largest size: when the target "
        "is missed (auto), always, or never",
    )
    parser.add_argument(
        "--breakdown-repeat", type=int, default=1, help="builds per breakdown variant"
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="only profile an in-process build of N notes (hook times + cProfile)",
    )
    parser.add_argument("--profile-out", help="also write the cProfile data to this file")
    parser.add_argument(
        "--drop-feature",
        action="append",
        default=[],
        metavar="FEATURE",
        help="remove this theme feature from every config (both sides), e.g. "
        "navigation.sections; repeatable",
    )
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="build plugin and plain at the same time, one per core, in every round "
        "(needs 2 cores; steadier ratios on a machine whose speed drifts)",
    )
    parser.add_argument(
        "--skip-navigation", action="store_true", help="skip the prune/sections page-size builds"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="each plugin build starts from an empty cache (recordings, moment-link "
        "runs, wheels; the Pyodide core is linked in), so it records every run again",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder and print it"
    )
    args = parser.parse_args(argv)
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    DROP_FEATURES.update(args.drop_feature)

    base = load_project_config(args.config)
    work = Path(tempfile.mkdtemp(prefix="livenotes-bench-"))
    print(
        f"livenotes build benchmark, {dt.date.today()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPU(s), {platform.machine()}"
    )
    try:
        if args.profile:
            profile(args, base, work, args.profile)
            return 0
        print(
            f"sizes {args.sizes}, {args.repeat} "
            + ("side-by-side" if args.side_by_side else "interleaved")
            + f" round(s), median; {args.per_event} talks per event"
            + ("; plugin builds from an empty cache (--cold)" if args.cold else "")
            + (
                f"; theme features dropped: {', '.join(sorted(DROP_FEATURES))}"
                if DROP_FEATURES
                else ""
            )
            + "\n"
        )
        results = run_sizes(args, base, work)
        largest = max(args.sizes)
        ratio = results[largest]["median"]["plugin"] / results[largest]["median"]["plain"]
        print(f"\ntarget: ratio <= {TARGET:.2f} at {TARGET_SIZE:,} notes")
        if TARGET_SIZE in results:
            met = ratio <= TARGET
            print(f"  measured {ratio:.2f} at {TARGET_SIZE:,} notes: {'met' if met else 'NOT met'}")
        else:
            met = True
            print(f"  not measured ({TARGET_SIZE:,} is not among --sizes)")
        if args.breakdown == "always" or (args.breakdown == "auto" and not met):
            breakdown(args, base, results[largest], largest)
            if not args.skip_navigation:
                navigation(args, base, results[largest], largest)
        return 0
    finally:
        if args.keep:
            print(f"\nkept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
