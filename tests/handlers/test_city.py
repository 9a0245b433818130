from tests.harness import ConsoleHarness


async def test_register_then_show_profile(console: ConsoleHarness) -> None:
    answer = await console.reply("@sam #x /icc city register genova")
    assert "You are now registered as a coordinator of Genova" in answer
    profile = await console.reply("@sam #x /icc city show Genova")
    assert "Genova (Italy)" in profile and "Città del Dialogo" in profile
    assert "Coordinators: sam" in profile and "Europe/Rome" in profile


async def test_unknown_city_suggests(console: ConsoleHarness) -> None:
    answer = await console.reply("@sam #x /icc city register Milan")
    assert answer == "[#x → @sam] I don't know the city `Milan`. Did you mean: Milano, Amman?"


async def test_list_by_network(console: ConsoleHarness) -> None:
    overview = await console.reply("@sam #x /icc city list")
    assert "`rpci` RPCI: 18 cities" in overview
    ukraine = await console.reply("@sam #x /icc city list network=icc-ua")
    assert ukraine.startswith("[#x → @sam] ICC-UA (6): ") and "Odesa" in ukraine
    assert "There is no network `atlantis`" in await console.reply("@sam #x /icc city list network=atlantis")


async def test_coordinator_sets_own_city_only(console: ConsoleHarness) -> None:
    # Marco coordinates Milano: the bot answers him in Italian.
    assert "Milano aggiornata: timezone." in await console.reply("@marco #x /icc city set timezone=Europe/Rome")
    refused = await console.reply("@marco #x /icc city set city=Lyon timezone=Europe/Paris")
    assert "Solo un coordinatore di quella città o il team ICC può farlo." in refused
    assert "`Mars/Olympus` non è un fuso orario." in await console.reply(
        "@marco #x /icc city set timezone=Mars/Olympus")
    assert "Indichi cosa cambiare" in await console.reply("@marco #x /icc city set")
    assert "Register your city first" in await console.reply("@alice #x /icc city set timezone=Europe/Paris")
    assert "Lyon updated" in await console.reply("@alice #x /icc city set city=Lyon reminders=dm")
    assert "by direct message" in await console.reply("@alice #x /icc city show lyon")


async def test_city_channel_here(console: ConsoleHarness) -> None:
    await console.say("@alice #genova-room /icc city set city=Genova channel=here")
    assert "#genova-room" in await console.reply("@alice #x /icc city show genova")
