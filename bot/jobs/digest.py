"""The weekly deadlines digest to the ICC team (Monday 09:00, the team's time zone)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock
from bot.core import Bot
from bot.deadlines.digest import KIND, DigestComposer, recipients, send_instant, week_key, week_start
from bot.deadlines.notices import NoticeDelivery, create_batch, watching_since
from storage.queries import deadlines as queries


class WeeklyDigestJob:
    name = "deadline.digest"

    def __init__(self, bot: Bot, *, wall: Clock | None = None) -> None:
        self.bot = bot
        self.zone = bot.settings.icc_timezone
        self.delivery = NoticeDelivery(bot, DigestComposer(bot), wall=wall)
        self._since: datetime | None = None
        self._made: set[str] = set()
        """Weeks whose digest is known to exist (a batch never goes away)."""

    async def _this_week(self, now: datetime) -> tuple[str | None, datetime]:
        """This week's key when its digest is due and not made; and the next digest's time."""
        monday = week_start(now, self.zone)
        key, at = week_key(monday), send_instant(monday, self.zone)
        following = send_instant(monday + timedelta(days=7), self.zone)
        if now < at:
            return None, at
        self._since = self._since or await watching_since(self.bot, KIND, now)
        if at < self._since or key in self._made:
            return None, following
        async with self.bot.db.session() as session:
            if await queries.batch_exists(session, KIND, key):
                self._made.add(key)
                return None, following
        return key, following

    async def run(self, now: datetime) -> None:
        key, _following = await self._this_week(now)
        if key is not None:
            people = await recipients(self.bot)
            await create_batch(self.bot, KIND, key, [f"person:{person.id}" for person in people], now, now)
            self._made.add(key)  # by this process or, a moment ago, another
            self.delivery.expect()
        await self.delivery.run(now)

    async def next_due(self, now: datetime) -> datetime | None:
        key, following = await self._this_week(now)
        dues = [now if key is not None else following]
        if (pending := await self.delivery.next_due()) is not None:
            dues.append(pending)
        return min(dues)


def setup(bot: Bot) -> None:
    bot.scheduler.add(WeeklyDigestJob(bot), every=timedelta(minutes=5))
