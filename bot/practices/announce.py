"""Announcing a new submission in the channels of the groups that work on its topics: one short
post per channel, in the channel's language, with one translation request per language."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from bot.i18n import Message, _, available_locales, render
from bot.languages import base_language
from bot.outbound import DeliveryError
from bot.practices.fields import topic_name
from bot.translation import Translator
from storage.models import Channel, City, Practice
from storage.queries import practices as queries

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)


def announcement(practice: Practice, city: City, topics: list[str], title: str) -> Message:
    return _("New good practice from {city}: **{title}** ({topics}). Read it with `/icc practice show #{id}`.",
             city=city.name, title=title, topics=", ".join(topic_name(t) for t in topics), id=practice.id)


async def announce(bot: Bot, practice_id: int) -> int:
    """Post the announcement once (whichever process claims it); returns the channels reached."""
    from bot.core import channel_ref

    async with bot.db.session() as session:
        if not await queries.claim_announcement(session, practice_id, bot.clock.now()):
            return 0
        practice = await queries.get_practice(session, practice_id)
        assert practice is not None
        city = await session.get(City, practice.city_id)
        assert city is not None
        topics = (await queries.topics_of(session, [practice_id]))[practice_id]
        channels = await queries.topic_channels(session, topics)
    by_language: dict[str, list[Channel]] = defaultdict(list)
    for channel in channels:
        if channel.platform in bot.adapters.by_platform:
            by_language[channel.language].append(channel)
    reached = 0
    for language, members in by_language.items():
        text = await _announcement_in(bot, practice, city, topics, language, members[0].fallback_language)
        for channel in members:
            try:
                await bot.post(channel_ref(channel), text, language)
                reached += 1
            except DeliveryError as error:
                log.warning("announcement of practice %s not delivered to %s: %s", practice_id,
                            channel.channel_id, error.reason)
    return reached


async def _announcement_in(bot: Bot, practice: Practice, city: City, topics: list[str], language: str,
                           fallback: str | None) -> str:
    """The announcement in `language`: our own words from the catalog where we have them, the title
    as written, in English, or translated; a language we have no words for gets the English
    announcement translated whole. At most one translation request."""
    translator = bot.service(Translator)  # type: ignore[type-abstract]
    base = base_language(language)
    english_title = practice.title_en or practice.title
    if base in available_locales():
        if base == base_language(practice.language):
            title = practice.title
        elif base == "en":
            title = english_title
        else:
            [result] = await translator.translate([practice.title], language, fallback=fallback)
            title = result.text if result.translated else english_title
        return render(announcement(practice, city, topics, title), base)
    english = render(announcement(practice, city, topics, english_title), "en")
    if base == base_language(practice.language):
        # Their own language: our words in English would be translated, the title need not be.
        english = render(announcement(practice, city, topics, practice.title), "en")
    [result] = await translator.translate([english], language, fallback=fallback)
    return result.text
