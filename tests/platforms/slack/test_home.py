"""The App Home through the real slack-bolt: the viewer's city, its upcoming deadlines with their
status and a Done button, and the recent practices of its groups, in the viewer's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_payloads import app_home_opened_event, block_actions_payload, slash_command_body
from tests.platforms.slack.conftest import SlackHarness, start_slack_bot

ADMIN = "U0ADMIN01"
MARIE = "U0MARIE01"   # coordinates Lyon, reads French, lives on London time
TOM = "U0TOM0001"     # coordinates Manchester


@pytest.fixture
async def slack(sqlite_demo_url: str, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    harness = await start_slack_bot(sqlite_demo_url, fake_slack)
    fake_slack.add_user(ADMIN, "admin", display_name="ICC Admin")
    fake_slack.add_user(MARIE, "marie", display_name="Marie Dubois", locale="fr-FR", tz="Europe/London")
    fake_slack.add_user(TOM, "tom", display_name="Tom Evans")
    try:
        await command(harness, "city register Lyon", MARIE)
        await command(harness, "city register Manchester", TOM)
        yield harness
    finally:
        await harness.bot.stop()
        await harness.bot.db.dispose()


async def command(slack: SlackHarness, text: str, user: str = ADMIN) -> str:
    url = slack.fake.new_response_url()
    await slack.send(slash_command_body(text, user_id=user, response_url=url))
    return "\n".join(str(answer.get("text", "")) for answer in slack.fake.responses_to(url))


async def publish_practice(slack: SlackHarness, number: int, title: str, city: str, topic: str) -> None:
    """Filed for `city` by the ICC team, its English given, published."""
    assert f"#{number}" in await command(slack, f'practice add title="{title}" topic={topic} purpose="Why." '
                                                f'city={city}')
    await command(slack, f'practice edit {number} lang=en title="{title}" purpose="Why."')
    assert "is published" in await command(slack, f"practice publish {number}")


async def home_of(slack: SlackHarness, user: str) -> dict[str, Any]:
    before = len(slack.fake.params("views.publish"))
    await slack.event(app_home_opened_event(user, "D0HOME001"))
    published = slack.fake.params("views.publish")[before:]
    assert [p["user_id"] for p in published] == [user]
    view: dict[str, Any] = published[0]["view"]
    assert view["type"] == "home"
    return view


def text_of(view: dict[str, Any]) -> str:
    return "\n".join(str(block.get("text", {}).get("text", "")) for block in view["blocks"])


def buttons_of(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [element for block in view["blocks"] if block["type"] == "actions" for element in block["elements"]]


async def move_clock(slack: SlackHarness, instant: str) -> None:
    target = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    await slack.bot.scheduler.advance_to(target, slack.bot.clock, settle=slack.bot.wait_idle)  # type: ignore[arg-type]


async def test_home_shows_the_citys_deadlines_with_their_status_and_its_groups_practices(
        slack: SlackHarness) -> None:
    await command(slack, 'deadline add title="Annual survey" due=2027-02-10 audience=cities:Lyon,Manchester')
    await command(slack, 'deadline add title="Index questionnaire" due=2027-01-29 audience=all '
                         'link=https://example.org/index')
    await command(slack, 'deadline add title="Manchester only" due=2027-01-20 audience=cities:Manchester')
    await command(slack, 'deadline add title="Old report" due=2027-01-12 audience=cities:Lyon')
    await command(slack, "deadline done 4 city=Lyon")       # answered and past: no longer shown
    await command(slack, "deadline done 2", MARIE)          # answered, still to come: shown as answered
    await move_clock(slack, "2027-01-13T06:00Z")            # "Old report" is past
    await publish_practice(slack, 1, "Rumour busters", "Barcelona", "anti-rumours")     # a group city
    await publish_practice(slack, 2, "Welcome walks", "Rabat", "welcoming-newcomers")     # a group city
    await publish_practice(slack, 3, "Harbour festival", "Oslo", "education")              # not in Lyon's groups
    await command(slack, 'practice add title="Secret draft" topic=anti-rumours purpose="x" city=Milano draft=yes')

    view = await home_of(slack, MARIE)
    text = text_of(view)
    assert "Votre ville" in text and "Lyon" in text    # the city part is still there, in French
    assert "Échéances à venir de Lyon" in text
    assert "heures en Europe/London" in text
    # Soonest first; the answered one says so; the open one says when its next reminder comes, on London time.
    assert text.index("#2 Index questionnaire") < text.index("#1 Annual survey")
    assert "✅ Réponse donnée le lundi 11 janvier 2027." in text and "🔗 https://example.org/index" in text
    assert "⏳ Pas encore de réponse. Prochain rappel : mercredi 27 janvier 2027, 08:30 (Europe/London)." in text
    assert "À rendre le mercredi 10 février 2027 (dans 28 jours)." in text
    assert "Manchester only" not in text and "Old report" not in text
    # One Done button: on the deadline Lyon has not answered.
    [done] = buttons_of(view)
    assert done["action_id"] == "deadline.done" and done["text"]["text"] == "Fait"
    assert done["value"].startswith("1:")
    # The practices of Lyon's groups, newest first; not other cities', not drafts.
    assert "Pratiques récentes de vos groupes" in text
    assert text.index("• #2 *Welcome walks* (Rabat)") < text.index("• #1 *Rumour busters* (Barcelona)")
    assert "Harbour festival" not in text and "Secret draft" not in text

    # Done from the home: Lyon has answered, and the home shows it at once.
    await slack.send(block_actions_payload([{"type": "button", "action_id": done["action_id"],
                                             "block_id": "home-3-0", "value": done["value"],
                                             "text": done["text"], "action_ts": "1700000999.000200"}],
                                           user_id=MARIE, view={"id": "V0HOME001", "type": "home"}))
    refreshed = slack.fake.params("views.publish")[-1]
    assert refreshed["user_id"] == MARIE and buttons_of(refreshed["view"]) == []
    assert text_of(refreshed["view"]).count("✅ Réponse donnée le") == 2
    status = await command(slack, "deadline status 1")
    assert "✅ Answered: Lyon (Marie Dubois" in status
    # The confirmation reaches her (no channel here: by direct message).
    dm = slack.fake.dm_channel(MARIE)
    assert slack.fake.messages(dm)[-1]["text"].startswith("✅ Lyon a répondu")


async def test_home_of_a_city_with_nothing_yet_says_so(slack: SlackHarness) -> None:
    text = text_of(await home_of(slack, TOM))
    assert "Manchester has no open deadline." in text
    assert "Nothing published yet." in text


async def test_someone_without_a_city_sees_no_deadlines_or_practices(slack: SlackHarness) -> None:
    slack.fake.add_user("U0NEW0001", "newcomer")
    text = text_of(await home_of(slack, "U0NEW0001"))
    assert "/icc city register" in text
    assert "Upcoming deadlines" not in text and "Recent practices" not in text
