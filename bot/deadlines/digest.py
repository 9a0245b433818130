"""The weekly digest to the ICC team: every open deadline with how many cities answered, who is
late, and who cannot be reached. Monday 09:00 in the ICC team's time zone, by direct message
to each member of the team, once per week (late in the week if the bot was down on Monday)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_
from sqlmodel import col, select

from bot.core import Bot
from bot.deadlines.notices import NoticeTarget
from bot.deadlines.planning import local_date, local_instant
from bot.deadlines.render import Localizer, format_day, name_list, relative_day
from bot.deadlines.status import CityStatus, load_status
from bot.i18n import Message, Text, _, _n, join_lines, render, resolve_locale
from storage.models import Deadline, Person
from storage.queries import deadlines as queries
from storage.queries import registry

KIND = "digest"
SEND_AT = time(9, 0)
RECENT_DAYS = 30
"""Deadlines due up to this many days ago still appear while cities have not answered."""
MAX_LATE_NAMES = 15


def week_start(now: datetime, zone: str) -> date:
    today = local_date(now, zone)
    return today - timedelta(days=today.weekday())


def week_key(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def send_instant(monday: date, zone: str) -> datetime:
    return local_instant(monday, SEND_AT, zone)


async def recipients(bot: Bot) -> list[Person]:
    """The ICC team: people granted the role, and the administrators named in ICC_ADMINS."""
    async with bot.db.session() as session:
        team = {person.id: person for person in await registry.icc_team(session)}
        admins = [(admin.platform, admin.user) for admin in bot.settings.admins]
        if admins:
            query = select(Person).where(or_(*[(col(Person.platform) == platform) & (col(Person.user_id) == user)
                                               for platform, user in admins]))
            team.update({person.id: person for person in await session.exec(query)})
    return sorted(team.values(), key=lambda person: person.display_name)


def _late_names(statuses: Sequence[CityStatus]) -> str:
    return name_list([s.city.name for s in statuses], MAX_LATE_NAMES)


class DigestComposer:
    kind = KIND

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def digest(self, now: datetime) -> list[tuple[Deadline, list[CityStatus]]]:
        today = local_date(now, self.bot.settings.icc_timezone)
        async with self.bot.db.session() as session:
            deadlines = await queries.list_deadlines(session, due_since=today - timedelta(days=RECENT_DAYS))
            found = []
            for deadline in deadlines:
                statuses = await load_status(session, deadline)
                if any(not status.done for status in statuses):
                    found.append((deadline, statuses))
        return found

    def message(self, found: list[tuple[Deadline, list[CityStatus]]], now: datetime, locale: str) -> Message:
        today = local_date(now, self.bot.settings.icc_timezone)
        lines: list[Text] = [_("**Deadlines this week** ({date})", date=format_day(today, locale))]
        for deadline, statuses in found:
            done = sum(1 for s in statuses if s.done)
            days = (deadline.due_date - today).days
            when = relative_day(days)
            lines.append(_("• #{id} {title}: due {date} ({when}); {done} of {total} answered.", id=deadline.id,
                           title=deadline.title, date=format_day(deadline.due_date, locale), when=when, done=done,
                           total=len(statuses)))
            late = [s for s in statuses if not s.done and s.problem is None]
            if days < 0 and late:
                lines.append(_("  Late: {names}", names=_late_names(late)))
            unreachable = [s for s in statuses if not s.done and s.problem is not None]
            if unreachable:
                lines.append(_n("  ⚠️ {count} city not reached: {names}", "  ⚠️ {count} cities not reached: {names}",
                                len(unreachable), names=_late_names(unreachable)))
        lines.append(_("`/icc deadline status <id>` shows who has answered."))
        return join_lines(lines)

    async def compose(self, key: str, targets: Sequence[NoticeTarget], localizer: Localizer,
                      now: datetime) -> list[str | None]:
        found = await self.digest(now)
        if not found:
            return [None for _target in targets]
        texts: list[str | None] = []
        for target in targets:
            person = target.person
            locale = resolve_locale([person.language, person.platform_locale] if person else [])
            texts.append(render(self.message(found, now, locale), locale))
        return texts
