"""SMS adapters for the `SmsSender` port: Twilio's Messages API over httpx, and a console sender for development.

Twilio: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth (AccountSid:AuthToken),
form-encoded `To`, `From` (or `MessagingServiceSid`) and `Body`; `201` answers a Message resource (`sid`,
`status`), errors answer `{"code", "message", "more_info", "status"}`. A 4xx answer is permanent (bad number,
bad credentials, ...) except 429; 429, 5xx and transport errors are transient. Phone numbers are masked in logs and
in `DeliveryFailed` details (they end up in job logs); message bodies are never logged.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from domain.shared.notify import DeliveryFailed, SmsMessage

__all__ = ["MAX_BODY_CHARS", "ConsoleSmsSender", "TwilioConfig", "TwilioSmsSender", "is_e164"]

log = structlog.get_logger("hearth.notify.sms")

MAX_BODY_CHARS = 1600  # Twilio refuses longer bodies (error 21617)
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_LONG_NUMBER = re.compile(r"\+?[0-9][0-9 ()-]{5,}[0-9]")


def is_e164(number: str) -> bool:
    return bool(_E164.fullmatch(number))


def last4(number: str) -> str:
    return "…" + number[-4:] if len(number) > 4 else "…"


def _mask(text: str) -> str:
    return _LONG_NUMBER.sub("<number>", text)


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    from_number: str | None = None  # E.164; or use a Messaging Service
    messaging_service_sid: str | None = None
    base_url: str = "https://api.twilio.com"
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.account_sid or not self.auth_token:
            raise ValueError("Twilio needs an account SID and an auth token")
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ValueError("Twilio needs exactly one of a From number or a Messaging Service SID")
        if self.from_number is not None and not is_e164(self.from_number):
            raise ValueError("Twilio's From number must be in E.164 form, e.g. +14155550123")


class TwilioSmsSender:
    """Owns an httpx client: call `aclose()` when the application stops."""

    def __init__(self, config: TwilioConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._config = config
        self._sender_field = (
            ("MessagingServiceSid", config.messaging_service_sid)
            if config.messaging_service_sid is not None
            else ("From", config.from_number or "")
        )
        self._path = f"/2010-04-01/Accounts/{quote(config.account_sid, safe='')}/Messages.json"
        self._client = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/"),
            auth=httpx.BasicAuth(config.account_sid, config.auth_token),
            timeout=config.timeout_seconds,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "hearth"},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, message: SmsMessage) -> str:
        if not is_e164(message.to):
            raise DeliveryFailed("SMS: recipient is not an E.164 phone number", permanent=True)
        if not message.text:
            raise DeliveryFailed("SMS: empty body", permanent=True)
        if len(message.text) > MAX_BODY_CHARS:
            raise DeliveryFailed(f"SMS: body longer than {MAX_BODY_CHARS} characters", permanent=True)
        form = {"To": message.to, self._sender_field[0]: self._sender_field[1], "Body": message.text}
        try:
            response = await self._client.post(self._path, data=form)
        except httpx.HTTPError as exc:
            # Not chained: a cause prints with every traceback of ours (the job log too), and only masked text may.
            raise self._failed(f"transport error: {type(exc).__name__}", permanent=False, to=message.to) from None

        if response.status_code in (200, 201):
            resource = json_object(response)
            sid = resource.get("sid") if resource else None
            if not isinstance(sid, str) or not sid:
                raise self._failed("answer without a message sid", permanent=False, to=message.to)
            status = resource.get("status") if resource else None
            if status in ("failed", "undelivered"):
                raise self._failed(f"message {sid} is {status}", permanent=True, to=message.to)
            log.info("sms.sent", to=last4(message.to), sid=sid, status=status)
            return sid

        error = json_object(response) or {}
        code = error.get("code")
        text = error.get("message") or response.reason_phrase
        more = error.get("more_info")
        status_code = response.status_code
        permanent = 400 <= status_code < 500 and status_code != 429
        detail = f"HTTP {status_code}, error {code}: {text}" + (f" ({more})" if more else "")
        raise self._failed(detail, permanent=permanent, to=message.to)

    @staticmethod
    def _failed(detail: str, *, permanent: bool, to: str) -> DeliveryFailed:
        detail = _mask(detail)
        log.warning("sms.failed", to=last4(to), detail=detail, permanent=permanent)
        return DeliveryFailed(f"SMS: {detail}", permanent=permanent)


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """A Twilio answer's JSON object, or None (the SMS and the voice adapter read answers alike)."""
    try:
        value = response.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ConsoleSmsSender:
    """Development sender: logs only the last four digits of the recipient, never the text."""

    async def send(self, message: SmsMessage) -> str:
        if not is_e164(message.to):
            raise DeliveryFailed("SMS: recipient is not an E.164 phone number", permanent=True)
        message_id = f"console-{uuid.uuid4()}"
        log.info("sms.console", to=last4(message.to), chars=len(message.text), message_id=message_id)
        return message_id

    async def aclose(self) -> None:
        return None
