"""deadlines: deadlines, their audiences, one reminder row per (deadline, round, city, step),
and notices owed once (campaign-day announcements, weekly digests)

Revision ID: 0005_deadlines
Revises: 0003_relay
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0005_deadlines'
down_revision: str | Sequence[str] | None = '0003_relay'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_ids', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    sa.UniqueConstraint('kind', 'key', 'target', name=op.f('uq_notice_kind_key_target'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_state_due_at', ['state', 'due_at'], unique=False)

    op.create_table('notice_batch',
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_notice_batch'))
    )
    op.create_table('deadline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('remind_at', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('audience', sa.Text(), nullable=False),
    sa.Column('plan', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('repeat', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('repeat_day', sa.Integer(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['person.id'], name=op.f('fk_deadline_cancelled_by_id_person')),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_deadline_created_by_id_person')),
    sa.ForeignKeyConstraint(['previous_id'], ['deadline.id'], name=op.f('fk_deadline_previous_id_deadline')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline')),
    sa.UniqueConstraint('previous_id', name=op.f('uq_deadline_previous_id'))
    )
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_due_date'), ['due_date'], unique=False)

    op.create_table('deadline_city',
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('snoozed_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], name=op.f('fk_deadline_city_city_id_city')),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadline.id'], name=op.f('fk_deadline_city_deadline_id_deadline')),
    sa.ForeignKeyConstraint(['done_by_id'], ['person.id'], name=op.f('fk_deadline_city_done_by_id_person')),
    sa.PrimaryKeyConstraint('deadline_id', 'city_id', name=op.f('pk_deadline_city'))
    )
    with op.batch_alter_table('deadline_city', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_city_city_id'), ['city_id'], unique=False)

    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('planned_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('sent_to', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('message_ids', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], name=op.f('fk_reminder_city_id_city')),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadline.id'], name=op.f('fk_reminder_deadline_id_deadline')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder')),
    sa.UniqueConstraint('deadline_id', 'city_id', 'round', 'step', name=op.f('uq_reminder_deadline_id_city_id_round_step'))
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_state_due_at', ['state', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_state_due_at')

    op.drop_table('reminder')
    with op.batch_alter_table('deadline_city', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_city_city_id'))

    op.drop_table('deadline_city')
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_due_date'))

    op.drop_table('deadline')
    op.drop_table('notice_batch')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_state_due_at')

    op.drop_table('notice')
