"""The compose form on platforms that have forms (Slack, Discord): opened by `/icc broadcast`
with no arguments, checked field by field, answered with the preview."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.events import Author, CommandInvoked, FormSubmitted, PersonRef
from bot.outbound import Button, Form
from tests.harness import ConsoleHarness


@dataclass
class RecordingResponder:
    replies: list[tuple[str, tuple[Button, ...]]] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)

    async def reply(self, text: str, *, ephemeral: bool = True, buttons: Sequence[Button] = ()) -> None:
        self.replies.append((text, tuple(buttons)))

    async def open_form(self, form: Form) -> None:
        self.forms.append(form)


def author(user: str) -> Author:
    return Author(PersonRef("console", "local", user), user)


async def test_no_arguments_open_the_form_and_its_answers_give_the_preview(sqlite_console: ConsoleHarness) -> None:
    bot = sqlite_console.bot
    responder = RecordingResponder()
    await bot.handle(CommandInvoked(None, author("alice"), "broadcast", responder, can_open_form=True))
    [form] = responder.forms
    assert form.form_id == "broadcast.compose" and [f.name for f in form.fields] == ["to", "at", "text"]
    assert form.submit_label == "Preview"

    bad = await bot.handle(FormSubmitted("broadcast.compose", {"to": "group:nope", "at": "", "text": "Hi"},
                                         author("alice"), responder))
    assert bad is not None and list(bad.errors) == ["to"]
    assert str(bad.errors["to"]).startswith("There is no group `nope`.")
    late = await bot.handle(FormSubmitted("broadcast.compose", {"to": "", "at": "2020-01-01T10:00", "text": "Hi"},
                                          author("alice"), responder))
    assert late is not None and list(late.errors) == ["at"]
    assert responder.replies == []

    good = await bot.handle(FormSubmitted("broadcast.compose", {"to": "group:anti-rumours", "at": "", "text": "Hi"},
                                          author("alice"), responder))
    assert good is not None and good.ok
    [(text, buttons)] = responder.replies
    assert text.startswith("**Broadcast #1: preview**")
    assert [(b.label, b.action_id, b.value) for b in buttons] == [("Confirm", "broadcast.confirm", "1"),
                                                                   ("Cancel", "broadcast.discard", "1")]


async def test_a_coordinator_cannot_use_the_form(sqlite_console: ConsoleHarness) -> None:
    responder = RecordingResponder()
    result = await sqlite_console.bot.handle(FormSubmitted(
        "broadcast.compose", {"to": "", "at": "", "text": "Hi"}, author("marie"), responder))
    assert result is not None and result.ok
    assert responder.replies == [("Seule l'équipe ICC peut faire cela.", ())]
