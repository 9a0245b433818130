"""Wiring DeepL into the bot: with `DEEPL_AUTH_KEY` the DeepL translator replaces `Untranslated`.

Also here: the counters' periodic write, and the out-of-quota alert — one a day to every member of
the ICC team, by DM in their language, whichever process notices first (the database decides).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.core import Bot, freeze_startup_objects
from bot.events import PersonRef
from bot.i18n import _, resolve_locale
from bot.translation import Translator
from bot.translation.engine import DeepLTranslator, configure_client_retries
from storage.models import Person
from storage.queries import registry
from storage.queries import translation as queries

log = logging.getLogger(__name__)


def setup(bot: Bot) -> None:
    settings = bot.settings
    if not settings.deepl_configured or settings.deepl_auth_key is None:
        return  # `Untranslated` stays: the bot relays untranslated and says so
    configure_client_retries()

    async def on_quota() -> None:
        bot.spawn(send_quota_alert(bot), name="deepl-quota-alert")

    translator = DeepLTranslator(settings.deepl_auth_key.get_secret_value(), server_url=settings.deepl_server_url,
                                 db=bot.db, clock=bot.clock, on_quota=on_quota,
                                 max_workers=settings.deepl_max_workers)
    bot.provide(Translator, translator)  # type: ignore[type-abstract]
    bot.scheduler.add(UsageWriter(translator), every=UsageWriter.every)
    bot.on_stop(translator.close)
    bot.spawn(warm_up(translator), name="language-detector")


async def warm_up(translator: DeepLTranslator) -> None:
    loading = not translator.detector.loaded  # the model is loaded once per process
    await translator.warm_up()
    if loading and translator.detector.loaded:
        freeze_startup_objects()  # it lives as long as the process


class UsageWriter:
    """Writes the translator's pending counters to the database, at most once a minute."""

    name = "translation-usage"
    every = timedelta(minutes=1)

    def __init__(self, translator: DeepLTranslator) -> None:
        self.translator = translator
        self.last_run: datetime | None = None

    async def run(self, now: datetime) -> None:
        self.last_run = now
        await self.translator.flush()

    async def next_due(self, now: datetime) -> datetime | None:
        if self.translator.counters.empty:
            return None
        return now if self.last_run is None else max(now, self.last_run + self.every)


async def send_quota_alert(bot: Bot) -> bool:
    """DM the ICC team that DeepL's quota is used up, unless that was done today. True when sent."""
    now = bot.clock.now()
    async with bot.db.session() as session:
        if not await queries.claim_quota_alert(session, now.date(), now):
            return False
        team = {person.id: person for person in await registry.icc_team(session)}
        for admin in bot.settings.admins:
            person = await registry.find_person(session, admin.platform, admin.user)
            if person is not None:
                team[person.id] = person
    sent = 0
    for person in team.values():
        if await _dm(bot, person):
            sent += 1
    log.warning("DeepL quota exceeded: alerted %d of %d ICC team members", sent, len(team))
    return True


async def _dm(bot: Bot, person: Person) -> bool:
    if bot.adapters.get(person.platform) is None:
        return False
    locale = resolve_locale([person.language, person.platform_locale])
    text = _("DeepL's translation quota for this month is used up. Messages are relayed in their original "
             "language with a short note until it renews or the plan is raised. `/icc usage` shows the figures.")
    try:
        await bot.send_dm(PersonRef(person.platform, person.workspace, person.user_id), text, locale)
    except Exception:
        log.exception("could not tell %s:%s about the DeepL quota", person.platform, person.user_id)
        return False
    return True
