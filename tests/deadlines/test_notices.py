"""Joint-campaign days announced once in every group channel, and the ICC team's weekly digest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.deadlines.campaign_days import default_calendar, read_calendar
from tests.deadlines.helpers import at
from tests.harness import ConsoleHarness

GROUP_CHANNELS = {"rumours-en", "rumeurs-fr", "rumores-es", "chutky-uk", "dicerie-it", "welcome-en", "accueil-fr",
                  "willkommen-de", "acolhimento-pt", "med-fr", "med-es", "med-it", "med-pt"}


def announcements(entries: list[str]) -> dict[str, str]:
    found = {}
    for entry in entries:
        channel = entry.split("]")[0].lstrip("[#")
        if "📅" in entry and channel in GROUP_CHANNELS:
            assert channel not in found, f"announced twice in #{channel}"
            found[channel] = entry
    return found


def test_the_calendar_has_the_networks_six_days() -> None:
    days = default_calendar()
    assert [(d.month, d.day) for d in days] == [(2, 21), (3, 21), (5, 21), (6, 20), (9, 26), (12, 18)]
    assert all(d.lead_days == 14 and {"en", "fr", "es", "it", "pt", "de", "uk"} <= set(d.names) for d in days)


def test_a_wrong_calendar_fails_loudly(tmp_path: Path) -> None:
    bad = tmp_path / "days.csv"
    bad.write_text("month,day,lead_days,name_en,link\n2,30,14,Nonsense Day,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_calendar(bad)


async def test_each_group_channel_hears_of_the_day_once_in_its_language(sqlite_demo_url: str) -> None:
    h = await ConsoleHarness.start(sqlite_demo_url, start=datetime(2027, 2, 1, 8, 0, tzinfo=UTC))
    try:
        # 21 February minus 14 days: Sunday 7 February, 09:30 in Strasbourg.
        assert announcements(await h.say("!clock 2027-02-07T08:29Z")) == {}
        found = announcements(await h.say("!clock 2027-02-07T08:31Z"))
        assert set(found) == GROUP_CHANNELS
        assert "📅 **Journée internationale de la langue maternelle**: dimanche 21 février 2027" in found["rumeurs-fr"]
        assert "Dans 14 jours, le réseau célèbre ensemble cette journée." in found["rumeurs-fr"]
        assert "**Giornata internazionale della lingua madre**: domenica 21 febbraio 2027" in found["dicerie-it"]
        assert "Tra 14 giorni la rete celebra insieme questa giornata." in found["dicerie-it"]
        assert "**Міжнародний день рідної мови**" in found["chutky-uk"]
        assert "Через 14 днів мережа разом відзначає цей день." in found["chutky-uk"]
        assert "Dentro de 14 días la red celebra este día conjuntamente." in found["rumores-es"]
        assert "In 14 Tagen begeht das Netzwerk diesen Tag gemeinsam." in found["willkommen-de"]
        assert "Dentro de 14 dias a rede assinala este dia em conjunto." in found["acolhimento-pt"]
        assert "In 14 days the network marks this day together." in found["rumours-en"]
        assert "https://www.un.org/en/observances/mother-language-day" in found["rumours-en"]
        assert announcements(await h.say("!clock 2027-03-06T12:00Z")) == {}   # never twice
        march = announcements(await h.say("!clock 2027-03-08T00:00Z"))   # 21 March, 14 days ahead
        assert set(march) == GROUP_CHANNELS and "discrimination raciale" in march["med-fr"]
    finally:
        await h.stop()


async def test_two_bots_and_a_restart_announce_once(demo_database_url: str) -> None:
    start = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
    one = await ConsoleHarness.start(demo_database_url, start=start)
    two = await ConsoleHarness.start(demo_database_url, start=start)
    try:
        await asyncio.gather(one.say("!clock +1h"), two.say("!clock +1h"))   # both note when they began
        target = at("2027-02-08T00:00Z")
        await asyncio.gather(one.bot.scheduler.advance_to(target, one.clock, settle=one.bot.wait_idle),
                             two.bot.scheduler.advance_to(target, two.clock, settle=two.bot.wait_idle))
        found = announcements(one.new_entries()) | announcements(two.new_entries())
        assert set(found) == GROUP_CHANNELS
        both = [e for e in one.output.getvalue().split("\n[") + two.output.getvalue().split("\n[") if "📅" in e]
        assert len(both) == len(GROUP_CHANNELS)
    finally:
        await one.stop()
        await two.stop()
    again = await ConsoleHarness.start(demo_database_url, start=at("2027-02-09T08:00Z"))
    try:
        assert announcements(await again.say("!clock +1d")) == {}
    finally:
        await again.stop()


async def test_a_new_bot_does_not_announce_what_fell_due_before_it_existed(sqlite_demo_url: str) -> None:
    h = await ConsoleHarness.start(sqlite_demo_url, start=datetime(2027, 2, 10, 8, 0, tzinfo=UTC))
    try:
        assert announcements(await h.say("!clock +2d")) == {}
    finally:
        await h.stop()


async def test_the_weekly_digest_tells_the_icc_team_who_is_late(sqlite_console: ConsoleHarness) -> None:
    h = sqlite_console
    await h.say('@alice #x /icc deadline add title="Two-page report" due=2027-01-13 audience=cities:Lyon,Milano,Oslo',
                '@alice #x /icc deadline add title="Annual survey" due=2027-02-26 audience=network:rpci',
                "@marie #x /icc deadline done 1")
    h.new_entries()
    [this_week] = [e for e in await h.say("!clock +1m") if e.startswith("[@alice]")]   # Monday 11, 09:01
    assert "(in 2 days); 1 of 3 answered." in this_week and "Late" not in this_week
    entries = await h.say("!clock 2027-01-18T07:59Z")
    assert [e for e in entries if e.startswith(("[@alice]", "[@hugo]"))] == []
    entries = await h.say("!clock 2027-01-18T08:01Z")   # Monday 09:00 in Strasbourg
    [alice] = [e for e in entries if e.startswith("[@alice]")]
    [hugo] = [e for e in entries if e.startswith("[@hugo]")]
    assert "**Deadlines this week** (Monday, 18 January 2027)" in alice
    assert "#1 Two-page report: due Wednesday, 13 January 2027 (5 days ago); 1 of 3 answered." in alice
    assert "Late: Milano" in alice and "⚠️ 1 city not reached: Oslo" in alice
    assert "#2 Annual survey: due Friday, 26 February 2027 (in 39 days); 0 of 18 answered." in alice
    assert "**Les échéances de la semaine** (lundi 18 janvier 2027)" in hugo
    # Once a week, whatever happens meanwhile.
    assert [e for e in await h.say("!clock +6d") if e.startswith("[@alice]")] == []
