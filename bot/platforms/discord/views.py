"""Buttons that keep working after a restart.

Every button's custom id is `action_id:value`; one `DynamicItem` class matches them all, so a
press on any message, however old, reaches the core as `ButtonPressed` with no state kept in
memory. Actions starting with `icc-form.` are the adapter's own (form steps, see forms.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import render
from bot.outbound import Button

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordAdapter

CUSTOM_ID_MAX = 100
BUTTON_TEMPLATE = r"(?P<action>[A-Za-z0-9_.\-]{1,60}):(?P<value>[^\n]{0,98})"
FORM_ACTION = "icc-form."
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
