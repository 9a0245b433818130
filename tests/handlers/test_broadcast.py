"""`/icc broadcast` in the console: issue 8's "done when", the preview and its buttons, bad input,
cancel, edit, status and the list."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.broadcasts.conftest import bc, bc_deepl, bc_lite, broadcast_posts, dms, stored
from tests.fakes.fake_deepl import FakeDeepL
from tests.harness import ConsoleHarness
from tests.relay.conftest import RelayHarness

__all__ = ["bc", "bc_deepl", "bc_lite"]  # fixtures used here

SURVEY = "The annual survey opens today: please answer by 15 February."


def posts_in_channels(entries: list[str]) -> list[str]:
    """Entries that are posts in a channel (not ephemeral answers, DMs or console notes)."""
    return [entry for entry in entries if entry.startswith("[#") and " → @" not in entry.split("]")[0]]


@pytest.fixture
async def console_deepl(demo_database_url: str, fake_deepl: FakeDeepL) -> AsyncIterator[ConsoleHarness]:
    harness = await ConsoleHarness.start(demo_database_url, deepl_auth_key=fake_deepl.auth_key,
                                         deepl_server_url=fake_deepl.url)
    yield harness
    await harness.stop()


# ---- issue 8's done-when, in the console -------------------------------------------------------


async def test_done_when_an_icc_team_member_broadcasts_to_a_network_at_a_set_time(
        console_deepl: ConsoleHarness, fake_deepl: FakeDeepL) -> None:
    console = console_deepl
    # A coordinator who tries is refused, in their language; nothing is stored.
    refused = await console.reply("@marie #lyon /icc broadcast to=network:international Bonjour à tous")
    assert refused == "[#lyon → @marie] Seule l'équipe ICC peut faire cela."

    # The ICC team prepares it for Tuesday 09:00 in Strasbourg (08:00 UTC in winter).
    preview = await console.reply(
        f"@alice #rumours-en /icc broadcast to=network:international at=2027-01-12T09:00 {SURVEY}")
    assert preview.startswith("[#rumours-en → @alice] **Broadcast #1: preview**")
    assert "To: network `international` · 2 destinations" in preview
    assert "• console · German (de): #erlangen" in preview and "• console · French (fr): #lyon" in preview
    assert "When: Tuesday 12 January 2027, 09:00 (Europe/Paris, the ICC team's time zone)." in preview
    assert "cities of the network have no channel of their own" in preview
    assert preview.endswith("[1: Confirm] [2: Cancel]")
    confirmed = await console.reply("@alice #rumours-en !press ^ 1")
    assert "Broadcast #1 is scheduled: 2 destinations get it on Tuesday 12 January 2027, 09:00 (Europe/Paris)" \
        in confirmed

    # Nothing goes before the time…
    assert await console.say("!clock 2027-01-12T07:59Z") == ["[console] clock: 2027-01-12 07:59 UTC (Tuesday)"]
    # …then each channel of the network gets it in its language, and nothing else gets it.
    entries = await console.say("!clock 2027-01-12T08:00Z")
    posts = sorted(entry.split("\n")[0] for entry in posts_in_channels(entries))
    assert posts == [f"[#erlangen] ICC team: [DE] {SURVEY}", f"[#lyon] ICC team: [FR] {SURVEY}"]
    assert sorted(call.target_lang for call in fake_deepl.translate_calls) == ["DE", "FR"]
    # The sender hears when it is done.
    report = next(entry for entry in entries if entry.startswith("[@alice]"))
    assert "Broadcast #1 to network `international` is done: 2 delivered, 0 failed." in report

    status = await console.reply("@alice #rumours-en /icc broadcast status 1")
    assert "2 delivered · 0 failed · 0 pending" in status
    assert "✅ #lyon (console) · French (fr): delivered" in status
    assert "✅ #erlangen (console) · German (de): delivered" in status


# ---- the preview ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "answer"), [
    ("to=group:nope Hello", "There is no group `nope`."),
    ("to=network:atlantis Hello", "There is no network `atlantis`."),
    ("to=cities:Lyon,Atlantis Hello", "I don't know the city `Atlantis`."),
    ("to=cities:Atlantis,Utopia Hello", "I don't know these cities: `Atlantis`, `Utopia`."),
    ("to=lang:xx Hello", "`xx` is not a language code I know."),
    ("to=everyone Hello", "`everyone` is not an audience."),
    ("to=group:mediterranean", "Write the announcement's text."),
    ("at=2027-01-10T09:00 Hello", "Sunday 10 January 2027, 09:00 (Europe/Paris) has already passed."),
    ("at=tomorrow Hello", "`tomorrow` is not a time I can read. Write it like `at=2027-01-12T09:00`."),
    ("at=2027-02-30T09:00 Hello", "`2027-02-30T09:00` is not a date that exists."),
    ("at=2029-01-12T09:00 Hello", "A broadcast can be scheduled at most a year ahead."),
    ("to=cities:Getxo Hello", "Getxo has no channel and no registered coordinator, so nobody would get it."),
])
async def test_bad_input_is_answered_and_nothing_is_stored(bc_lite: RelayHarness, command: str, answer: str) -> None:
    reply = await bc_lite.reply(f"@alice #rumours-en /icc broadcast {command}")
    assert answer in reply
    assert "[1: Confirm]" not in reply
    assert await stored(bc_lite) == ([], [], [])


async def test_a_bad_input_is_answered_in_the_senders_language(bc_lite: RelayHarness) -> None:
    reply = await bc_lite.reply("@hugo #rumours-en /icc broadcast at=2027-01-10T09:00 Bonjour")
    assert "dimanche 10 janvier 2027, 09:00 (Europe/Paris)" in reply and "est déjà passé" in reply


async def test_the_preview_expires_after_an_hour(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice #rumours-en /icc broadcast to=group:anti-rumours Hello", "!clock +61m")
    answer = await bc_lite.reply("@alice #rumours-en !press ^ 1")
    assert "This preview has expired (previews last an hour): nothing was sent." in answer
    await bc_lite.say("!clock +1d")
    assert broadcast_posts(bc_lite) == []


async def test_cancel_on_the_preview_sends_nothing_and_a_later_confirm_is_refused(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice #rumours-en /icc broadcast to=group:anti-rumours Hello")
    assert "Preview #1 cancelled: nothing was sent." in await bc_lite.reply("@alice #rumours-en !press ^ 2")
    assert "Preview #1 was cancelled: nothing was sent." in await bc_lite.reply("@alice #rumours-en !press ^ 1")
    assert broadcast_posts(bc_lite) == []


async def test_only_the_icc_team_can_confirm(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice #rumours-en /icc broadcast to=group:anti-rumours Hello")
    assert "Only the ICC team can do that." in await bc_lite.reply("@tom #rumours-en !press ^ 1")
    assert broadcast_posts(bc_lite) == []
    # Another member of the ICC team may.
    assert "La diffusion n°1 part vers 5 destinations." in (await bc_lite.say("@hugo #rumours-en !press ^ 1"))[0]


async def test_a_second_press_sends_nothing_twice(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice #rumours-en /icc broadcast to=group:anti-rumours Hello")
    await bc_lite.say("@alice #rumours-en !press ^ 1")
    # The channel's last message is now the broadcast itself; the preview is the one before.
    assert "Broadcast #1 is confirmed already." in await bc_lite.reply("@alice #rumours-en !press ^2 1")
    assert sorted(call.channel for call in broadcast_posts(bc_lite)) == sorted(
        ["rumours-en", "rumeurs-fr", "rumores-es", "chutky-uk", "dicerie-it"])


# ---- who gets it -----------------------------------------------------------------------------------------


async def test_a_group_broadcast_reaches_the_groups_channels_only(bc: RelayHarness) -> None:
    await bc.say("@alice /icc broadcast to=group:welcoming-newcomers Welcome week starts Monday", "@alice !press ^ 1")
    assert sorted(call.channel for call in broadcast_posts(bc)) == [
        "accueil-fr", "acolhimento-pt", "welcome-en", "willkommen-de"]
    assert all(call.message and call.message.post_as and call.message.post_as.name == "ICC team"
               for call in broadcast_posts(bc))


async def test_all_reaches_every_group_channel_and_lang_every_linked_channel_in_it(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice /icc broadcast Hello network", "@alice !press ^ 1")
    assert len(broadcast_posts(bc_lite)) == 13  # the demo's three groups' channels; no city channel
    assert not {"lyon", "rabat"} & {call.channel for call in broadcast_posts(bc_lite)}
    bc_lite.adapter.calls.clear()
    await bc_lite.say("@alice /icc broadcast to=lang:fr Bonjour", "@alice !press ^ 1")
    assert sorted(call.channel for call in broadcast_posts(bc_lite)) == [
        "accueil-fr", "lyon", "med-fr", "rabat", "rumeurs-fr"]


async def test_listed_cities_get_it_in_their_channel_or_by_dm_and_the_rest_is_named(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@pablo #x /icc city register Sabadell", "@pablo /icc lang me es")
    preview = await bc_lite.reply("@alice /icc broadcast to=cities:Lyon,Sabadell,Getxo Survey reminder")
    assert "To: the cities Getxo, Lyon, Sabadell · 2 destinations" in preview
    assert "• console · French (fr): #lyon" in preview
    assert "• by direct message (their city has no channel of its own): pablo (Sabadell)" in preview
    assert "⚠️ Not reached (no channel and no registered coordinator): Getxo" in preview
    entries = await bc_lite.say("@alice !press ^ 1")
    assert [call.channel for call in broadcast_posts(bc_lite)] == ["lyon"]
    [dm] = dms(bc_lite, "pablo")
    # The bot's own words in Spanish (Pablo's language); the text is the sender's.
    assert dm.message is not None
    assert dm.message.text == "📣 **Anuncio del equipo ICC**\n\nSurvey reminder"
    report = next(entry for entry in entries if "is done" in entry)
    assert report.startswith(
        "[@alice] Broadcast #1 to the cities Getxo, Lyon, Sabadell is done: 2 delivered, 0 failed.")
    assert "⚠️ Getxo" in report and "undeliverable" in report


async def test_a_channel_that_leaves_the_audience_before_the_time_is_skipped(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice /icc broadcast to=group:anti-rumours at=2027-01-11T18:00 Tonight's call",
                      "@alice !press ^ 1", "@lucia #dicerie-it /icc group unlink", "!clock 2027-01-11T17:00Z")
    assert sorted(call.channel for call in broadcast_posts(bc_lite)) == [
        "chutky-uk", "rumeurs-fr", "rumores-es", "rumours-en"]
    status = await bc_lite.reply("@alice /icc broadcast status 1")
    assert "⏭️ #dicerie-it (console) · Italian (it): skipped: the channel left the audience" in status


# ---- cancel, edit, status, list ---------------------------------------------------------------------------


async def test_cancelling_a_scheduled_broadcast_sends_nothing(bc: RelayHarness) -> None:
    await bc.say("@alice /icc broadcast to=network:international at=2027-01-12T09:00 Survey", "@alice !press ^ 1")
    assert "Diffusion n°1 annulée : personne ne la recevra." in await bc.reply("@hugo /icc broadcast cancel 1")
    await bc.say("!clock 2027-01-13T00:00Z")
    assert broadcast_posts(bc) == []
    _broadcasts, targets, items = await stored(bc)
    assert {t.state for t in targets} == {"cancelled"} and {i.state for i in items} == {"cancelled"}
    assert "Broadcast #1 is cancelled already." in await bc.reply("@alice /icc broadcast cancel 1")
    assert "🚫 #lyon (console) · French (fr): cancelled" in await bc.reply("@alice /icc broadcast status 1")


async def test_cancel_after_delivery_says_there_is_nothing_left(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice /icc broadcast to=lang:de Hallo", "@alice !press ^ 1")
    assert "has reached every destination already" in await bc_lite.reply("@alice /icc broadcast cancel 1")
    assert "There is no broadcast #9." in await bc_lite.reply("@alice /icc broadcast cancel 9")


async def test_editing_a_sent_broadcast_edits_every_copy_in_its_language(bc_deepl: RelayHarness,
                                                                         fake_deepl: FakeDeepL) -> None:
    await bc_deepl.say("@alice /icc broadcast to=network:international Survey closes on the 15th",
                       "@alice !press ^ 1")
    posted = {call.channel: call.message_id for call in broadcast_posts(bc_deepl)}
    entries = await bc_deepl.say("@alice /icc broadcast edit 1 Survey closes on the 20th")
    assert "[@alice] Broadcast #1 edited: 2 copies are being updated." in entries[0]
    edits = {call.channel: call for call in bc_deepl.adapter.ops("edit")}
    assert {channel: call.message_id for channel, call in edits.items()} == posted
    assert edits["lyon"].message and edits["lyon"].message.text == "[FR] Survey closes on the 20th"
    assert edits["erlangen"].message and edits["erlangen"].message.text == "[DE] Survey closes on the 20th"
    assert len(broadcast_posts(bc_deepl)) == 2  # no new post
    status = await bc_deepl.reply("@alice /icc broadcast status 1")
    assert "delivered and edited" in status and "Edited once." in status


async def test_an_edit_that_needs_more_parts_posts_them_and_fewer_deletes_them(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice /icc broadcast to=cities:Lyon Short", "@alice !press ^ 1")
    long_text = "\n\n".join(f"Paragraph {n}: " + "words " * 120 for n in range(10))  # ~7,300 characters
    await bc_lite.say(f"@alice /icc broadcast edit 1 {long_text}")
    lyon = [call for call in bc_lite.adapter.calls if call.channel == "lyon"]
    assert [call.op for call in lyon] == ["post", "edit", "post"]  # the console takes 4,000 characters a post
    await bc_lite.say("@alice /icc broadcast edit 1 Short again")
    lyon = [call for call in bc_lite.adapter.calls if call.channel == "lyon"]
    assert [call.op for call in lyon][3:] == ["edit", "delete"]
    assert lyon[-1].message_id == lyon[2].message_id


async def test_editing_a_scheduled_broadcast_sends_the_new_text_at_its_time(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice /icc broadcast to=cities:Lyon at=2027-01-12T09:00 Old", "@alice !press ^ 1")
    answer = await bc_lite.reply("@alice /icc broadcast edit 1 New")
    assert "Broadcast #1 edited: it goes out with the new text on Tuesday 12 January 2027, 09:00" in answer
    await bc_lite.say("!clock 2027-01-12T08:00Z")
    assert [call.message.text for call in broadcast_posts(bc_lite) if call.message] == ["New"]
    assert bc_lite.adapter.ops("edit") == []


async def test_editing_a_preview_shows_it_again(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice /icc broadcast to=cities:Lyon Old")
    answer = await bc_lite.reply("@alice /icc broadcast edit 1 New text")
    assert "**Broadcast #1: preview**" in answer and "> New text" in answer and "[1: Confirm]" in answer
    await bc_lite.say("@alice !press ^ 1")
    assert [call.message.text for call in broadcast_posts(bc_lite) if call.message] == ["New text"]


async def test_status_and_list_are_for_the_icc_team(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice /icc broadcast to=cities:Lyon Hello Lyon", "@alice !press ^ 1")
    listing = await bc_lite.reply("@hugo /icc broadcast list")
    assert "• n°1 la ville Lyon · Terminée : envoyée le lundi 11 janvier 2027, 09:00 (Europe/Paris). · 1/1 remise(s)" \
        in listing
    assert "Seule l'équipe ICC peut faire cela." in await bc_lite.reply("@marie /icc broadcast status 1")
    assert "Seule l'équipe ICC peut faire cela." in await bc_lite.reply("@marie /icc broadcast list")
    assert "`id` must be a number" in await bc_lite.reply("@alice /icc broadcast status one")


async def test_help_explains_the_audiences(bc_lite: RelayHarness) -> None:
    answer = await bc_lite.reply("@alice /icc help broadcast")
    assert "group channels are shared with other networks, so they are left out" in answer
    assert "`/icc broadcast status <id>`" in answer


async def test_send_is_the_default_forms_other_name(bc_lite: RelayHarness) -> None:
    preview = await bc_lite.reply("@alice /icc broadcast send to=cities:Lyon Status of the survey: open")
    assert "**Broadcast #1: preview**" in preview and "> Status of the survey: open" in preview
    assert "`id` must be a number" in await bc_lite.reply("@alice /icc broadcast status of the survey")
