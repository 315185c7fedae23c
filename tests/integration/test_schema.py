"""The migrations and the table definitions describe the same schema, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pingan.adapters.db.engine import make_engine
from pingan.adapters.db.tables import metadata
from tests.integration.conftest import World


def test_migrated_schema_matches_the_tables_the_code_uses(world: World) -> None:
    engine = make_engine(world.url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []
