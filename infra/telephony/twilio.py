"""The `Telephony` port on Twilio Programmable Voice (REST API 2010-04-01 and TwiML).

Placing a bridge: `POST {base}/2010-04-01/Accounts/{AccountSid}/Calls.json`, HTTP Basic auth (AccountSid:AuthToken),
form-encoded `To` (the therapist), `From` (the practice's caller id), `Url` (our connect webhook, fetched when the
therapist answers), `StatusCallback` with `StatusCallbackEvent` initiated/ringing/answered/completed. The connect
webhook answers TwiML `<Dial callerId=..><Number statusCallback=..>client</Number></Dial>`, so the client's number
is dialled only once the therapist is on the line, and both see only the caller id. Hanging up:
`POST .../Calls/{Sid}.json` with `Status=completed`.

When the answer to a create-call request is lost after the request went out (a read timeout, a dropped
connection), Twilio may have created the call. It is looked for with `GET .../Calls.json` filtered by `To`, `From`
and `StartTime>` (calls dialled since that date) or `Status=queued` (not dialled yet), and only a complete answer
without such a call makes it a failure that may be retried; otherwise the call is left to its own webhooks.

Webhooks are authenticated by `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, full URL + each POST parameter's
name and value, sorted by name)). Numbers are masked in logs and error details.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote
from xml.etree import ElementTree as ET

import httpx
import structlog

from domain.shared.errors import DomainError, ValidationFailed
from domain.shared.ports import Clock
from domain.telephony.errors import CallPlacementUnconfirmed, InvalidWebhookSignature, TelephonyUnavailable
from domain.telephony.ports import CallEvent, CallLeg, CallStatus, PlacedCall, WebhookReply
from infra.notify.sms import json_object, last4

__all__ = ["TwilioTelephony", "TwilioVoiceConfig", "connect_path", "status_path", "twilio_signature"]

log = structlog.get_logger("hearth.telephony.twilio")

_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_LONG_NUMBER = re.compile(r"\+?[0-9][0-9 ()-]{5,}[0-9]")
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
_STATUS = {
    "queued": CallStatus.QUEUED,
    "initiated": CallStatus.QUEUED,
    "ringing": CallStatus.RINGING,
    "in-progress": CallStatus.IN_PROGRESS,
    "answered": CallStatus.IN_PROGRESS,
    "completed": CallStatus.COMPLETED,
    "busy": CallStatus.BUSY,
    "no-answer": CallStatus.NO_ANSWER,
    "failed": CallStatus.FAILED,
    "canceled": CallStatus.CANCELED,
}
TWIML = "application/xml"
# Failures after which the request may have reached Twilio (written, wholly or in part, and no answer read). A
# connect or pool timeout, or a refused connection, happens before anything is sent: those are plain failures.
_ANSWER_LOST = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
# How far Twilio's clock may lag ours when telling a call created by the lost request from an earlier one. Wide:
# an earlier call taken for ours only delays the next attempt, while the reverse rings the therapist twice.
_CLOCK_SKEW = timedelta(seconds=30)
_LOOKUP_PAGE_SIZE = 50


def connect_path(reference: str) -> str:
    return f"/api/v1/telephony/twilio/calls/{reference}/connect"


def status_path(reference: str) -> str:
    return f"/api/v1/telephony/twilio/calls/{reference}/status"


def twilio_signature(url: str, params: dict[str, str], auth_token: str) -> str:
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True, slots=True)
class TwilioVoiceConfig:
    account_sid: str
    auth_token: str
    caller_id: str  # E.164, a number of the Twilio account: what both parties see
    webhook_base_url: str  # where Twilio reaches this server, e.g. https://hearth.example.org
    base_url: str = "https://api.twilio.com"
    timeout_seconds: float = 10.0
    ring_timeout_seconds: int = 30

    def __post_init__(self) -> None:
        if not self.account_sid or not self.auth_token:
            raise ValueError("Twilio needs an account SID and an auth token")
        if not _E164.fullmatch(self.caller_id):
            raise ValueError("the telephony caller id must be in E.164 form, e.g. +14155550123")
        if not self.webhook_base_url.startswith(("https://", "http://")):
            raise ValueError("the telephony webhook base URL must be an absolute http(s) URL")
        if not 5 <= self.ring_timeout_seconds <= 600:
            raise ValueError("the ring timeout is 5 to 600 seconds (Twilio's limits)")


class TwilioTelephony:
    """Owns an httpx client: call `aclose()` when the application stops."""

    def __init__(
        self, config: TwilioVoiceConfig, clock: Clock, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._config = config
        self._clock = clock
        self._webhook_base = config.webhook_base_url.rstrip("/")
        self._calls = f"/2010-04-01/Accounts/{quote(config.account_sid, safe='')}/Calls"
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

    # ------------------------------------------------------------------------------------ REST

    async def bridge(self, *, reference: str, first: str, second: str) -> PlacedCall:
        if not _E164.fullmatch(first) or not _E164.fullmatch(second):
            raise TelephonyUnavailable("A participant's phone number is not in E.164 form.")
        form: list[tuple[str, str]] = [
            ("To", first),
            ("From", self._config.caller_id),
            ("Url", self._webhook_base + connect_path(reference)),
            ("Method", "POST"),
            ("StatusCallback", self._webhook_base + status_path(reference)),
            ("StatusCallbackMethod", "POST"),
            *(("StatusCallbackEvent", event) for event in STATUS_EVENTS),
            ("Timeout", str(self._config.ring_timeout_seconds)),
        ]
        sent_at = self._clock.now()
        try:
            response = await self._client.post(f"{self._calls}.json", data=dict(_multi(form)))
        except _ANSWER_LOST as exc:
            raise await self._after_lost_answer(first, sent_at, type(exc).__name__) from None
        except httpx.HTTPError as exc:
            raise self._failed(f"transport error: {type(exc).__name__}", to=first) from None
        resource = json_object(self._accepted(response, to=first)) or {}
        sid = resource.get("sid")
        if not isinstance(sid, str) or not sid:
            raise self._failed("answer without a call sid", to=first)
        log.info("telephony.placed", sid=sid, to=last4(first), status=resource.get("status"))
        return PlacedCall(provider_call_id=sid)

    async def hang_up(self, provider_call_id: str) -> None:
        path = f"{self._calls}/{quote(provider_call_id, safe='')}.json"
        await self._post(path, [("Status", "completed")], to="")
        log.info("telephony.hang_up", sid=provider_call_id)

    async def _after_lost_answer(self, to: str, sent_at: datetime, error: str) -> DomainError:
        """What became of a create-call request whose answer was lost. A call found is not taken for ours by its
        sid (another call to the same number at that moment would look alike): its webhooks, which carry our
        reference, tell the service."""
        since = sent_at - _CLOCK_SKEW
        try:
            found = [
                *await self._calls_created_since(
                    since, ("To", to), ("StartTime>", since.astimezone(UTC).date().isoformat())
                ),
                *await self._calls_created_since(since, ("To", to), ("Status", "queued")),
            ]
        except _LookupFailed as exc:
            log.warning("telephony.placement_unconfirmed", to=last4(to), error=error, lookup=str(exc))
            return CallPlacementUnconfirmed("The phone provider's answer was lost and it could not be asked again.")
        if found:
            log.warning("telephony.placement_unconfirmed", to=last4(to), error=error, found=found)
            return CallPlacementUnconfirmed("The phone provider's answer was lost, but it has the call.")
        return self._failed(f"{error}, and no call was created", to=to)

    async def _calls_created_since(self, since: datetime, *filters: tuple[str, str]) -> list[str]:
        """Sids of first legs from our caller id, matching `filters`, that Twilio created at `since` or later."""
        params = dict([*filters, ("From", self._config.caller_id), ("PageSize", str(_LOOKUP_PAGE_SIZE))])
        try:
            response = await self._client.get(f"{self._calls}.json", params=params)
        except httpx.HTTPError as exc:
            raise _LookupFailed(f"transport error: {type(exc).__name__}") from None
        page = json_object(response) if response.status_code == 200 else None
        calls = page.get("calls") if page is not None else None
        if page is None or not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
            raise _LookupFailed(f"HTTP {response.status_code}, not a page of calls")
        found = []
        for call in calls:
            created = _rfc2822(call.get("date_created"))
            # A call whose creation time cannot be read cannot be shown to be an earlier one.
            if call.get("parent_call_sid") is None and (created is None or created >= since):
                found.append(str(call.get("sid")))
        if not found and page.get("next_page_uri"):
            raise _LookupFailed("more calls than one page holds")
        return found

    async def _post(self, path: str, form: list[tuple[str, str]], *, to: str) -> httpx.Response:
        try:
            response = await self._client.post(path, data=dict(_multi(form)))
        except httpx.HTTPError as exc:
            # Not chained: a cause prints with every traceback of ours (the job log too), and only masked text may.
            raise self._failed(f"transport error: {type(exc).__name__}", to=to) from None
        return self._accepted(response, to=to)

    def _accepted(self, response: httpx.Response, *, to: str) -> httpx.Response:
        if response.status_code in (200, 201):
            return response
        error = json_object(response) or {}
        detail = (
            f"HTTP {response.status_code}, error {error.get('code')}: {error.get('message') or response.reason_phrase}"
        )
        raise self._failed(detail, to=to)

    @staticmethod
    def _failed(detail: str, *, to: str) -> TelephonyUnavailable:
        detail = _LONG_NUMBER.sub("<number>", detail)
        log.warning("telephony.failed", to=last4(to) if to else None, detail=detail)
        return TelephonyUnavailable(f"The phone provider did not accept the request ({detail}).")

    # ------------------------------------------------------------------------------------ webhooks

    def verify_webhook(self, url: str, params: dict[str, str], signature: str | None) -> None:
        expected = twilio_signature(url, params, self._config.auth_token)
        if not signature or not hmac.compare_digest(expected.encode(), signature.encode()):
            raise InvalidWebhookSignature("The request's X-Twilio-Signature does not match.")
        if params.get("AccountSid") not in (None, self._config.account_sid):
            raise InvalidWebhookSignature("The request is for another Twilio account.")

    def read_status(self, params: dict[str, str]) -> CallEvent:
        sid, raw = params.get("CallSid"), params.get("CallStatus", "")
        status = _STATUS.get(raw)
        if not sid or status is None:
            raise ValidationFailed("A status callback needs CallSid and a known CallStatus.", code="invalid_webhook")
        duration = params.get("CallDuration")
        return CallEvent(
            provider_call_id=sid,
            status=status,
            at=self._timestamp(params.get("Timestamp")),
            duration_seconds=int(duration) if duration and duration.isdigit() else None,
            leg=CallLeg.SECOND if params.get("ParentCallSid") else CallLeg.FIRST,
        )

    def _timestamp(self, text: str | None) -> datetime:
        # The receipt time stands in when absent.
        return _rfc2822(text) or self._clock.now()

    def connect_second(self, *, reference: str, second: str) -> WebhookReply:
        response = ET.Element("Response")
        dial = ET.SubElement(
            response,
            "Dial",
            {"callerId": self._config.caller_id, "timeout": str(self._config.ring_timeout_seconds)},
        )
        number = ET.SubElement(
            dial,
            "Number",
            {
                "statusCallback": self._webhook_base + status_path(reference),
                "statusCallbackMethod": "POST",
                "statusCallbackEvent": " ".join(STATUS_EVENTS),
            },
        )
        number.text = second
        return WebhookReply(TWIML, _document(response))

    def decline(self) -> WebhookReply:
        response = ET.Element("Response")
        ET.SubElement(response, "Say").text = "This session call has ended. Goodbye."
        ET.SubElement(response, "Hangup")
        return WebhookReply(TWIML, _document(response))


class _LookupFailed(Exception):
    """Twilio could not be asked which calls it has."""


def _rfc2822(text: object) -> datetime | None:
    """Twilio's times are RFC 2822 ("Mon, 16 Aug 2010 03:45:01 +0000"), in UTC."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _document(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def _multi(form: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in form:
        out.setdefault(name, []).append(value)
    return out
