"""The international days the network marks together (`bot/data/campaign_days.csv`): each is
announced in every group channel `lead_days` before it, at 09:30 in the ICC team's time zone
(group channels span time zones), in each channel's language, once per day and year.

If the bot was down at the announcement's time it goes out late, up to the day itself; after the
day it would be pointless and is not sent. A channel linked to a group after the announcement
went out does not get it.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from bot.deadlines.notices import NoticeTarget
from bot.deadlines.planning import local_date, local_instant
from bot.deadlines.render import Localizer, catalog_locale, format_day
from bot.i18n import DEFAULT_LOCALE, Message, _, _n, normalize_language, render

KIND = "campaign"
ANNOUNCE_AT = time(9, 30)
MAX_LEAD_DAYS = 90


@dataclass(frozen=True)
class CampaignDay:
    month: int
    day: int
    lead_days: int
    names: dict[str, str]
    """Official names by language (`en` always); other languages are machine-translated."""
    link: str

    def on(self, year: int) -> date:
        return date(year, self.month, self.day)


def calendar_file() -> Traversable:
    return resources.files("bot") / "data" / "campaign_days.csv"


def read_calendar(path: Path | Traversable) -> list[CampaignDay]:
    """The data file, checked: a wrong date or lead time fails at start-up, not on the day."""
    days = []
    with path.open("r", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                day = CampaignDay(int(row["month"]), int(row["day"]), int(row["lead_days"]),
                                  {key.removeprefix("name_"): value.strip() for key, value in row.items()
                                   if key.startswith("name_") and value and value.strip()},
                                  (row.get("link") or "").strip())
                day.on(2028)  # a leap year: 29 February is a valid campaign day
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{path}: line {line} is not a campaign day ({error})") from None
            if not 0 <= day.lead_days <= MAX_LEAD_DAYS or "en" not in day.names:
                raise ValueError(f"{path}: line {line} needs lead_days from 0 to {MAX_LEAD_DAYS} and name_en")
            days.append(day)
    return days


@cache
def default_calendar() -> tuple[CampaignDay, ...]:
    return tuple(read_calendar(calendar_file()))


@dataclass(frozen=True)
class Occurrence:
    campaign: CampaignDay
    day: date
    announce_at: datetime

    @property
    def key(self) -> str:
        return self.day.isoformat()


def occurrences(calendar: Sequence[CampaignDay], now: datetime, zone: str) -> list[Occurrence]:
    """This year's, last year's and next year's days, by announcement time."""
    year = local_date(now, zone).year
    found = []
    for campaign in calendar:
        for candidate in (year - 1, year, year + 1):
            try:
                day = campaign.on(candidate)
            except ValueError:  # 29 February in a common year
                continue
            found.append(Occurrence(campaign, day, local_instant(day - timedelta(days=campaign.lead_days),
                                                                 ANNOUNCE_AT, zone)))
    return sorted(found, key=lambda occurrence: occurrence.announce_at)


def announcement(days_left: int) -> Message:
    if days_left <= 0:
        return _("Today the network marks this day together. Share your city's action in this channel.")
    return _n("In {count} day the network marks this day together. Plan your city's action and share it in this "
              "channel.",
              "In {count} days the network marks this day together. Plan your city's action and share it in this "
              "channel.", days_left)


class CampaignComposer:
    kind = KIND

    def __init__(self, calendar: Sequence[CampaignDay], zone: str) -> None:
        self.calendar = calendar
        self.zone = zone

    async def compose(self, key: str, targets: Sequence[NoticeTarget], localizer: Localizer,
                      now: datetime) -> list[str | None]:
        day = date.fromisoformat(key)
        campaign = next((c for c in self.calendar if (c.month, c.day) == (day.month, day.day)), None)
        if campaign is None or local_date(now, self.zone) > day:
            return [None for _target in targets]  # removed from the calendar, or the day is past
        days_left = (day - local_date(now, self.zone)).days
        english_name = campaign.names["en"]
        english_body = render(announcement(days_left), DEFAULT_LOCALE)
        # One translation request per language: the name (unless the calendar has it) and, for
        # languages without a catalog, the sentence.
        for language, fallback in {(t.destination.language, t.destination.fallback) for t in targets}:
            wanted = []
            if campaign.names.get(normalize_language(language) or DEFAULT_LOCALE) is None:
                wanted.append(english_name)
            if catalog_locale(language) is None:
                wanted.append(english_body)
            await localizer.prepare(language, wanted, source="en", fallback=fallback)
        texts: list[str | None] = []
        for target in targets:
            language = target.destination.language
            base = normalize_language(language) or DEFAULT_LOCALE
            locale = catalog_locale(language)
            name = campaign.names.get(base) or localizer.get(language, english_name, source="en")
            body = (render(announcement(days_left), locale) if locale
                    else localizer.get(language, english_body, source="en"))
            lines = [f"📅 **{name}**: {format_day(day, base)}", body]
            if campaign.link:
                lines.append(f"🔗 {campaign.link}")
            texts.append("\n".join(lines))
        return texts
