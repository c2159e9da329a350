"""Stripe adapter for the `PaymentGateway` port: PaymentIntents, Refunds and signed webhooks over httpx.

Requests (https://docs.stripe.com/api): `POST {base}/v1/payment_intents` and `POST {base}/v1/refunds`,
`Authorization: Bearer <secret key>`, `application/x-www-form-urlencoded` bodies with Stripe's bracket syntax for
nested values (`metadata[invoice_id]=...`, `payment_method_types[0]=card`), and an `Idempotency-Key` header on
every call (Stripe replays the first answer for the same key and parameters, and answers 400
`idempotency_error` for the same key with other parameters). Amounts are integers in the currency's smallest
unit, currencies lower-case on the wire.

* A client paying on-session: a PaymentIntent for the invoice amount without `confirm`; the browser confirms it
  with Stripe.js using `client_secret`; or, with a PaymentMethod the browser created with Stripe.js,
  `payment_method` + `confirm=true` in one call (`pay_with_method`). A fee: `customer`, `payment_method`,
  `confirm=true`, `off_session=true`.
  `payment_method_types[0]=card` keeps server-side confirmation free of redirect-based methods.
* Voiding an invoice cancels its payment: `POST {base}/v1/payment_intents/{id}/cancel` with
  `cancellation_reason=abandoned`. An intent that can no longer be canceled (it succeeded, or it is `processing`
  and Stripe will not stop it) is answered 400 `payment_intent_unexpected_state` with the intent, as it is now, in
  `error.payment_intent`: that state is the answer, not a failure.
* Errors are `{"error": {"type", "code", "decline_code", "message", "payment_intent", ...}}`: `card_error`
  (402) -> `PaymentDeclined`, or `PaymentActionRequired` for `authentication_required`; `idempotency_error` ->
  `IdempotencyKeyReused`; 401/403 and other `invalid_request_error`s -> `PaymentRejected`; 409 (the key is
  in use by a concurrent request), 429, 5xx, `api_error` and network errors -> `PaymentProviderUnavailable`.
* Retries: network errors, 409, 429 and 5xx are retried (with the *same* idempotency key, so a request whose
  answer was lost is replayed, never repeated) up to `max_network_retries` times, unless Stripe answers
  `Stripe-Should-Retry: false`.
* Webhooks (https://docs.stripe.com/webhooks#verify-manually): `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`;
  the expected signature is HMAC-SHA256, keyed with the endpoint's signing secret, of `"{t}.{raw body}"`,
  compared in constant time with each `v1` (several during secret rolling; other schemes such as `v0` are
  ignored). A timestamp more than `webhook_tolerance_seconds` (300) away from now is rejected, so a captured
  request cannot be replayed later; within the tolerance a redelivery is caught by the domain's event-id
  idempotency. A payment event also carries the PaymentIntent's `customer`, `payment_method` (ids or null) and
  `setup_future_usage`, so a card kept for fees after 3-D Secure is recorded from the webhook; a field of another
  shape (an id that is not one, an unknown usage) makes the event `bad_event`, like a missing one.

Nothing clinical is sent to Stripe: only the invoice id as metadata. The secret key is never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from domain.billing.errors import (
    IdempotencyKeyReused,
    InvalidWebhook,
    PaymentActionRequired,
    PaymentDeclined,
    PaymentFailed,
    PaymentProviderUnavailable,
    PaymentRejected,
)
from domain.billing.ports import (
    IntentStatus,
    PaymentEvent,
    PaymentEventKind,
    PaymentIntent,
    PaymentRequest,
    RefundRequest,
    RefundResult,
    RefundStatus,
)
from domain.scheduling.model import Money
from domain.shared.errors import DomainError
from domain.shared.ports import Clock

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "StripeConfig", "StripeGateway", "sign_payload", "verify_signature"]

log = structlog.get_logger("hearth.payments.stripe")

DEFAULT_TOLERANCE_SECONDS = 300
SIGNATURE_SCHEME = "v1"
_PAYMENT_EVENTS: Mapping[str, PaymentEventKind] = {
    "payment_intent.processing": PaymentEventKind.PROCESSING,
    "payment_intent.succeeded": PaymentEventKind.SUCCEEDED,
    "payment_intent.payment_failed": PaymentEventKind.FAILED,
    "payment_intent.canceled": PaymentEventKind.CANCELED,
}
_REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "charge.refund.updated"})
_COUNTED_REFUNDS = frozenset({"pending", "succeeded"})
_FUTURE_USAGES = frozenset({"on_session", "off_session"})
_ID = re.compile(r"[A-Za-z0-9_]+")
_REASON_CODE = re.compile(r"[a-z0-9_]{1,100}")
_MAX_ID = 255


@dataclass(frozen=True, slots=True)
class StripeConfig:
    secret_key: str  # sk_live_... / sk_test_... or a restricted rk_... key
    webhook_secret: str  # the endpoint's signing secret, whsec_...
    base_url: str = "https://api.stripe.com"
    api_version: str | None = None  # pin with Stripe-Version; None uses the account's default
    timeout_seconds: float = 20.0
    webhook_tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    max_network_retries: int = 2
    retry_backoff_seconds: float = 0.5

    def __post_init__(self) -> None:
        if not self.secret_key.startswith(("sk_", "rk_")):
            raise ValueError("Stripe needs a secret key (sk_...) or a restricted key (rk_...), never a pk_ key")
        if not self.webhook_secret.startswith("whsec_"):
            raise ValueError("Stripe's webhook signing secret starts with whsec_")
        if self.webhook_tolerance_seconds <= 0:
            raise ValueError("the webhook tolerance must be positive")
        if self.max_network_retries < 0 or self.retry_backoff_seconds < 0:
            raise ValueError("retries and backoff cannot be negative")


# ---------------------------------------------------------------------------------------------- signatures


def _signature(payload: bytes, secret: str, timestamp: str) -> str:
    signed = timestamp.encode("ascii") + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_payload(payload: bytes, *, secret: str, timestamp: int) -> str:
    """The hex `v1` signature Stripe computes for `payload` at `timestamp`."""
    return _signature(payload, secret, str(timestamp))


def verify_signature(payload: bytes, header: str, *, secret: str, now: int, tolerance: int) -> int:
    """Check a `Stripe-Signature` header against the raw body; return its timestamp or raise `InvalidWebhook`."""
    timestamp: str | None = None
    signatures: list[str] = []
    for item in (header or "").split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t" and timestamp is None:
            timestamp = value
        elif key == SIGNATURE_SCHEME:
            signatures.append(value)
    if timestamp is None or not timestamp.isascii() or not timestamp.isdigit() or not signatures:
        raise InvalidWebhook("The Stripe-Signature header has no timestamp or no v1 signature.", code="bad_signature")
    expected = _signature(payload, secret, timestamp).encode("ascii")  # over the literal `t` that was sent
    matched = False
    for candidate in signatures:
        # compare every candidate, in constant time each, so timing does not reveal which one matched
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    if not matched:
        raise InvalidWebhook("No signature matches the payload.", code="bad_signature")
    sent = int(timestamp)
    if abs(now - sent) > tolerance:
        raise InvalidWebhook("The webhook timestamp is outside the tolerance.", code="webhook_expired")
    return sent


# ---------------------------------------------------------------------------------------------- gateway


class StripeGateway:
    """Owns an httpx client: call `aclose()` when the application stops."""

    def __init__(
        self, config: StripeConfig, *, clock: Clock, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._config = config
        self._clock = clock
        headers = {
            "Authorization": f"Bearer {config.secret_key}",
            "Accept": "application/json",
            "User-Agent": "hearth",
        }
        if config.api_version:
            headers["Stripe-Version"] = config.api_version
        self._client = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/"),
            timeout=config.timeout_seconds,
            transport=transport,
            headers=headers,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- payments

    async def create_payment_intent(self, request: PaymentRequest, *, idempotency_key: str) -> PaymentIntent:
        form = _intent_form(request)
        if request.customer_id:
            form["customer"] = request.customer_id
        return _intent(await self._post("/v1/payment_intents", form, idempotency_key))

    async def pay_with_method(
        self,
        request: PaymentRequest,
        *,
        payment_method_id: str,
        idempotency_key: str,
        save_for_fees: bool = False,
    ) -> PaymentIntent:
        form = _intent_form(request)
        form.update({"payment_method": payment_method_id, "confirm": "true"})
        if request.customer_id:
            form["customer"] = request.customer_id
            if save_for_fees:
                form["setup_future_usage"] = "off_session"
        return _intent(await self._post("/v1/payment_intents", form, idempotency_key))

    async def create_customer(self, *, client_id: uuid.UUID, idempotency_key: str) -> str:
        obj = await self._post("/v1/customers", {"metadata[client_id]": str(client_id)}, idempotency_key)
        try:
            return _str(obj, "id")
        except (KeyError, TypeError) as exc:
            raise PaymentProviderUnavailable("Stripe answered a customer in an unexpected shape.") from exc

    async def charge_saved_method(
        self, request: PaymentRequest, *, customer_id: str, payment_method_id: str, idempotency_key: str
    ) -> PaymentIntent:
        form = _intent_form(request)
        form.update(
            {"customer": customer_id, "payment_method": payment_method_id, "confirm": "true", "off_session": "true"}
        )
        return _intent(await self._post("/v1/payment_intents", form, idempotency_key))

    async def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> PaymentIntent:
        path = f"/v1/payment_intents/{quote(payment_id, safe='')}/cancel"
        try:
            obj = await self._post(path, {"cancellation_reason": "abandoned"}, idempotency_key)
        except _UnexpectedState as refused:
            if refused.intent is None or refused.intent.get("id") != payment_id:
                raise  # no state to read: a plain refusal
            obj = refused.intent
        return _intent(obj)

    async def refund(self, request: RefundRequest, *, idempotency_key: str) -> RefundResult:
        form = {
            "payment_intent": request.payment_id,
            "reason": request.reason.value,
            "metadata[invoice_id]": str(request.invoice_id),
        }
        if request.amount is not None:
            form["amount"] = str(request.amount.amount_minor)
        obj = await self._post("/v1/refunds", form, idempotency_key)
        try:
            return RefundResult(
                refund_id=_str(obj, "id"),
                payment_id=_str(obj, "payment_intent"),
                amount=_money(obj, "amount"),
                status=RefundStatus(_str(obj, "status")),
                invoice_id=_invoice_id(obj),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PaymentProviderUnavailable("Stripe answered a refund in an unexpected shape.") from exc

    # -- webhooks

    def parse_webhook(self, payload: bytes, signature_header: str) -> PaymentEvent | None:
        now = int(self._clock.now().timestamp())
        verify_signature(
            payload,
            signature_header,
            secret=self._config.webhook_secret,
            now=now,
            tolerance=self._config.webhook_tolerance_seconds,
        )
        try:
            event = json.loads(payload)
            if not isinstance(event, dict):
                raise TypeError("an event is a JSON object")
            return _event(event)
        # json.JSONDecodeError is a ValueError; a `created` beyond the platform's clock raises OverflowError/OSError
        except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
            raise InvalidWebhook("The signed webhook is not a Stripe event.", code="bad_event") from exc

    # -- transport

    async def _post(self, path: str, form: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        if not idempotency_key or len(idempotency_key) > 255:
            raise ValueError("an idempotency key is 1 to 255 characters")
        headers = {"Idempotency-Key": idempotency_key}
        attempt = 0
        while True:
            try:
                response = await self._client.post(path, data=form, headers=headers)
            except httpx.TransportError as exc:
                if attempt < self._config.max_network_retries:
                    attempt += 1
                    await self._backoff(attempt)
                    continue
                log.warning("stripe.unreachable", path=path, error=type(exc).__name__)
                raise PaymentProviderUnavailable(f"Stripe unreachable: {type(exc).__name__}") from exc
            if _should_retry(response) and attempt < self._config.max_network_retries:
                attempt += 1
                await self._backoff(attempt)
                continue
            if 200 <= response.status_code < 300:
                body = _json(response)
                if body is None:
                    raise PaymentProviderUnavailable("Stripe answered without a JSON object.")
                return body
            raise _error(response, path)

    async def _backoff(self, attempt: int) -> None:
        await asyncio.sleep(self._config.retry_backoff_seconds * 2 ** (attempt - 1))


def _intent_form(request: PaymentRequest) -> dict[str, str]:
    return {
        "amount": str(request.amount.amount_minor),
        "currency": request.amount.currency.lower(),
        "payment_method_types[0]": "card",
        "metadata[invoice_id]": str(request.invoice_id),
    }


def _should_retry(response: httpx.Response) -> bool:
    hint = response.headers.get("stripe-should-retry")
    if hint == "true":
        return True
    if hint == "false":
        return False
    return response.status_code in (409, 429) or response.status_code >= 500


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        value = response.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error(response: httpx.Response, path: str) -> DomainError:
    body = _json(response) or {}
    raw_error = body.get("error")
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    kind = error.get("type")
    code = error.get("code") if isinstance(error.get("code"), str) else None
    decline = error.get("decline_code") if isinstance(error.get("decline_code"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else response.reason_phrase
    intent = error.get("payment_intent")
    payment_id = intent.get("id") if isinstance(intent, dict) and isinstance(intent.get("id"), str) else None
    status = response.status_code
    log.warning("stripe.error", path=path, status=status, type=kind, code=code, decline_code=decline)
    failure: PaymentFailed
    if kind == "idempotency_error":
        return IdempotencyKeyReused(f"Stripe: {message}")
    if kind == "card_error" or status == 402:
        if "authentication_required" in (code, decline):
            failure = PaymentActionRequired(
                f"Stripe: {message}", provider_code="authentication_required", payment_id=payment_id
            )
        else:
            failure = PaymentDeclined(f"Stripe: {message}", provider_code=decline or code, payment_id=payment_id)
        return failure
    if status in (401, 403):
        # Stripe's message repeats part of the key: do not pass it on.
        return PaymentRejected(f"Stripe refused the API key (HTTP {status}).", provider_code=code or "authentication")
    if status in (409, 429) or status >= 500 or kind == "api_error":
        return PaymentProviderUnavailable(f"Stripe: HTTP {status}: {message}", provider_code=code)
    if code == "payment_intent_unexpected_state":
        return _UnexpectedState(
            f"Stripe: {message}", provider_code=code, payment_id=payment_id, intent=intent if payment_id else None
        )
    return PaymentRejected(f"Stripe: {message}", provider_code=code, payment_id=payment_id)


class _UnexpectedState(PaymentRejected):
    """The request does not fit the PaymentIntent's state; `intent` is the intent as Stripe has it now, when the
    error carries it. Still a `PaymentRejected` for every call but a cancel, which reads the state from it."""

    def __init__(
        self, detail: str, *, provider_code: str | None, payment_id: str | None, intent: dict[str, Any] | None
    ) -> None:
        super().__init__(detail, provider_code=provider_code, payment_id=payment_id)
        self.intent = intent


# ---------------------------------------------------------------------------------------------- parsing


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value:
        raise TypeError(f"{key} is not a string")
    return value


def _id(obj: Mapping[str, Any], key: str) -> str:
    """A Stripe object id (`evt_...`, `pi_...`, `cus_...`, `pm_...`): letters, digits and underscores, at most
    255 characters (what Hearth's columns hold), so a strange one is a bad event rather than a database error."""
    value = _str(obj, key)
    if len(value) > _MAX_ID or not _ID.fullmatch(value):
        raise ValueError(f"{key} is not a Stripe id")
    return value


def _optional_id(obj: Mapping[str, Any], key: str) -> str | None:
    """An id that may be absent or null (a PaymentIntent's `customer`, `payment_method`); webhooks never expand
    them into objects, so anything but a string or null is a bad event."""
    return None if obj.get(key) is None else _id(obj, key)


def _keeps_method_off_session(obj: Mapping[str, Any]) -> bool:
    usage = obj.get("setup_future_usage")
    if usage is not None and usage not in _FUTURE_USAGES:
        raise ValueError("setup_future_usage is not on_session, off_session or null")
    return usage == "off_session"


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"{key} is not a non-negative integer")
    return value


def _money(obj: Mapping[str, Any], key: str) -> Money:
    return Money(_int(obj, key), _str(obj, "currency").upper())


def _invoice_id(obj: Mapping[str, Any]) -> uuid.UUID | None:
    metadata = obj.get("metadata")
    raw = metadata.get("invoice_id") if isinstance(metadata, dict) else None
    try:
        return uuid.UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _failure_code(obj: Mapping[str, Any]) -> str | None:
    error = obj.get("last_payment_error")
    if not isinstance(error, dict):
        return None
    return _reason_code(error.get("decline_code") or error.get("code"))


def _reason_code(value: object) -> str | None:
    """Stripe's decline, error and cancellation codes are short snake_case words. Anything else is dropped rather
    than stored: the event itself still counts, and the column holds 100 characters."""
    return value if isinstance(value, str) and _REASON_CODE.fullmatch(value) else None


def _intent(obj: Mapping[str, Any]) -> PaymentIntent:
    try:
        secret = obj.get("client_secret")
        return PaymentIntent(
            payment_id=_str(obj, "id"),
            status=IntentStatus(_str(obj, "status")),
            amount=_money(obj, "amount"),
            amount_received_minor=_int(obj, "amount_received") if obj.get("amount_received") is not None else 0,
            invoice_id=_invoice_id(obj),
            client_secret=secret if isinstance(secret, str) else None,
            failure_code=_failure_code(obj),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PaymentProviderUnavailable("Stripe answered a PaymentIntent in an unexpected shape.") from exc


def _event(event: Mapping[str, Any]) -> PaymentEvent | None:
    if event.get("object") != "event":
        raise ValueError("not an event")
    event_id = _id(event, "id")
    kind = _str(event, "type")
    occurred_at = datetime.fromtimestamp(_int(event, "created"), UTC)
    data = event["data"]
    obj = data["object"]
    if not isinstance(obj, dict):
        raise TypeError("data.object is not an object")
    if kind in _PAYMENT_EVENTS:
        payment_kind = _PAYMENT_EVENTS[kind]
        amount_key = "amount_received" if payment_kind is PaymentEventKind.SUCCEEDED else "amount"
        failure = (
            _reason_code(obj.get("cancellation_reason"))
            if payment_kind is PaymentEventKind.CANCELED
            else _failure_code(obj)
        )
        return PaymentEvent(
            event_id=event_id,
            kind=payment_kind,
            payment_id=_id(obj, "id"),
            amount=_money(obj, amount_key),
            occurred_at=occurred_at,
            invoice_id=_invoice_id(obj),
            failure_code=failure,
            customer_id=_optional_id(obj, "customer"),
            payment_method_id=_optional_id(obj, "payment_method"),
            keeps_method_off_session=_keeps_method_off_session(obj),
        )
    if kind in _REFUND_EVENTS:
        if obj.get("status") not in _COUNTED_REFUNDS or not isinstance(obj.get("payment_intent"), str):
            return None  # a failed or canceled refund, or one not made through a PaymentIntent
        return PaymentEvent(
            event_id=event_id,
            kind=PaymentEventKind.REFUNDED,
            payment_id=_id(obj, "payment_intent"),
            amount=_money(obj, "amount"),
            occurred_at=occurred_at,
            invoice_id=_invoice_id(obj),
            refund_id=_id(obj, "id"),
        )
    return None
