"""The relational schema. Alembic autogenerates against this metadata."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE, UUID, ExcludeConstraint

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
    sa.Column("phone", sa.String(16), nullable=True),
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

# --- scheduling ---------------------------------------------------------------------------------

# Statuses that occupy the therapist's and the client's time. Cancelled, late-cancelled and
# no-show appointments free their interval (see domain/scheduling/model.py BLOCKING_STATUSES).
ACTIVE_APPOINTMENT_SQL = "status IN ('booked', 'checked_in', 'in_progress', 'completed')"

therapist_profiles = sa.Table(
    "therapist_profiles",
    metadata,
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False, index=True),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("bio", sa.Text, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("licenses", ARRAY(sa.String(10)), nullable=False),
    sa.Column("specialties", ARRAY(sa.String(60)), nullable=False),
    sa.Column("languages", ARRAY(sa.String(20)), nullable=False),
    sa.Column("modalities", ARRAY(sa.String(10)), nullable=False),
    sa.Column("session_lengths", ARRAY(sa.Integer), nullable=False),
    sa.Column("rates", JSONB, nullable=False),
    sa.Column("accepting_new_clients", sa.Boolean, nullable=False),
    sa.Column("caseload_capacity", sa.Integer, nullable=False),
    sa.Column("cancellation_window_hours", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

office_hours = sa.Table(
    "office_hours",
    metadata,
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    # Weekly rules, exceptions and messaging hours: always read and written whole.
    sa.Column("rules", JSONB, nullable=False),
    sa.Column("buffer_minutes", sa.Integer, nullable=False),
    sa.Column("max_sessions_per_day", sa.Integer, nullable=True),
    sa.Column("min_notice_minutes", sa.Integer, nullable=False),
    sa.Column("horizon_days", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

appointment_series = sa.Table(
    "appointment_series",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("start_time", sa.Time, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("modality", sa.String(10), nullable=False),
    sa.Column("frequency", sa.String(12), nullable=False),
    sa.Column("count", sa.Integer, nullable=True),
    sa.Column("until", sa.Date, nullable=True),
    sa.Column("ends_before_index", sa.Integer, nullable=True),
    sa.Column("previous_series_id", UUID(as_uuid=True), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False, index=True),
    sa.Column("start_at", TS, nullable=False),
    sa.Column("end_at", TS, nullable=False),
    sa.Column("during", TSTZRANGE, sa.Computed("tstzrange(start_at, end_at, '[)')", persisted=True), nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("modality", sa.String(10), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("series_id", UUID(as_uuid=True), sa.ForeignKey("appointment_series.id"), nullable=True, index=True),
    sa.Column("series_index", sa.Integer, nullable=True),
    sa.Column("cancel_reason", sa.String(500), nullable=True),
    sa.Column("cancelled_by", sa.String(10), nullable=True),
    sa.Column("cancelled_at", TS, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.CheckConstraint("end_at > start_at", name="positive_length"),
    sa.CheckConstraint("duration_minutes BETWEEN 10 AND 60", name="duration"),
    sa.CheckConstraint(
        "status IN ('booked', 'cancelled', 'late_cancelled', 'checked_in', 'in_progress', 'completed', 'no_show')",
        name="status",
    ),
    # The no-double-booking guarantee: PostgreSQL refuses overlapping active intervals.
    ExcludeConstraint(
        ("therapist_id", "="),
        ("during", "&&"),
        where=sa.text(ACTIVE_APPOINTMENT_SQL),
        using="gist",
        name="ex_appointments_therapist_overlap",
    ),
    ExcludeConstraint(
        ("client_id", "="),
        ("during", "&&"),
        where=sa.text(ACTIVE_APPOINTMENT_SQL),
        using="gist",
        name="ex_appointments_client_overlap",
    ),
)
sa.Index("ix_appointments_therapist_start", appointments.c.therapist_id, appointments.c.start_at)
sa.Index("ix_appointments_client_start", appointments.c.client_id, appointments.c.start_at)

waitlist_entries = sa.Table(
    "waitlist_entries",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("durations", ARRAY(sa.Integer), nullable=False),
    sa.Column("weekdays", ARRAY(sa.Integer), nullable=False),
    sa.Column("time_ranges", JSONB, nullable=False),
    sa.Column("modality", sa.String(10), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("removed_at", TS, nullable=True),
)
sa.Index(
    "uq_waitlist_entries_active",
    waitlist_entries.c.therapist_id,
    waitlist_entries.c.client_id,
    unique=True,
    postgresql_where=waitlist_entries.c.removed_at.is_(None),
)

waitlist_offers = sa.Table(
    "waitlist_offers",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("entry_id", UUID(as_uuid=True), sa.ForeignKey("waitlist_entries.id"), nullable=False, index=True),
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("start_at", TS, nullable=False),
    sa.Column("end_at", TS, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("modality", sa.String(10), nullable=False),
    sa.Column("valid_from", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("claimed_appointment_id", UUID(as_uuid=True), nullable=True),
    sa.Column("created_at", TS, nullable=False),
)

reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("appointment_id", UUID(as_uuid=True), sa.ForeignKey("appointments.id"), nullable=False, index=True),
    sa.Column("recipient_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("due_at", TS, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("sent_at", TS, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.CheckConstraint("channel IN ('email', 'sms')", name="channel"),
    sa.CheckConstraint("status IN ('pending', 'sent', 'cancelled', 'failed')", name="status"),
)
sa.Index(
    "ix_reminders_pending_due",
    reminders.c.due_at,
    postgresql_where=reminders.c.status == "pending",
)

calendar_feeds = sa.Table(
    "calendar_feeds",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("revoked_at", TS, nullable=True),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("operation", sa.String(120), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("response", JSONB, nullable=True),
    sa.Column("created_at", TS, nullable=False),
)

# --- encryption ---------------------------------------------------------------------------------

# Data keys of record groups, stored only wrapped under a key-encryption key that lives outside the database.
data_keys = sa.Table(
    "data_keys",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("kek_id", sa.String(64), nullable=False, index=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

# --- clinical record ------------------------------------------------------------------------------
# Every clinical payload column (`body`) holds ciphertext from the PayloadCipher; only ids, times and
# states are stored in the clear.


def _fk_user(name: str, *, nullable: bool = False, index: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=nullable, index=index)


client_records = sa.Table(
    "client_records",
    metadata,
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), primary_key=True),
    sa.Column("data_key_id", UUID(as_uuid=True), sa.ForeignKey("data_keys.id"), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

therapy_plans = sa.Table(
    "therapy_plans",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _fk_user("client_id"),
    _fk_user("therapist_id"),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False, index=True),
    sa.Column("data_key_id", UUID(as_uuid=True), sa.ForeignKey("data_keys.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("review_on", sa.Date, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.UniqueConstraint("client_id", "therapist_id", name="uq_therapy_plans_relationship"),
)

therapy_plan_versions = sa.Table(
    "therapy_plan_versions",
    metadata,
    sa.Column("plan_id", UUID(as_uuid=True), sa.ForeignKey("therapy_plans.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("created_by", UUID(as_uuid=True), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

plan_acknowledgements = sa.Table(
    "plan_acknowledgements",
    metadata,
    sa.Column("plan_id", UUID(as_uuid=True), sa.ForeignKey("therapy_plans.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    _fk_user("client_id", index=False),
    sa.Column("acknowledged_at", TS, nullable=False),
)

plan_progress = sa.Table(
    "plan_progress",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("plan_id", UUID(as_uuid=True), sa.ForeignKey("therapy_plans.id"), nullable=False, index=True),
    sa.Column("note_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("goal_id", UUID(as_uuid=True), nullable=False),
    sa.Column("recorded_at", TS, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

session_notes = sa.Table(
    "session_notes",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("appointment_id", UUID(as_uuid=True), sa.ForeignKey("appointments.id"), nullable=False, unique=True),
    _fk_user("client_id"),
    _fk_user("therapist_id"),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False, index=True),
    sa.Column("data_key_id", UUID(as_uuid=True), sa.ForeignKey("data_keys.id"), nullable=False),
    sa.Column("template", sa.String(8), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=True),
    sa.Column("signed_by", UUID(as_uuid=True), nullable=True),
    sa.Column("signed_at", TS, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.CheckConstraint("status IN ('draft', 'signed')", name="status"),
)

note_addenda = sa.Table(
    "note_addenda",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("note_id", UUID(as_uuid=True), sa.ForeignKey("session_notes.id"), nullable=False, index=True),
    _fk_user("author_id", index=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

# Kept apart from progress notes, with their own data keys: only their author ever reads them.
psychotherapy_notes = sa.Table(
    "psychotherapy_notes",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _fk_user("author_id"),
    _fk_user("client_id", index=False),
    sa.Column("appointment_id", UUID(as_uuid=True), sa.ForeignKey("appointments.id"), nullable=True),
    sa.Column("data_key_id", UUID(as_uuid=True), sa.ForeignKey("data_keys.id"), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

measure_assignments = sa.Table(
    "measure_assignments",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _fk_user("client_id"),
    _fk_user("therapist_id", index=False),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False),
    sa.Column("instrument", sa.String(20), nullable=False),
    sa.Column("schedule", JSONB, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("ended_at", TS, nullable=True),
)

measure_responses = sa.Table(
    "measure_responses",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("assignment_id", UUID(as_uuid=True), sa.ForeignKey("measure_assignments.id"), nullable=True),
    _fk_user("client_id"),
    _fk_user("therapist_id", index=False),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False),
    sa.Column("instrument", sa.String(20), nullable=False),
    sa.Column("instrument_version", sa.Integer, nullable=False),
    sa.Column("submitted_at", TS, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

safety_alerts = sa.Table(
    "safety_alerts",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _fk_user("client_id", index=False),
    _fk_user("therapist_id"),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False),
    sa.Column("response_id", UUID(as_uuid=True), sa.ForeignKey("measure_responses.id"), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("acknowledged_at", TS, nullable=True),
)

# --- messaging ------------------------------------------------------------------------------------

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _fk_user("client_id"),
    _fk_user("therapist_id"),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False),
    sa.Column("data_key_id", UUID(as_uuid=True), sa.ForeignKey("data_keys.id"), nullable=False),
    # The per-conversation sequence, advanced under this row's lock: a gap-free cursor for clients.
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("last_message_at", TS, nullable=True),
    sa.Column("auto_replied_at", TS, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("closed_at", TS, nullable=True),
)
sa.Index(
    "uq_conversations_open_pair",
    conversations.c.client_id,
    conversations.c.therapist_id,
    unique=True,
    postgresql_where=conversations.c.closed_at.is_(None),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("conversation_id", UUID(as_uuid=True), sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("sender_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("client_message_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
    sa.UniqueConstraint("conversation_id", "sender_id", "client_message_id", name="uq_messages_client_message"),
    sa.CheckConstraint("kind IN ('user', 'welcome', 'auto_reply')", name="kind"),
)

conversation_reads = sa.Table(
    "conversation_reads",
    metadata,
    sa.Column("conversation_id", UUID(as_uuid=True), sa.ForeignKey("conversations.id"), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("last_read_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

messaging_settings = sa.Table(
    "messaging_settings",
    metadata,
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("welcome_template", sa.Text, nullable=False),
    sa.Column("away", sa.Boolean, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

ws_tickets = sa.Table(
    "ws_tickets",
    metadata,
    sa.Column("ticket_hash", sa.String(64), primary_key=True),
    _fk_user("user_id", index=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("practice_id", UUID(as_uuid=True), nullable=True),
    sa.Column("session_id", UUID(as_uuid=True), nullable=True),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("used_at", TS, nullable=True),
)

# When each participant was last emailed about unread messages (the throttle).
message_notifications = sa.Table(
    "message_notifications",
    metadata,
    sa.Column("conversation_id", UUID(as_uuid=True), sa.ForeignKey("conversations.id"), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("last_sent_at", TS, nullable=False),
)

# Per-practice settings that are not clinical data (crisis resources shown to clients, ...).
practice_settings = sa.Table(
    "practice_settings",
    metadata,
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), primary_key=True),
    sa.Column("crisis_resources", JSONB, nullable=True),
    sa.Column("updated_at", TS, nullable=False),
)

# --- live sessions ----------------------------------------------------------------------------------
# One row per appointment that has been opened as a live session. The check-in and the signaling frames are
# ciphertext under the session's data key; events hold only ids, times, modalities and short codes.

live_sessions = sa.Table(
    "live_sessions",
    metadata,
    sa.Column("appointment_id", UUID(as_uuid=True), sa.ForeignKey("appointments.id"), primary_key=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False, index=True),
    sa.Column("modality", sa.String(10), nullable=False),
    sa.Column("media_path", sa.String(10), nullable=False),
    sa.Column("data_key_id", UUID(as_uuid=True), sa.ForeignKey("data_keys.id"), nullable=False),
    sa.Column("auto_admit", sa.Boolean, nullable=False),
    sa.Column("checked_in_at", TS, nullable=True),
    sa.Column("check_in", sa.LargeBinary, nullable=True),
    sa.Column("admitted_at", TS, nullable=True),
    sa.Column("ended_at", TS, nullable=True),
    sa.Column("last_signal_seq", sa.BigInteger, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.CheckConstraint("modality IN ('video', 'audio', 'phone', 'chat')", name="modality"),
    sa.CheckConstraint("media_path IN ('p2p', 'relayed')", name="media_path"),
)

session_events = sa.Table(
    "session_events",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    # Insertion order: events of one instant (a fake clock, a fast client) keep the order they happened in.
    sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    sa.Column("appointment_id", UUID(as_uuid=True), sa.ForeignKey("live_sessions.appointment_id"), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("actor_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=True),
    sa.Column("modality", sa.String(10), nullable=True),
    sa.Column("detail", sa.String(40), nullable=True),
)
sa.Index("ix_session_events_appointment_at", session_events.c.appointment_id, session_events.c.at)

# Short-lived: dropped when the session ends.
session_signals = sa.Table(
    "session_signals",
    metadata,
    sa.Column("appointment_id", UUID(as_uuid=True), sa.ForeignKey("live_sessions.appointment_id"), primary_key=True),
    sa.Column("recipient_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("sender_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

practice_session_settings = sa.Table(
    "practice_session_settings",
    metadata,
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), primary_key=True),
    sa.Column("require_relayed", sa.Boolean, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)
