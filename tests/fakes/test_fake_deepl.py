"""Self-tests: the real (synchronous) deepl client against FakeDeepL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import deepl
import pytest
from deepl.api_data import MultilingualGlossaryDictionaryEntries

from tests.fakes.fake_deepl import FakeDeepL, fast_deepl_client

KEY = "test-key:fx"


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDeepL]:
    fast_deepl_client(monkeypatch, retries=0, timeout=0.5)
    async with FakeDeepL(KEY, character_limit=1000) as server:
        yield server


@pytest.fixture
def translator(fake: FakeDeepL) -> deepl.Translator:
    return deepl.Translator(KEY, server_url=fake.url)


async def test_translate_list_is_one_request(fake: FakeDeepL, translator: deepl.Translator) -> None:
    texts = ["bonjour à tous", "<x>@alice</x> merci <x>https://icc.example</x>", "hello"]
    results = await asyncio.to_thread(
        translator.translate_text, texts, target_lang="EN-GB", tag_handling="xml", ignore_tags=["x"]
    )
    assert [r.text for r in results] == [
        "[EN-GB] bonjour à tous",
        "[EN-GB] <x>@alice</x> merci <x>https://icc.example</x>",
        "hello",  # detected EN: same language, returned unchanged but billed
    ]
    assert [r.detected_source_lang for r in results] == ["FR", "FR", "EN"]
    assert [r.billed_characters for r in results] == [len(t) for t in texts]
    assert fake.billed_characters == sum(len(t) for t in texts)
    (call,) = fake.translate_calls
    assert (call.target_lang, call.texts, call.tag_handling, call.ignore_tags) == ("EN-GB", texts, "xml", ["x"])
    assert call.record.headers["Authorization"] == f"DeepL-Auth-Key {KEY}"
    assert call.record.headers["Content-Type"] == "application/json"

    single = await asyncio.to_thread(translator.translate_text, "hola", source_lang="ES", target_lang="fr")
    assert (single.text, single.detected_source_lang) == ("[FR] hola", "ES")
    fake.detect_override = "DE"
    assert (await asyncio.to_thread(translator.translate_text, "x", target_lang="IT")).detected_source_lang == "DE"


async def test_usage_languages_and_validation(fake: FakeDeepL, translator: deepl.Translator) -> None:
    await asyncio.to_thread(translator.translate_text, "12345", target_lang="DE")
    usage = await asyncio.to_thread(translator.get_usage)
    assert (usage.character.count, usage.character.limit) == (5, 1000)
    targets = {lang.code: lang for lang in await asyncio.to_thread(translator.get_target_languages)}
    sources = {lang.code for lang in await asyncio.to_thread(translator.get_source_languages)}
    assert {"EN-GB", "EN-US", "PT-PT", "PT-BR", "UK", "NB", "EL", "TR"} <= targets.keys()
    assert targets["FR"].supports_formality and not targets["UK"].supports_formality
    assert not {"HR", "SR", "MT", "IS", "FO", "CA"} & (targets.keys() | sources)
    with pytest.raises(deepl.DeepLException, match="target_lang"):
        await asyncio.to_thread(translator.translate_text, "x", target_lang="HR")
    with pytest.raises(deepl.DeepLException, match="formality"):
        await asyncio.to_thread(translator.translate_text, "x", target_lang="UK", formality="more")
    fake.target_languages.pop("NB")
    with pytest.raises(deepl.DeepLException):
        await asyncio.to_thread(translator.translate_text, "x", target_lang="NB")


async def test_wrong_key_and_quota(fake: FakeDeepL) -> None:
    wrong = deepl.Translator("other-key", server_url=fake.url)
    with pytest.raises(deepl.AuthorizationException):
        await asyncio.to_thread(wrong.get_usage)
    translator = deepl.Translator(KEY, server_url=fake.url)
    with pytest.raises(deepl.QuotaExceededException):
        await asyncio.to_thread(translator.translate_text, "x" * 1001, target_lang="FR")
    assert fake.billed_characters == 0
    fake.fail_next(456)
    with pytest.raises(deepl.QuotaExceededException):
        await asyncio.to_thread(translator.translate_text, "x", target_lang="FR")


async def test_faults_with_retries_lowered(fake: FakeDeepL, translator: deepl.Translator) -> None:
    fake.fail_next(503)
    with pytest.raises(deepl.DeepLException, match="Service unavailable"):
        await asyncio.to_thread(translator.translate_text, "x", target_lang="FR")
    fake.fail_next(429)
    with pytest.raises(deepl.TooManyRequestsException):
        await asyncio.to_thread(translator.translate_text, "x", target_lang="FR")
    fake.garbage_next()
    with pytest.raises(IndexError):  # the client finds no "translations" in an HTML page
        await asyncio.to_thread(translator.translate_text, "x", target_lang="FR")

    fake.hang_next(5)
    started = time.monotonic()
    with pytest.raises(deepl.ConnectionException):
        await asyncio.to_thread(translator.translate_text, "x", target_lang="FR")
    assert time.monotonic() - started < 2


async def test_503_then_success_with_one_retry(fake: FakeDeepL, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_deepl_client(monkeypatch, retries=1, timeout=0.5)
    translator = deepl.Translator(KEY, server_url=fake.url)
    fake.fail_next(503, path="/v2/translate")
    result = await asyncio.to_thread(translator.translate_text, "x", target_lang="FR")
    assert result.text == "[FR] x"
    assert [c.status for c in fake.translate_calls] == [503, 200]


async def test_latency(fake: FakeDeepL, translator: deepl.Translator) -> None:
    fake.set_latency(0.1, path="/v2/translate")
    started = time.monotonic()
    await asyncio.to_thread(translator.translate_text, "x", target_lang="FR")
    assert time.monotonic() - started >= 0.1


async def test_glossaries_v2_and_v3(fake: FakeDeepL, translator: deepl.Translator) -> None:
    pairs = await asyncio.to_thread(translator.get_glossary_languages)
    assert any((p.source_lang, p.target_lang) == ("en", "fr") for p in pairs)
    glossary = await asyncio.to_thread(
        translator.create_glossary, "ICC", "EN", "FR", {"Intercultural Cities": "Cités interculturelles"}
    )
    assert glossary.entry_count == 1 and glossary.ready
    assert [g.glossary_id for g in await asyncio.to_thread(translator.list_glossaries)] == [glossary.glossary_id]
    entries = await asyncio.to_thread(translator.get_glossary_entries, glossary)
    assert entries == {"Intercultural Cities": "Cités interculturelles"}
    result = await asyncio.to_thread(
        translator.translate_text, "Welcome to Intercultural Cities", source_lang="EN", target_lang="FR",
        glossary=glossary,
    )  # fmt: skip
    assert result.text == "[FR] Welcome to Cités interculturelles"
    assert fake.translate_calls[-1].glossary_id == glossary.glossary_id
    await asyncio.to_thread(translator.delete_glossary, glossary)
    assert fake.glossaries == {}

    client = deepl.DeepLClient(KEY, server_url=fake.url)
    multi = await asyncio.to_thread(
        client.create_multilingual_glossary,
        "ICC",
        [MultilingualGlossaryDictionaryEntries("EN", "DE", {"city": "Stadt"})],
    )
    assert multi.dictionaries[0].entry_count == 1
    assert [g.name for g in await asyncio.to_thread(client.list_multilingual_glossaries)] == ["ICC"]


def test_serve_in_thread_for_sync_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_deepl_client(monkeypatch)
    with FakeDeepL(KEY).serve_in_thread() as fake:
        translator = deepl.Translator(KEY, server_url=fake.url)
        assert translator.translate_text("hallo und danke", target_lang="EN-US").text == "[EN-US] hallo und danke"
        assert fake.translate_calls[0].texts == ["hallo und danke"]
