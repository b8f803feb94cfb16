"""integration: circuit breakers, provenance digests and aliases, quarantine codes, webhook receipts and deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = hub.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("breaker", _JSON, nullable=True))

    with op.batch_alter_table("remote_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alt_remote_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", _TIME, nullable=True))
        batch_op.add_column(sa.Column("attributes", _JSON, nullable=True))
        batch_op.create_index("ix_remote_links_alt", ["alt_remote_id", "entity"], unique=False)

    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("errors", _JSON, nullable=True))
        batch_op.add_column(sa.Column("replayed_at", _TIME, nullable=True))
        batch_op.create_index("ix_quarantine_lookup", ["connection_id", "model", "remote_id"], unique=False)

    with op.batch_alter_table("webhook_receipts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_type", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("model", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("remote_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("processed_at", _TIME, nullable=True))
        batch_op.add_column(sa.Column("error", sa.String(), nullable=True))

    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_event_seq", sa.BigInteger(), nullable=False, server_default="0"))

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_type", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("error", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", _TIME, nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_webhook_deliveries_subscription_id_event_id"), ["subscription_id", "event_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_webhook_deliveries_subscription_id_event_id"), type_="unique")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("error")
        batch_op.drop_column("event_type")

    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("last_event_seq")

    with op.batch_alter_table("webhook_receipts", schema=None) as batch_op:
        for column in ("error", "processed_at", "payload", "remote_id", "model", "event_type"):
            batch_op.drop_column(column)

    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_lookup")
        for column in ("replayed_at", "errors", "code"):
            batch_op.drop_column(column)

    with op.batch_alter_table("remote_links", schema=None) as batch_op:
        batch_op.drop_index("ix_remote_links_alt")
        for column in ("attributes", "last_seen_at", "digest", "alt_remote_id"):
            batch_op.drop_column(column)

    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("breaker")
