"""Issue 3's "done when", translation side, in the console: a French line in a group's French
channel appears in its English and Ukrainian channels translated, and nowhere else; without a key
it appears untranslated with the note."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.fake_deepl import FakeDeepL
from tests.harness import ConsoleHarness

LINE = "Bonjour à tous, la réunion du groupe aura lieu jeudi à Lyon avec @Ana : https://coe.int/icc"
SETUP = ("@alice #trio-fr /icc group create trio",
         "@alice #trio-fr /icc group link trio lang=fr",
         "@alice #trio-en /icc group link trio lang=en",
         "@alice #trio-uk /icc group link trio lang=uk")


@pytest.fixture
async def with_deepl(sqlite_demo_url: str, fake_deepl: FakeDeepL) -> AsyncIterator[ConsoleHarness]:
    harness = await ConsoleHarness.start(sqlite_demo_url, deepl_auth_key=fake_deepl.auth_key,
                                         deepl_server_url=fake_deepl.url)
    yield harness
    await harness.stop()


def posts(entries: list[str]) -> list[str]:
    return [entry for entry in entries if entry.startswith("[#") and " → @" not in entry.split("]")[0]]


async def test_a_french_line_reaches_the_english_and_ukrainian_channels_translated(
        with_deepl: ConsoleHarness, fake_deepl: FakeDeepL) -> None:
    await with_deepl.say(*SETUP)
    entries = posts(await with_deepl.say(f"@marie #trio-fr {LINE}"))
    assert sorted(entry.split("\n")[0] for entry in entries) == [
        f"[#trio-en] Marie Dubois: [EN-GB] {LINE}", f"[#trio-uk] Marie Dubois: [UK] {LINE}"]
    assert sorted(call.target_lang for call in fake_deepl.translate_calls) == ["EN-GB", "UK"]
    assert all(call.source_lang == "FR" for call in fake_deepl.translate_calls)


async def test_without_a_key_it_goes_out_untranslated_with_the_note(sqlite_console: ConsoleHarness) -> None:
    await sqlite_console.say(*SETUP)
    entries = posts(await sqlite_console.say(f"@marie #trio-fr {LINE}"))
    assert sorted(entry.split("\n")[0] for entry in entries) == [
        f"[#trio-en] Marie Dubois: {LINE}", f"[#trio-uk] Marie Dubois: {LINE}"]
    english = next(entry for entry in entries if entry.startswith("[#trio-en]"))
    assert "Not translated: translation is off (no DeepL key is configured)." in english
