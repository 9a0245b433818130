"""Slash commands, modals, buttons, the Translate shortcut and the App Home through the real bolt."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlmodel import select

from bot.commands import Param
from bot.context import CommandContext, Interaction
from bot.events import ButtonPressed, FormResult, FormSubmitted, TranslateRequested
from bot.i18n import _
from bot.outbound import Button, Form, FormField
from bot.permissions import RULES, Access
from storage.models import Person
from tests.fakes.slack_payloads import (
    app_home_opened_event,
    block_actions_payload,
    button_action,
    message_action_payload,
    message_event,
    multi_static_select_value,
    slash_command_body,
    static_select_value,
    text_input_value,
    view_submission_payload,
)
from tests.platforms.slack.conftest import TEAM_A, SlackHarness

PRACTICE_FORM = Form(
    "test.practice", _("New good practice"),
    (FormField("title", _("Title"), max_length=200),
     FormField("topics", _("Topics"), kind="multi_select",
               options=tuple((f"topic-{n}", f"Topic {n}") for n in range(130))),
     FormField("city", _("City"), kind="select", options=(("lyon", "Lyon"), ("odesa", "Odesa")), initial="lyon"),
     FormField("purpose", _("Purpose"), kind="long_text", required=False)),
    _("Save"), context="draft-1")


class SampleArea:
    """A small command area registered by the test: a form command, a form handler, a button."""

    def __init__(self) -> None:
        self.stored: list[dict[str, Any]] = []
        self.done: list[tuple[str, str]] = []

    async def add(self, ctx: CommandContext) -> None:
        if ctx.args is not None and ctx.args.empty and ctx.can_open_form:
            await ctx.open_form(PRACTICE_FORM)
            return
        await ctx.reply(_("Inline: {title}", title=ctx.text_arg("title")))

    async def submitted(self, ix: Interaction, event: FormSubmitted) -> FormResult | None:
        if not str(event.values.get("title", "")).strip():
            return FormResult({"title": _("A practice needs a title.")})
        self.stored.append({"values": dict(event.values), "context": event.context, "channel": event.channel})
        await ix.reply(_("Saved."))
        return None

    async def pressed(self, ix: Interaction, event: ButtonPressed) -> None:
        self.done.append((event.value, ix.person.user_id))
        await ix.reply(_("Marked done."))


@pytest.fixture
def area(slack_bot: SlackHarness, monkeypatch: pytest.MonkeyPatch) -> SampleArea:
    monkeypatch.setitem(RULES, ("testing", "add"), Access.ANYONE)
    test_area = SampleArea()
    slack_bot.bot.commands.command("testing", "add", summary=_("Add"), usage="/icc testing add [title=…]",
                                   params=(Param("title", _("title")),), form=True)(test_area.add)
    slack_bot.bot.on_form("test.", test_area.submitted)
    slack_bot.bot.on_button("test.done", test_area.pressed)
    slack_bot.fake.add_user("U0ALICE01", "alice", display_name="Alice Martin")
    return test_area


async def test_a_command_is_acknowledged_at_once_and_answered_privately(slack_bot: SlackHarness) -> None:
    url = slack_bot.fake.new_response_url()
    slack_bot.fake.set_latency("users.info", 4.0)  # a slow Slack must not delay the acknowledgement
    started = time.monotonic()
    response = await slack_bot.send(slash_command_body("help", response_url=url), settle=False)
    assert response.status == 200 and response.body == "" and time.monotonic() - started < 1.0
    slack_bot.fake.set_latency("users.info", 0)
    await slack_bot.bot.wait_idle(timeout=10)
    [answer] = slack_bot.fake.responses_to(url)
    assert answer["response_type"] == "ephemeral" and "/icc" in answer["text"]


async def test_a_public_answer_is_posted_in_the_channel(slack_bot: SlackHarness) -> None:
    slack_bot.fake.add_user("U0ADMIN01", "admin", display_name="ICC Admin")
    url = slack_bot.fake.new_response_url()
    await slack_bot.send(slash_command_body("lang fr", user_id="U0ADMIN01", channel_id="C0RUMOURS", response_url=url))
    [post] = slack_bot.fake.messages("C0RUMOURS")
    assert "fr" in post["text"] and slack_bot.fake.responses_to(url) == []


async def test_a_refused_command_changes_nothing_and_says_why(slack_bot: SlackHarness) -> None:
    url = slack_bot.fake.new_response_url()
    await slack_bot.send(slash_command_body("group create hackers", response_url=url))
    [answer] = slack_bot.fake.responses_to(url)
    assert "ICC team" in answer["text"] and slack_bot.fake.calls("chat.postMessage") == []


async def test_form_command_opens_a_modal_before_acknowledging(slack_bot: SlackHarness, area: SampleArea) -> None:
    response = await slack_bot.send(slash_command_body("testing add", channel_id="C0RUMOURS", trigger_id="1.2.t"))
    assert response.status == 200
    [opened] = slack_bot.fake.params("views.open")
    assert opened["trigger_id"] == "1.2.t"
    view = opened["view"]
    assert view["type"] == "modal" and view["callback_id"] == "test.practice"
    assert view["title"]["text"] == "New good practice" and view["submit"]["text"] == "Save"
    blocks = {block["block_id"]: block for block in view["blocks"]}
    assert list(blocks) == ["title", "topics", "city", "purpose"]
    assert blocks["title"]["element"]["max_length"] == 200 and not blocks["title"]["optional"]
    assert blocks["purpose"]["element"]["multiline"] and blocks["purpose"]["optional"]
    assert sum(len(g["options"]) for g in blocks["topics"]["element"]["option_groups"]) == 130
    assert blocks["city"]["element"]["initial_option"]["value"] == "lyon"
    # Inline arguments still work without a form.
    url = slack_bot.fake.new_response_url()
    await slack_bot.send(slash_command_body('testing add title="Rumour busters"', response_url=url))
    assert slack_bot.fake.responses_to(url)[0]["text"] == "Inline: Rumour busters"


def submission(title: str) -> dict[str, Any]:
    values = {"title": {"title": text_input_value(title)},
              "topics": {"topics": multi_static_select_value(["topic-1", "topic-7"])},
              "city": {"city": static_select_value("odesa")},
              "purpose": {"purpose": text_input_value(None)}}
    blocks = [{"type": "input", "block_id": name} for name in values]
    return view_submission_payload("test.practice", values, blocks=blocks,
                                   private_metadata='{"context":"draft-1","channel":"C0RUMOURS"}')


async def test_a_modal_missing_its_title_shows_the_error_and_stores_nothing(slack_bot: SlackHarness,
                                                                           area: SampleArea) -> None:
    response = await slack_bot.send(submission("   "))
    assert response.status == 200
    import json

    assert json.loads(response.body) == {"response_action": "errors",
                                         "errors": {"title": "A practice needs a title."}}
    assert area.stored == []


async def test_a_valid_modal_is_stored_and_acknowledged(slack_bot: SlackHarness, area: SampleArea) -> None:
    response = await slack_bot.send(submission("Rumour busters"))
    assert response.status == 200 and response.body == ""
    [stored] = area.stored
    assert stored["values"] == {"title": "Rumour busters", "topics": ["topic-1", "topic-7"], "city": "odesa",
                                "purpose": ""}
    assert stored["context"] == "draft-1" and stored["channel"].channel == "C0RUMOURS"
    # The modal has no response_url: the confirmation is an ephemeral message in the channel.
    assert slack_bot.fake.ephemerals[-1]["text"] == "Saved." and slack_bot.fake.ephemerals[-1]["user"] == "U0ALICE01"


async def test_a_slow_form_handler_still_lets_slack_close_the_modal(slack_bot: SlackHarness,
                                                                   area: SampleArea, monkeypatch: Any) -> None:
    monkeypatch.setattr("bot.platforms.slack.adapter.ACK_BUDGET", 0.2)
    original = area.submitted

    async def slow(ix: Interaction, event: FormSubmitted) -> FormResult | None:
        await asyncio.sleep(0.5)
        return await original(ix, event)

    slack_bot.bot.on_form("test.", slow)
    response = await slack_bot.send(submission("Late but kept"), settle=False)
    assert response.status == 200 and response.body == ""
    await slack_bot.bot.wait_idle(timeout=10)
    assert [s["values"]["title"] for s in area.stored] == ["Late but kept"]
    # A late verdict against the form can no longer show in the closed modal: it comes as a message.
    await slack_bot.send(submission(" "))
    assert slack_bot.fake.ephemerals[-1]["text"] == "• A practice needs a title."


async def test_the_done_button_reaches_its_handler(slack_bot: SlackHarness, area: SampleArea) -> None:
    url = slack_bot.fake.new_response_url()
    payload = block_actions_payload([button_action("test.done~1", "deadline-7:lyon")], channel_id="C0LYON",
                                    response_url=url)
    response = await slack_bot.send(payload)
    assert response.status == 200
    assert area.done == [("deadline-7:lyon", "U0ALICE01")]
    [answer] = slack_bot.fake.responses_to(url)
    assert answer["text"] == "Marked done." and answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False


async def test_the_translate_shortcut_answers_only_the_requester(slack_bot: SlackHarness) -> None:
    slack_bot.fake.add_user("U0ALICE01", "alice", locale="fr-FR")
    requests: list[TranslateRequested] = []

    async def translate(event: TranslateRequested) -> None:
        requests.append(event)
        await event.responder.reply(f"[FR] {event.text}")

    slack_bot.bot.on(TranslateRequested, translate)
    url = slack_bot.fake.new_response_url()
    message = message_event("C0RUMOURS", "*Good* morning", user="U0LUC0001")
    await slack_bot.send(message_action_payload("icc_translate", message, channel_id="C0RUMOURS", response_url=url))
    [request] = requests
    assert request.text == "**Good** morning" and request.message_id == message["ts"]
    assert request.platform_locale == "fr-FR"
    # (With the relay installed its own translator answers too; ours is among the private answers.)
    answer = {"text": "[FR] *Good* morning", "response_type": "ephemeral", "replace_original": False}
    assert answer in slack_bot.fake.responses_to(url)


async def test_app_home_shows_the_viewers_city_and_groups(slack_bot: SlackHarness) -> None:
    slack_bot.fake.add_user("U0ALICE01", "alice", display_name="Marie", locale="fr-FR")
    url = slack_bot.fake.new_response_url()
    await slack_bot.send(slash_command_body("city register Lyon", response_url=url))
    await slack_bot.event(app_home_opened_event("U0ALICE01", "D0HOME001"))
    [published] = slack_bot.fake.params("views.publish")
    assert published["user_id"] == "U0ALICE01" and published["view"]["type"] == "home"
    text = "\n".join(str(block.get("text", {}).get("text", "")) for block in published["view"]["blocks"])
    assert "Lyon" in text and "Anti-rumours" in text and "Welcoming newcomers" in text
    assert "Votre ville" in text  # in the viewer's language


async def test_app_home_for_someone_without_a_city_says_how_to_register(slack_bot: SlackHarness) -> None:
    await slack_bot.event(app_home_opened_event("U0NEW0001", "D0HOME002"))
    [published] = slack_bot.fake.params("views.publish")
    text = "\n".join(str(block.get("text", {}).get("text", "")) for block in published["view"]["blocks"])
    assert "/icc city register" in text
    async with slack_bot.bot.db.session() as session:
        assert (await session.exec(select(Person).where(Person.user_id == "U0NEW0001"))).one().workspace == TEAM_A


async def test_buttons_on_a_reply_travel_with_it(slack_bot: SlackHarness, area: SampleArea) -> None:
    async def remind(ctx: CommandContext) -> None:
        await ctx.reply(_("Survey due"), buttons=[Button(_("Done"), "test.done", "d1", "primary")])

    RULES[("testing", "remind")] = Access.ANYONE
    try:
        slack_bot.bot.commands.command("testing", "remind", summary=_("r"), usage="/icc testing remind")(remind)
        url = slack_bot.fake.new_response_url()
        await slack_bot.send(slash_command_body("testing remind", response_url=url))
    finally:
        del RULES[("testing", "remind")]
    [answer] = slack_bot.fake.responses_to(url)
    assert answer["blocks"][-1]["elements"][0]["action_id"] == "test.done"
