"""The dashboard records corrections, dismissed cases and acknowledged alarms.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

- ``corrections``: someone said the classifier was wrong about a message
  ("this is not a request", "this is a request"); kept beside the
  classifier's verdict, which stays as it was, so the digest can show them;
- ``cases.state`` may be ``dismissed`` (not a request after all), with
  ``cases.dismissed_at``; the CHECK constraint is rebuilt to allow it;
- ``alarms.acknowledged_at`` / ``acknowledged_by``: someone saw the alarm.

Existing rows need nothing: no case is dismissed, no alarm acknowledged yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATES = "state IN ('open', 'answered', 'handled')"
NEW_STATES = "state IN ('open', 'answered', 'handled', 'dismissed')"


def upgrade() -> None:
    """Add the table, the columns, and the wider state constraint."""
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "verdict IN ('not_request', 'request')", name=op.f("ck_corrections_verdict")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_corrections_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_corrections_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index(op.f("ix_corrections_at"), "corrections", ["at"])
    op.create_index(op.f("ix_corrections_message_id"), "corrections", ["message_id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_cases_state"), type_="check")
        batch.create_check_constraint(op.f("ck_cases_state"), NEW_STATES)
    with op.batch_alter_table("alarms") as batch:
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop them again; a dismissed case goes back to open (the old states cannot hold it)."""
    with op.batch_alter_table("alarms") as batch:
        batch.drop_column("acknowledged_by")
        batch.drop_column("acknowledged_at")
    op.execute("UPDATE cases SET state = 'open' WHERE state = 'dismissed'")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint(op.f("ck_cases_state"), type_="check")
        batch.create_check_constraint(op.f("ck_cases_state"), OLD_STATES)
        batch.drop_column("dismissed_at")
    op.drop_index(op.f("ix_corrections_message_id"), table_name="corrections")
    op.drop_index(op.f("ix_corrections_at"), table_name="corrections")
    op.drop_table("corrections")
