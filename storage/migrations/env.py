"""Alembic environment: the bot passes an open connection; `alembic` on the command line works
too, with `-x url=...`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import storage.models  # registers every table
from storage.db import DEFAULT_URL, sync_url

config = context.config
target_metadata = SQLModel.metadata


def run_with(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=storage.models.include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url", DEFAULT_URL)
    engine = create_engine(sync_url(url), poolclass=NullPool)
    with engine.begin() as conn:
        run_with(conn)
    engine.dispose()
