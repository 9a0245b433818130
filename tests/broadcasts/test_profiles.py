"""City profile sections: registered by areas, shown in order, a failing one left out."""

from __future__ import annotations

from bot.i18n import Text, _
from bot.profiles import CityProfiles, ProfileRequest, city_profiles
from tests.harness import ConsoleHarness


async def test_sections_are_shown_in_order_and_a_failing_one_is_left_out(sqlite_console: ConsoleHarness) -> None:
    profiles = city_profiles(sqlite_console.bot)
    assert profiles is city_profiles(sqlite_console.bot)  # one registry per bot

    async def deadlines(request: ProfileRequest) -> list[Text]:
        return [_("Deadlines: {answered} answered, {open} open", answered=2, open=1)]

    async def practices(request: ProfileRequest) -> list[Text]:
        return [f"Practices of {request.city.name}: 3"]

    async def broken(request: ProfileRequest) -> list[Text]:
        raise RuntimeError("boom")

    profiles.add("deadlines", deadlines, order=45)
    profiles.add("practices", practices, order=40)
    profiles.add("broken", broken, order=41)
    assert profiles.names == ["practices", "broken", "deadlines", "matches"]
    profile = await sqlite_console.reply("@alice #lyon /icc city show Lyon")
    lines = profile.split("\n")
    assert lines.index("Practices of Lyon: 3") < lines.index("Deadlines: 2 answered, 1 open")
    assert lines[-1].startswith("Cities to work with:")


def test_a_section_name_is_registered_once() -> None:
    profiles = CityProfiles()

    async def section(request: ProfileRequest) -> list[Text]:
        return []

    profiles.add("x", section)
    try:
        profiles.add("x", section)
    except ValueError:
        return
    raise AssertionError("a second registration must fail")
