"""hooks: subscriptions, outbox, delivery failures

Revision ID: 0002_hooks
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.store.types


revision = '0002_hooks'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The polled feeds' `since` cursors walk these instead of every older id.
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_tenant_received', ['tenant', 'received_at', 'id'],
                              unique=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_tenant_created', ['tenant', 'created_at', 'id'], unique=False)

    op.create_table('hook_subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('target_url', sa.String(length=2048), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('created_at', connector.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hook_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_hook_subscriptions_tenant_event', ['tenant', 'event'], unique=False)

    op.create_table('delivery_failures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('submission_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('failed_at', connector.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('delivery_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_failures_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index('ix_delivery_failures_tenant_id', ['tenant', 'id'], unique=False)
        batch_op.create_index('ix_delivery_failures_tenant_failed', ['tenant', 'failed_at', 'id'],
                              unique=False)

    op.create_table('hook_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('subscription_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('item', sa.JSON(), nullable=False),
    sa.Column('created_at', connector.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', connector.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', connector.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', connector.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['hook_subscriptions.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('hook_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_hook_outbox_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hook_outbox_subscription_id'), ['subscription_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hook_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hook_outbox_subscription_id'))
        batch_op.drop_index('ix_hook_outbox_status_next')

    op.drop_table('hook_outbox')
    with op.batch_alter_table('delivery_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_failures_tenant_failed')
        batch_op.drop_index('ix_delivery_failures_tenant_id')
        batch_op.drop_index(batch_op.f('ix_delivery_failures_submission_id'))

    op.drop_table('delivery_failures')
    with op.batch_alter_table('hook_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_hook_subscriptions_tenant_event')

    op.drop_table('hook_subscriptions')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_tenant_created')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_tenant_received')
