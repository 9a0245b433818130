"""One webhook per channel for relays: found or created on first use, remembered in the
database so a restart reuses it, recreated when someone deletes it."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.events import ChannelRef
from storage.queries import discord as stored

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

NAME_LIMIT = 80
# Discord refuses these inside webhook and author names; a look-alike letter keeps the name readable.
_FORBIDDEN = {"clyde": ("y", "у"), "discord": ("o", "ο")}  # Cyrillic у, Greek ο
_RESERVED = {"everyone", "here"}
RETRY_WITHOUT_PERMISSION = 600.0


def _lookalike(letter: str, replacement: str) -> Callable[[re.Match[str]], str]:
    return lambda match: re.sub(letter, replacement, match.group(0), flags=re.IGNORECASE)


def safe_name(name: str, fallback: str = "ICC") -> str:
    """A name Discord accepts for a webhook post: 1–80 characters, no "clyde"/"discord"."""
    name = " ".join(name.split()) or fallback
    for word, (letter, lookalike) in _FORBIDDEN.items():
        name = re.sub(word, _lookalike(letter, lookalike), name, flags=re.IGNORECASE)
    if name.lower() in _RESERVED:
        name = f"{name} ·"
    return name[:NAME_LIMIT]


class Webhooks:
    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter
        self._cache: dict[str, discord.Webhook] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._unavailable: dict[str, float] = {}
        self._asked: dict[str, asyncio.Future[tuple[str, str] | None]] = {}
        self._loader: asyncio.Task[None] | None = None

    @property
    def client(self) -> discord.Client:
        return self.adapter.client

    async def get(self, channel: ChannelRef) -> discord.Webhook | None:
        """The channel's webhook, or None when the bot may not manage webhooks there."""
        key = channel.channel
        if key in self._cache:
            return self._cache[key]
        if time.monotonic() < self._unavailable.get(key, 0.0):
            return None
        async with self._locks[key]:
            if key in self._cache:
                return self._cache[key]
            webhook = await self._remembered(key) or await self._find_or_create(channel)
            if webhook is not None:
                self._cache[key] = webhook
            return webhook

    async def preload(self, channel_ids: list[str]) -> None:
        """Remember the webhooks the database knows for these channels (one query)."""
        bot = self.adapter.bot
        wanted = [channel_id for channel_id in channel_ids if channel_id not in self._cache]
        if bot is None or not wanted:
            return
        async with bot.db.session() as session:
            rows = await stored.webhooks_for(session, wanted)
        for channel_id, (webhook_id, token) in rows.items():
            self._cache.setdefault(channel_id, discord.Webhook.partial(int(webhook_id), token, client=self.client))

    def known(self, channel_id: str) -> discord.Webhook | None:
        return self._cache.get(channel_id)

    async def _remembered(self, channel_id: str) -> discord.Webhook | None:
        # Lanes starting together (a broadcast to hundreds of channels) ask at once: one query
        # answers all of them rather than a database session each.
        future = self._asked.get(channel_id)
        if future is None:
            future = self._asked[channel_id] = asyncio.get_running_loop().create_future()
            if self._loader is None or self._loader.done():
                self._loader = asyncio.get_running_loop().create_task(self._load_remembered(),
                                                                      name="discord-webhooks")
        row = await asyncio.shield(future)
        if row is None:
            return None
        return discord.Webhook.partial(int(row[0]), row[1], client=self.client)

    async def _load_remembered(self) -> None:
        bot = self.adapter.bot
        assert bot is not None
        await asyncio.sleep(0)
        while self._asked:
            asked, self._asked = self._asked, {}
            try:
                async with bot.db.session() as session:
                    rows = await stored.webhooks_for(session, list(asked))
            except Exception as error:
                for future in asked.values():
                    if not future.done():
                        future.set_exception(error)
                continue
            for channel_id, future in asked.items():
                if not future.done():
                    future.set_result(rows.get(channel_id))

    async def _find_or_create(self, channel: ChannelRef) -> discord.Webhook | None:
        try:
            target: Any = self.client.get_channel(int(channel.channel)) or \
                await self.client.fetch_channel(int(channel.channel))
            if not hasattr(target, "create_webhook"):
                log.warning("channel %s cannot have webhooks (a %s)", channel, type(target).__name__)
                self._unavailable[channel.channel] = time.monotonic() + RETRY_WITHOUT_PERMISSION
                return None
            me = self.client.user
            name = safe_name(self.adapter.settings.bot_name)
            ours = [hook for hook in await target.webhooks()
                    if hook.token and me is not None and hook.user is not None and hook.user.id == me.id]
            webhook = next((hook for hook in ours if hook.name == name), ours[0] if ours else None)
            if webhook is None:
                webhook = await target.create_webhook(name=name, reason="icc-bot relays group messages here")
                log.info("created webhook %s in %s", webhook.id, channel)
        except discord.Forbidden:
            log.warning("no Manage Webhooks permission in %s: relays there are posted by the bot itself "
                        "(grant the permission for authors' names and pictures)", channel)
            self._unavailable[channel.channel] = time.monotonic() + RETRY_WITHOUT_PERMISSION
            return None
        assert webhook.token is not None
        await self._remember(channel, webhook)
        return discord.Webhook.partial(webhook.id, webhook.token, client=self.client)

    async def _remember(self, channel: ChannelRef, webhook: discord.Webhook) -> None:
        bot = self.adapter.bot
        assert bot is not None and webhook.token is not None
        async with bot.db.session() as session:
            await stored.remember_webhook(session, channel.channel, channel.workspace, str(webhook.id),
                                          webhook.token, bot.clock.now())

    async def forget(self, channel: ChannelRef, webhook: discord.Webhook) -> None:
        """The webhook is gone (deleted by someone): drop it so the next post makes a new one."""
        if self._cache.get(channel.channel) is webhook:
            del self._cache[channel.channel]
        bot = self.adapter.bot
        assert bot is not None
        async with bot.db.session() as session:
            await stored.forget_webhook(session, channel.channel, str(webhook.id))
        log.warning("webhook %s of %s is gone; a new one is made on the next relay", webhook.id, channel)
