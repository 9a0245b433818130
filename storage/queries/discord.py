"""The Discord adapter's memory: webhooks per channel, and its posts that live in threads."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DiscordThreadPost, DiscordWebhook


async def webhook_for(session: AsyncSession, channel_id: str) -> DiscordWebhook | None:
    return await session.get(DiscordWebhook, channel_id)


async def webhooks_for(session: AsyncSession, channel_ids: list[str]) -> dict[str, tuple[str, str]]:
    """channel id → (webhook id, token), for those of these channels that have one."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(channel_ids), 500):
        rows = await session.exec(select(DiscordWebhook.channel_id, DiscordWebhook.webhook_id, DiscordWebhook.token)
                                  .where(col(DiscordWebhook.channel_id).in_(channel_ids[start:start + 500])))
        found.update({channel: (webhook, token) for channel, webhook, token in rows})
    return found


async def remember_webhook(session: AsyncSession, channel_id: str, guild_id: str, webhook_id: str, token: str,
                           now: datetime) -> None:
    row = await session.get(DiscordWebhook, channel_id)
    if row is None:
        session.add(DiscordWebhook(channel_id=channel_id, guild_id=guild_id, webhook_id=webhook_id, token=token,
                                   created_at=now))
    else:
        row.guild_id, row.webhook_id, row.token, row.created_at = guild_id, webhook_id, token, now
        session.add(row)


async def forget_webhook(session: AsyncSession, channel_id: str, webhook_id: str) -> None:
    """Forget the channel's webhook, unless another process already replaced it with a new one."""
    row = await session.get(DiscordWebhook, channel_id)
    if row is not None and row.webhook_id == webhook_id:
        await session.delete(row)


async def remember_thread_post(session: AsyncSession, message_id: str, thread_id: str, channel_id: str,
                               webhook_id: str | None, now: datetime) -> None:
    if await session.get(DiscordThreadPost, message_id) is None:
        session.add(DiscordThreadPost(message_id=message_id, thread_id=thread_id, channel_id=channel_id,
                                      webhook_id=webhook_id, created_at=now))


async def thread_post(session: AsyncSession, message_id: str) -> DiscordThreadPost | None:
    return await session.get(DiscordThreadPost, message_id)
