"""`/icc practice …` on the console and through forms: who may do what, bad input answered
clearly with nothing stored, the draft → submitted → published path, review, delete."""

from collections.abc import Sequence

from sqlmodel import select

from bot.events import Author, ChannelRef, CommandInvoked, FormResult, FormSubmitted, PersonRef
from bot.outbound import Button, Form
from storage.models import Practice
from tests.harness import ConsoleHarness

ADD = ('/icc practice add title="Agents anti-rumeurs" topic=anti-rumours purpose="Former des habitants à '
       'répondre aux rumeurs." period="Depuis 2015"')


async def _count(console: ConsoleHarness) -> int:
    async with console.bot.db.session() as session:
        return len(list(await session.exec(select(Practice))))


async def test_who_may_add_and_for_which_city(console: ConsoleHarness) -> None:
    # A coordinator, for their own city; not for another one.
    assert "Practice #1 submitted" in (await console.say(f"@tom #x {ADD}"))[0]
    refused = await console.reply(f"@olena #x {ADD} city=Lyon")
    assert "Координатор додає практики лише свого міста; Lyon — не Ваше місто." in refused   # Olena: Ukrainian
    # A group lead, for any city; the ICC team too; someone with no role, not at all.
    assert "#2" in (await console.say(f"@lucia #x {ADD} city=Lyon"))[0]
    assert "#3" in (await console.say(f"@alice #x {ADD} city=Rabat"))[0]
    assert "Only a city coordinator can do that" in await console.reply(f"@newcomer #x {ADD}")
    # The ICC team with no city of their own must name one.
    assert "Name the city" in await console.reply(f"@alice #x {ADD}")
    assert await _count(console) == 3


async def test_bad_inputs_each_get_a_clear_answer_and_nothing_is_stored(console: ConsoleHarness) -> None:
    await console.say(f"@marie #accueil-fr {ADD}")
    before = await console.reply("@alice #x /icc practice show 1")
    cases = [
        ('title="" topic=anti-rumours purpose="x"', "`title` est vide."),
        ('title="x" topic=astrology purpose="x"', "Thème inconnu : `astrology`."),
        (f'title="x" topic=education purpose="{"p" * 10_000}"', "`purpose` compte 10000 caractères"),
        ('title="x" topic=education purpose="x" link=ftp://x', "`link` doit être une adresse web"),
        ('title="x" topic=education purpose="x" lang=klingon', "`klingon` is not"),
        ('topic=education purpose="x"', "`title` manque."),
        ('title="x" topic=education purpose="x" city=Atlantis', "Atlantis"),
        ('title="x" topic=education purpose="x" draft=maybe', "`draft`"),
    ]
    for arguments, expected in cases:
        answer = await console.reply(f"@marie #accueil-fr /icc practice add {arguments}")
        assert expected in answer or expected.replace("is not", "n'est pas") in answer, (arguments, answer)
        assert "Traceback" not in answer
    assert "Rien n'a été enregistré" in await console.reply(
        "@marie #accueil-fr /icc practice add title=\"\" topic=astrology purpose=\"\"")
    assert await _count(console) == 1
    assert await console.reply("@alice #x /icc practice show 1") == before


async def test_search_is_safe_with_query_syntax(console: ConsoleHarness) -> None:
    await console.say(f"@marie #accueil-fr {ADD}")
    for query in ("title:x OR", "NEAR(", "x* OR y", "accueil) OR (1=1"):
        answer = await console.reply(f"@tom #x /icc practice search {query}")
        assert answer.startswith("[#x → @tom] ") and "Traceback" not in answer, answer
    unclosed = await console.reply("@tom #x /icc practice search '; DROP TABLE practice; --")
    assert "A quote is not closed" in unclosed
    assert "**#1**" in await console.reply("@tom #x /icc practice search rumeurs")
    assert "Give me words" in await console.reply("@tom #x /icc practice search ***")


async def test_author_edits_others_cannot_and_icc_corrects_the_english(console: ConsoleHarness) -> None:
    await console.say(f"@marie #accueil-fr {ADD}")
    assert "Seuls son auteur·rice ou l'équipe ICC" in await console.reply(
        '@amina #x /icc practice edit 1 period="2020"')
    assert "Pratique #1 modifiée : period." in await console.reply('@marie #x /icc practice edit 1 period="2020"')
    assert "dit déjà cela" in await console.reply('@marie #x /icc practice edit 1 period="2020"')
    assert "Seule l'équipe ICC corrige la version anglaise." in await console.reply(
        '@marie #x /icc practice edit 1 lang=en title="Anti-rumour agents"')
    assert "`purpose` est vide" in await console.reply('@marie #x /icc practice edit 1 purpose=""')
    corrected = await console.reply('@alice #x /icc practice edit 1 lang=en title="Anti-rumour agents" '
                                    'purpose="Training residents to answer rumours." period="Since 2015"')
    assert "English version of #1 corrected: title, period, purpose." in corrected
    shown = await console.reply("@tom #x /icc practice show 1")
    assert "**#1 · Anti-rumour agents**" in shown and "English version, corrected by the ICC team." in shown
    assert "Agents anti-rumeurs" in await console.reply("@tom #x /icc practice show 1 lang=original")
    assert "There is no practice #9." in await console.reply("@tom #x /icc practice show #9")


async def test_publish_needs_the_english_and_tells_the_author(console: ConsoleHarness) -> None:
    await console.say(f"@marie #accueil-fr {ADD}")
    assert "Only the ICC team can do that." in await console.reply("@tom #x /icc practice publish 1")
    refused = await console.reply("@alice #x /icc practice publish 1")
    assert "The English version of #1 is not ready yet" in refused
    await console.say('@alice #x /icc practice edit 1 lang=en title="Anti-rumour agents" purpose="Training."')
    published = await console.say("@alice #x /icc practice publish #1")
    assert published == ["[#x → @alice] Practice #1 is published.",
                         "[@marie] Votre pratique #1 « Agents anti-rumeurs » est publiée. Merci !"]
    assert "already published" in await console.reply("@alice #x /icc practice publish 1")
    # The author changes it: it goes back to review.
    answer = await console.reply('@marie #x /icc practice edit 1 purpose="Former des habitants."')
    assert "repasse par la relecture" in answer
    assert "soumise" in await console.reply("@marie #x /icc practice show 1")


async def test_drafts_review_notes_and_submission(console: ConsoleHarness) -> None:
    assert "brouillon" in (await console.say(f"@marie #accueil-fr {ADD} draft=yes"))[0]
    # Nobody but its author and the ICC team sees a draft, and it is not announced.
    assert "There is no practice #1" in await console.reply("@tom #x /icc practice show 1")
    assert "No practice matches" in await console.reply("@tom #x /icc practice search rumeurs")
    assert "**#1**" in await console.reply("@marie #x /icc practice search rumeurs")
    assert "No submission is waiting for review." in await console.reply("@alice #x /icc practice review")
    submitted = await console.say("@marie #x /icc practice submit 1")
    assert "Pratique #1 soumise" in submitted[0]
    assert any(entry.startswith("[#rumours-en] ") for entry in submitted[1:])
    queue = await console.reply("@alice #x /icc practice review")
    assert "1 submission waiting for review:" in queue and "**#1**" in queue
    sent_back = await console.say('@alice #x /icc practice review 1 note="Please add the process."')
    assert sent_back[0] == "[#x → @alice] Practice #1 is back with its author as a draft, with your note."
    assert sent_back[1].startswith("[@marie] L'équipe ICC a une remarque sur votre pratique #1")
    assert "Note de l'équipe ICC : Please add the process." in await console.reply("@marie #x /icc practice show 1")
    # Submitting again is not announced twice.
    again = await console.say("@marie #x /icc practice submit 1")
    assert len(again) == 1


async def test_review_shows_both_versions_with_a_publish_button(console: ConsoleHarness) -> None:
    await console.say(f"@marie #accueil-fr {ADD}")
    await console.say('@alice #x /icc practice edit 1 lang=en title="Anti-rumour agents" purpose="Training."')
    review = await console.reply("@alice #x /icc practice review 1")
    assert "Agents anti-rumeurs" in review and "Anti-rumour agents" in review and "[1: Publish]" in review
    assert "Only the ICC team can do that." in await console.reply("@tom #x !press ^ 1")
    pressed = await console.say("@alice #x !press ^ 1")
    assert pressed[0] == "[#x → @alice] Practice #1 is published."


async def test_delete_asks_then_deletes(console: ConsoleHarness) -> None:
    await console.say(f"@marie #accueil-fr {ADD}")
    assert "Seule l'équipe ICC peut faire cela." in await console.reply("@marie #x /icc practice delete 1")
    asked = await console.reply("@alice #x /icc practice delete 1")
    assert "Delete practice #1 “Agents anti-rumeurs”? This cannot be undone." in asked
    assert await _count(console) == 1
    assert "is deleted" in await console.reply("@alice #x !press ^ 1")
    assert await _count(console) == 0


async def test_list_filters(console: ConsoleHarness) -> None:
    await console.say(f"@marie #accueil-fr {ADD}", '@marco #x /icc practice add title="Scuole aperte" '
                      'topic=education purpose="Aprire le scuole al quartiere."')
    both = await console.reply("@tom #x /icc practice list")
    assert "2 practices, newest first:" in both
    only = await console.reply("@tom #x /icc practice list topic=education")
    assert "Scuole aperte" in only and "Agents anti-rumeurs" not in only
    assert "Agents" in await console.reply("@tom #x /icc practice list city=Lyon")
    assert "There is no network" in await console.reply("@tom #x /icc practice list network=atlantis")


class FormResponder:
    def __init__(self) -> None:
        self.forms: list[Form] = []
        self.replies: list[str] = []

    async def reply(self, text: str, *, ephemeral: bool = True, buttons: Sequence[Button] = ()) -> None:
        self.replies.append(text)

    async def open_form(self, form: Form) -> None:
        self.forms.append(form)


async def test_the_form_opens_checks_and_stores_like_the_command(console: ConsoleHarness) -> None:
    bot = console.bot
    marie = Author(PersonRef("console", "local", "marie"), "Marie Dubois")
    channel = ChannelRef("console", "local", "accueil-fr")
    responder = FormResponder()
    await bot.handle(CommandInvoked(channel, marie, "practice add", responder, can_open_form=True))
    [form] = responder.forms
    fields = {field.name: field for field in form.fields}
    assert form.form_id == "practice.add" and form.title == "Nouvelle bonne pratique"
    assert fields["city"].kind == "select" and fields["city"].initial == "lyon"
    assert fields["topic"].kind == "multi_select" and len(fields["topic"].options) == 25
    assert fields["purpose"].kind == "long_text" and fields["purpose"].max_length == 3000
    bad = await bot.handle(FormSubmitted("practice.add", {"title": "", "topic": ["astrology"], "purpose": "x"},
                                         marie, responder, channel))
    assert isinstance(bad, FormResult) and set(bad.errors) == {"title", "topic"}
    assert bad.errors["title"] == "`title` manque."
    assert await _count(console) == 0
    good = await bot.handle(FormSubmitted("practice.add", {"title": "Agents anti-rumeurs", "city": "lyon",
                                                           "topic": ["anti-rumours", "participation"],
                                                           "purpose": "Former des habitants.", "period": "",
                                                           "link": ""}, marie, responder, channel))
    await bot.wait_idle()
    assert isinstance(good, FormResult) and good.ok
    assert "Pratique #1 soumise" in responder.replies[-1]
    assert await _count(console) == 1
