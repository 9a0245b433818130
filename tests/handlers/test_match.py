"""`/icc match [city]`: cities ranked by shared topics and groups and by practices on topics the
asking city has none of, each with its reasons; and the line it adds to a city's profile."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.matching import CityWork, matching_sources, rank
from storage.models import City
from storage.queries import registry
from tests.harness import ConsoleHarness


def ranked(answer: str) -> list[str]:
    return [line.split("**")[1] for line in answer.split("\n")[1:] if "**" in line]


async def test_a_coordinators_own_city_by_default_best_match_first(sqlite_console: ConsoleHarness) -> None:
    answer = await sqlite_console.reply("@marie #lyon /icc match")  # Marie coordinates Lyon, in French
    assert "Villes avec qui Lyon pourrait travailler (Lyon travaille sur anti-rumours et welcoming newcomers) :" \
        in answer
    assert "1. **Manchester** (United Kingdom) : partage anti-rumours et welcoming newcomers" in answer
    answer = await sqlite_console.reply("@alice /icc match Lyon")
    assert "Cities for Lyon to work with (Lyon works on anti-rumours and welcoming newcomers):" in answer
    assert ranked(answer)[0] == "Manchester"
    assert "1. **Manchester** (United Kingdom): shares anti-rumours and welcoming newcomers" in answer
    assert set(ranked(answer)) <= {"Manchester", "Barcelona", "Erlangen", "Lisboa", "Milano", "Odesa", "Rabat"}


async def test_a_regional_group_is_a_reason_of_its_own(sqlite_console: ConsoleHarness) -> None:
    answer = await sqlite_console.reply("@alice /icc match Rabat")
    assert "1. **Lisboa** (Portugal): shares welcoming newcomers; both in `mediterranean`" in answer
    assert "**Barcelona** (Spain): both in `mediterranean`" in answer


async def test_practices_on_topics_the_city_lacks_are_suggested_with_their_count(
        sqlite_console: ConsoleHarness) -> None:
    async def practices(session: AsyncSession) -> Mapping[int, Mapping[str, int]]:
        erlangen = await registry.find_city(session, "Erlangen")
        odesa = await registry.find_city(session, "Odesa")
        bergen = await registry.find_city(session, "Bergen")
        assert erlangen and odesa and bergen and erlangen.id and odesa.id and bergen.id
        return {erlangen.id: {"education": 2}, odesa.id: {"anti-rumours": 1}, bergen.id: {"public-space": 7}}

    matching_sources(sqlite_console.bot).practice_topics.append(practices)
    answer = await sqlite_console.reply("@alice /icc match Lyon")
    assert ("**Erlangen** (Germany): shares welcoming newcomers; 2 practices on education, a topic Lyon has "
            "none of") in answer
    assert "**Odesa** (Ukraine): shares anti-rumours" in answer and "practice on anti-rumours" not in answer
    # A city in no group is found through its practices alone (capped: 7 practices count as 3).
    assert "**Bergen** (Norway): 7 practices on public space, a topic Lyon has none of" in answer
    assert ranked(answer).index("Erlangen") < ranked(answer).index("Odesa")


async def test_unknown_empty_and_missing_cities_get_a_clear_answer(sqlite_console: ConsoleHarness) -> None:
    assert "I don't know the city `Lyonn`. Did you mean: Lyon?" in await sqlite_console.reply("@alice /icc match Lyonn")
    assert "Sabadell is in no group and has no practice yet" in await sqlite_console.reply(
        "@alice /icc match Sabadell")
    assert "Name a city (`/icc match <city>`)" in await sqlite_console.reply("@alice /icc match")
    assert "Amsterdam South East is in no group" in await sqlite_console.reply(
        "@alice /icc match Amsterdam South East")


async def test_the_profile_names_the_best_matches(sqlite_console: ConsoleHarness) -> None:
    profile = await sqlite_console.reply("@alice #lyon /icc city show Lyon")
    assert "Cities to work with: Manchester, " in profile and "(`/icc match Lyon` says why)" in profile
    assert "Cities to work with" not in await sqlite_console.reply("@alice #lyon /icc city show Sabadell")


def test_ranking_weighs_groups_topics_and_new_practices() -> None:
    def city(name: str, id_: int) -> City:
        return City(id=id_, slug=name.lower(), name=name, country="X", language="en", timezone="UTC")

    asking = CityWork(city("A", 1), {"g1": "anti-rumours"}, frozenset({"anti-rumours"}), {})
    others = [
        CityWork(city("Twin", 2), {"g1": "anti-rumours"}, frozenset({"anti-rumours"}), {}),
        CityWork(city("Topic", 3), {}, frozenset(), {"anti-rumours": 1}),
        CityWork(city("Teacher", 4), {}, frozenset(), {"education": 10}),
        CityWork(city("Stranger", 5), {"g9": None}, frozenset(), {}),
        asking,
    ]
    suggestions = rank(asking, others)
    assert [(s.city.name, s.score) for s in suggestions] == [("Twin", 5.0), ("Teacher", 3.0), ("Topic", 2.0)]
