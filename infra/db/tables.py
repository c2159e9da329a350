"""The relational schema. Alembic autogenerates against this metadata."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TS = sa.DateTime(timezone=True)

practices = sa.Table(
    "practices",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.CheckConstraint("kind IN ('independent', 'group')", name="kind"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=True, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.CheckConstraint("role IN ('client', 'therapist', 'practice_admin')", name="role"),
    sa.CheckConstraint("role = 'client' OR practice_id IS NOT NULL", name="staff_have_practice"),
)

# A client's care relationship with a therapist, which places the client in that
# therapist's practice. Scheduling (first booking) and matching create rows here.
care_relationships = sa.Table(
    "care_relationships",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False, index=True),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("ended_at", TS, nullable=True),
)
sa.Index(
    "uq_care_relationships_active_pair",
    care_relationships.c.client_id,
    care_relationships.c.therapist_id,
    unique=True,
    postgresql_where=care_relationships.c.ended_at.is_(None),
)

login_sessions = sa.Table(
    "login_sessions",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_used_at", TS, nullable=False),
    sa.Column("absolute_expires_at", TS, nullable=False),
    sa.Column("revoked_at", TS, nullable=True),
    sa.Column("revoked_reason", sa.String(40), nullable=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "session_id",
        UUID(as_uuid=True),
        sa.ForeignKey("login_sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("issued_at", TS, nullable=False),
    sa.Column("used_at", TS, nullable=True),
)

auth_throttle = sa.Table(
    "auth_throttle",
    metadata,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_started_at", TS, nullable=False),
    sa.Column("blocked_until", TS, nullable=True),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("occurred_at", TS, nullable=False),
    sa.Column("action", sa.String(80), nullable=False),
    sa.Column("object_type", sa.String(60), nullable=False),
    sa.Column("object_id", sa.String(80), nullable=True),
    sa.Column("actor_id", UUID(as_uuid=True), nullable=True, index=True),
    sa.Column("actor_role", sa.String(20), nullable=True),
    sa.Column("practice_id", UUID(as_uuid=True), nullable=True, index=True),
    sa.Column("outcome", sa.String(10), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
