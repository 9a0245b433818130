"""Buttons that keep working after a restart, and the core's forms as Discord modals.

Buttons: every button's custom id is `action_id:value`; one `DynamicItem` class matches them
all, so a press on any message, however old, reaches the core as `ButtonPressed` with no state
kept in memory. Actions starting with `icc-form.` are this module's own (form steps).

Forms: a modal holds at most 5 components, so a longer form (the practice template has 9
fields) becomes consecutive modals: "Continue" buttons between the parts, values kept until the
last part is sent. Select fields with at most 25 options are dropdowns inside the modal; others
are text inputs. Errors the core reports come back as a list with a "Fix and send again" button
that re-opens the form with everything already typed.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot.events import FormSubmitted
from bot.i18n import _, render
from bot.outbound import Button, Form, FormField

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

CUSTOM_ID_MAX = 100
BUTTON_TEMPLATE = r"(?P<action>[A-Za-z0-9_.\-]{1,60}):(?P<value>[^\n]{0,98})"
FORM_ACTION = "icc-form."
MODAL_PREFIX = "icc-form|"
MODAL_LIMIT = 5
SELECT_LIMIT = 25
TEXT_LIMIT = 4000
LABEL_LIMIT = 45
TITLE_LIMIT = 45
FORM_TTL = 3600.0
STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def button_custom_id(action_id: str, value: str) -> str:
    custom_id = f"{action_id}:{value}"
    if len(custom_id) > CUSTOM_ID_MAX:
        raise ValueError(f"button {action_id!r}: action and value exceed Discord's 100 characters")
    return custom_id


class IccButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_TEMPLATE):
    """Any button of the bot. Presses go to the adapter, which hands them to the core."""

    def __init__(self, action_id: str, value: str, *, label: str = "", style: discord.ButtonStyle | None = None
                 ) -> None:
        super().__init__(discord.ui.Button(label=clip(label, 80) or "…", style=style or discord.ButtonStyle.secondary,
                                           custom_id=button_custom_id(action_id, value)))
        self.action_id = action_id
        self.value = value

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: Any, /) -> IccButton:
        button = item if isinstance(item, discord.ui.Button) else None
        return cls(match["action"], match["value"], label=(button.label or "") if button else "",
                   style=button.style if button else None)

    async def callback(self, interaction: discord.Interaction) -> None:
        adapter: DiscordAdapter | None = getattr(interaction.client, "adapter", None)
        if adapter is not None:
            await adapter.button_pressed(interaction, self.action_id, self.value)


def buttons_view(buttons: Sequence[Button]) -> discord.ui.View | None:
    """The core's buttons as a view with no timeout (5 per row, at most 25)."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons[:25]:
        label = button.label if isinstance(button.label, str) else render(button.label, "en")
        view.add_item(IccButton(button.action_id, button.value, label=label,
                                style=STYLES.get(button.style or "", discord.ButtonStyle.secondary)))
    return view


# ---- forms ------------------------------------------------------------------------------------


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
    """One page of a form. Submissions are read from the raw interaction by the adapter (so a
    submit after a restart is still understood); this class only draws the modal."""

    async def on_submit(self, interaction: discord.Interaction) -> None:
        return None


class Forms:
    def __init__(self) -> None:
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


FORM_CONTINUE = FORM_ACTION + "next"
CONTINUE_LABEL = _("Continue")
FIX_LABEL = _("Fix and send again")
