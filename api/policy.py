"""Who may call each route. Every route must have an entry: a test walks `app.routes`
and fails on any route missing here, and the app refuses to start with one missing.

Route-level roles are the first gate; object-level access (is this appointment yours?)
is decided by the domain services, which answer `NotFound` for foreign objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.shared.principal import Role


@dataclass(frozen=True, slots=True)
class Access:
    public: bool = False
    roles: frozenset[Role] = frozenset()

    def allows(self, role: Role) -> bool:
        return self.public or role in self.roles


PUBLIC = Access(public=True)
ANY_USER = Access(roles=frozenset(Role))
CLIENTS = Access(roles=frozenset({Role.CLIENT}))
THERAPISTS = Access(roles=frozenset({Role.THERAPIST}))
STAFF = Access(roles=frozenset({Role.THERAPIST, Role.PRACTICE_ADMIN}))
ADMINS = Access(roles=frozenset({Role.PRACTICE_ADMIN}))

POLICY: dict[tuple[str, str], Access] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("POST", "/api/v1/auth/register"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): PUBLIC,
    # invitations into a group practice (object rule: the admins of that practice; others get 404). The invitee
    # has no account yet: the link's token is the credential.
    ("POST", "/api/v1/practices/{practice_id}/invitations"): ADMINS,
    ("GET", "/api/v1/practices/{practice_id}/invitations"): ADMINS,
    ("DELETE", "/api/v1/practices/{practice_id}/invitations/{invitation_id}"): ADMINS,
    # its members (the same object rule; ADR 18, ADR 21)
    ("GET", "/api/v1/practices/{practice_id}/members"): ADMINS,
    ("POST", "/api/v1/practices/{practice_id}/members/{user_id}/deactivate"): ADMINS,
    ("POST", "/api/v1/practices/{practice_id}/members/{user_id}/reactivate"): ADMINS,
    ("PUT", "/api/v1/practices/{practice_id}/members/{user_id}/role"): ADMINS,
    ("GET", "/api/v1/invitations/{token}"): PUBLIC,
    ("POST", "/api/v1/invitations/{token}/accept"): PUBLIC,
    ("GET", "/api/v1/me"): ANY_USER,
    ("PUT", "/api/v1/me"): ANY_USER,
    # scheduling
    ("GET", "/api/v1/therapists"): ANY_USER,
    ("GET", "/api/v1/therapists/me/profile"): THERAPISTS,
    ("PUT", "/api/v1/therapists/me/profile"): THERAPISTS,
    ("GET", "/api/v1/therapists/me/office-hours"): THERAPISTS,
    ("PUT", "/api/v1/therapists/me/office-hours"): THERAPISTS,
    ("GET", "/api/v1/therapists/{therapist_id}"): ANY_USER,
    ("GET", "/api/v1/therapists/{therapist_id}/slots"): ANY_USER,
    ("POST", "/api/v1/appointments"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("GET", "/api/v1/appointments"): ANY_USER,
    ("GET", "/api/v1/clients"): THERAPISTS,
    ("GET", "/api/v1/clients/names"): THERAPISTS,
    ("GET", "/api/v1/appointments/{appointment_id}"): ANY_USER,
    ("POST", "/api/v1/appointments/{appointment_id}/cancel"): ANY_USER,
    ("POST", "/api/v1/appointments/{appointment_id}/reschedule"): ANY_USER,
    ("POST", "/api/v1/appointments/{appointment_id}/status"): STAFF,
    ("POST", "/api/v1/appointment-series"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("POST", "/api/v1/therapists/{therapist_id}/waitlist"): CLIENTS,
    ("GET", "/api/v1/waitlist"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("DELETE", "/api/v1/waitlist/{entry_id}"): CLIENTS,
    ("GET", "/api/v1/waitlist/offers"): CLIENTS,
    ("POST", "/api/v1/waitlist/offers/{offer_id}/claim"): CLIENTS,
    ("POST", "/api/v1/calendar-feeds"): ANY_USER,
    ("DELETE", "/api/v1/calendar-feeds"): ANY_USER,
    # measures
    ("GET", "/api/v1/instruments"): ANY_USER,
    ("POST", "/api/v1/clients/{client_id}/measures"): THERAPISTS,
    ("GET", "/api/v1/clients/{client_id}/measures"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("POST", "/api/v1/measure-assignments/{assignment_id}/end"): THERAPISTS,
    ("POST", "/api/v1/measure-assignments/{assignment_id}/responses"): CLIENTS,
    ("GET", "/api/v1/clients/{client_id}/measure-responses"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("GET", "/api/v1/clients/{client_id}/measures/{instrument}/trend"): Access(
        roles=frozenset({Role.CLIENT, Role.THERAPIST})
    ),
    ("GET", "/api/v1/practices/me/crisis-resources"): ANY_USER,
    ("PUT", "/api/v1/practices/me/crisis-resources"): STAFF,
    ("GET", "/api/v1/safety-alerts"): THERAPISTS,
    ("POST", "/api/v1/safety-alerts/{alert_id}/acknowledge"): THERAPISTS,
    # plans and notes (object rules in the domain: the client reads no note, only authors read psychotherapy notes)
    ("GET", "/api/v1/clients/{client_id}/plan"): ANY_USER,
    ("PUT", "/api/v1/clients/{client_id}/plan"): THERAPISTS,
    ("GET", "/api/v1/clients/{client_id}/plan/versions/{version}"): ANY_USER,
    ("POST", "/api/v1/clients/{client_id}/plan/acknowledgement"): CLIENTS,
    ("GET", "/api/v1/appointments/{appointment_id}/note"): ANY_USER,
    ("PUT", "/api/v1/appointments/{appointment_id}/note"): THERAPISTS,
    ("POST", "/api/v1/notes/{note_id}/sign"): THERAPISTS,
    ("POST", "/api/v1/notes/{note_id}/addenda"): THERAPISTS,
    ("GET", "/api/v1/notes/todo"): THERAPISTS,
    ("POST", "/api/v1/clients/{client_id}/psychotherapy-notes"): THERAPISTS,
    ("GET", "/api/v1/clients/{client_id}/psychotherapy-notes"): THERAPISTS,
    ("GET", "/api/v1/psychotherapy-notes/{note_id}"): ANY_USER,
    ("PUT", "/api/v1/psychotherapy-notes/{note_id}"): ANY_USER,
    # messaging (object rule: only the conversation's two participants)
    ("GET", "/api/v1/conversations"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("POST", "/api/v1/conversations"): THERAPISTS,
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): Access(
        roles=frozenset({Role.CLIENT, Role.THERAPIST})
    ),
    ("POST", "/api/v1/conversations/{conversation_id}/read"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("POST", "/api/v1/ws-tickets"): ANY_USER,
    # The socket authenticates with its single-use ticket (browsers cannot send headers on it).
    ("WS", "/api/v1/ws"): PUBLIC,
    ("GET", "/api/v1/therapists/me/away"): THERAPISTS,
    ("PUT", "/api/v1/therapists/me/away"): THERAPISTS,
    ("GET", "/api/v1/therapists/me/welcome-message"): THERAPISTS,
    ("PUT", "/api/v1/therapists/me/welcome-message"): THERAPISTS,
    # phone sessions (object rule: the therapist of the appointment places the call; both participants follow it)
    ("GET", "/api/v1/me/phone"): ANY_USER,
    ("PUT", "/api/v1/me/phone"): ANY_USER,
    ("POST", "/api/v1/appointments/{appointment_id}/phone-call"): THERAPISTS,
    ("GET", "/api/v1/appointments/{appointment_id}/phone-call"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("POST", "/api/v1/appointments/{appointment_id}/phone-call/hang-up"): Access(
        roles=frozenset({Role.CLIENT, Role.THERAPIST})
    ),
    # The provider cannot send our tokens: these check its request signature instead (403 invalid_signature).
    ("POST", "/api/v1/telephony/twilio/calls/{call_id}/connect"): PUBLIC,
    ("POST", "/api/v1/telephony/twilio/calls/{call_id}/status"): PUBLIC,
    # matching (object rules in the domain: a client's own intake and matches; staff of the practice only)
    ("GET", "/api/v1/intake"): CLIENTS,
    ("PUT", "/api/v1/intake"): CLIENTS,
    ("POST", "/api/v1/intake"): CLIENTS,
    ("POST", "/api/v1/matches"): CLIENTS,
    ("GET", "/api/v1/matches/{match_id}"): CLIENTS,
    ("POST", "/api/v1/matches/{match_id}/choice"): CLIENTS,
    ("GET", "/api/v1/practices/{practice_id}/match-queue"): ADMINS,
    ("POST", "/api/v1/practices/{practice_id}/match-queue/preview"): ADMINS,
    ("POST", "/api/v1/practices/{practice_id}/match-queue/assignments"): ADMINS,
    ("GET", "/api/v1/practices/{practice_id}/time-to-match"): STAFF,
    # billing (object rules in the domain: a client their own invoices and superbills, staff their practice's)
    ("GET", "/api/v1/therapists/me/billing-settings"): THERAPISTS,
    ("PUT", "/api/v1/therapists/me/billing-settings"): THERAPISTS,
    ("GET", "/api/v1/therapists/{therapist_id}/cancellation-policy"): ANY_USER,
    ("PUT", "/api/v1/therapists/me/cancellation-policy"): THERAPISTS,
    ("GET", "/api/v1/appointments/{appointment_id}/cancellation-terms"): ANY_USER,
    ("GET", "/api/v1/clients/{client_id}/billing-record"): THERAPISTS,
    ("PUT", "/api/v1/clients/{client_id}/billing-record"): THERAPISTS,
    ("GET", "/api/v1/charges"): STAFF,
    ("POST", "/api/v1/charges/{charge_id}/coding-overrides"): THERAPISTS,
    ("GET", "/api/v1/invoices"): ANY_USER,
    ("POST", "/api/v1/invoices/issue"): THERAPISTS,
    ("GET", "/api/v1/invoices/{invoice_id}"): ANY_USER,
    ("POST", "/api/v1/invoices/{invoice_id}/void"): STAFF,
    ("POST", "/api/v1/invoices/{invoice_id}/payments"): CLIENTS,
    ("POST", "/api/v1/invoices/{invoice_id}/refunds"): THERAPISTS,
    ("GET", "/api/v1/therapists/me/statements"): THERAPISTS,
    ("GET", "/api/v1/therapists/me/statements.csv"): THERAPISTS,
    ("GET", "/api/v1/clients/{client_id}/superbill"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    # The provider signs its webhook (verified over the raw body); it has no user token.
    ("POST", "/api/v1/payments/stripe/webhook"): PUBLIC,
    # The provider and its publishable key are public by design (the SPA loads Stripe.js with it).
    ("GET", "/api/v1/payments/config"): PUBLIC,
    # live sessions (object rule: only the appointment's therapist and client; anyone else gets 404)
    ("GET", "/api/v1/appointments/{appointment_id}/session"): Access(roles=frozenset({Role.CLIENT, Role.THERAPIST})),
    ("POST", "/api/v1/appointments/{appointment_id}/check-in"): CLIENTS,
    ("POST", "/api/v1/appointments/{appointment_id}/session/admit"): THERAPISTS,
    ("PUT", "/api/v1/appointments/{appointment_id}/session/auto-admit"): THERAPISTS,
    ("POST", "/api/v1/appointments/{appointment_id}/session/modality"): Access(
        roles=frozenset({Role.CLIENT, Role.THERAPIST})
    ),
    ("POST", "/api/v1/appointments/{appointment_id}/session/phone-call"): THERAPISTS,
    ("POST", "/api/v1/appointments/{appointment_id}/session/end"): THERAPISTS,
    ("GET", "/api/v1/appointments/{appointment_id}/ice-servers"): Access(
        roles=frozenset({Role.CLIENT, Role.THERAPIST})
    ),
    ("GET", "/api/v1/practices/me/session-settings"): STAFF,
    ("PUT", "/api/v1/practices/me/session-settings"): STAFF,
    # The feed address is itself the secret (calendar apps cannot send tokens).
    ("GET", "/api/v1/calendar/{token}.ics"): PUBLIC,
}


def access_for(method: str, path: str) -> Access | None:
    return POLICY.get((method.upper(), path))
