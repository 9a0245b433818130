"""The English version: made in the background through DeepL (the fake, via the real client),
kept pending and retried with backoff when DeepL fails or translation is off, never written over
the ICC team's correction; announcements go out once, in each channel's language."""

from datetime import timedelta

from bot.translation import Translator, Untranslated
from storage.models.practices import EN_MACHINE, EN_ORIGINAL, EN_PENDING
from storage.queries import practices as queries
from tests.fakes.fake_deepl import FakeDeepL
from tests.harness import ConsoleHarness

ADD = ('@marie #accueil-fr /icc practice add title="Accueil des nouveaux arrivants" topic=welcoming-newcomers '
       'purpose="Aider les migrants à trouver leur place dans la ville."')


async def _practice(console: ConsoleHarness, practice_id: int = 1):  # type: ignore[no-untyped-def]
    async with console.bot.db.session() as session:
        return await queries.get_practice(session, practice_id)


async def test_deepl_down_keeps_it_pending_then_the_job_makes_it(
        sqlite_translated_console: ConsoleHarness, lexicon_deepl: FakeDeepL) -> None:
    console = sqlite_translated_console
    lexicon_deepl.fail_next(503, path="/v2/translate")
    entries = await console.say(ADD)
    assert "Practice #1" in entries[0] or "Pratique #1" in entries[0]
    practice = await _practice(console)
    assert practice.en_state == EN_PENDING and practice.en_attempts == 1
    assert practice.en_retry_at == console.clock.now() + timedelta(minutes=1)
    shown = await console.reply("@tom #welcome-en /icc practice show 1")
    assert "The English version is not made yet (translation pending)" in shown
    # The announcement did not wait for the English version: it went out with the original title.
    assert any(entry.startswith("[#welcome-en]") and "Accueil des nouveaux arrivants" in entry for entry in entries)
    lexicon_deepl.fail_next(503, path="/v2/translate")
    await console.say("!clock +1m")          # second failure: next try in five minutes
    practice = await _practice(console)
    assert practice.en_state == EN_PENDING and practice.en_attempts == 2
    calls = len(lexicon_deepl.translate_calls)
    await console.say("!clock +4m")
    assert (await _practice(console)).en_state == EN_PENDING
    assert len(lexicon_deepl.translate_calls) == calls  # nothing tried before it is due
    await console.say("!clock +1m")          # DeepL is back
    practice = await _practice(console)
    assert practice.en_state == EN_MACHINE
    assert practice.title_en == "Welcome of new arrivals"
    assert practice.purpose_en == "Help the migrants to find their place in the city."
    assert "English version, machine-translated." in await console.reply("@tom #welcome-en /icc practice show 1")


async def test_translation_off_keeps_it_pending_and_never_loses_it(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    assert isinstance(console.bot.service(Translator), Untranslated)  # type: ignore[type-abstract]
    await console.say(ADD, "!clock +2d")
    practice = await _practice(console)
    assert practice.en_state == EN_PENDING and practice.title == "Accueil des nouveaux arrivants"
    assert practice.announced_at is not None
    assert "**#1**" in await console.reply("@tom #x /icc practice search accueil")


async def test_text_deepl_finds_english_is_kept_as_the_original(
        sqlite_translated_console: ConsoleHarness, lexicon_deepl: FakeDeepL) -> None:
    console = sqlite_translated_console
    lexicon_deepl.detect_override = "EN"
    await console.say('@marie #x /icc practice add title="Welcome desk" topic=welcoming-newcomers '
                      'purpose="A desk for newcomers."')
    practice = await _practice(console)
    assert practice.en_state == EN_ORIGINAL and practice.language == "en" and practice.title_en is None
    shown = await console.reply("@tom #x /icc practice show 1")
    assert "Original, in English (en)." in shown and "Other version" not in shown


async def test_a_correction_is_never_overwritten_and_an_edit_retranslates_what_changed(
        sqlite_translated_console: ConsoleHarness, lexicon_deepl: FakeDeepL) -> None:
    console = sqlite_translated_console
    await console.say(ADD, '@alice #x /icc practice edit 1 lang=en title="Welcoming newcomers"')
    await console.say("!clock +1d")
    assert (await _practice(console)).title_en == "Welcoming newcomers"
    await console.say('@marie #x /icc practice edit 1 purpose="Des ateliers chaque semaine."')
    practice = await _practice(console)
    assert practice.title_en == "Welcoming newcomers"
    assert practice.purpose_en == "Of workshops each week."
    assert practice.en_state == EN_MACHINE


async def test_announcement_once_per_channel_one_request_per_language(
        translated_console: ConsoleHarness, lexicon_deepl: FakeDeepL) -> None:
    console = translated_console
    entries = await console.say('@lucia #x /icc practice add title="Agentes antirumores" city=Barcelona '
                                'topic=anti-rumours,welcoming-newcomers purpose="Formar a los vecinos." lang=es')
    posts = [entry for entry in entries if not entry.startswith("[#x")]
    channels = sorted(entry.split("]")[0][2:] for entry in posts)
    assert channels == sorted(["rumours-en", "rumeurs-fr", "rumores-es", "chutky-uk", "dicerie-it", "welcome-en",
                               "accueil-fr", "willkommen-de", "acolhimento-pt"])
    french = next(entry for entry in posts if entry.startswith("[#rumeurs-fr]"))
    assert "Nouvelle bonne pratique de Barcelona" in french and "`/icc practice show #1`" in french
    spanish = next(entry for entry in posts if entry.startswith("[#rumores-es]"))
    assert "Nueva buena práctica de Barcelona: **Agentes antirumores**" in spanish
    german = next(entry for entry in posts if entry.startswith("[#willkommen-de]"))
    assert "Neues gutes Praxisbeispiel aus Barcelona" in german
    # Every channel language has a catalog: one request per language for the title only (none for
    # Spanish, the title's own language); English: none (the English version is used). Plus the
    # English version itself. Never one per channel.
    targets = sorted(call.target_lang for call in lexicon_deepl.translate_calls)
    assert targets == sorted(["EN-GB", "FR", "UK", "IT", "DE", "PT-PT"])
    # Submitted once: no second announcement when the job runs.
    assert await console.say("!clock +1h") == ["[console] clock: 2027-01-11 09:00 UTC (Monday)"]
