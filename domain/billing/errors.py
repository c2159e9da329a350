"""Billing's domain errors. Each has a stable `code`; the API layer maps them to statuses."""

from __future__ import annotations

from domain.shared.errors import AuthenticationFailed, Conflict, DomainError


class PaymentFailed(DomainError):
    """The payment provider did not do what was asked.

    `provider_code` is the provider's machine code (for Stripe the decline code, else the error code);
    `payment_id` the provider's payment when one exists (a declined off-session charge still creates one);
    `retryable` says whether repeating the same request (with the same idempotency key) may succeed.
    """

    code = "payment_failed"
    retryable = False

    def __init__(
        self,
        detail: str = "",
        *,
        provider_code: str | None = None,
        payment_id: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail, code=code)
        self.provider_code = provider_code
        self.payment_id = payment_id


class PaymentDeclined(PaymentFailed):
    """The card was declined (insufficient funds, generic decline, expired card ...)."""

    code = "payment_declined"


class PaymentActionRequired(PaymentFailed):
    """The bank wants the cardholder to authenticate (3-D Secure): an off-session charge cannot go through; the
    client must pay on-session."""

    code = "payment_action_required"


class PaymentRejected(PaymentFailed):
    """The provider refused the request itself (bad parameters, already refunded, bad credentials ...)."""

    code = "payment_rejected"


class PaymentProviderUnavailable(PaymentFailed):
    """Network error, rate limit or provider outage. Retry later with the same idempotency key."""

    code = "payment_provider_unavailable"
    retryable = True


class IdempotencyKeyReused(Conflict):
    """An idempotency key was sent again with different parameters: a bug in the caller, never retried."""

    code = "idempotency_key_reused"


class InvalidWebhook(AuthenticationFailed):
    """A webhook whose signature does not verify, whose timestamp is outside the tolerance (a replay), or whose
    signed body is not an event. Answer 400 and process nothing."""

    code = "invalid_webhook"
