"""Once a city has answered, the reminders it was sent in channels lose their buttons and say
who answered — whichever way it answered (a reminder's button, the home page, the command)."""

from __future__ import annotations

import logging

from sqlmodel import col, select

from bot.core import Bot, channel_ref
from bot.deadlines.render import Localizer, catalog_locale
from bot.i18n import DEFAULT_LOCALE, Message, render
from bot.outbound import Outgoing
from bot.translation import Translator
from storage.models import Channel
from storage.queries import deadlines as queries

log = logging.getLogger(__name__)


async def posted_in_channels(bot: Bot, deadline_id: int, city_id: int) -> list[tuple[Channel, str]]:
    """The (channel, message id) of each reminder of the deadline posted in a channel for the city."""
    async with bot.db.session() as session:
        pairs: list[tuple[int, str]] = []
        for row in await queries.reminders_of(session, deadline_id, city_id):
            keys = [key for key in row.sent_to.split(",") if key]
            ids = row.message_ids.split(",") if keys else []
            if len(ids) != len(keys):
                continue  # not recorded one id per destination: nothing safe to edit
            pairs += [(int(key.removeprefix("channel:")), message_id) for key, message_id in zip(keys, ids, strict=True)
                      if key.startswith("channel:") and message_id]
        channels = {channel.id: channel for channel in await session.exec(
            select(Channel).where(col(Channel.id).in_({channel_id for channel_id, _id in pairs})))}
    return [(channels[channel_id], message_id) for channel_id, message_id in pairs if channel_id in channels]


async def close_reminders(bot: Bot, deadline_id: int, city_id: int, note: Message) -> set[str]:
    """Edit the city's reminders of the deadline: the same text, `note` (in the channel's
    language) below it, no buttons. Returns the ids of the messages edited. A message that can no
    longer be read or edited is left as it is: the answer is recorded all the same."""
    closed: set[str] = set()
    posted = await posted_in_channels(bot, deadline_id, city_id)
    # Languages without a catalog get the English note machine-translated, as the reminders were.
    localizer = Localizer(bot.service(Translator))  # type: ignore[type-abstract]
    english = render(note, DEFAULT_LOCALE)
    for language in {channel.language for channel, _id in posted if catalog_locale(channel.language) is None}:
        await localizer.prepare(language, [english], source=DEFAULT_LOCALE)
    for channel, message_id in posted:
        adapter = bot.adapters.get(channel.platform)
        if adapter is None:
            continue
        ref = channel_ref(channel)
        try:
            text = await adapter.fetch_message_text(ref, message_id)
            if text is None:
                continue
            locale = catalog_locale(channel.language)
            said = render(note, locale) if locale else localizer.get(channel.language, english, source=DEFAULT_LOCALE)
            await adapter.edit(ref, message_id, Outgoing(f"{text}\n{said}", kind="reminder"))
            closed.add(message_id)
        except Exception:  # one message that cannot be edited must not keep the others
            log.warning("could not close reminder message %s in %s", message_id, ref, exc_info=True)
    return closed
