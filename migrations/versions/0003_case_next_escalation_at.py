"""Cases remember when their next escalation step can fall due.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Without it every tick re-checked every overdue open case in Python: fine
for a shop with ten, seconds for a backlog of a hundred thousand. The decider
now stores the next due moment and selects on (state, next_escalation_at).
Existing rows stay NULL, which means "not computed yet": the next tick
computes them once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column and its index."""
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        op.f("ix_cases_state_next_escalation_at"), "cases", ["state", "next_escalation_at"]
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_index(op.f("ix_cases_state_next_escalation_at"), table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("next_escalation_at")
