"""Broadcasts: announcements of the ICC team to many channels at once, and what became of each copy.

- `Broadcast`: the text, who sent it, its audience as typed (normalised), when it goes, and its
  life: a preview (`draft`) becomes `confirmed` when its sender presses Confirm, and `finished`
  once every destination has an outcome; `discarded` and `cancelled` stop it.
- `BroadcastTarget`: one destination fixed when the preview was made — a channel, a coordinator
  by direct message (a listed city with no channel), or a city that cannot be reached at all —
  with its outcome.
- `BroadcastCopy`: each posted part of a destination's copy (a long text takes several), written
  with the outbox item's end as each part is accepted: edits find the copies here after the outbox
  forgets its finished deliveries, and the `final` part is what makes a destination delivered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Broadcast.state
DRAFT, CONFIRMED, FINISHED, CANCELLED, DISCARDED = "draft", "confirmed", "finished", "cancelled", "discarded"
# BroadcastTarget.kind
CHANNEL, DM, NOWHERE = "channel", "dm", "nowhere"
# BroadcastTarget.state
PENDING, DELIVERED, FAILED, SKIPPED, UNDELIVERABLE = "pending", "delivered", "failed", "skipped", "undeliverable"
TARGET_CANCELLED = "cancelled"


class Broadcast(SQLModel, table=True):
    __table_args__ = (Index("ix_broadcast_state_send_at", "state", "send_at"),)

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_type=Text)
    """The latest text, as the sender wrote it (edits replace it; `version` counts them)."""
    version: int = 1
    language: str | None = Field(default=None, max_length=12)
    """The sender's language when they wrote it: a hint of the text's language for translation."""
    audience: str = Field(sa_type=Text)
    """Normalised: `all`, `group:<slug>`, `network:<slug>`, `lang:<code>`, `cities:<name>,<name>`."""
    send_at: datetime = Field(sa_type=UTCDateTime)
    """When it goes out: the `at=` given, or the moment it was confirmed."""
    scheduled: bool = False
    """An `at=` was given (otherwise it goes as soon as it is confirmed)."""
    timezone: str = Field(max_length=64)
    """The zone `at=` was read in, to show the time back to the sender the way they wrote it."""
    state: str = Field(default=DRAFT, max_length=16)
    sender_id: int = Field(foreign_key="person.id", index=True)
    sender_name: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    """A preview not confirmed by then is void."""
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_by_id: int | None = Field(default=None, foreign_key="person.id")
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_by_id: int | None = Field(default=None, foreign_key="person.id")
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BroadcastTarget(SQLModel, table=True):
    __tablename__ = "broadcast_target"
    __table_args__ = (UniqueConstraint("broadcast_id", "platform", "workspace", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    kind: str = Field(max_length=12)
    """`channel`, `dm` (a coordinator of a listed city that has no channel) or `nowhere`."""
    platform: str = Field(default="", max_length=16)
    workspace: str = Field(default="", max_length=64)
    address: str = Field(default="", max_length=80)
    """The channel id, the person's user id, or the city's slug for `nowhere`."""
    label: str = Field(default="", max_length=200)
    """How the sender knows it: `#rumeurs-fr`, `Marie Dubois (Lyon)`, `Getxo`."""
    language: str = Field(default="en", max_length=12)
    """The destination's language when the preview was made (delivery reads the current one)."""
    city_id: int | None = Field(default=None, foreign_key="city.id")
    state: str = Field(default=PENDING, max_length=16)
    """`pending` until it has an outcome; `delivered` is written when the broadcast finishes (until
    then a destination is delivered when its final part is in `broadcast_copy`)."""
    reason: str | None = Field(default=None, max_length=500)
    """Why it failed, was skipped or cannot be delivered; for a delivered copy, why its last edit failed."""
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BroadcastCopy(SQLModel, table=True):
    """One posted part of a destination's copy."""

    __tablename__ = "broadcast_copy"
    __table_args__ = (UniqueConstraint("target_id", "part"),)

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    target_id: int = Field(foreign_key="broadcast_target.id")
    part: int = 0
    message_id: str = Field(max_length=64)
    version: int = 1
    """The broadcast's version this part shows."""
    final: bool = False
    """The last part of the first post: with it the destination has the broadcast."""
    created_at: datetime = Field(sa_type=UTCDateTime)
