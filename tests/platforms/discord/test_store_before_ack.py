"""Discord's gateway sends each event once: a message the database refuses stays in the bot's
memory and is stored, then relayed exactly once, when the database is back — with the edit that
came meanwhile applied after it, never before. The real discord.py on the fake Discord, the real
relay, the database made to fail through SQLAlchemy's events, the clock moved by the test."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.events import MessagePosted
from bot.platforms.pending import PendingEvents
from tests.database_faults import DatabaseFaults
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord
from tests.platforms.discord.harness import ANA, GUILD, RUMEURS, RUMOURS, DiscordHarness
from tests.platforms.discord.test_relay import relays

LOG = "bot.platforms.pending"
CONSOLE_CHANNELS = ["[#chutky-uk", "[#dicerie-it", "[#rumeurs-fr", "[#rumores-es", "[#rumours-en"]


def pending(network: DiscordHarness) -> PendingEvents:
    found = network.adapter.inbound.pending
    assert found is not None
    return found


async def arrives(network: DiscordHarness, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A gateway event, its handlers awaited (not the bot's other work: that would ask the failing database)."""
    await gw.inject(network.adapter.client, event, payload)
    return payload


async def later(network: DiscordHarness, seconds: float) -> None:
    """Time passes; the retry job runs if it is due (by itself, as the scheduler would)."""
    network.clock.advance(timedelta(seconds=seconds))
    job = pending(network)
    due = await job.next_due(network.clock.now())
    if due is not None and due <= network.clock.now():
        await network.bot.scheduler.run_job(job.name)


def console_copies(network: DiscordHarness) -> list[str]:
    """The relays' first lines in the console's channels (edits are marked ✎)."""
    return [line for line in network.console_output.getvalue().splitlines() if line.startswith("[#")]


async def test_a_message_and_its_edit_wait_out_the_outage_and_are_relayed_once_in_order(
        network: DiscordHarness, caplog: pytest.LogCaptureFixture) -> None:
    fake = network.fake
    caplog.set_level(logging.INFO, logger=LOG)
    with DatabaseFaults(network.bot.db) as faults:
        faults.fail_commits()
        sent = await arrives(network, "MESSAGE_CREATE", gw.message_create(
            RUMOURS, "The café is on Monday", author=ANA, guild_id=GUILD))
        await arrives(network, "MESSAGE_UPDATE", gw.message_update(sent, "The café is on Tuesday"))
        assert len(pending(network)) == 2 and relays(fake) == []
        kept = [r.getMessage() for r in caplog.records if r.name == LOG]
        assert kept[0].startswith(f"discord: the message {sent['id']} in discord:{GUILD}/{RUMOURS} was not stored "
                                  "(OperationalError: ")
        assert kept[0].endswith("kept in memory, tried again in 1s")
        assert kept[1] == f"discord: the edit of message {sent['id']} in discord:{GUILD}/{RUMOURS} waits behind 1 " \
                          "events not yet stored"

        # The database stays down: tries after 1, 2, 4 seconds, nothing relayed, nothing dropped.
        refused = faults.refused_commits
        for pause in (1, 2, 4):
            await later(network, pause - 0.5)
            assert faults.refused_commits == refused  # not due yet
            await later(network, 0.5)
            assert faults.refused_commits > refused
            refused = faults.refused_commits
        assert len(pending(network)) == 2 and relays(fake) == []
        faults.recover()

    await later(network, 8)
    await network.bot.wait_idle()
    assert len(pending(network)) == 0
    [copy] = relays(fake, RUMEURS)
    assert copy.body["username"] == "Ana Souza"
    [posted] = fake.messages(RUMEURS)
    assert posted["content"].startswith("[FR] The café is on Tuesday")  # the edit, applied after the post
    # Each console channel of the group, once, with the text as it is now.
    assert sorted(line.split("]")[0] for line in console_copies(network)) == CONSOLE_CHANNELS
    assert all("The café is on Tuesday" in line for line in console_copies(network))
    assert any("stored, 5 tries after it came" in r.getMessage() for r in caplog.records if r.name == LOG)

    # Nothing is stored or relayed twice as time goes on.
    await network.bot.scheduler.advance_to(network.clock.now() + timedelta(minutes=5), network.clock,
                                           settle=network.bot.wait_idle)
    assert len(relays(fake, RUMEURS)) == 1
    assert sorted(line.split("]")[0] for line in console_copies(network)) == CONSOLE_CHANNELS


async def test_events_after_an_outage_go_straight_in(network: DiscordHarness) -> None:
    with DatabaseFaults(network.bot.db) as faults:
        faults.fail_commits(1)  # one failure: the next try succeeds
        await arrives(network, "MESSAGE_CREATE", gw.message_create(RUMOURS, "First", author=ANA, guild_id=GUILD))
        assert len(pending(network)) == 1
    await later(network, 1)
    await network.say(RUMOURS, "Second")
    assert len(pending(network)) == 0
    assert [m["content"].split("\n")[0] for m in network.fake.messages(RUMEURS)] == ["[FR] First", "[FR] Second"]


async def test_a_full_queue_says_which_event_is_lost(network: DiscordHarness, caplog: pytest.LogCaptureFixture
                                                     ) -> None:
    pending(network).limit = 2
    with DatabaseFaults(network.bot.db) as faults, caplog.at_level(logging.WARNING, logger=LOG):
        faults.fail_commits()
        for text in ("one", "two", "three"):
            last = await arrives(network, "MESSAGE_CREATE", gw.message_create(RUMOURS, text, author=ANA,
                                                                              guild_id=GUILD))
        assert len(pending(network)) == 2
        [lost] = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert lost.getMessage() == (f"discord: the message {last['id']} in discord:{GUILD}/{RUMOURS} was not "
                                     "stored, and 2 events already wait for the database: it is lost")
        faults.recover()
    await later(network, 1)
    await network.bot.wait_idle()
    assert [m["content"].split("\n")[0] for m in network.fake.messages(RUMEURS)] == ["[FR] one", "[FR] two"]


async def test_at_shutdown_a_last_try_is_made_and_what_remains_is_named(
        network: DiscordHarness, caplog: pytest.LogCaptureFixture) -> None:
    faults = DatabaseFaults(network.bot.db)
    faults.fail_commits()
    sent = await arrives(network, "MESSAGE_CREATE", gw.message_create(RUMOURS, "Bye", author=ANA, guild_id=GUILD))
    with caplog.at_level(logging.ERROR, logger=LOG):
        await pending(network).stop()
    [line] = [r.getMessage() for r in caplog.records if r.name == LOG and r.levelno == logging.ERROR]
    assert line == (f"discord: 1 incoming events were never stored and are lost as the bot stops: "
                    f"message {sent['id']} in discord:{GUILD}/{RUMOURS}")
    faults.recover()
    await pending(network).stop()  # the database is back: the last try stores it
    assert len(pending(network)) == 0
    faults.close()


async def test_an_event_failing_for_another_reason_is_retried_briefly_then_logged_as_lost(
        fake_discord: FakeDiscord, sqlite_demo_url: str, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(event: MessagePosted) -> None:
        """An extension with a bug, after the relay's listener."""
        if event.text == "boom":
            raise KeyError("a bug")

    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url,
                                         prepare=lambda bot: bot.on(MessagePosted, broken))
    try:
        await harness.say(RUMOURS, "boom")
        assert len(pending(harness)) == 1
        for pause in (1, 2):
            await later(harness, pause)
        assert len(pending(harness)) == 0
        [lost] = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == LOG]
        assert lost.getMessage().endswith("(KeyError: 'a bug'), 3 times: given up, it is lost")
        assert lost.exc_info is not None  # with the traceback, to fix the bug
        await harness.say(RUMOURS, "after")
        await harness.bot.wait_idle()
        # The relay stored it the first time; its tries again relayed nothing twice.
        assert [m["content"].split("\n")[0] for m in fake_discord.messages(RUMEURS)] == ["boom", "after"]
    finally:
        await harness.stop()
