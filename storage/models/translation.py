"""Machine translation's memory: translations already paid for, DeepL glossaries made, daily
counters (characters billed and saved, the quota alert), and flag-reaction translations posted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class TranslationCacheEntry(SQLModel, table=True):
    """One translated segment (a line of a message, as sent to DeepL). The key hashes everything
    that shapes the result: the text, source, target, glossary content and formality."""

    __tablename__ = "translation_cache"

    key: str = Field(primary_key=True, max_length=64)
    target: str = Field(max_length=12)
    """DeepL's target code (`EN-GB`)."""
    source: str | None = Field(default=None, max_length=12)
    """DeepL's source code as detected or given (`FR`)."""
    text: str = Field(sa_type=Text)
    """DeepL's answer, still in the XML the segment was sent as."""
    characters: int = 0
    """Characters DeepL billed for it: what each later use saves."""
    created_at: datetime = Field(sa_type=UTCDateTime)


class DeepLGlossary(SQLModel, table=True):
    """A glossary created on a DeepL account for one language pair and one version of the terms."""

    __tablename__ = "deepl_glossary"
    __table_args__ = (UniqueConstraint("account", "source_lang", "target_lang", "entries_hash",
                                       name="uq_deepl_glossary_pair_version"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=32)
    """A hash of the key and server (never the key itself): glossaries belong to an account."""
    source_lang: str = Field(max_length=12)
    target_lang: str = Field(max_length=12)
    entries_hash: str = Field(max_length=64)
    glossary_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class TranslationUsage(SQLModel, table=True):
    """Counters for one UTC day, summed by `/icc usage`."""

    __tablename__ = "translation_usage"

    day: date = Field(primary_key=True)
    billed_characters: int = 0
    requests: int = 0
    saved_by_cache: int = 0
    """Characters not sent because the same text had been translated before."""
    saved_by_skip: int = 0
    """Characters not sent because the text was already in the destination's language."""
    untranslated_characters: int = 0
    """Characters that could not be translated (DeepL down or out of quota)."""
    quota_alert_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set once, by whichever process sends the day's out-of-quota alert to the ICC team."""


class FlagTranslation(SQLModel, table=True):
    """A translation posted in a message's thread for a flag reaction: one per message and language."""

    __tablename__ = "flag_translation"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel_id", "message_id", "language",
                                       name="uq_flag_translation_message_language"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    language: str = Field(max_length=12)
    reply_id: str | None = Field(default=None, max_length=64)
    requested_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
