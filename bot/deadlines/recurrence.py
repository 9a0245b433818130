"""Recurring deadlines (the annual survey, the bi-monthly newsletter input) create their next
occurrence themselves: when an occurrence's due date has passed in the ICC team's time zone, or
as soon as every city has answered it. A unique key (`Deadline.previous_id`) makes that happen
once, whichever process gets there first."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.core import Bot
from bot.deadlines.actions import create_next_occurrence, recurrence_instant
from storage.models import Deadline
from storage.queries import deadlines as queries

log = logging.getLogger(__name__)


async def occurrences_due(bot: Bot, now: datetime | None = None) -> list[tuple[Deadline, datetime]]:
    """Recurring occurrences without a successor yet, with when the successor is due: now when
    every city has answered, else when the occurrence is over."""
    zone = bot.settings.icc_timezone
    async with bot.db.session() as session:
        candidates = await queries.recurring_without_successor(session)
        counts = await queries.answer_counts(session, [d.id for d in candidates if d.id is not None])
    due = []
    for deadline in candidates:
        done, total = counts.get(deadline.id or 0, (0, 0))
        over = recurrence_instant(deadline, zone)
        due.append((deadline, min(over, now) if now is not None and total and done == total else over))
    return due


async def create_occurrence(bot: Bot, deadline_id: int, now: datetime) -> Deadline | None:
    """The next occurrence of `deadline_id`, if it is due and does not exist yet."""
    try:
        async with bot.db.session() as session:
            deadline = await queries.get_deadline(session, deadline_id)
            if deadline is None:
                return None
            created = await create_next_occurrence(session, deadline, now=now, zone=bot.settings.icc_timezone)
    except IntegrityError:
        return None  # another process created it at the same moment
    if created is not None:
        log.info("deadline %s: next occurrence #%s due %s", deadline_id, created.id, created.due_date)
    return created


async def follow_up_answers(bot: Bot, deadline_id: int, now: datetime) -> Deadline | None:
    """After a city answered: when it was the last one, a recurring deadline's next occurrence."""
    async with bot.db.session() as session:
        done, total = (await queries.answer_counts(session, [deadline_id])).get(deadline_id, (0, 0))
        deadline = await queries.get_deadline(session, deadline_id)
    if deadline is None or not deadline.repeat or not total or done < total:
        return None
    return await create_occurrence(bot, deadline_id, now)
