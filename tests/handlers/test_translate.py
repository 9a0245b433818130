"""On-demand translation in the console: `/icc translate`, flag reactions, the Translate action,
`/icc usage` — with DeepL (the fake) configured, and without a key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.translation import Translator
from bot.translation.engine import DeepLTranslator
from bot.translation.extension import send_quota_alert
from storage.db import Database
from storage.queries import translation as queries
from tests.fakes.fake_deepl import FakeDeepL
from tests.harness import ConsoleHarness

FRENCH = "Bonjour à tous, nous avons lancé la campagne avec les écoles de la ville."


@pytest.fixture
async def deepl_console(sqlite_demo_url: str, fake_deepl: FakeDeepL) -> AsyncIterator[ConsoleHarness]:
    harness = await ConsoleHarness.start(sqlite_demo_url, deepl_auth_key=fake_deepl.auth_key,
                                         deepl_server_url=fake_deepl.url)
    try:
        yield harness
    finally:
        await harness.stop()


def thread_replies(entries: list[str]) -> list[str]:
    return [entry for entry in entries if " ↳ " in entry.split("]")[0]]


async def test_translate_command_answers_only_the_asker(deepl_console: ConsoleHarness) -> None:
    answer = await deepl_console.reply("@olena #chutky-uk /icc translate fr Thanks everyone for the meeting")
    # Olena speaks Ukrainian: the bot's own words are in Ukrainian.
    assert answer == ("[#chutky-uk → @olena] [FR] Thanks everyone for the meeting\n"
                      "_Переклад DeepL: англійська (en) → французька (fr)._")


async def test_translate_command_in_the_askers_language_and_variants(deepl_console: ConsoleHarness,
                                                                    fake_deepl: FakeDeepL) -> None:
    answer = await deepl_console.reply("@marie #rumeurs-fr /icc translate pt-BR Merci pour la réunion d'hier")
    assert answer.startswith("[#rumeurs-fr → @marie] [PT-BR] Merci pour la réunion d'hier\n")
    assert answer.endswith("_Traduit par DeepL (français (fr) → portugais brésilien (pt-BR))._")
    assert fake_deepl.translate_calls[-1].target_lang == "PT-BR"


async def test_translate_command_refuses_a_bad_language_in_the_users_language(deepl_console: ConsoleHarness,
                                                                              fake_deepl: FakeDeepL) -> None:
    answer = await deepl_console.reply("@marie #rumeurs-fr /icc translate xx Bonjour")
    assert answer.startswith("[#rumeurs-fr → @marie] `xx` n'est pas un code de langue")
    missing = await deepl_console.reply("@tom #rumours-en /icc translate fr")
    assert "`text` is missing." in missing and "Usage: `/icc translate <lang> <text>`" in missing
    assert fake_deepl.translate_calls == []


async def test_translate_command_says_when_deepl_lacks_the_language(deepl_console: ConsoleHarness) -> None:
    answer = await deepl_console.reply("@tom #rumours-en /icc translate hr Good morning everyone")
    assert answer == "[#rumours-en → @tom] DeepL does not translate into Croatian (hr)."
    same = await deepl_console.reply("@tom #rumours-en /icc translate en Good morning everyone, see you soon")
    assert same == "[#rumours-en → @tom] That text is already in English (en)."


async def test_without_a_key_translation_is_off_and_says_so(sqlite_console: ConsoleHarness) -> None:
    answer = await sqlite_console.reply("@tom #rumours-en /icc translate fr Good morning")
    assert answer == "[#rumours-en → @tom] Translation is off: no DeepL key is configured for this bot."
    usage = await sqlite_console.reply("@alice #rumours-en /icc usage")
    assert "Translation is off" in usage
    assert not sqlite_console.bot.service(Translator).enabled  # type: ignore[type-abstract]


async def test_a_flag_reaction_posts_the_translation_once_in_the_thread(deepl_console: ConsoleHarness,
                                                                       fake_deepl: FakeDeepL) -> None:
    await deepl_console.say(f"@marie #rumeurs-fr {FRENCH}")
    relayed = len(fake_deepl.translate_calls)  # the relay's own translations, if it is running
    entries = await deepl_console.say("@olena #rumeurs-fr +flag-ua ^")
    assert thread_replies(entries) == [f"[#rumeurs-fr ↳ m1] ICC bot: [UK] {FRENCH}\n"
                                       "(Переклад DeepL: французька (fr) → українська (uk))"]
    assert await deepl_console.say("@tom #rumeurs-fr +flag-ua m1") == []  # already there
    assert await deepl_console.say("@tom #rumeurs-fr +🇺🇦 m1") == []
    gb = await deepl_console.say("@tom #rumeurs-fr +🇬🇧 m1")
    us = await deepl_console.say("@tom #rumeurs-fr +flag-us m1")
    assert [entry.split("\n")[0] for entry in thread_replies(gb + us)] == [
        f"[#rumeurs-fr ↳ m1] ICC bot: [EN-GB] {FRENCH}", f"[#rumeurs-fr ↳ m1] ICC bot: [EN-US] {FRENCH}"]
    assert await deepl_console.say("@tom #rumeurs-fr +thumbsup m1") == []  # not a flag
    # With the relay running, Ukrainian and British English come from its cache: only American
    # English is new.
    assert [call.target_lang for call in fake_deepl.translate_calls[relayed:]] == (
        ["EN-US"] if relayed else ["UK", "EN-GB", "EN-US"])


async def test_a_flag_for_the_messages_own_language_tells_only_the_reactor(deepl_console: ConsoleHarness) -> None:
    await deepl_console.say(f"@marie #rumeurs-fr {FRENCH}")
    entries = await deepl_console.say("@hugo #rumeurs-fr +flag-fr ^")
    assert entries == ["[#rumeurs-fr → @hugo] Ce texte est déjà en français (fr)."]


async def test_a_failed_flag_translation_can_be_asked_again(deepl_console: ConsoleHarness,
                                                           fake_deepl: FakeDeepL) -> None:
    await deepl_console.say(f"@marie #rumeurs-fr {FRENCH}")
    fake_deepl.fail_next(503, path="/v2/translate")
    failed = await deepl_console.say("@tom #rumeurs-fr +flag-de ^")
    assert failed == ["[#rumeurs-fr → @tom] DeepL is not answering right now. Please try again in a few minutes."]
    retried = await deepl_console.say("@tom #rumeurs-fr +flag-de ^")
    assert thread_replies(retried)[0].startswith(f"[#rumeurs-fr ↳ m1] ICC bot: [DE] {FRENCH}")


async def test_the_translate_action_answers_in_the_requesters_language(deepl_console: ConsoleHarness) -> None:
    await deepl_console.say(f"@marie #rumeurs-fr {FRENCH}")
    olena = await deepl_console.say("@olena #rumeurs-fr !translate ^")
    assert olena[0].startswith(f"[#rumeurs-fr → @olena] [UK] {FRENCH}")
    jonas = await deepl_console.say("@jonas #rumeurs-fr !translate m1")  # Jonas reads German
    assert jonas[0].startswith(f"[#rumeurs-fr → @jonas] [DE] {FRENCH}")


async def test_usage_shows_deepl_count_and_savings(deepl_console: ConsoleHarness, fake_deepl: FakeDeepL) -> None:
    await deepl_console.say("@olena #chutky-uk /icc translate fr Thanks everyone for the meeting",
                            "@tom #chutky-uk /icc translate fr Thanks everyone for the meeting",
                            "@olena #chutky-uk /icc translate en Thanks everyone for the meeting")
    billed = fake_deepl.billed_characters
    assert billed == len("Thanks everyone for the meeting")
    answer = await deepl_console.reply("@alice #rumours-en /icc usage")
    assert f"DeepL: {billed} of 500,000 characters used in this billing period (0.0%)." in answer
    assert (f"This month: {billed} characters sent to DeepL; saved {billed} by the cache and {billed} by "
            "skipping texts already in the right language.") in answer
    refused = await deepl_console.reply("@marie #rumeurs-fr /icc usage")
    assert refused == "[#rumeurs-fr → @marie] Seule l'équipe ICC peut faire cela."


async def test_the_quota_alert_reaches_the_icc_team_once_a_day(deepl_console: ConsoleHarness,
                                                             fake_deepl: FakeDeepL) -> None:
    fake_deepl.fail_next(456, times=3, path="/v2/translate")
    entries = await deepl_console.say("@tom #rumours-en /icc translate fr Good morning to the whole group",
                                      "@tom #rumours-en /icc translate de Good morning to the whole group")
    assert entries[0] == ("[#rumours-en → @tom] This month's DeepL quota is used up, so I cannot translate until "
                          "it renews.")
    dms = [entry for entry in entries if entry.startswith("[@")]
    assert sorted(dm.split("]")[0] for dm in dms) == ["[@alice", "[@hugo"]
    assert any(dm.startswith("[@hugo] Le quota") for dm in dms)
    deepl_console.clock.advance(timedelta(days=1))
    again = await deepl_console.say("@tom #rumours-en /icc translate it Good morning to the whole group")
    assert len([entry for entry in again if entry.startswith("[@")]) == 2


async def test_one_quota_alert_a_day_across_processes(demo_database_url: str) -> None:
    """Two bot processes noticing the quota at once: the database lets one of them send the alert."""
    import asyncio

    from tests.harness import START

    engines = [Database(demo_database_url), Database(demo_database_url)]
    try:
        async def claim(database: Database) -> bool:
            async with database.session() as session:
                return await queries.claim_quota_alert(session, START.date(), START)

        results = await asyncio.gather(*(claim(database) for database in engines * 3))
        assert sorted(results) == [False] * 5 + [True]
    finally:
        for database in engines:
            await database.dispose()


async def test_the_alert_is_not_repeated_after_a_restart(deepl_console: ConsoleHarness) -> None:
    assert await send_quota_alert(deepl_console.bot)
    assert not await send_quota_alert(deepl_console.bot)
    translator = deepl_console.bot.service(Translator)  # type: ignore[type-abstract]
    assert isinstance(translator, DeepLTranslator)


async def test_a_flag_on_a_relayed_copy_reuses_the_relays_translation(deepl_console: ConsoleHarness,
                                                                     fake_deepl: FakeDeepL) -> None:
    text = "La réunion des Cités interculturelles aura lieu jeudi à Lyon, merci de confirmer votre présence."
    await deepl_console.say(f"@marie #rumeurs-fr {text}")
    relayed = [(call.target_lang, call.source_lang) for call in fake_deepl.translate_calls]
    assert ("UK", "FR") in relayed  # the relay's translation, made with the glossary
    entries = await deepl_console.say("@tom #rumours-en +flag-ua ^")  # on the English copy
    [reply] = thread_replies(entries)
    assert "[UK] La réunion des Інтеркультурні міста aura lieu" in reply
    assert len(fake_deepl.translate_calls) == len(relayed)  # nothing paid twice
