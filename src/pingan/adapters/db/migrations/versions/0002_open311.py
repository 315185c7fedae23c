"""open311: API keys (stored as SHA-256) and media links of Open311 requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pingan.adapters.db.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("app_name", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "created_at", pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_open311_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_keys_key_hash")),
    )
    op.create_table(
        "open311_media",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("media_url", sa.String(length=2000), nullable=False),
        sa.Column(
            "created_at", pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_open311_media_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_open311_media")),
    )


def downgrade() -> None:
    op.drop_table("open311_media")
    op.drop_table("open311_keys")
