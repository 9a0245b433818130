"""Discord gateway payload builders and event injection into a logged-in discord.py client.

There is no gateway in tests. Events are fed to discord.py's own parsers
(``client._connection.parse_<event>``), the private API the real websocket uses, so that
caching, ``on_message``/``on_raw_*`` dispatch, ``CommandTree`` routing and view/modal
dispatch all run the library's code. This is the ONE place that touches that private API.

Typical use (after ``await client.login("token")`` against ``FakeDiscord``)::

    guild = guild_create(GUILD, "ICC", channels=[text_channel(CHAN, "anti-rumours", GUILD)],
                         members=[member(alice)])
    fake.add_guild(guild)                      # so the REST fake knows the channels too
    await inject(client, "GUILD_CREATE", guild)
    await inject(client, "MESSAGE_CREATE", message_create(CHAN, "hola", author=alice, guild_id=GUILD))
    cmd = slash_command("icc", [sub_command_group("group", [sub_command("list")])],
                        command_guild_id=GUILD, guild_id=GUILD, channel_id=CHAN, user=alice)
    await inject(client, "INTERACTION_CREATE", cmd, fake=fake)
    assert fake.callback(cmd["id"])["type"] == 4

``inject`` awaits the tasks the event spawned (listeners, the command tree, view and modal
callbacks) so assertions can follow directly. What ``CommandTree`` needs to route an
application command: the command registered in the tree (``tree.add_command``/decorators;
no sync needed), ``data.name`` equal to its name, nested ``options`` of type 2 (group) / 1
(sub-command), and ``data.guild_id`` only for a guild-registered command. Modal submits
reach only a modal the bot has sent (``send_modal`` stores it); component clicks reach only
views the bot registered (or persistent views added with ``client.add_view``).
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from tests.fakes.fake_discord import FakeDiscord

DISCORD_EPOCH_MS = 1_420_070_400_000
APP_ID = "1100000000000000001"  # also the bot user's id, as for modern applications
# @everyone: view, send, embed, attach, history, reactions, app commands, threads.
EVERYONE_PERMISSIONS = str(
    (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 6) | (1 << 31) | (1 << 35) | (1 << 38)
)
# The bot's role adds manage messages and manage webhooks (relays post through webhooks).
BOT_ROLE_PERMISSIONS = str(int(EVERYONE_PERMISSIONS) | (1 << 13) | (1 << 29))

_lock = threading.Lock()
_seq = itertools.count()


def snowflake() -> str:
    """A fresh, increasing Discord snowflake (as Discord sends it: a string)."""
    with _lock:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(_seq) & 0x3FFFFF))


def iso_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


# -- objects ---------------------------------------------------------------------------
def user(
    user_id: str, username: str, *, avatar: str | None = "a1b2c3", bot: bool = False, global_name: str | None = None
) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": username,
        "discriminator": "0",
        "global_name": global_name or username.title(),
        "avatar": avatar,
        "bot": bot,
        "public_flags": 0,
    }


def member(usr: dict[str, Any], *, nick: str | None = None, roles: list[str] | None = None) -> dict[str, Any]:
    """A guild member (GUILD_CREATE form, with ``user``)."""
    return {
        "user": usr,
        "nick": nick,
        "avatar": None,
        "roles": roles or [],
        "joined_at": "2024-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }


def text_channel(
    channel_id: str, name: str, guild_id: str, *, position: int = 0, topic: str | None = None
) -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": 0,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "topic": topic,
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "last_message_id": None,
    }


def thread_channel(
    thread_id: str, name: str, parent_id: str, guild_id: str, *, owner_id: str = APP_ID, type: int = 11
) -> dict[str, Any]:
    """A public (11) or private (12) thread, as in GUILD_CREATE / thread creation answers."""
    return {
        "id": thread_id,
        "type": type,
        "guild_id": guild_id,
        "parent_id": parent_id,
        "owner_id": owner_id,
        "name": name,
        "last_message_id": None,
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "total_message_sent": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": iso_now(),
            "locked": False,
            "create_timestamp": iso_now(),
        },
    }


def guild_create(
    guild_id: str,
    name: str,
    *,
    channels: Sequence[dict[str, Any]] = (),
    members: Sequence[dict[str, Any]] = (),
    threads: Sequence[dict[str, Any]] = (),
    owner_id: str = "1",
    preferred_locale: str = "en-US",
) -> dict[str, Any]:
    """GUILD_CREATE; ``inject`` adds the bot's own member (with a bot role) if missing.

    ``member_count`` equals the members given, so discord.py sees the guild as chunked and
    does not try to request members over a gateway that does not exist.
    """
    bot_role = str(int(guild_id) + 1)
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "owner_id": owner_id,
        "preferred_locale": preferred_locale,
        "features": [],
        "unavailable": False,
        "large": False,
        "member_count": len(members),
        "roles": [
            {"id": guild_id, "name": "@everyone", "permissions": EVERYONE_PERMISSIONS, "position": 0},
            {"id": bot_role, "name": "ICC Bot", "permissions": BOT_ROLE_PERMISSIONS, "position": 1, "managed": True},
        ],
        "emojis": [],
        "stickers": [],
        "channels": list(channels),
        "threads": list(threads),
        "members": list(members),
        "voice_states": [],
        "presences": [],
        "joined_at": "2024-01-01T00:00:00+00:00",
    }


def message(
    channel_id: str,
    content: str,
    *,
    author: dict[str, Any],
    guild_id: str | None = None,
    message_id: str | None = None,
    webhook_id: str | None = None,
    application_id: str | None = None,
    mentions: Sequence[dict[str, Any]] = (),
    mention_everyone: bool = False,
    attachments: Sequence[dict[str, Any]] = (),
    embeds: Sequence[dict[str, Any]] = (),
    reference: dict[str, Any] | None = None,
    components: Sequence[dict[str, Any]] = (),
    flags: int = 0,
    edited: bool = False,
) -> dict[str, Any]:
    """A full message object. In MESSAGE_CREATE for a guild, ``member`` (without ``user``)
    is added unless it is a webhook post; a webhook post's author is the webhook (``bot``)."""
    msg: dict[str, Any] = {
        "id": message_id or snowflake(),
        "channel_id": channel_id,
        "type": 19 if reference else 0,
        "content": content,
        "author": author,
        "timestamp": iso_now(),
        "edited_timestamp": iso_now() if edited else None,
        "tts": False,
        "mention_everyone": mention_everyone,
        "mentions": list(mentions),
        "mention_roles": [],
        "attachments": list(attachments),
        "embeds": list(embeds),
        "components": list(components),
        "pinned": False,
        "flags": flags,
    }
    if guild_id is not None:
        msg["guild_id"] = guild_id
        if webhook_id is None:
            msg["member"] = {k: v for k, v in member(author).items() if k != "user"}
    if webhook_id is not None:
        msg["webhook_id"] = webhook_id
    if application_id is not None:
        msg["application_id"] = application_id
    if reference is not None:
        msg["message_reference"] = {
            "type": 0,
            "message_id": reference["id"],
            "channel_id": reference["channel_id"],
            **({"guild_id": guild_id} if guild_id else {}),
        }
        msg["referenced_message"] = reference
    return msg


def webhook_author(webhook_id: str, username: str, avatar: str | None = None) -> dict[str, Any]:
    return {"id": webhook_id, "username": username, "discriminator": "0000", "avatar": avatar, "bot": True}


def attachment(filename: str, *, size: int = 1234, content_type: str = "application/pdf") -> dict[str, Any]:
    aid = snowflake()
    url = f"https://cdn.discordapp.com/attachments/1/{aid}/{filename}"
    return {
        "id": aid,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": content_type,
    }


# -- gateway events -------------------------------------------------------------------------
def message_create(channel_id: str, content: str, *, author: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """MESSAGE_CREATE (``thread`` channels work the same: pass the thread id as channel)."""
    return message(channel_id, content, author=author, **kw)


def message_update(original: dict[str, Any], content: str) -> dict[str, Any]:
    """MESSAGE_UPDATE: Discord sends the full updated message."""
    return {**original, "content": content, "edited_timestamp": iso_now()}


def message_delete(channel_id: str, message_id: str, guild_id: str | None = None) -> dict[str, Any]:
    payload = {"id": message_id, "channel_id": channel_id}
    if guild_id is not None:
        payload["guild_id"] = guild_id
    return payload


def reaction_add(
    channel_id: str,
    message_id: str,
    usr: dict[str, Any],
    emoji: str = "🇫🇷",
    *,
    guild_id: str | None = None,
    message_author_id: str | None = None,
) -> dict[str, Any]:
    """MESSAGE_REACTION_ADD with a unicode emoji (``id`` None)."""
    payload: dict[str, Any] = {
        "user_id": usr["id"],
        "channel_id": channel_id,
        "message_id": message_id,
        "emoji": {"id": None, "name": emoji},
        "burst": False,
        "burst_colors": [],
        "type": 0,
    }
    if guild_id is not None:
        payload["guild_id"] = guild_id
        payload["member"] = member(usr)
    if message_author_id is not None:
        payload["message_author_id"] = message_author_id
    return payload


# -- interactions ---------------------------------------------------------------------------
def option(name: str, value: Any, *, type: int | None = None, focused: bool = False) -> dict[str, Any]:
    """A command option; type inferred (str 3, int 4, bool 5, float 10) unless given."""
    if type is None:
        type = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 10 if isinstance(value, float) else 3
    opt: dict[str, Any] = {"name": name, "type": type, "value": value}
    if focused:
        opt["focused"] = True
    return opt


def sub_command(name: str, options: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"name": name, "type": 1, "options": list(options)}


def sub_command_group(name: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "type": 2, "options": list(options)}


def interaction(
    type: int,
    data: dict[str, Any] | None,
    *,
    user: dict[str, Any],
    guild_id: str | None,
    channel_id: str,
    message: dict[str, Any] | None = None,
    locale: str = "en-US",
    guild_locale: str = "en-US",
    application_id: str = APP_ID,
    roles: list[str] | None = None,
    permissions: str = EVERYONE_PERMISSIONS,
) -> dict[str, Any]:
    """INTERACTION_CREATE as Discord sends it in 2025 (``context``, owners, size limit...)."""
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": application_id,
        "type": type,
        "token": f"itoken-{snowflake()}",
        "version": 1,
        "locale": locale,
        "app_permissions": BOT_ROLE_PERMISSIONS,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": 10 * 1024 * 1024,
        "channel_id": channel_id,
        # The partial channel Discord includes; used when the channel is not cached.
        "channel": {"id": channel_id, "type": 0, "name": "channel", "position": 0, "permissions": permissions}
        if guild_id
        else {"id": channel_id, "type": 1, "recipients": [user], "flags": 0},
    }
    if data is not None:
        payload["data"] = data
    if guild_id is not None:
        payload.update(
            {
                "guild_id": guild_id,
                "guild": {"id": guild_id, "locale": guild_locale, "features": []},
                "guild_locale": guild_locale,
                "member": {**member(user, roles=roles), "permissions": permissions},
                "authorizing_integration_owners": {"0": guild_id},
                "context": 0,
            }
        )
        payload["channel"]["guild_id"] = guild_id
    else:
        payload.update({"user": user, "authorizing_integration_owners": {"1": user["id"]}, "context": 1})
    if message is not None:
        payload["message"] = message
    return payload


def slash_command(
    name: str,
    options: Sequence[dict[str, Any]] = (),
    *,
    command_id: str | None = None,
    command_guild_id: str | None = None,
    resolved: dict[str, Any] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """Type 2 CHAT_INPUT. ``command_guild_id`` only for commands registered to a guild."""
    data: dict[str, Any] = {"id": command_id or snowflake(), "name": name, "type": 1, "options": list(options)}
    if command_guild_id is not None:
        data["guild_id"] = command_guild_id
    if resolved is not None:
        data["resolved"] = resolved
    return interaction(2, data, **kw)


def autocomplete(name: str, options: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    """Type 4; mark the option being typed with ``option(..., focused=True)``."""
    payload = slash_command(name, options, **kw)
    payload["type"] = 4
    return payload


def message_command(name: str, target: dict[str, Any], *, command_id: str | None = None, **kw: Any) -> dict[str, Any]:
    """Message context-menu command (type 2, data.type 3) on ``target`` (a message object)."""
    target = {k: v for k, v in target.items() if k not in ("member", "guild_id")}
    data = {
        "id": command_id or snowflake(),
        "name": name,
        "type": 3,
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}},
    }
    return interaction(2, data, **kw)


def modal_submit(custom_id: str, values: dict[str, str], *, labels: bool = False, **kw: Any) -> dict[str, Any]:
    """Type 5; ``values`` maps text-input custom_id → value. ``labels=True`` uses the
    Label (type 18) layout of newer modals instead of action rows."""
    inputs = [{"type": 4, "custom_id": cid, "value": value} for cid, value in values.items()]
    if labels:
        components = [{"type": 18, "id": i + 1, "component": c} for i, c in enumerate(inputs)]
    else:
        components = [{"type": 1, "components": [c]} for c in inputs]
    return interaction(5, {"custom_id": custom_id, "components": components}, **kw)


def button_click(custom_id: str, message: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """Type 3 MESSAGE_COMPONENT for a button on ``message``."""
    return interaction(3, {"custom_id": custom_id, "component_type": 2}, message=message, **kw)


# -- injection ------------------------------------------------------------------------------
_AWAITED_TASKS = (
    "discord.py:", "CommandTree-invoker", "discord-ui-view-dispatch", "discord-ui-modal-dispatch",
    "discord-ui-dynamic-item",
)


async def inject(
    client: discord.Client,
    event: str,
    payload: dict[str, Any],
    *,
    fake: FakeDiscord | None = None,
    wait: bool = True,
    timeout: float = 5.0,
) -> None:
    """Feed one gateway event (e.g. "MESSAGE_CREATE") to ``client`` and wait for its handlers.

    With ``fake``, an INTERACTION_CREATE is registered on the fake so its callback answer
    carries the right interaction type and an ``@original`` lands in the channel.
    """
    state = client._connection
    if event == "GUILD_CREATE" and client.user is not None:
        _add_own_member(payload, client.user)
    if event == "INTERACTION_CREATE" and fake is not None:
        fake.register_interaction(payload)
    parser = getattr(state, "parse_" + event.lower())
    before = asyncio.all_tasks()
    parser(payload)
    if wait:
        await _settle(before, timeout)


async def _settle(before: set[asyncio.Task[Any]], timeout: float) -> None:
    # Await the listener/command/view tasks the event spawned, and those they spawn in turn;
    # ignore long-lived ones such as view timeout tasks.
    deadline = asyncio.get_running_loop().time() + timeout
    seen = set(before)
    while True:
        await asyncio.sleep(0)
        new = {t for t in asyncio.all_tasks() - seen if t.get_name().startswith(_AWAITED_TASKS)}
        if not new:
            return
        seen |= new
        remaining = deadline - asyncio.get_running_loop().time()
        _, pending = await asyncio.wait(new, timeout=max(remaining, 0))
        if pending:
            raise TimeoutError(f"event handlers still running after {timeout}s: {pending}")


def _add_own_member(guild: dict[str, Any], me: discord.ClientUser) -> None:
    if any(m["user"]["id"] == str(me.id) for m in guild.get("members", [])):
        return
    own = member(user(str(me.id), me.name, bot=True), roles=[str(int(guild["id"]) + 1)])
    guild["members"] = [*guild.get("members", []), own]
    guild["member_count"] = len(guild["members"])
