"""What the Discord adapter remembers between runs: the webhook it relays through in each
channel, and where its posts into threads live (webhook edits and deletes need the thread)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class DiscordWebhook(SQLModel, table=True):
    __tablename__ = "discord_webhook"

    channel_id: str = Field(primary_key=True, max_length=32)
    guild_id: str = Field(max_length=32)
    webhook_id: str = Field(max_length=32)
    token: str = Field(max_length=200)
    """The webhook's own token: whoever holds it can post in the channel, like the bot."""
    created_at: datetime = Field(sa_type=UTCDateTime)


class DiscordThreadPost(SQLModel, table=True):
    __tablename__ = "discord_thread_post"

    message_id: str = Field(primary_key=True, max_length=32)
    thread_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32, index=True)
    """The thread's parent channel."""
    webhook_id: str | None = Field(default=None, max_length=32)
    """Set when posted through the channel's webhook (edits and deletes go through it too)."""
    created_at: datetime = Field(sa_type=UTCDateTime)
