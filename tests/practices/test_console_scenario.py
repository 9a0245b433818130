"""The issue's "done when", end to end on the console, on SQLite and PostgreSQL: a practice added
in French is found with English words and with French words, shown, published and exported, and
an Italian coordinator searching in Italian finds it. Translation goes through the real deepl
client to the fake DeepL in lexicon mode (tests/practices/conftest.py)."""

import asyncio
from pathlib import Path

from tests.fakes.fake_deepl import FakeDeepL
from tests.harness import ConsoleHarness

ADD = ('@marie #accueil-fr /icc practice add title="Accueil des nouveaux arrivants" topic=welcoming-newcomers '
       'period="Depuis 2019" purpose="Aider les migrants à trouver leur place dans la ville." '
       'process="Des ateliers chaque semaine." contact=accueil@lyon.fr')


async def test_french_practice_found_in_english_french_and_italian_then_published_and_exported(
        translated_console: ConsoleHarness, lexicon_deepl: FakeDeepL) -> None:
    console = translated_console
    entries = await console.say(ADD)
    assert entries[0].startswith("[#accueil-fr → @marie] ")
    assert "#1" in entries[0]
    posted = {entry.split("]")[0][2:]: entry for entry in entries[1:]}
    # Announced in every channel of the welcoming-newcomers group, each in its language.
    assert set(posted) == {"welcome-en", "accueil-fr", "willkommen-de", "acolhimento-pt"}
    assert "Welcome of new arrivals" in posted["welcome-en"]
    assert "Accueil des nouveaux arrivants" in posted["accueil-fr"]
    assert "/icc practice show #1" in posted["willkommen-de"]

    english = await console.reply("@tom #welcome-en /icc practice search welcome workshops")
    assert "**#1** Welcome of new arrivals · Lyon" in english

    french = await console.reply("@marie #accueil-fr /icc practice search accueil ateliers")
    assert "**#1** Accueil des nouveaux arrivants · Lyon" in french

    shown = await console.reply("@alice #welcome-en /icc practice show #1")
    assert "**#1 · Welcome of new arrivals**" in shown
    assert "Help the migrants to find their place in the city." in shown
    assert "English version, machine-translated." in shown

    assert "is published" in (await console.say("@alice #welcome-en /icc practice publish 1"))[0]

    export = await console.say("@alice #welcome-en /icc practice export format=md")
    path = Path(export[0].split(": ")[-1])
    markdown = await asyncio.to_thread(path.read_text, encoding="utf-8")
    assert "## Welcome of new arrivals" in markdown
    assert "- **City:** Lyon" in markdown and "- **Country:** France" in markdown
    assert markdown.index("**Purpose**") < markdown.index("**Stimulus/Rationale**") < markdown.index("**Process**")

    italian = await console.reply("@marco #dicerie-it /icc practice search accoglienza laboratori")
    assert "**#1** Accoglienza di nuovi arrivati · Lyon" in italian
    # The Italian words went to DeepL once, to English, for the search.
    assert any(call.target_lang == "EN-GB" and call.texts == ["accoglienza laboratori"]
               for call in lexicon_deepl.translate_calls)
