"""The ladder of places a request can be served from, as a discrete-event simulation.

From "Edge Computing: The Next Frontier for Distributed Systems" (Martin Barry,
SREcon19 Asia/Pacific): a request can be answered by the client itself, the last mile,
the ISP, a data centre in a major city (an exchange), a continental region or the
origin, and two requests of one client may land on different rungs, or on different
serving processes of one rung. Here every process of every shared rung has its own
HTTP cache (``http_cache.HttpCache``, RFC 9111 and RFC 5861), every client has its own
private cache, and the edge functions of the talk run at the first shared rung a request
reaches: request normalisation (stateless: a table every process has) and a paywall
(per-user state: the reader's subscription, which lives at the origin, in a regional
replica or in a signed token, and is fetched when a request lands where it is not).

Everything numeric below marked ASSUMPTION is ours, not the talk's: the talk gives the
rungs, not their latencies, traffic or sizes.

Time is simulated seconds. A request is followed hop by hop with the time it reaches
each hop, so every cache stores a response at the moment it arrives there (a response
still on its way is not yet in the cache, see ``HttpCache.lookup``). All randomness
comes from the ``random.Random`` passed in; state is plain data for the runner's
checkpoints; rolling windows and histories are bounded.
"""

from __future__ import annotations

import bisect
import operator
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from demokit import total

from .http_cache import (
    ERROR_STATUSES,
    FRESH,
    STALE_WHILE_REVALIDATE,
    UNREACHABLE,
    HttpCache,
    Request,
    Response,
    http_date,
)

STEP = 0.2
"""Simulated seconds per step."""
MAX_TIME = 86_400.0
"""A run ends after a simulated day."""
WINDOW = 10.0
"""Seconds over which hit ratios and rates are measured."""
WINDOW_STEPS = round(WINDOW / STEP)
HISTORY = 90
"""Seconds of history kept for the charts."""
LATENCY_SAMPLE = 1000
"""Latency percentiles are over the latest this many requests."""

# The rungs of the talk's ladder, bottom up.
CLIENT, LAST_MILE, ISP, CITY, REGION, ORIGIN = range(6)
TIERS = ("client", "last mile", "ISP", "city data centre", "continental region", "origin")
CACHE_TIERS = (CLIENT, LAST_MILE, ISP, CITY, REGION)
EDGE_TIERS = (LAST_MILE, ISP, CITY)
"""Where a request enters the provider's network and the edge functions run."""

# --- the topology (ASSUMPTION: names and shape are ours) -------------------------------------
REGION_SITES = ("apac", "eu")
"""Continental regions: Asia-Pacific (Singapore, where the origin is) and Europe (Frankfurt)."""
CITY_SITES = ("syd", "lon")
"""One city data centre per region: Sydney under Asia-Pacific, London under Europe."""
ISP_SITES = ("syd-a", "syd-b", "lon-a", "lon-b")
LAST_MILE_SITES = tuple(f"{isp}{n}" for isp in ISP_SITES for n in (1, 2))
SITES = {LAST_MILE: LAST_MILE_SITES, ISP: ISP_SITES, CITY: CITY_SITES, REGION: REGION_SITES}

# ASSUMPTION: one-way latencies in ms between neighbouring rungs.
CLIENT_TO_LAST_MILE_MS = 4.0
LAST_MILE_TO_ISP_MS = 3.0
ISP_TO_CITY_MS = 3.0
CITY_TO_REGION_MS = (45.0, 6.0)
"""Sydney → Singapore, London → Frankfurt."""
REGION_TO_ORIGIN_MS = (1.0, 85.0)
"""The origin is in the Singapore data centre; Frankfurt → Singapore is far."""
LOAD_GENERATOR_TO_ORIGIN_MS = 0.5
"""A load generator in the origin's own data centre."""
ORIGIN_SERVICE_MS = 40.0
"""ASSUMPTION: the origin's time to build a response when idle; grows with load."""
CLIENT_TIMEOUT = 3.0
"""ASSUMPTION: seconds a client waits for an unreachable network before giving up."""

CAPACITY = {CLIENT: 4, LAST_MILE: 12, ISP: 20, CITY: 40, REGION: 64}
"""ASSUMPTION: responses each cache holds (per client, per serving process)."""
ENTRY_SHARES = ((LAST_MILE, 0.5), (ISP, 0.3), (CITY, 0.2))
"""ASSUMPTION: where a request that leaves the client enters the network. Routing
(anycast, a phone switching from Wi-Fi to mobile data) moves a client between rungs."""

# --- the site and its readers (ASSUMPTION) ---------------------------------------------------
CLIENTS = 100
SUBSCRIBER_SHARE = 0.4
ARTICLES = 30
PREMIUM_EVERY = 4
"""Every fourth article is behind the paywall."""
ASSETS = 12
KIND_SHARES = (("article", 0.55), ("asset", 0.30), ("account", 0.10), ("cart", 0.05))
TRACKING_SHARE = 0.3
"""Share of article requests that arrive with a ``?utm_source=`` tracking parameter."""
TRACKING_SOURCES = 8
ASSET_MAX_AGE = 86_400
ACCOUNT_MAX_AGE = 60
STALE_IF_ERROR = 600
"""Seconds of stale-if-error the origin sends when the parameter is on."""
SESSION_TTL = 60.0
"""Seconds an edge process keeps a reader's subscription once fetched."""
SESSION_CAPACITY = 24
"""Readers per edge process whose subscription it remembers."""
STATE_STORE_MS = 2.0
"""Time the subscription store takes to answer, on top of the way there and back."""
HEALTH_CHECK_EVERY = 10.0
LOAD_SOURCES = {"origin_dc": "the origin's data centre", "far_edge": "the far edge"}
"""Where a load test's generator sits."""
LOAD_TEST_USERS = 40
SUPPORTED_LANGUAGES = ("en", "ja", "zh")

DEVICE_CLASSES = (("desktop", 0.45), ("mobile", 0.45), ("tablet", 0.10))
USER_AGENTS = {
    "desktop": tuple(
        f"Mozilla/5.0 ({os}) AppleWebKit/537.36 Chrome/74.0.3729.{build} Safari/537.36"
        for os in ("Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_14_5", "X11; Linux x86_64")
        for build in (131, 157, 169, 185)
    ),
    "mobile": tuple(
        f"Mozilla/5.0 ({os}) AppleWebKit/605.1.15 Mobile/15E148 Version/{version}"
        for os in ("iPhone; CPU iPhone OS 12_3 like Mac OS X", "Linux; Android 9; Pixel 3", "Linux; Android 8.0; SM-G960F")
        for version in ("12.1", "12.1.1", "74.0", "75.0")
    ),
    "tablet": tuple(
        f"Mozilla/5.0 ({os}) AppleWebKit/605.1.15 Version/{version} Safari/605.1.15"
        for os in ("iPad; CPU OS 12_3 like Mac OS X", "Linux; Android 9; SM-T720")
        for version in ("12.1", "74.0")
    ),
}  # fmt: skip
ACCEPT_LANGUAGES = (
    ("en-AU,en;q=0.9", 0.22), ("en-GB,en;q=0.9", 0.18), ("en-US,en;q=0.9", 0.14), ("en", 0.08),
    ("ja-JP,ja;q=0.9,en;q=0.5", 0.1), ("ja", 0.04), ("zh-CN,zh;q=0.9", 0.1),
    ("zh-TW,zh;q=0.8,en;q=0.4", 0.05), ("id-ID,id;q=0.9", 0.05), ("de-DE,de;q=0.9,en;q=0.6", 0.04),
)  # fmt: skip

# Counter slots of one step's bucket.
LOOKUPS, HITS, STALE, VALIDATED = 0, 5, 10, 15
ORIGIN_REQUESTS, ORIGIN_BYTES, USER_REQUESTS, USER_ERRORS = 20, 21, 22, 23
LOAD_REQUESTS, LOAD_ERRORS, STATE_FETCHES, STALE_ON_ERROR, ORIGIN_ERRORS = 24, 25, 26, 27, 28
SERVED = 29
"""Six slots: reader requests answered at each rung."""
BUCKET_SIZE = 35

_MARKED_STALE = "served_stale"


def device_class(user_agent: str) -> str:
    """The request normaliser's table: a user agent to one of three device classes."""
    if "iPad" in user_agent or "SM-T" in user_agent:
        return "tablet"
    if "Mobile" in user_agent or "Android" in user_agent:
        return "mobile"
    return "desktop"


def language(accept_language: str) -> str:
    """The normaliser's localisation: the reader's most preferred language the site has
    (RFC 9110 §12.5.4 weights; ties keep their order), else English."""
    ranked = []
    for order, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, order, tag.strip().lower().split("-")[0]))
    for _weight, _order, primary in sorted(ranked):
        if primary in SUPPORTED_LANGUAGES:
            return primary
    return "en"


def normalise(request: Request) -> Request:
    """Request normalisation at the edge: tracking parameters off the URL, the user agent
    to a device class and Accept-Language to a language the site has, so that the cache
    key (URL plus the Vary'd fields) takes a handful of values instead of hundreds."""
    url = request.url.split("?", 1)[0]
    url = _URLS.get(url, url)
    headers = dict(request.headers)
    if "user-agent" in headers:
        headers["user-agent"] = device_class(headers["user-agent"])
    if "accept-language" in headers:
        headers["accept-language"] = language(headers["accept-language"])
    return Request(url, headers)


class Client:
    """A reader: where they sit, what their browser sends, and their own cache."""

    __slots__ = ("user", "area", "user_agent", "accept_language", "subscriber", "cache")

    def __init__(self, user, area, user_agent, accept_language, subscriber, cache) -> None:
        self.user = user
        self.area = area
        """Index of their last-mile area."""
        self.user_agent = user_agent
        self.accept_language = accept_language
        self.subscriber = subscriber
        self.cache: HttpCache | None = cache

    def __reduce__(self):
        return (Client, _CLIENT_FIELDS(self))


_CLIENT_FIELDS = operator.attrgetter(*Client.__slots__)


@dataclass(frozen=True)
class Path:
    """Where a request starts and the one-way ms from its start to each rung."""

    area: int | None
    """The last-mile area it crosses (None: it does not cross one)."""
    reach: tuple[float, ...]
    """Cumulative one-way ms from the start to each rung, indexed by rung."""
    sites: tuple[int, ...]
    """The site index of each rung on this path (client and origin: 0)."""


def _area_path(area: int | None, through: int) -> Path:
    isp, city = through // 2, through // 4
    region = city
    reach = [0.0] * 6
    reach[LAST_MILE] = CLIENT_TO_LAST_MILE_MS
    reach[ISP] = reach[LAST_MILE] + LAST_MILE_TO_ISP_MS
    reach[CITY] = reach[ISP] + ISP_TO_CITY_MS
    reach[REGION] = reach[CITY] + CITY_TO_REGION_MS[city]
    reach[ORIGIN] = reach[REGION] + REGION_TO_ORIGIN_MS[region]
    return Path(area, tuple(reach), (0, through, isp, city, region, 0))


AREA_PATHS = tuple(_area_path(area, area) for area in range(len(LAST_MILE_SITES)))
DATACENTRE_CHECKERS = tuple(_area_path(None, area) for area in (0, 4))
"""External health checkers in well-connected data centres, one near each city data
centre: they reach the city tier directly and never cross a last mile."""


def reach_ms(tier: int) -> tuple[float, float]:
    """The fewest and most one-way ms from a reader to ``tier``, over every area."""
    values = [path.reach[tier] for path in AREA_PATHS]
    return min(values), max(values)


ORIGIN_DC_PATH = Path(None, (0.0, 0.0, 0.0, 0.0, 0.0, LOAD_GENERATOR_TO_ORIGIN_MS), (0,) * 6)


def _cumulative(shares) -> tuple[list[float], list]:
    cumulative, values, running = [], [], 0.0
    for value, share in shares:
        running += share
        cumulative.append(running)
        values.append(value)
    return cumulative, values


def _zipf(n: int) -> list[float]:
    cumulative, running = [], 0.0
    for rank in range(1, n + 1):
        running += 1.0 / rank
        cumulative.append(running)
    return cumulative


ARTICLE_URLS = tuple(f"/news/{i}" for i in range(ARTICLES))
TRACKED_URLS = tuple(
    tuple(f"{url}?utm_source=s{k}" for k in range(TRACKING_SOURCES)) for url in ARTICLE_URLS
)
ASSET_URLS = tuple(f"/static/{i}.js" for i in range(ASSETS))
_URLS = {url: url for url in (*ARTICLE_URLS, *ASSET_URLS, "/account", "/api/cart", "/healthz")}
"""One string object per URL, so that a checkpoint stores each URL once."""

_COOKIES = tuple(f"session=u{user}" for user in range(max(CLIENTS, LOAD_TEST_USERS)))
"""Each reader's session cookie (``Client.user`` indexes it)."""
_ARTICLE_WEIGHTS = _zipf(ARTICLES)
_ASSET_WEIGHTS = _zipf(ASSETS)
_KINDS = _cumulative(KIND_SHARES)
_ENTRIES = _cumulative(ENTRY_SHARES)
_DEVICES = _cumulative(DEVICE_CLASSES)
_LANGUAGES = _cumulative(ACCEPT_LANGUAGES)


def _pick(rng: random.Random, table: tuple[list[float], list]) -> Any:
    cumulative, values = table
    return values[
        min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(values) - 1)
    ]


def _rank(rng: random.Random, cumulative: list[float]) -> int:
    return min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)


def article_size(i: int) -> int:
    """ASSUMPTION: 40 to 120 KB of HTML."""
    return (40 + (i * 37) % 81) * 1000


def asset_size(i: int) -> int:
    """ASSUMPTION: 20 to 300 KB of script or image."""
    return (20 + (i * 53) % 281) * 1000


def article_edit_period(i: int) -> float:
    """ASSUMPTION: seconds between edits of article ``i`` (2 to 10 minutes)."""
    return 120.0 + (i * 97) % 481


def is_premium(i: int) -> bool:
    return i % PREMIUM_EVERY == PREMIUM_EVERY - 1


class EdgeSimulation:
    """The demo's simulation (see ``demokit.Simulation``); ``view.render`` draws it."""

    def __init__(self, params: dict, rng: random.Random) -> None:
        self.params = dict(params)
        self.rng = rng
        self.now = 0.0
        self.done = False
        self.steps = 0
        self.log: list[str] = []
        self.marks: list[tuple[float, str, str]] = []
        self.origin_down = False
        self.broken_areas: list[int] = []
        processes = int(self.params["processes"])
        self.caches: list[list[list[HttpCache]]] = [[] for _ in TIERS]
        for tier in (LAST_MILE, ISP, CITY, REGION):
            self.caches[tier] = [
                [HttpCache(True, CAPACITY[tier]) for _ in range(processes)] for _ in SITES[tier]
            ]
        self.sessions: list[list[list[dict[int, float]]]] = [[] for _ in TIERS]
        """Per edge process: reader → time until which their subscription is known there."""
        for tier in EDGE_TIERS:
            self.sessions[tier] = [[{} for _ in range(processes)] for _ in SITES[tier]]
        self.clients = [self._new_client(user, cached=True) for user in range(CLIENTS)]
        self.load_users = [self._new_client(user, cached=False) for user in range(LOAD_TEST_USERS)]
        self.buckets: deque[list[int]] = deque(maxlen=WINDOW_STEPS)
        self.bucket = [0] * BUCKET_SIZE
        self.latencies: deque[int] = deque(maxlen=LATENCY_SAMPLE)
        """ms of the latest reader requests."""
        self.load_latencies: deque[int] = deque(maxlen=LATENCY_SAMPLE)
        self.second_latencies: list[int] = []
        self.history: deque[tuple] = deque(maxlen=HISTORY)
        """Per second: (time, origin req/s, p50 ms, p99 ms, user error share, edge hit ratio)."""
        self.origin_recent: deque[int] = deque(maxlen=round(1 / STEP))
        self.followed: deque[tuple] = deque(maxlen=6)
        """Reader 0's latest requests: (time, url, rung, site, process, outcome, ms)."""
        self.totals = {"requests": 0, "origin_bytes": 0, "stale_on_error": 0, "errors": 0}
        self.health: list[tuple[str, bool]] = []
        """The latest round of health checks: (vantage point, passed)."""
        self.health_alerting = False
        self.area_errors = [0] * len(LAST_MILE_SITES)
        """User errors per last-mile area since the last health-check round."""
        self.missed_reported: list[int] = []
        self.load_test_on = False
        self.load_from = "origin_dc"
        self.load_started = 0.0
        self._stale_reported = False
        self._errors_reported = False
        self.next_user = rng.expovariate(self._user_rate())
        self.next_load = 0.0
        self.next_check = HEALTH_CHECK_EVERY

    # -- set-up ----------------------------------------------------------------------------

    def _new_client(self, user: int, cached: bool) -> Client:
        rng = self.rng
        device = _pick(rng, _DEVICES)
        return Client(
            user=user,
            area=user % len(LAST_MILE_SITES),
            user_agent=rng.choice(USER_AGENTS[device]),
            accept_language=_pick(rng, _LANGUAGES),
            subscriber=rng.random() < SUBSCRIBER_SHARE,
            cache=HttpCache(False, CAPACITY[CLIENT]) if cached else None,
        )

    def _user_rate(self) -> float:
        return float(self.params["request_rate"])

    def _load_rate(self) -> float:
        return float(self.params["load_rps"])

    # -- the Simulation protocol -------------------------------------------------------------

    def step(self) -> None:
        """Run every request that starts before the end of the next step."""
        self.steps += 1
        end = self.steps * STEP
        rng = self.rng
        while True:
            user_next = self.next_user
            load_next = self.next_load if self.load_test_on else end + 1.0
            check_next = self.next_check
            # min(user_next, load_next, check_next), without the call
            first = load_next if load_next < user_next else user_next
            if check_next < first:
                first = check_next
            if first > end:
                break
            self.now = first
            if first == check_next:
                self._health_checks()
                self.next_check += HEALTH_CHECK_EVERY
            elif first == user_next:
                self._user_request(self.clients[rng._randbelow(CLIENTS)])  # randrange
                self.next_user += rng.expovariate(float(self.params["request_rate"]))
            else:
                self._load_request(self.load_users[rng.randrange(LOAD_TEST_USERS)])
                self.next_load += rng.expovariate(self._load_rate())
        self.now = end
        self._close_bucket()
        if self.now >= MAX_TIME:
            self.done = True

    def act(self, action: str, arg: str | None) -> None:
        """``origin_down`` / ``origin_up``; ``break_last_mile`` / ``heal_last_mile`` for an
        area named by ``arg``; ``start_load_test`` from ``arg`` (a :data:`LOAD_SOURCES`
        key) / ``stop_load_test``; ``purge`` every shared cache."""
        if action == "origin_down":
            if not self.origin_down:
                self.origin_down = True
                self._stale_reported = self._errors_reported = False
                self._mark("origin_down", "the origin answers 503 to everything")
        elif action == "origin_up":
            if self.origin_down:
                self.origin_down = False
                self._mark("origin_up", "the origin answers again")
        elif action in ("break_last_mile", "heal_last_mile"):
            name = arg or LAST_MILE_SITES[0]
            if name not in LAST_MILE_SITES:
                allowed = ", ".join(LAST_MILE_SITES)
                raise ValueError(f"unknown last-mile area {name!r}; allowed: {allowed}")
            area = LAST_MILE_SITES.index(name)
            if action == "break_last_mile" and area not in self.broken_areas:
                self.broken_areas.append(area)
                self._errors_reported = False
                self._mark("last_mile_broken", f"{name}: its readers cannot reach the network")
            elif action == "heal_last_mile" and area in self.broken_areas:
                self.broken_areas.remove(area)
                self._log(f"{name} last mile healed")
        elif action == "start_load_test":
            where = arg or "origin_dc"
            if where not in LOAD_SOURCES:
                raise ValueError(
                    f"unknown load source {where!r}; allowed: {', '.join(LOAD_SOURCES)}"
                )
            self.load_from = where
            self.load_test_on = True
            self.load_latencies.clear()
            self.load_started = self.now
            self.next_load = self.now + self.rng.expovariate(self._load_rate())
            self._mark(
                "load_test_started", f"{self._load_rate():g} req/s from {LOAD_SOURCES[where]}"
            )
        elif action == "stop_load_test":
            if self.load_test_on:
                self.load_test_on = False
                self._log("load test stopped")
        elif action == "purge":
            dropped = 0
            for tier in (LAST_MILE, ISP, CITY, REGION):
                for site in self.caches[tier]:
                    for cache in site:
                        dropped += cache.purge()
            self._mark("purged", f"{dropped} responses purged from the shared caches")
        else:
            allowed = (
                "origin_down, origin_up, break_last_mile, heal_last_mile, start_load_test, "
                "stop_load_test, purge"
            )
            raise ValueError(f"unknown action {action!r}; allowed: {allowed}")

    def set_param(self, name: str, value: Any) -> None:
        """Apply a live parameter change."""
        self.params[name] = value
        if name == "request_rate":
            self.next_user = self.now + self.rng.expovariate(self._user_rate())
        elif name == "load_rps" and self.load_test_on:
            self.next_load = self.now + self.rng.expovariate(self._load_rate())
        elif name in ("normalise", "stale_if_error", "page_freshness", "paywall_state"):
            self._log(f"{name.replace('_', ' ')}: {value}")

    # -- traffic --------------------------------------------------------------------------------

    def _request_for(self, client: Client) -> Request:
        rng = self.rng
        kind = _pick(rng, _KINDS)
        if kind == "article":
            i = _rank(rng, _ARTICLE_WEIGHTS)
            url = ARTICLE_URLS[i]
            if rng.random() < TRACKING_SHARE:
                url = TRACKED_URLS[i][rng.randrange(TRACKING_SOURCES)]
        elif kind == "asset":
            url = ASSET_URLS[_rank(rng, _ASSET_WEIGHTS)]
        elif kind == "account":
            url = "/account"
        else:
            url = "/api/cart"
        return Request(
            url,
            {
                "user-agent": client.user_agent,
                "accept-language": client.accept_language,
                "cookie": _COOKIES[client.user],
            },
        )

    def _entry(self) -> int:
        return _pick(self.rng, _ENTRIES)

    def _hops(self, path: Path, entry: int, client_cache: HttpCache | None) -> list:
        """(rung, cache or None) from the first hop to the origin, a random serving
        process at each rung."""
        # Random.randrange(n) is _randbelow(n) after checking n (3.11 and 3.14 alike):
        # the same draws without the checks.
        randbelow = self.rng._randbelow
        caches, sites = self.caches, path.sites
        hops: list = [] if client_cache is None else [(CLIENT, client_cache, 0)]
        for tier in range(entry, ORIGIN):
            processes = caches[tier][sites[tier]]
            process = randbelow(len(processes))
            hops.append((tier, processes[process], process))
        hops.append(_ORIGIN_HOP)
        return hops

    def _user_request(self, client: Client) -> None:
        request = self._request_for(client)
        path = AREA_PATHS[client.area]
        hops = self._hops(path, self._entry(), client.cache)
        response, back, where = self._fetch(path, hops, 0, request, self.now)
        ms = round((back - self.now) * 1000)
        bucket = self.bucket
        bucket[USER_REQUESTS] += 1
        self.totals["requests"] += 1
        failed = response.status == UNREACHABLE or response.status >= 500
        if failed:
            bucket[USER_ERRORS] += 1
            self.totals["errors"] += 1
            if client.area in self.broken_areas:
                self.area_errors[client.area] += 1
            if not self._errors_reported:
                self._errors_reported = True
                self._mark("users_see_errors", f"{request.url}: {_status_word(response.status)}")
        else:
            bucket[SERVED + where[0]] += 1
        self.latencies.append(ms)
        self.second_latencies.append(ms)
        if client.user == 0:
            tier, site, process, outcome = where
            self.followed.append(
                (self.now, request.url, tier, site, process, outcome, ms, response.status)
            )

    def _load_request(self, client: Client) -> None:
        request = self._request_for(client)
        if self.load_from == "origin_dc":
            path, hops = ORIGIN_DC_PATH, [(ORIGIN, None, 0)]
        else:
            path = AREA_PATHS[self.rng.randrange(len(AREA_PATHS))]
            hops = self._hops(path, self._entry(), None)
        response, back, _ = self._fetch(path, hops, 0, request, self.now)
        self.bucket[LOAD_REQUESTS] += 1
        if response.status == UNREACHABLE or response.status >= 500:
            self.bucket[LOAD_ERRORS] += 1
        self.load_latencies.append(round((back - self.now) * 1000))

    # -- one hop ----------------------------------------------------------------------------------

    def _fetch(self, path: Path, hops: list, k: int, request: Request, t: float):
        """Send ``request`` from hop k−1 (or its start) at ``t`` to hop ``k``; returns
        (response, time it is back at hop k−1, where it was served: (rung, site,
        process, outcome))."""
        tier, cache, process = hops[k]
        before = hops[k - 1][0] if k else CLIENT
        reach = path.reach
        one_way = (reach[tier] - reach[before]) / 1000
        entering = tier != CLIENT and before == CLIENT  # the first rung of the network
        if entering and path.area in self.broken_areas:
            # The reader's last mile is down: nothing beyond their own cache answers.
            return Response(UNREACHABLE), t + CLIENT_TIMEOUT, (CLIENT, 0, 0, "unreachable")
        arrive = t + one_way
        if cache is None:
            response, done = self._origin(request, arrive)
            return response, done + one_way, (ORIGIN, 0, 0, _status_word(response.status))
        site = path.sites[tier]
        if entering:
            request, arrive = self._edge_functions(request, arrive, path, tier, site, process)
        bucket = self.bucket
        bucket[LOOKUPS + tier] += 1
        look = cache.lookup(request, arrive)
        outcome = look.outcome
        if outcome == FRESH:
            bucket[HITS + tier] += 1
            return cache.answer(request, look.stored, arrive), arrive + one_way, (
                tier, site, process, "hit",
            )  # fmt: skip
        stored = look.stored
        if outcome == STALE_WHILE_REVALIDATE:
            bucket[STALE + tier] += 1
            if stored.revalidating_until <= arrive:
                upstream = cache.conditional(request, stored)
                response, back, _ = self._fetch(path, hops, k + 1, upstream, arrive)
                stored.revalidating_until = back
                if response.status == 304:
                    cache.freshen(look.key, stored, response, arrive, back, upstream)
                elif response.status not in ERROR_STATUSES and response.status != UNREACHABLE:
                    cache.store(upstream, response, arrive, back)
            return cache.answer(request, stored, arrive), arrive + one_way, (
                tier, site, process, "stale, revalidating",
            )  # fmt: skip
        upstream = cache.conditional(request, stored)
        response, back, where = self._fetch(path, hops, k + 1, upstream, arrive)
        status = response.status
        if status == 304 and stored is not None:
            updated = cache.freshen(look.key, stored, response, arrive, back, upstream)
            if updated is not None:
                bucket[VALIDATED + tier] += 1
                return cache.answer(request, updated, back), back + one_way, (
                    tier, site, process, "revalidated (304)",
                )  # fmt: skip
        if status in ERROR_STATUSES or status == UNREACHABLE:
            if stored is not None and cache.may_serve_stale_on_error(stored, back):
                bucket[STALE + tier] += 1
                bucket[STALE_ON_ERROR] += 1
                self.totals["stale_on_error"] += 1
                if not self._stale_reported and tier != CLIENT:
                    self._stale_reported = True
                    self._mark(_MARKED_STALE, f"{TIERS[tier]} served {request.url} stale-if-error")
                return cache.answer(request, stored, back), back + one_way, (
                    tier, site, process, "stale-if-error",
                )  # fmt: skip
            return response, back + one_way, where
        fresh = cache.store(upstream, response, arrive, back)
        if fresh is not None:
            return cache.answer(request, fresh, back), back + one_way, where
        return response, back + one_way, where

    def _edge_functions(
        self, request: Request, t: float, path: Path, tier: int, site: int, process: int
    ) -> tuple[Request, float]:
        """What runs where a request enters the network, and the time it takes."""
        if self.params["normalise"]:
            request = normalise(request)  # state: a table every process has
        url = request.url
        if url.startswith("/news/") and is_premium(int(url[6:].split("?", 1)[0])):
            user = int(request.headers.get("cookie", "session=u0")[9:])
            t += self._subscription_lookup(user, t, path, tier, site, process)
        return request, t

    def _subscription_lookup(
        self, user: int, t: float, path: Path, tier: int, site: int, process: int
    ) -> float:
        """Seconds the paywall spends learning whether ``user`` subscribes."""
        where = self.params["paywall_state"]
        if where == "token":
            return 0.0  # a signed token in the request; every process has the key
        known = self.sessions[tier][site][process]
        until = known.pop(user, None)
        if until is not None and until > t:
            known[user] = until
            return 0.0
        self.bucket[STATE_FETCHES] += 1
        home = ORIGIN if where == "origin" else REGION
        cost = (2 * (path.reach[home] - path.reach[tier]) + STATE_STORE_MS) / 1000
        known[user] = t + cost + SESSION_TTL
        while len(known) > SESSION_CAPACITY:
            del known[next(iter(known))]
        return cost

    # -- the origin -----------------------------------------------------------------------------

    def _origin_rate(self) -> float:
        return float(total(self.origin_recent) + self.bucket[ORIGIN_REQUESTS]) / (
            len(self.origin_recent) * STEP + STEP
        )

    def _origin(self, request: Request, t: float) -> tuple[Response, float]:
        """The origin's answer to ``request`` arriving at ``t``, and when it is sent."""
        bucket = self.bucket
        bucket[ORIGIN_REQUESTS] += 1
        date = http_date(t)
        if self.origin_down:
            bucket[ORIGIN_ERRORS] += 1
            return Response(503, {"date": date, "cache-control": "no-store"}), t + 0.002
        load = self._origin_rate() / float(self.params["origin_capacity"])
        if load > 1.0 and self.rng.random() > 1.0 / load:
            bucket[ORIGIN_ERRORS] += 1
            return Response(503, {"date": date, "cache-control": "no-store"}), t + 0.002
        busy = 1.0 - min(load, 0.95)
        done = t + ORIGIN_SERVICE_MS * (0.5 + self.rng.random()) / 1000 / busy
        response = self._representation(request, t)
        response.headers["date"] = date
        inm = request.headers.get("if-none-match")
        etag = response.headers.get("etag")
        if inm is not None and etag is not None and inm == etag:
            keep = ("date", "etag", "cache-control", "vary")
            return Response(304, {k: v for k, v in response.headers.items() if k in keep}), done
        bucket[ORIGIN_BYTES] += response.size
        self.totals["origin_bytes"] += response.size
        return response, done

    def _representation(self, request: Request, t: float) -> Response:
        """The origin's 200 for the URL at time ``t``, with its caching headers."""
        path = request.url.split("?", 1)[0]
        p = self.params
        if path.startswith("/news/"):
            i = int(path[6:])
            version = int((t + i * 11.0) // article_edit_period(i))
            ttl = int(p["page_ttl"])
            if p["page_freshness"] == "s-maxage":
                directives = [f"max-age={min(ttl, 5)}", f"s-maxage={ttl}"]
            else:
                directives = [f"max-age={ttl}"]
            if p["stale_while_revalidate"]:
                directives.append(f"stale-while-revalidate={int(p['stale_while_revalidate'])}")
            if p["stale_if_error"]:
                directives.append(f"stale-if-error={STALE_IF_ERROR}")
            return Response(
                200,
                {
                    "cache-control": ", ".join(directives),
                    "etag": f'"a{i}v{version}"',
                    "vary": "User-Agent, Accept-Language",
                },
                article_size(i),
            )
        if path.startswith("/static/"):
            i = int(path[8:].split(".", 1)[0])
            return Response(
                200,
                {"cache-control": f"public, max-age={ASSET_MAX_AGE}", "etag": f'"s{i}"'},
                asset_size(i),
            )
        if path == "/account":
            user = request.headers.get("cookie", "session=u0")[9:]
            return Response(
                200,
                {
                    "cache-control": f"private, max-age={ACCOUNT_MAX_AGE}",
                    "etag": f'"u{user}v{int(t // 300)}"',
                },
                3000,
            )
        return Response(200, {"cache-control": "no-store"}, 2000)  # /api/cart, /healthz

    # -- health checks ------------------------------------------------------------------------------

    def _health_checks(self) -> None:
        """A round of external checks of ``/healthz`` from the chosen vantage points."""
        results: list[tuple[str, bool]] = []
        request = Request("/healthz", {"user-agent": "healthcheck/1.0"})
        if self.params["health_checks"] == "datacentres":
            for checker, city in zip(DATACENTRE_CHECKERS, ("Singapore", "Frankfurt"), strict=True):
                hops = self._hops(checker, CITY, None)
                response, _, _ = self._fetch(checker, hops, 0, request, self.now)
                results.append((f"{city} data centre", response.status == 200))
        else:
            for area, path in enumerate(AREA_PATHS):
                hops = self._hops(path, LAST_MILE, None)
                response, _, _ = self._fetch(path, hops, 0, request, self.now)
                results.append((f"probe in {LAST_MILE_SITES[area]}", response.status == 200))
        self.health = results
        failing = [name for name, ok in results if not ok]
        if failing and not self.health_alerting:
            self.health_alerting = True
            self._mark("health_check_alert", f"failing from {', '.join(failing)}")
        elif not failing:
            self.health_alerting = False
            hurt = [
                a
                for a in self.broken_areas
                if self.area_errors[a] and a not in self.missed_reported
            ]
            if hurt:
                self.missed_reported.extend(hurt)
                names = ", ".join(LAST_MILE_SITES[a] for a in hurt)
                errors = total(self.area_errors[a] for a in hurt)
                self._mark(
                    "health_check_missed",
                    f"all checks pass while {errors} requests from {names} failed",
                )
        for area in range(len(self.area_errors)):
            if area not in self.broken_areas and area in self.missed_reported:
                self.missed_reported.remove(area)
        self.area_errors = [0] * len(LAST_MILE_SITES)

    # -- bookkeeping -------------------------------------------------------------------------------

    def _close_bucket(self) -> None:
        bucket = self.bucket
        self.buckets.append(bucket)
        self.origin_recent.append(bucket[ORIGIN_REQUESTS])
        self.bucket = [0] * BUCKET_SIZE
        if self.steps % round(1 / STEP) == 0:
            second = sorted(self.second_latencies)
            self.second_latencies = []
            last = list(self.buckets)[-round(1 / STEP) :]
            requests = total(b[USER_REQUESTS] for b in last)
            errors = total(b[USER_ERRORS] for b in last)
            origin = total(b[ORIGIN_REQUESTS] for b in last)
            self.history.append(
                (
                    round(self.now),
                    origin,
                    _percentile(second, 0.5),
                    _percentile(second, 0.99),
                    errors / requests if requests else 0.0,
                )
            )

    def window(self) -> list[int]:
        """The counters summed over the last :data:`WINDOW` seconds."""
        sums = [0] * BUCKET_SIZE
        for bucket in self.buckets:
            for i, value in enumerate(bucket):
                sums[i] += value
        return sums

    def window_seconds(self) -> float:
        return max(STEP, len(self.buckets) * STEP)

    def _mark(self, name: str, detail: str) -> None:
        self.marks.append((self.now, name, detail))
        self._log(detail)

    def _log(self, text: str) -> None:
        self.log.append(f"{self.now:.1f} s · {text}")
        if len(self.log) > 24:
            del self.log[:-12]


_ORIGIN_HOP = (ORIGIN, None, 0)


def _percentile(ordered: list[int], q: float) -> int | None:
    """The nearest-rank percentile of an ordered list, or None when it is empty."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]


def _status_word(status: int) -> str:
    return "unreachable" if status == UNREACHABLE else str(status)


def create(params: dict, rng: random.Random) -> EdgeSimulation:
    """Build the simulation from validated parameters and a seeded generator."""
    return EdgeSimulation(params, rng)
