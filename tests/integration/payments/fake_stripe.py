"""A local fake of Stripe's API that checks each request the way Stripe does and answers like it.

Endpoints: `POST /v1/payment_intents`, `POST /v1/payment_intents/{id}/cancel`, `POST /v1/refunds` and
`POST /v1/customers`. Checks, as Stripe does:
* auth: `Authorization: Bearer <secret key>` (or Basic with the key as user name); none -> 401 "You did not
  provide an API key", another key -> 401 "Invalid API Key provided";
* form encoding: `application/x-www-form-urlencoded` with bracketed nested keys (`metadata[invoice_id]`,
  `payment_method_types[0]`); a JSON body carries no parameters; an unknown parameter -> 400
  `parameter_unknown`; a missing required one -> 400 `parameter_missing`;
* PaymentIntents: integer `amount` >= the currency's minimum (`amount_too_small`), a known lower-case
  `currency`, `off_session` only with `confirm=true`, `confirm=true` only with a `payment_method`, the
  payment method attached to `customer` (`resource_missing`). Test payment methods behave like Stripe's:
  `pm_card_visa` succeeds, `pm_card_chargeDeclined` and `pm_card_chargeDeclinedInsufficientFunds` are declined
  (402 `card_error`, `card_declined`), `pm_card_authenticationRequired` declines off-session with
  `authentication_required` (on-session it waits for 3-D Secure), and so does
  `pm_card_authenticationRequiredOnSetup` until a payment kept it for off-session use
  (`setup_future_usage=off_session`, after 3-D Secure): off-session payments with it then succeed. Declines
  still create the PaymentIntent (status `requires_payment_method`, with `last_payment_error`), returned in
  `error.payment_intent`;
* cancel: only `cancellation_reason` (`abandoned`, `duplicate`, `fraudulent`, `requested_by_customer`); an unknown
  intent -> 404 `resource_missing`; an intent that is `succeeded` or `canceled`, or `processing` (unless
  `cancel_processing`: Stripe stops a processing payment only in rare cases) -> 400
  `payment_intent_unexpected_state` with the intent in `error.payment_intent`. A canceled intent emits
  `payment_intent.canceled` and can no longer be confirmed nor authenticated (`confirm`, `authenticate`: what
  Stripe.js does in the client's browser, refused the same way);
* Refunds: `payment_intent` required, it must have succeeded, `amount` at most what is left
  (`charge_already_refunded` once nothing is);
* idempotency: the first answer of an executed request is saved under its `Idempotency-Key` and replayed
  (`Idempotent-Replayed: true`) for the same key and parameters; the same key on another endpoint or with other
  parameters -> 400 `idempotency_error`. Requests refused before executing (auth, validation) save nothing.

What Stripe.js does in the client's browser, authenticated with the publishable key as the `key` parameter (no
Authorization header, so a browser sends it cross-origin without a preflight; answered with
`Access-Control-Allow-Origin: *`): `POST /v1/payment_methods` (`type=card`, `card[number]`, `card[exp_month]`,
`card[exp_year]`, `card[cvc]`) turns one of Stripe's test card numbers into a `pm_...` that behaves like the
matching test PaymentMethod above (4242424242424242 succeeds, 4000000000000002 and 4000000000009995 are
declined, 4000002760003184 needs 3-D Secure every time, 4000002500003155 unless kept for off-session use);
`GET /v1/payment_intents/{id}` with the intent's `client_secret` reads it;
`POST /v1/payment_intents/{id}/authenticate` with the `client_secret` is the client completing the 3-D Secure
challenge (`authenticate`). With `webhook_url` set, every event is delivered there, signed, in order, after the
answer of the request that caused it (as Stripe does, asynchronously).

Every executed money movement is in `charges` / `refunds_made`; every state change emits an Event in `events`,
which `signed()` turns into a webhook body and `Stripe-Signature` header. `fail_next` answers the next requests
with a status without executing them; `slow_next` executes the next requests but answers only after
`slow_seconds` (a lost answer, as seen by a client with a shorter timeout); `lose_next` executes (or replays) the
next requests and then answers 500, as when the connection breaks after Stripe did the work.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.clock import FakeClock

SECRET_KEY = "sk_test_" + "51Hearth" + "0123456789abcdef" * 3
WEBHOOK_SECRET = "whsec_" + "fakeSigningSecret0123456789abcdef"
PUBLISHABLE_KEY = "pk_test_" + "51Hearth" + "fedcba9876543210" * 3
CUSTOMER = "cus_Hearth0Client1"
OTHER_CUSTOMER = "cus_Hearth0Client2"
PM_VISA = "pm_card_visa"
PM_DECLINED = "pm_card_chargeDeclined"
PM_INSUFFICIENT = "pm_card_chargeDeclinedInsufficientFunds"
PM_AUTH_REQUIRED = "pm_card_authenticationRequired"
PM_AUTH_ON_SETUP = "pm_card_authenticationRequiredOnSetup"
API_VERSION = "2024-06-20"
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "jpy": 50}
_DECLINES = {
    PM_DECLINED: ("card_declined", "generic_decline", "Your card was declined."),
    PM_INSUFFICIENT: ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
}
_INTENT_PARAMS = {
    "amount",
    "currency",
    "customer",
    "payment_method",
    "confirm",
    "off_session",
    "metadata",
    "payment_method_types",
    "description",
    "setup_future_usage",
}
# Stripe's test card numbers (https://docs.stripe.com/testing) and the test PaymentMethod each behaves like.
TEST_CARDS = {
    "4242424242424242": PM_VISA,
    "4000000000000002": PM_DECLINED,
    "4000000000009995": PM_INSUFFICIENT,
    "4000002760003184": PM_AUTH_REQUIRED,
    "4000002500003155": PM_AUTH_ON_SETUP,
}
_PAYMENT_METHOD_PARAMS = {"key", "type", "card", "billing_details", "metadata"}
_CLIENT_SECRET_PARAMS = {"key", "client_secret"}
_REFUND_PARAMS = {"payment_intent", "amount", "reason", "metadata"}
_CUSTOMER_PARAMS = {"metadata", "description"}
_REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
_CANCEL_PARAMS = {"cancellation_reason"}
_CANCEL_PATH = re.compile(r"/v1/payment_intents/([^/]+)/cancel")
_INTENT_PATH = re.compile(r"/v1/payment_intents/([^/]+)")
_AUTHENTICATE_PATH = re.compile(r"/v1/payment_intents/([^/]+)/authenticate")
_CANCELLATION_REASONS = {"abandoned", "duplicate", "fraudulent", "requested_by_customer"}
# Stripe cancels these; `processing` only in rare cases (`cancel_processing`), never `succeeded` nor `canceled`.
_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action")
_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


Endpoint = Callable[[dict[str, Any], str | None], tuple[int, dict[str, Any]]]


class StripeError(Exception):
    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.status = status
        self.error = error


def invalid(message: str, *, code: str | None = None, param: str | None = None, status: int = 400) -> StripeError:
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return StripeError(status, error)


@dataclass
class SeenRequest:
    method: str
    path: str
    content_type: str
    authorization: str | None
    idempotency_key: str | None
    pairs: list[tuple[str, str]]
    stripe_version: str | None = None


@dataclass
class Saved:
    path: str
    fingerprint: tuple[tuple[str, str], ...]
    status: int
    body: dict[str, Any]


@dataclass
class FakeStripe:
    clock: FakeClock
    secret_key: str = SECRET_KEY
    publishable_key: str = PUBLISHABLE_KEY
    webhook_url: str | None = None
    customers: dict[str, set[str]] = field(
        default_factory=lambda: {
            CUSTOMER: {PM_VISA, PM_DECLINED, PM_INSUFFICIENT, PM_AUTH_REQUIRED, PM_AUTH_ON_SETUP},
            OTHER_CUSTOMER: set(),
        }
    )
    requests: list[SeenRequest] = field(default_factory=list)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: list[dict[str, Any]] = field(default_factory=list)
    refunds_made: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    saved: dict[str, Saved] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)
    slow_next: int = 0
    slow_seconds: float = 0.0
    lose_next: int = 0
    cancel_processing: bool = False
    # PaymentMethods made from card numbers (Stripe.js): their id -> the test PaymentMethod they behave like.
    payment_methods: dict[str, str] = field(default_factory=dict)
    # Payment methods a succeeded payment kept for off-session use (`setup_future_usage=off_session`).
    set_up_off_session: set[str] = field(default_factory=set)
    delivered: list[tuple[str, int]] = field(default_factory=list)  # (event id, the app's HTTP status)
    webhook_delay: float = 0.0  # seconds before each delivery: Stripe's webhooks come a moment after its answers
    _delivering: asyncio.Lock = field(default_factory=asyncio.Lock)

    # ------------------------------------------------------------------ HTTP

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
        async def anything(request: Request, path: str) -> JSONResponse:
            body = await request.body()
            content_type = request.headers.get("content-type", "")
            pairs = parse_qsl(body.decode(), keep_blank_values=True) if content_type.startswith(_FORM) else []
            if request.method == "GET":
                pairs = parse_qsl(request.url.query, keep_blank_values=True)
            seen = SeenRequest(
                request.method,
                request.url.path,
                content_type,
                request.headers.get("authorization"),
                request.headers.get("idempotency-key"),
                pairs,
                request.headers.get("stripe-version"),
            )
            self.requests.append(seen)
            status, payload, replayed = self.handle(seen)
            if self.lose_next:
                self.lose_next -= 1
                return JSONResponse({"error": {"type": "api_error", "message": "Connection lost."}}, status_code=500)
            if self.slow_next and not replayed:
                self.slow_next -= 1
                await asyncio.sleep(self.slow_seconds)
            headers = {"Request-Id": "req_" + secrets.token_hex(7)}
            if replayed:
                headers["Idempotent-Replayed"] = "true"
            if _publishable(seen):
                headers["Access-Control-Allow-Origin"] = "*"
            if self.webhook_url is not None:
                asyncio.get_running_loop().create_task(self.deliver())
            return JSONResponse(payload, status_code=status, headers=headers)

        return app

    async def deliver(self) -> None:
        """Send every event not yet sent to `webhook_url`, signed, in the order they happened."""
        assert self.webhook_url is not None
        if self.webhook_delay:
            await asyncio.sleep(self.webhook_delay)
        async with self._delivering, httpx.AsyncClient(timeout=30) as http:
            for event in self.events[len(self.delivered) :]:
                body, signature = self.signed(event)
                answer = await http.post(
                    self.webhook_url,
                    content=body,
                    headers={"Content-Type": "application/json", "Stripe-Signature": signature},
                )
                self.delivered.append((event["id"], answer.status_code))

    def handle(self, req: SeenRequest) -> tuple[int, dict[str, Any], bool]:
        if self.fail_next:
            status = self.fail_next.pop(0)
            return status, {"error": {"type": "api_error", "message": "An unknown error occurred."}}, False
        if _publishable(req):
            try:
                return *self._handle_publishable(req), False
            except StripeError as exc:
                return exc.status, {"error": exc.error}, False
        try:
            self._authenticate(req.authorization)
            endpoint, allowed = self._route(req.path)
            if req.method != "POST" or endpoint is None:
                raise invalid(f"Unrecognized request URL ({req.method}: {req.path}).", status=404)
            key = req.idempotency_key
            fingerprint = tuple(sorted(req.pairs))
            if key is not None:
                if len(key) > 255:
                    raise invalid("Idempotency keys may be at most 255 characters long.")
                previous = self.saved.get(key)
                if previous is not None:
                    if previous.path != req.path:
                        raise StripeError(400, _idempotency_error(key, endpoint=(req.path, previous.path)))
                    if previous.fingerprint != fingerprint:
                        raise StripeError(400, _idempotency_error(key))
                    return previous.status, previous.body, True
            params = self._params(req.pairs, allowed)
            status, body = endpoint(params, key)  # validation errors raise before anything is executed
            if key is not None:
                self.saved[key] = Saved(req.path, fingerprint, status, body)
            return status, body, False
        except StripeError as exc:
            return exc.status, {"error": exc.error}, False

    def _route(self, path: str) -> tuple[Endpoint | None, set[str]]:
        fixed: dict[str, tuple[Endpoint, set[str]]] = {
            "/v1/payment_intents": (self._create_intent, _INTENT_PARAMS),
            "/v1/refunds": (self._create_refund, _REFUND_PARAMS),
            "/v1/customers": (self._create_customer, _CUSTOMER_PARAMS),
        }
        if path in fixed:
            return fixed[path]
        cancel = _CANCEL_PATH.fullmatch(path)
        if cancel is not None:
            intent_id = cancel.group(1)
            return (lambda p, key: self._cancel_intent(intent_id, p, key)), _CANCEL_PARAMS
        return None, set()

    # ------------------------------------------------------------------ Stripe.js (publishable key)

    def _handle_publishable(self, req: SeenRequest) -> tuple[int, dict[str, Any]]:
        key = dict(req.pairs).get("key")
        if key != self.publishable_key:
            raise invalid(f"Invalid API Key provided: {(key or '')[:8]}{'*' * 12}{(key or '')[-4:]}", status=401)
        if req.path == "/v1/payment_methods" and req.method == "POST":
            return self._create_payment_method(self._params(req.pairs, _PAYMENT_METHOD_PARAMS))
        authenticate = _AUTHENTICATE_PATH.fullmatch(req.path)
        read = _INTENT_PATH.fullmatch(req.path)
        if (authenticate and req.method == "POST") or (read and req.method == "GET"):
            params = self._params(req.pairs, _CLIENT_SECRET_PARAMS)
            intent_id = (authenticate or read).group(1)  # type: ignore[union-attr]
            intent = self.intents.get(intent_id)
            if intent is None or params.get("client_secret") != intent["client_secret"]:
                raise invalid(f"No such payment_intent: '{intent_id}'", code="resource_missing", status=404)
            if authenticate:
                return self.authenticate(intent_id)
            return 200, _copy(intent)
        raise invalid(f"Unrecognized request URL ({req.method}: {req.path}).", status=404)

    def _create_payment_method(self, p: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if p.get("type") != "card":
            raise invalid("Only card PaymentMethods are enabled on this fake.", param="type")
        card = p.get("card")
        if not isinstance(card, dict) or not card.get("number"):
            raise invalid("Missing required param: card[number].", code="parameter_missing", param="card[number]")
        behaves_like = TEST_CARDS.get(card["number"])
        if behaves_like is None:
            error = {"type": "card_error", "code": "incorrect_number", "message": "Your card number is incorrect."}
            raise StripeError(402, {**error, "param": "number"})
        method_id = "pm_" + secrets.token_hex(12)
        self.payment_methods[method_id] = behaves_like
        method = {
            "id": method_id,
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": card["number"][-4:], "exp_month": card.get("exp_month")},
            "created": self._now(),
            "customer": None,
            "livemode": False,
        }
        return 200, method

    def _authenticate(self, header: str | None) -> None:
        key = None
        if header and header.startswith("Bearer "):
            key = header[7:]
        elif header and header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:]).decode().partition(":")[0]
            except ValueError:
                key = None
        if not key:
            raise invalid(
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                status=401,
            )
        if key != self.secret_key:
            raise invalid(f"Invalid API Key provided: {key[:8]}{'*' * 12}{key[-4:]}", status=401)

    @staticmethod
    def _params(pairs: list[tuple[str, str]], allowed: set[str]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for raw_key, value in pairs:
            name, bracket, rest = raw_key.partition("[")
            if name not in allowed:
                raise invalid(f"Received unknown parameter: {raw_key}", code="parameter_unknown", param=raw_key)
            if not bracket:
                params[name] = value
                continue
            if not rest.endswith("]") or "[" in rest[:-1]:
                raise invalid(f"Invalid parameter: {raw_key}", code="parameter_invalid_string", param=raw_key)
            inner = rest[:-1]
            container = params.setdefault(name, {})
            if not isinstance(container, dict):
                raise invalid(f"Invalid hash: {name}", code="parameter_invalid_string", param=name)
            container[inner] = value
        return params

    # ------------------------------------------------------------------ PaymentIntents

    def _create_intent(self, p: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        if "amount" not in p:
            raise invalid("Missing required param: amount.", code="parameter_missing", param="amount")
        if "currency" not in p:
            raise invalid("Missing required param: currency.", code="parameter_missing", param="currency")
        try:
            amount = int(p["amount"])
        except ValueError:
            raise invalid("Invalid integer: " + p["amount"], code="parameter_invalid_integer", param="amount") from None
        currency = p["currency"]
        if currency not in MINIMUM_CHARGE:
            raise invalid(f"Invalid currency: {currency}.", param="currency")
        if amount < MINIMUM_CHARGE[currency]:
            raise invalid("Amount must be at least the minimum charge amount.", code="amount_too_small", param="amount")
        confirm = _boolean(p, "confirm")
        off_session = _boolean(p, "off_session")
        if off_session and not confirm:
            raise invalid("`off_session` can only be set when `confirm` is true.", param="off_session")
        customer = p.get("customer")
        if customer is not None and customer not in self.customers:
            raise invalid(f"No such customer: '{customer}'", code="resource_missing", param="customer")
        method = p.get("payment_method")
        future = p.get("setup_future_usage")
        if future is not None and future not in ("on_session", "off_session"):
            raise invalid(f"Invalid setup_future_usage: {future}", param="setup_future_usage")
        if future is not None and customer is None:
            raise invalid("setup_future_usage needs a customer to save the payment method to.", param="customer")
        # Saving a new card (setup_future_usage) attaches it to the customer once the payment succeeds.
        if method is not None and customer is not None and method not in self.customers[customer] and not future:
            raise invalid(f"No such PaymentMethod: '{method}'", code="resource_missing", param="payment_method")
        if confirm and method is None:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        types = p.get("payment_method_types", {"0": "card"})
        if not isinstance(types, dict) or list(types.values()) != ["card"]:
            raise invalid("Only card payments are enabled on this fake.", param="payment_method_types")
        metadata = p.get("metadata", {})
        intent_id = "pi_" + secrets.token_hex(12)
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": "automatic",
            "created": self._now(),
            "currency": currency,
            "customer": customer,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "payment_method": method,
            "payment_method_types": ["card"],
            "setup_future_usage": p.get("setup_future_usage"),
            "status": "requires_confirmation" if method else "requires_payment_method",
        }
        self.intents[intent_id] = intent
        self._emit("payment_intent.created", intent, key)
        if not confirm:
            return 200, _copy(intent)
        return self.confirm(intent_id, method or "", off_session=off_session, key=key)

    def confirm(
        self, intent_id: str, method: str, *, off_session: bool = False, key: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Confirm a PaymentIntent with a card, as the API does with `confirm=true` or Stripe.js does for the
        client in the browser (tests call this directly for the on-session flow)."""
        intent = self.intents[intent_id]
        if intent["status"] not in _CONFIRMABLE:
            return _unexpected_state(intent, "confirm")
        intent["payment_method"] = method
        behaves_like = self.payment_methods.get(method, method)
        if behaves_like == PM_AUTH_ON_SETUP:
            behaves_like = PM_VISA if off_session and method in self.set_up_off_session else PM_AUTH_REQUIRED
        if behaves_like in _DECLINES or (behaves_like == PM_AUTH_REQUIRED and off_session):
            code, decline, message = _DECLINES.get(
                behaves_like,
                (
                    "authentication_required",
                    "authentication_required",
                    "Your card was declined. This transaction requires authentication.",
                ),
            )
            error = {
                "type": "card_error",
                "code": code,
                "decline_code": decline,
                "message": message,
                "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
                "payment_method": {"id": method, "object": "payment_method", "type": "card"},
            }
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = error
            self._emit("payment_intent.payment_failed", intent, key)
            return 402, {"error": {**error, "payment_intent": _copy(intent)}}
        if behaves_like == PM_AUTH_REQUIRED:  # on-session: the browser must run 3-D Secure
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk"}
            self._emit("payment_intent.requires_action", intent, key)
            return 200, _copy(intent)
        return self._succeed(intent, key)

    def authenticate(self, intent_id: str, *, processing: bool = False) -> tuple[int, dict[str, Any]]:
        """The client completes 3-D Secure in the browser (Stripe.js) for an intent in `requires_action`: it
        succeeds, or with `processing` it stays `processing` until `settle`. Any other state is refused as Stripe
        refuses it (a canceled intent can no longer be paid)."""
        intent = self.intents[intent_id]
        if intent["status"] != "requires_action":
            return _unexpected_state(intent, "confirm")
        intent.pop("next_action", None)
        if processing:
            intent["status"] = "processing"
            self._emit("payment_intent.processing", intent, None)
            return 200, _copy(intent)
        return self._succeed(intent, None)

    def settle(self, intent_id: str, *, declined: bool = False) -> tuple[int, dict[str, Any]]:
        """A `processing` payment goes through, or with `declined` fails (and awaits another payment method)."""
        intent = self.intents[intent_id]
        if intent["status"] != "processing":
            return _unexpected_state(intent, "confirm")
        if not declined:
            return self._succeed(intent, None)
        code, decline, message = _DECLINES[PM_DECLINED]
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {"type": "card_error", "code": code, "decline_code": decline, "message": message}
        self._emit("payment_intent.payment_failed", intent, None)
        return 200, _copy(intent)

    def _succeed(self, intent: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        charge_id = "ch_" + secrets.token_hex(12)
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]
        intent["latest_charge"] = charge_id
        intent["last_payment_error"] = None
        self.charges.append(
            {"id": charge_id, "payment_intent": intent["id"], "amount": intent["amount"], "refunded": 0}
        )
        if intent.get("setup_future_usage") and intent.get("customer"):
            self.customers[intent["customer"]].add(intent["payment_method"])
            if intent["setup_future_usage"] == "off_session":
                self.set_up_off_session.add(intent["payment_method"])
        self._emit("payment_intent.succeeded", intent, key)
        return 200, _copy(intent)

    def _cancel_intent(self, intent_id: str, p: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(intent_id)
        if intent is None:
            raise invalid(f"No such payment_intent: '{intent_id}'", code="resource_missing", param="intent", status=404)
        reason = p.get("cancellation_reason")
        if reason is not None and reason not in _CANCELLATION_REASONS:
            raise invalid(
                f"Invalid cancellation_reason: must be one of {', '.join(sorted(_CANCELLATION_REASONS))}",
                code="parameter_invalid_string",
                param="cancellation_reason",
            )
        cancelable = intent["status"] in _CANCELABLE or (intent["status"] == "processing" and self.cancel_processing)
        if not cancelable:
            return _unexpected_state(intent, "cancel")
        intent["status"] = "canceled"
        intent["cancellation_reason"] = reason
        intent["canceled_at"] = self._now()
        intent.pop("next_action", None)
        self._emit("payment_intent.canceled", intent, key)
        return 200, _copy(intent)

    # ------------------------------------------------------------------ Customers

    def _create_customer(self, p: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        customer_id = "cus_" + secrets.token_hex(7)
        self.customers[customer_id] = set()
        customer = {
            "id": customer_id,
            "object": "customer",
            "created": self._now(),
            "livemode": False,
            "metadata": p.get("metadata", {}),
        }
        self._emit("customer.created", customer, key)
        return 200, _copy(customer)

    # ------------------------------------------------------------------ Refunds

    def _create_refund(self, p: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        intent_id = p.get("payment_intent")
        if intent_id is None:
            raise invalid("One of the following params should be provided for this request: payment_intent or charge.")
        intent = self.intents.get(intent_id)
        if intent is None:
            raise invalid(f"No such payment_intent: '{intent_id}'", code="resource_missing", param="payment_intent")
        if intent["status"] != "succeeded":
            raise invalid(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        charge = next(c for c in self.charges if c["id"] == intent["latest_charge"])
        left = charge["amount"] - charge["refunded"]
        if left == 0:
            raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        if "amount" in p:
            try:
                amount = int(p["amount"])
            except ValueError:
                raise invalid("Invalid integer", code="parameter_invalid_integer", param="amount") from None
            if amount <= 0:
                raise invalid("Invalid positive integer", code="parameter_invalid_integer", param="amount")
            if amount > left:
                raise invalid(
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})", param="amount"
                )
        else:
            amount = left
        reason = p.get("reason")
        if reason is not None and reason not in _REFUND_REASONS:
            raise invalid(f"Invalid reason: must be one of {', '.join(sorted(_REFUND_REASONS))}", param="reason")
        charge["refunded"] += amount
        refund = {
            "id": "re_" + secrets.token_hex(12),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": self._now(),
            "currency": intent["currency"],
            "metadata": p.get("metadata", {}),
            "payment_intent": intent_id,
            "reason": reason,
            "status": "succeeded",
        }
        self.refunds_made.append(refund)
        self._emit("refund.created", refund, key)
        return 200, _copy(refund)

    # ------------------------------------------------------------------ events

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def _emit(self, kind: str, obj: dict[str, Any], key: str | None) -> None:
        self.events.append(
            {
                "id": "evt_" + secrets.token_hex(12),
                "object": "event",
                "api_version": API_VERSION,
                "created": self._now(),
                "data": {"object": _copy(obj)},
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": "req_" + secrets.token_hex(7), "idempotency_key": key},
                "type": kind,
            }
        )

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def signed(
        self, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """The webhook body and `Stripe-Signature` header Stripe would send for `event`."""
        payload = json.dumps(event, indent=2).encode()
        t = self._now() if timestamp is None else timestamp
        signature = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
        return payload, f"t={t},v1={signature}"


_FORM = "application/x-www-form-urlencoded"


def _publishable(req: SeenRequest) -> bool:
    """A request Stripe.js makes in the browser: authenticated with the publishable key, not the secret one."""
    return req.authorization is None and dict(req.pairs).get("key", "").startswith("pk_")


def _boolean(p: dict[str, Any], name: str) -> bool:
    value = p.get(name)
    if value is None:
        return False
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", code="parameter_invalid_boolean", param=name)
    return value == "true"


def _unexpected_state(intent: dict[str, Any], action: str) -> tuple[int, dict[str, Any]]:
    """Stripe's refusal of an action the intent's state does not allow. It is answered, not raised: the request
    was executed (and its answer is saved under its Idempotency-Key, like a decline's), and the error carries the
    intent as it is now."""
    status = intent["status"]
    if action == "cancel":
        message = (
            f"You cannot cancel this PaymentIntent because it has a status of {status}. Only a PaymentIntent with "
            "one of the following statuses may be canceled: requires_payment_method, requires_capture, "
            "requires_confirmation, requires_action, processing."
        )
    else:
        message = (
            f"You cannot {action} this PaymentIntent because it has a status of {status}. Only a PaymentIntent "
            "with one of the following statuses may be confirmed: requires_payment_method, requires_confirmation, "
            "requires_action."
        )
    code = "payment_intent_unexpected_state"
    error = {
        "type": "invalid_request_error",
        "code": code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "payment_intent": _copy(intent),
    }
    return 400, {"error": error}


def _idempotency_error(key: str, *, endpoint: tuple[str, str] | None = None) -> dict[str, Any]:
    if endpoint:
        message = (
            f"Keys for idempotent requests can only be used for the same endpoint they were first used for "
            f"('{endpoint[0]}' vs '{endpoint[1]}'). Try using a key other than '{key}' if you meant to execute "
            f"a different request."
        )
    else:
        message = (
            "Keys for idempotent requests can only be used with the same parameters they were first used with. "
            f"Try using a key other than '{key}' if you meant to execute a different request."
        )
    return {"type": "idempotency_error", "message": message}


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(obj))
    return copied
