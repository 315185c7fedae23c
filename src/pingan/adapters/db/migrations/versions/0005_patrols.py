"""patrols: grid workers' patrols and reported positions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pingan.adapters.db.tables


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patrols',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('grid_code', sa.String(length=32), nullable=False),
    sa.Column('started_at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_patrols_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrols'))
    )
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.create_index('ix_patrols_user_started', ['user_id', 'started_at'], unique=False)

    op.create_table('worker_positions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('patrol_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_worker_positions_patrol_id_patrols')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_worker_positions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_positions'))
    )
    with op.batch_alter_table('worker_positions', schema=None) as batch_op:
        batch_op.create_index('ix_worker_positions_patrol', ['patrol_id'], unique=False)
        batch_op.create_index('ix_worker_positions_user_at', ['user_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('worker_positions', schema=None) as batch_op:
        batch_op.drop_index('ix_worker_positions_user_at')
        batch_op.drop_index('ix_worker_positions_patrol')

    op.drop_table('worker_positions')
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.drop_index('ix_patrols_user_started')

    op.drop_table('patrols')
