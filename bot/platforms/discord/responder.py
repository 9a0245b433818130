"""Answering one interaction (a command, a button press, a form, the Translate menu).

Discord wants a first answer within 3 seconds. Most answers come well within that and go out
as the interaction's response (ephemeral unless meant for the channel). When the core takes
longer (DeepL, a broadcast), the responder defers ("thinking…", ephemeral) just before the
deadline and the answer then completes that message. A modal must be the very first response,
so nothing is deferred before the core had its chance to open one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.i18n import _, render
from bot.outbound import Button, Form
from bot.platforms.discord.markup import to_discord
from bot.platforms.discord.views import buttons_view
from bot.text import split_text

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
DONE = _("Done.")


class InteractionResponder:
    def __init__(self, adapter: DiscordAdapter, interaction: discord.Interaction, *, locale: str = "en",
                 defer_after: float | None = None) -> None:
        self.adapter = adapter
        self.interaction = interaction
        self.locale = locale
        self._defer_after = adapter.defer_after if defer_after is None else defer_after
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._deferral: asyncio.Task[None] | None = None
        self._loading = False
        self.answered = False

    # ---- the 3-second rule ------------------------------------------------------------------

    def start(self) -> None:
        if self._defer_after is not None and self._defer_after >= 0:
            self._timer = asyncio.get_running_loop().call_later(self._defer_after, self._start_deferral)

    def _start_deferral(self) -> None:
        self._deferral = asyncio.get_running_loop().create_task(self._defer(), name="discord-defer")

    async def _defer(self) -> None:
        async with self._lock:
            if self.interaction.response.is_done():
                return
            try:
                await self.interaction.response.defer(ephemeral=True, thinking=True)
                self._loading = True
            except discord.HTTPException as error:
                log.warning("could not defer interaction %s: %s", self.interaction.id, error)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _settle_deferral(self) -> None:
        self._stop_timer()
        if self._deferral is not None:
            with contextlib.suppress(Exception):
                await self._deferral

    # ---- Responder ----------------------------------------------------------------------------

    async def reply(self, text: str, *, ephemeral: bool = True, buttons: Sequence[Button] = ()) -> None:
        await self._settle_deferral()
        async with self._lock:
            parts = split_text(to_discord(text), self.adapter.max_message_chars) if text else ["…"]
            for index, part in enumerate(parts):
                view = buttons_view(buttons) if index == len(parts) - 1 else None
                await self._send(part, ephemeral, view)
            self.answered = True

    async def _send(self, content: str, ephemeral: bool, view: discord.ui.View | None) -> None:
        response = self.interaction.response
        if not response.is_done():
            if view is not None:
                await response.send_message(content, ephemeral=ephemeral, view=view, allowed_mentions=NO_PINGS)
            else:
                await response.send_message(content, ephemeral=ephemeral, allowed_mentions=NO_PINGS)
            return
        if self._loading:
            # The deferred "thinking…" message is ephemeral: it takes an ephemeral answer itself,
            # and is closed with a tick when the answer is for the whole channel.
            self._loading = False
            if ephemeral:
                if view is not None:
                    await self.interaction.edit_original_response(content=content, view=view,
                                                                  allowed_mentions=NO_PINGS)
                else:
                    await self.interaction.edit_original_response(content=content, allowed_mentions=NO_PINGS)
                return
            await self.interaction.edit_original_response(content="✅")
        if view is not None:
            await self.interaction.followup.send(content, ephemeral=ephemeral, view=view, allowed_mentions=NO_PINGS)
        else:
            await self.interaction.followup.send(content, ephemeral=ephemeral, allowed_mentions=NO_PINGS)

    async def open_form(self, form: Form) -> None:
        await self._settle_deferral()
        async with self._lock:
            if self.interaction.response.is_done():
                # Too late for a modal (Discord allows one only as the first answer): offer a button
                # whose press opens it.
                content, view = self.adapter.forms.offer(self.interaction, form, self.locale)
                await self._send(content, True, view)
            else:
                await self.adapter.forms.open(self.interaction, form)
            self.answered = True

    async def finish(self) -> None:
        """Close the interaction if the core said nothing: a silent acknowledgement for a button,
        a short "Done." otherwise, so Discord never shows "The application did not respond"."""
        await self._settle_deferral()
        async with self._lock:
            response = self.interaction.response
            try:
                if not response.is_done():
                    if self.interaction.type == discord.InteractionType.component:
                        await response.defer()
                    else:
                        await response.send_message(render(DONE, self.locale), ephemeral=True)
                elif self._loading:
                    self._loading = False
                    await self.interaction.edit_original_response(content=render(DONE, self.locale))
            except discord.HTTPException as error:
                log.warning("could not close interaction %s: %s", self.interaction.id, error)
