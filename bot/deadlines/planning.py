"""When reminders go out: pure functions of dates, time zones and a plan, with no storage.

Rules (README, "Deadlines and reminders"):
- A step is a number of days from the due date (-7: a week before, 3: three days overdue). It
  goes out at the deadline's remind-at time (09:30 by default), local to each city, on a working
  day. A step that falls on the city's weekend moves to the working day *before* when it is a
  step up to the due date (the reminder must come in time) and to the working day *after* when
  it is an overdue step. 09:30 stays 09:30 local across daylight-saving changes.
- Two steps that land on the same day: only the later one is kept.
- Steps whose time has already passed when a deadline is planned are skipped, except the most
  recent one, which goes out at the city's next working hour (now, if the city is within its
  working day; else its next remind-at time) unless the following step comes first. So a
  deadline created late still reaches everyone once, at a sane local hour.
- Snoozing moves every reminder that would come before the snooze's end to that end: the given
  number of days later, at the remind-at time, on a working day.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_PLAN: tuple[int, ...] = (-14, -7, -1, 0, 3, 7)
DEFAULT_REMIND_AT = time(9, 30)
WORKDAY_ENDS = time(17, 0)
"""A reminder caught up "now" only before this local hour; later it waits for the next morning."""
MAX_PLAN_STEPS = 10
MAX_STEP_DAYS = 90

# Weekends by time zone where they are not Saturday and Sunday (weekday numbers, Monday = 0).
_WEEKENDS: dict[str, frozenset[int]] = {
    "Asia/Jerusalem": frozenset({4, 5}),
    "Asia/Amman": frozenset({4, 5}),
}
_DEFAULT_WEEKEND = frozenset({5, 6})

SNOOZES: dict[str, int] = {"1d": 1, "3d": 3, "1w": 7}
"""Snooze choices (button and command) → days."""


def weekend_of(zone: str) -> frozenset[int]:
    return _WEEKENDS.get(zone, _DEFAULT_WEEKEND)


def working_day(day: date, zone: str, *, forward: bool) -> date:
    """`day`, or the nearest working day after it (`forward`) or before it."""
    weekend = weekend_of(zone)
    step = timedelta(days=1 if forward else -1)
    while day.weekday() in weekend:
        day += step
    return day


def local_instant(day: date, at: time, zone: str) -> datetime:
    """`at` o'clock on `day` in `zone`, as a UTC instant (wall time kept across DST changes)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local_date(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


def step_day(due: date, step: int, zone: str) -> date:
    return working_day(due + timedelta(days=step), zone, forward=step > 0)


def next_working_hour(now: datetime, zone: str, at: time) -> datetime:
    """`now` when it is within the city's working day (a working day, between `at` and the end
    of the working day); otherwise the next working day's `at`."""
    local = now.astimezone(ZoneInfo(zone))
    today = local.date()
    if today.weekday() not in weekend_of(zone):
        if at <= local.time() < WORKDAY_ENDS:
            return now
        if local.time() < at:
            return local_instant(today, at, zone)
    return local_instant(working_day(today + timedelta(days=1), zone, forward=True), at, zone)


def snooze_end(now: datetime, days: int, zone: str, at: time) -> datetime:
    """`days` later in the city's calendar, at `at`, on a working day (never earlier than now)."""
    day = working_day(local_date(now, zone) + timedelta(days=days), zone, forward=True)
    return max(local_instant(day, at, zone), now)


@dataclass(frozen=True)
class PlannedStep:
    step: int
    planned_at: datetime
    due_at: datetime
    skipped: str | None = None
    """Why the step will not go out (`superseded`, `before-creation`), or None."""


def plan_city(due: date, steps: Sequence[int], zone: str, at: time, now: datetime,
              snoozed_until: datetime | None = None) -> list[PlannedStep]:
    """Every step of `steps` for one city, with when it goes out or why it does not."""
    instants = {step: local_instant(step_day(due, step, zone), at, zone) for step in sorted(set(steps))}
    # Same day as a later step (a weekend moved them together): the later one says it all.
    by_day: dict[datetime, int] = {}
    for step, instant in instants.items():
        by_day[instant] = max(step, by_day.get(instant, step))
    kept = sorted(by_day.values())
    passed = [step for step in kept if instants[step] <= now]
    future = [step for step in kept if instants[step] > now]
    catch_up: datetime | None = None
    if passed:
        catch_up = next_working_hour(now, zone, at)
        if future and catch_up >= instants[future[0]]:
            catch_up = None
    planned = []
    for step, instant in instants.items():
        due_at = instant
        skipped: str | None = None
        if by_day[instant] != step:
            skipped = "superseded"
        elif step in passed:
            if step == passed[-1] and catch_up is not None:
                due_at = catch_up
            else:
                skipped = "before-creation"
        if snoozed_until is not None and due_at < snoozed_until:
            due_at = snoozed_until
        planned.append(PlannedStep(step, instant, due_at, skipped))
    return planned


# ---- parsing what the ICC team types --------------------------------------------------------------

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_EVERY = re.compile(r"^every-(\d{1,2})-months?$")


class PlanningError(ValueError):
    """A value the ICC team typed that cannot be planned; `field` says which."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field}: {value!r}")
        self.field = field
        self.value = value


def parse_due(text: str) -> date:
    value = text.strip()
    if not _DATE.match(value):
        raise PlanningError("due", value)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PlanningError("due", value) from None


def parse_time(text: str) -> time:
    """`09:30` → 09:30; only working hours (07:00 to 19:00) are sane for a reminder."""
    match = _TIME.match(text.strip())
    if not match:
        raise PlanningError("time", text)
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59 or not time(7, 0) <= time(hour, minute) <= time(19, 0):
        raise PlanningError("time", text)
    return time(hour, minute)


def parse_plan(text: str) -> tuple[int, ...]:
    """`-14,-7,-1,0,3,7` → those steps (sorted, distinct)."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        steps = sorted({int(part) for part in parts})
    except ValueError:
        raise PlanningError("plan", text) from None
    if not steps or len(steps) > MAX_PLAN_STEPS or any(abs(step) > MAX_STEP_DAYS for step in steps):
        raise PlanningError("plan", text)
    return tuple(steps)


def format_plan(steps: Sequence[int]) -> str:
    return ",".join(str(step) for step in steps)


def parse_repeat(text: str) -> str | None:
    """`yearly` | `every-<n>-months` (1 to 24) | `none` → the stored form (None for none)."""
    value = text.strip().lower()
    if value in {"none", "no", "never", ""}:
        return None
    if value in {"yearly", "annually", "every-12-months"}:
        return "yearly"
    match = _EVERY.match(value)
    if match and 1 <= int(match.group(1)) <= 24:
        return f"every-{int(match.group(1))}-months"
    raise PlanningError("repeat", text)


def repeat_months(repeat: str) -> int:
    if repeat == "yearly":
        return 12
    match = _EVERY.match(repeat)
    assert match is not None, repeat
    return int(match.group(1))


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """`day` plus `months`, on `anchor_day` (default: `day`'s own) or the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor_day or day.day, last))


def next_occurrence(due: date, repeat: str, anchor_day: int | None, not_before: date) -> date:
    """The series' next due date after `due`, skipping any that would already be past."""
    months = repeat_months(repeat)
    step = 1
    following = add_months(due, months, anchor_day)
    while following < not_before:
        step += 1
        following = add_months(due, months * step, anchor_day)
    return following
