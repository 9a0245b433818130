"""The core's forms as Discord modals: one modal when the form fits, consecutive modals with a
Continue button when it does not (the practice template's nine fields), errors listed with a
button that re-opens the form as it was typed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from bot.commands import CommandSpec, UsageError
from bot.context import CommandContext, Interaction
from bot.core import Bot
from bot.events import FormResult, FormSubmitted
from bot.i18n import _
from bot.outbound import Form, FormField
from bot.permissions import RULES, Access
from bot.topics import all_topics
from storage.models import Group
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord
from tests.platforms.discord.harness import ANA, GUILD, IVO, RUMOURS, DiscordHarness

EPHEMERAL = 64
WHERE: dict[str, Any] = {"guild_id": GUILD, "channel_id": RUMOURS}

GROUP_FORM = Form("test-group.create", _("New group"), (
    FormField("name", _("Name")),
    FormField("kind", _("Kind"), kind="select", options=(("thematic", _("thematic")), ("regional", _("regional")))),
    FormField("about", _("What the group works on"), kind="long_text", required=False),
), _("Create"))

PRACTICE_FORM = Form("test-practice.add", _("Add a good practice"), (
    FormField("title", _("Title"), max_length=200),
    FormField("city", _("City")),
    FormField("topics", _("Topics"), kind="multi_select",
              options=tuple((topic.slug, topic.name) for topic in all_topics())),
    FormField("period", _("Period")),
    FormField("purpose", _("Purpose"), kind="long_text"),
    FormField("rationale", _("Stimulus / rationale"), kind="long_text"),
    FormField("process", _("Process"), kind="long_text"),
    FormField("link", _("Link"), required=False),
    FormField("contact", _("Contact"), required=False),
), _("Send"), context="draft-7")


class Recorded:
    def __init__(self) -> None:
        self.submissions: list[FormSubmitted] = []


def form_commands(recorded: Recorded) -> Any:
    def prepare(bot: Bot) -> None:
        async def open_group_form(ctx: CommandContext) -> None:
            await ctx.open_form(GROUP_FORM)

        async def open_practice_form(ctx: CommandContext) -> None:
            await ctx.open_form(PRACTICE_FORM)

        async def create_group(ix: Interaction, event: FormSubmitted) -> FormResult:
            recorded.submissions.append(event)
            name = str(event.values.get("name", ""))
            if len(name) < 3:
                return FormResult({"name": _("at least 3 characters, please")})
            async with ix.bot.db.session() as session:
                session.add(Group(slug=name.lower(), name=name, kind=str(event.values["kind"]),
                                  created_at=ix.bot.clock.now(), created_by_id=ix.person_id))
            await ix.reply(_("Group {name} created.", name=name))
            return FormResult()

        async def add_practice(ix: Interaction, event: FormSubmitted) -> FormResult:
            recorded.submissions.append(event)
            if not str(event.values.get("link", "")).startswith(("", "https://")):
                raise UsageError(_("bad link"))
            await ix.reply(_("Practice received."))
            return FormResult()

        bot.commands.add(CommandSpec("testform", "group", _("Open the group form."), "/icc testform group",
                                     open_group_form, form=True))
        bot.commands.add(CommandSpec("testform", "practice", _("Open the practice form."),
                                     "/icc testform practice", open_practice_form, form=True))
        bot.on_form("test-group.", create_group)
        bot.on_form("test-practice.", add_practice)

    return prepare


@pytest.fixture
async def forms(fake_discord: FakeDiscord, sqlite_demo_url: str, monkeypatch: pytest.MonkeyPatch
                ) -> AsyncIterator[tuple[DiscordHarness, Recorded]]:
    monkeypatch.setitem(RULES, ("testform", "group"), Access.ANYONE)
    monkeypatch.setitem(RULES, ("testform", "practice"), Access.ANYONE)
    recorded = Recorded()
    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url, prepare=form_commands(recorded))
    try:
        yield harness, recorded
    finally:
        await harness.stop()


def modal_of(harness: DiscordHarness, interaction: dict[str, Any]) -> dict[str, Any]:
    answer = harness.answer(interaction)
    assert answer["type"] == 9, answer
    return answer["data"]


def inputs(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {label["component"]["custom_id"]: {**label["component"], "label": label["label"]}
            for label in modal["components"]}


def submit(custom_id: str, values: dict[str, str | list[str]], **kw: Any) -> dict[str, Any]:
    """A modal submit with labels, text inputs (type 4) and string selects (type 3)."""
    payload = gw.modal_submit(custom_id, {}, labels=True, **kw)
    components = []
    for index, (name, value) in enumerate(values.items()):
        inner = ({"type": 3, "custom_id": name, "values": value} if isinstance(value, list)
                 else {"type": 4, "custom_id": name, "value": value})
        components.append({"type": 18, "id": index + 1, "component": inner})
    payload["data"]["components"] = components
    return payload


def button_of(message: dict[str, Any]) -> dict[str, Any]:
    return message["components"][0]["components"][0]


async def test_a_short_form_is_one_modal_and_its_submission_is_stored_and_confirmed(
        forms: tuple[DiscordHarness, Recorded]) -> None:
    harness, recorded = forms
    asked = await harness.command(["testform", "group"], user=IVO)
    modal = modal_of(harness, asked)
    fields = inputs(modal)
    assert modal["title"] == "New group" and list(fields) == ["name", "kind", "about"]
    assert fields["kind"]["type"] == 3 and [o["value"] for o in fields["kind"]["options"]] == ["thematic", "regional"]
    assert fields["about"]["style"] == 2  # a paragraph

    sent = await harness.inject("INTERACTION_CREATE", submit(
        modal["custom_id"], {"name": "Sport", "kind": ["regional"], "about": "Football for all"},
        user=IVO, **WHERE))
    assert harness.said(sent) == "Group Sport created."
    assert harness.answer(sent)["data"]["flags"] == EPHEMERAL
    [event] = recorded.submissions
    assert event.form_id == "test-group.create" and event.channel is not None
    assert dict(event.values) == {"name": "Sport", "kind": "regional", "about": "Football for all"}
    async with harness.bot.db.session() as session:
        group = (await session.exec(select(Group).where(Group.slug == "sport"))).one()
    assert group.kind == "regional"


async def test_the_nine_field_practice_form_is_two_modals_joined_by_continue(
        forms: tuple[DiscordHarness, Recorded]) -> None:
    harness, recorded = forms
    asked = await harness.command(["testform", "practice"], locale="fr")
    first = modal_of(harness, asked)
    assert first["title"] == "Add a good practice (1/2)"
    assert list(inputs(first)) == ["title", "city", "topics", "period", "purpose"]
    topics = inputs(first)["topics"]
    assert topics["type"] == 3 and len(topics["options"]) == 25 and topics["max_values"] == 25

    step = await harness.inject("INTERACTION_CREATE", submit(first["custom_id"], {
        "title": "Anti-rumour café", "city": "Lyon", "topics": ["anti-rumours", "public-space"],
        "period": "2025–2026", "purpose": "Fight prejudice over coffee"}, user=ANA, locale="fr", **WHERE))
    prompt = harness.answer(step)
    assert prompt["type"] == 4 and prompt["data"]["flags"] == EPHEMERAL
    assert prompt["data"]["content"] == "Partie 1 sur 2 enregistrée. Continuez avec la partie suivante."
    button = button_of(prompt["data"])
    assert button["label"] == "Continuer"
    assert recorded.submissions == []  # nothing reaches the core before the last part

    shown = gw.message(RUMOURS, prompt["data"]["content"], author=harness.fake.bot_user, guild_id=GUILD,
                       components=prompt["data"]["components"], flags=EPHEMERAL)
    pressed = await harness.inject("INTERACTION_CREATE", gw.button_click(button["custom_id"], shown, user=ANA,
                                                                         locale="fr", **WHERE))
    second = modal_of(harness, pressed)
    assert second["title"] == "Add a good practice (2/2)"
    assert list(inputs(second)) == ["rationale", "process", "link", "contact"]

    sent = await harness.inject("INTERACTION_CREATE", submit(second["custom_id"], {
        "rationale": "Rumours about newcomers", "process": "Monthly cafés", "link": "https://lyon.fr/cafe",
        "contact": ""}, user=ANA, locale="fr", **WHERE))
    assert harness.said(sent) == "Practice received."
    [event] = recorded.submissions
    assert event.form_id == "test-practice.add" and event.context == "draft-7"
    assert event.values["topics"] == ["anti-rumours", "public-space"]
    assert event.values["title"] == "Anti-rumour café" and event.values["process"] == "Monthly cafés"
    assert len(event.values) == 9


async def test_errors_are_listed_and_the_form_reopens_with_what_was_typed(
        forms: tuple[DiscordHarness, Recorded]) -> None:
    harness, recorded = forms
    asked = await harness.command(["testform", "group"], user=IVO)
    modal = modal_of(harness, asked)
    sent = await harness.inject("INTERACTION_CREATE", submit(
        modal["custom_id"], {"name": "X", "kind": ["thematic"], "about": "Short name"}, user=IVO, **WHERE))
    answer = harness.answer(sent)
    assert answer["data"]["flags"] == EPHEMERAL
    assert answer["data"]["content"] == "Some fields need another look:\n• **Name**: at least 3 characters, please"
    assert [event.values["name"] for event in recorded.submissions] == ["X"]
    fix = button_of(answer["data"])
    assert fix["label"] == "Fix and send again"

    shown = gw.message(RUMOURS, "…", author=harness.fake.bot_user, guild_id=GUILD,
                       components=answer["data"]["components"], flags=EPHEMERAL)
    pressed = await harness.inject("INTERACTION_CREATE", gw.button_click(fix["custom_id"], shown, user=IVO, **WHERE))
    again = inputs(modal_of(harness, pressed))
    assert again["name"]["value"] == "X" and again["about"]["value"] == "Short name"
    assert [o.get("default") for o in again["kind"]["options"]] == [True, False]


async def test_a_form_submitted_after_a_restart_is_answered_kindly(forms: tuple[DiscordHarness, Recorded]) -> None:
    harness, recorded = forms
    stale = submit("icc-form|gone-token|0", {"name": "Sport"}, user=IVO, locale="fr", **WHERE)
    await harness.inject("INTERACTION_CREATE", stale)
    assert harness.said(stale).startswith("Ce formulaire n'est plus ouvert")
    assert recorded.submissions == []


async def test_a_form_too_late_for_a_modal_is_offered_behind_a_button(
        fake_discord: FakeDiscord, sqlite_demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(RULES, ("testform", "group"), Access.ANYONE)
    monkeypatch.setitem(RULES, ("testform", "practice"), Access.ANYONE)
    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url, prepare=form_commands(Recorded()),
                                         defer_after=0.0)
    try:
        asked = await harness.command(["testform", "group"], user=IVO)
        assert harness.answer(asked)["type"] == 5  # deferred before the core answered
        offer = fake_discord.originals[asked["token"]]
        assert offer["content"] == "Your form is ready:"
        shown = gw.message(RUMOURS, "…", author=fake_discord.bot_user, guild_id=GUILD,
                           components=offer["components"], flags=EPHEMERAL)
        pressed = await harness.inject("INTERACTION_CREATE", gw.button_click(
            button_of(offer)["custom_id"], shown, user=IVO, **WHERE))
        assert modal_of(harness, pressed)["title"] == "New group"
    finally:
        await harness.stop()
