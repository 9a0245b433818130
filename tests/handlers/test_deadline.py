"""`/icc deadline …` in the console: the ICC team's commands, the cities' answers, and bad
input answered clearly with nothing changed."""

from __future__ import annotations

import pytest

from bot.events import Author, FormSubmitted, PersonRef
from bot.outbound import Button, Form
from bot.translation import Translator
from tests.deadlines.helpers import RecordingTranslator, deadlines, posts_in, reminder_states, reminders
from tests.harness import ConsoleHarness

ADD = '@alice #lobby /icc deadline add title="Annual survey 2027" due=2027-01-29 audience=network:international'
ADD_TWO = '@alice #lobby /icc deadline add title="Annual survey 2027" due=2027-01-29 audience=cities:Lyon,Erlangen'


async def test_the_icc_team_chases_a_network_until_cities_answer(console: ConsoleHarness) -> None:
    """The issue's scenario, end to end: a deadline for a network, reminders in each city's
    language as the clock moves, one city presses Done and hears no more, status shows who is left."""
    created = await console.reply(ADD)
    assert "Deadline #1 created: **Annual survey 2027**, due Friday, 29 January 2027" in created
    assert "network `international` (52 cities)" in created
    assert "14, 7 and 1 days before, on the due date, 3 and 7 days after, at 09:30" in created
    entries = await console.say("!clock +5d")   # Friday 15 January, 09:30 in each city: 14 days before
    lyon, erlangen = posts_in(entries, "lyon"), posts_in(entries, "erlangen")
    assert len(lyon) == 1 and len(erlangen) == 1
    assert "**Annual survey 2027**" in lyon[0] and "vendredi 29 janvier 2027" in lyon[0]      # French catalog
    assert "Rappel" in lyon[0] and "[1: Fait]" in lyon[0]
    assert "ist in 14 Tagen fällig, am Freitag, 29. Januar 2027" in erlangen[0]   # German catalog
    assert "[1: Erledigt] [2: 1 Tag zurückstellen] [3: 3 Tage zurückstellen] [4: 1 Woche zurückstellen]" in erlangen[0]
    pressed = await console.say("@marie #lyon !press ^ 1")
    assert any("Lyon a répondu" in entry for entry in pressed)
    assert any(entry.startswith("[#lyon] ✎") and "Marie Dubois" in entry for entry in pressed)
    later = await console.say("!clock +25d")
    assert posts_in(later, "lyon") == []
    assert len(posts_in(later, "erlangen")) == 5   # -7, -1, on the day, +3, +7
    status = await console.reply("@alice #lobby /icc deadline status 1")
    assert "Answered: 1 of 52. Not yet: 51." in status
    assert "✅ Answered: Lyon (Marie Dubois, 16 Jan)" in status
    assert "⏳ Not yet: Erlangen" in status
    assert "⚠️ Not reached (no channel and no coordinator): Amman" in status


async def test_done_by_command_and_snooze(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    await console.say(ADD_TWO, "!clock +5d")   # Saturday 16 January: the first reminder went out yesterday
    answer = await console.reply("@jonas #erlangen /icc deadline snooze 1 1w")
    # A week from Saturday is a Saturday: the reminder due on Friday 22 waits for Monday 25.
    assert "💤" in answer and "Montag, 25. Januar 2027, 09:30 (Europe/Berlin)" in answer
    assert posts_in(await console.say("!clock 2027-01-25T08:00Z"), "erlangen") == []
    [folded] = posts_in(await console.say("!clock +2h"), "erlangen")
    assert "ist in 4 Tagen fällig" in folded
    done = await console.say("@jonas #erlangen /icc deadline done 1")
    assert "Erlangen hat **Annual survey 2027** beantwortet" in done[-1]
    # Both reminders Erlangen got lose their buttons and say who answered, in the channel's language
    closed = [line for line in done[:-1] if line.startswith("[#erlangen] ✎")]
    assert len(closed) == 2 == len(done) - 1
    assert all(line.endswith("✅ Erledigt: markiert von Jonas Weber.") for line in closed)
    again = await console.reply("@jonas #erlangen /icc deadline done 1")
    assert "Erlangen hatte **Annual survey 2027** bereits beantwortet" in again and "Jonas Weber" in again
    assert "bereits beantwortet: Es steht keine Erinnerung mehr aus" in await console.reply(
        "@jonas #erlangen /icc deadline snooze 1 1d")
    assert posts_in(await console.say("!clock +30d"), "erlangen") == []
    reopened = await console.reply("@alice #lobby /icc deadline reopen 1 city=Erlangen")
    assert "no reminder of its plan is left" in reopened


async def test_a_closed_reminder_says_who_answered_in_the_channels_language(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    console.bot.provide(Translator, RecordingTranslator())  # type: ignore[type-abstract]
    # Milano's channel in Polish, a language with no catalog of the bot's own words.
    await console.say("@alice #milano /icc lang pl")
    entries = await console.say('@alice #lobby /icc deadline add title="Survey" due=2027-01-29 '
                                'audience=cities:Milano', "!clock +5d")
    [posted] = posts_in(entries, "milano")
    assert "[1: [PL] Done]" in posted
    *closed, answer = await console.say("@marco #milano /icc deadline done 1")
    assert answer.startswith("[#milano → @marco] ✅ Milano")
    # Polish has no catalog: the note is machine-translated, as the reminder was.
    [reminder] = closed
    assert reminder.startswith("[#milano] ✎ ICC bot: [PL] ⏰ Reminder: **Survey**")
    assert reminder.endswith("\n[PL] ✅ Done: marked by Marco Rossi.") and "[1: " not in reminder


async def test_reopen_plans_the_remaining_reminders_again(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    await console.say(ADD_TWO, "!clock +5d", "@jonas #erlangen /icc deadline done 1")
    reopened = await console.reply("@jonas #erlangen /icc deadline reopen 1")
    assert "Erlangen wird erneut zu **Annual survey 2027** gefragt" in reopened
    assert "Freitag, 22. Januar 2027, 09:30" in reopened
    assert len(posts_in(await console.say("!clock +25d"), "erlangen")) == 5


async def test_only_coordinators_of_the_city_or_the_icc_team_answer(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    await console.say(ADD_TWO, "!clock +5d")
    refused = await console.reply("@olena #lyon !press ^ 1")   # Odesa's coordinator, in Lyon's channel
    assert "Відповісти на це нагадування може лише координатор міста Lyon або команда ICC." in refused
    assert "Це може зробити лише координатор цього міста або команда ICC." in await console.reply(
        "@olena #x /icc deadline done 1 city=Lyon")
    assert (await reminder_states(console.bot, 1))["dropped"] == 0
    *closed, answer = await console.say("@alice #x /icc deadline done 1 city=Lyon")
    assert "Lyon has answered" in answer
    [reminder] = closed   # the reminder in Lyon's channel, now without buttons, in French
    assert reminder.startswith("[#lyon] ✎") and reminder.endswith("✅ Fait : indiqué par Alice Martin.")
    assert "Seule l'équipe ICC peut faire cela." in await console.reply("@marie #x /icc deadline status 1")


@pytest.mark.parametrize(("line", "expected"), [
    ('title="Survey" due=2026-12-01', "The due date 2026-12-01 has already passed (today is 2027-01-11)"),
    ('title="Survey" due=2027-13-40', "`2027-13-40` is not a date. Write it as YYYY-MM-DD"),
    ('title="Survey" due=tomorrow', "`tomorrow` is not a date."),
    ('title="Survey" due=2027-03-01 audience=cities:Lyon,Atlantis', "I don't know the city `Atlantis`."),
    ('title="Survey" due=2027-03-01 audience=cities:Gotham,Atlantis', "I don't know these cities: `Gotham`, `Atl"),
    ('title="Survey" due=2027-03-01 audience=cities:Milan', "Did you mean: Milano"),
    ('title="Survey" due=2027-03-01 audience=network:narnia', "There is no network `narnia`"),
    ('title="Survey" due=2027-03-01 audience=group:knitting', "There is no group `knitting`"),
    ('title="Survey" due=2027-03-01 audience=everyone', "`everyone` is not an audience"),
    ('title="Survey" due=2027-03-01 repeat=weekly', "`weekly` is not a repetition"),
    ('title="Survey" due=2027-03-01 plan=soon', "`soon` is not a reminder plan"),
    ('title="Survey" due=2027-03-01 time=03:00', "`03:00` is not a reminder time"),
    ('title="Survey" due=2027-03-01 link=survey', "`survey` is not a link"),
    (f'title="{"x" * 121}" due=2027-03-01', "A title has at most 120 characters; this one has 121."),
    ('due=2027-03-01', "`title` is missing."),
    ('title="Survey"', "`due` is missing."),
])
async def test_bad_input_is_answered_and_changes_nothing(sqlite_console: ConsoleHarness, line: str,
                                                         expected: str) -> None:
    answer = await sqlite_console.reply(f"@alice #lobby /icc deadline add {line}")
    assert expected in answer
    assert "Traceback" not in answer
    assert await deadlines(sqlite_console.bot) == [] and await reminders(sqlite_console.bot) == []


async def test_bad_input_in_the_readers_language(sqlite_console: ConsoleHarness) -> None:
    answer = await sqlite_console.reply('@hugo #lobby /icc deadline add title="Enquête" due=2027-02-30')
    assert "`2027-02-30` n'est pas une date" in answer
    assert await deadlines(sqlite_console.bot) == []


async def test_only_the_icc_team_sets_deadlines(sqlite_console: ConsoleHarness) -> None:
    answer = await sqlite_console.reply('@tom #lobby /icc deadline add title="Mine" due=2027-03-01')
    assert "Only the ICC team can do that." in answer
    assert await deadlines(sqlite_console.bot) == []


async def test_unknown_deadline_and_unknown_city(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    assert "There is no deadline #9." in await console.reply("@alice #x /icc deadline show 9")
    assert "Il n'y a pas d'échéance n° 9." in await console.reply("@marie #x /icc deadline done 9")
    await console.say('@alice #x /icc deadline add title="Small" due=2027-03-01 audience=cities:Lyon,Milano')
    assert "Місто Odesa не запитується щодо строку #1." in await console.reply("@olena #x /icc deadline done 1")
    assert "`id` must be a number" in await console.reply("@tom #x /icc deadline done one")


async def test_list_show_edit_cancel(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    await console.say('@alice #x /icc deadline add title="Newsletter input" due=2027-02-15 '
                      'audience=group:anti-rumours repeat=every-2-months description="Two paragraphs."')
    listing = await console.reply("@tom #x /icc deadline list")
    assert "#1 **Newsletter input**" in listing and "0/5 answered · your city: ⏳ not yet" in listing
    shown = await console.reply("@tom #x /icc deadline show 1")
    assert "Repeats: every 2 months." in shown and "Two paragraphs." in shown
    assert "Manchester has not answered yet. Next reminder: Monday, 1 February 2027, 09:30 (Europe/London)." in shown
    edited = await console.reply("@alice #x /icc deadline edit 1 due=2027-02-22 audience=cities:Lyon,Rabat")
    assert "Deadline #1 updated: audience, due." in edited
    assert "Added to the audience: Rabat." in edited
    assert "No longer asked: Barcelona, Manchester, Milano, Odesa." in edited
    assert "planned afresh" in edited
    rows = await reminders(console.bot, 1)
    assert {row.city_id for row in rows if row.state == "pending" and row.round == 1} == \
        {row.city_id for row in rows if row.state == "pending"}
    assert "Nothing changed" in await console.reply("@alice #x /icc deadline edit 1 due=2027-02-22")
    assert "Say what to change" in await console.reply("@alice #x /icc deadline edit 1")
    cancelled = await console.reply("@alice #x /icc deadline cancel 1")
    assert "cancelled" in cancelled and "no further occurrence" in cancelled
    assert "already cancelled" in await console.reply("@alice #x /icc deadline cancel 1")
    assert "No open deadlines." in await console.reply("@alice #x /icc deadline list")
    assert "cancelled" in await console.reply("@alice #x /icc deadline list all")


async def test_status_as_csv(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    await console.say('@alice #x /icc deadline add title="Report, 2 pages" due=2027-02-01 audience=cities:Lyon,Oslo',
                      "@marie #x /icc deadline done 1")
    answer = await console.reply("@alice #x /icc deadline status 1 format=csv")
    lines = answer.split("```csv\n")[1].split("```")[0].splitlines()
    assert lines[0].startswith("deadline_id,deadline,due_date,network,city,")
    assert lines[1].startswith('1,"Report, 2 pages",2027-02-01,International network,Lyon,France,fr,Europe/Paris,yes,')
    assert ",Marie Dubois," in lines[1]
    assert lines[2].startswith('1,"Report, 2 pages",2027-02-01,Norway') and ",no," in lines[2]
    assert "no channel and no coordinator" not in lines[2]   # nothing was attempted yet


class Answers:
    def __init__(self) -> None:
        self.replies: list[str] = []
        self.forms: list[Form] = []

    async def reply(self, text: str, *, ephemeral: bool = True, buttons: tuple[Button, ...] = ()) -> None:
        self.replies.append(text)

    async def open_form(self, form: Form) -> None:
        self.forms.append(form)


async def test_the_form_on_platforms_that_have_forms(sqlite_console: ConsoleHarness) -> None:
    bot = sqlite_console.bot
    alice = Author(PersonRef("console", "local", "alice"), "Alice Martin")

    def submit(**values: str) -> FormSubmitted:
        return FormSubmitted("deadline.add", values, alice, Answers())

    bad = await bot.handle(submit(title="Survey", due="31/03/2027", audience="all"))
    assert bad is not None and "due" in bad.errors and "is not a date" in str(bad.errors["due"])
    unknown = await bot.handle(submit(title="Survey", due="2027-03-31", audience="network:narnia"))
    assert unknown is not None and "narnia" in str(unknown.errors["audience"])
    assert await deadlines(bot) == []
    event = submit(title="Survey", due="2027-03-31", audience="network:rpci", repeat="yearly", description="")
    good = await bot.handle(event)
    assert good is not None and good.ok
    assert "Deadline #1 created" in event.responder.replies[0]  # type: ignore[attr-defined]
    [created] = await deadlines(bot)
    assert created.repeat == "yearly" and created.audience == "network:rpci"
    marie = Author(PersonRef("console", "local", "marie"), "Marie Dubois")
    answers = Answers()
    await bot.handle(FormSubmitted("deadline.edit", {"title": "Mine now"}, marie, answers, context="1"))
    assert answers.replies == ["Seule l'équipe ICC peut faire cela."]
    assert (await deadlines(bot))[0].title == "Survey"


async def test_the_audience_is_the_one_asked_until_the_icc_team_edits_it(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    await console.say('@alice #x /icc deadline add title="Regional report" due=2027-02-15 audience=group:mediterranean')
    await console.say("@marie #x /icc group join mediterranean")   # Lyon joins after the deadline was set
    assert "Lyon is not asked for deadline #1." in await console.reply("@alice #x /icc deadline done 1 city=Lyon")
    edited = await console.reply("@alice #x /icc deadline edit 1 audience=group:mediterranean")
    assert "Added to the audience: Lyon." in edited
    assert "Lyon has answered" in await console.reply("@alice #x /icc deadline done 1 city=Lyon")


async def test_a_new_due_date_plans_the_reminders_afresh(sqlite_console: ConsoleHarness) -> None:
    console = sqlite_console
    await console.say('@alice #x /icc deadline add title="Survey" due=2027-01-29 audience=cities:Manchester')
    await console.say("@alice #x /icc deadline edit 1 due=2027-02-05")
    assert posts_in(await console.say("!clock 2027-01-16T00:00Z"), "manchester") == []   # the old -14 is gone
    [first] = posts_in(await console.say("!clock 2027-01-23T00:00Z"), "manchester")
    assert "is due in 14 days, on Friday, 5 February 2027" in first
