"""departmental webhooks, deliveries and the dead-letter list; imported case ids

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pingan.adapters.db.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


_TS = pingan.adapters.db.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", _ID, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_webhook_subscriptions_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_webhook_subscriptions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    with op.batch_alter_table("webhook_subscriptions") as batch_op:
        batch_op.create_index("ix_webhook_subscriptions_department", ["department_id"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", _ID, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("delivered_at", _TS, nullable=True),
        sa.Column("dead_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name="uq_webhook_deliveries_sub_event"
        ),
    )
    with op.batch_alter_table("webhook_deliveries") as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_status_next", ["status", "next_attempt_at"]
        )

    op.create_table(
        "webhook_nonces",
        sa.Column("subscription_id", _ID, nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_nonces_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("subscription_id", "delivery_id", name=op.f("pk_webhook_nonces")),
    )
    with op.batch_alter_table("webhook_nonces") as batch_op:
        batch_op.create_index("ix_webhook_nonces_received", ["received_at"])


    op.create_table(
        "case_imports",
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("imported_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_imports_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("external_id", name=op.f("pk_case_imports")),
    )


def downgrade() -> None:
    op.drop_table("case_imports")
    with op.batch_alter_table("webhook_nonces") as batch_op:
        batch_op.drop_index("ix_webhook_nonces_received")
    op.drop_table("webhook_nonces")
    with op.batch_alter_table("webhook_deliveries") as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_status_next")
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("webhook_subscriptions") as batch_op:
        batch_op.drop_index("ix_webhook_subscriptions_department")
    op.drop_table("webhook_subscriptions")
