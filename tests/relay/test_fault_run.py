"""A small fault run (the full one is `benchmarks/fault_run.py`): DeepL and the platform fail at
random, the bot dies with a post accepted by the platform but not yet written down, another bot
takes over the same database — and every message still reaches every channel of its group
exactly once, translated or with the note, nowhere else, without loops."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.events import Author, ChannelRef, MessagePosted, PersonRef
from bot.i18n import available_locales
from bot.outbound import DeliveryError, Outgoing
from bot.relay.outbox import Outbox
from bot.translation import NotTranslated
from bot.translation.notes import note_for
from storage.models import OutboxItem
from tests.fakes.fake_deepl import FakeDeepL, fast_deepl_client
from tests.relay.conftest import RecordingConsole, start_harness

GROUPS = {
    "anti-rumours": {"rumours-en": "en", "rumeurs-fr": "fr", "rumores-es": "es", "chutky-uk": "uk",
                     "dicerie-it": "it"},
    "welcoming-newcomers": {"welcome-en": "en", "accueil-fr": "fr", "willkommen-de": "de", "acolhimento-pt": "pt"},
}
LINES = {
    "en": "Good morning everyone, we are starting a new campaign with the schools of our city",
    "fr": "Bonjour à tous, nous lançons une nouvelle campagne avec les écoles de la ville",
    "es": "Buenos días a todos, empezamos una nueva campaña con las escuelas de la ciudad",
    "uk": "Доброго ранку всім, ми починаємо нову кампанію зі школами нашого міста",
    "it": "Buongiorno a tutti, iniziamo una nuova campagna con le scuole della nostra città",
    "de": "Guten Morgen zusammen, wir starten eine neue Kampagne mit den Schulen unserer Stadt",
    "pt": "Bom dia a todos, vamos começar uma nova campanha com as escolas da nossa cidade",
}
NOTES = {note for reason in NotTranslated for locale in available_locales()
         if (note := note_for(reason, locale, "uk"))}


class FlakyConsole(RecordingConsole):
    """Answers some posts with 429 or 500, at random (seeded); can freeze after one post is
    accepted, like a process that dies before writing it down."""

    def __init__(self, *args: Any, seed: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.random = random.Random(seed)
        self.freeze_after: int | None = None
        self.frozen = asyncio.Event()
        self.frozen_key: str | None = None

    async def post(self, channel: ChannelRef, message: Outgoing) -> str:
        roll = self.random.random()
        if roll < 0.12:
            raise DeliveryError("rate limited", retry_after=1.5)
        if roll < 0.2:
            raise DeliveryError("server error 500")
        message_id = await super().post(channel, message)
        if self.freeze_after is not None and len(self.posts()) >= self.freeze_after:
            self.freeze_after = None
            self.frozen_key = message.delivery_key
            self.frozen.set()
            await asyncio.sleep(3600)  # accepted by the platform; the bot dies before recording it
        return message_id


async def test_faults_and_a_crash_leave_every_copy_delivered_exactly_once(
        sqlite_demo_url: str, fake_deepl: FakeDeepL, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_deepl_client(monkeypatch, retries=0, timeout=0.5)  # the injected 1 s hangs must time out
    rng = random.Random(7)
    deepl = {"deepl_auth_key": "test-key:fx", "deepl_server_url": fake_deepl.url}
    sources = [(group, channel, language) for group, channels in GROUPS.items()
               for channel, language in channels.items()]
    messages = [(n, *rng.choice(sources)) for n in range(40)]
    author = Author(PersonRef("console", "local", "marie"), "Marie Dubois")

    async def feed(harness: Any, batch: list[tuple[int, str, str, str]]) -> None:
        for n, _group, channel, language in batch:
            kind = rng.choice(["ok", "ok", "429", "503", "456", "hang"])
            if kind in ("429", "503", "456"):
                fake_deepl.fail_next(int(kind), times=rng.randint(1, 3), path="/v2/translate")
            elif kind == "hang":
                fake_deepl.hang_next(1.0, path="/v2/translate")  # past the client's 0.5 s timeout
            await harness.bot.handle(MessagePosted(ChannelRef("console", "local", channel), f"src-{n}", author,
                                                   f"{LINES[language]} (m{n})", event_id=f"Ev{n}"))
            harness.clock.advance(timedelta(seconds=1))

    first = await start_harness(sqlite_demo_url, adapter_class=FlakyConsole, **deepl)
    first.adapter.freeze_after = 10
    first.bot.service(Outbox).drain_seconds = 0.2
    await feed(first, messages[:20])
    await asyncio.wait_for(first.adapter.frozen.wait(), 10)
    await first.stop()  # the frozen post is cancelled in flight: its lane keeps the lease

    second = await start_harness(sqlite_demo_url, adapter_class=FlakyConsole, first_id=100_000,
                                 calls=first.adapter.calls, clock=first.clock, seed=4, **deepl)
    try:
        await feed(second, messages[10:])  # the first ten again: retries of unacknowledged events
        for _ in range(300):
            await second.bot.scheduler.advance_to(second.clock.now() + timedelta(seconds=5), second.clock,
                                                  settle=second.bot.wait_idle)
            async with second.bot.db.session() as session:
                pending = (await session.exec(select(OutboxItem).where(OutboxItem.state == "pending"))).all()
            if not pending:
                break
        assert pending == []
        # The platform shows each of our copies to the bot too, with and without the bot flag.
        for index, call in enumerate(second.adapter.posts()[:20]):
            assert call.message is not None
            await second.bot.handle(MessagePosted(ChannelRef("console", "local", call.channel), call.message_id,
                                                  author, call.message.text, from_bot=index % 2 == 0,
                                                  event_id=f"echo-{index}"))
        await second.bot.wait_idle()
    finally:
        await second.stop()

    frozen = [call for call in first.adapter.posts() if call.message and
              call.message.delivery_key == first.adapter.frozen_key]
    assert len(frozen) == 1  # found on the platform by the bot that took over, not posted again
    copies = Counter((call.channel, call.message.text.rsplit("(", 1)[-1].rstrip(")"))
                     for call in first.adapter.posts() if call.message)
    expected = {(channel, f"m{n}") for n, group, source, _language in messages
                for channel in GROUPS[group] if channel != source}
    assert set(copies) == expected  # every channel of the group, none outside it, no echo relayed
    assert max(copies.values()) == 1
    for call in first.adapter.posts():
        assert call.message is not None
        translated = call.message.text.startswith("[")
        noted = any(note in (call.message.footnote or "") for note in NOTES)
        assert translated or noted, (call.message.text, call.message.footnote)
    assert any(not call.message.text.startswith("[") for call in first.adapter.posts() if call.message), \
        "some DeepL faults should have left copies untranslated, with the note"
