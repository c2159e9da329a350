"""specialties as long as the API allows

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 10:25:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The profile contract and the domain allow specialties of up to 100 characters; the column held 60, so a longer
# one failed in the database (a 500) instead of being stored.


def upgrade() -> None:
    op.alter_column(
        "therapist_profiles",
        "specialties",
        type_=postgresql.ARRAY(sa.String(length=100)),
        existing_type=postgresql.ARRAY(sa.String(length=60)),
        existing_nullable=False,
    )


def downgrade() -> None:
    op.alter_column(
        "therapist_profiles",
        "specialties",
        type_=postgresql.ARRAY(sa.String(length=60)),
        existing_type=postgresql.ARRAY(sa.String(length=100)),
        existing_nullable=False,
        postgresql_using="specialties::varchar(60)[]",
    )
