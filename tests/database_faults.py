"""Make the bot's database fail for a while, through SQLAlchemy's own events: the engine, its
pool and the driver stay real; only the commit (or a new connection) is refused, with the
`OperationalError` SQLAlchemy raises when SQLite stays locked or PostgreSQL drops away.

    faults = DatabaseFaults(bot.db)
    faults.fail_commits()        # every commit fails until faults.recover()
    faults.fail_commits(3)       # the next 3 commits fail
    faults.fail_connects()       # new connections are refused (the pool is emptied first)
    ...
    faults.recover()
    faults.close()               # or use it as a context manager

A refused commit leaves nothing behind: the transaction is rolled back as after any failure.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from storage.db import Database


class InjectedFault(Exception):
    """The driver-level error inside the `OperationalError`."""


class DatabaseFaults:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._engine = db.engine.sync_engine
        self._commits: int | None = 0  # how many more commits fail (None: all, until recovered)
        self._connects: int | None = 0
        self.refused_commits = 0
        self.refused_connects = 0
        event.listen(self._engine, "commit", self._on_commit)
        event.listen(self._engine, "do_connect", self._on_connect)

    def fail_commits(self, count: int | None = None) -> None:
        """The next `count` commits fail (all of them until `recover()` when None)."""
        self._commits = count

    async def fail_connects(self, count: int | None = None) -> None:
        """The next `count` new connections are refused; the pool's idle connections are closed
        first, so the next session needs a new one (as after a database restart)."""
        self._connects = count
        await self.db.engine.dispose()

    def recover(self) -> None:
        self._commits = 0
        self._connects = 0

    @property
    def failing(self) -> bool:
        return self._commits != 0 or self._connects != 0

    def close(self) -> None:
        self.recover()
        event.remove(self._engine, "commit", self._on_commit)
        event.remove(self._engine, "do_connect", self._on_connect)

    def __enter__(self) -> DatabaseFaults:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _on_commit(self, connection: Any) -> None:
        if self._commits == 0:
            return
        if self._commits is not None:
            self._commits -= 1
        self.refused_commits += 1
        raise OperationalError("COMMIT", None, InjectedFault("database is locked (injected by the test)"))

    def _on_connect(self, dialect: Any, record: Any, cargs: Any, cparams: Any) -> None:
        if self._connects == 0:
            return
        if self._connects is not None:
            self._connects -= 1
        self.refused_connects += 1
        raise OperationalError("connect", None, InjectedFault("connection refused (injected by the test)"))
