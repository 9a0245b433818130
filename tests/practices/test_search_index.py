"""The search index follows what people change: an edited practice is found by its new words, topic
and city and no longer by the old ones; a change that does not touch the indexed text leaves it
searchable. On the console, on SQLite and PostgreSQL."""

from tests.harness import ConsoleHarness

ADD = ('@marie #accueil-fr /icc practice add title="Jardins partagés" topic=anti-rumours '
       'purpose="Cultiver ensemble dans le quartier." period="Depuis 2015"')


async def test_an_edited_practice_is_found_by_its_new_words_not_its_old_ones(console: ConsoleHarness) -> None:
    assert "#1" in (await console.say(ADD))[0]
    assert "**#1**" in await console.reply("@tom #x /icc practice search jardins")
    assert "**#1**" in await console.reply("@tom #x /icc practice search cultiver topic=anti-rumours")

    edited = await console.reply('@marie #x /icc practice edit 1 title="Médiation scolaire" '
                                 'purpose="Des médiateurs dans les écoles." topic=education')
    assert "title" in edited and "purpose" in edited and "topic" in edited

    assert "**#1**" in await console.reply("@tom #x /icc practice search médiateurs écoles")
    assert "**#1**" in await console.reply("@tom #x /icc practice search scolaire topic=education")
    for old in ("jardins", "cultiver quartier", "scolaire topic=anti-rumours"):
        answer = await console.reply(f"@tom #x /icc practice search {old}")
        assert "**#1**" not in answer, (old, answer)

    # The ICC team writes the English version: found in English too. Publishing then changes the
    # status only; the practice stays found by its words in both languages.
    await console.say('@alice #x /icc practice edit 1 lang=en title="School mediation" purpose="Mediators."')
    assert "**#1**" in await console.reply("@tom #x /icc practice search mediators")
    assert "is published" in (await console.say("@alice #x /icc practice publish 1"))[0]
    assert "**#1**" in await console.reply("@tom #x /icc practice search médiation")
    assert "**#1**" in await console.reply("@tom #x /icc practice search school mediators topic=education")
