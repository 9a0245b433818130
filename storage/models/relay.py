"""The relay's memory and the durable outbox.

- `EventClaim`: platform events already handled (Slack retries, gateway replays come again).
- `OutboxLane` / `OutboxItem`: every delivery the bot owes a destination (a relayed copy, its
  edit or delete, a broadcast's post, a DM), in order per destination, with retries, a lease for
  the process delivering it, and what was posted so far.
- `RelayMessage` / `RelayCopy`: a relayed source message and each part of each copy, so edits,
  deletes and thread replies follow after a restart, and our own copies are recognised.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class EventClaim(SQLModel, table=True):
    """An event some part of the bot has taken on: a second claim of the same one is refused."""

    __tablename__ = "event_claim"
    __table_args__ = (UniqueConstraint("platform", "scope", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    scope: str = Field(default="", max_length=32)
    """Who claims (`message`, `reaction`, …): the same platform event may matter to several parts."""
    event_id: str = Field(max_length=160)
    claimed_at: datetime = Field(sa_type=UTCDateTime, index=True)


class OutboxLane(SQLModel, table=True):
    """One destination (a channel, or a person's DMs). Its items go out one after another, in
    order, delivered by whichever process holds the lane's lease."""

    __tablename__ = "outbox_lane"
    __table_args__ = (UniqueConstraint("platform", "workspace", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    target: str = Field(max_length=80)
    """The channel id, or `@<user id>` for a person's direct messages."""
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Nothing goes to this destination before then (Retry-After, or backoff after a failure)."""


class OutboxItem(SQLModel, table=True):
    """One delivery owed to a lane's destination."""

    __tablename__ = "outbox"
    # Workers only ever look for pending items, per lane in order: a partial index keeps that
    # lookup small however many finished items are kept.
    __table_args__ = (Index("ix_outbox_pending", "lane_id", "id", sqlite_where=text("state = 'pending'"),
                            postgresql_where=text("state = 'pending'")),)

    id: int | None = Field(default=None, primary_key=True)
    lane_id: int = Field(foreign_key="outbox_lane.id")
    kind: str = Field(max_length=32)
    """Which handler carries it out (`relay`, `notice`, `broadcast`, …)."""
    reference: str = Field(default="", max_length=80, index=True)
    """What it belongs to (`relay:12`, `broadcast:7`), for status reports and cancelling."""
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    state: str = Field(default="pending", max_length=12)
    """pending → done | failed | cancelled."""
    attempts: int = 0
    not_before: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    posted: list[str] = Field(default_factory=list, sa_type=JSON)
    """Ids of the messages posted so far, recorded as each one is accepted."""


class RelayMessage(SQLModel, table=True):
    """A message posted in a linked channel and relayed to the other channels of its group."""

    __tablename__ = "relay_message"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel_id", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="icc_group.id", index=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    thread_root_id: int | None = Field(default=None, foreign_key="relay_message.id")
    """The relayed message whose thread this one replies in."""
    author_user: str = Field(max_length=64)
    author_name: str = Field(max_length=200)
    author_avatar: str | None = Field(default=None, max_length=500)
    channel_language: str | None = Field(default=None, max_length=12)
    """The source channel's language when the message came: a hint of the text's language."""
    text: str = Field(sa_type=Text)
    """The latest text (edits replace it); `version` counts the edits."""
    attachments: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    """Files shared with the message: `{"name", "url"}`, relayed as links under the text."""
    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RelayCopy(SQLModel, table=True):
    """One posted part of a message's copy in a destination channel (a long text takes several)."""

    __tablename__ = "relay_copy"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel_id", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    relay_message_id: int = Field(foreign_key="relay_message.id", index=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    part: int = 0
    version: int = 1
    """The source's version this part shows."""
    deleted: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)
