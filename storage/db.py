"""The database: one async engine, sessions, and the URL rules.

SQLite (a file, zero set-up) unless `DATABASE_URL` names PostgreSQL. The same URL also serves
Alembic, which runs synchronously; `async_url`/`sync_url` pick the driver for each side.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import ArgumentError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

DEFAULT_URL = "sqlite:///icc-bot.db"


class DatabaseURLError(ValueError):
    """A DATABASE_URL the bot cannot use; the message never contains the password."""


def parse_url(raw: str) -> URL:
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise DatabaseURLError(
            "DATABASE_URL is not a database URL (expected sqlite:///path.db or "
            "postgresql+psycopg://user:password@host:5432/name)") from None
    backend = url.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise DatabaseURLError(f"DATABASE_URL names '{backend}'; the bot works with sqlite or postgresql")
    driver = url.get_driver_name()
    if backend == "postgresql" and driver not in {"psycopg", "psycopg2", "asyncpg"} and url.drivername != "postgresql":
        raise DatabaseURLError(f"DATABASE_URL driver '{driver}' is not supported; use postgresql+psycopg://")
    if backend == "postgresql" and not url.database:
        raise DatabaseURLError("DATABASE_URL has no database name")
    if backend == "postgresql" and url.port is not None and not 0 < url.port < 65536:
        raise DatabaseURLError("DATABASE_URL has an invalid port")
    return url


def async_url(raw: str) -> URL:
    url = parse_url(raw)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    return url.set(drivername="postgresql+psycopg")


def sync_url(raw: str) -> URL:
    url = parse_url(raw)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite")
    return url.set(drivername="postgresql+psycopg")


def safe_url(raw: str) -> str:
    """The URL with its password hidden, fit for a log line."""
    try:
        return parse_url(raw).render_as_string(hide_password=True)
    except DatabaseURLError:
        return "<invalid DATABASE_URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer commits; busy_timeout waits out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# A pooled PostgreSQL connection idle for this long is tested (one `SELECT 1`) before it is used
# again: the server may have been restarted, or a firewall may have dropped the connection, in the
# meantime. A connection in steady use is not tested: that would cost a round trip per unit of
# work (a search is one). Should one die all the same, the statement that finds out fails, and
# SQLAlchemy then replaces every connection opened before it (the pool's invalidation time).
PING_AFTER_IDLE = 5.0


def _ping_idle_connections(engine: AsyncEngine, after: float) -> None:
    dialect: Dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < after:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and every one opened before it (a restarted server
            # closed them all), and checks out a new one.
            raise InvalidatePoolError(f"idle connection lost: {error}") from error

    event.listen(engine.sync_engine.pool, "checkin", checkin)
    event.listen(engine.sync_engine.pool, "checkout", checkout)


class Database:
    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10,
                 ping_after_idle: float = PING_AFTER_IDLE) -> None:
        self.url = url
        target = async_url(url)
        self.dialect = target.get_backend_name()
        options: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            options.update(pool_size=pool_size, max_overflow=pool_size)
        self.engine: AsyncEngine = create_async_engine(target, **options)
        if self.dialect == "postgresql":
            _ping_idle_connections(self.engine, ping_after_idle)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends normally, rolled back on an error."""
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
