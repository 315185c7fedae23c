"""the 12345 hotline desk: calls taken and follow-up calls

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pingan.adapters.db.tables import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hotline_calls",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("operator_id", ID, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("repeat", sa.Boolean(), nullable=False),
        sa.Column("phone_enc", sa.String(length=512), nullable=False),
        sa.Column("phone_index", sa.String(length=64), nullable=False),
        sa.Column("name_enc", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hotline_calls_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["users.id"], name=op.f("fk_hotline_calls_operator_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_calls")),
    )
    op.create_index("ix_hotline_calls_phone", "hotline_calls", ["phone_index"])
    op.create_index("ix_hotline_calls_case", "hotline_calls", ["case_id"])
    op.create_table(
        "followups",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("operator_id", ID, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("satisfaction", sa.SmallInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_followups_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["users.id"], name=op.f("fk_followups_operator_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
    )
    op.create_index("ix_followups_case", "followups", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_followups_case", table_name="followups")
    op.drop_table("followups")
    op.drop_index("ix_hotline_calls_case", table_name="hotline_calls")
    op.drop_index("ix_hotline_calls_phone", table_name="hotline_calls")
    op.drop_table("hotline_calls")
