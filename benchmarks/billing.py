"""What a day of group traffic costs in DeepL characters, against the least it could cost.

Runs the whole bot on the console (demo network, SQLite file) with the DeepL translator talking
to the fake DeepL on loopback, adds channels so that several share a language (two English, two
French, two Spanish channels in Anti-rumours; European and Brazilian Portuguese in Welcoming
newcomers; a Croatian channel whose fallback is English), and replays a scripted day: people
writing in their channel's language, some writing English in a non-English channel, the same
reminders and thank-yous again and again, messages of only a link or an emoji, a few edits.
The relay fans each message out (one translation request per target language); when the relay
is not part of the bot, the script makes the same calls itself (`--direct`).

    .venv/bin/python benchmarks/billing.py [--messages 240] [--seed 7] [--direct]

The minimum: each distinct text (each line DeepL gets, as the bot sends it) once per target
language other than its own — the languages of the channels it goes to, a channel's fallback
where DeepL lacks its language, same-language channels costing nothing. Prints the characters
billed, the minimum, their ratio, and what translating per channel (no cache, no skipping)
would have cost. Exits 1 when the ratio is not 1.00 or a message was not translated where
it should have been.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import select

import bot.core
from bot.app import create_bot
from bot.clock import ManualClock
from bot.demo import load_demo
from bot.platforms.console import ConsoleAdapter
from bot.settings import Settings
from bot.translation import Translator
from bot.translation.codes import deepl_target, same_language
from bot.translation.engine import DeepLTranslator
from bot.translation.markup import encode
from storage.models import Channel, Group, Person
from tests.fakes.fake_deepl import TARGET_LANGUAGES, FakeDeepL

START = datetime(2027, 3, 16, 7, 0, tzinfo=UTC)  # a Tuesday
EXTRA_CHANNELS = {  # group slug → {channel: (language, fallback)}
    "anti-rumours": {"rumours-en-2": ("en", None), "rumeurs-fr-2": ("fr", None), "rumores-es-2": ("es", None),
                     "glasine-hr": ("hr", "en")},
    "welcoming-newcomers": {"acolhimento-br": ("pt-BR", None)},
}
AUTHORS = {"en": "tom", "fr": "marie", "es": "lucia", "uk": "olena", "it": "marco", "de": "jonas", "pt": "joana",
           "pt-BR": "joana", "hr": "ivana"}

LINES: dict[str, list[str]] = {
    "en": ["Thanks for sharing the toolkit, we will use it with our volunteers next month.",
           "Could someone send me the slides from yesterday's session on public spaces?",
           "Our city council approved the new welcome strategy this morning.",
           "Has anyone evaluated the impact of their anti-rumour training on local media?",
           "The next study visit will take place in Oslo at the end of May.",
           "We are looking for partners for a joint campaign on **World Refugee Day**.",
           "Here is the report: https://rm.coe.int/icc-report-2026 (see chapter 3)",
           "Good morning everyone, I hope the week started well for all of you."],
    "fr": ["Merci pour la boîte à outils, nous l'utiliserons avec nos bénévoles le mois prochain.",
           "Quelqu'un pourrait-il m'envoyer les diapositives de la séance d'hier sur les espaces publics ?",
           "Le conseil municipal a approuvé ce matin la nouvelle stratégie d'accueil.",
           "Nous cherchons des partenaires pour une campagne commune pour la **Journée mondiale des réfugiés**.",
           "Bonjour à toutes et à tous, j'espère que la semaine a bien commencé pour vous.",
           "La prochaine visite d'étude aura lieu à Lyon fin mai, les inscriptions sont ouvertes.",
           "Voici notre guide des médiateurs interculturels : https://www.lyon.fr/guide-mediation"],
    "es": ["Gracias por compartir la guía, la usaremos con nuestros voluntarios el mes que viene.",
           "¿Alguien puede enviarme las diapositivas de la sesión de ayer sobre espacios públicos?",
           "El ayuntamiento aprobó esta mañana la nueva estrategia de acogida.",
           "Buenos días a todos, espero que la semana haya empezado bien."],
    "uk": ["Дякуємо за посібник, наступного місяця ми використаємо його з нашими волонтерами.",
           "Чи може хтось надіслати мені слайди з учорашньої сесії про громадські простори?",
           "Міська рада сьогодні вранці затвердила нову стратегію прийому."],
    "it": ["Grazie per aver condiviso il kit, lo useremo con i nostri volontari il mese prossimo.",
           "Qualcuno può mandarmi le slide della sessione di ieri sugli spazi pubblici?",
           "Il consiglio comunale ha approvato stamattina la nuova strategia di accoglienza."],
    "de": ["Danke für den Leitfaden, wir werden ihn nächsten Monat mit unseren Freiwilligen nutzen.",
           "Kann mir jemand die Folien der gestrigen Sitzung über öffentliche Räume schicken?",
           "Der Stadtrat hat heute Morgen die neue Willkommensstrategie beschlossen."],
    "pt": ["Obrigada por partilharem o guia, vamos usá-lo com os nossos voluntários no próximo mês.",
           "Alguém me pode enviar os diapositivos da sessão de ontem sobre espaços públicos?",
           "A câmara municipal aprovou esta manhã a nova estratégia de acolhimento."],
    "pt-BR": ["Obrigado por compartilhar o guia, vamos usá-lo com nossos voluntários no mês que vem.",
              "Alguém pode me mandar os slides da sessão de ontem sobre espaços públicos?"],
}
# DeepL cannot translate from Croatian: the Croatian channel's members write in its fallback, English.
WRITES_IN = {"hr": "en"}
THANKS = {"en": "Thanks!", "fr": "Merci !", "es": "¡Gracias!", "uk": "Дякую!", "it": "Grazie!", "de": "Danke!",
          "pt": "Obrigada!", "pt-BR": "Muito obrigado!"}
REMINDERS = {  # posted by the ICC team, in a channel of that language, several times a day
    "en": "Reminder: the annual survey closes on Friday 20 March. Please send your answers before then.",
    "fr": "Rappel : le questionnaire annuel ferme le vendredi 20 mars. Merci d'envoyer vos réponses avant.",
}
NOTHING_TO_TRANSLATE = ["👍", "🎉🎉", "https://www.coe.int/en/web/interculturalcities", "@Ana 👍"]
EDITS = {"en": "Thanks for sharing the toolkit, we will use it with our volunteers and the schools next month.",
         "fr": "Le conseil municipal a approuvé ce matin la nouvelle stratégie d'accueil, à l'unanimité."}


@dataclass(frozen=True)
class Post:
    channel: str
    author: str
    text: str
    language: str  # what the text is really in
    edit_of_previous: bool = False


@dataclass(frozen=True)
class Link:
    channel: str
    language: str
    fallback: str | None
    group: str


def script(count: int, seed: int, links: list[Link]) -> list[Post]:
    rng = random.Random(seed)
    posts: list[Post] = []
    by_group: dict[str, list[Link]] = {}
    for link in links:
        by_group.setdefault(link.group, []).append(link)
    for index in range(count):
        if index % 40 == 5:  # the ICC team's reminders, repeated through the day
            language = rng.choice(sorted(REMINDERS))
            channel = {"en": rng.choice(["rumours-en", "welcome-en"]), "fr": rng.choice(["rumeurs-fr", "accueil-fr"])}
            posts.append(Post(channel[language], "alice" if language == "en" else "hugo", REMINDERS[language],
                              language))
            continue
        group = rng.choice(sorted(by_group))
        link = rng.choice(by_group[group])
        author = AUTHORS.get(link.language, "tom")
        language = WRITES_IN.get(link.language, link.language)
        roll = rng.random()
        if roll < 0.12 and language != "en":
            posts.append(Post(link.channel, author, rng.choice(LINES["en"]), "en"))  # English in another channel
        elif roll < 0.30:
            posts.append(Post(link.channel, author, THANKS[language], language))
        elif roll < 0.35:
            posts.append(Post(link.channel, author, rng.choice(NOTHING_TO_TRANSLATE), ""))
        elif roll < 0.37 and language in EDITS:
            posts.append(Post(link.channel, author, rng.choice(LINES[language]), language))
            posts.append(Post(link.channel, author, EDITS[language], language, edit_of_previous=True))
        else:
            posts.append(Post(link.channel, author, rng.choice(LINES[language]), language))
    return posts


def effective_target(link: Link) -> str | None:
    """The DeepL target a channel gets: its language, else its fallback, else none."""
    for language in (link.language, link.fallback):
        if language and deepl_target(language, TARGET_LANGUAGES):
            return deepl_target(language, TARGET_LANGUAGES)
    return None


def costs(posts: list[Post], links: list[Link]) -> tuple[int, int, list[tuple[str, str]]]:
    """(minimum, per-channel cost, the (text, target) pairs that must come back translated)."""
    by_channel = {link.channel: link for link in links}
    needed: set[tuple[str, str]] = set()
    per_channel = 0
    must_translate: list[tuple[str, str]] = []
    for post in posts:
        source = by_channel[post.channel]
        segments = encode(post.text).segments
        for link in links:
            if link.group != source.group or link.channel == post.channel:
                continue
            per_channel += sum(len(segment.xml) for segment in segments)
            target = effective_target(link)
            if target is None or not post.language or same_language(post.language, target):
                continue

            must_translate.append((post.text, link.channel))
            for segment in segments:
                needed.add((segment.xml, target))
    return sum(len(xml) for xml, _target in needed), per_channel, must_translate


async def run(count: int, seed: int, direct: bool) -> int:
    relay_running = "bot.relay.extension" in bot.core.EXTENSIONS and not direct
    with tempfile.TemporaryDirectory(prefix="icc-billing-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'billing.db'}"
        async with FakeDeepL("bench-key:fx", character_limit=10_000_000) as fake:
            settings = Settings(_env_file=None, database_url=url, deepl_auth_key="bench-key:fx",
                                deepl_server_url=fake.url)
            clock = ManualClock(START)
            the_bot = await create_bot(settings, database_url=url, clock=clock)
            output = io.StringIO()
            adapter = ConsoleAdapter(output)
            async with the_bot.db.session() as session:
                await load_demo(session, clock.now())
                groups = {group.slug: group for group in await session.exec(select(Group))}
                for slug, channels in EXTRA_CHANNELS.items():
                    for name, (language, fallback) in channels.items():
                        session.add(Channel(platform="console", workspace="local", channel_id=name, name=name,
                                            language=language, fallback_language=fallback,
                                            group_id=groups[slug].id, linked_at=clock.now()))
                session.add(Person(platform="console", workspace="local", user_id="ivana", display_name="Ivana Horvat",
                                   language="hr", created_at=clock.now()))
            async with the_bot.db.session() as session:
                rows = (await session.exec(select(Channel).where(Channel.group_id.is_not(None)))).all()  # type: ignore[union-attr]
                slugs = {group.id: slug for slug, group in groups.items()}
                links = [Link(row.channel_id, row.language, row.fallback_language, slugs[row.group_id])
                         for row in rows if row.group_id in slugs]
            the_bot.add_adapter(adapter)
            await the_bot.start(run_scheduler=False)
            translator = the_bot.service(Translator)  # type: ignore[type-abstract]
            assert isinstance(translator, DeepLTranslator)
            posts = script(count, seed, links)
            try:
                for post in posts:
                    await clock_step(the_bot, clock)
                    if relay_running:
                        verb = f"!edit ^ {post.text}" if post.edit_of_previous else post.text
                        await adapter.feed(f"@{post.author} #{post.channel} {verb}")
                        await the_bot.wait_idle()
                    else:
                        await translate_like_the_relay(translator, post, links)
                await translator.flush()
                billed = fake.billed_characters
                requests = len(fake.translate_calls)
            finally:
                await the_bot.stop()
                await the_bot.db.dispose()
    minimum, per_channel, must_translate = costs(posts, links)
    missing = untranslated(output.getvalue(), must_translate) if relay_running else []
    ratio = billed / minimum if minimum else float("inf")
    print(f"traffic: {len(posts)} messages ({len({p.text for p in posts})} distinct texts) in "
          f"{len(links)} channels of {len({link.group for link in links})} groups, through "
          + ("the relay" if relay_running else "direct translate calls, as the relay makes them"))
    print(f"DeepL requests: {requests}")
    print(f"characters billed: {billed}")
    print(f"minimum (each distinct text once per target language other than its own): {minimum}")
    print(f"ratio: {ratio:.2f} ({billed - minimum:+d} characters; a short line in another language than its "
          "channel's is too short to recognise and goes to DeepL, which may find it needs no translation)")
    print(f"translating per channel (no cache, no same-language skip) would bill: {per_channel} "
          f"— saved {per_channel - billed} characters ({(per_channel - billed) / per_channel:.0%})")
    if missing:
        print(f"FAIL: {len(missing)} copies came out untranslated, e.g. {missing[:3]}")
    if f"{ratio:.2f}" != "1.00":
        print("FAIL: the ratio is not 1.00")
    return 0 if f"{ratio:.2f}" == "1.00" and not missing else 1


async def clock_step(the_bot: bot.core.Bot, clock: ManualClock) -> None:
    """About four minutes between messages: a working day for 240 of them; due jobs run."""
    await the_bot.scheduler.advance_to(clock.now() + timedelta(minutes=4), clock, settle=the_bot.wait_idle)


async def translate_like_the_relay(translator: DeepLTranslator, post: Post, links: list[Link]) -> None:
    """One call per (language, formality, fallback) of the destinations, all at once."""
    by_channel = {link.channel: link for link in links}
    source = by_channel[post.channel]
    keys = {(link.language, link.fallback) for link in links
            if link.group == source.group and link.channel != post.channel}
    await asyncio.gather(*(translator.translate([post.text], language, fallback=fallback,
                                                likely_source=source.language) for language, fallback in keys))


def untranslated(output: str, must_translate: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Copies that should carry a translation but show the original text."""
    missing = []
    lines = output.splitlines()
    for text, channel in must_translate:
        if any(line.startswith(f"[#{channel}]") and line.endswith(f": {text}") for line in lines):
            missing.append((text[:40], channel))
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=240)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--direct", action="store_true", help="call the translator as the relay would, without it")
    args = parser.parse_args()
    return asyncio.run(run(args.messages, args.seed, args.direct))


if __name__ == "__main__":
    sys.exit(main())
