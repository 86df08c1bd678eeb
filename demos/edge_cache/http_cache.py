"""An HTTP cache that decides as RFC 9111 (HTTP Caching) and RFC 5861 (stale-while-revalidate,
stale-if-error) say, driven by an injected clock.

Standalone and stdlib-only. Times are seconds on the caller's clock; ``Date`` and
``Expires`` are HTTP-dates counted from :data:`EPOCH`, so the caller's second 0 is
midnight GMT on the day of the talk. Every rule cites its section; the tests cite the
same clauses.

What is modelled: storing (§3, §3.5), the cache key with Vary (§2, §4.1), freshness from
``s-maxage`` / ``max-age`` / ``Expires`` (§4.2.1), age (§4.2.3, §5.1), validation with
``ETag`` and ``If-None-Match`` and freshening with a 304 (§4.3), serving stale only where a
directive allows it (§4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10; RFC 5861 §3, §4), the request
directives ``no-cache``, ``no-store`` and ``max-age`` (§5.2.1), and a cache
answering a client's own ``If-None-Match`` (§4.3.2).

Left out, on purpose: heuristic freshness (§4.2.2 allows it; here a response without
explicit freshness is stale at once and revalidated every time); ``Last-Modified`` /
``If-Modified-Since`` (only entity tags validate); methods other than GET; partial
content; the request directives ``max-stale``, ``min-fresh`` and ``only-if-cached``; invalidation by unsafe methods (§4.4); a qualified ``private="field"`` is treated
as unqualified (stricter than the RFC); a response with ``Vary: *`` is not stored, since
it could never be reused (§4.1); a cache serving stale while disconnected (§4.2.4 allows
it; here only the directives do). Requests are not collapsed: two misses for one key both
go upstream.
"""

from __future__ import annotations

import operator
import re
import time
from dataclasses import dataclass, field

__all__ = [
    "EPOCH",
    "FRESH",
    "MISS",
    "STALE_WHILE_REVALIDATE",
    "VALIDATE",
    "HttpCache",
    "Lookup",
    "Request",
    "Response",
    "Stored",
    "corrected_initial_age",
    "current_age",
    "freshness_lifetime",
    "http_date",
    "parse_cache_control",
    "parse_http_date",
    "storable",
]

EPOCH = 1560384000
"""Unix time of 2019-06-13 00:00:00 GMT, the day of the talk: second 0 of the caller's clock."""
DELTA_SECONDS_MAX = 2147483648
"""§1.2.2: a delta-seconds too large to hold is taken as 2^31."""
ERROR_STATUSES = (500, 502, 503, 504)
"""RFC 5861 §4: the errors after which stale-if-error may serve stale (or no answer at all)."""
UNREACHABLE = 0
"""The status a caller gives when it could not reach the next hop at all."""

# Outcomes of a lookup.
MISS = "miss"
FRESH = "fresh"
STALE_WHILE_REVALIDATE = "stale-while-revalidate"
VALIDATE = "validate"


@dataclass(slots=True)
class Request:
    """A GET for ``url`` with header fields (names in lower case)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Response:
    """A response as it travels: status, header fields (lower-case names), body size."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0
    """Bytes of body (0 for a 304 or an error)."""


# --- parsing -----------------------------------------------------------------------------

_DIRECTIVES: dict[str, dict[str, str | None]] = {}


def parse_cache_control(value: str | None) -> dict[str, str | None]:
    """``Cache-Control`` as {directive: argument or None} (§5.2).

    Names are case-insensitive and quoted arguments are unquoted (§5.2); when a
    directive repeats, the first occurrence counts (§4.2.1 allows either that or calling
    the response stale). Unknown directives are kept and ignored by every rule (§5.2.3).
    The result is shared between callers: do not change it.
    """
    if not value:
        return {}
    known = _DIRECTIVES.get(value)
    if known is not None:
        return known
    directives: dict[str, str | None] = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        name = name.strip().lower()
        if not name or name in directives:
            continue
        argument = argument.strip()
        if len(argument) >= 2 and argument[0] == argument[-1] == '"':
            argument = argument[1:-1]
        directives[name] = argument if _ else None
    if len(_DIRECTIVES) > 512:
        _DIRECTIVES.clear()
    _DIRECTIVES[value] = directives
    return directives


def delta_seconds(directives: dict, name: str) -> int | None:
    """A directive's delta-seconds (§1.2.2), or None when absent or not a number."""
    argument = directives.get(name)
    if argument is None or not argument.isdigit() or not argument.isascii():
        return None
    return min(int(argument), DELTA_SECONDS_MAX)


_DATES: dict[int, str] = {}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(seconds: float) -> str:
    """An IMF-fixdate (RFC 9110 §5.6.7) for ``seconds`` on the caller's clock."""
    whole = int(seconds // 1)
    text = _DATES.get(whole)
    if text is None:
        t = time.gmtime(EPOCH + whole)
        text = (
            f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
        )
        if len(_DATES) > 4096:
            _DATES.clear()
        _DATES[whole] = text
    return text


_CLOCK = r"(\d\d):(\d\d):(\d\d)"
_IMF_FIXDATE = re.compile(rf"^[A-Z][a-z]{{2}}, (\d\d) ([A-Z][a-z]{{2}}) (\d{{4}}) {_CLOCK} GMT$")
_RFC850 = re.compile(rf"^[A-Z][a-z]{{5,8}}, (\d\d)-([A-Z][a-z]{{2}})-(\d\d) {_CLOCK} GMT$")
_ASCTIME = re.compile(rf"^[A-Z][a-z]{{2}} ([A-Z][a-z]{{2}}) ([ \d]\d) {_CLOCK} (\d{{4}})$")


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _http_date_seconds(text: str) -> float | None:
    if match := _IMF_FIXDATE.match(text):
        day, month, year, hour, minute, second = match.groups()
    elif match := _RFC850.match(text):
        day, month, short, hour, minute, second = match.groups()
        # RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past.
        year = 2000 + int(short)
        if year > time.gmtime(EPOCH).tm_year + 50:
            year -= 100
    elif match := _ASCTIME.match(text):
        month, day, hour, minute, second, year = match.groups()
    else:
        return None
    if month not in _MONTHS:
        return None
    day, hour, minute, second = int(day), int(hour), int(minute), int(second)
    if not (1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    days = _days_from_civil(int(year), _MONTHS.index(month) + 1, day)
    return float(days * 86400 + hour * 3600 + minute * 60 + second - EPOCH)


def parse_http_date(text: str | None) -> float | None:
    """An HTTP-date in any of its three forms (RFC 9110 §5.6.7) as seconds on the
    caller's clock; None when absent or invalid (such as ``Expires: 0``)."""
    if not text:
        return None
    if text in _PARSED:
        return _PARSED[text]
    value = _http_date_seconds(text.strip())
    if len(_PARSED) > 4096:
        _PARSED.clear()
    _PARSED[text] = value
    return value


_PARSED: dict[str, float | None] = {}
_UNPARSED = object()
"""Not in a memo yet (None is a value there)."""


# --- the rules ------------------------------------------------------------------------------


def storable(request: Request, response: Response, shared: bool) -> tuple[bool, str]:
    """Whether a cache may store the response (§3), and why not."""
    asked, headers = request.headers, response.headers
    # Everything the rules below read, so that the verdict is looked up, not re-derived.
    key = (
        asked.get("cache-control"),
        headers.get("cache-control"),
        shared,
        "authorization" in asked,
        response.status,
        headers.get("vary"),
        "expires" in headers,
    )
    verdict = _STORABLE.get(key)
    if verdict is None:
        if len(_STORABLE) > 512:
            _STORABLE.clear()
        verdict = _STORABLE[key] = _storable(*key)
    return verdict


_STORABLE: dict[tuple, tuple[bool, str]] = {}


def _storable(
    request_cache_control: str | None,
    cache_control: str | None,
    shared: bool,
    authorization: bool,
    status: int,
    vary: str | None,
    expires: bool,
) -> tuple[bool, str]:
    requested = parse_cache_control(request_cache_control)
    directives = parse_cache_control(cache_control)
    if "no-store" in requested:
        return False, "§5.2.1.5 the request says no-store"
    if "no-store" in directives:
        return False, "§5.2.2.5 no-store"
    if shared and "private" in directives:
        return False, "§5.2.2.7 private: a shared cache must not store it"
    allowed_with_authorization = (
        "public" in directives or "s-maxage" in directives or "must-revalidate" in directives
    )
    if shared and authorization and not allowed_with_authorization:
        return False, "§3.5 Authorization without public, s-maxage or must-revalidate"
    if status in (206, 304) or status < 200:
        return False, "§3 not a complete, final response"
    if "*" in _vary_field(vary):
        return False, "§4.1 Vary: * never matches; not worth storing"
    explicit = (
        "public" in directives
        or (not shared and "private" in directives)
        or expires
        or "max-age" in directives
        or (shared and "s-maxage" in directives)
    )
    if not explicit and status not in HEURISTICALLY_CACHEABLE:
        return False, "§3 no explicit freshness and not heuristically cacheable"
    return True, "§3 storable"


HEURISTICALLY_CACHEABLE = (200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501)
"""RFC 9110 §15.1: status codes cacheable by default (stored even without explicit
freshness; without heuristic freshness they are revalidated on every use)."""


def freshness_lifetime(
    directives: dict, headers: dict[str, str], date_value: float, shared: bool
) -> float:
    """§4.2.1: ``s-maxage`` (shared caches), else ``max-age``, else ``Expires`` − ``Date``;
    an invalid ``Expires`` is in the past (§5.3). No heuristic freshness: 0."""
    lifetime = _directed_lifetime(directives, shared)
    if lifetime is not None:
        return lifetime
    if "expires" in headers:
        expires = parse_http_date(headers["expires"])
        if expires is None:
            return 0.0
        return max(0.0, expires - date_value)
    return 0.0


def _directed_lifetime(directives: dict, shared: bool) -> float | None:
    """The lifetime the directives set (§4.2.1), or None when they leave it to Expires."""
    if shared:
        s_maxage = delta_seconds(directives, "s-maxage")
        if s_maxage is not None:
            return float(s_maxage)
        if "s-maxage" in directives:
            return 0.0  # invalid freshness information: treat as stale (§4.2.1)
    max_age = delta_seconds(directives, "max-age")
    if max_age is not None:
        return float(max_age)
    if "max-age" in directives:
        return 0.0
    return None


def corrected_initial_age(
    age_value: float, date_value: float, request_time: float, response_time: float
) -> float:
    """§4.2.3, computed when the response is received."""
    apparent_age = max(0.0, response_time - date_value)
    response_delay = response_time - request_time
    corrected_age_value = age_value + response_delay
    return max(apparent_age, corrected_age_value)


def current_age(
    age_value: float, date_value: float, request_time: float, response_time: float, now: float
) -> float:
    """§4.2.3, term by term."""
    resident_time = now - response_time
    return corrected_initial_age(age_value, date_value, request_time, response_time) + resident_time


_VARY: dict[str, tuple[str, ...]] = {}


def _vary_names(headers: dict[str, str]) -> tuple[str, ...]:
    """The field names of ``Vary`` (§4.1: case-insensitive; order does not matter)."""
    return _vary_field(headers.get("vary"))


def _vary_field(vary: str | None) -> tuple[str, ...]:
    if not vary:
        return ()
    names = _VARY.get(vary)
    if names is None:
        if len(_VARY) > 512:
            _VARY.clear()
        names = _VARY[vary] = tuple(
            sorted({name.strip().lower() for name in vary.split(",") if name.strip()})
        )
    return names


_VALUES: dict[tuple, tuple] = {}
"""A request's values of Vary'd fields → the same with surrounding whitespace dropped."""


def _raw_values(headers: dict[str, str], names: tuple[str, ...]) -> tuple:
    """The request's values of ``names`` as sent (None when absent)."""
    if len(names) == 2:  # the usual Vary here; a tuple display beats tuple(map(...))
        first, second = names
        return (headers.get(first), headers.get(second))
    return tuple(map(headers.get, names))


def _stripped(values: tuple) -> tuple:
    stripped = tuple(None if value is None else value.strip() for value in values)
    if len(_VALUES) > 4096:
        _VALUES.clear()
    _VALUES[values] = stripped
    return stripped


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: If-None-Match uses the weak comparison (W/ ignored)."""
    if if_none_match.strip() == "*":
        return True
    tag = etag.removeprefix("W/")
    return any(part.strip().removeprefix("W/") == tag for part in if_none_match.split(","))


# --- the store -------------------------------------------------------------------------------


class Stored:
    """A stored response and, from the moment it arrived, what §4.2.3 needs for its age.

    ``initial_age`` is §4.2.3's corrected_initial_age, computed once on arrival (the
    ``Age`` it came with, the time in transit and the apparent age from ``Date``), so
    current_age = initial_age + resident time. ``headers`` are the stored fields without
    ``Age`` (sent fresh on every reuse, §5.1) and ``Date`` (kept as the number ``date``
    and written back on reuse); equal field sets are shared between responses and must
    not be changed in place.
    """

    __slots__ = (
        "status",
        "headers",
        "date",
        "size",
        "response_time",
        "initial_age",
        "lifetime",
        "revalidating_until",
        "previous",
    )

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        size: int,
        request_time: float,
        response_time: float,
        shared: bool,
        previous: Stored | None = None,
    ) -> None:
        text = headers.get("date")
        if text:
            dates = _DATE_VALUES.get(text)
            if dates is None:
                dates = _date_values(text)
            date, self.date = dates
        else:
            date = self.date = None
        # §4.2.3: without a Date the time received stands in for it.
        date_value = response_time if date is None else date
        text = headers.get("age")  # delta-seconds (§1.2.2, §5.1)
        if text is None:
            age = 0
        else:
            age = _AGES.get(text)
            if age is None:
                age = _age(text)
        self.status = status
        fields = self.headers = _shared_fields(headers)
        self.size = size
        self.response_time = response_time
        # corrected_initial_age(age, date_value, request_time, response_time), inline:
        # max(apparent_age, corrected_age_value), where apparent_age = max(0, ...)
        apparent_age = response_time - date_value
        if not apparent_age > 0.0:
            apparent_age = 0.0
        corrected_age_value = age + (response_time - request_time)
        self.initial_age = (
            corrected_age_value if corrected_age_value > apparent_age else apparent_age
        )
        cache_control = fields.get("cache-control")
        lifetime = _LIFETIMES.get((cache_control, shared), _UNPARSED)
        if lifetime is _UNPARSED:
            lifetime = _lifetime_from_directives(cache_control, shared)
        if lifetime is None:
            lifetime = freshness_lifetime(self.directives, headers, date_value, shared)
            lifetime = int(lifetime) if lifetime.is_integer() else lifetime
        self.lifetime = lifetime
        self.revalidating_until = 0
        """A background revalidation (stale-while-revalidate) is under way until then."""
        self.previous = previous
        """The response this one replaces, still served until this one has arrived."""

    def __reduce__(self):
        # Compact checkpoints: the fields in order, no attribute names (read in C).
        return (_restore, _STORED_FIELDS(self))

    @property
    def directives(self) -> dict:
        return parse_cache_control(self.headers.get("cache-control"))

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    def fields(self) -> dict[str, str]:
        """The stored header fields, ``Date`` included (a new dict)."""
        headers = dict(self.headers)
        if self.date is not None:
            headers["date"] = http_date(self.date)
        return headers

    def age(self, now: float) -> float:
        """§4.2.3 current_age = corrected_initial_age + resident_time."""
        return self.initial_age + (now - self.response_time)

    def staleness(self, now: float) -> float:
        """Seconds past its freshness lifetime (negative while fresh)."""
        return self.age(now) - self.lifetime


_STORED_FIELDS = operator.attrgetter(*Stored.__slots__)

# Memos of pure functions of a header value, for Stored: each a dict from the value.
_DATE_VALUES: dict[str, tuple[float | None, float | int | None]] = {}
_AGES: dict[str, int] = {}
_LIFETIMES: dict[tuple[str | None, bool], float | int | None] = {}


def _date_values(text: str) -> tuple[float | None, float | int | None]:
    """A ``Date`` as seconds and as kept in :attr:`Stored.date` (a whole number as int)."""
    date = parse_http_date(text)
    dates = (date, None if date is None else int(date) if date.is_integer() else date)
    if len(_DATE_VALUES) > 4096:
        _DATE_VALUES.clear()
    _DATE_VALUES[text] = dates
    return dates


def _age(text: str) -> int:
    """An ``Age`` value: delta-seconds (§1.2.2, §5.1); 0 when it is not a number."""
    age = 0 if not text.isdigit() or not text.isascii() else min(int(text), DELTA_SECONDS_MAX)
    if len(_AGES) > 4096:
        _AGES.clear()
    _AGES[text] = age
    return age


def _lifetime_from_directives(cache_control: str | None, shared: bool) -> float | int | None:
    """:func:`_directed_lifetime` for a Cache-Control value, a whole number as int."""
    lifetime = _directed_lifetime(parse_cache_control(cache_control), shared)
    if lifetime is not None and lifetime.is_integer():
        lifetime = int(lifetime)
    if len(_LIFETIMES) > 512:
        _LIFETIMES.clear()
    _LIFETIMES[cache_control, shared] = lifetime
    return lifetime


def _restore(
    status, headers, date, size, response_time, initial_age, lifetime, revalidating_until, previous
):
    # Named assignments, not a loop over __slots__: a checkpoint restores ~1,000 of these
    # (the parameters are __slots__ in order; tests/demos/test_edge_cache_http.py checks).
    stored = Stored.__new__(Stored)
    stored.status, stored.headers, stored.date, stored.size = status, headers, date, size
    stored.response_time, stored.initial_age, stored.lifetime = response_time, initial_age, lifetime
    stored.revalidating_until, stored.previous = revalidating_until, previous
    return stored


_FIELDS: dict[tuple, dict[str, str]] = {}
"""The fields in name order → their one shared dict."""
_ORDERED: dict[tuple, dict[str, str]] = {}
"""The fields in the order a response had them → the same shared dict: most responses
repeat the order of the one they were copied from, so this hit saves the sort."""


def _shared_fields(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` without ``Age``, ``Date`` and connection fields, as one shared dict
    per distinct set (so that thousands of stored copies of one response cost one dict)."""
    kept = headers.copy()
    kept.pop("age", None)
    kept.pop("date", None)
    kept.pop("connection", None)
    ordered = tuple(kept.items())
    known = _ORDERED.get(ordered)
    if known is None:
        items = tuple(sorted(ordered))
        known = _FIELDS.get(items)
        if known is None:
            if len(_FIELDS) > 4096:
                _FIELDS.clear()
                _ORDERED.clear()
            known = _FIELDS[items] = dict(items)
        if len(_ORDERED) > 8192:
            _ORDERED.clear()
        _ORDERED[ordered] = known
    return known


@dataclass(slots=True)
class Lookup:
    """What a cache can do with a request: ``outcome`` is MISS, FRESH,
    STALE_WHILE_REVALIDATE (serve it and revalidate in the background) or VALIDATE
    (ask upstream with ``If-None-Match``); ``stored`` is the selected response."""

    outcome: str
    stored: Stored | None = None
    key: tuple | None = None
    reason: str = ""


class HttpCache:
    """One cache: shared (a CDN tier, a proxy) or private (the client's own), holding up to
    ``capacity`` responses and evicting the least recently used."""

    def __init__(self, shared: bool, capacity: int) -> None:
        self.shared = shared
        self.capacity = capacity
        self.entries: dict[tuple, Stored] = {}
        """(url, the request's values of the Vary'd headers) → stored response, oldest use first."""
        self.vary: dict[str, tuple[str, ...]] = {}
        """url → the header names its stored responses vary on."""
        self.count: dict[str, int] = {}
        """url → how many responses for it are stored."""

    def __len__(self) -> int:
        return len(self.entries)

    def __reduce__(self):
        # Compact checkpoints: ``count`` follows from ``entries``.
        return (_restore_cache, (self.shared, self.capacity, self.entries, self.vary))

    def key(self, request: Request, names: tuple[str, ...]) -> tuple:
        """The secondary key of §4.1: the request's values of the Vary'd fields, with
        surrounding whitespace dropped; an absent field matches only an absent one."""
        if not names:
            return (request.url, ())
        values = _raw_values(request.headers, names)
        return (request.url, _VALUES.get(values) or _stripped(values))

    def lookup(self, request: Request, now: float) -> Lookup:
        """Select a stored response for the request (§4) and say how it may be used."""
        names = self.vary.get(request.url)
        if names is None:
            return Lookup(MISS, None, None, "§4 nothing stored for this URI")
        if names:  # self.key(request, names), inline
            values = _raw_values(request.headers, names)
            key = (request.url, _VALUES.get(values) or _stripped(values))
        else:
            key = (request.url, ())
        entries = self.entries
        head = stored = entries.get(key)
        # A response still on its way here is not in the cache yet; until it arrives the
        # one it replaces answers.
        while stored is not None and stored.response_time > now:
            stored = stored.previous
        if stored is None:
            return Lookup(MISS, None, key, "§4.1 no stored response matches the Vary'd fields")
        if head is stored:
            stored.previous = None
        del entries[key]
        entries[key] = head  # most recently used
        return self._freshness(request, stored, key, now)

    def _freshness(self, request: Request, stored: Stored, key: tuple, now: float) -> Lookup:
        requested = parse_cache_control(request.headers.get("cache-control"))
        directives = stored.directives
        if "no-cache" in requested:
            return Lookup(VALIDATE, stored, key, "§5.2.1.4 the request says no-cache")
        if "no-cache" in directives:
            return Lookup(VALIDATE, stored, key, "§5.2.2.4 no-cache: validate every time")
        age = stored.age(now)
        request_max_age = delta_seconds(requested, "max-age")
        if request_max_age is not None and age > request_max_age:
            return Lookup(VALIDATE, stored, key, "§5.2.1.1 older than the request's max-age")
        staleness = age - stored.lifetime
        if staleness < 0:
            return Lookup(FRESH, stored, key, "§4.2 fresh: freshness_lifetime > current_age")
        if not self.may_serve_stale(stored):
            return Lookup(VALIDATE, stored, key, "§4.2.4 stale and a directive forbids serving it")
        window = delta_seconds(directives, "stale-while-revalidate")
        if window is not None and staleness <= window:
            return Lookup(
                STALE_WHILE_REVALIDATE, stored, key, "RFC 5861 §3 inside stale-while-revalidate"
            )
        return Lookup(VALIDATE, stored, key, "§4.2 stale: validate before reuse")

    def may_serve_stale(self, stored: Stored) -> bool:
        """§4.2.4: never under no-cache, must-revalidate (§5.2.2.2) or, in a shared
        cache, proxy-revalidate (§5.2.2.8) or s-maxage (§5.2.2.10)."""
        directives = stored.directives
        if "must-revalidate" in directives or "no-cache" in directives:
            return False
        shared_only = "proxy-revalidate" in directives or "s-maxage" in directives
        return not (self.shared and shared_only)

    def may_serve_stale_on_error(self, stored: Stored, now: float) -> bool:
        """RFC 5861 §4: after an error, stale for up to stale-if-error seconds, unless
        §4.2.4 forbids stale altogether."""
        if not self.may_serve_stale(stored):
            return False
        window = delta_seconds(stored.directives, "stale-if-error")
        return window is not None and stored.staleness(now) <= window

    def conditional(self, request: Request, stored: Stored | None) -> Request:
        """The request this cache sends upstream (§4.3.1): the client's own validators are
        not passed on (this cache answers them itself, §4.3.2), and a stored response's
        ETag goes as If-None-Match. Without either, that is ``request`` itself (requests
        are not changed in place)."""
        etag = None if stored is None else stored.headers.get("etag")
        if etag is None and "if-none-match" not in request.headers:
            return request
        headers = request.headers.copy()
        headers.pop("if-none-match", None)
        if etag is not None:
            headers["if-none-match"] = etag
        return Request(request.url, headers)

    def store(
        self, request: Request, response: Response, request_time: float, response_time: float
    ) -> Stored | None:
        """Store the response if §3 allows; it counts from ``response_time`` (when it
        arrived here). Returns the stored response or None."""
        shared = self.shared
        if not storable(request, response, shared)[0]:
            return None
        url = request.url
        headers = response.headers
        vary_value = headers.get("vary")
        names = (_VARY.get(vary_value) or _vary_field(vary_value)) if vary_value else ()
        vary = self.vary
        if vary.get(url, names) != names:
            # The URI now varies on other fields: its older responses can no longer be
            # selected consistently, so they go (a cache may evict at any time).
            self._forget(url)
        vary[url] = names
        if names:  # self.key(request, names), inline
            values = _raw_values(request.headers, names)
            key = (url, _VALUES.get(values) or _stripped(values))
        else:
            key = (url, ())
        entries = self.entries
        old = entries.pop(key, None)
        if old is None:
            count = self.count
            count[url] = count.get(url, 0) + 1
        stored = Stored(
            response.status, headers, response.size, request_time, response_time, shared, old
        )
        entries[key] = stored
        if len(entries) > self.capacity:
            # self._evict(), inline for the usual one eviction
            oldest = next(iter(entries))
            del entries[oldest]
            url = oldest[0]
            count = self.count
            left = count[url] - 1
            if left:
                count[url] = left
            else:
                del count[url]
                del vary[url]
            if len(entries) > self.capacity:
                self._evict()
        return stored

    def freshen(
        self,
        key: tuple,
        stored: Stored,
        response: Response,
        request_time: float,
        response_time: float,
        request: Request,
    ) -> Stored | None:
        """§4.3.4: a 304 whose ETag matches updates the stored response's header fields
        (its body stays) and its freshness; returns the updated response, or None if the
        304 selects nothing. ``request`` is the one that was validated: if the 304 brings
        another Vary, the response is kept for that request's values only (§4.1); if it
        makes the response unstorable (§3), it serves this request and is not kept."""
        etag = response.headers.get("etag")
        if etag is None or stored.etag is None or not _etag_matches(etag, stored.etag):
            return None
        headers = stored.fields()
        for name, value in response.headers.items():
            if name not in ("content-length", "connection"):
                headers[name] = value
        updated = Stored(
            stored.status, headers, stored.size, request_time, response_time, self.shared
        )
        if not storable(request, Response(updated.status, updated.headers), self.shared)[0]:
            # The 304 now says no-store (or private, here): answer this request with
            # it (§4.3.3), keep nothing (§3).
            self._drop(key)
            return updated
        names = _vary_names(updated.headers)
        if names != self.vary.get(key[0]):
            self._forget(key[0])
            self.vary[key[0]] = names
            self.entries[self.key(request, names)] = updated
            self.count[key[0]] = 1
            self._evict()
            return updated
        head = self.entries.get(key)
        if head is not None and _chain_has(head, stored):  # not evicted meanwhile
            updated.previous = self.entries.pop(key)
            self.entries[key] = updated
        return updated

    def answer(self, request: Request, stored: Stored, now: float) -> Response:
        """The response sent downstream from a stored one: with ``Age`` (§5.1, every
        reuse), and a 304 when the request's If-None-Match matches its ETag (§4.3.2)."""
        headers = stored.headers.copy()  # stored.fields(), inline
        date = stored.date
        if date is not None:
            headers["date"] = _DATES.get(date) or http_date(date)
        # stored.age(now), inline
        headers["age"] = str(max(0, int(stored.initial_age + (now - stored.response_time))))
        inm = request.headers.get("if-none-match")
        if inm is not None and stored.etag is not None and _etag_matches(inm, stored.etag):
            keep = ("cache-control", "date", "etag", "expires", "vary", "age")
            return Response(304, {k: v for k, v in headers.items() if k in keep}, 0)
        return Response(stored.status, headers, stored.size)

    def purge(self) -> int:
        """Drop everything (a CDN's purge); returns how many responses went."""
        count = len(self.entries)
        self.entries.clear()
        self.vary.clear()
        self.count.clear()
        return count

    def _drop(self, key: tuple) -> None:
        if self.entries.pop(key, None) is None:
            return
        url = key[0]
        left = self.count[url] - 1
        if left:
            self.count[url] = left
        else:
            del self.count[url]
            del self.vary[url]

    def _forget(self, url: str) -> None:
        for key in [k for k in self.entries if k[0] == url]:
            del self.entries[key]
        self.count.pop(url, None)

    def _evict(self) -> None:
        entries = self.entries
        while len(entries) > self.capacity:
            key = next(iter(entries))
            del entries[key]
            url = key[0]
            left = self.count[url] - 1
            if left:
                self.count[url] = left
            else:
                del self.count[url]
                del self.vary[url]


def _restore_cache(shared: bool, capacity: int, entries: dict, vary: dict) -> HttpCache:
    cache = HttpCache(shared, capacity)
    cache.entries, cache.vary = entries, vary
    for url, _ in entries:
        cache.count[url] = cache.count.get(url, 0) + 1
    return cache


def _chain_has(head: Stored, stored: Stored) -> bool:
    while head is not None:
        if head is stored:
            return True
        head = head.previous
    return False
