"""Mentions in relayed text are made inert, and nothing else changes."""

import pytest

from bot.relay.safety import ZWJ, neutralise_mentions


@pytest.mark.parametrize(("text", "expected"), [
    ("@everyone look", f"@{ZWJ}everyone look"),
    ("hi @here!", f"hi @{ZWJ}here!"),
    ("@Channel", f"@{ZWJ}Channel"),
    ("<!channel> <!here> <!everyone>", f"<{ZWJ}!channel> <{ZWJ}!here> <{ZWJ}!everyone>"),
    ("<!subteam^S012|@team>", f"<{ZWJ}!subteam^S012|@team>"),
    ("ping <@U024BE7LH> and <@!123> and role <@&456>",
     f"ping <{ZWJ}@U024BE7LH> and <{ZWJ}@!123> and role <{ZWJ}@&456>"),
])
def test_mentions_that_could_notify_are_broken(text: str, expected: str) -> None:
    assert neutralise_mentions(text) == expected


@pytest.mark.parametrize("text", [
    "@Ana Souza said hello",  # neutral markup for a person: plain text, pings nobody
    "#rumours-en and <#C123|general>",
    "mail me: ana@example.org, see <https://example.org|the site>",
    "@heretic @everyoneelse @channels",
    "a < b and c > d",
])
def test_everything_else_is_left_alone(text: str) -> None:
    assert neutralise_mentions(text) == text
