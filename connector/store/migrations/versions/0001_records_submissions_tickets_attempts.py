"""records: submissions, tickets, attempts

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.store.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('submissions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=True),
    sa.Column('dedupe_key', sa.String(length=400), nullable=True),
    sa.Column('received_at', connector.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', connector.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('raw_body', sa.LargeBinary(), nullable=False),
    sa.Column('ticket_request', sa.JSON(), nullable=True),
    sa.Column('customer_email', sa.String(length=320), nullable=True),
    sa.Column('customer_name', sa.String(length=255), nullable=True),
    sa.Column('customer_user_id', sa.String(length=255), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('subject', sa.String(length=1000), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', connector.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', connector.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('phase', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'dedupe_key', name='uq_submissions_tenant_dedupe')
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_submissions_tenant_email', ['tenant', 'customer_email'], unique=False)
        batch_op.create_index('ix_submissions_tenant_id', ['tenant', 'id'], unique=False)
        batch_op.create_index('ix_submissions_tenant_status_id', ['tenant', 'status', 'id'], unique=False)

    op.create_table('attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started_at', connector.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', connector.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('halo_status', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempts_submission_id'), ['submission_id'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('halo_ticket_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', connector.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=True),
    sa.Column('customer_email', sa.String(length=320), nullable=True),
    sa.Column('customer_name', sa.String(length=255), nullable=True),
    sa.Column('customer_user_id', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.String(length=1000), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=True),
    sa.Column('priority', sa.String(length=20), nullable=True),
    sa.Column('ai_enabled', sa.Boolean(), nullable=True),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_tenant_email', ['tenant', 'customer_email'], unique=False)
        batch_op.create_index('ix_tickets_tenant_event', ['tenant', 'event_id'], unique=False)
        batch_op.create_index('ix_tickets_tenant_halo', ['tenant', 'halo_ticket_id'], unique=False)
        batch_op.create_index('ix_tickets_tenant_id', ['tenant', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_tenant_id')
        batch_op.drop_index('ix_tickets_tenant_halo')
        batch_op.drop_index('ix_tickets_tenant_event')
        batch_op.drop_index('ix_tickets_tenant_email')

    op.drop_table('tickets')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempts_submission_id'))

    op.drop_table('attempts')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_tenant_status_id')
        batch_op.drop_index('ix_submissions_tenant_id')
        batch_op.drop_index('ix_submissions_tenant_email')
        batch_op.drop_index('ix_submissions_status_next')

    op.drop_table('submissions')
