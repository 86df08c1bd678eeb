"""systemd-oomd's memory pressure rule, as ``oomd-util.c`` writes it.

``oomd_pressure_above()``: a cgroup whose ``memory.pressure`` full avg10 is strictly
above its limit starts a clock (``mem_pressure_limit_hit_start``); once the clock has
run for at least ``ManagedOOMMemoryPressureDurationSec`` (default 30 s, oomd.conf(5))
the cgroup is a kill candidate; a poll at or below the limit stops the clock. oomd
reads the average as text (``/proc/pressure``'s two decimals) and parses it with
``parse_loadavg_fixed_point``, so "60.00" is exactly the 60 % limit and not above it.

What oomd does with a candidate (the reclaim window, the pause after a kill, the pick
by pgscan rate) is ``oomd-manager.c``'s business and stays in the machine.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_DURATION_S", "DEFAULT_LIMIT_PCT", "PressureRule", "oomd_loadavg"]

DEFAULT_LIMIT_PCT = 60  # DefaultMemoryPressureLimit=60%
DEFAULT_DURATION_S = 30.0  # DefaultMemoryPressureDurationSec=30s
_EPS = 1e-9  # simulated seconds are sums of 0.1 s ticks


def oomd_loadavg(display: str) -> int:
    """Parse an ``avg10=`` value the way systemd does (``parse_loadavg_fixed_point``).

    systemd reads the two-decimal text, not the kernel's raw fixed point, and stores
    ``int << 11 | ceil(frac * 2048 / 100)``. So "60.00" parses to exactly the limit and
    is *not* above it; "60.01" is.
    """
    whole, _, frac = display.partition(".")
    return (int(whole) << 11) | -(-(int(frac) << 11) // 100)


@dataclass
class PressureRule:
    """One cgroup's ``ManagedOOMMemoryPressure=kill`` rule and its clock."""

    limit_pct: int = DEFAULT_LIMIT_PCT
    duration_s: float = DEFAULT_DURATION_S
    hit_start: float | None = None
    """When avg10 was first seen above the limit in the current stretch, or None."""

    @property
    def limit(self) -> int:
        """The limit as loadavg fixed point (``store_loadavg_fixed_point(limit, 0)``)."""
        return self.limit_pct << 11

    def above(self, now: float, avg10: str) -> bool:
        """One poll: True if ``avg10`` (as text) has been above the limit for the
        duration, counting from the first poll of this stretch above it."""
        if oomd_loadavg(avg10) > self.limit:
            if self.hit_start is None:
                self.hit_start = now
            return now - self.hit_start >= self.duration_s - _EPS
        self.hit_start = None
        return False

    def reset(self) -> None:
        """Forget the stretch (oomd restarted, or the cgroup's processes did)."""
        self.hit_start = None
