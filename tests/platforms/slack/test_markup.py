"""mrkdwn ⇄ neutral markup: what arrives is readable everywhere, what leaves pings nobody."""

from __future__ import annotations

import re

from bot.platforms.slack.markup import escape, mrkdwn_chunks, to_mrkdwn, to_neutral


def test_slack_markup_becomes_neutral() -> None:
    text = ("*Hello* <@U0ANA0001> in <#C0GROUP01|anti-rumours>, see <https://icc.example/x?a=1&amp;b=2|the guide> "
            "or <https://coe.int>, mail <mailto:ana@x.org|ana@x.org>, ~old~ _new_ &lt;3 &amp; more")
    neutral = to_neutral(text, users={"U0ANA0001": "Ana Souza"})
    assert neutral == ("**Hello** @Ana Souza in #anti-rumours, see [the guide](https://icc.example/x?a=1&b=2) "
                       "or https://coe.int, mail ana@x.org, ~~old~~ _new_ <3 & more")


def test_mass_mentions_and_unnamed_channels_become_plain_words() -> None:
    assert to_neutral("<!channel> <!here|@here> <!subteam^S123|@leads> <#C0XYZ>", channels={"C0XYZ": "lobby"}) \
        == "@channel @here @leads #lobby"


def test_command_text_keeps_person_mentions_for_parse_mention() -> None:
    assert to_neutral("role grant <@U0ANA0001|ana> group-lead", keep_user_mentions=True) \
        == "role grant <@U0ANA0001|ana> group-lead"


def test_code_is_left_alone_inbound() -> None:
    assert to_neutral("`*not bold*` and ```a &lt; b```") == "`*not bold*` and ```a < b```"


def test_neutral_markup_becomes_mrkdwn() -> None:
    assert to_mrkdwn("**Deadline** _soon_: [form](https://x.org/f?a=1&b=2) ~~old~~ *it*") == \
        "*Deadline* _soon_: <https://x.org/f?a=1&amp;b=2|form> ~old~ _it_"


def test_nothing_in_relayed_text_can_ping() -> None:
    hostile = "<!channel> <!here> <@U0ANA0001> @here @channel @everyone <!subteam^S1> [x](javascript:alert(1))"
    out = to_mrkdwn(hostile)
    # No Slack token can form: every < is escaped, and the mass-mention words are broken.
    assert "<" not in out and ">" not in out
    assert not re.search(r"@(here|channel|everyone)\b", out)
    assert "&lt;!channel&gt;" in out and "&lt;@U0ANA0001&gt;" in out


def test_channel_links_of_the_core_survive_escaping() -> None:
    assert to_mrkdwn("Linked to <#C0GROUP01> & <#C0B|b>") == "Linked to <#C0GROUP01> &amp; <#C0B|b>"


def test_quotes_stay_quotes_and_code_is_escaped_but_not_formatted() -> None:
    assert to_mrkdwn("> quoted\n`**a** < b`") == "> quoted\n`**a** &lt; b`"


def test_escape() -> None:
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_chunks_respect_block_limit_and_lose_nothing() -> None:
    text = ("Lorem ipsum & <dolor> sit amet. " * 400).strip()
    chunks = mrkdwn_chunks(text, 3000)
    assert all(len(chunk) <= 3000 for chunk in chunks)
    assert len(chunks) > 4
    assert to_neutral("".join(chunks)) == text


def test_chunks_of_pathological_text_made_only_of_escapes() -> None:
    text = "&" * 10_000
    chunks = mrkdwn_chunks(text, 3000)
    assert all(len(chunk) <= 3000 for chunk in chunks)
    assert to_neutral("".join(chunks)) == text
