"""PostgreSQL connections lost while pooled: an idle one is tested before use and replaced without
anyone noticing; one in steady use is not tested (no round trip per unit of work), so the one
statement that finds it dead fails, and the pool replaces it and its elders for the next."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import Database

pytestmark = pytest.mark.postgres


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    from tests.conftest import NO_POSTGRES, POSTGRES_URL, create_postgres_database, drop_postgres_database, postgres_url

    if POSTGRES_URL is None:
        pytest.skip(NO_POSTGRES)
    name = create_postgres_database()
    yield postgres_url(name)
    drop_postgres_database(name)


async def _backend(db: Database) -> int:
    async with db.session() as session:
        row = (await session.exec(text("SELECT pg_backend_pid()"))).first()  # type: ignore[call-overload]
        return int(row[0])


async def _terminate(db: Database, pid: int) -> None:
    async with db.session() as session:
        await session.exec(text("SELECT pg_terminate_backend(:pid)"), params={"pid": pid})  # type: ignore[call-overload]


async def test_an_idle_connection_lost_is_replaced_unnoticed(server_url: str) -> None:
    db = Database(server_url, ping_after_idle=0.0)
    other = Database(server_url)
    try:
        first = await _backend(db)
        await _terminate(other, first)
        assert await _backend(db) != first
    finally:
        await db.dispose()
        await other.dispose()


async def test_a_busy_connection_is_not_tested_and_a_lost_one_fails_once(server_url: str) -> None:
    db = Database(server_url, ping_after_idle=3600.0)
    other = Database(server_url)
    try:
        first = await _backend(db)
        assert await _backend(db) == first
        await _terminate(other, first)
        with pytest.raises(DBAPIError):
            await _backend(db)
        assert await _backend(db) != first
    finally:
        await db.dispose()
        await other.dispose()
