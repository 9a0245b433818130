from tests.harness import ConsoleHarness


async def test_person_language_changes_the_bots_words(console: ConsoleHarness) -> None:
    assert "Only the ICC team" in await console.reply("@tom #x /icc group create g")
    assert "Je vous parlerai en français (fr)." in await console.reply("@tom #x /icc lang me fr")
    assert await console.reply("@tom #x /icc group create g") == "[#x → @tom] Seule l'équipe ICC peut faire cela."
    assert "follow your platform" in await console.reply("@tom #x /icc lang me auto")


async def test_channel_language_falls_back_for_people_without_one(console: ConsoleHarness) -> None:
    await console.say("@alice #salon /icc lang fr")
    assert "Seule l'équipe ICC" in await console.reply("@sam #salon /icc group create g")


async def test_a_language_without_catalog_is_kept_for_translations(console: ConsoleHarness) -> None:
    answer = await console.reply("@sam #x /icc lang me pl")
    assert "Polish (pl)" in answer and "cannot speak it yet" in answer


async def test_a_language_with_a_catalog_is_spoken_at_once(console: ConsoleHarness) -> None:
    answer = await console.reply("@sam #x /icc lang me uk")
    assert "Я спілкуватимуся з Вами мовою: українська (uk)." in answer


async def test_channel_language_needs_a_lead(console: ConsoleHarness) -> None:
    assert "Only a lead of this group" in await console.reply("@sam #rumours-en /icc lang de")
    answer = await console.reply("@lucia #rumores-es /icc lang es fallback=en formality=less")
    assert "El idioma de este canal es ahora español (es)." in answer
    assert "`xx` no es un código de idioma que yo conozca." in await console.reply("@lucia #rumores-es /icc lang xx")
