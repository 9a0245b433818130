"""What the ICC team and the cities do to deadlines: create, edit, cancel, mark done, snooze,
reopen, and the next occurrence of a recurring one. Each takes an open session (the caller's
transaction) and the current instant; none sends anything."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import UsageError
from bot.deadlines.audience import Audience, resolve_audience
from bot.deadlines.fields import DeadlineFields
from bot.deadlines.planning import (
    DEFAULT_PLAN,
    DEFAULT_REMIND_AT,
    format_plan,
    local_date,
    local_instant,
    next_occurrence,
    parse_plan,
    plan_city,
    snooze_end,
)
from storage.models import City, Deadline, DeadlineCity
from storage.queries import deadlines as queries
from storage.queries import registry

log = logging.getLogger(__name__)


def remind_time(deadline: Deadline) -> time:
    hour, minute = deadline.remind_at.split(":")
    return time(int(hour), int(minute))


def plan_of(deadline: Deadline) -> tuple[int, ...]:
    return parse_plan(deadline.plan)


async def plan_reminders(session: AsyncSession, deadline: Deadline, cities: Sequence[City], now: datetime,
                         snoozes: dict[int, datetime] | None = None) -> None:
    """Reminder rows of the deadline's current round for these cities."""
    assert deadline.id is not None
    steps, at = plan_of(deadline), remind_time(deadline)
    rows: list[dict[str, Any]] = []
    for city in cities:
        assert city.id is not None
        snoozed = (snoozes or {}).get(city.id)
        for planned in plan_city(deadline.due_date, steps, city.timezone, at, now, snoozed):
            rows.append({"deadline_id": deadline.id, "city_id": city.id, "round": deadline.round,
                         "step": planned.step, "planned_at": planned.planned_at, "due_at": planned.due_at,
                         "state": "skipped" if planned.skipped else "pending", "note": planned.skipped or "",
                         "attempts": 0, "late": False, "sent_to": "", "message_ids": ""})
    await queries.insert_reminders(session, rows)


async def create_deadline(session: AsyncSession, fields: DeadlineFields, audience: Audience, *, now: datetime,
                          created_by_id: int | None, previous_id: int | None = None,
                          repeat_day: int | None = None) -> Deadline:
    assert fields.title is not None and fields.due is not None
    deadline = Deadline(
        title=fields.title, description=fields.description or "", link=fields.link or "", due_date=fields.due,
        remind_at=(fields.remind_at or DEFAULT_REMIND_AT).strftime("%H:%M"), audience=audience.spec,
        plan=format_plan(fields.plan or DEFAULT_PLAN), repeat=fields.repeat,
        repeat_day=(repeat_day or fields.due.day) if fields.repeat else None, previous_id=previous_id,
        created_by_id=created_by_id, created_at=now)
    session.add(deadline)
    await session.flush()
    assert deadline.id is not None
    for city in audience.cities:
        assert city.id is not None
        session.add(DeadlineCity(deadline_id=deadline.id, city_id=city.id))
    await session.flush()
    await plan_reminders(session, deadline, audience.cities, now)
    return deadline


@dataclass(frozen=True)
class EditResult:
    changed: list[str]
    added: list[str]
    removed: list[str]


async def edit_deadline(session: AsyncSession, deadline: Deadline, fields: DeadlineFields, *,
                        now: datetime) -> EditResult:
    """Apply the given fields. Texts take effect at the next reminder; a new audience adds and
    removes cities; a new due date, plan or time plans the remaining reminders afresh."""
    assert deadline.id is not None
    changed: list[str] = []
    for name in ("title", "description", "link"):
        value = getattr(fields, name)
        if value is not None and value != getattr(deadline, name):
            setattr(deadline, name, value)
            changed.append(name)
    if fields.repeat_given and fields.repeat != deadline.repeat:
        deadline.repeat = fields.repeat
        deadline.repeat_day = deadline.due_date.day if fields.repeat else None
        changed.append("repeat")
    added: list[str] = []
    removed: list[str] = []
    if fields.audience is not None:
        audience = await resolve_audience(session, fields.audience)
        added, removed = await _change_audience(session, deadline, audience, now)
        if added or removed or audience.spec != deadline.audience:
            deadline.audience = audience.spec
            changed.append("audience")
    replan = False
    if fields.due is not None and fields.due != deadline.due_date:
        deadline.due_date = fields.due
        if deadline.repeat:
            deadline.repeat_day = fields.due.day
        changed.append("due")
        replan = True
    if fields.plan is not None and format_plan(fields.plan) != deadline.plan:
        deadline.plan = format_plan(fields.plan)
        changed.append("plan")
        replan = True
    if fields.remind_at is not None and fields.remind_at.strftime("%H:%M") != deadline.remind_at:
        deadline.remind_at = fields.remind_at.strftime("%H:%M")
        changed.append("time")
        replan = True
    if changed:
        deadline.updated_at = now
    session.add(deadline)
    await session.flush()
    if replan:
        await _replan(session, deadline, now)
    return EditResult(changed, added, removed)


async def _change_audience(session: AsyncSession, deadline: Deadline, audience: Audience,
                           now: datetime) -> tuple[list[str], list[str]]:
    assert deadline.id is not None
    current = {entry.city_id: entry for entry in await queries.audience_of(session, deadline.id)}
    wanted = {city.id: city for city in audience.cities if city.id is not None}
    newcomers = [city for city_id, city in wanted.items() if city_id not in current]
    leaving = [city_id for city_id in current if city_id not in wanted]
    for city in newcomers:
        assert city.id is not None
        session.add(DeadlineCity(deadline_id=deadline.id, city_id=city.id))
    await session.flush()
    await plan_reminders(session, deadline, newcomers, now)
    gone = await registry.cities_by_ids(session, leaving)
    for city_id in leaving:
        await queries.drop_pending(session, deadline.id, "left the audience", city_id=city_id)
        await session.delete(current[city_id])
    return sorted(city.name for city in newcomers), sorted(city.name for city in gone.values())


async def _replan(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
    """A new round: what was pending is dropped; the cities that have not answered are planned
    again from now (a step already past goes out once, at their next working hour)."""
    assert deadline.id is not None
    deadline.round += 1
    session.add(deadline)
    await queries.drop_pending(session, deadline.id, "replanned", before_round=deadline.round)
    entries = [entry for entry in await queries.audience_of(session, deadline.id) if entry.done_at is None]
    cities = await registry.cities_by_ids(session, [entry.city_id for entry in entries])
    snoozes = {entry.city_id: entry.snoozed_until for entry in entries
               if entry.snoozed_until is not None and entry.snoozed_until > now}
    await plan_reminders(session, deadline, list(cities.values()), now, snoozes)


async def cancel_deadline(session: AsyncSession, deadline: Deadline, *, now: datetime, person_id: int | None) -> int:
    """No more reminders; a recurring deadline's series ends here. Returns how many were pending."""
    assert deadline.id is not None
    deadline.state = "cancelled"
    deadline.cancelled_at = now
    deadline.cancelled_by_id = person_id
    session.add(deadline)
    return await queries.drop_pending(session, deadline.id, "cancelled")


class NotInAudience(Exception):
    pass


async def entry_for(session: AsyncSession, deadline: Deadline, city: City) -> DeadlineCity:
    assert deadline.id is not None and city.id is not None
    entry = await queries.audience_entry(session, deadline.id, city.id)
    if entry is None:
        raise NotInAudience(city.name)
    return entry


async def mark_done(session: AsyncSession, deadline: Deadline, city: City, *, now: datetime,
                    person_id: int | None) -> DeadlineCity:
    """The city has answered: it is never reminded of this deadline again. Returns its entry
    (already done before when `done_at` is not `now`)."""
    entry = await entry_for(session, deadline, city)
    if entry.done_at is not None:
        return entry
    assert deadline.id is not None and city.id is not None
    entry.done_at = now
    entry.done_by_id = person_id
    entry.snoozed_until = None
    session.add(entry)
    await queries.drop_pending(session, deadline.id, "done", city_id=city.id)
    return entry


async def reopen(session: AsyncSession, deadline: Deadline, city: City, *, now: datetime) -> list[datetime]:
    """Undo a Done pressed by mistake: the reminders still to come are planned again.
    Returns when they go out."""
    entry = await entry_for(session, deadline, city)
    assert deadline.id is not None and city.id is not None
    entry.done_at = None
    entry.done_by_id = None
    session.add(entry)
    restored = await queries.restore_dropped(session, deadline.id, city.id, deadline.round, "done", now)
    return sorted(row.due_at for row in restored)


async def snooze(session: AsyncSession, deadline: Deadline, city: City, days: int, *,
                 now: datetime) -> datetime | None:
    """No reminder before `days` from now (at the city's usual hour, on a working day): those
    that would have come meanwhile wait for then, and fold into one. Returns when the city's
    next reminder now goes out; None when none is left."""
    entry = await entry_for(session, deadline, city)
    assert deadline.id is not None and city.id is not None
    pending = await queries.pending_of(session, deadline.id, city.id)
    if not pending:
        return None
    until = snooze_end(now, days, city.timezone, remind_time(deadline))
    entry.snoozed_until = until
    session.add(entry)
    await queries.postpone_pending(session, deadline.id, city.id, until)
    return max(min(row.due_at for row in pending), until)


def recurrence_instant(deadline: Deadline, zone: str) -> datetime:
    """When an occurrence is over and its successor is created: the day after it was due, at
    midnight in the ICC team's time zone."""
    return local_instant(deadline.due_date + timedelta(days=1), time(0, 0), zone)


async def create_next_occurrence(session: AsyncSession, deadline: Deadline, *, now: datetime,
                                 zone: str) -> Deadline | None:
    """The series' next occurrence, once: same texts, plan and audience (resolved afresh; the
    previous cities if that fails). None when it exists already or the deadline does not repeat."""
    if not deadline.repeat or deadline.state != "open" or deadline.id is None:
        return None
    if await queries.successor_of(session, deadline.id) is not None:
        return None
    today = local_date(now, zone)
    due = next_occurrence(deadline.due_date, deadline.repeat, deadline.repeat_day, not_before=today)
    try:
        audience = await resolve_audience(session, deadline.audience)
    except UsageError:
        entries = await queries.audience_of(session, deadline.id)
        cities = await registry.cities_by_ids(session, [entry.city_id for entry in entries])
        audience = Audience(deadline.audience, sorted(cities.values(), key=lambda city: city.name))
        log.warning("deadline %s: its audience %s no longer resolves; the next occurrence asks the same cities",
                    deadline.id, deadline.audience)
    fields = DeadlineFields(title=deadline.title, due=due, description=deadline.description, link=deadline.link,
                            repeat=deadline.repeat, plan=plan_of(deadline), remind_at=remind_time(deadline))
    # Unique on previous_id: if another process creates it at the same moment, one commit fails.
    return await create_deadline(session, fields, audience, now=now, created_by_id=deadline.created_by_id,
                                 previous_id=deadline.id, repeat_day=deadline.repeat_day)
