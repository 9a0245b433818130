"""Gateway events → core events.

Channels are `ChannelRef("discord", guild_id, channel_id)`; a message in a thread is reported on
the thread's parent channel with `thread_id` = the thread's id (which, for a thread started from
a message, is that message's id). People are `PersonRef("discord", guild_id, user_id)`, under the
server where the bot first met them (see `workspace_of`).

The gateway sends each event once and cannot be asked again: messages, edits, deletions and
reactions go to the core through `PendingEvents`, which keeps those the database refuses in
memory and stores them once it is back, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.events import (
    Attachment,
    Author,
    ChannelRef,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PersonRef,
    ReactionAdded,
)
from bot.platforms.discord.markup import Mentions, emoji_name, to_neutral
from bot.platforms.pending import Build, PendingEvents
from storage.queries import registry

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.platforms.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)
V = TypeVar("V")

PLATFORM = "discord"
DM_WORKSPACE = "dm"
# Messages people write; joins, pins, thread-created notices and the like are not relayed.
CONTENT_TYPES = (discord.MessageType.default, discord.MessageType.reply)
THREAD_TYPES = (discord.ChannelType.public_thread, discord.ChannelType.private_thread,
                discord.ChannelType.news_thread)


class BoundedMap(OrderedDict[int, V]):
    """A small LRU map (message id → the thread it lives in, thread → parent, user → server)."""

    def __init__(self, size: int = 20_000) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: int, value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class ChannelOrder:
    """discord.py handles each gateway event in its own task; the events of one channel still
    reach the core one at a time, in the order Discord sent them (a quick edit never overtakes
    its message, two quick messages are relayed in order)."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, channel_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(channel_id, (asyncio.Lock(), 0))
        self._locks[channel_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[channel_id]
            if users <= 1:
                del self._locks[channel_id]
            else:
                self._locks[channel_id] = (lock, users - 1)


class Inbound:
    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter
        self.parent_of_thread: BoundedMap[int] = BoundedMap()
        """thread id → parent channel id, for threads seen (cached by discord.py or fetched)."""
        self.not_threads: set[int] = set()
        self.thread_of_message: BoundedMap[int] = BoundedMap()
        """message id → the thread it was written in (so replies and fetches find it)."""
        self._workspaces: BoundedMap[str] = BoundedMap()
        self.order = ChannelOrder()
        self.pending: PendingEvents | None = None
        """Events not stored yet (the database refused them), kept until it takes them."""

    def start(self, bot: Bot) -> None:
        if self.pending is None:
            self.pending = PendingEvents.attach(bot, PLATFORM)

    @property
    def client(self) -> discord.Client:
        return self.adapter.client

    # ---- who and where ----------------------------------------------------------------------

    async def author(self, user: discord.abc.User, guild_id: int | None, *, locale: str | None = None) -> Author:
        workspace = await self.workspace_of(user.id, guild_id)
        return Author(PersonRef(PLATFORM, workspace, str(user.id)), user.display_name,
                      avatar_url=user.display_avatar.url, is_bot=user.bot, locale=locale)

    async def interaction_author(self, interaction: discord.Interaction) -> Author:
        return await self.author(interaction.user, interaction.guild_id, locale=str(interaction.locale))

    async def person(self, user_id: int, guild_id: int | None) -> PersonRef:
        return PersonRef(PLATFORM, await self.workspace_of(user_id, guild_id), str(user_id))

    async def workspace_of(self, user_id: int, guild_id: int | None) -> str:
        """The server a person is known under. Discord user ids are the same in every server, so a
        person is one person across the network's servers and in DMs: known under the server where
        the bot first met them, and their city and roles follow them everywhere."""
        known = self._workspaces.get(user_id)
        if known is not None:
            return known
        bot = self.adapter.bot
        assert bot is not None
        async with bot.db.session() as session:
            person = await registry.find_person(session, PLATFORM, str(user_id))
        workspace = person.workspace if person else str(guild_id) if guild_id is not None else DM_WORKSPACE
        self._workspaces.remember(user_id, workspace)
        return workspace

    async def place(self, guild_id: int | None, channel_id: int) -> tuple[ChannelRef, str | None] | None:
        """(channel, thread id) for a message's channel, or None outside servers."""
        if guild_id is None:
            return None
        parent = await self.parent_of(guild_id, channel_id)
        if parent is None:
            return ChannelRef(PLATFORM, str(guild_id), str(channel_id)), None
        return ChannelRef(PLATFORM, str(guild_id), str(parent)), str(channel_id)

    async def parent_of(self, guild_id: int, channel_id: int) -> int | None:
        """The parent channel when `channel_id` is a thread, else None."""
        if channel_id in self.parent_of_thread:
            return self.parent_of_thread[channel_id]
        if channel_id in self.not_threads:
            return None
        guild = self.client.get_guild(guild_id)
        found: Any = guild.get_channel_or_thread(channel_id) if guild else None
        if found is None:
            try:
                found = await self.client.fetch_channel(channel_id)
            except discord.HTTPException:
                log.warning("cannot see channel %s of server %s", channel_id, guild_id)
                return None
        if isinstance(found, discord.Thread) and found.parent_id:
            self.parent_of_thread.remember(channel_id, found.parent_id)
            return found.parent_id
        self.not_threads.add(channel_id)
        return None

    def learn_thread(self, thread: discord.Thread) -> None:
        if thread.parent_id:
            self.parent_of_thread.remember(thread.id, thread.parent_id)

    def interaction_channel(self, interaction: discord.Interaction) -> ChannelRef | None:
        if interaction.guild_id is None or interaction.channel_id is None:
            return None
        channel = interaction.channel
        if isinstance(channel, discord.Thread) and channel.parent_id:
            self.learn_thread(channel)
            return ChannelRef(PLATFORM, str(interaction.guild_id), str(channel.parent_id))
        return ChannelRef(PLATFORM, str(interaction.guild_id), str(interaction.channel_id))

    # ---- message text -------------------------------------------------------------------------

    def text_of(self, message: discord.Message) -> str:
        """The message as neutral markup: a forwarded message quoted, stickers and rich embeds as
        links. Files are not in the text: they are the event's `attachments`."""
        text = to_neutral(message.content, self.mentions_of(message))
        for snapshot in getattr(message, "message_snapshots", None) or []:
            forwarded = to_neutral(snapshot.content or "", self.mentions_of(message))
            if forwarded:
                text += ("\n" if text else "") + "\n".join(f"> {line}" for line in forwarded.splitlines())
        links = [sticker.url for sticker in message.stickers]
        links += [embed.url for embed in message.embeds if embed.url and embed.url not in message.content]
        for link in links:
            if link not in text:
                text += ("\n" if text else "") + link
        return text

    def attachments_of(self, message: discord.Message) -> tuple[Attachment, ...]:
        files = list(message.attachments)
        for snapshot in getattr(message, "message_snapshots", None) or []:
            files += list(snapshot.attachments)
        return tuple(Attachment(attachment.filename, attachment.url) for attachment in files)

    def mentions_of(self, message: discord.Message) -> Mentions:
        guild = message.guild

        def member_name(user_id: int) -> str | None:
            member = guild.get_member(user_id) if guild else None
            user = member or self.client.get_user(user_id)
            return user.display_name if user else None

        def role_name(role_id: int) -> str | None:
            role = guild.get_role(role_id) if guild else None
            return role.name if role else None

        def channel_name(channel_id: int) -> str | None:
            channel = guild.get_channel_or_thread(channel_id) if guild else None
            return channel.name if channel else None

        return Mentions(
            users={user.id: user.display_name for user in message.mentions},
            roles={role.id: role.name for role in message.role_mentions},
            channels={channel.id: channel.name for channel in message.channel_mentions
                      if hasattr(channel, "name")},
            lookup_user=member_name, lookup_role=role_name, lookup_channel=channel_name)

    def from_bot(self, message: discord.Message) -> bool:
        """Bots, webhooks (ours above all: they carry our relays) and the bot itself."""
        me = self.client.user
        return bool(message.author.bot or message.webhook_id is not None
                    or (me is not None and message.author.id == me.id)
                    or message.application_id is not None)

    # ---- events -------------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.type not in CONTENT_TYPES or message.guild is None:
            return
        # Read the message now: discord.py updates this cached object in place if an edit arrives
        # before this task runs, and the edit has its own event.
        text, attachments = self.text_of(message), self.attachments_of(message)
        guild_id, channel_id = message.guild.id, message.channel.id

        async def build() -> MessagePosted | None:
            where = await self.place(guild_id, channel_id)
            if where is None:
                return None
            channel, thread_id = where
            if thread_id is not None:
                self.thread_of_message.remember(message.id, int(thread_id))
            author = await self.author(message.author, guild_id)
            return MessagePosted(channel=channel, message_id=str(message.id), author=author, text=text,
                                 thread_id=thread_id, attachments=attachments, event_id=str(message.id),
                                 from_bot=self.from_bot(message), sent_at=message.created_at)

        async with self.order.hold(channel_id):
            await self._submit(f"message {message.id} in {PLATFORM}:{guild_id}/{channel_id}", build)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        message = payload.message
        guild_id = payload.guild_id
        if guild_id is None or message.type not in CONTENT_TYPES:
            return
        # Discord also sends updates when a link preview appears: those are not edits.
        edited_at = message.edited_at
        if edited_at is None:
            return
        if payload.cached_message is not None and payload.cached_message.content == message.content:
            return
        text = self.text_of(message)

        async def build() -> MessageEdited | None:
            where = await self.place(guild_id, payload.channel_id)
            if where is None:
                return None
            channel, _thread = where
            author = await self.author(message.author, guild_id)
            return MessageEdited(channel=channel, message_id=str(message.id), text=text, author=author,
                                 event_id=f"{message.id}@{edited_at.isoformat()}", from_bot=self.from_bot(message))

        async with self.order.hold(payload.channel_id):
            await self._submit(f"edit of message {message.id} in {PLATFORM}:{guild_id}/{payload.channel_id}", build)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        async with self.order.hold(payload.channel_id):
            await self._deleted(payload.guild_id, payload.channel_id, payload.message_id)

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        async with self.order.hold(payload.channel_id):
            for message_id in sorted(payload.message_ids):
                await self._deleted(payload.guild_id, payload.channel_id, message_id)

    async def _deleted(self, guild_id: int | None, channel_id: int, message_id: int) -> None:
        async def build() -> MessageDeleted | None:
            where = await self.place(guild_id, channel_id)
            if where is None:
                return None
            channel, _thread = where
            return MessageDeleted(channel, str(message_id), event_id=f"{message_id}:deleted")

        await self._submit(f"deletion of message {message_id} in {PLATFORM}:{guild_id}/{channel_id}", build)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        me = self.client.user
        guild_id = payload.guild_id
        if guild_id is None or (me is not None and payload.user_id == me.id):
            return
        if payload.member is not None and payload.member.bot:
            return
        emoji = emoji_name(str(payload.emoji) if payload.emoji.is_unicode_emoji() else "",
                           payload.emoji.name if payload.emoji.is_custom_emoji() else None)
        if not emoji:
            return

        async def build() -> ReactionAdded | None:
            where = await self.place(guild_id, payload.channel_id)
            if where is None:
                return None
            channel, thread_id = where
            if thread_id is not None:
                self.thread_of_message.remember(payload.message_id, int(thread_id))
            person = await self.person(payload.user_id, guild_id)
            return ReactionAdded(channel, str(payload.message_id), person, emoji,
                                 event_id=f"{payload.message_id}:{payload.user_id}:{emoji}")

        await self._submit(f"reaction to message {payload.message_id} in {PLATFORM}:{guild_id}/{payload.channel_id}",
                           build)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.learn_thread(thread)

    async def _submit(self, what: str, build: Build) -> None:
        if self.adapter.bot is not None and self.pending is not None:
            await self.pending.submit(what, build)
