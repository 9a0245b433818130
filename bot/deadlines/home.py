"""The deadlines' part of a coordinator's home page: what their city still owes or has just
answered, due when, and a Done button on each one not answered yet (the same button as under
a reminder, so it is handled, and refused to others, the same way)."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Interaction
from bot.deadlines.planning import local_date
from bot.deadlines.render import DONE_ACTION, format_day, relative_day, reminder_buttons, when_label
from bot.home import HomeSection
from bot.i18n import Text, _
from bot.outbound import Button
from storage.models import City
from storage.queries import deadlines as queries

HOME_DEADLINES = 8
"""The soonest ones shown; `/icc deadline list` has them all."""
OVERDUE_DAYS = 60
"""A deadline past due this long ago leaves the home page even if the city never answered
(as in `/icc deadline list`)."""


async def deadlines_part(ix: Interaction) -> list[HomeSection]:
    if ix.person.city_id is None:
        return []  # the city part already says how to register
    now = ix.bot.clock.now()
    async with ix.bot.db.session() as session:
        city = await session.get(City, ix.person.city_id)
        if city is None or city.id is None:
            return []
        # Due dates are days in the city's calendar; times are shown in the reader's own zone.
        today = local_date(now, city.timezone)
        zone = ix.person.timezone or city.timezone
        deadlines = await queries.list_deadlines(session, due_since=today - timedelta(days=OVERDUE_DAYS),
                                                 city_id=city.id)
        entries = await queries.entries_of_city(session, city.id, [d.id for d in deadlines if d.id is not None])
        shown = [d for d in deadlines if d.id in entries
                 and (d.due_date >= today or entries[d.id].done_at is None)][:HOME_DEADLINES]
        upcoming = {d.id: await queries.pending_of(session, d.id, city.id) for d in shown
                    if d.id is not None and entries[d.id].done_at is None}
    if not shown:
        return [HomeSection(_("Upcoming deadlines"), (
            _("{city} has no open deadline. The ICC team's next one will show here.", city=city.name),))]
    sections = [HomeSection(_("Upcoming deadlines of {city}", city=city.name),
                            (_("Due dates are in {city}'s calendar; times in {zone}.", city=city.name, zone=zone),))]
    for deadline in shown:
        assert deadline.id is not None
        entry = entries[deadline.id]
        lines: list[Text] = [_("Due {date} ({when}).", date=format_day(deadline.due_date, ix.locale),
                               when=relative_day((deadline.due_date - today).days))]
        buttons: tuple[Button, ...] = ()
        if entry.done_at is not None:
            lines.append(_("✅ Answered on {date}.", date=format_day(local_date(entry.done_at, zone), ix.locale)))
        else:
            pending = upcoming.get(deadline.id) or []
            if pending:
                lines.append(_("⏳ Not answered yet. Next reminder: {when}.",
                               when=when_label(pending[0].due_at, zone, ix.locale)))
            else:
                lines.append(_("⏳ Not answered yet."))
            buttons = tuple(button for button in reminder_buttons(deadline.id, city.id)
                            if button.action_id == DONE_ACTION)
        if deadline.link:
            lines.append(f"🔗 {deadline.link}")
        sections.append(HomeSection(f"#{deadline.id} {deadline.title}", tuple(lines), buttons))
    return sections
