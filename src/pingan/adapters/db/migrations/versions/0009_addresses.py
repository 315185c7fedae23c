"""addresses: the address registry for geocoding

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("road", sa.String(length=100), nullable=True),
        sa.Column("number", sa.String(length=16), nullable=True),
        sa.Column("compound", sa.String(length=100), nullable=True),
        sa.Column("building", sa.String(length=16), nullable=True),
        sa.Column("full_text", sa.String(length=300), nullable=False),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_path", sa.String(length=255), nullable=True),
        sa.Column("unit_path", sa.String(length=255), nullable=False),
        sa.Column("generated", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
        sa.UniqueConstraint("full_text", name=op.f("uq_addresses_full_text")),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index("ix_addresses_road_number", ["road", "number"], unique=False)
        batch_op.create_index(
            "ix_addresses_compound_building", ["compound", "building"], unique=False
        )
        batch_op.create_index("ix_addresses_unit_path", ["unit_path"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index("ix_addresses_unit_path")
        batch_op.drop_index("ix_addresses_compound_building")
        batch_op.drop_index("ix_addresses_road_number")
    op.drop_table("addresses")
