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
# The operator's `hearth practice create-group` finds a group practice by its name, so it can be run again.
sa.Index("uq_practices_group_name", practices.c.name, unique=True, postgresql_where=practices.c.kind == "group")

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
    # Staff whom their group practice's admins removed (ADR 18): the account stays, it can no longer sign in.
    sa.Column("deactivated_at", TS, nullable=True),
    sa.Column("deactivated_by", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=True),
    sa.CheckConstraint("role IN ('client', 'therapist', 'practice_admin')", name="role"),
    sa.CheckConstraint("role = 'client' OR practice_id IS NOT NULL", name="staff_have_practice"),
    sa.CheckConstraint("deactivated_at IS NULL OR role <> 'client'", name="deactivated_staff"),
)

# An offer of a staff account in a group practice (ADR 16). Only the token's hash is kept; the token is in the
# emailed link. An address has at most one open (neither accepted nor revoked) invitation per practice; that
# index also serves the admins' list of open invitations.
invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("invited_by", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("accepted_at", TS, nullable=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=True),
    sa.Column("revoked_at", TS, nullable=True),
    sa.CheckConstraint("role IN ('therapist', 'practice_admin')", name="role"),
    sa.CheckConstraint("(accepted_at IS NULL) = (user_id IS NULL)", name="accepted_by_user"),
    sa.CheckConstraint("accepted_at IS NULL OR revoked_at IS NULL", name="accepted_or_revoked"),
)
sa.Index(
    "uq_invitations_open_email",
    invitations.c.practice_id,
    invitations.c.email,
    unique=True,
    postgresql_where=sa.and_(invitations.c.accepted_at.is_(None), invitations.c.revoked_at.is_(None)),
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
    sa.Column("last_active_at", TS, nullable=False),
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
    sa.Column("specialties", ARRAY(sa.String(100)), nullable=False),
    sa.Column("languages", ARRAY(sa.String(20)), nullable=False),
    sa.Column("modalities", ARRAY(sa.String(10)), nullable=False),
    sa.Column("session_lengths", ARRAY(sa.Integer), nullable=False),
    sa.Column("rates", JSONB, nullable=False),
    sa.Column("accepting_new_clients", sa.Boolean, nullable=False),
    sa.Column("caseload_capacity", sa.Integer, nullable=False),
    sa.Column("cancellation_window_hours", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    # Matching traits (optional; see domain.matching.candidates.TherapistTraits).
    sa.Column("gender", sa.String(12), nullable=True),
    sa.Column("faith_based", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("lgbtq_affirming", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("insurance_payers", ARRAY(sa.String(100)), nullable=False, server_default="{}"),
)
# Profiles of therapists still on their practice's staff, as therapists: one removed (ADR 18) or made an admin (ADR
# 21) is not listed, matched or booked; brought back, or made a therapist again, the same profile is.
STAFFED_PROFILE = therapist_profiles.c.therapist_id.in_(
    sa.select(users.c.id).where(users.c.role == "therapist", users.c.deactivated_at.is_(None))
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
    # The version of the therapist's cancellation policy the client accepted when booking (None: there was none).
    sa.Column("policy_version", sa.Integer, nullable=True),
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
sa.Index(
    "ix_waitlist_entries_active_therapist_created",
    waitlist_entries.c.therapist_id,
    waitlist_entries.c.created_at,
    waitlist_entries.c.id,
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
    sa.CheckConstraint("status IN ('pending', 'sent', 'cancelled', 'failed', 'expired')", name="status"),
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

# The first answer to an `Idempotency-Key`, kept for the retention period. Answers carry private data (an invoice's
# diagnoses, a payment's client secret), so they are sealed under a data key of their own, deleted with the row.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("operation", sa.String(120), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    # Plain answers written before revision 0017, still replayed; the expiry sweep seals them. Never written now.
    sa.Column("response", JSONB, nullable=True),
    sa.Column("sealed_response", sa.LargeBinary, nullable=True),
    sa.Column("data_key_id", UUID(as_uuid=True), sa.ForeignKey("data_keys.id"), nullable=True),
    sa.Column("created_at", TS, nullable=False, index=True),
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
# A client's psychotherapy notes by their author, oldest first: the list pages by (created_at, id).
sa.Index(
    "ix_psychotherapy_notes_author_client_created",
    psychotherapy_notes.c.author_id,
    psychotherapy_notes.c.client_id,
    psychotherapy_notes.c.created_at,
    psychotherapy_notes.c.id,
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
sa.Index(
    "ix_measure_responses_client_submitted",
    measure_responses.c.client_id,
    measure_responses.c.submitted_at,
    measure_responses.c.id,
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
# Open alerts stay few while acknowledged ones pile up for years: only the open ones are indexed in list order.
sa.Index(
    "ix_safety_alerts_open_therapist_created",
    safety_alerts.c.therapist_id,
    safety_alerts.c.created_at,
    safety_alerts.c.id,
    postgresql_where=safety_alerts.c.acknowledged_at.is_(None),
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
    sa.Column("away_since", TS, nullable=True),  # NULL: not away; else when away was switched on
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

# A session's phone call bridged by the telephony provider. No phone number is stored here: the numbers live on
# the users and go only to the provider. At most one live call per appointment (the partial unique index).
PHONE_CALL_LIVE_SQL = "status IN ('queued', 'ringing', 'in_progress')"
phone_calls = sa.Table(
    "phone_calls",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("appointment_id", UUID(as_uuid=True), sa.ForeignKey("appointments.id"), nullable=False, index=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False),
    _fk_user("therapist_id", index=False),
    _fk_user("client_id", index=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("provider_call_id", sa.String(64), nullable=True, unique=True),
    sa.Column("second_call_id", sa.String(64), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("therapist_answered_at", TS, nullable=True),
    sa.Column("answered_at", TS, nullable=True),
    sa.Column("ended_at", TS, nullable=True),
    sa.Column("duration_seconds", sa.Integer, nullable=True),
    # [{leg, status, at, provider_call_id}] in arrival order: the status timeline
    sa.Column("timeline", JSONB, nullable=False),
    sa.CheckConstraint(
        "status IN ('queued', 'ringing', 'in_progress', 'completed', 'busy', 'no_answer', 'failed', 'canceled')",
        name="status",
    ),
    sa.CheckConstraint("trigger IN ('therapist', 'scheduled')", name="trigger"),
)
sa.Index(
    "uq_phone_calls_live_appointment",
    phone_calls.c.appointment_id,
    unique=True,
    postgresql_where=sa.text(PHONE_CALL_LIVE_SQL),
)

# --- matching -------------------------------------------------------------------------------------
# Intake answers (`body`) are ciphertext from the PayloadCipher under the intake's own data key; only ids, the
# questionnaire version, the wizard step and times are stored in the clear.

intakes = sa.Table(
    "intakes",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _fk_user("client_id"),
    sa.Column("questionnaire_version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("data_key_id", UUID(as_uuid=True), sa.ForeignKey("data_keys.id"), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("submitted_at", TS, nullable=True),
    sa.CheckConstraint("status IN ('draft', 'submitted')", name="status"),
)
sa.Index(
    "uq_intakes_one_draft",
    intakes.c.client_id,
    unique=True,
    postgresql_where=intakes.c.status == "draft",
)

# One row per matching request: suggestions offered (ids only), a place in a practice's waiting queue, or an
# assignment; `chosen_at - intake_submitted_at` is the time to match.
matches = sa.Table(
    "matches",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _fk_user("client_id"),
    sa.Column("intake_id", UUID(as_uuid=True), sa.ForeignKey("intakes.id"), nullable=False),
    sa.Column("intake_submitted_at", TS, nullable=False),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("suggested", ARRAY(UUID(as_uuid=True)), nullable=False),
    sa.Column("queue_practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=True, index=True),
    _fk_user("therapist_id", nullable=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=True, index=True),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("previous_therapist_id", UUID(as_uuid=True), nullable=True),
    sa.Column("records_transferred", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("chosen_at", TS, nullable=True),
    sa.CheckConstraint("mode IN ('suggest', 'automatic', 'queue')", name="mode"),
    sa.CheckConstraint("status IN ('open', 'queued', 'chosen', 'closed')", name="status"),
)
sa.Index(
    "uq_matches_one_queued",
    matches.c.client_id,
    unique=True,
    postgresql_where=matches.c.status == "queued",
)
sa.Index(
    "ix_matches_queued_practice_created",
    matches.c.queue_practice_id,
    matches.c.created_at,
    matches.c.id,
    postgresql_where=matches.c.status == "queued",
)

# ---------------------------------------------------------------------------------------------- billing

# A therapist's prices and invoicing settings. Rates and sliding-scale prices are read and written whole.
billing_settings = sa.Table(
    "billing_settings",
    metadata,
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False, index=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("rates", JSONB, nullable=False),
    sa.Column("check_in_minor", sa.Integer, nullable=True),
    sa.Column("sliding_scale", JSONB, nullable=False),
    sa.Column("invoice_schedule", sa.String(12), nullable=False),
    sa.Column("npi", sa.String(10), nullable=True),
    sa.Column("tax_id", sa.String(20), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.CheckConstraint("invoice_schedule IN ('per_charge', 'monthly')", name="invoice_schedule"),
)

# Versions of a therapist's cancellation policy; a version never changes once written (clients accepted it).
cancellation_policies = sa.Table(
    "cancellation_policies",
    metadata,
    sa.Column("therapist_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("window_hours", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("late_flat_minor", sa.Integer, nullable=True),
    sa.Column("late_percent_bp", sa.Integer, nullable=True),
    sa.Column("no_show_flat_minor", sa.Integer, nullable=True),
    sa.Column("no_show_percent_bp", sa.Integer, nullable=True),
    sa.Column("created_at", TS, nullable=False),
)

# Diagnoses and date of birth for claims, sealed with the client record's data key.
client_billing_records = sa.Table(
    "client_billing_records",
    metadata,
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), primary_key=True),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_by", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

billing_charges = sa.Table(
    "billing_charges",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False, index=True),
    _fk_user("therapist_id"),
    _fk_user("client_id"),
    sa.Column("appointment_id", UUID(as_uuid=True), sa.ForeignKey("appointments.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("service_date", sa.Date, nullable=False),
    sa.Column("amount_minor", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=True),
    # The coding (CPT, modifier, place of service, diagnoses, overrides with reasons), sealed: it holds diagnoses.
    sa.Column("coding", sa.LargeBinary, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.UniqueConstraint("appointment_id", "kind", name="uq_billing_charges_appointment_kind"),
    sa.CheckConstraint("kind IN ('session', 'late_cancellation', 'no_show')", name="kind"),
    sa.CheckConstraint("amount_minor >= 0", name="amount"),
)

billing_invoices = sa.Table(
    "billing_invoices",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("charge_id", UUID(as_uuid=True), sa.ForeignKey("billing_charges.id"), nullable=False, unique=True),
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), nullable=False, index=True),
    _fk_user("therapist_id"),
    _fk_user("client_id"),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("issued_at", TS, nullable=True),
    sa.Column("paid_at", TS, nullable=True),
    sa.Column("voided_at", TS, nullable=True),
    sa.Column("amount_paid_minor", sa.Integer, nullable=False),
    sa.Column("amount_refunded_minor", sa.Integer, nullable=False),
    sa.Column("payment_id", sa.String(255), nullable=True, index=True),
    sa.Column("payment_attempts", sa.Integer, nullable=False),
    sa.Column("failure_code", sa.String(100), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.CheckConstraint(
        "status IN ('draft', 'open', 'processing', 'paid', 'payment_failed', 'partially_refunded', 'refunded', 'void')",
        name="status",
    ),
    sa.CheckConstraint("amount_refunded_minor <= amount_paid_minor", name="refunds_within_paid"),
)

# Every provider payment Hearth started, by attempt (what the provider answered last).
billing_payments = sa.Table(
    "billing_payments",
    metadata,
    sa.Column("payment_id", sa.String(255), primary_key=True),
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("billing_invoices.id"), nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("amount_minor", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    # The client asked to keep the card for fees (setup_future_usage=off_session): a webhook saying the payment
    # succeeded then records the card, when the bank made the client authenticate first.
    sa.Column("keep_card", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

billing_refunds = sa.Table(
    "billing_refunds",
    metadata,
    sa.Column("refund_id", sa.String(255), primary_key=True),
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("billing_invoices.id"), nullable=False, index=True),
    sa.Column("amount_minor", sa.Integer, nullable=False),
    sa.Column("refunded_at", TS, nullable=False),
)

# Provider webhook events already processed: the primary key makes a redelivery a no-op.
billing_provider_events = sa.Table(
    "billing_provider_events",
    metadata,
    sa.Column("event_id", sa.String(255), primary_key=True),
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("billing_invoices.id"), nullable=True, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("outcome", sa.String(12), nullable=False),
    sa.Column("received_at", TS, nullable=False),
)

# The client's customer at the payment provider and the card they saved for late-cancellation and no-show fees
# (provider ids only: the card itself stays with the provider).
billing_payment_profiles = sa.Table(
    "billing_payment_profiles",
    metadata,
    sa.Column("client_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("customer_id", sa.String(255), nullable=False),
    sa.Column("payment_method_id", sa.String(255), nullable=True),
    # When the payment that kept `payment_method_id` succeeded: a card kept later replaces it, an earlier one not.
    sa.Column("card_kept_at", TS, nullable=True),
    sa.Column("updated_at", TS, nullable=False),
)

# The platform fee a practice pays (absent: the deployment's default from settings).
platform_fee_settings = sa.Table(
    "platform_fee_settings",
    metadata,
    sa.Column("practice_id", UUID(as_uuid=True), sa.ForeignKey("practices.id"), primary_key=True),
    sa.Column("mode", sa.String(24), nullable=False),
    sa.Column("percent_bp", sa.Integer, nullable=False),
    sa.Column("monthly_minor", sa.Integer, nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("updated_at", TS, nullable=False),
    sa.CheckConstraint("mode IN ('percent_per_invoice', 'monthly_subscription')", name="mode"),
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
