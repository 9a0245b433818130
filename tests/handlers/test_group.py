"""`/icc group …` end to end on the console, on each database."""

from tests.harness import ConsoleHarness


async def test_create_link_three_languages_and_list(console: ConsoleHarness) -> None:
    assert "created" in await console.reply('@alice #lobby /icc group create "Intercultural schools" topic=education')
    first = await console.reply("@alice #schools-en /icc group link intercultural-schools lang=en")
    assert first.startswith("[#schools-en] ICC bot: This channel is now part of `intercultural-schools`")
    assert "0 other channels" in first
    await console.say("@alice #ecoles-fr /icc group link intercultural-schools lang=fr")
    third = await console.reply("@alice #escuelas-es /icc group link intercultural-schools lang=es")
    assert "Spanish (es)" in third and "2 other channels" in third
    listing = await console.reply("@tom #lobby /icc group list")
    line = next(row for row in listing.splitlines() if "intercultural-schools" in row)
    assert "3 channels" in line and "en, es, fr" in line
    members = await console.reply("@tom #lobby /icc group members intercultural-schools")
    assert "#schools-en: English (en)" in members and "#ecoles-fr: French (fr)" in members


async def test_coordinator_cannot_create_a_group_and_is_told_in_french(console: ConsoleHarness) -> None:
    before = await console.reply("@alice #lobby /icc group list")
    answer = await console.reply("@marie #lobby /icc group create clandestine")
    assert answer == "[#lobby → @marie] Seule l'équipe ICC peut faire cela."
    assert await console.reply("@alice #lobby /icc group list") == before


async def test_only_the_groups_lead_or_icc_team_links_channels(console: ConsoleHarness) -> None:
    refused = await console.reply("@tom #new-room /icc group link anti-rumours lang=en")  # tom leads another group
    assert "Only a lead of this group" in refused
    linked = await console.reply("@lucia #nueva-sala /icc group link anti-rumours lang=es")
    assert "Este" in linked or "now part of `anti-rumours`" in linked
    members = await console.reply("@lucia #x /icc group members anti-rumours")
    assert "#nueva-sala" in members and "#new-room" not in members


async def test_a_channel_belongs_to_one_group_at_a_time(console: ConsoleHarness) -> None:
    answer = await console.reply("@alice #rumours-en /icc group link mediterranean")
    assert "Unlink it first" in answer
    assert "no longer part of `anti-rumours`" in await console.reply("@alice #rumours-en /icc group unlink")
    assert "now part of `mediterranean`" in await console.reply("@alice #rumours-en /icc group link mediterranean")


async def test_unknown_group_suggests_close_names(console: ConsoleHarness) -> None:
    answer = await console.reply("@alice #x /icc group members anti-rumour")
    assert "There is no group `anti-rumour`. Did you mean: anti-rumours?" in answer


async def test_bad_group_input_changes_nothing(console: ConsoleHarness) -> None:
    before = await console.reply("@alice #lobby /icc group list")
    for line, fragment in [
        ("/icc group create", "`name` is missing"),
        ("/icc group create !!!", "needs letters or digits"),
        ("/icc group create x kind=galactic", "must be one of: thematic, regional"),
        ("/icc group create x topic=astrology", "not one of the programme's topics"),
        ("/icc group create anti-rumours", "already exists"),
        ("/icc group link nowhere", "There is no group"),
        ("/icc group link anti-rumours lang=klingon", "not a language code"),
    ]:
        answer = await console.reply(f"@alice #lobby {line}")
        assert fragment in answer, (line, answer)
        assert "Traceback" not in answer
    assert await console.reply("@alice #lobby /icc group list") == before


async def test_cities_join_and_leave_groups(console: ConsoleHarness) -> None:
    # Olena coordinates Odesa: the bot answers her in Ukrainian.
    assert "Місто Odesa тепер є учасником `mediterranean`." in await console.reply(
        "@olena #x /icc group join mediterranean")
    assert "Це може зробити лише координатор цього міста або команда ICC." in await console.reply(
        "@olena #x /icc group join mediterranean city=Bari")
    assert "Bari is now a member" in await console.reply("@alice #x /icc group join mediterranean city=Bari")
    members = await console.reply("@alice #x /icc group members mediterranean")
    assert "Odesa" in members and "Bari" in members
    assert "Місто Odesa вийшло з `mediterranean`." in await console.reply("@olena #x /icc group leave mediterranean")
