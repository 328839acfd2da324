"""Messages remember when the tracker read them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

The tracker (threads and cases) works through messages it has not seen yet.
``tracked_at`` marks the ones it has, and a partial index over the rest keeps
each tick proportional to what arrived since the last one. Existing rows stay
NULL: the next tick reads them once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column and the partial index of untracked messages."""
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("tracked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_messages_untracked",
        "messages",
        ["id"],
        sqlite_where=sa.text("tracked_at IS NULL"),
        postgresql_where=sa.text("tracked_at IS NULL"),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_messages_untracked", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("tracked_at")
