"""Registry queries against a real database (SQLite, and PostgreSQL where configured)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from bot.demo import cities_file
from storage.db import Database
from storage.models import Channel, Person
from storage.queries import registry
from storage.seed import read_cities, seed_cities

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str):  # type: ignore[no-untyped-def]
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_seed_loads_every_city_once_and_is_idempotent(db: Database) -> None:
    rows = read_cities(cities_file())
    async with db.session() as session:
        first = await seed_cities(session, rows)
    async with db.session() as session:
        again = await seed_cities(session, rows)
        cities = await registry.list_cities(session)
    assert first.cities_added == len(rows) == len(cities) == 158
    assert again.cities_added == again.cities_updated == again.networks_added == 0
    assert first.networks_added == len({row["network"] for row in rows})


async def test_city_lookup_forgives_case_accents_and_partial_names(db: Database) -> None:
    async with db.session() as session:
        await seed_cities(session, read_cities(cities_file()))
        assert (await registry.find_city(session, "forli")).name == "Forlì"  # type: ignore[union-attr]
        assert (await registry.find_city(session, "PORTO")).name == "Paranhos (Porto)"  # type: ignore[union-attr]
        assert await registry.find_city(session, "Atlantis") is None
        assert "Milano" in await registry.suggest_cities(session, "Milan")


async def test_people_are_unique_per_platform_identity_and_names_follow(db: Database) -> None:
    async with db.session() as session:
        first = await registry.upsert_person(session, "slack", "T1", "U1", display_name="Ana", now=NOW)
        again = await registry.upsert_person(session, "slack", "T1", "U1", display_name="Ana Souza", now=NOW)
        other = await registry.upsert_person(session, "slack", "T2", "U1", display_name="Ana", now=NOW)
    assert first.id == again.id != other.id
    assert again.display_name == "Ana Souza"
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(Person(platform="slack", workspace="T1", user_id="U1", created_at=NOW))


async def test_a_channel_is_unique_per_platform_workspace_and_id(db: Database) -> None:
    async with db.session() as session:
        channel = await registry.ensure_channel(session, "discord", "G1", "C1", language="fr")
        same = await registry.ensure_channel(session, "discord", "G1", "C1", language="de")
    assert channel.id == same.id and same.language == "fr"
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(Channel(platform="discord", workspace="G1", channel_id="C1"))


async def test_roles_grant_revoke_and_aware_times(db: Database) -> None:
    async with db.session() as session:
        person = await registry.upsert_person(session, "console", "local", "x", display_name="X", now=NOW)
        assert await registry.grant_role(session, person.id, "icc-team", group_id=None, granted_by_id=None, now=NOW)
        assert not await registry.grant_role(session, person.id, "icc-team", group_id=None, granted_by_id=None,
                                             now=NOW)
    async with db.session() as session:
        grants = await registry.grants_of(session, person.id)  # type: ignore[arg-type]
        assert [g.role for g in grants] == ["icc-team"]
        assert grants[0].granted_at == NOW and grants[0].granted_at.tzinfo is not None
        assert await registry.revoke_role(session, person.id, "icc-team", group_id=None)  # type: ignore[arg-type]
        assert not await registry.revoke_role(session, person.id, "icc-team", group_id=None)  # type: ignore[arg-type]


async def test_a_platform_time_zone_seeds_a_person_once_and_never_overrides(db: Database) -> None:
    async with db.session() as session:
        person = await registry.upsert_person(session, "slack", "T1", "U1", display_name="Ana", now=NOW,
                                              timezone="America/Sao_Paulo")
        assert person.timezone == "America/Sao_Paulo"
        person.timezone = "Europe/Lisbon"  # the person (or their city) chose another
        again = await registry.upsert_person(session, "slack", "T1", "U1", display_name="Ana", now=NOW,
                                             timezone="America/Sao_Paulo")
        assert again.timezone == "Europe/Lisbon"
        unknown = await registry.upsert_person(session, "slack", "T1", "U2", display_name="Bo", now=NOW)
        assert unknown.timezone is None
        seeded_later = await registry.upsert_person(session, "slack", "T1", "U2", display_name="Bo", now=NOW,
                                                    timezone="Europe/Kyiv")
        assert seeded_later.timezone == "Europe/Kyiv"
