"""The edge demo's HTTP cache against RFC 9111 (HTTP Caching) and RFC 5861 (stale-while-
revalidate, stale-if-error). Each test cites the clause it checks; exact traces first,
then hypothesis properties of what HTTP caching guarantees.

RFC 9111: https://www.rfc-editor.org/rfc/rfc9111 · RFC 5861: https://www.rfc-editor.org/rfc/rfc5861
"""

from __future__ import annotations

import inspect
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.edge_cache.http_cache import (
    EPOCH,
    FRESH,
    MISS,
    STALE_WHILE_REVALIDATE,
    UNREACHABLE,
    VALIDATE,
    HttpCache,
    Request,
    Response,
    Stored,
    _restore,
    corrected_initial_age,
    current_age,
    freshness_lifetime,
    http_date,
    parse_cache_control,
    parse_http_date,
    storable,
)


def get(url: str = "/a", **headers: str) -> Request:
    return Request(url, {k.replace("_", "-"): v for k, v in headers.items()})


def ok(
    cache_control: str | None = None, size: int = 1000, date: float = 0.0, **headers
) -> Response:
    fields = {k.replace("_", "-"): v for k, v in headers.items()}
    fields["date"] = http_date(date)
    if cache_control is not None:
        fields["cache-control"] = cache_control
    return Response(200, fields, size)


# --- parsing ------------------------------------------------------------------------------------


def test_cache_control_names_are_case_insensitive_and_arguments_unquoted():
    """§5.2: directive names are case-insensitive; arguments may be quoted strings."""
    assert parse_cache_control('Max-Age="60", PUBLIC, no-cache') == {
        "max-age": "60",
        "public": None,
        "no-cache": None,
    }


def test_a_repeated_directive_counts_once_first_occurrence():
    """§4.2.1: with more than one value for a directive, use the first (or call it stale)."""
    assert parse_cache_control("max-age=60, max-age=5")["max-age"] == "60"


def test_unknown_directives_are_ignored():
    """§5.2.3: a cache MUST ignore unrecognised directives."""
    directives = parse_cache_control("max-age=60, frobnicate=7")
    assert freshness_lifetime(directives, {}, 0.0, shared=True) == 60.0


def test_http_dates_in_all_three_forms():
    """RFC 9110 §5.6.7: a recipient MUST accept IMF-fixdate, RFC 850 and asctime forms."""
    assert http_date(0) == "Thu, 13 Jun 2019 00:00:00 GMT"
    assert parse_http_date("Thu, 13 Jun 2019 00:00:30 GMT") == 30.0
    assert parse_http_date("Thursday, 13-Jun-19 00:00:30 GMT") == 30.0
    assert parse_http_date("Thu Jun 13 00:00:30 2019") == 30.0
    assert parse_http_date("0") is None
    assert parse_http_date("Thu, 13 Jun 2019 24:00:00 GMT") is None
    # A two-digit year more than 50 years ahead is the most recent such year in the past.
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == parse_http_date(
        "Sun Nov  6 08:49:37 1994"
    )
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777 - EPOCH
    assert EPOCH == 1560384000


# --- storing (§3) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_headers", "cache_control", "shared", "stored", "why"),
    [
        ({}, "max-age=60", True, True, "§3 storable"),
        ({}, "no-store, max-age=60", True, False, "§5.2.2.5"),
        ({"cache-control": "no-store"}, "max-age=60", True, False, "§5.2.1.5"),
        ({}, "private, max-age=60", True, False, "§5.2.2.7"),
        ({}, "private, max-age=60", False, True, "§3 storable"),
        ({"authorization": "Bearer x"}, "max-age=60", True, False, "§3.5"),
        ({"authorization": "Bearer x"}, "public, max-age=60", True, True, "§3 storable"),
        ({"authorization": "Bearer x"}, "s-maxage=60", True, True, "§3 storable"),
        ({"authorization": "Bearer x"}, "must-revalidate", True, True, "§3 storable"),
        ({"authorization": "Bearer x"}, "max-age=60", False, True, "§3 storable"),
    ],
)
def test_what_may_be_stored(request_headers, cache_control, shared, stored, why):
    """§3: not no-store (response §5.2.2.5, request §5.2.1.5); not private in a shared
    cache (§5.2.2.7); with Authorization only under public, s-maxage or must-revalidate
    (§3.5)."""
    verdict, reason = storable(Request("/a", request_headers), ok(cache_control), shared)
    assert (verdict, reason.split(" ")[0]) == (stored, why.split(" ")[0])


def test_a_200_without_explicit_freshness_is_stored_but_stale_at_once():
    """§3 (a status code heuristically cacheable, RFC 9110 §15.1) and §4.2.2: we model no
    heuristic freshness, so such a response is stored and validated on every use."""
    cache = HttpCache(shared=True, capacity=8)
    stored = cache.store(get(), ok(etag='"v1"'), 0.0, 0.0)
    assert stored is not None and stored.lifetime == 0
    assert cache.lookup(get(), 0.0).outcome == VALIDATE


def test_errors_partial_and_vary_star_are_not_stored():
    """§3: a 503 without explicit freshness is not heuristically cacheable; a 206 is
    partial; §4.1: Vary: * never matches a later request, so storing it is pointless."""
    cache = HttpCache(shared=True, capacity=8)
    assert cache.store(get(), Response(503, {"date": http_date(0)}), 0.0, 0.0) is None
    assert cache.store(get(), Response(206, {"cache-control": "max-age=60"}, 10), 0.0, 0.0) is None
    assert cache.store(get(), ok("max-age=60", vary="*"), 0.0, 0.0) is None
    assert len(cache) == 0


# --- freshness (§4.2.1) and age (§4.2.3) ----------------------------------------------------------


def test_s_maxage_wins_in_shared_caches_only():
    """§4.2.1 (and §5.2.2.10): s-maxage for a shared cache, else max-age."""
    directives = parse_cache_control("max-age=10, s-maxage=300")
    assert freshness_lifetime(directives, {}, 0.0, shared=True) == 300.0
    assert freshness_lifetime(directives, {}, 0.0, shared=False) == 10.0


def test_max_age_beats_expires_and_expires_counts_from_date():
    """§4.2.1: max-age over Expires; else Expires − Date."""
    headers = {"expires": http_date(100), "date": http_date(40)}
    assert freshness_lifetime(parse_cache_control("max-age=5"), headers, 40.0, True) == 5.0
    assert freshness_lifetime({}, headers, 40.0, True) == 60.0


def test_an_invalid_or_past_expires_is_stale():
    """§5.3: an invalid date, especially "0", means a time in the past."""
    assert freshness_lifetime({}, {"expires": "0"}, 40.0, True) == 0.0
    assert freshness_lifetime({}, {"expires": http_date(10)}, 40.0, True) == 0.0


def test_invalid_max_age_is_stale():
    """§4.2.1: caches are encouraged to treat invalid freshness information as stale."""
    assert freshness_lifetime(parse_cache_control("max-age=soon"), {}, 0.0, True) == 0.0


def test_current_age_term_by_term():
    """§4.2.3: apparent_age = max(0, response_time − date_value) = 3; response_delay =
    0.5; corrected_age_value = Age 10 + 0.5; corrected_initial_age = max(3, 10.5);
    current_age = 10.5 + resident 20 = 30.5."""
    assert corrected_initial_age(10, 97.0, 99.5, 100.0) == 10.5
    assert current_age(10, 97.0, 99.5, 100.0, 120.0) == 30.5
    assert current_age(0, 90.0, 99.5, 100.0, 100.0) == 10.0  # a Date 10 s old: apparent age


def test_fresh_then_stale_at_exactly_the_lifetime_with_age_on_every_reuse():
    """§4.2: fresh while freshness_lifetime > current_age (so stale at equality); §5.1:
    the cache sends Age on every reuse, the whole seconds of current_age."""
    cache = HttpCache(shared=True, capacity=8)
    cache.store(get(), ok("max-age=30", etag='"v1"'), 0.0, 0.0)
    trace = []
    for now in (0.0, 12.7, 29.9, 30.0):
        look = cache.lookup(get(), now)
        age = cache.answer(get(), look.stored, now).headers["age"]
        trace.append((now, look.outcome, age))
    assert trace == [
        (0.0, FRESH, "0"),
        (12.7, FRESH, "12"),
        (29.9, FRESH, "29"),
        (30.0, VALIDATE, "30"),
    ]


def test_an_upstream_age_and_the_transit_count_downstream():
    """§4.2.3: a response that arrives with Age: 25 after 0.1 s in transit is 25.1 s old
    on arrival; with max-age=30 it is stale 4.9 s later."""
    cache = HttpCache(shared=True, capacity=8)
    stored = cache.store(get(), ok("max-age=30", date=0.0, age="25"), 24.9, 25.0)
    assert stored.initial_age == pytest.approx(25.1)
    assert cache.lookup(get(), 29.8).outcome == FRESH
    assert cache.lookup(get(), 29.9).outcome == VALIDATE


# --- validation (§4.3) ------------------------------------------------------------------------------


def test_revalidation_with_if_none_match_and_a_304_freshens_the_stored_response():
    """§4.3.1: validate a stale response with If-None-Match from its ETag; §4.3.4: a 304
    updates the stored header fields and freshness, and the stored body is served."""
    cache = HttpCache(shared=True, capacity=8)
    cache.store(get(), ok("max-age=30", size=5000, etag='"v1"', date=0.0), 0.0, 0.0)
    look = cache.lookup(get(), 40.0)
    assert look.outcome == VALIDATE
    upstream = cache.conditional(get(), look.stored)
    assert upstream.headers["if-none-match"] == '"v1"'
    not_modified = Response(
        304, {"etag": '"v1"', "cache-control": "max-age=60", "date": http_date(40)}
    )
    updated = cache.freshen(look.key, look.stored, not_modified, 40.0, 40.2, upstream)
    assert (updated.lifetime, updated.size, updated.headers["cache-control"]) == (
        60,
        5000,
        "max-age=60",
    )
    assert updated.fields()["date"] == "Thu, 13 Jun 2019 00:00:40 GMT"
    again = cache.lookup(get(), 41.0)
    assert again.outcome == FRESH and again.stored is updated
    answer = cache.answer(get(), again.stored, 41.0)
    assert (answer.status, answer.size, answer.headers["age"]) == (200, 5000, "1")


def test_a_304_for_another_etag_updates_nothing():
    """§4.3.4: only stored responses with the same validator are selected for update."""
    cache = HttpCache(shared=True, capacity=8)
    cache.store(get(), ok("max-age=30", etag='"v1"'), 0.0, 0.0)
    look = cache.lookup(get(), 40.0)
    not_modified = Response(304, {"etag": '"v2"'})
    assert cache.freshen(look.key, look.stored, not_modified, 40.0, 40.0, get()) is None


def test_a_new_200_replaces_the_stored_response():
    """§4.3.3: a full response to a conditional request replaces the stored one."""
    cache = HttpCache(shared=True, capacity=8)
    cache.store(get(), ok("max-age=30", size=10, etag='"v1"'), 0.0, 0.0)
    cache.store(get(), ok("max-age=30", size=20, etag='"v2"', date=40.0), 40.0, 40.0)
    look = cache.lookup(get(), 41.0)
    assert (look.outcome, look.stored.etag, look.stored.size, len(cache)) == (FRESH, '"v2"', 20, 1)


def test_a_cache_answers_a_clients_own_if_none_match_with_a_304():
    """§4.3.2: a cache with a fresh stored response whose ETag matches answers 304, with
    the fields a 200 would carry (RFC 9110 §15.4.5) and Age, and no body. Weak
    comparison: W/ is ignored (RFC 9110 §13.1.2)."""
    cache = HttpCache(shared=True, capacity=8)
    cache.store(get(), ok("max-age=30", size=5000, etag='"v1"', vary="User-Agent"), 0.0, 0.0)
    look = cache.lookup(get(), 3.0)
    answer = cache.answer(get(if_none_match='W/"v1"'), look.stored, 3.0)
    assert answer.status == 304 and answer.size == 0
    assert sorted(answer.headers) == ["age", "cache-control", "date", "etag", "vary"]
    assert cache.answer(get(if_none_match='"v0"'), look.stored, 3.0).status == 200


def test_the_clients_validators_are_not_forwarded():
    """§4.3.2: the cache handles the client's conditional itself and validates its own
    stored response upstream (§4.3.1)."""
    cache = HttpCache(shared=True, capacity=8)
    assert "if-none-match" not in cache.conditional(get(if_none_match='"x"'), None).headers


# --- Vary (§4.1) -----------------------------------------------------------------------------------


def test_vary_splits_the_cache_key():
    """§4.1: a stored response is reused only if every field named by Vary matches; an
    absent field matches only an absent one; whitespace around a value does not count."""
    cache = HttpCache(shared=True, capacity=8)
    cache.store(get(user_agent="A"), ok("max-age=60", vary="User-Agent"), 0.0, 0.0)
    assert cache.lookup(get(user_agent="A"), 1.0).outcome == FRESH
    assert cache.lookup(get(user_agent="  A "), 1.0).outcome == FRESH
    assert cache.lookup(get(user_agent="B"), 1.0).outcome == MISS
    assert cache.lookup(get(), 1.0).outcome == MISS
    cache.store(get(user_agent="B"), ok("max-age=60", vary="user-agent"), 1.0, 1.0)
    assert len(cache) == 2  # one entry per user agent: the fragmentation of Vary: User-Agent


# --- stale (§4.2.4, RFC 5861) ---------------------------------------------------------------------


def test_stale_while_revalidate_only_inside_its_window():
    """RFC 5861 §3: serve stale for up to N s after it becomes stale, revalidating in the
    background; past the window it must be validated first."""
    cache = HttpCache(shared=True, capacity=8)
    cache.store(get(), ok("max-age=30, stale-while-revalidate=10", etag='"v1"'), 0.0, 0.0)
    outcomes = [cache.lookup(get(), now).outcome for now in (29.0, 30.0, 40.0, 40.5)]
    assert outcomes == [FRESH, STALE_WHILE_REVALIDATE, STALE_WHILE_REVALIDATE, VALIDATE]


@pytest.mark.parametrize(
    ("cache_control", "shared", "allowed"),
    [
        ("max-age=30, stale-if-error=60", True, True),
        ("max-age=30", True, False),
        ("max-age=30, stale-if-error=60, must-revalidate", True, False),
        ("max-age=30, stale-if-error=60, proxy-revalidate", True, False),
        ("max-age=30, stale-if-error=60, proxy-revalidate", False, True),
        ("max-age=5, s-maxage=30, stale-if-error=60", True, False),
        ("max-age=30, s-maxage=30, stale-if-error=60", False, True),
        ("max-age=30, stale-if-error=60, no-cache", True, False),
    ],
)
def test_stale_if_error_and_what_forbids_it(cache_control, shared, allowed):
    """RFC 5861 §4: after an error, stale for up to N s (MAY). RFC 9111 §4.2.4: never
    under must-revalidate (§5.2.2.2) or no-cache (§5.2.2.4); in a shared cache never under
    proxy-revalidate (§5.2.2.8) or s-maxage (§5.2.2.10, it implies proxy-revalidate)."""
    cache = HttpCache(shared=shared, capacity=8)
    stored = cache.store(get(), ok(cache_control, etag='"v1"'), 0.0, 0.0)
    assert cache.may_serve_stale_on_error(stored, 80.0) is allowed
    assert cache.may_serve_stale_on_error(stored, 100.0) is False  # past the window


# --- request directives (§5.2.1) -----------------------------------------------------------------


def test_request_no_cache_and_max_age_force_validation_and_response_no_cache_too():
    """§5.2.1.4 request no-cache; §5.2.1.1 request max-age=5 refuses a 10 s old response;
    §5.2.2.4 response no-cache: validate before every reuse."""
    cache = HttpCache(shared=True, capacity=8)
    cache.store(get(), ok("max-age=60", etag='"v1"'), 0.0, 0.0)
    assert cache.lookup(get(cache_control="no-cache"), 10.0).outcome == VALIDATE
    assert cache.lookup(get(cache_control="max-age=5"), 10.0).outcome == VALIDATE
    assert cache.lookup(get(cache_control="max-age=20"), 10.0).outcome == FRESH
    cache.store(get("/b"), ok("no-cache, max-age=60", etag='"v1"'), 0.0, 0.0)
    assert cache.lookup(get("/b"), 1.0).outcome == VALIDATE


# --- the demo's own choices (no RFC clause: a cache MAY evict at any time, §3) -------------------


def test_a_response_on_its_way_is_not_served_before_it_arrives():
    """Our model, not the RFC: a cache stores a response when it arrives (response_time);
    until then the response it replaces answers."""
    cache = HttpCache(shared=True, capacity=8)
    cache.store(get(), ok("max-age=60, stale-while-revalidate=60", etag='"v1"'), 0.0, 0.0)
    cache.store(get(), ok("max-age=60", etag='"v2"', date=70.0), 70.0, 70.3)
    assert cache.lookup(get(), 70.1).stored.etag == '"v1"'
    assert cache.lookup(get(), 70.3).stored.etag == '"v2"'


def test_least_recently_used_goes_first():
    cache = HttpCache(shared=True, capacity=2)
    for url in ("/a", "/b"):
        cache.store(get(url), ok("max-age=60"), 0.0, 0.0)
    cache.lookup(get("/a"), 1.0)
    cache.store(get("/c"), ok("max-age=60"), 1.0, 1.0)
    assert [cache.lookup(get(u), 2.0).outcome for u in ("/a", "/b", "/c")] == [FRESH, MISS, FRESH]


def test_a_cache_survives_a_checkpoint():
    cache = HttpCache(shared=True, capacity=4)
    cache.store(get(user_agent="A"), ok("max-age=60", vary="User-Agent", etag='"v"'), 0.0, 0.5)
    copy = pickle.loads(pickle.dumps(cache))
    assert copy.lookup(get(user_agent="A"), 3.0).stored.age(3.0) == cache.lookup(
        get(user_agent="A"), 3.0
    ).stored.age(3.0)
    assert copy.count == cache.count
    stored, restored = cache.entries, copy.entries
    for key in stored:  # every field comes back in its own slot
        for name in Stored.__slots__:  # (``previous`` is None here: one store)
            assert getattr(restored[key], name) == getattr(stored[key], name), name
    assert tuple(inspect.signature(_restore).parameters) == Stored.__slots__


# --- properties ------------------------------------------------------------------------------------

DIRECTIVES = st.lists(
    st.sampled_from(
        [
            "max-age=0", "max-age=5", "max-age=30", "s-maxage=20", "no-store", "private",
            "public", "no-cache", "must-revalidate", "proxy-revalidate",
            "stale-while-revalidate=10", "stale-if-error=30",
        ]
    ),
    max_size=4,
)  # fmt: skip
STEP = st.tuples(
    st.floats(min_value=0.0, max_value=20.0, allow_nan=False),  # time passes
    st.sampled_from(["A", "B", None]),  # the request's User-Agent
    DIRECTIVES,  # what the origin sends next
    st.booleans(),  # the response varies on User-Agent
    st.sampled_from([200, 200, 200, 503, UNREACHABLE]),  # the origin's mood
    st.booleans(),  # the origin's content changed (a new ETag)
    st.floats(min_value=0.0, max_value=0.5, allow_nan=False),  # time in transit
)


def _drive(shared: bool, steps) -> None:
    """A cache in front of an origin, checked against RFC 9111 at every request."""
    cache = HttpCache(shared=shared, capacity=3)
    now, version = 0.0, 0
    stored_for: dict[int, Request] = {}
    """id of a stored response → the request it was stored for."""
    for wait, ua, directives, varies, status, changed, transit in steps:
        now += wait
        version += changed
        request = get() if ua is None else get(user_agent=ua)
        look = cache.lookup(request, now)
        stored = look.stored
        if stored is not None:
            origin_request = stored_for[id(stored)]
            # §4.1: selected only if every Vary'd field matches the request it was stored for.
            for name in [
                n.strip().lower() for n in stored.headers.get("vary", "").split(",") if n.strip()
            ]:
                assert request.headers.get(name) == origin_request.headers.get(name)
            staleness = stored.staleness(now)
            forbids = "no-cache" in stored.directives
            if staleness < 0 and not forbids:
                assert look.outcome == FRESH, "§4.2: a fresh response is not revalidated"
            if look.outcome == FRESH:
                assert staleness < 0 and not forbids
            if look.outcome == STALE_WHILE_REVALIDATE:
                window = int(stored.directives["stale-while-revalidate"])
                assert 0 <= staleness <= window, "RFC 5861 §3: only inside the window"
                assert cache.may_serve_stale(stored)
        if look.outcome == FRESH:
            continue
        upstream = cache.conditional(request, stored)
        sent, arrived = now, now + transit
        if status != 200:
            if stored is not None and cache.may_serve_stale_on_error(stored, arrived):
                directives_now = stored.directives
                assert "must-revalidate" not in directives_now and "no-cache" not in directives_now
                if shared:
                    assert (
                        "s-maxage" not in directives_now
                        and "proxy-revalidate" not in directives_now
                    )
                assert stored.staleness(arrived) <= int(directives_now["stale-if-error"])
            continue
        etag = f'"v{version}"'
        fields = {"etag": etag, "date": http_date(arrived)}
        if directives:
            fields["cache-control"] = ", ".join(directives)
        if varies:
            fields["vary"] = "User-Agent"
        if upstream.headers.get("if-none-match") == etag and stored is not None:
            updated = cache.freshen(
                look.key, stored, Response(304, fields), sent, arrived, upstream
            )
            assert updated is not None and updated.size == stored.size
            assert updated.fields()["date"] == fields["date"], "§4.3.4: the 304's fields win"
            stored_for[id(updated)] = upstream
            answer = cache.answer(request, updated, arrived)
            assert answer.status == 200 and answer.size == stored.size
            continue
        response = Response(200, fields, 100 + version)
        kept = cache.store(upstream, response, sent, arrived)
        cc = parse_cache_control(fields.get("cache-control"))
        if "no-store" in cc or (shared and "private" in cc):
            assert kept is None, "§3: no-store is never stored, private not in a shared cache"
        if kept is not None:
            stored_for[id(kept)] = upstream
        for entry in cache.entries.values():
            assert "no-store" not in entry.directives
            assert not (shared and "private" in entry.directives)


@settings(max_examples=150, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=30))
def test_a_shared_cache_keeps_the_rfcs_guarantees(steps):
    _drive(True, steps)


@settings(max_examples=100, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=30))
def test_a_private_cache_keeps_the_rfcs_guarantees(steps):
    _drive(False, steps)
