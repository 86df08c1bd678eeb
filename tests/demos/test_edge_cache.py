"""The edge demo: the ladder of the talk ("Edge Computing: The Next Frontier for
Distributed Systems", Martin Barry, SREcon19 Asia/Pacific) with an RFC 9111 cache on every
rung. Exact traces of one request down the ladder (RFC clauses cited), then the demo's
claims per scenario, then what the platform needs (marks, values, bounded state).

The rules themselves are tested in ``test_edge_cache_http.py``.
"""

from __future__ import annotations

import pickle
import random

import pytest

from demokit import Runner
from demos.edge_cache import DEMO, core
from demos.edge_cache.core import (
    AREA_PATHS,
    CITY,
    CLIENT,
    HITS,
    ISP,
    LAST_MILE,
    LOOKUPS,
    ORIGIN,
    REGION,
    STALE,
    EdgeSimulation,
    language,
    normalise,
)
from demos.edge_cache.http_cache import HttpCache, Request


class Halves(random.Random):
    """A generator whose random() is always 0.5: the origin takes exactly 40 ms."""

    def random(self) -> float:
        return 0.5


def quiet(**params) -> EdgeSimulation:
    """A simulation whose readers send nothing unless a test asks."""
    sim = DEMO.create(DEMO.resolve(params), random.Random(1))
    sim.next_user = sim.next_check = 1e9
    sim.rng = Halves()
    return sim


def ladder(sim: EdgeSimulation, entry: int = LAST_MILE, area: int = 0, process: int = 0):
    path = AREA_PATHS[area]
    hops = [(CLIENT, sim.clients[0].cache, 0)]
    for tier in range(entry, ORIGIN):
        hops.append((tier, sim.caches[tier][path.sites[tier]][process], process))
    hops.append((ORIGIN, None, 0))
    return path, hops


def article(i: int = 0, ua: str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/74", lang="en-AU,en"):
    return Request(
        f"/news/{i}", {"user-agent": ua, "accept-language": lang, "cookie": "session=u0"}
    )


def window_ratio(sim: EdgeSimulation, tier: int) -> float:
    w = sim.window()
    return (w[HITS + tier] + w[STALE + tier]) / w[LOOKUPS + tier]


def run(scenario: str, steps: int, **params) -> Runner:
    runner = Runner(DEMO, scenario, params=params)
    runner.step(steps)
    return runner


def values(runner: Runner) -> dict[str, float]:
    return {name: number for name, number, _ in runner.frame().values}


def marks(runner: Runner) -> list[str]:
    """The notable events (the runner also marks the script's cues)."""
    return [mark.name for mark in runner.marks if mark.kind == "event"]


# --- one request down the ladder: exact traces ----------------------------------------------------


def test_a_first_request_misses_every_rung_and_each_stores_it_on_arrival():
    """RFC 9111 §3: each rung stores the 200 (max-age=30, no private, no no-store); §4.2.3:
    each counts its age from when the response reached it; §5.1: each sends Age
    downstream. One way: client → last mile 4 ms → ISP 3 → city 3 → Singapore 45 → origin
    1 ms; the origin takes 40 ms when idle, 40 / (1 − 5/250) at 5 req/s against its 250
    (one request in the last 0.2 s). Back at the reader after 2 × 56 ms + that."""
    sim = quiet()
    path, hops = ladder(sim)
    response, back, where = sim._fetch(path, hops, 0, article(), 0.0)
    assert (response.status, response.headers["age"], where[0]) == (200, "0", ORIGIN)
    service = 40 / (1 - 5 / 250)
    assert back * 1000 == pytest.approx(112 + service)
    arrived = {}
    for tier, cache, _ in hops[:-1]:
        (stored,) = cache.entries.values()
        arrived[tier] = round(stored.response_time * 1000 - service, 6)
    assert arrived == {REGION: 57.0, CITY: 102.0, ISP: 105.0, LAST_MILE: 108.0, CLIENT: 112.0}


def test_the_next_request_is_a_hit_at_the_client_then_at_the_rung_it_lands_on():
    """§4.2: fresh while freshness_lifetime (30 s) > current_age. The reader's own cache
    answers first; another reader's request that enters at the city rung, on the process
    that holds it, is a hit there with Age from that cache (§5.1): 12 s, since the
    apparent age counts from the whole-second Date, 00:00:00 (§4.2.3)."""
    sim = quiet()
    path, hops = ladder(sim)
    sim._fetch(path, hops, 0, article(), 0.0)
    response, back, where = sim._fetch(path, hops, 0, article(), 10.0)
    assert (where[0], where[3], back) == (CLIENT, "hit", 10.0)
    other = Request(
        "/news/0",
        {"user-agent": article().headers["user-agent"], "accept-language": "en-AU,en"},
    )
    city_hops = [hop for hop in hops if hop[0] >= CITY]
    response, back, where = sim._fetch(path, city_hops, 0, other, 12.0)
    assert (where[0], where[3], response.headers["age"]) == (CITY, "hit", "12")
    assert back == pytest.approx(12.02)


def test_a_stale_rung_revalidates_with_if_none_match_and_serves_its_own_body():
    """§4.3.1: stale after 30 s, the last mile sends If-None-Match with its ETag; the
    upstream rungs are stale too, so the origin answers 304 (the article has not been
    edited) and each rung freshens its stored response (§4.3.4); no body comes from the
    origin."""
    sim = quiet()
    path, hops = ladder(sim)
    sim._fetch(path, hops, 0, article(), 0.0)
    bytes_before = sim.totals["origin_bytes"]
    no_client = hops[1:]
    response, _, where = sim._fetch(path, no_client, 0, article(), 40.0)
    assert (response.status, where[0], where[3]) == (200, LAST_MILE, "revalidated (304)")
    assert sim.totals["origin_bytes"] == bytes_before
    assert sim.bucket[core.VALIDATED + LAST_MILE] == 1 and sim.bucket[core.VALIDATED + REGION] == 1


def test_vary_user_agent_misses_for_another_browser_unless_normalised():
    """§4.1: the article varies on User-Agent and Accept-Language: another browser build
    misses at the last mile. The edge function maps both to a device class and a
    language first, and then the second reader hits."""
    for normalised, outcome in ((False, "200"), (True, "hit")):
        sim = quiet(normalise=normalised)
        path, hops = ladder(sim)
        first = article(ua="Mozilla/5.0 (X11; Linux x86_64) Chrome/74.0.3729.131")
        second = article(ua="Mozilla/5.0 (X11; Linux x86_64) Chrome/74.0.3729.169")
        sim._fetch(path, hops[1:], 0, first, 0.0)
        _, _, where = sim._fetch(path, hops[1:], 0, second, 1.0)
        assert where[3] == outcome, normalised


def test_normalisation_is_a_table_every_process_has():
    request = normalise(
        Request(
            "/news/3?utm_source=s2",
            {"user-agent": "Mozilla/5.0 (iPad; CPU OS 12_3 like Mac OS X)", "accept-language": "id-ID,id;q=0.9,ja;q=0.8"},
        )
    )  # fmt: skip
    assert (request.url, request.headers["user-agent"], request.headers["accept-language"]) == (
        "/news/3",
        "tablet",
        "ja",
    )
    assert language("de-DE,de;q=0.9,zh;q=0.4,en;q=0.5") == "en"  # RFC 9110 §12.5.4 weights


def test_the_paywall_pays_for_the_subscription_where_it_is_not():
    """Per-user state: a premium article (every fourth) needs the reader's subscription.
    From the Sydney last mile the origin is 56 − 4 = 52 ms one way: a fetch costs
    2 × 52 + 2 ms; the Singapore replica 2 × 51 + 2; a signed token nothing. A second
    request on the same process finds it remembered."""
    costs = {}
    for where in ("origin", "region", "token"):
        sim = quiet(paywall_state=where)
        path = AREA_PATHS[0]
        first = sim._subscription_lookup(7, 0.0, path, LAST_MILE, 0, 0)
        again = sim._subscription_lookup(7, 1.0, path, LAST_MILE, 0, 0)
        other_process = sim._subscription_lookup(7, 1.0, path, LAST_MILE, 0, 1)
        costs[where] = (round(first * 1000, 3), again, round(other_process * 1000, 3))
    assert costs == {
        "origin": (106.0, 0.0, 106.0),
        "region": (104.0, 0.0, 104.0),
        "token": (0.0, 0.0, 0.0),
    }


def test_private_responses_stay_in_the_readers_own_cache_and_no_store_nowhere():
    """§5.2.2.7: /account is private (only the client's cache keeps it); §5.2.2.5: the
    cart is no-store (nobody keeps it)."""
    sim = quiet()
    path, hops = ladder(sim)
    for url in ("/account", "/api/cart"):
        sim._fetch(path, hops, 0, Request(url, {"cookie": "session=u0"}), 0.0)
    shared = [cache for tier, cache, _ in hops[1:-1]]
    assert all(len(cache) == 0 for cache in shared)
    assert [key[0] for key in hops[0][1].entries] == ["/account"]


# --- the scenarios' claims ------------------------------------------------------------------------


def test_normalisation_raises_the_edge_hit_ratios_and_cuts_the_origins_work():
    """The same readers and seed: with normalisation the last mile, ISP and city rungs
    hit more, the origin gets fewer requests and sends fewer bytes."""
    off, on = run("normalisation-off", 400), run("normalisation-on", 400)
    for tier in (LAST_MILE, ISP, CITY):
        assert window_ratio(on.sim, tier) > window_ratio(off.sim, tier) + 0.05, tier
    v_off, v_on = values(off), values(on)
    assert v_on["origin_requests"] < 0.7 * v_off["origin_requests"]
    assert v_on["origin_bytes_total"] < 0.7 * v_off["origin_bytes_total"]
    assert v_on["latency_p50"] < v_off["latency_p50"]


def test_an_origin_outage_without_stale_if_error_hands_readers_the_503():
    runner = run("origin-outage", 400)  # 80 s: 50 s into the outage
    assert marks(runner)[:2] == ["origin_down", "users_see_errors"]
    assert values(runner)["reader_errors"] > 50
    assert runner.sim.totals["stale_on_error"] == 0


def test_stale_if_error_serves_stale_articles_through_the_outage():
    """RFC 5861 §4: a cache holding a stale article serves it when revalidation gets a
    503, for up to 600 s. Fewer errors, and the timeline marks the first one."""
    without, with_ = run("origin-outage", 400), run("origin-outage-stale-if-error", 400)
    assert "served_stale" in marks(with_) and "served_stale" not in marks(without)
    assert values(with_)["reader_errors"] < values(without)["reader_errors"] - 20
    assert with_.sim.totals["stale_on_error"] > 100


def test_s_maxage_forbids_shared_caches_to_serve_stale_on_error():
    """RFC 9111 §5.2.2.10: s-maxage implies proxy-revalidate for shared caches, so
    stale-if-error only still works in the reader's own (private) cache."""
    runner = run("origin-outage-stale-if-error", 400, page_freshness="s-maxage")
    w = runner.sim.window()
    assert [w[STALE + tier] for tier in (LAST_MILE, ISP, CITY, REGION)] == [0, 0, 0, 0]
    assert "served_stale" not in marks(runner)


def test_a_load_test_from_the_origins_data_centre_overloads_the_origin():
    runner = run("load-test-origin-dc", 400)
    v = values(runner)
    assert "load_test_started" in marks(runner)
    assert v["origin_requests"] > 250  # over its capacity
    assert v["load_test_p50"] > 300
    w = runner.sim.window()
    assert w[core.LOAD_ERRORS] > 0.05 * w[core.LOAD_REQUESTS]
    assert all(w[LOOKUPS + tier] < w[core.LOAD_REQUESTS] for tier in (LAST_MILE, ISP, CITY))


def test_the_same_load_test_from_the_far_edge_is_absorbed_and_shows_the_paywall():
    origin_dc, far = run("load-test-origin-dc", 400), run("load-test-far-edge", 400)
    v_dc, v_far = values(origin_dc), values(far)
    assert v_far["origin_requests"] < 250
    assert far.sim.window()[core.LOAD_ERRORS] == 0
    assert v_far["load_test_p50"] < 100 < v_dc["load_test_p50"]
    assert v_far["paywall_state_fetches"] > 2 * v_dc["paywall_state_fetches"]


def test_stale_while_revalidate_answers_at_once_and_refreshes_in_the_background():
    """RFC 5861 §3: inside the window a cache serves the stale article and revalidates
    it in the background; the refreshed copy replaces it when it arrives."""
    runner = run("normalisation-on", 400, stale_while_revalidate=60)
    w = runner.sim.window()
    assert all(w[STALE + tier] > 0 for tier in (LAST_MILE, ISP, CITY))
    assert runner.sim.totals["stale_on_error"] == 0  # the origin is up: these are not errors
    plain = run("normalisation-on", 400)
    assert sum(plain.sim.window()[STALE + tier] for tier in (LAST_MILE, ISP, CITY)) == 0
    assert values(runner)["latency_p50"] <= values(plain)["latency_p50"]
    assert values(runner)["origin_requests"] < values(plain)["origin_requests"]


def test_datacentre_health_checks_miss_a_last_mile_failure():
    runner = run("last-mile-failure", 300)
    assert marks(runner) == ["last_mile_broken", "users_see_errors", "health_check_missed"]
    assert all(passed for _, passed in runner.sim.health)
    assert values(runner)["reader_errors"] > 5


def test_probes_in_every_last_mile_catch_it():
    runner = run("last-mile-failure", 300, health_checks="last_mile")
    assert "health_check_alert" in marks(runner) and "health_check_missed" not in marks(runner)
    failing = [name for name, passed in runner.sim.health if not passed]
    assert failing == ["probe in syd-a1"]


def test_readers_behind_a_broken_last_mile_get_only_their_own_cache():
    runner = run("last-mile-failure", 300)
    followed = [entry for entry in runner.sim.followed if entry[0] > 31.0]  # reader 0 is in syd-a1
    assert followed
    for _t, _url, tier, _site, _process, outcome, _ms, status in followed:
        assert (tier, outcome) == (CLIENT, "hit") or (outcome, status) == ("unreachable", 0)


def test_one_readers_requests_land_on_different_rungs_and_processes():
    """The talk's point: consecutive requests of one client may be answered by
    different rungs, or by different processes of one rung. Reader 0 over 200 s."""
    runner = Runner(DEMO, "normalisation-on")
    seen: list[tuple] = []
    for _ in range(20):
        runner.step(50)
        seen += [entry for entry in runner.sim.followed if entry not in seen]
    answered = {(tier, process) for _t, _u, tier, _site, process, *_ in seen}
    assert {tier for tier, _ in answered} == {CLIENT, LAST_MILE, ISP, CITY, REGION, ORIGIN}
    assert {(ISP, 0), (ISP, 1), (CITY, 0), (CITY, 1)} <= answered


def test_purging_empties_the_shared_caches_and_the_origin_feels_it():
    runner = run("normalisation-on", 300)
    before = values(runner)["origin_requests"]
    runner.act("purge")
    assert all(
        len(c) == 0
        for tier in (LAST_MILE, ISP, CITY, REGION)
        for site in runner.sim.caches[tier]
        for c in site
    )
    runner.step(10)  # 2 s
    assert "purged" in marks(runner)
    last = list(runner.sim.buckets)[-10:]
    assert sum(b[core.ORIGIN_REQUESTS] for b in last) / 2.0 > before


def test_taking_the_origin_down_and_up_by_hand():
    runner = run("normalisation-on", 50)
    runner.act("origin_down")
    runner.step(100)
    runner.act("origin_up")
    runner.step(100)
    assert marks(runner)[:1] == ["origin_down"] and "origin_up" in marks(runner)
    assert runner.sim.history[-1][4] < 0.1  # errors gone once it is back


# --- the platform's needs -------------------------------------------------------------------------


def test_every_mark_is_a_declared_notable_event():
    declared = {notable.name for notable in DEMO.notable}
    seen = set()
    for scenario in DEMO.scenarios:
        seen |= set(marks(run(scenario.name, 300)))
    assert seen <= declared
    assert {"origin_down", "served_stale", "health_check_missed", "load_test_started"} <= seen


def test_every_value_has_a_unit_and_the_metrics_name_the_rungs():
    runner = run("load-test-far-edge", 300)
    frame = runner.frame()
    assert all(unit for _, _, unit in frame.values)
    names = [name for name, _, _ in frame.values]
    assert {
        "hit_ratio_last_mile",
        "origin_requests",
        "latency_p50",
        "latency_p99",
        "origin_bytes",
    } <= set(names)
    labels = dict(frame.metrics)
    assert labels["Hit ratio: city data centre"].endswith("%")
    assert len(frame.metrics) <= 16 and len(frame.values) <= 16


def test_the_picture_says_the_numbers_are_assumed():
    svg = run("normalisation-off", 50).frame().svg
    assert "assumed" in svg and "our assumption, not the talk's" in svg


def test_a_long_run_keeps_going_and_its_state_stays_small():
    runner = Runner(DEMO, "normalisation-off")
    runner.step(3000)
    assert not runner.sim.done
    size = len(pickle.dumps(runner.sim, pickle.HIGHEST_PROTOCOL))
    assert size < 160_000, size


def test_unknown_actions_and_areas_are_refused():
    sim = quiet()
    with pytest.raises(ValueError, match="allowed: syd-a1"):
        sim.act("break_last_mile", "mars")
    with pytest.raises(ValueError, match="unknown action"):
        sim.act("explode", None)


def test_a_client_cache_is_private():
    assert all(isinstance(c.cache, HttpCache) and not c.cache.shared for c in quiet().clients)
