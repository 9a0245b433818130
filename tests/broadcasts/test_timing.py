"""`at=` in the sender's time zone: which zone, how it is read, what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.broadcasts.timing import format_when, parse_at, sender_zone
from bot.commands import UsageError
from bot.i18n import render
from storage.models import City, Person

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def person(timezone: str | None = None) -> Person:
    return Person(platform="console", workspace="local", user_id="x", timezone=timezone, created_at=NOW)


def city(timezone: str) -> City:
    return City(slug="kyiv", name="Kyiv", country="Ukraine", language="uk", timezone=timezone)


def test_the_senders_zone_then_their_citys_then_the_icc_teams() -> None:
    assert sender_zone(person("America/Montreal"), city("Europe/Kyiv")).name == "America/Montreal"
    kyiv = sender_zone(person(), city("Europe/Kyiv"))
    assert kyiv.name == "Europe/Kyiv" and render(kyiv.why, "en") == "the time zone of Kyiv"
    assert sender_zone(person("Not/AZone"), None).name == "Europe/Paris"
    assert sender_zone(person(), None, "Europe/Lisbon").name == "Europe/Lisbon"


@pytest.mark.parametrize(("text", "expected"), [
    ("2027-01-12T09:00", datetime(2027, 1, 12, 8, 0, tzinfo=UTC)),      # winter: UTC+1
    ("2027-07-12T09:00", datetime(2027, 7, 12, 7, 0, tzinfo=UTC)),      # summer: UTC+2
    ("2027-01-12 9:30", datetime(2027, 1, 12, 8, 30, tzinfo=UTC)),
    ("2027-01-12T09:00Z", datetime(2027, 1, 12, 9, 0, tzinfo=UTC)),     # an explicit offset wins
    ("2027-01-12T09:00+03:00", datetime(2027, 1, 12, 6, 0, tzinfo=UTC)),
    ("2027-01-12T09:00-0500", datetime(2027, 1, 12, 14, 0, tzinfo=UTC)),
])
def test_at_is_read_in_the_zone_unless_it_names_its_offset(text: str, expected: datetime) -> None:
    assert parse_at(text, PARIS, NOW, "en") == expected


@pytest.mark.parametrize(("text", "problem"), [
    ("2027-01-11T09:00", "has already passed"),           # 08:00 UTC is now: not in the future
    ("2027-01-11T08:59", "has already passed"),
    ("tomorrow", "is not a time I can read"),
    ("2027-01-12", "is not a time I can read"),
    ("2027-13-01T09:00", "is not a date that exists"),
    ("2028-02-12T09:00", "at most a year ahead"),
])
def test_bad_times_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_at(text, PARIS, NOW, "en")
    assert problem in render(raised.value.message, "en")


def test_times_are_shown_in_the_readers_language() -> None:
    instant = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)
    assert format_when(instant, PARIS, "en") == "Tuesday 12 January 2027, 09:00"
    assert format_when(instant, PARIS, "fr") == "mardi 12 janvier 2027, 09:00"
