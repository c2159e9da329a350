"""A local fake of Twilio's Programmable Voice API that checks requests the way Twilio does, and plays Twilio's
part in a call by driving our webhooks with correctly signed requests.

REST (HTTP Basic AccountSid:AuthToken): `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` (form `To`, `From`,
exactly one of `Url`/`Twiml`, optional `Method`, `StatusCallback`, `StatusCallbackMethod`, repeated
`StatusCallbackEvent`, `Timeout`) answers `201` + a Call resource; `POST .../Calls/{Sid}.json` with `Status`
(`completed`/`canceled`) ends a call; `GET .../Calls.json` lists calls, newest first, filtered by `To`, `From`,
`ParentCallSid`, `Status`, `StartTime`/`StartTime<`/`StartTime>` (sent as `StartTime>=2026-11-27`: the name ends
with the operator; a date or an ISO 8601 time; a call not dialled yet has no start time) and `EndTime` alike,
paged by `PageSize` (1-1000, 50 by default) and `Page`. Errors as `{"code", "message", "more_info", "status"}`:
20003 (bad credentials), 20404, 21201 (no To), 21213 (no From), 21210 (From is not a number of this account),
21211 (To not a valid number), 21205 (Url missing/invalid, or both Url and Twiml), 21609 (StatusCallback invalid),
21626 (bad StatusCallbackEvent), 21220 (call not in a state that can be updated), 20001 (a list filter unknown or
malformed: stricter than Twilio, which ignores an unknown one, so that a misspelt filter cannot match every call).

Webhooks: the signature is computed here independently of Hearth's code: base64(HMAC-SHA1(auth token, URL +
name+value of each parameter sorted by name)). Status callbacks carry CallSid, AccountSid, From, To, CallStatus
(`initiated`, `ringing`, `in-progress`, `completed`, ...), Direction, ApiVersion, CallbackSource, SequenceNumber,
Timestamp (RFC 2822), CallDuration on completion, and ParentCallSid for a `<Dial>`ed leg.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode
from xml.etree import ElementTree as ET

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-voice-auth-token-0123456789"
CALLER_ID = "+15005550006"  # a number this fake account owns
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Calls(?:/(?P<call>[^/]+))?\.json$")
_EVENTS = {"initiated", "ringing", "answered", "completed"}
_TWILIO_STATUS = {"initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"}
_ENDED = {"completed", "busy", "no-answer", "failed", "canceled"}
_LIST_PARAMS = {"To", "From", "ParentCallSid", "Status", "PageSize", "Page", "PageToken"} | {
    f"{name}{op}" for name in ("StartTime", "EndTime") for op in ("", "<", ">")
}


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    data = url
    for name in sorted(params):
        data += name + params[name]
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class SeenRequest:
    method: str
    path: str
    authorization: str | None
    form: dict[str, list[str]]
    query: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class FakeCall:
    sid: str
    to: str
    from_: str
    url: str | None
    status_callback: str | None
    events: set[str]
    parent_sid: str | None = None
    status: str = "queued"
    sequence: int = 0
    callbacks: list[tuple[str, int]] = field(default_factory=list)  # (CallStatus, our answer's HTTP status)
    dialled: FakeCall | None = None
    twiml: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None  # when dialled: a queued call has none
    ended_at: datetime | None = None


@dataclass
class FakeTwilioVoice:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    owned_numbers: frozenset[str] = frozenset({CALLER_ID})
    requests: list[SeenRequest] = field(default_factory=list)
    calls: dict[str, FakeCall] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)
    # Create-call requests that get no answer until `release()` (the client times out or is cancelled first):
    # "before_create" never creates the call (the request was lost on its way), "after_create" creates it (the
    # answer was lost on its way back).
    stall_creates: list[str] = field(default_factory=list)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)  # Twilio's clock, for `date_created`
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    # ------------------------------------------------------------------------------------ REST side

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
        async def anything(request: Request, path: str) -> JSONResponse:
            body = await request.body()
            form = (
                parse_qs(body.decode(), keep_blank_values=True)
                if "form-urlencoded" in request.headers.get("content-type", "")
                else {}
            )
            query = parse_qs(request.url.query, keep_blank_values=True)
            seen = SeenRequest(request.method, request.url.path, request.headers.get("authorization"), form, query)
            self.requests.append(seen)
            if self.stall_creates and request.method == "POST" and request.url.path.endswith("/Calls.json"):
                mode = self.stall_creates.pop(0)
                assert mode in ("before_create", "after_create"), mode
                if mode == "after_create":
                    created, _ = self.answer(seen)
                    assert created == 201, created
                await self._released.wait()
                status, payload = self.error(504, 20504, "Gateway Timeout")  # read by nobody
                return JSONResponse(payload, status_code=status)
            status, payload = self.answer(seen)
            return JSONResponse(payload, status_code=status)

        return app

    def release(self) -> None:
        """Lets stalled requests end (their callers are gone), so the server can stop."""
        self._released.set()

    @staticmethod
    def error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
        more = f"https://www.twilio.com/docs/errors/{code}"
        return status, {"code": code, "message": message, "more_info": more, "status": status}

    def answer(self, req: SeenRequest) -> tuple[int, dict[str, Any]]:
        if self.fail_next:
            status = self.fail_next.pop(0)
            return self.error(status, 20500, "Internal Server Error")
        match = _CALLS.match(req.path)
        if not self._authorised(req.authorization, match["sid"] if match else None):
            return self.error(401, 20003, "Authenticate")
        if match is not None and req.method == "GET" and not match["call"]:
            return self._list(req.query)
        if req.method != "POST" or match is None:
            return self.error(404, 20404, f"The requested resource {req.path} was not found")
        if match["call"]:
            return self._update(match["call"], req.form)
        return self._create(req.form)

    def _create(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        one = {k: v[-1] for k, v in form.items()}
        to, sender, url, twiml = one.get("To"), one.get("From"), one.get("Url"), one.get("Twiml")
        if not to:
            return self.error(400, 21201, "No 'To' number is specified")
        if not sender:
            return self.error(400, 21213, "No 'From' number is specified")
        if not _E164.match(to):
            return self.error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if sender not in self.owned_numbers:
            return self.error(400, 21210, f"'From' phone number not verified: {sender}")
        if (url is None) == (twiml is None) or (url is not None and not url.startswith(("http://", "https://"))):
            return self.error(400, 21205, "Url is not a valid URL, or both Url and Twiml were given")
        if one.get("Method", "POST") not in ("GET", "POST"):
            return self.error(400, 21205, "Method must be GET or POST")
        callback = one.get("StatusCallback")
        if callback is not None and not callback.startswith(("http://", "https://")):
            return self.error(400, 21609, "Invalid StatusCallback")
        events = set(form.get("StatusCallbackEvent", []))
        if not events <= _EVENTS:
            return self.error(400, 21626, "Invalid 'StatusCallbackEvent'")
        timeout = one.get("Timeout", "60")
        if not timeout.isdigit() or not 1 <= int(timeout) <= 600:
            return self.error(400, 21216, "Invalid Timeout")
        call = FakeCall("CA" + secrets.token_hex(16), to, sender, url, callback, events or {"completed"})
        call.created_at = self.now()
        self.calls[call.sid] = call
        return 201, self._resource(call)

    def _list(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        one = {k: v[-1] for k, v in query.items()}
        unknown = sorted(set(one) - _LIST_PARAMS)
        if unknown:
            return self.error(400, 20001, f"Unknown parameters: {', '.join(unknown)}")
        size, number = one.get("PageSize", "50"), one.get("Page", "0")
        if not size.isdigit() or not 1 <= int(size) <= 1000 or not number.isdigit():
            return self.error(400, 20001, "Invalid PageSize or Page")
        if "Status" in one and one["Status"] not in _TWILIO_STATUS - {"initiated"} | {"queued"}:
            return self.error(400, 20001, f"Invalid Status: {one['Status']}")
        calls = list(self.calls.values())
        for name, attribute in (("To", "to"), ("From", "from_"), ("ParentCallSid", "parent_sid"), ("Status", "status")):
            if name in one:
                calls = [c for c in calls if getattr(c, attribute) == one[name]]
        for name, attribute in (("StartTime", "started_at"), ("EndTime", "ended_at")):
            for op in ("", "<", ">"):
                if name + op not in one:
                    continue
                bounds = _day_or_moment(one[name + op])
                if bounds is None:
                    return self.error(400, 20001, f"Invalid {name}{op}: {one[name + op]}")
                low, high = bounds
                calls = [c for c in calls if _within(getattr(c, attribute), op, low, high)]
        calls.sort(key=lambda c: (c.created_at or datetime.min.replace(tzinfo=UTC), c.sid), reverse=True)
        size_, page = int(size), int(number)
        shown = calls[page * size_ : (page + 1) * size_]
        base = f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"

        def uri(n: int) -> str:
            return base + "?" + urlencode({**one, "PageSize": size_, "Page": n})

        return 200, {
            "calls": [self._resource(c) for c in shown],
            "page": page,
            "page_size": size_,
            "start": page * size_,
            "end": page * size_ + max(len(shown) - 1, 0),
            "uri": uri(page),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if len(calls) > (page + 1) * size_ else None,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
        }

    def _update(self, sid: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        call = self.calls.get(sid)
        if call is None:
            return self.error(404, 20404, f"The requested resource Calls/{sid}.json was not found")
        status = form.get("Status", [""])[-1]
        if status not in ("completed", "canceled"):
            return self.error(400, 21218, "Invalid Status")
        if call.status in ("completed", "busy", "no-answer", "failed", "canceled"):
            return self.error(400, 21220, "Call is not in-progress. Cannot redirect.")
        call.status = "hangup-requested"
        return 200, self._resource(call)

    def _resource(self, call: FakeCall) -> dict[str, Any]:
        return {
            "sid": call.sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "date_created": _rfc2822(call.created_at),
            "date_updated": _rfc2822(self.now()),
            "start_time": _rfc2822(call.started_at),
            "end_time": _rfc2822(call.ended_at),
            "direction": "outbound-api",
            "from": call.from_,
            "to": call.to,
            "status": call.status if call.status != "hangup-requested" else "in-progress",
            "parent_call_sid": call.parent_sid,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.sid}.json",
        }

    def _authorised(self, header: str | None, path_sid: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.account_sid and password == self.auth_token and path_sid in (None, user)

    # ------------------------------------------------------------------------------------ Twilio's part

    def params(self, call: FakeCall, status: str) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call.sid,
            "CallStatus": status,
            "Direction": "outbound-dial" if call.parent_sid else "outbound-api",
            "From": call.from_,
            "To": call.to,
            "Called": call.to,
            "Caller": call.from_,
        }
        if call.parent_sid:
            params["ParentCallSid"] = call.parent_sid
        return params

    async def post_signed(self, url: str, params: dict[str, str], *, signature: str | None = None) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                url,
                data=params,
                headers={"X-Twilio-Signature": signature if signature is not None else sign(url, params)},
            )

    async def callback(
        self, call: FakeCall, status: str, *, duration: int | None = None, at: datetime
    ) -> httpx.Response:
        """One status callback, as Twilio sends it (if the call subscribed to that event)."""
        assert status in _TWILIO_STATUS
        assert call.status_callback is not None
        params = self.params(call, status)
        params |= {
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(call.sequence),
            "Timestamp": format_datetime(at.astimezone(UTC), usegmt=False),
        }
        if duration is not None:
            params["CallDuration"] = str(duration)
        call.sequence += 1
        call.status = status
        if status in _ENDED:
            call.ended_at = call.ended_at or at
        else:
            call.started_at = call.started_at or at
        response = await self.post_signed(call.status_callback, params)
        call.callbacks.append((status, response.status_code))
        return response

    async def answer_first(self, sid: str, *, at: datetime) -> FakeCall:
        """The therapist's phone rings and is answered; Twilio fetches the TwiML and dials what it says."""
        call = self.calls[sid]
        for status in ("initiated", "ringing", "in-progress"):
            response = await self.callback(call, status, at=at)
            assert response.status_code == 204, response.text
        params = self.params(call, "in-progress")
        assert call.url is not None
        response = await self.post_signed(call.url, params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(("application/xml", "text/xml")), response.headers
        call.twiml = response.text
        root = ET.fromstring(response.text)
        assert root.tag == "Response", response.text
        dial = root.find("Dial")
        if dial is None:
            return call
        caller_id = dial.get("callerId")
        assert caller_id in self.owned_numbers, f"Dial callerId {caller_id} is not a number of this account"
        number = dial.find("Number")
        assert number is not None and number.text and _E164.match(number.text), response.text
        events = set((number.get("statusCallbackEvent") or "completed").split())
        assert events <= _EVENTS, events
        child = FakeCall(
            "CA" + secrets.token_hex(16),
            number.text,
            caller_id,
            None,
            number.get("statusCallback"),
            events,
            parent_sid=call.sid,
            created_at=self.now(),
        )
        self.calls[child.sid] = child
        call.dialled = child
        return child

    async def answer_second(self, child: FakeCall, *, at: datetime) -> None:
        for status in ("initiated", "ringing", "in-progress"):
            response = await self.callback(child, status, at=at)
            assert response.status_code == 204, response.text


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment.astimezone(UTC)) if moment is not None else None


def _day_or_moment(text: str) -> tuple[datetime, datetime] | None:
    """A filter's value as the span it names: a whole UTC day, or one moment."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        low = datetime.combine(day, time(), tzinfo=UTC)
        return low, low + timedelta(days=1)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, moment


def _within(value: datetime | None, op: str, low: datetime, high: datetime) -> bool:
    # `StartTime>=DAY` is on or after that day's midnight, `StartTime<=DAY` on or before it; a call that has no
    # such time (not dialled, not ended) matches no time filter.
    if value is None:
        return False
    if op == ">":
        return value >= low
    if op == "<":
        return value <= low
    return low <= value < high if high > low else value == low
