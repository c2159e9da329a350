"""lists page in SQL by (moment, id): an index in each growing list's order

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# Each list reads `WHERE owner = :x AND (moment, id) > cursor ORDER BY moment, id LIMIT n`. With an index on the
# owner alone PostgreSQL reads all the owner's rows of every year and sorts them for each page; these read the
# page. Partial where the list shows only live rows (open alerts, the waiting queue, active waitlist entries)
# while closed ones accumulate. A client's assignments, waitlist entries and offers stay few: their owner
# index is enough.
# (name, table, the list's filter columns, its moment column, the rows the list shows)
_INDEXES = (
    (
        "ix_psychotherapy_notes_author_client_created",
        "psychotherapy_notes",
        ["author_id", "client_id"],
        "created_at",
        None,
    ),
    ("ix_measure_responses_client_submitted", "measure_responses", ["client_id"], "submitted_at", None),
    (
        "ix_safety_alerts_open_therapist_created",
        "safety_alerts",
        ["therapist_id"],
        "created_at",
        "acknowledged_at IS NULL",
    ),
    ("ix_matches_queued_practice_created", "matches", ["queue_practice_id"], "created_at", "status = 'queued'"),
    (
        "ix_waitlist_entries_active_therapist_created",
        "waitlist_entries",
        ["therapist_id"],
        "created_at",
        "removed_at IS NULL",
    ),
)


def upgrade() -> None:
    for name, table, owner, moment, where in _INDEXES:
        op.create_index(name, table, [*owner, moment, "id"], postgresql_where=sa.text(where) if where else None)


def downgrade() -> None:
    for name, table, *_ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
