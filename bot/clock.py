"""Time for the whole bot comes from a clock object, so tests and the console move time
instead of sleeping. Every instant is an aware UTC datetime."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, the console's `!clock`)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _as_utc(start or datetime.now(UTC).replace(microsecond=0))

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = _as_utc(instant)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class OffsetClock:
    """Wall time shifted by an offset that only grows: the console's clock, so real time keeps
    flowing in an interactive session and `!clock +3d` jumps ahead."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, instant: datetime) -> None:
        target = _as_utc(instant)
        if target < self.now():
            raise ValueError("the clock only moves forward")
        self._offset = target - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: the bot's clock works in aware UTC instants")
    return instant.astimezone(UTC)


_DURATION = re.compile(r"(\d+)\s*([wdhms])")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """`3d`, `1w`, `2h30m`, `90s` → timedelta. Raises ValueError on anything else."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(compact)))


def parse_instant(text: str) -> datetime:
    """ISO 8601 instant (`2027-01-10T09:30Z`, `2027-01-10T09:30+01:00`); naive means UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
