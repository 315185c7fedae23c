"""iot: facilities, devices, readings, alarms, ingest rejections

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-29 05:16:49.533071
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from datetime import UTC, datetime

import pingan.adapters.db.tables


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('facilities',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('grid_path', sa.String(length=255), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facilities'))
    )
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.create_index('ix_facilities_kind_grid', ['kind', 'grid_path'], unique=False)

    op.create_table('ingest_rejections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('sample', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_rejections'))
    )
    with op.batch_alter_table('ingest_rejections', schema=None) as batch_op:
        batch_op.create_index('ix_ingest_rejections_reason', ['reason', 'at'], unique=False)

    op.create_table('readings',
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('device_id', 'at', name=op.f('pk_readings'))
    )
    op.create_table('devices',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('grid_path', sa.String(length=255), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=True),
    sa.Column('interval_s', sa.Integer(), nullable=False),
    sa.Column('registered_at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_metrics', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_devices_facility_id_facilities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices'))
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index('ix_devices_facility', ['facility_id'], unique=False)
        batch_op.create_index('ix_devices_grid_path', ['grid_path'], unique=False)

    op.create_table('alarms',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('devices', sa.JSON(), nullable=False),
    sa.Column('grid_path', sa.String(length=255), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('opened_at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', pingan.adapters.db.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_alarms_case_id_cases')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_alarms_device_id_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarms'))
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.create_index('ix_alarms_grid_path', ['grid_path'], unique=False)
        batch_op.create_index('ix_alarms_state_kind_grid', ['state', 'kind', 'grid_path'], unique=False)


    # the platform's own account (id 0): the reporter of cases opened by alarms and the actor of
    # SLA escalations; it cannot sign in (no usable password hash, role "system")
    users = sa.table(
        "users",
        sa.column("id", sa.Integer), sa.column("username", sa.String), sa.column("display_name", sa.String),
        sa.column("role", sa.String), sa.column("jurisdiction", sa.String), sa.column("password_hash", sa.String),
        sa.column("disabled", sa.Boolean), sa.column("synthetic", sa.Boolean),
        sa.column("created_at", pingan.adapters.db.tables.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(users, [{
        "id": 0, "username": "system", "display_name": "平安平台 (system)", "role": "system",
        "jurisdiction": "", "password_hash": "!", "disabled": True, "synthetic": False,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }])


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE id = 0")
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('ix_alarms_state_kind_grid')
        batch_op.drop_index('ix_alarms_grid_path')

    op.drop_table('alarms')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index('ix_devices_grid_path')
        batch_op.drop_index('ix_devices_facility')

    op.drop_table('devices')
    op.drop_table('readings')
    with op.batch_alter_table('ingest_rejections', schema=None) as batch_op:
        batch_op.drop_index('ix_ingest_rejections_reason')

    op.drop_table('ingest_rejections')
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.drop_index('ix_facilities_kind_grid')

    op.drop_table('facilities')
