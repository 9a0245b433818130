"""Reminders as the clock moves: each city at 09:30 its own time, in its language, once per
step; late after a restart, never after Done or a cancellation, retried when a platform fails,
and exactly once with two bots on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.outbound import DeliveryError
from bot.translation import Translator
from storage.models import Channel, City, Network, Reminder
from storage.queries import registry
from tests.deadlines.helpers import (
    DownTranslator,
    FailingAdapter,
    RecordingTranslator,
    at,
    deadlines,
    posts_in,
    reminder_states,
    reminders,
)
from tests.harness import ConsoleHarness


@pytest.fixture
async def spring(sqlite_demo_url: str) -> AsyncIterator[ConsoleHarness]:
    """The demo network on 1 March 2027, before Europe's clocks change."""
    harness = await ConsoleHarness.start(sqlite_demo_url, start=datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    yield harness
    await harness.stop()


async def test_each_city_at_0930_its_own_time_across_daylight_saving(spring: ConsoleHarness) -> None:
    h = spring
    await h.say("@alice #ballarat /icc city set city=Ballarat channel=here",
                '@alice #x /icc deadline add title="Survey" due=2027-04-05 audience=cities:Lisboa,Ballarat')
    # Lisbon: 14 days before is Monday 22 March, 09:30 WET = 09:30 UTC.
    assert posts_in(await h.say("!clock 2027-03-22T09:29Z"), "lisboa") == []
    assert len(posts_in(await h.say("!clock 2027-03-22T09:31Z"), "lisboa")) == 1
    # After the change to summer time (28 March), 09:30 WEST is 08:30 UTC.
    assert posts_in(await h.say("!clock 2027-03-29T08:29Z"), "lisboa") == []
    [week_before] = posts_in(await h.say("!clock 2027-03-29T08:31Z"), "lisboa")
    assert "termina dentro de 7 dias" in week_before   # Portuguese catalog
    # Ballarat (Australia/Melbourne) leaves summer time on Sunday 4 April: the day before (Sunday
    # 4 April, moved to Friday 2 April) goes at 09:30 AEDT, the due day at 09:30 AEST.
    assert posts_in(await h.say("!clock 2027-04-01T22:29Z"), "ballarat") == []
    [friday] = posts_in(await h.say("!clock 2027-04-01T22:31Z"), "ballarat")
    assert "is due in 3 days" in friday
    assert posts_in(await h.say("!clock 2027-04-04T23:29Z"), "ballarat") == []
    [due_day] = posts_in(await h.say("!clock 2027-04-04T23:31Z"), "ballarat")
    assert "is due today" in due_day


async def test_a_restart_in_the_middle_of_a_plan_sends_the_latest_step_once_marked_late(
        demo_database_url: str) -> None:
    first = await ConsoleHarness.start(demo_database_url)
    await first.say('@alice #x /icc deadline add title="Report" due=2027-01-29 audience=cities:Lyon,Milano',
                    "!clock 2027-01-15T12:00Z")   # the -14 step went out on Friday 15
    assert len(posts_in(first.new_entries(), "lyon")) == 0   # (read by say already)
    sent_before = [r for r in await reminders(first.bot, 1) if r.state == "sent"]
    assert {r.step for r in sent_before} == {-14}
    await first.stop()
    # Down for nine days: -7 (Friday 22) and -1 (Thursday 28) fell due meanwhile.
    second = await ConsoleHarness.start(demo_database_url, start=at("2027-01-28T12:00Z"))
    try:
        entries = await second.say("!clock +1m")
        for channel in ("lyon", "milano"):
            [late] = posts_in(entries, channel)
            assert "demain" in late or "domani" in late
            assert "hors ligne" in late or "il bot era offline" in late
        rows = {(r.city_id, r.step): r for r in await reminders(second.bot, 1)}
        assert Counter(r.state for r in rows.values() if r.step in (-7, -1)) == {"skipped": 2, "sent": 2}
        assert all(r.late for r in rows.values() if r.step == -1)
        assert all(r.note == "superseded" for r in rows.values() if r.step == -7)
        # And nothing twice: the day itself goes out on time, not late.
        [on_time] = posts_in(await second.say("!clock 2027-01-29T12:00Z"), "milano")
        assert "scade oggi" in on_time and "offline" not in on_time
    finally:
        await second.stop()


async def test_a_cancelled_deadline_sends_nothing_more(sqlite_console: ConsoleHarness) -> None:
    h = sqlite_console
    await h.say('@alice #x /icc deadline add title="Survey" due=2027-01-29 audience=network:international',
                "!clock +5d")
    answer = await h.reply("@alice #x /icc deadline cancel 1")
    assert "cancelled: 520 reminders will not go out" in answer or "reminders will not go out" in answer
    assert posts_in(await h.say("!clock +30d"), "lyon") == []
    assert posts_in(h.new_entries(), "erlangen") == []
    states = await reminder_states(h.bot, 1)
    assert states["pending"] == 0 and states["dropped"] > 0


async def test_languages_without_a_catalog_are_machine_translated_once_per_language(
        sqlite_console: ConsoleHarness) -> None:
    h = sqlite_console
    translator = RecordingTranslator()
    h.bot.provide(Translator, translator)  # type: ignore[type-abstract]
    await h.say('@alice #x /icc deadline add title="Annual survey" due=2027-01-29 '
                'audience=cities:Lyon,Milano,Oslo,Bergen,Kraków')
    for city in ("Oslo", "Bergen", "Kraków"):
        await h.say(f"@alice #{city.lower()} /icc city set city={city} channel=here")
    entries = await h.say("!clock +5d")
    [oslo] = posts_in(entries, "oslo")   # Norwegian has no catalog: the whole reminder is machine-translated
    assert oslo.startswith("[#oslo] ICC bot: [NB] ⏰ Reminder: **Annual survey** is due in 14 days")
    assert "[1: [NB] Done] [2: [NB] Snooze 1 day]" in oslo
    [lyon] = posts_in(entries, "lyon")   # French has a catalog: only the ICC team's words are translated
    assert "⏰ Rappel : **[FR] Annual survey** est à rendre dans 14 jours" in lyon and "[1: Fait]" in lyon
    [milano] = posts_in(entries, "milano")   # and so has Italian
    assert "⏰ Promemoria: **[IT] Annual survey** scade tra 14 giorni" in milano and "[1: Fatto]" in milano
    assert [target for target, _texts in translator.requests].count("nb") == 1   # Oslo and Bergen together
    assert sorted({target for target, _texts in translator.requests}) == ["fr", "it", "nb", "pl"]
    [bergen] = posts_in(entries, "bergen")
    assert bergen.split(": ", 1)[1] == oslo.split(": ", 1)[1]


async def test_translation_down_sends_the_english_reminder(sqlite_console: ConsoleHarness) -> None:
    h = sqlite_console
    h.bot.provide(Translator, DownTranslator())  # type: ignore[type-abstract]
    await h.say("@alice #oslo /icc city set city=Oslo channel=here",
                '@alice #x /icc deadline add title="Annual survey" due=2027-01-29 audience=cities:Oslo')
    [oslo] = posts_in(await h.say("!clock +5d"), "oslo")   # Norwegian has no catalog to fall back on
    assert "⏰ Reminder: **Annual survey** is due in 14 days" in oslo and "[NB]" not in oslo


async def _failing(h: ConsoleHarness) -> FailingAdapter:
    adapter = FailingAdapter(h.output)
    adapter.names.update(h.adapter.names)
    adapter.directives.update(h.adapter.directives)
    h.bot.add_adapter(adapter)
    await adapter.start(h.bot)
    h.adapter = adapter
    return adapter


async def test_a_failed_post_is_retried_and_a_permanent_failure_is_reported(sqlite_console: ConsoleHarness) -> None:
    h = sqlite_console
    adapter = await _failing(h)
    adapter.failures["lyon"] = [DeliveryError("rate limited", retry_after=90)]
    adapter.failures["erlangen"] = [DeliveryError("channel_not_found", permanent=True)]
    await h.say('@alice #x /icc deadline add title="Survey" due=2027-01-29 audience=cities:Lyon,Erlangen')
    entries = await h.say("!clock 2027-01-15T08:31Z")
    assert posts_in(entries, "lyon") == [] and adapter.attempts["lyon"] == 1
    # Tried at 08:30 (09:30 in Lyon); the platform said to retry after 90 s.
    assert posts_in(await h.say("!clock 2027-01-15T08:31:20Z"), "lyon") == []
    assert len(posts_in(await h.say("!clock 2027-01-15T08:32Z"), "lyon")) == 1
    assert adapter.attempts["lyon"] == 2 and adapter.attempts["erlangen"] == 1
    status = await h.reply("@alice #x /icc deadline status 1")
    assert "⚠️ Not reached (channel_not_found): Erlangen" in status
    rows = {r.city_id: r for r in await reminders(h.bot, 1) if r.step == -14}
    assert sorted(r.state for r in rows.values()) == ["failed", "sent"]
    # The next step tries Erlangen again.
    assert len(posts_in(await h.say("!clock 2027-01-23T00:00Z"), "erlangen")) == 1


async def test_reminders_by_direct_message_and_cities_nobody_can_reach(sqlite_console: ConsoleHarness) -> None:
    h = sqlite_console
    await h.say("@alice #x /icc city set city=Lyon reminders=dm",
                '@alice #x /icc deadline add title="Survey" due=2027-01-29 audience=cities:Lyon,Oslo')
    entries = await h.say("!clock +5d")
    [dm] = [entry for entry in entries if entry.startswith("[@marie]")]
    assert "⏰ Rappel : **Survey** est à rendre dans 14 jours" in dm and "[1: Fait]" in dm
    assert posts_in(entries, "lyon") == []
    done = await h.say("@marie !press ^ 1")
    assert any("Lyon a répondu" in entry for entry in done)
    status = await h.reply("@alice #x /icc deadline status 1")
    assert "⚠️ Not reached (no channel and no coordinator): Oslo" in status


async def test_the_latest_claim_wins_nothing_twice_on_lost_leases(sqlite_console: ConsoleHarness) -> None:
    """A row held by a live worker is left alone; one whose worker died is taken over."""
    h = sqlite_console
    await h.say('@alice #x /icc deadline add title="Survey" due=2027-01-29 audience=cities:Lyon')
    wall = datetime.now(UTC)
    async with h.bot.db.session() as session:
        row = (await session.exec(select(Reminder).where(Reminder.step == -14))).one()
        row.claim_token, row.lease_until = "another-worker", wall + timedelta(minutes=2)
        session.add(row)
    assert posts_in(await h.say("!clock 2027-01-15T09:00Z"), "lyon") == []
    async with h.bot.db.session() as session:
        row = (await session.exec(select(Reminder).where(Reminder.step == -14))).one()
        row.lease_until = wall - timedelta(seconds=1)   # that worker died
        session.add(row)
    assert len(posts_in(await h.say("!clock +1m"), "lyon")) == 1


async def test_recurring_deadlines_create_their_next_occurrence_once(sqlite_console: ConsoleHarness) -> None:
    h = sqlite_console
    await h.say('@alice #x /icc deadline add title="Annual survey" due=2027-01-20 audience=network:rpci repeat=yearly',
                '@alice #x /icc deadline add title="Newsletter input" due=2027-01-25 audience=cities:Lyon,Milano '
                'repeat=every-2-months')
    await h.say("!clock 2027-01-20T22:59Z")   # 23:59 in Strasbourg: not over yet
    assert [d.id for d in await deadlines(h.bot)] == [1, 2]
    await h.say("!clock 2027-01-20T23:01Z")
    following = (await deadlines(h.bot))[2]
    assert (following.previous_id, following.due_date.isoformat(), following.audience) == (1, "2028-01-20",
                                                                                           "network:rpci")
    # Every city of the newsletter answered early: the next one is there at once.
    await h.say("@marie #x /icc deadline done 2", "@marco #x /icc deadline done 2")
    newsletter = (await deadlines(h.bot))[3]
    assert (newsletter.previous_id, newsletter.due_date.isoformat()) == (2, "2027-03-25")
    await h.say("!clock +40d")
    assert len(await deadlines(h.bot)) == 4   # none twice
    shown = await h.reply("@alice #x /icc deadline show 2")
    assert "Next occurrence: #4, due Thursday, 25 March 2027." in shown


@pytest.mark.postgres
async def test_two_bots_on_one_postgresql_send_each_reminder_exactly_once(
        postgres_database_factory) -> None:  # type: ignore[no-untyped-def]
    url = postgres_database_factory("demo")
    one = await ConsoleHarness.start(url)
    two = await ConsoleHarness.start(url)
    try:
        async with one.bot.db.session() as session:   # every Italian and Spanish city gets its channel
            for city in await session.exec(select(City).where(col(City.network_id).in_(
                    select(Network.id).where(col(Network.slug).in_(["citta-del-dialogo", "reci"]))))):
                if await registry.city_channel(session, city.id or 0) is None:
                    session.add(Channel(platform="console", workspace="local", channel_id=f"city-{city.id}",
                                        language=city.language, city_id=city.id))
        # Many cities share a time zone: many rows fall due at the same instants, for both bots.
        await one.say('@alice #x /icc deadline add title="Survey A" due=2027-01-29 audience=network:citta-del-dialogo',
                      '@alice #x /icc deadline add title="Survey B" due=2027-02-03 audience=network:reci',
                      '@alice #x /icc deadline add title="Survey C" due=2027-01-21 audience=group:mediterranean')
        one.new_entries()
        planned = Counter(row.state for row in await reminders(one.bot))
        instant, end = one.clock.now(), at("2027-02-15T00:00Z")
        while instant < end:   # both bots move through the same half-days, racing within each
            instant += timedelta(hours=12)
            await asyncio.gather(one.bot.scheduler.advance_to(instant, one.clock, settle=one.bot.wait_idle),
                                 two.bot.scheduler.advance_to(instant, two.clock, settle=two.bot.wait_idle))

        def reminders_posted(entries: list[str]) -> list[str]:
            return [e for e in entries if re.match(r"^\[#[\w-]+\] ICC bot:", e) and "/icc deadline done" in e]

        by_one, by_two = reminders_posted(one.new_entries()), reminders_posted(two.new_entries())
        assert by_one and by_two   # both bots did part of the work
        duplicates = [post for post, count in Counter(by_one + by_two).items() if count > 1]
        assert duplicates == []
        rows = await reminders(one.bot)
        states = Counter(row.state for row in rows)
        assert states["pending"] == 0   # none missing
        assert states["sent"] == len(by_one) + len(by_two) > 100
        assert states["sent"] + states["undeliverable"] == planned["pending"]   # every planned step, once
    finally:
        await one.stop()
        await two.stop()


async def test_a_city_that_changes_time_zone_is_reminded_at_its_new_0930(sqlite_console: ConsoleHarness) -> None:
    h = sqlite_console
    await h.say('@alice #x /icc deadline add title="Survey" due=2027-01-29 audience=cities:Lyon',
                "@alice #x /icc city set city=Lyon timezone=America/Toronto")   # planned for Paris
    assert posts_in(await h.say("!clock 2027-01-15T14:29Z"), "lyon") == []   # 09:29 in Toronto
    assert len(posts_in(await h.say("!clock 2027-01-15T14:31Z"), "lyon")) == 1
