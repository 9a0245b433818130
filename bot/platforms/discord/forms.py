"""The core's forms as Discord modals.

A modal holds at most 5 components, so a longer form (the practice template has 9 fields)
becomes consecutive modals: a "Continue" button between the parts, the values kept until the
last part is sent. Select fields with at most 25 options are dropdowns inside the modal; others
are text inputs. Errors the core reports come back as a list with a "Fix and send again" button
that re-opens the form with everything already typed. A modal submitted after a restart (its
form forgotten) gets a kind answer.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot.events import FormSubmitted
from bot.i18n import Message, _, render, resolve_locale
from bot.outbound import Button, Form, FormField
from bot.platforms.discord.views import FORM_ACTION, buttons_view, clip

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordAdapter
    from bot.platforms.discord.responder import InteractionResponder

MODAL_PREFIX = "icc-form|"
FORM_CONTINUE = FORM_ACTION + "next"
MODAL_LIMIT = 5
SELECT_LIMIT = 25
TEXT_LIMIT = 4000
LABEL_LIMIT = 45
TITLE_LIMIT = 45
FORM_TTL = 3600.0

CONTINUE_LABEL = _("Continue")
FIX_LABEL = _("Fix and send again")
EXPIRED = _("This form is no longer open (the bot restarted, or an hour passed). Please run the command again.")
FIX_FIELDS = _("Some fields need another look:")
FORM_READY = _("Your form is ready:")
OPEN_FORM = _("Open the form")


@dataclass
class PendingForm:
    """A form being filled in over several modals, or waiting to be fixed."""

    form: Form
    channel_id: int | None
    user_id: int
    values: dict[str, str | list[str]] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)

    @property
    def pages(self) -> list[tuple[FormField, ...]]:
        fields = self.form.fields
        return [fields[index:index + MODAL_LIMIT] for index in range(0, len(fields), MODAL_LIMIT)] or [()]


class FormModal(discord.ui.Modal):
    """One page of a form. Submissions are read from the raw interaction (so a submit after a
    restart still gets an answer); this class only draws the modal."""

    async def on_submit(self, interaction: discord.Interaction) -> None:
        return None


class FormFlow:
    """Forms in progress (in memory: a form is filled in within minutes), and their steps."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter
        self._pending: dict[str, PendingForm] = {}

    def start(self, form: Form, interaction: discord.Interaction) -> str:
        self._expire()
        token = secrets.token_urlsafe(9)
        self._pending[token] = PendingForm(form, interaction.channel_id, interaction.user.id)
        return token

    def get(self, token: str) -> PendingForm | None:
        self._expire()
        return self._pending.get(token)

    def drop(self, token: str) -> None:
        self._pending.pop(token, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for token in [t for t, p in self._pending.items() if now - p.created > FORM_TTL]:
            del self._pending[token]

    def modal(self, token: str, page: int) -> FormModal:
        pending = self._pending[token]
        pages = pending.pages
        title = pending.form.title if isinstance(pending.form.title, str) else render(pending.form.title, "en")
        if len(pages) > 1:
            suffix = f" ({page + 1}/{len(pages)})"
            title = clip(title, TITLE_LIMIT - len(suffix)) + suffix
        modal = FormModal(title=clip(title, TITLE_LIMIT), custom_id=f"{MODAL_PREFIX}{token}|{page}", timeout=None)
        for form_field in pages[page]:
            modal.add_item(self._component(form_field, pending.values.get(form_field.name)))
        return modal

    @staticmethod
    def _component(form_field: FormField, current: str | list[str] | None) -> discord.ui.Label[Any]:
        label = form_field.label if isinstance(form_field.label, str) else render(form_field.label, "en")
        placeholder = form_field.placeholder if isinstance(form_field.placeholder, str) else None
        initial = current if current is not None else form_field.initial
        component: discord.ui.Item[Any]
        if form_field.kind in ("select", "multi_select") and 0 < len(form_field.options) <= SELECT_LIMIT:
            chosen = {initial} if isinstance(initial, str) else set(initial or ())
            options = [discord.SelectOption(label=clip(str(text), 100), value=value[:100], default=value in chosen)
                       for value, text in form_field.options]
            multi = form_field.kind == "multi_select"
            component = discord.ui.Select(
                custom_id=form_field.name, options=options, required=form_field.required,
                min_values=1 if form_field.required else 0, max_values=len(options) if multi else 1,
                placeholder=clip(placeholder, 150) if placeholder else None)
        else:
            if form_field.kind in ("select", "multi_select") and not placeholder:
                placeholder = ", ".join(value for value, _text in form_field.options)
            if isinstance(initial, (list, tuple)):
                initial = ", ".join(initial)
            limit = min(form_field.max_length or TEXT_LIMIT, TEXT_LIMIT)
            component = discord.ui.TextInput(
                custom_id=form_field.name, required=form_field.required, max_length=limit,
                style=discord.TextStyle.paragraph if form_field.kind == "long_text" else discord.TextStyle.short,
                default=initial[:limit] if isinstance(initial, str) and initial else None,
                placeholder=clip(placeholder, 100) if placeholder else None)
        description = None
        if len(label) > LABEL_LIMIT:
            # A long label keeps its start as the label and says the rest underneath.
            description = clip(label, 100)
        return discord.ui.Label(text=clip(label, LABEL_LIMIT), component=component, description=description)

    @staticmethod
    def submitted_values(data: dict[str, Any], fields: Sequence[FormField]) -> dict[str, str | list[str]]:
        """Values of a modal submission, read from the raw payload (action rows or labels)."""
        found: dict[str, Any] = {}

        def walk(components: Sequence[dict[str, Any]]) -> None:
            for component in components:
                if component.get("type") == 1:
                    walk(component.get("components", []))
                elif component.get("type") == 18:
                    walk([component.get("component", {})])
                elif "custom_id" in component:
                    found[component["custom_id"]] = component.get("values", component.get("value"))

        walk(data.get("components", []))
        values: dict[str, str | list[str]] = {}
        for form_field in fields:
            if form_field.name not in found:
                continue
            raw = found[form_field.name]
            if isinstance(raw, list):
                values[form_field.name] = raw if form_field.kind == "multi_select" else (raw[0] if raw else "")
            elif form_field.kind == "multi_select":
                values[form_field.name] = [part.strip() for part in str(raw or "").split(",") if part.strip()]
            else:
                values[form_field.name] = str(raw or "").strip()
        return values

    @staticmethod
    def submission(pending: PendingForm, **event: Any) -> FormSubmitted:
        return FormSubmitted(form_id=pending.form.form_id, values=dict(pending.values), context=pending.form.context,
                             **event)

    async def open(self, interaction: discord.Interaction, form: Form) -> None:
        token = self.start(form, interaction)
        await interaction.response.send_modal(self.modal(token, 0))

    def offer(self, interaction: discord.Interaction, form: Form, locale: str) -> tuple[str, discord.ui.View]:
        """When a modal can no longer be the first answer: a button that opens it."""
        token = self.start(form, interaction)
        view = buttons_view([Button(render(OPEN_FORM, locale), FORM_CONTINUE, f"{token}/0", "primary")])
        assert view is not None
        return render(FORM_READY, locale), view

    async def button(self, interaction: discord.Interaction, value: str) -> None:
        token, _sep, page = value.partition("/")
        pending = self.get(token)
        locale = resolve_locale([str(interaction.locale)])
        if pending is None or pending.user_id != interaction.user.id or not page.isdigit() \
                or int(page) >= len(pending.pages):
            await interaction.response.send_message(render(EXPIRED, locale), ephemeral=True)
            return
        await interaction.response.send_modal(self.modal(token, int(page)))

    async def submitted(self, interaction: discord.Interaction, custom_id: str) -> None:
        assert isinstance(interaction.data, dict)
        _prefix, token, page_text = ([*custom_id.split("|"), "", ""])[:3]
        pending = self.get(token)
        locale = resolve_locale([str(interaction.locale)])
        if pending is None or not page_text.isdigit() or int(page_text) >= len(pending.pages):
            await interaction.response.send_message(render(EXPIRED, locale), ephemeral=True)
            return
        page = int(page_text)
        pages = pending.pages
        pending.values.update(self.submitted_values(dict(interaction.data), pages[page]))
        if page + 1 < len(pages):
            view = buttons_view([Button(render(CONTINUE_LABEL, locale), FORM_CONTINUE, f"{token}/{page + 1}",
                                        "primary")])
            assert view is not None
            await interaction.response.send_message(
                render(_("Part {page} of {pages} saved. Continue with the next part.", page=page + 1,
                         pages=len(pages)), locale), ephemeral=True, view=view)
            return
        await self.adapter._answering(interaction, lambda responder: self._done(interaction, token, responder))

    async def _done(self, interaction: discord.Interaction, token: str, responder: InteractionResponder) -> None:
        pending = self.get(token)
        assert self.adapter.bot is not None and pending is not None
        author = await self.adapter.inbound.interaction_author(interaction)
        channel = self.adapter.inbound.interaction_channel(interaction)
        result = await self.adapter.bot.handle(self.submission(
            pending, author=author, responder=responder, channel=channel,
            platform_locale=str(interaction.locale)))
        if result is None or not result.errors:
            self.drop(token)
            return
        ix = await self.adapter.bot.interaction(author, channel, platform_locale=str(interaction.locale))
        labels = {field.name: render(field.label, ix.locale) for field in pending.form.fields}
        lines = [render(FIX_FIELDS, ix.locale)]
        lines += [f"• **{labels.get(name, name)}**: {ix.t(error) if isinstance(error, (str, Message)) else error}"
                  for name, error in result.errors.items()]
        first = next((index for index, fields in enumerate(pending.pages)
                      if any(field.name in result.errors for field in fields)), 0)
        await responder.reply("\n".join(lines), buttons=[
            Button(render(FIX_LABEL, ix.locale), FORM_CONTINUE, f"{token}/{first}", "primary")])
