"""Telephony failures, each with a stable code."""

from __future__ import annotations

from domain.shared.errors import Conflict, DomainError, Forbidden


class TelephonyUnavailable(DomainError):
    """The provider did not accept the call (down, refused the number, bad credentials...)."""

    code = "telephony_unavailable"


class CallAlreadyLive(Conflict):
    code = "call_already_live"


class CallBeingPlaced(CallAlreadyLive):
    """The live call is one the provider has not confirmed yet: it is being placed right now, or its placing
    was cut off and it will count as failed once `UNPLACED_CALL_EXPIRES_AFTER` has passed."""


class InvalidWebhookSignature(Forbidden):
    code = "invalid_signature"
