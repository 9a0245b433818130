"""`/icc practice add` on Slack: the good-practice template as a modal, validated by the same
core service as the inline command."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from storage.models import Practice
from tests.fakes.slack_payloads import (
    multi_static_select_value,
    slash_command_body,
    static_select_value,
    text_input_value,
    view_submission_payload,
)
from tests.platforms.slack.conftest import TEAM_A, SlackHarness

MARIE = "U0MARIE01"


async def open_practice_form(slack_bot: SlackHarness) -> dict[str, Any]:
    slack_bot.fake.add_user(MARIE, "marie", display_name="Marie Dubois", locale="fr-FR")
    await slack_bot.send(slash_command_body("city register Lyon", user_id=MARIE,
                                            response_url=slack_bot.fake.new_response_url()))
    await slack_bot.send(slash_command_body("practice add", user_id=MARIE, channel_id="C0RUMOURS", trigger_id="9.9.t"))
    [opened] = slack_bot.fake.params("views.open")
    assert opened["trigger_id"] == "9.9.t"
    return opened["view"]  # type: ignore[no-any-return]


def submit(view: dict[str, Any], title: str) -> dict[str, Any]:
    values = {"title": {"title": text_input_value(title)}, "city": {"city": static_select_value("lyon")},
              "topic": {"topic": multi_static_select_value(["anti-rumours"])},
              "period": {"period": text_input_value("2019-2022")},
              "purpose": {"purpose": text_input_value("Deconstruct rumours about migrants with facts.")},
              "rationale": {"rationale": text_input_value(None)}, "process": {"process": text_input_value(None)},
              "link": {"link": text_input_value(None)}, "contact": {"contact": text_input_value(None)}}
    return view_submission_payload(view["callback_id"], values, blocks=view["blocks"],
                                   private_metadata=view["private_metadata"], user_id=MARIE)


async def stored(slack_bot: SlackHarness) -> list[Practice]:
    async with slack_bot.bot.db.session() as session:
        return list(await session.exec(select(Practice)))


async def test_the_practice_modal_has_the_templates_fields(slack_bot: SlackHarness) -> None:
    view = await open_practice_form(slack_bot)
    assert view["callback_id"] == "practice.add" and len(view["title"]["text"]) <= 24
    names = [block["block_id"] for block in view["blocks"]]
    assert names == ["title", "city", "topic", "period", "purpose", "rationale", "process", "link", "contact"]
    by_name = {block["block_id"]: block for block in view["blocks"]}
    assert by_name["topic"]["element"]["type"] == "multi_static_select"
    assert by_name["purpose"]["element"]["multiline"] and by_name["purpose"]["element"]["max_length"] == 3000
    assert by_name["city"]["element"]["initial_option"]["value"] == "lyon"
    assert by_name["title"]["label"]["text"] == "Titre"  # Marie's Slack speaks French


async def test_a_modal_without_a_title_shows_the_field_error_and_stores_nothing(slack_bot: SlackHarness) -> None:
    view = await open_practice_form(slack_bot)
    response = await slack_bot.send(submit(view, "   "))
    answer = json.loads(response.body)
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["title"]
    assert answer["errors"]["title"]  # a sentence, in Marie's language
    assert await stored(slack_bot) == []


async def test_a_complete_modal_stores_the_practice_and_says_so(slack_bot: SlackHarness) -> None:
    view = await open_practice_form(slack_bot)
    response = await slack_bot.send(submit(view, "Stop rumours"))
    assert response.status == 200 and response.body == ""
    [practice] = await stored(slack_bot)
    assert practice.title == "Stop rumours"
    assert f"#{practice.id}" in slack_bot.fake.ephemerals[-1]["text"]


async def test_the_icc_team_gets_an_export_as_a_slack_file(slack_bot: SlackHarness) -> None:
    view = await open_practice_form(slack_bot)
    await slack_bot.send(submit(view, "Stop rumours"))
    slack_bot.fake.add_user("U0ADMIN01", "admin", display_name="ICC Admin")
    await slack_bot.send(slash_command_body("practice export format=csv status=all", user_id="U0ADMIN01",
                                            response_url=slack_bot.fake.new_response_url()))
    [upload] = slack_bot.fake.uploads.values()
    assert upload["name"].endswith(".csv") and b"Stop rumours" in upload["data"]
    assert upload["shared"] == slack_bot.fake.dm_channel("U0ADMIN01")


async def test_files_are_uploaded_and_shared_with_the_message(slack_bot: SlackHarness) -> None:
    from bot.events import PersonRef
    from bot.outbound import Outgoing, OutgoingFile

    csv = b"title,city\nStop rumours,Lyon\n"
    ana = PersonRef("slack", TEAM_A, "U0ANA0001")
    ts = await slack_bot.adapter.send_dm(ana, Outgoing("Your export", files=(OutgoingFile("practices.csv", csv,
                                                                                          "text/csv"),)))
    dm = slack_bot.fake.dm_channel("U0ANA0001")
    text, shared = slack_bot.fake.messages(dm)
    assert text["ts"] == ts and text["text"] == "Your export"
    [upload] = slack_bot.fake.uploads.values()
    assert upload["name"] == "practices.csv" and upload["data"] == csv and upload["shared"] == dm
    assert [f["name"] for f in shared["files"]] == ["practices.csv"]
