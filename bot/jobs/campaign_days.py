"""Joint-campaign days: announce each international day in every group channel, once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.clock import Clock
from bot.core import Bot
from bot.deadlines.campaign_days import KIND, CampaignComposer, CampaignDay, Occurrence, default_calendar, occurrences
from bot.deadlines.notices import NoticeDelivery, create_batch, watching_since
from bot.deadlines.planning import local_date
from storage.models import Channel
from storage.queries import deadlines as queries


class CampaignDayJob:
    name = "deadline.campaign-days"

    def __init__(self, bot: Bot, calendar: Sequence[CampaignDay] | None = None, *, wall: Clock | None = None) -> None:
        self.bot = bot
        self.zone = bot.settings.icc_timezone
        self.calendar = tuple(calendar) if calendar is not None else default_calendar()
        self.delivery = NoticeDelivery(bot, CampaignComposer(self.calendar, self.zone), wall=wall)
        self._since: datetime | None = None
        self._announced: set[str] = set()
        """Days known to be announced (a batch exists; it never goes away)."""

    async def _unannounced(self, now: datetime) -> tuple[list[Occurrence], datetime | None]:
        """Days whose announcement is due and not made yet; and the next announcement's time."""
        today = local_date(now, self.zone)
        self._since = self._since or await watching_since(self.bot, KIND, now)
        due: list[Occurrence] = []
        for occurrence in occurrences(self.calendar, now, self.zone):
            if occurrence.day < today or occurrence.announce_at < self._since or occurrence.key in self._announced:
                continue
            if occurrence.announce_at > now:
                return due, occurrence.announce_at
            async with self.bot.db.session() as session:
                if await queries.batch_exists(session, KIND, occurrence.key):
                    self._announced.add(occurrence.key)
                    continue
            due.append(occurrence)
        return due, None

    async def run(self, now: datetime) -> None:
        due, _later = await self._unannounced(now)
        if due:
            async with self.bot.db.session() as session:
                channels = [f"channel:{channel_id}" for channel_id in await session.exec(
                    select(Channel.id).where(col(Channel.group_id).is_not(None)).order_by(col(Channel.id)))]
            for occurrence in due:
                await create_batch(self.bot, KIND, occurrence.key, channels, now, now)
                self._announced.add(occurrence.key)  # by this process or, a moment ago, another
            self.delivery.expect()
        await self.delivery.run(now)

    async def next_due(self, now: datetime) -> datetime | None:
        due, later = await self._unannounced(now)
        dues = [now] if due else []
        if later is not None:
            dues.append(later)
        if (pending := await self.delivery.next_due()) is not None:
            dues.append(pending)
        return min(dues, default=None)


def setup(bot: Bot) -> None:
    bot.scheduler.add(CampaignDayJob(bot), every=timedelta(minutes=5))
