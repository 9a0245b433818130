"""Deadlines, who must answer them, and every reminder and notice the bot sends for them.

The bot's tables, not APScheduler's job store, say what is due: one `Reminder` row per
(deadline, round, city, step), created when the deadline is planned, claimed by one worker at a
time and marked with its outcome, so a restart or a second process never sends one twice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Deadline(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    link: str = Field(default="", max_length=500)
    due_date: date = Field(index=True)
    """The day it is due, in each city's own calendar."""
    remind_at: str = Field(default="09:30", max_length=5)
    """Local time of day (HH:MM) at which each city gets its reminders."""
    audience: str = Field(sa_type=Text)
    """As the ICC team gave it, normalised: `all`, `network:<slug>`, `group:<slug>`, `cities:<slug>,…`."""
    plan: str = Field(max_length=100)
    """Reminder steps in days from the due date, e.g. `-14,-7,-1,0,3,7`."""
    repeat: str | None = Field(default=None, max_length=32)
    """`yearly` or `every-<n>-months`; the next occurrence is created once this one is over."""
    repeat_day: int | None = None
    """Day of the month the series started on, so `every-1-months` from the 31st does not drift."""
    round: int = 0
    """Incremented when the due date or the plan changes: reminders are planned afresh."""
    state: str = Field(default="open", max_length=16)
    """`open` or `cancelled`."""
    previous_id: int | None = Field(default=None, foreign_key="deadline.id", unique=True)
    """The occurrence this one follows (unique: a series' next occurrence is created once)."""
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_by_id: int | None = Field(default=None, foreign_key="person.id")


class DeadlineCity(SQLModel, table=True):
    """A city asked to answer a deadline: the audience, fixed when the deadline is created."""

    __tablename__ = "deadline_city"

    deadline_id: int = Field(foreign_key="deadline.id", primary_key=True)
    city_id: int = Field(foreign_key="city.id", primary_key=True, index=True)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by_id: int | None = Field(default=None, foreign_key="person.id")
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Reminder(SQLModel, table=True):
    """One step of a deadline's plan for one city: sent once, or skipped for a stated reason."""

    __table_args__ = (
        UniqueConstraint("deadline_id", "city_id", "round", "step"),
        Index("ix_reminder_state_due_at", "state", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id")
    """Indexed by the unique key, which it leads."""
    city_id: int = Field(foreign_key="city.id")
    round: int = 0
    step: int
    """Days from the due date: -7 is a week before, 3 is three days overdue."""
    planned_at: datetime = Field(sa_type=UTCDateTime)
    """When the plan puts it: the remind-at time, local to the city, on a working day."""
    due_at: datetime = Field(sa_type=UTCDateTime)
    """When it may go out next: the planned instant, a snooze's end, or a retry's."""
    state: str = Field(default="pending", max_length=16)
    """pending · sent · skipped (a later step made it pointless) · dropped (done, cancelled,
    re-planned) · undeliverable (no channel, no coordinator) · failed (the platform refused)."""
    note: str = Field(default="", max_length=300)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Wall-clock end of a worker's claim; another worker may take the row over after it."""
    claim_token: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late: bool = False
    """Went out well after its time (the bot was down)."""
    sent_to: str = Field(default="", max_length=500)
    """Destinations already reached (`channel:<id>`, `person:<id>`), so a retry skips them."""
    message_ids: str = Field(default="", max_length=500)
    """At each of `sent_to`, in the same order, the posted message that carries the buttons."""


class Notice(SQLModel, table=True):
    """A post the bot owes once: a joint-campaign announcement to a channel, a weekly digest to
    a member of the ICC team. Claimed and marked like reminders."""

    __table_args__ = (
        UniqueConstraint("kind", "key", "target"),
        Index("ix_notice_state_due_at", "state", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    """`campaign` or `digest`."""
    key: str = Field(max_length=40)
    """Which one: the campaign day (`2027-02-21`), the digest's week (`2027-W02`)."""
    target: str = Field(max_length=40)
    """`channel:<id>` or `person:<id>`."""
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default="pending", max_length=16)
    note: str = Field(default="", max_length=300)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim_token: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_ids: str = Field(default="", max_length=500)


class NoticeBatch(SQLModel, table=True):
    """Marks that the notices of one campaign day or one week's digest were created (in the same
    transaction), so two processes or a restart never create them twice."""

    __tablename__ = "notice_batch"

    kind: str = Field(max_length=16, primary_key=True)
    key: str = Field(max_length=40, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
