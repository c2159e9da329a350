"""Telephony failures, each with a stable code."""

from __future__ import annotations

from domain.shared.errors import Conflict, DomainError, Forbidden


class TelephonyUnavailable(DomainError):
    """The provider did not accept the call (down, refused the number, bad credentials...)."""

    code = "telephony_unavailable"


class CallPlacementUnconfirmed(DomainError):
    """The provider may have placed the call: its answer was lost after the request went out, and asking it
    afterwards either found such a call or could not tell. The call's own webhooks will say (they carry our
    reference); placing it again could ring the therapist twice."""

    code = "call_placement_unconfirmed"


class CallAlreadyLive(Conflict):
    code = "call_already_live"


class CallBeingPlaced(CallAlreadyLive):
    """The live call is one the provider has not confirmed yet: it is being placed right now, or its placing
    was cut off and it will count as failed once `UNPLACED_CALL_EXPIRES_AFTER` has passed."""


class InvalidWebhookSignature(Forbidden):
    code = "invalid_signature"
