"""Who has answered a deadline and who has not, per network, with the reminders each city got:
as a message for the ICC team, and as CSV."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_skeleton
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deadlines.audience import audience_label
from bot.deadlines.delivery import UNDELIVERABLE
from bot.deadlines.render import babel_locale, format_day, name_list
from bot.i18n import Message, Text, _, join_lines
from storage.models import City, Deadline, DeadlineCity, Reminder
from storage.queries import deadlines as queries
from storage.queries import registry

MAX_NAMES = 40
"""Names listed per line of the message before "and N more" (the CSV has them all)."""


@dataclass(frozen=True)
class CityStatus:
    city: City
    network: str
    entry: DeadlineCity
    done_by: str | None
    reminders_sent: int
    last_sent_at: datetime | None
    next_at: datetime | None
    problem: str | None
    """Why the latest reminder did not reach the city (no channel and no coordinator, a refusal)."""

    @property
    def done(self) -> bool:
        return self.entry.done_at is not None


async def load_status(session: AsyncSession, deadline: Deadline) -> list[CityStatus]:
    assert deadline.id is not None
    entries = {entry.city_id: entry for entry in await queries.audience_of(session, deadline.id)}
    cities = await queries.cities_with_networks(session, list(entries))
    rows_by_city: dict[int, list[Reminder]] = defaultdict(list)
    for row in await queries.reminders_of(session, deadline.id):
        rows_by_city[row.city_id].append(row)
    people = await registry.people_by_ids(session, sorted({e.done_by_id for e in entries.values() if e.done_by_id}))
    found = []
    for city, network in cities:
        assert city.id is not None
        rows = rows_by_city.get(city.id, [])
        entry = entries[city.id]
        sent = [row for row in rows if row.state == "sent"]
        current = sorted((row for row in rows if row.round == deadline.round), key=lambda row: row.planned_at)
        pending = [row.due_at for row in current if row.state == "pending"]
        attempted = [row for row in current if row.state in {"sent", "failed", "undeliverable"}]
        last = attempted[-1] if attempted else None
        problem = None
        if last is not None and last.state != "sent":
            problem = last.note or last.state
        elif last is not None and last.note.startswith("not reached"):
            problem = last.note
        elif pending and (retrying := next((row for row in current if row.state == "pending" and row.note), None)):
            problem = retrying.note
        done_by = people.get(entry.done_by_id) if entry.done_by_id else None
        found.append(CityStatus(city, network, entry, done_by.display_name if done_by else None, len(sent),
                                max((row.sent_at for row in sent if row.sent_at), default=None),
                                min(pending) if pending and entry.done_at is None else None, problem))
    return found


def short_day(instant: datetime, locale: str) -> str:
    # A skeleton, not a pattern: each language orders and punctuates it (`16 Jan`, `16. Jan.`, `16 de jan.`).
    return format_skeleton("MMMd", instant.date(), locale=babel_locale(locale))


def status_message(deadline: Deadline, statuses: list[CityStatus], locale: str) -> Message:
    answered = sum(1 for status in statuses if status.done)
    lines: list[Text] = [
        _("**#{id} {title}**: due {date} · {audience}", id=deadline.id, title=deadline.title,
          date=format_day(deadline.due_date, locale), audience=audience_label(deadline.audience, len(statuses))),
    ]
    if deadline.state == "cancelled":
        lines.append(_("Cancelled: no reminders go out."))
    lines.append(_("Answered: {done} of {total}. Not yet: {left}.", done=answered, total=len(statuses),
                   left=len(statuses) - answered))
    by_network: dict[str, list[CityStatus]] = defaultdict(list)
    for status in statuses:
        by_network[status.network].append(status)
    for network, members in by_network.items():
        done = [s for s in members if s.done]
        waiting = [s for s in members if not s.done and s.problem is None]
        unreachable = [s for s in members if not s.done and s.problem is not None]
        lines.append(_("**{network}**: {done}/{total} answered", network=network, done=len(done), total=len(members)))
        if done:
            lines.append(_("✅ Answered: {names}", names=name_list([
                f"{s.city.name} ({s.done_by or '?'}, {short_day(s.entry.done_at, locale)})" if s.entry.done_at
                else s.city.name for s in done], MAX_NAMES)))
        if waiting:
            lines.append(_("⏳ Not yet: {names}", names=name_list([_waiting_name(s, locale) for s in waiting],
                                                                 MAX_NAMES)))
        by_problem: dict[str, list[str]] = defaultdict(list)
        for s in unreachable:
            by_problem[s.problem or ""].append(s.city.name)
        for problem, names in by_problem.items():
            lines.append(_("⚠️ Not reached ({problem}): {names}", problem=problem_label(problem),
                           names=name_list(names, MAX_NAMES)))
    return join_lines(lines)


def problem_label(note: str) -> Text:
    """A delivery problem as recorded (`Reminder.note`), in the reader's words when it is ours;
    a platform's own error text stays as the platform gave it."""
    return {UNDELIVERABLE: _("no channel and no coordinator")}.get(note, note)


def _waiting_name(status: CityStatus, locale: str) -> str:
    snoozed = status.entry.snoozed_until
    if snoozed is not None and status.next_at is not None and snoozed >= status.next_at:
        return f"{status.city.name} (💤 {short_day(snoozed, locale)})"
    return status.city.name


CSV_COLUMNS = ("deadline_id", "deadline", "due_date", "network", "city", "country", "language", "timezone",
               "answered", "answered_at", "answered_by", "reminders_sent", "last_reminder_at", "next_reminder_at",
               "snoozed_until", "problem")


def status_csv(deadline: Deadline, statuses: list[CityStatus]) -> str:
    """One line per city; instants in UTC (ISO 8601)."""

    def instant(value: datetime | None) -> str:
        return value.isoformat(timespec="minutes") if value else ""

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in statuses:
        writer.writerow([deadline.id, deadline.title, deadline.due_date.isoformat(), s.network, s.city.name,
                         s.city.country, s.city.language, s.city.timezone, "yes" if s.done else "no",
                         instant(s.entry.done_at), s.done_by or "", s.reminders_sent, instant(s.last_sent_at),
                         instant(s.next_at), instant(s.entry.snoozed_until), s.problem or ""])
    return out.getvalue()
