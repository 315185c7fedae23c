"""Alembic environment: the URL comes from the caller (pingan migrate) or PINGAN_DATABASE_URL."""

from __future__ import annotations

from alembic import context

from pingan.adapters.db import (
    call_tables,  # noqa: F401  (registers its tables)
    hotline_tables,  # noqa: F401  (registers its tables)
    iot_tables,  # noqa: F401  (registers its tables)
    patrol_tables,  # noqa: F401  (registers its tables)
    webhook_tables,  # noqa: F401  (registers its tables)
)
from pingan.adapters.db.engine import make_engine
from pingan.adapters.db.tables import metadata
from pingan.config import Settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings().database_url


def run_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
