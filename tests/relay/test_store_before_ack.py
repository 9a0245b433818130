"""A message is stored before it is taken as received: with the database failing, the console
says so on one line and relays nothing; once the database is back, the line typed again is
relayed once. (The platforms' own answers — Slack's 5xx, Socket Mode's missing ack, Discord's
retries — are tested with their adapters.)"""

from __future__ import annotations

from tests.database_faults import DatabaseFaults
from tests.harness import ConsoleHarness

LINE = "@marie #rumeurs-fr Bonjour à tous, la réunion est jeudi."
OTHER_CHANNELS = ("rumours-en", "chutky-uk", "rumores-es", "dicerie-it")


async def typed_while_failing(console: ConsoleHarness, line: str) -> list[str]:
    """A line typed while the database fails (waiting for the bot to settle would ask it too)."""
    await console.adapter.feed(line)
    return console.new_entries()


def relayed(entries: list[str]) -> list[str]:
    return sorted(entry.split("]")[0][2:] for entry in entries if entry.startswith("[#"))


async def test_a_message_the_database_refuses_is_one_clear_line_and_nothing_is_relayed(
        console: ConsoleHarness) -> None:
    with DatabaseFaults(console.bot.db) as faults:
        faults.fail_commits()
        [entry] = await typed_while_failing(console, LINE)
        assert entry.startswith("[console] error: the message m1 in console:local/rumeurs-fr was not stored "
                                "(OperationalError: ")
        assert entry.endswith("nothing was relayed: type it again once the database is back")
        assert "\n" not in entry and "Bonjour" not in entry  # no statement, no parameters
        faults.recover()
        await console.bot.wait_idle()
        assert console.new_entries() == []
        assert relayed(await console.say(LINE)) == sorted(OTHER_CHANNELS)


async def test_a_refused_connection_is_not_stored_either(console: ConsoleHarness) -> None:
    with DatabaseFaults(console.bot.db) as faults:
        await faults.fail_connects()
        [entry] = await typed_while_failing(console, LINE)
        assert entry.startswith("[console] error: the message m1 in console:local/rumeurs-fr was not stored")
        assert faults.refused_connects >= 1
        faults.recover()
        assert relayed(await console.say("@marie #rumeurs-fr !edit ^ Bonjour, la réunion est vendredi.")) == []
        assert relayed(await console.say(LINE)) == sorted(OTHER_CHANNELS)


async def test_an_edit_the_database_refuses_is_said_and_the_copies_keep_their_text(console: ConsoleHarness) -> None:
    assert relayed(await console.say(LINE)) == sorted(OTHER_CHANNELS)
    with DatabaseFaults(console.bot.db) as faults:
        faults.fail_commits()
        [entry] = await typed_while_failing(console, "@marie #rumeurs-fr !edit ^ Bonjour, la réunion est vendredi.")
        assert entry.startswith("[console] error: the edit of message m1 in console:local/rumeurs-fr was not "
                                "stored")
        faults.recover()
        edits = await console.say("@marie #rumeurs-fr !edit ^ Bonjour, la réunion est vendredi.")
    assert sorted(e.split("]")[0][2:] for e in edits if "✎" in e) == sorted(OTHER_CHANNELS)
