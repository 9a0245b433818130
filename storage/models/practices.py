"""The good-practice database: practices as their authors wrote them, with the English version
made for publication, and the programme topics each one is filed under.

The full-text index is not a model: it lives beside the table, built by migration 0004 (SQLite:
the FTS5 table `practice_fts` kept in step by triggers; PostgreSQL: the `search` tsvector column
with a GIN index, set by a trigger since 0008_practice_search), see `storage/queries/practices.py`.
Besides the words it holds filter terms, `zc<city id>`, `zn<network id>` and `zt<topic slug without
hyphens>`, so that a search filtered by city, network or topic is one index lookup on either engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Status of a practice: written, handed to the ICC team, published by them.
DRAFT, SUBMITTED, PUBLISHED = "draft", "submitted", "published"
STATUSES = (DRAFT, SUBMITTED, PUBLISHED)

# State of the English version.
EN_PENDING = "pending"          # not made yet (translation off or failed): a job retries
EN_MACHINE = "machine"          # made by machine translation
EN_CORRECTED = "corrected"      # corrected (or written) by the ICC team: never overwritten by a machine
EN_ORIGINAL = "original"        # the original is in English: the English version is the original
EN_STATES = (EN_PENDING, EN_MACHINE, EN_CORRECTED, EN_ORIGINAL)

# The fields a person writes that have an English version, in the template's order.
TRANSLATED_FIELDS = ("title", "period", "purpose", "rationale", "process")


class Practice(SQLModel, table=True):
    # The columns search filters on, by id, apart from the long texts: SQLite reads them from this
    # index instead of walking each row's overflow pages.
    __table_args__ = (Index("ix_practice_status_city_id", "status", "city_id"),
                      Index("ix_practice_search_filter", "id", "status", "city_id", "author_id"))

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    city_id: int = Field(foreign_key="city.id", index=True)
    period: str = Field(default="", max_length=100)
    purpose: str = Field(default="", sa_type=Text)
    rationale: str = Field(default="", sa_type=Text)
    process: str = Field(default="", sa_type=Text)
    link: str = Field(default="", max_length=500)
    contact: str = Field(default="", max_length=200)
    network_id: int | None = Field(default=None)
    """Its city's network when filed (a filter term of the index), kept by the storage queries."""
    topics: str = Field(default="", max_length=500)
    """Its topic slugs, space-separated: a copy of `practice_topic` kept in step by the storage
    queries, so that the full-text index can hold topics (and the city) as filter terms."""
    language: str = Field(max_length=12)
    """Language of the original text."""
    status: str = Field(default=SUBMITTED, max_length=16)

    title_en: str | None = Field(default=None, max_length=400)
    period_en: str | None = Field(default=None, max_length=200)
    purpose_en: str | None = Field(default=None, sa_type=Text)
    rationale_en: str | None = Field(default=None, sa_type=Text)
    process_en: str | None = Field(default=None, sa_type=Text)
    en_state: str = Field(default=EN_PENDING, max_length=16)
    en_attempts: int = 0
    en_retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    """When the English version is next tried (set while it is pending)."""

    author_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    author_name: str = Field(default="", max_length=200)
    """As the author signed, kept when a practice is imported for someone not on any platform."""
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by_id: int | None = Field(default=None, foreign_key="person.id")
    review_note: str = Field(default="", max_length=1000)
    announced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set once the submission was announced in the topic groups' channels."""
    import_key: str | None = Field(default=None, max_length=64, unique=True)
    """A hash of an imported row, so importing the same file twice adds nothing."""


class PracticeTopic(SQLModel, table=True):
    __tablename__ = "practice_topic"
    __table_args__ = (Index("ix_practice_topic_topic_practice_id", "topic", "practice_id"),)

    practice_id: int = Field(foreign_key="practice.id", primary_key=True, ondelete="CASCADE")
    topic: str = Field(max_length=80, primary_key=True)
