"""Queries on the translation cache, DeepL glossaries, daily usage counters and flag translations.

Writes that two bot processes may race on are single statements that cannot conflict badly:
inserts that ignore an existing row, counters incremented in place, and a conditional update
that only one process can win (the day's quota alert).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DeepLGlossary, FlagTranslation, TranslationCacheEntry, TranslationUsage


def _insert(session: AsyncSession, model: type[Any]) -> Any:
    """INSERT for the session's dialect (both have ON CONFLICT)."""
    bind = session.bind
    name = bind.dialect.name if bind is not None else "sqlite"
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(model)


# ---- cache ----------------------------------------------------------------------------------------


async def cached_segments(session: AsyncSession, keys: Sequence[str]) -> dict[str, TranslationCacheEntry]:
    found: dict[str, TranslationCacheEntry] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        result = await session.exec(select(TranslationCacheEntry).where(
            col(TranslationCacheEntry.key).in_(unique[start:start + 500])))
        found.update({entry.key: entry for entry in result})
    return found


async def store_segments(session: AsyncSession, entries: Iterable[TranslationCacheEntry]) -> None:
    """Remember translations; one another process stored first is kept (it is the same)."""
    rows = [entry.model_dump() for entry in entries]
    if not rows:
        return
    statement = _insert(session, TranslationCacheEntry).values(rows).on_conflict_do_nothing(index_elements=["key"])
    await session.exec(statement)


# ---- usage counters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageTotals:
    billed_characters: int = 0
    requests: int = 0
    saved_by_cache: int = 0
    saved_by_skip: int = 0
    untranslated_characters: int = 0


COUNTERS = ("billed_characters", "requests", "saved_by_cache", "saved_by_skip", "untranslated_characters")


async def add_usage(session: AsyncSession, day: date, **counts: int) -> None:
    """Add to the day's counters (created at zero when missing)."""
    values = {name: int(counts.get(name, 0)) for name in COUNTERS}
    if not any(values.values()):
        return
    statement = _insert(session, TranslationUsage).values(day=day, **values)
    table = TranslationUsage.__table__  # type: ignore[attr-defined]
    statement = statement.on_conflict_do_update(
        index_elements=["day"],
        set_={name: table.c[name] + statement.excluded[name] for name in COUNTERS})
    await session.exec(statement)


async def usage_between(session: AsyncSession, first: date, last: date) -> UsageTotals:
    """Counters summed over the days `first` to `last`, both included."""
    columns = [func.coalesce(func.sum(getattr(TranslationUsage, name)), 0) for name in COUNTERS]
    result = await session.exec(select(*columns).where(
        col(TranslationUsage.day) >= first, col(TranslationUsage.day) <= last))
    row = result.one()
    return UsageTotals(*(int(value) for value in row))


async def claim_quota_alert(session: AsyncSession, day: date, now: datetime) -> bool:
    """True for exactly one caller per day, across restarts and processes."""
    await session.exec(_insert(session, TranslationUsage).values(
        day=day, **dict.fromkeys(COUNTERS, 0)).on_conflict_do_nothing(index_elements=["day"]))
    # RETURNING rather than rowcount, which not every async driver reports.
    result = await session.exec(update(TranslationUsage).where(
        col(TranslationUsage.day) == day, col(TranslationUsage.quota_alert_sent_at).is_(None)
    ).values(quota_alert_sent_at=now).returning(col(TranslationUsage.day)))
    return result.first() is not None


# ---- DeepL glossaries ---------------------------------------------------------------------------


async def find_glossary_id(session: AsyncSession, account: str, source: str, target: str, version: str) -> str | None:
    result = await session.exec(select(DeepLGlossary.glossary_id).where(
        DeepLGlossary.account == account, DeepLGlossary.source_lang == source,
        DeepLGlossary.target_lang == target, DeepLGlossary.entries_hash == version))
    return result.first()


async def remember_glossary(session: AsyncSession, account: str, source: str, target: str, version: str,
                            glossary_id: str, now: datetime) -> str:
    """Record a glossary made on DeepL; when another process recorded one first, theirs wins and
    its id is returned."""
    await session.exec(_insert(session, DeepLGlossary).values(
        account=account, source_lang=source, target_lang=target, entries_hash=version,
        glossary_id=glossary_id, created_at=now).on_conflict_do_nothing(
        index_elements=["account", "source_lang", "target_lang", "entries_hash"]))
    winner = await find_glossary_id(session, account, source, target, version)
    return winner or glossary_id


async def forget_glossary(session: AsyncSession, account: str, glossary_id: str) -> None:
    await session.exec(delete(DeepLGlossary).where(
        col(DeepLGlossary.account) == account, col(DeepLGlossary.glossary_id) == glossary_id))


# ---- flag translations ------------------------------------------------------------------------------


async def claim_flag_translation(session: AsyncSession, platform: str, workspace: str, channel_id: str,
                                 message_id: str, language: str, *, person_id: int | None,
                                 now: datetime) -> bool:
    """True when nobody asked for this message in this language before (the caller posts it)."""
    result = await session.exec(_insert(session, FlagTranslation).values(
        platform=platform, workspace=workspace, channel_id=channel_id, message_id=message_id,
        language=language, requested_by_id=person_id, created_at=now).on_conflict_do_nothing(
        index_elements=["platform", "workspace", "channel_id", "message_id", "language"]
    ).returning(col(FlagTranslation.id)))
    return result.first() is not None


async def finish_flag_translation(session: AsyncSession, platform: str, workspace: str, channel_id: str,
                                  message_id: str, language: str, reply_id: str | None) -> None:
    """Record the posted reply, or (reply_id None) give the claim up so a later reaction can retry."""
    where = (col(FlagTranslation.platform) == platform, col(FlagTranslation.workspace) == workspace,
             col(FlagTranslation.channel_id) == channel_id, col(FlagTranslation.message_id) == message_id,
             col(FlagTranslation.language) == language)
    if reply_id is None:
        await session.exec(delete(FlagTranslation).where(*where))
    else:
        await session.exec(update(FlagTranslation).where(*where).values(reply_id=reply_id))
