"""video calls and their log

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pingan.adapters.db.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("host_id", ID, nullable=False),
        sa.Column("unit_path", sa.String(length=255), nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("connected_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("recording_id", ID, nullable=True),
        sa.ForeignKeyConstraint(["host_id"], ["users.id"], name=op.f("fk_calls_host_id_users")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_calls_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["attachments.id"], name=op.f("fk_calls_recording_id_attachments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    op.create_index("ix_calls_case", "calls", ["case_id"])
    op.create_index("ix_calls_state", "calls", ["state"])
    op.create_table(
        "call_parties",
        sa.Column("call_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("invited_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("joined_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_parties_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_call_parties_user_id_users")
        ),
        sa.PrimaryKeyConstraint("call_id", "user_id", name=op.f("pk_call_parties")),
    )
    op.create_index("ix_call_parties_user", "call_parties", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_call_parties_user", table_name="call_parties")
    op.drop_table("call_parties")
    op.drop_index("ix_calls_state", table_name="calls")
    op.drop_index("ix_calls_case", table_name="calls")
    op.drop_table("calls")
