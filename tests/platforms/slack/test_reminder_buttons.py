"""The buttons under a reminder, end to end on the real slack-bolt: the ICC team sets a deadline,
the clock moves, the reminder job posts into the city's Slack channel, and the coordinator
presses Done or Snooze exactly as Slack would send the press back."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from storage.queries import registry
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_payloads import app_home_opened_event, block_actions_payload, slash_command_body
from tests.platforms.slack.conftest import SlackHarness, start_slack_bot

LYON = "C0LYON001"
ADMIN = "U0ADMIN01"
MARIE = "U0MARIE01"   # coordinates Lyon, reads French
TOM = "U0TOM0001"     # coordinates Manchester, reads English
LUC = "U0LUC0001"     # a French reader with no city


@pytest.fixture
async def slack(sqlite_demo_url: str, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    harness = await start_slack_bot(sqlite_demo_url, fake_slack)
    fake_slack.add_user(ADMIN, "admin", display_name="ICC Admin")
    fake_slack.add_user(MARIE, "marie", display_name="Marie Dubois", locale="fr-FR")
    fake_slack.add_user(TOM, "tom", display_name="Tom Evans")
    fake_slack.add_user(LUC, "luc", display_name="Luc Petit", locale="fr-FR")
    fake_slack.add_channel(LYON, "lyon")
    try:
        await command(harness, "city register Lyon", MARIE)
        await command(harness, "city set channel=here", MARIE, channel=LYON)
        await command(harness, "city register Manchester", TOM)
        yield harness
    finally:
        await harness.bot.stop()
        await harness.bot.db.dispose()


async def command(slack: SlackHarness, text: str, user: str, *, channel: str = "C0GROUP01") -> str:
    url = slack.fake.new_response_url()
    await slack.send(slash_command_body(text, user_id=user, channel_id=channel, response_url=url))
    return "\n".join(str(answer.get("text", "")) for answer in slack.fake.responses_to(url))


async def move_clock(slack: SlackHarness, instant: str) -> None:
    target = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    await slack.bot.scheduler.advance_to(target, slack.bot.clock, settle=slack.bot.wait_idle)  # type: ignore[arg-type]


def reminders_in(slack: SlackHarness, channel: str) -> list[dict[str, Any]]:
    """The reminders posted in the channel, as they were posted (copies: the fake edits in place)."""
    return [copy.deepcopy(m) for m in slack.fake.messages(channel) if "Annual survey" in m.get("text", "")]


def button(message: dict[str, Any], action_prefix: str) -> dict[str, Any]:
    """The button as Slack shows it, from the posted message's blocks."""
    return next(element for block in message.get("blocks", []) if block.get("type") == "actions"
                for element in block["elements"] if element["action_id"].startswith(action_prefix))


async def press(slack: SlackHarness, message: dict[str, Any], element: dict[str, Any], user: str,
                channel: str = LYON) -> list[Any]:
    """The press exactly as Slack sends it back (a signed block_actions request); the answers."""
    url = slack.fake.new_response_url()
    action = {"type": "button", "action_id": element["action_id"], "block_id": "actions-0",
              "text": element["text"], "value": element["value"], "action_ts": "1700000999.000100"}
    response = await slack.send(block_actions_payload([action], user_id=user, channel_id=channel,
                                                      message=message, response_url=url))
    assert response.status == 200
    return slack.fake.responses_to(url)


async def create_survey(slack: SlackHarness, plan: str = "-1,0,3") -> int:
    answer = await command(slack, f'deadline add title="Annual survey" due=2027-01-13 audience=cities:Lyon '
                                  f'plan={plan}', ADMIN)
    assert "Deadline #1 created" in answer
    return 1


async def city_id(slack: SlackHarness, name: str) -> int:
    async with slack.bot.db.session() as session:
        city = await registry.find_city(session, name)
    assert city is not None and city.id is not None
    return city.id


async def status_of(slack: SlackHarness, deadline_id: int) -> str:
    return await command(slack, f"deadline status {deadline_id}", ADMIN)


async def test_done_marks_the_city_done_closes_the_reminder_and_stops_the_reminders(slack: SlackHarness) -> None:
    deadline_id = await create_survey(slack)
    await move_clock(slack, "2027-01-12T08:29Z")   # 09:29 in Lyon, the day before it is due
    assert reminders_in(slack, LYON) == []
    await move_clock(slack, "2027-01-12T08:31Z")
    [reminder] = reminders_in(slack, LYON)
    assert "Annual survey" in reminder["text"] and "demain" in reminder["text"]  # Lyon's channel speaks French
    done = button(reminder, "deadline.done")
    assert done["value"] == f"{deadline_id}:{await city_id(slack, 'Lyon')}" and done["text"]["text"] == "Fait"
    assert "Answered: 0 of 1. Not yet: 1." in await status_of(slack, deadline_id)

    [answer] = await press(slack, reminder, done, MARIE)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert answer["text"] == "✅ Lyon a répondu à *Annual survey*. Plus aucun rappel pour cette échéance."
    # The reminder itself was updated in the channel: its buttons are gone, it says who answered.
    [update] = slack.fake.params("chat.update")
    assert update["channel"] == LYON and update["ts"] == reminder["ts"]
    closed = slack.fake.message(LYON, reminder["ts"])
    assert closed is not None
    assert not [b for b in closed.get("blocks", []) if b.get("type") == "actions"]
    assert closed["text"] == reminder["text"] + "\n✅ Fait : indiqué par Marie Dubois."
    status = await status_of(slack, deadline_id)
    assert "Answered: 1 of 1." in status and "✅ Answered: Lyon (Marie Dubois, 12 Jan)" in status
    # Nothing more for Lyon: not on the due day, not three days after.
    await move_clock(slack, "2027-01-19T12:00Z")
    assert [m["ts"] for m in reminders_in(slack, LYON)] == [reminder["ts"]]

    # Pressing Done again on the old message (another coordinator's stale screen) changes nothing.
    [again] = await press(slack, reminder, done, MARIE)
    assert "déjà" in again["text"]


async def test_snooze_one_day_holds_the_next_reminder_until_then(slack: SlackHarness) -> None:
    deadline_id = await create_survey(slack, plan="-2,-1,0")
    await move_clock(slack, "2027-01-11T08:31Z")   # two days before: Monday 11, 09:31 in Lyon
    [reminder] = reminders_in(slack, LYON)
    # Early on Tuesday, before that day's reminder, Marie snoozes Monday's for a day.
    await move_clock(slack, "2027-01-12T06:00Z")
    [answer] = await press(slack, reminder, button(reminder, "deadline.snooze.1d"), MARIE)
    assert answer["text"] == ("💤 Reporté : le prochain rappel de *Annual survey* pour Lyon arrivera le "
                              "mercredi 13 janvier 2027, 09:30 (Europe/Paris).")
    # The snoozed reminder keeps its buttons: Lyon still has to answer.
    assert slack.fake.params("chat.update") == []
    await move_clock(slack, "2027-01-13T08:29Z")   # Tuesday's reminder did not come
    assert len(reminders_in(slack, LYON)) == 1
    await move_clock(slack, "2027-01-13T08:31Z")   # after the snooze: one reminder, not two
    [_monday, wednesday] = reminders_in(slack, LYON)
    assert "aujourd'hui" in wednesday["text"]
    assert button(wednesday, "deadline.done")["value"] == button(reminder, "deadline.done")["value"]
    assert "Answered: 0 of 1. Not yet: 1." in await status_of(slack, deadline_id)


async def test_someone_else_is_refused_in_their_language_and_nothing_changes(slack: SlackHarness) -> None:
    deadline_id = await create_survey(slack)
    await move_clock(slack, "2027-01-12T08:31Z")
    [reminder] = reminders_in(slack, LYON)
    done = button(reminder, "deadline.done")

    [to_tom] = await press(slack, reminder, done, TOM)
    assert to_tom["text"].startswith("Only a coordinator of Lyon or the ICC team can answer this reminder.")
    [to_luc] = await press(slack, reminder, done, LUC)
    assert to_luc["text"].startswith("Seul")
    [snooze_refused] = await press(slack, reminder, button(reminder, "deadline.snooze.1w"), TOM)
    assert snooze_refused["text"] == to_tom["text"]

    assert slack.fake.params("chat.update") == []
    assert button(slack.fake.message(LYON, reminder["ts"]) or {}, "deadline.done") == done
    assert "Answered: 0 of 1. Not yet: 1." in await status_of(slack, deadline_id)
    await move_clock(slack, "2027-01-13T08:31Z")   # Lyon is still reminded on the due day
    assert len(reminders_in(slack, LYON)) == 2


async def test_done_from_the_app_home_closes_every_reminder_in_the_channel(slack: SlackHarness) -> None:
    deadline_id = await create_survey(slack, plan="-2,-1,0")
    await move_clock(slack, "2027-01-12T08:31Z")   # Monday's and Tuesday's reminders are in Lyon's channel
    monday, tuesday = reminders_in(slack, LYON)
    await slack.event(app_home_opened_event(MARIE, "D0HOME001"))
    home = slack.fake.params("views.publish")[-1]["view"]
    [done] = [element for block in home["blocks"] if block["type"] == "actions" for element in block["elements"]]
    assert done["value"] == button(tuesday, "deadline.done")["value"]
    action = {"type": "button", "action_id": done["action_id"], "block_id": "home-1-0", "text": done["text"],
              "value": done["value"], "action_ts": "1700000999.000300"}
    await slack.send(block_actions_payload([action], user_id=MARIE, view={"id": "V0HOME001", "type": "home"}))
    assert "Answered: 1 of 1." in await status_of(slack, deadline_id)
    # Both reminders lost their buttons and say who answered, in the channel's language.
    for posted in (monday, tuesday):
        closed = slack.fake.message(LYON, posted["ts"])
        assert closed is not None and not [b for b in closed["blocks"] if b["type"] == "actions"]
        assert closed["text"] == posted["text"] + "\n✅ Fait : indiqué par Marie Dubois."
    await move_clock(slack, "2027-01-19T12:00Z")
    assert len(reminders_in(slack, LYON)) == 2


async def test_done_typed_as_a_command_closes_the_reminders_too(slack: SlackHarness) -> None:
    await create_survey(slack)
    await move_clock(slack, "2027-01-12T08:31Z")
    [reminder] = reminders_in(slack, LYON)
    refused = await command(slack, "deadline done 1 city=Lyon", TOM)   # Tom coordinates Manchester
    assert refused == "Only a coordinator of that city or the ICC team can do that."
    assert slack.fake.params("chat.update") == []
    answer = await command(slack, "deadline done 1", MARIE)
    assert answer.startswith("✅ Lyon a répondu")
    closed = slack.fake.message(LYON, reminder["ts"])
    assert closed is not None and closed["text"].endswith("✅ Fait : indiqué par Marie Dubois.")
    assert not [b for b in closed["blocks"] if b["type"] == "actions"]
