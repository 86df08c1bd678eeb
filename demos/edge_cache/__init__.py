"""The edge: a ladder of HTTP caches between readers and the origin, with edge functions.

From "Edge Computing: The Next Frontier for Distributed Systems" (Martin Barry,
SREcon19 Asia/Pacific). ``http_cache.py`` is a standalone cache that follows RFC 9111
and RFC 5861; ``core.py`` simulates the ladder of the talk (client, last mile, ISP, city
data centre, continental region, origin) with a population of readers, edge functions,
faults, load tests and health checks; ``view.py`` draws it.
"""

from __future__ import annotations

from demokit import (
    Action,
    BoolParam,
    ChoiceParam,
    Cue,
    Demo,
    IntParam,
    Notable,
    Scenario,
)

from . import view
from .core import LAST_MILE_SITES, LOAD_SOURCES, create

_AREAS = tuple((name, f"last mile {name}") for name in LAST_MILE_SITES)

PARAMS = (
    BoolParam("normalise", "Normalise requests at the edge", False, live=True),
    IntParam("request_rate", "Reader requests", 100, 10, 400, 10, "req/s", live=True),
    IntParam("page_ttl", "Article freshness lifetime", 30, 0, 300, 5, "s", live=True),
    ChoiceParam(
        "page_freshness",
        "Article freshness for shared caches",
        "max-age",
        (
            ("max-age", "max-age=N (every cache)"),
            ("s-maxage", "s-maxage=N (no stale at the edge)"),
        ),
        live=True,
    ),
    IntParam("stale_while_revalidate", "stale-while-revalidate", 0, 0, 120, 5, "s", live=True),
    BoolParam("stale_if_error", "stale-if-error=600 on articles", False, live=True),
    ChoiceParam(
        "paywall_state",
        "Paywall: where a reader's subscription lives",
        "origin",
        (
            ("origin", "at the origin"),
            ("region", "in a replica per region"),
            ("token", "in a signed token"),
        ),
        live=True,
    ),
    IntParam("processes", "Serving processes per site", 2, 1, 4),
    IntParam("origin_capacity", "Origin capacity", 250, 50, 1000, 10, "req/s", live=True),
    IntParam("load_rps", "Load test rate", 300, 50, 1000, 10, "req/s", live=True),
    ChoiceParam(
        "health_checks",
        "External health checks from",
        "datacentres",
        (
            ("datacentres", "well-connected data centres"),
            ("last_mile", "a probe in every last-mile area"),
        ),
        live=True,
    ),
)

_WARM = 30.0
"""Seconds before the scripted fault: long enough for the caches to fill."""

SCENARIOS = (
    Scenario(
        name="normalisation-off",
        title="Vary: User-Agent fragments the cache",
        caption=(
            "Articles vary on User-Agent and Accept-Language, and readers send dozens of "
            "different user-agent strings, language lists and tracking parameters. Every "
            "combination is its own cache entry, so the edge rungs rarely hold the one a "
            "request needs: look at the hit ratio per rung and at origin requests per "
            "second. Tick 'Normalise requests at the edge' and watch the edge hit ratios climb."
        ),
        params={"normalise": False},
        preview_steps=300,
        record_steps=250,
    ),
    Scenario(
        name="normalisation-on",
        title="Normalised: device class and language",
        caption=(
            "The same readers, but the edge function first maps the user agent to one of "
            "three device classes, Accept-Language to one of the site's three languages and "
            "drops tracking parameters. Nine variants per article instead of hundreds: the "
            "last mile, ISP and city rungs hit far more often, and the origin sees fewer "
            "requests and sends fewer bytes."
        ),
        params={"normalise": True},
        preview_steps=300,
        record_steps=250,
    ),
    Scenario(
        name="origin-outage",
        title="The origin goes down, no stale-if-error",
        caption=(
            f"At {_WARM:g} s the origin answers 503 to everything. Static files stay fresh "
            "for a day and are still served, but articles go stale after 30 s and every "
            "cache must revalidate them; without stale-if-error the 503 goes to the reader. "
            "Watch the error share rise. Tick stale-if-error to compare."
        ),
        params={"normalise": True, "stale_if_error": False},
        script=(Cue(_WARM, "origin_down"),),
        preview_steps=400,
        record_steps=250,
    ),
    Scenario(
        name="origin-outage-stale-if-error",
        title="The same outage with stale-if-error",
        caption=(
            "Articles now carry stale-if-error=600: when revalidation gets a 503, a cache "
            "that holds a stale copy may serve it for ten more minutes (RFC 5861). Far fewer "
            "readers see errors; what still fails is what no cache on the path holds (the "
            "cart, account pages, articles nobody nearby read lately). The timeline marks "
            "the first stale answer. Switch article freshness to s-maxage and the shared "
            "caches stop: s-maxage forbids serving stale."
        ),
        params={"normalise": True, "stale_if_error": True},
        script=(Cue(_WARM, "origin_down"),),
        preview_steps=400,
        record_steps=250,
    ),
    Scenario(
        name="load-test-origin-dc",
        title="A load test from the origin's data centre",
        caption=(
            f"At {_WARM:g} s a load test sends 300 req/s from a generator next to the "
            "origin. It goes straight to the origin: no caches, no edge functions, no last "
            "mile. The origin, sized for 250 req/s, saturates: the test reports slow answers "
            "and errors, readers' cache misses start failing too, and nothing is learnt "
            "about the edge."
        ),
        params={"normalise": True},
        script=(Cue(_WARM, "start_load_test", "origin_dc"),),
        preview_steps=300,
        record_steps=250,
    ),
    Scenario(
        name="load-test-far-edge",
        title="The same load test from the far edge",
        caption=(
            "The same 300 req/s, but sent from behind the last-mile areas like real readers. "
            "The caches absorb most of it and the origin hardly notices; the latency the "
            "test reports includes the last mile and the paywall's subscription fetches, "
            "which only a test from the edge can see."
        ),
        params={"normalise": True},
        script=(Cue(_WARM, "start_load_test", "far_edge"),),
        preview_steps=300,
        record_steps=250,
    ),
    Scenario(
        name="last-mile-failure",
        title="Health checks miss a last-mile failure",
        caption=(
            f"At {_WARM:g} s the last mile syd-a1 fails: its readers get only what their "
            "own browser cache holds. The external health checks run from well-connected "
            "data centres, reach the city rung directly and keep passing; the timeline "
            "marks the round that missed it. Switch the checks to a probe in every "
            "last-mile area and the next round raises the alert."
        ),
        params={"normalise": True},
        script=(Cue(_WARM, "break_last_mile", "syd-a1"),),
        preview_steps=300,
        record_steps=250,
    ),
)

DEMO = Demo(
    name="edge_cache",
    title="Caches on every rung: the edge ladder",
    summary=(
        "Readers request articles through a ladder of HTTP caches (client, last mile, ISP, "
        "city data centre, continental region, origin), landing on different rungs and "
        "processes each time. Normalise requests, take the origin down, load test from the "
        "wrong place and watch health checks miss a last-mile failure."
    ),
    talk="srecon19apac/edge-computing",
    params=PARAMS,
    actions=(
        Action("origin_down", "Take the origin down"),
        Action("origin_up", "Bring the origin back"),
        Action("break_last_mile", "Break a last mile", _AREAS),
        Action("heal_last_mile", "Heal a last mile", _AREAS),
        Action("start_load_test", "Start a load test", tuple(LOAD_SOURCES.items())),
        Action("stop_load_test", "Stop the load test"),
        Action("purge", "Purge the shared caches"),
    ),
    scenarios=SCENARIOS,
    create=create,
    render=view.render,
    seed=19,
    steps_per_second=10.0,
    step_label="200 ms",
    time_unit="s",
    version=1,
    notable=(
        Notable("origin_down", "the origin went down"),
        Notable("origin_up", "the origin came back"),
        Notable("served_stale", "a cache served stale-if-error"),
        Notable("users_see_errors", "readers started getting errors"),
        Notable("last_mile_broken", "a last mile failed"),
        Notable("health_check_missed", "health checks passed while readers failed"),
        Notable("health_check_alert", "a health check failed"),
        Notable("load_test_started", "a load test started"),
        Notable("purged", "the shared caches were purged"),
    ),
)
