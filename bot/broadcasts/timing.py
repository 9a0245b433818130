"""When a broadcast goes out: `at=` read in the sender's time zone, and shown back in it.

The sender's zone is their own (`Person.timezone`, which a platform may fill in), else their
city's, else the ICC team's (Strasbourg: `Europe/Paris`, or the `ICC_TIMEZONE` setting where
the deployment has it). The preview says which one was used. `at=` may also carry its own
offset (`2027-01-12T09:00+02:00`, `…Z`), which wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

from bot.commands import UsageError
from bot.deadlines.render import babel_locale
from bot.i18n import DEFAULT_LOCALE, Message, _
from storage.models import City, Person

ICC_TIMEZONE = "Europe/Paris"
"""The ICC team works in Strasbourg."""
MAX_AHEAD = timedelta(days=366)

_AT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


@dataclass(frozen=True)
class SenderZone:
    name: str
    why: Message
    """Which zone this is, for the preview: yours, your city's, the ICC team's."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.name)


def sender_zone(person: Person, city: City | None, icc_timezone: str | None = None) -> SenderZone:
    if person.timezone and _valid(person.timezone):
        return SenderZone(person.timezone, _("your time zone"))
    if city is not None and _valid(city.timezone):
        return SenderZone(city.timezone, _("the time zone of {city}", city=city.name))
    zone = icc_timezone if icc_timezone and _valid(icc_timezone) else ICC_TIMEZONE
    return SenderZone(zone, _("the ICC team's time zone"))


def _valid(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_at(text: str, zone: ZoneInfo, now: datetime, locale: str) -> datetime:
    """`2027-01-12T09:00` (in `zone`), `2027-01-12 09:00`, `…Z`, `…+02:00` → an aware UTC instant
    in the future. Raises UsageError with the reason (a date in it in `locale`)."""
    match = _AT.match(text.strip())
    if match is None:
        raise UsageError(_("`{value}` is not a time I can read. Write it like `at=2027-01-12T09:00`.",
                           value=text[:40]))
    day, hour, minute, second, offset = match.groups()
    try:
        local = datetime.fromisoformat(f"{day}T{int(hour):02d}:{minute}:{second or '00'}")
    except ValueError:
        raise UsageError(_("`{value}` is not a date that exists.", value=text[:40])) from None
    if offset:
        if offset.upper() == "Z":
            instant = local.replace(tzinfo=UTC)
        else:
            digits = offset.replace(":", "")
            delta = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
            instant = (local - delta if digits[0] == "+" else local + delta).replace(tzinfo=UTC)
    else:
        instant = local.replace(tzinfo=zone).astimezone(UTC)
    if instant <= now:
        raise UsageError(_("{time} ({zone}) has already passed. Give a time in the future, or leave `at=` out "
                           "to send it now.", time=format_when(instant, zone, locale), zone=zone.key))
    if instant - now > MAX_AHEAD:
        raise UsageError(_("A broadcast can be scheduled at most a year ahead."))
    return instant


def format_when(instant: datetime, zone: ZoneInfo, locale: str) -> str:
    """`Tuesday 12 January 2027, 09:00` in the reader's language, in `zone`. The day is written the
    way the language writes a full date (`Dienstag, 12. Januar 2027`, `martes, 12 de enero de 2027`):
    one pattern for all would drop German's `12.` and the `de` of Spanish and Portuguese."""
    try:
        day = "EEEE d MMMM y" if locale == DEFAULT_LOCALE else \
            Locale.parse(babel_locale(locale)).date_formats["full"].pattern
    except (UnknownLocaleError, ValueError):
        day, locale = "EEEE d MMMM y", DEFAULT_LOCALE
    return format_datetime(instant, f"{day}, HH:mm", tzinfo=zone, locale=babel_locale(locale))
