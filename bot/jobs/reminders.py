"""Deadline reminders: send what is due, and create recurring deadlines' next occurrences.

Woken by the scheduler at every reminder's exact time (and every 30 s, which also picks up
whatever another process or a restart left behind); `next_due` is two indexed queries.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.core import Bot
from bot.deadlines.actions import recurrence_instant
from bot.deadlines.delivery import ReminderDelivery
from bot.deadlines.recurrence import create_occurrence, occurrences_due
from storage.models import Reminder
from storage.queries import deadlines as queries

log = logging.getLogger(__name__)

RETRY_FAILED_OCCURRENCE = timedelta(hours=1)


class ReminderJob:
    name = "deadline.reminders"

    def __init__(self, bot: Bot, *, wall: Clock | None = None) -> None:
        self.bot = bot
        self.delivery = ReminderDelivery(bot, wall=wall)
        self._occurrences_retry_at: datetime | None = None
        self._next_occurrence: datetime | None = None
        """When the earliest recurring deadline is over, as `next_due` last saw it."""
        self._looked = False

    async def run(self, now: datetime) -> None:
        occurrence_due = not self._looked or (self._next_occurrence is not None and self._next_occurrence <= now)
        if occurrence_due and (self._occurrences_retry_at is None or self._occurrences_retry_at <= now):
            self._occurrences_retry_at = None
            for deadline, due in await occurrences_due(self.bot, now):
                if due > now or deadline.id is None:
                    continue
                try:
                    await create_occurrence(self.bot, deadline.id, now)
                except Exception:
                    # Tried again later; meanwhile `next_due` must not keep reporting it as due now.
                    log.exception("deadline %s: creating its next occurrence failed", deadline.id)
                    self._occurrences_retry_at = now + RETRY_FAILED_OCCURRENCE
        self._looked = False  # deadlines may have changed meanwhile: look again next time
        outcomes = await self.delivery.run(now)
        if outcomes:
            log.info("reminders: %s", ", ".join(f"{count} {state}" for state, count in sorted(outcomes.items())))

    async def next_due(self, now: datetime) -> datetime | None:
        async with self.bot.db.session() as session:
            pending = await queries.next_pending(session, Reminder, self.delivery.wall.now())
            recurring = await queries.earliest_recurring(session)
        dues = [pending] if pending is not None else []
        self._next_occurrence, self._looked = None, True
        if recurring is not None:
            over = recurrence_instant(recurring, self.bot.settings.icc_timezone)
            self._next_occurrence = max(over, self._occurrences_retry_at or over)
            dues.append(self._next_occurrence)
        return min(dues, default=None)


def setup(bot: Bot) -> None:
    bot.scheduler.add(ReminderJob(bot), every=timedelta(seconds=30))
