"""The English version of each practice, made by machine translation after the practice is stored
(the person who adds it never waits for DeepL), retried with backoff while translation is off or
failing, and never written over the ICC team's corrections.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.languages import base_language
from bot.translation import NotTranslated, Translator
from storage.models.practices import EN_MACHINE, EN_ORIGINAL, EN_PENDING, TRANSLATED_FIELDS
from storage.queries import practices as queries

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)

ENGLISH = "en-GB"  # the Council of Europe publishes in British English
# Waits between attempts while DeepL fails: a minute, five, a quarter of an hour, an hour, three,
# then every six hours.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1),
           timedelta(hours=3), timedelta(hours=6))
# A submission not announced this long after it was made (the bot stopped in between) is
# announced by the follow-up job.
ANNOUNCE_GRACE = timedelta(minutes=2)


def retry_delay(attempts: int) -> timedelta:
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


async def make_english(bot: Bot, practice_id: int) -> bool:
    """Make the missing English texts of one practice. True when its English version is complete."""
    async with bot.db.session() as session:
        practice = await queries.get_practice(session, practice_id)
        if practice is None:
            return True
        if practice.en_state != EN_PENDING:
            return True
        if base_language(practice.language) == "en":
            practice.en_state = EN_ORIGINAL
            practice.en_retry_at = None
            session.add(practice)
            return True
        todo = [(name, getattr(practice, name)) for name in TRANSLATED_FIELDS
                if getattr(practice, name) and getattr(practice, f"{name}_en") is None]
        version = practice.updated_at
        language = practice.language
    translator = bot.service(Translator)  # type: ignore[type-abstract]
    if not translator.enabled:
        return False  # stays pending: picked up once translation is configured
    results = await translator.translate([text for _name, text in todo], ENGLISH) if todo else []
    failed = [r for r in results if not r.translated and r.not_translated is not NotTranslated.SAME_LANGUAGE]
    now = bot.clock.now()
    async with bot.db.session() as session:
        practice = await queries.get_practice(session, practice_id, for_update=True)
        if practice is None or practice.en_state != EN_PENDING:
            return True
        if practice.updated_at != version:
            practice.en_retry_at = now  # edited meanwhile: translate the new text at once
            session.add(practice)
            return False
        if failed:
            practice.en_attempts += 1
            practice.en_retry_at = now + retry_delay(practice.en_attempts)
            session.add(practice)
            log.info("English version of practice %s not made (%s); retry at %s", practice_id,
                     failed[0].not_translated, practice.en_retry_at)
            return False
        detected = {base_language(r.source_language) for r in results if r.source_language}
        if results and all(r.not_translated is NotTranslated.SAME_LANGUAGE for r in results):
            practice.language = "en"
            practice.en_state = EN_ORIGINAL
        else:
            for (name, _text), result in zip(todo, results, strict=True):
                setattr(practice, f"{name}_en", result.text)
            practice.en_state = EN_MACHINE
            # DeepL's detection has the last word on the original's language.
            if len(detected) == 1 and (found := detected.pop()) != base_language(language):
                practice.language = found
        practice.en_retry_at = None
        session.add(practice)
    return True


class FollowUp:
    """The job that retries English versions and announces submissions a stop interrupted."""

    name = "practices.follow-up"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def next_due(self, now: datetime) -> datetime | None:
        async with self.bot.db.session() as session:
            dues: list[datetime] = []
            translator = self.bot.service(Translator)  # type: ignore[type-abstract]
            if translator.enabled and (retry := await queries.next_english_retry(session)) is not None:
                dues.append(retry)
            if (oldest := await queries.oldest_unannounced(session)) is not None:
                dues.append(oldest + ANNOUNCE_GRACE)
        return min(dues) if dues else None

    async def run(self, now: datetime) -> None:
        from bot.practices.announce import announce

        translator = self.bot.service(Translator)  # type: ignore[type-abstract]
        if translator.enabled:
            async with self.bot.db.session() as session:
                due = await queries.english_due(session, now)
            for practice_id in due:
                await make_english(self.bot, practice_id)
        async with self.bot.db.session() as session:
            waiting = await queries.unannounced(session, now - ANNOUNCE_GRACE)
        for practice_id in waiting:
            await announce(self.bot, practice_id)


async def after_submission(bot: Bot, practice_id: int, *, announce_it: bool) -> None:
    """What follows storing a practice, in the background: its English version, then (for a new
    submission) the announcement in its topics' groups."""
    from bot.practices.announce import announce

    try:
        await make_english(bot, practice_id)
    except Exception:
        log.exception("English version of practice %s failed; the follow-up job retries", practice_id)
        async with bot.db.session() as session:
            practice = await queries.get_practice(session, practice_id)
            if practice is not None and practice.en_state == EN_PENDING:
                practice.en_attempts += 1
                practice.en_retry_at = bot.clock.now() + retry_delay(practice.en_attempts)
                session.add(practice)
    if announce_it:
        await announce(bot, practice_id)
