"""A local fake of Twilio's Messages API that checks each request the way Twilio does and answers like it.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth with the account SID and auth token,
`application/x-www-form-urlencoded` body with `To`, `From` or `MessagingServiceSid`, and `Body`.
Answers: `201` + a Message resource; errors as `{"code", "message", "more_info", "status"}`: 20003 (401, bad
credentials), 20404 (404), 21211 (invalid To: not E.164, or Twilio's magic invalid number +15005550001), 21602
(no Body), 21603 (no From), 21604 (no To), 21617 (Body over 1600 characters). `fail_next` makes the next request
answer a given status (429, 503, ...).
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token-0123456789"
FROM_NUMBER = "+15005550006"
MESSAGING_SERVICE_SID = "MG" + "fedcba9876543210" * 2
INVALID_NUMBER = "+15005550001"
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


@dataclass
class SeenRequest:
    method: str
    path: str
    content_type: str
    authorization: str | None
    form: dict[str, list[str]]


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    requests: list[SeenRequest] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
        async def anything(request: Request, path: str) -> JSONResponse:
            body = await request.body()
            content_type = request.headers.get("content-type", "")
            seen = SeenRequest(
                request.method,
                request.url.path,
                content_type,
                request.headers.get("authorization"),
                parse_qs(body.decode(), keep_blank_values=True) if "form-urlencoded" in content_type else {},
            )
            self.requests.append(seen)
            status, payload = self.answer(seen)
            return JSONResponse(payload, status_code=status)

        return app

    @staticmethod
    def error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
        return status, {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def answer(self, req: SeenRequest) -> tuple[int, dict[str, Any]]:
        if self.fail_next:
            status = self.fail_next.pop(0)
            code = 20429 if status == 429 else 20500
            return self.error(status, code, "Too Many Requests" if status == 429 else "Internal Server Error")
        match = _PATH.match(req.path)
        if not self._authorised(req.authorization, match["sid"] if match else None):
            return self.error(401, 20003, "Authenticate")
        if req.method != "POST" or match is None:
            return self.error(404, 20404, f"The requested resource {req.path} was not found")
        if not req.content_type.startswith("application/x-www-form-urlencoded"):
            return self.error(400, 21602, "Message body is required.")  # Twilio sees no parameters at all
        form = {key: values[-1] for key, values in req.form.items()}
        to, sender, service, body = form.get("To"), form.get("From"), form.get("MessagingServiceSid"), form.get("Body")
        if not to:
            return self.error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            return self.error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return self.error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return self.error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if not _E164.match(to) or to == INVALID_NUMBER:
            return self.error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC), usegmt=True)
        resource = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        self.messages.append(resource)
        return 201, resource

    def _authorised(self, header: str | None, path_sid: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid and password == self.auth_token and path_sid in (None, user)
