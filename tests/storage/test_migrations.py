"""The schema comes only from migrations: empty → head works on both engines, and the models
describe exactly what the migrations build."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import storage.models
from storage.db import sync_url
from storage.migrate import current_revisions, head_revisions, upgrade


def _fresh_sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return _fresh_sqlite(tmp_path)
    url: str = request.getfixturevalue("empty_postgres")
    return url


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    from tests.conftest import NO_POSTGRES, POSTGRES_URL, create_postgres_database, drop_postgres_database, postgres_url

    if POSTGRES_URL is None:
        pytest.skip(NO_POSTGRES)
    name = create_postgres_database()
    yield postgres_url(name)
    drop_postgres_database(name)


def test_empty_to_head_then_models_match(empty_database: str) -> None:
    assert current_revisions(empty_database) == ()
    upgrade(empty_database)
    assert set(current_revisions(empty_database)) == set(head_revisions())
    engine = create_engine(sync_url(empty_database), poolclass=NullPool)
    with engine.connect() as connection:
        options = {"compare_type": True, "include_object": storage.models.include_object}
        differences = compare_metadata(MigrationContext.configure(connection, opts=options), SQLModel.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == [], "models and migrations differ: write a migration"
    assert {"city", "channel", "person", "icc_group", "role_grant"} <= tables


def test_upgrade_twice_is_harmless(tmp_path: Path) -> None:
    url = _fresh_sqlite(tmp_path)
    upgrade(url)
    upgrade(url)
    assert set(current_revisions(url)) == set(head_revisions())


def test_a_single_line_of_history() -> None:
    assert len(head_revisions()) == 1, "two migration heads: set down_revision to the previous head"
