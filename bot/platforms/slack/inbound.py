"""Slack payloads → core events: who wrote what, where, in neutral markup.

`Directory` caches what `users.info` (with the person's locale and time zone) and
`conversations.info` say, so a busy channel costs one look-up per person an hour.
`Inbound` turns message, reaction and interaction payloads into the core's events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

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
from bot.platforms.slack.markup import mentioned_channels, mentioned_users, to_neutral

log = logging.getLogger(__name__)

PLATFORM = "slack"
# Message subtypes that are a person (or a bot) saying something new in the channel.
NEW_MESSAGE_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message", "bot_message"}
# Slack's short names for flags (`:fr:`) → the neutral `flag-xx` the core understands.
FLAG_ALIASES = {"fr": "flag-fr", "de": "flag-de", "es": "flag-es", "it": "flag-it", "jp": "flag-jp",
                "kr": "flag-kr", "cn": "flag-cn", "ru": "flag-ru", "us": "flag-us", "gb": "flag-gb",
                "uk": "flag-gb", "flag-england": "flag-gb"}

ClientFor = Callable[[str], AsyncWebClient | None]


class _TTLCache:
    def __init__(self, ttl: float, size: int) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[tuple[str, str], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> Any:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: tuple[str, str], value: Any) -> None:
        self._items[key] = (time.monotonic() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class Directory:
    """People and channel names of the workspaces, from the Web API, cached for an hour."""

    def __init__(self, client_for: ClientFor, *, ttl: float = 3600.0, size: int = 10_000) -> None:
        self.client_for = client_for
        self._people = _TTLCache(ttl, size)
        self._channels = _TTLCache(ttl, size)
        self._pending: dict[tuple[str, str], asyncio.Future[Author | None]] = {}

    def forget(self, team_id: str, user_id: str) -> None:
        self._people.put((team_id, user_id), None)

    async def author(self, team_id: str, user_id: str, *, hint: dict[str, Any] | None = None) -> Author:
        """The person as the relay shows them: name, avatar, locale, time zone. Never raises: when
        Slack cannot tell (a guest from another organisation, an outage) the id or the event's own
        profile stands in, and nothing is cached."""
        key = (team_id, user_id)
        cached = self._people.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._pending[key] = pending
            found = None
            try:
                found = await self._look_up(team_id, user_id)
            finally:
                del self._pending[key]
                pending.set_result(found)
        else:
            found = await asyncio.shield(pending)
        if found is not None:
            self._people.put(key, found)
            return found
        return _author_from_hint(team_id, user_id, hint)

    async def _look_up(self, team_id: str, user_id: str) -> Author | None:
        client = self.client_for(team_id)
        if client is None:
            return None
        try:
            response = await client.users_info(user=user_id, include_locale=True)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            log.info("users.info %s failed: %s", user_id, _reason(error))
            return None
        user = response.get("user") or {}
        return author_from_user(team_id, user)

    async def names(self, team_id: str, user_ids: Iterable[str]) -> dict[str, str]:
        ids = list(user_ids)
        authors = await asyncio.gather(*(self.author(team_id, user_id) for user_id in ids))
        return {user_id: author.display_name for user_id, author in zip(ids, authors, strict=True)}

    async def channel_name(self, team_id: str, channel_id: str) -> str | None:
        key = (team_id, channel_id)
        cached = self._channels.get(key)
        if cached is not None:
            return str(cached)
        client = self.client_for(team_id)
        if client is None:
            return None
        try:
            response = await client.conversations_info(channel=channel_id)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            log.info("conversations.info %s failed: %s", channel_id, _reason(error))
            return None
        name = (response.get("channel") or {}).get("name")
        if name:
            self._channels.put(key, name)
        return name

    async def neutral(self, team_id: str, text: str, *, keep_user_mentions: bool = False) -> str:
        """Slack text → neutral markup, with mentioned people and channels named."""
        users = {} if keep_user_mentions else await self.names(team_id, mentioned_users(text))
        channels = {}
        for channel_id in mentioned_channels(text):
            name = await self.channel_name(team_id, channel_id)
            if name:
                channels[channel_id] = name
        return to_neutral(text, users=users, channels=channels, keep_user_mentions=keep_user_mentions)


def author_from_user(team_id: str, user: dict[str, Any]) -> Author:
    profile = user.get("profile") or {}
    name = (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
            or user.get("name") or user.get("id", "?"))
    avatar = profile.get("image_192") or profile.get("image_72") or profile.get("image_48")
    return Author(PersonRef(PLATFORM, team_id, user.get("id", "")), name, avatar_url=avatar,
                  is_bot=bool(user.get("is_bot")), locale=user.get("locale"), timezone=user.get("tz"))


def _author_from_hint(team_id: str, user_id: str, hint: dict[str, Any] | None) -> Author:
    profile = (hint or {}).get("user_profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or profile.get("name") \
        or (hint or {}).get("user_name") or user_id
    return Author(PersonRef(PLATFORM, team_id, user_id), name, avatar_url=profile.get("image_72"))


def _reason(error: BaseException) -> str:
    return api_error(error) if isinstance(error, SlackApiError) else type(error).__name__


def api_error(error: SlackApiError) -> str:
    """Slack's error code (`channel_not_found`), or the HTTP status when the body was not JSON."""
    data = error.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {error.response.status_code}"


def emoji_name(reaction: str) -> str:
    """Slack's reaction name → the neutral one: skin tones dropped, flag short names expanded."""
    name = reaction.split("::", 1)[0]
    return FLAG_ALIASES.get(name, name)


class Inbound:
    """Builds core events from Slack payloads for the adapter."""

    def __init__(self, directory: Directory, is_own: Callable[[str, dict[str, Any]], bool]) -> None:
        self.directory = directory
        self.is_own = is_own
        """is_own(team_id, message) → True for posts made by this bot (relays included)."""
        self._parents: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def thread_parent(self, channel: ChannelRef, ts: str) -> str:
        """The thread a message belongs to: Slack wants the parent's ts to reply in a thread, and a
        reaction on a reply names only the reply."""
        return self._parents.get((channel.workspace, channel.channel, ts), ts)

    def _remember_thread(self, channel: ChannelRef, ts: str, parent: str) -> None:
        self._parents[(channel.workspace, channel.channel, ts)] = parent
        while len(self._parents) > 50_000:
            self._parents.popitem(last=False)

    async def message(self, team_id: str, event: dict[str, Any], event_id: str | None
                      ) -> MessagePosted | MessageEdited | MessageDeleted | None:
        if event.get("channel_type") == "im" or not event.get("channel"):
            return None  # people's DMs with the bot are not part of any group
        channel = ChannelRef(PLATFORM, team_id, event["channel"])
        subtype = event.get("subtype")
        if subtype in NEW_MESSAGE_SUBTYPES:
            return await self.posted(team_id, channel, event, event_id)
        if subtype == "message_changed":
            return await self.edited(team_id, channel, event, event_id)
        if subtype == "message_deleted":
            previous = event.get("previous_message") or {}
            if self.is_own(team_id, previous):
                return None  # our own copy, removed by the relay itself
            return MessageDeleted(channel, str(event.get("deleted_ts") or previous.get("ts")), event_id=event_id)
        return None  # joins, topic changes, pins, …

    async def posted(self, team_id: str, channel: ChannelRef, event: dict[str, Any],
                     event_id: str | None) -> MessagePosted:
        ts = str(event["ts"])
        thread = event.get("thread_ts")
        if thread and thread != ts:
            self._remember_thread(channel, ts, str(thread))
        from_bot = self._from_bot(team_id, event)
        author = await self._author(team_id, event, from_bot)
        text = await self.directory.neutral(team_id, event.get("text") or "")
        return MessagePosted(channel, ts, author, text,
                             thread_id=str(thread) if thread and thread != ts else None,
                             attachments=attachments(event), event_id=event_id,
                             from_bot=from_bot or author.is_bot, sent_at=_instant(ts))

    async def edited(self, team_id: str, channel: ChannelRef, event: dict[str, Any],
                     event_id: str | None) -> MessageEdited | None:
        message = event.get("message") or {}
        previous = event.get("previous_message") or {}
        if not message.get("ts"):
            return None
        if message.get("text") == previous.get("text") and attachments(message) == attachments(previous):
            return None  # a link preview or a reaction count changed, not the words
        from_bot = self._from_bot(team_id, message)
        author = await self._author(team_id, message, from_bot)
        text = await self.directory.neutral(team_id, message.get("text") or "")
        return MessageEdited(channel, str(message["ts"]), text, author, event_id=event_id,
                             from_bot=from_bot or author.is_bot)

    def reaction(self, team_id: str, event: dict[str, Any], event_id: str | None) -> ReactionAdded | None:
        item = event.get("item") or {}
        if item.get("type") != "message" or not item.get("channel") or not event.get("user"):
            return None
        return ReactionAdded(ChannelRef(PLATFORM, team_id, item["channel"]), str(item["ts"]),
                             PersonRef(PLATFORM, team_id, event["user"]), emoji_name(event.get("reaction", "")),
                             event_id=event_id)

    def _from_bot(self, team_id: str, message: dict[str, Any]) -> bool:
        return bool(message.get("bot_id") or message.get("subtype") == "bot_message"
                    or self.is_own(team_id, message))

    async def _author(self, team_id: str, message: dict[str, Any], from_bot: bool) -> Author:
        user = message.get("user")
        if user and not (from_bot and message.get("username")):
            return await self.directory.author(team_id, user, hint=message)
        # A bot or webhook post: its own name and picture, no person to look up.
        bot_id = message.get("bot_id") or "bot"
        name = message.get("username") or (message.get("bot_profile") or {}).get("name") or bot_id
        icons = message.get("icons") or {}
        return Author(PersonRef(PLATFORM, team_id, bot_id), name, avatar_url=icons.get("image_72") or
                      icons.get("image_48"), is_bot=True)


def attachments(message: dict[str, Any]) -> tuple[Attachment, ...]:
    """Shared files as name + link (the file itself stays in Slack, behind its login)."""
    found = []
    for file in message.get("files") or []:
        if file.get("mode") == "tombstone":
            continue
        link = file.get("permalink") or file.get("url_private")
        if link:
            found.append(Attachment(file.get("name") or file.get("title") or "file", link))
    return tuple(found)


def _instant(ts: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except ValueError:
        return None
