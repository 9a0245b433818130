"""Shared fixtures: a migrated database per test (SQLite always; PostgreSQL when
ICC_TEST_POSTGRES_URL is set), settings isolated from the environment, and a console harness.

Migrating and loading the demo network take a good part of a second, so each is done once per
session into a template (a SQLite file that is copied, a PostgreSQL template database that
`CREATE DATABASE … TEMPLATE` clones) and every test gets its own fresh copy.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from storage.migrate import upgrade

pytest_plugins = ["tests.fakes.fixtures"]

POSTGRES_URL = os.environ.get("ICC_TEST_POSTGRES_URL")
NO_POSTGRES = "ICC_TEST_POSTGRES_URL is not set: PostgreSQL tests need a server (see README, Testing)"

_ENV_PREFIXES = ("SLACK_", "DISCORD_", "DEEPL_")
_ENV_NAMES = ("DATABASE_URL", "ICC_ADMINS", "ICC_TIMEZONE", "LOG_LEVEL", "PORT", "BOT_NAME")


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return "PostgreSQL tests: on (ICC_TEST_POSTGRES_URL is set)"
    return f"PostgreSQL tests: skipped ({NO_POSTGRES})"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests see no configuration but what they set, and no `.env` from the checkout."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


async def _load_demo(url: str) -> None:
    from bot.demo import load_demo
    from storage.db import Database
    from tests.harness import START

    database = Database(url)
    async with database.session() as session:
        await load_demo(session, START)
    await database.dispose()


# ---- SQLite ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("templates")
    migrated, demo = folder / "migrated.db", folder / "demo.db"
    upgrade(f"sqlite:///{migrated}")
    shutil.copy(migrated, demo)
    asyncio.run(_load_demo(f"sqlite:///{demo}"))
    return {"migrated": migrated, "demo": demo}


def _sqlite_copy(templates: dict[str, Path], kind: str, tmp_path: Path) -> str:
    path = tmp_path / f"{kind}.db"
    shutil.copy(templates[kind], path)
    return f"sqlite:///{path}"


# ---- PostgreSQL --------------------------------------------------------------------------------


def postgres_url(database: str) -> str:
    assert POSTGRES_URL is not None
    base = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return base.rsplit("/", 1)[0] + f"/{database}"


def _admin_engine():  # type: ignore[no-untyped-def]
    assert POSTGRES_URL is not None
    return create_engine(postgres_url(POSTGRES_URL.rsplit("/", 1)[1]), poolclass=NullPool,
                         isolation_level="AUTOCOMMIT")


def create_postgres_database(template: str | None = None) -> str:
    name = f"icc_test_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine()
    with engine.connect() as connection:
        clause = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    engine.dispose()
    return name


def drop_postgres_database(name: str) -> None:
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[dict[str, str]]:
    if POSTGRES_URL is None:
        pytest.skip(NO_POSTGRES)
    migrated = create_postgres_database()
    upgrade(postgres_url(migrated))
    demo = create_postgres_database(template=migrated)
    asyncio.run(_load_demo(postgres_url(demo)))
    try:
        yield {"migrated": migrated, "demo": demo}
    finally:
        drop_postgres_database(demo)
        drop_postgres_database(migrated)


@pytest.fixture
def postgres_database_factory(postgres_templates: dict[str, str]) -> Iterator[Callable[[str], str]]:
    created: list[str] = []

    def make(kind: str = "migrated") -> str:
        name = create_postgres_database(template=postgres_templates[kind])
        created.append(name)
        return postgres_url(name)

    yield make
    for name in created:
        drop_postgres_database(name)


# ---- what tests ask for --------------------------------------------------------------------------

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_templates: dict[str, Path]) -> str:
    """A migrated, empty database: each test that takes it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return _sqlite_copy(sqlite_templates, "migrated", tmp_path)
    return request.getfixturevalue("postgres_database_factory")("migrated")


@pytest.fixture(params=BACKENDS)
def demo_database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_templates: dict[str, Path]) -> str:
    """A migrated database with the demo network, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return _sqlite_copy(sqlite_templates, "demo", tmp_path)
    return request.getfixturevalue("postgres_database_factory")("demo")


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_templates: dict[str, Path]) -> str:
    """For tests whose subject does not depend on the database engine."""
    return _sqlite_copy(sqlite_templates, "migrated", tmp_path)


@pytest.fixture
def sqlite_demo_url(tmp_path: Path, sqlite_templates: dict[str, Path]) -> str:
    return _sqlite_copy(sqlite_templates, "demo", tmp_path)


# ---- the console harness --------------------------------------------------------------------


@pytest.fixture
async def console(demo_database_url: str) -> AsyncIterator[object]:
    """The demo network on the console, on each database."""
    from tests.harness import ConsoleHarness

    harness = await ConsoleHarness.start(demo_database_url, demo=False)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def sqlite_console(sqlite_demo_url: str) -> AsyncIterator[object]:
    """The demo network on the console, SQLite only (for tests about something else than storage)."""
    from tests.harness import ConsoleHarness

    harness = await ConsoleHarness.start(sqlite_demo_url, demo=False)
    try:
        yield harness
    finally:
        await harness.stop()
