"""The DeepL translator against the fake DeepL: requests, cache, detection, glossary, fallback."""

from __future__ import annotations

import asyncio

import pytest

from bot.translation import NotTranslated
from bot.translation.engine import MAX_TEXTS_PER_REQUEST, DeepLTranslator
from storage.queries import translation as queries
from tests.fakes.fake_deepl import FakeDeepL
from tests.translation.conftest import TranslatorFactory

FRENCH = "Bonjour à tous, nous avons lancé la campagne anti-rumeurs avec les écoles de Lyon."
ENGLISH = "Thanks everyone, the report for the annual survey is due next Friday."


async def test_several_texts_go_in_one_request_per_language(translator: DeepLTranslator,
                                                            fake_deepl: FakeDeepL) -> None:
    texts = [FRENCH, "Merci pour la réunion d'hier, à bientôt !", "Une ligne\net une autre ligne"]
    english = await translator.translate(texts, "en")
    ukrainian = await translator.translate(texts, "uk")
    assert [t.text for t in english] == ["[EN-GB] " + texts[0], "[EN-GB] " + texts[1],
                                         "[EN-GB] Une ligne\n[EN-GB] et une autre ligne"]
    assert all(t.translated and t.target_language == "en" and t.source_language == "fr" for t in english)
    assert ukrainian[0].text == "[UK] " + FRENCH
    calls = fake_deepl.translate_calls
    assert [(call.target_lang, len(call.texts)) for call in calls] == [("EN-GB", 4), ("UK", 4)]
    assert all(call.tag_handling == "xml" and call.ignore_tags == ["x"] for call in calls)


async def test_a_large_batch_is_split_within_deepl_limits(translator: DeepLTranslator, fake_deepl: FakeDeepL) -> None:
    texts = [f"Message numéro {n} pour le groupe, merci de répondre" for n in range(MAX_TEXTS_PER_REQUEST + 5)]
    results = await translator.translate(texts, "de")
    assert all(result.translated for result in results)
    # The two requests may go out together and arrive in either order.
    assert sorted(len(call.texts) for call in fake_deepl.translate_calls) == [5, MAX_TEXTS_PER_REQUEST]
    assert all(call.status == 200 for call in fake_deepl.translate_calls)


async def test_the_same_text_is_paid_for_once_even_after_a_restart(translator_factory: TranslatorFactory,
                                                                    fake_deepl: FakeDeepL) -> None:
    first = translator_factory()
    [translated] = await first.translate([FRENCH], "en")
    billed = fake_deepl.billed_characters
    [again] = await first.translate([FRENCH], "en")
    assert again.text == translated.text and again.from_cache and not translated.from_cache
    await first.close()
    restarted = translator_factory()  # a new process on the same database
    [after_restart] = await restarted.translate([FRENCH], "en")
    assert after_restart.text == translated.text and after_restart.from_cache
    assert len(fake_deepl.translate_calls) == 1 and fake_deepl.billed_characters == billed
    await restarted.flush()
    async with restarted.db.session() as session:
        totals = await queries.usage_between(session, restarted.clock.now().date(), restarted.clock.now().date())
    assert totals.billed_characters == billed and totals.requests == 1
    assert totals.saved_by_cache == 2 * billed


async def test_identical_concurrent_requests_make_one_call(translator_factory: TranslatorFactory,
                                                          fake_deepl: FakeDeepL) -> None:
    translator = translator_factory()
    fake_deepl.set_latency(0.2, "/v2/translate")
    await translator.translate(["Réchauffement"], "de")  # languages and detector ready
    results = await asyncio.gather(*(translator.translate([FRENCH], "en") for _ in range(5)))
    assert {result[0].text for result in results} == {"[EN-GB] " + FRENCH}
    assert [call.target_lang for call in fake_deepl.translate_calls] == ["DE", "EN-GB"]
    assert sum(not result[0].from_cache for result in results) == 1


async def test_text_already_in_the_target_language_is_not_sent(translator: DeepLTranslator,
                                                               fake_deepl: FakeDeepL) -> None:
    [same] = await translator.translate([FRENCH], "fr")
    assert same.not_translated is NotTranslated.SAME_LANGUAGE and same.text == FRENCH
    assert same.source_language == "fr"
    assert fake_deepl.translate_calls == []
    assert translator.counters.saved_by_skip == len(FRENCH)


async def test_channel_language_decides_when_the_guess_is_unsure(translator: DeepLTranslator,
                                                                 fake_deepl: FakeDeepL) -> None:
    # "ok merci" is too short to be sure of: in the French channel it is French.
    [short] = await translator.translate(["ok merci"], "fr", likely_source="fr")
    assert short.not_translated is NotTranslated.SAME_LANGUAGE
    # English written in the French channel is confidently English: the French channels get it translated.
    [english] = await translator.translate([ENGLISH], "fr", likely_source="fr")
    [skipped] = await translator.translate([ENGLISH], "en", likely_source="fr")
    assert english.translated and english.text == "[FR] " + ENGLISH
    assert skipped.not_translated is NotTranslated.SAME_LANGUAGE
    assert [call.target_lang for call in fake_deepl.translate_calls] == ["FR"]
    assert fake_deepl.translate_calls[0].source_lang is None  # the guess disagrees with the channel: DeepL detects


async def test_deepl_has_the_last_word_on_the_source(translator: DeepLTranslator, fake_deepl: FakeDeepL) -> None:
    fake_deepl.detect_override = "DE"
    [result] = await translator.translate(["Team Meeting Kick-off 2027"], "de")
    assert result.not_translated is NotTranslated.SAME_LANGUAGE
    assert result.text == "Team Meeting Kick-off 2027" and result.source_language == "de"


async def test_mentions_links_code_and_emoji_come_back_exactly(translator: DeepLTranslator,
                                                               fake_deepl: FakeDeepL) -> None:
    text = ("Merci @Marie pour le [rapport](https://coe.int/r?a=1&b=2) 🎉 :tada:\n"
            "> voir `make <test>` & #rumeurs-fr\n```\nx < y && z\n```")
    [result] = await translator.translate([text], "en", likely_source="fr")
    assert result.text == ("[EN-GB] Merci @Marie pour le [rapport](https://coe.int/r?a=1&b=2) 🎉 :tada:\n"
                           "> [EN-GB] voir `make <test>` & #rumeurs-fr\n```\nx < y && z\n```")
    [call] = fake_deepl.translate_calls
    assert "x &lt; y" not in "".join(call.texts) and "https://coe.int" not in "".join(call.texts)


async def test_the_glossary_is_used_only_when_the_source_is_known(translator: DeepLTranslator,
                                                                  fake_deepl: FakeDeepL) -> None:
    text = "Welcome to the Intercultural Cities network, dear colleagues from Lisbon."
    [unknown] = await translator.translate([text], "fr")
    [known] = await translator.translate([text], "fr", source="en")
    [hinted] = await translator.translate([text + " See you soon."], "fr", likely_source="en")
    calls = fake_deepl.translate_calls
    assert calls[0].glossary_id is None and calls[0].source_lang is None
    assert calls[1].glossary_id is not None and calls[1].source_lang == "EN"
    assert calls[2].glossary_id == calls[1].glossary_id  # a confident guess confirming the channel's language
    assert "Cités interculturelles" in known.text and "Cités interculturelles" not in unknown.text
    assert len(fake_deepl.recorded("POST /v2/glossaries")) == 1  # made once, remembered
    assert hinted.translated


async def test_a_lost_glossary_is_made_again(translator_factory: TranslatorFactory, fake_deepl: FakeDeepL) -> None:
    first = translator_factory()
    await first.translate(["The Intercultural Cities meet in Oslo."], "de", source="en")
    fake_deepl.glossaries.clear()  # someone deleted it on the DeepL account
    restarted = translator_factory()
    [result] = await restarted.translate(["The Intercultural Cities meet in Lyon."], "de", source="en")
    assert result.text == "[DE] The Interkulturelle Städte meet in Lyon."
    assert len(fake_deepl.recorded("POST /v2/glossaries")) == 2
    assert [call.status for call in fake_deepl.translate_calls] == [200, 404, 200]


async def test_a_language_deepl_lacks_uses_the_channel_fallback(translator: DeepLTranslator,
                                                                fake_deepl: FakeDeepL) -> None:
    [fallback] = await translator.translate([FRENCH], "hr", fallback="en")
    [unsupported] = await translator.translate([FRENCH], "hr")
    assert fallback.translated and fallback.target_language == "en" and fallback.text == "[EN-GB] " + FRENCH
    assert unsupported.not_translated is NotTranslated.UNSUPPORTED and unsupported.text == FRENCH
    assert [call.target_lang for call in fake_deepl.translate_calls] == ["EN-GB"]
    assert len(fake_deepl.recorded("/v2/languages")) == 2  # targets and sources, asked once


async def test_variants_and_formality(translator: DeepLTranslator, fake_deepl: FakeDeepL) -> None:
    await translator.translate([FRENCH], "pt")
    await translator.translate([FRENCH], "pt-BR", formality="more")
    await translator.translate([FRENCH], "en-US", formality="more")  # English has no formality at DeepL
    await translator.translate([FRENCH], "en", formality="less")
    calls = fake_deepl.translate_calls
    assert [(call.target_lang, call.formality) for call in calls] == [
        ("PT-PT", None), ("PT-BR", "more"), ("EN-US", None), ("EN-GB", None)]
    assert all(call.status == 200 for call in calls)


async def test_429_is_retried_briefly(translator: DeepLTranslator, fake_deepl: FakeDeepL,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes.fake_deepl import fast_deepl_client

    fast_deepl_client(monkeypatch, retries=2, timeout=0.5)
    fake_deepl.fail_next(429, path="/v2/translate")
    [result] = await translator.translate([FRENCH], "en")
    assert result.translated
    assert [call.status for call in fake_deepl.translate_calls] == [429, 200]


async def test_503_exhausted_leaves_the_text_untranslated_quickly(translator: DeepLTranslator,
                                                                  fake_deepl: FakeDeepL,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes.fake_deepl import fast_deepl_client

    fast_deepl_client(monkeypatch, retries=2, timeout=0.5)
    fake_deepl.fail_next(503, times=3, path="/v2/translate")
    loop = asyncio.get_running_loop()
    started = loop.time()
    [result] = await translator.translate([FRENCH], "en")
    assert loop.time() - started < 3
    assert result.not_translated is NotTranslated.UNAVAILABLE and result.text == FRENCH
    assert [call.status for call in fake_deepl.translate_calls] == [503, 503, 503]
    # Not cached: once DeepL is back, the text is translated.
    [later] = await translator.translate([FRENCH], "en")
    assert later.translated


async def test_a_hanging_deepl_is_given_up_on_within_the_timeout(translator: DeepLTranslator,
                                                                 fake_deepl: FakeDeepL,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes.fake_deepl import fast_deepl_client

    fast_deepl_client(monkeypatch, retries=0, timeout=0.5)
    await translator.translate(["Réchauffement"], "de")  # languages known
    fake_deepl.hang_next(5, path="/v2/translate")
    loop = asyncio.get_running_loop()
    started = loop.time()
    [result] = await translator.translate([FRENCH], "en")
    assert loop.time() - started < 2
    assert result.not_translated is NotTranslated.UNAVAILABLE


async def test_our_own_deadline_bounds_a_call(translator_factory: TranslatorFactory, fake_deepl: FakeDeepL) -> None:
    translator = translator_factory(call_deadline=0.3)
    await translator.translate(["Réchauffement"], "de")
    fake_deepl.set_latency(0.45, "/v2/translate")  # under the client's timeout, over our deadline
    [result] = await translator.translate([FRENCH], "en")
    assert result.not_translated is NotTranslated.UNAVAILABLE


@pytest.mark.parametrize("status", [200, 502])
async def test_garbage_answers_leave_the_text_untranslated(translator: DeepLTranslator, fake_deepl: FakeDeepL,
                                                           status: int) -> None:
    await translator.translate(["Réchauffement"], "de")
    fake_deepl.garbage_next(status=status, path="/v2/translate")
    [result] = await translator.translate([FRENCH], "en")
    assert result.not_translated is NotTranslated.UNAVAILABLE and result.text == FRENCH


async def test_deepl_down_before_the_languages_are_known(translator: DeepLTranslator, fake_deepl: FakeDeepL) -> None:
    fake_deepl.fail_next(503, path="/v2/languages")
    [result] = await translator.translate([FRENCH], "en")
    assert result.not_translated is NotTranslated.UNAVAILABLE
    [later] = await translator.translate([FRENCH], "en")
    assert later.translated


async def test_quota_exceeded_alerts_once_a_day(translator_factory: TranslatorFactory,
                                                fake_deepl: FakeDeepL) -> None:
    alerts: list[str] = []

    async def on_quota() -> None:
        alerts.append("alert")

    translator = translator_factory(on_quota=on_quota)
    fake_deepl.fail_next(456, times=3, path="/v2/translate")
    first = await translator.translate([FRENCH], "en")
    second = await translator.translate([FRENCH], "uk")
    assert [r.not_translated for r in first + second] == [NotTranslated.QUOTA, NotTranslated.QUOTA]
    assert alerts == ["alert"]
    translator.clock.advance(__import__("datetime").timedelta(days=1))  # type: ignore[attr-defined]
    await translator.translate([FRENCH], "de")
    assert alerts == ["alert", "alert"]
    await translator.flush()
    async with translator.db.session() as session:
        totals = await queries.usage_between(session, translator.clock.now().date().replace(day=1),
                                             translator.clock.now().date())
    assert totals.untranslated_characters == 3 * len(FRENCH) and totals.billed_characters == 0


async def test_usage_comes_from_deepl(translator: DeepLTranslator, fake_deepl: FakeDeepL) -> None:
    await translator.translate([FRENCH], "en")
    usage = await translator.usage()
    assert usage is not None
    assert usage.characters_used == len(FRENCH) and usage.character_limit == fake_deepl.character_limit
    fake_deepl.fail_next(503, times=5, path="/v2/usage")
    assert await translator.usage() is None


async def test_detect_is_local_and_says_none_when_unsure(translator: DeepLTranslator, fake_deepl: FakeDeepL) -> None:
    assert await translator.detect(FRENCH) == "fr"
    assert await translator.detect("Дякую всім, до четверга!") == "uk"
    assert await translator.detect("ok 👍") is None
    assert fake_deepl.requests == []


async def test_a_translation_made_with_a_confirmed_source_serves_later_requests_without_one(
        translator_factory: TranslatorFactory, fake_deepl: FakeDeepL) -> None:
    relay = translator_factory()
    [relayed] = await relay.translate([FRENCH], "en", likely_source="fr")  # sent with source FR
    # A flag reaction on the English copy, or the Translate action elsewhere: no channel hint.
    [on_demand] = await relay.translate([FRENCH], "en", likely_source="uk")
    restarted = translator_factory()
    [after_restart] = await restarted.translate([FRENCH], "en")
    assert on_demand.text == after_restart.text == relayed.text
    assert on_demand.from_cache and after_restart.from_cache
    assert [call.source_lang for call in fake_deepl.translate_calls] == ["FR"]


async def test_a_translation_detected_by_deepl_serves_later_requests_naming_the_source(
        translator: DeepLTranslator, fake_deepl: FakeDeepL) -> None:
    # English written in the French channel goes out without a source; DeepL detects English.
    [first] = await translator.translate([ENGLISH], "de", likely_source="fr")
    # The same reminder later posted in an English channel: the source is known, nothing is paid.
    [second] = await translator.translate([ENGLISH], "de", likely_source="en")
    assert first.text == second.text == "[DE] " + ENGLISH and second.from_cache
    assert [call.source_lang for call in fake_deepl.translate_calls] == [None]


async def test_text_in_a_language_deepl_cannot_read_is_not_sent(translator: DeepLTranslator,
                                                                fake_deepl: FakeDeepL) -> None:
    croatian = "Hvala na vodiču, iskoristit ćemo ga s našim volonterima idući mjesec."
    [result] = await translator.translate([croatian], "en", likely_source="hr")
    assert result.not_translated is NotTranslated.SOURCE_UNSUPPORTED and result.text == croatian
    assert result.source_language == "hr"
    assert fake_deepl.translate_calls == []


async def test_no_glossary_is_made_for_texts_without_its_terms(translator: DeepLTranslator,
                                                               fake_deepl: FakeDeepL) -> None:
    await translator.translate([ENGLISH], "fr", source="en")
    assert fake_deepl.recorded("POST /v2/glossaries") == []
    assert fake_deepl.translate_calls[0].glossary_id is None


async def test_counters_are_written_at_most_once_a_minute(translator: DeepLTranslator) -> None:
    from datetime import timedelta

    from bot.translation.extension import UsageWriter

    writer = UsageWriter(translator)
    now = translator.clock.now()
    assert await writer.next_due(now) is None
    await translator.record_skip(40)
    assert await writer.next_due(now) == now
    await writer.run(now)
    await translator.record_skip(2)
    assert await writer.next_due(now) == now + timedelta(minutes=1)
    async with translator.db.session() as session:
        totals = await queries.usage_between(session, now.date(), now.date())
    assert totals.saved_by_skip == 40


NINE = ["fr", "de", "es", "it", "pt", "uk", "pl", "nl", "el"]


async def test_a_message_s_target_languages_go_to_deepl_side_by_side(translator_factory: TranslatorFactory,
                                                                     fake_deepl: FakeDeepL) -> None:
    translator = translator_factory()  # DEEPL_MAX_WORKERS's default
    await translator.translate(["Réchauffement"], "de")  # languages and detector ready
    fake_deepl.set_latency(0.3, "/v2/translate")
    results = await asyncio.gather(*(translator.translate([ENGLISH], language, likely_source="en")
                                     for language in NINE))
    assert all(result.translated for [result] in results)
    arrivals = [call.record.time for call in fake_deepl.translate_calls[1:]]
    assert len(arrivals) == len(NINE)
    # Every request was out before the first answer came back.
    assert max(arrivals) - min(arrivals) < 0.3


async def test_few_workers_make_the_languages_wait_in_turn(translator_factory: TranslatorFactory,
                                                           fake_deepl: FakeDeepL) -> None:
    translator = translator_factory(max_workers=2)
    await translator.translate(["Réchauffement"], "de")
    fake_deepl.set_latency(0.3, "/v2/translate")
    await asyncio.gather(*(translator.translate([ENGLISH], language, likely_source="en") for language in NINE[:4]))
    arrivals = sorted(call.record.time for call in fake_deepl.translate_calls[1:])
    assert len(arrivals) == 4
    assert arrivals[2] - arrivals[0] >= 0.29  # the third waited for an answer


async def test_the_languages_of_a_message_are_looked_up_in_the_cache_together(
        translator_factory: TranslatorFactory, fake_deepl: FakeDeepL) -> None:
    from sqlalchemy import event

    translator = translator_factory()
    await translator.translate(["Réchauffement"], "de")
    lookups: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "translation_cache" in statement:
            lookups.append(statement)

    event.listen(translator.db.engine.sync_engine, "before_cursor_execute", count)
    results = await asyncio.gather(*(translator.translate([ENGLISH], language, likely_source="en")
                                     for language in NINE))
    assert all(result.translated and not result.from_cache for [result] in results)
    assert len(lookups) == 1
    assert len(fake_deepl.translate_calls) == 1 + len(NINE)


async def test_fresh_translations_reach_the_database_for_another_process(translator_factory: TranslatorFactory,
                                                                         fake_deepl: FakeDeepL) -> None:
    first = translator_factory()
    for language in NINE[:3]:
        [done] = await first.translate([ENGLISH], language, likely_source="en")
        assert done.translated
    await first.flush()  # the usage writer's minute, or `/icc usage`
    other = translator_factory()  # a second bot process on the same database, first still running
    again = await asyncio.gather(*(other.translate([ENGLISH], language, likely_source="en")
                                   for language in NINE[:3]))
    assert all(result.from_cache for [result] in again)
    assert len(fake_deepl.translate_calls) == 3
    async with other.db.session() as session:
        totals = await queries.usage_between(session, first.clock.now().date(), first.clock.now().date())
    assert totals.requests == 3


def test_deepl_max_workers_is_a_bounded_setting() -> None:
    from pydantic import ValidationError

    from bot.settings import Settings

    assert Settings(_env_file=None).deepl_max_workers == 16
    assert Settings(_env_file=None, deepl_max_workers=9).deepl_max_workers == 9
    for wrong in (0, 65):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, deepl_max_workers=wrong)
