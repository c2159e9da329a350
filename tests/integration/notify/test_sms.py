"""TwilioSmsSender against a local fake of Twilio's Messages API served over real HTTP; ConsoleSmsSender."""

from __future__ import annotations

import base64
import traceback
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from domain.shared.notify import DeliveryFailed, SmsMessage
from infra.notify.factory import sms_sender_from_settings
from infra.notify.sms import ConsoleSmsSender, TwilioConfig, TwilioSmsSender
from infra.settings import Settings
from tests.integration.notify.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    INVALID_NUMBER,
    MESSAGING_SERVICE_SID,
    FakeTwilio,
)
from tests.support.server import serve
from tests.support.smtp_server import free_port

TO = "+14155550123"
TEXT = "Hearth reminder: 50-minute video session with Sam, Monday 9 March 2026 at 09:00 EDT. https://h.test/a/1"


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    async with serve(fake.app()) as url:  # type: ignore[arg-type]
        yield fake, url


def config(url: str, **overrides: object) -> TwilioConfig:
    values: dict[str, object] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": FROM_NUMBER,
        "base_url": url,
        "timeout_seconds": 5,
    }
    values.update(overrides)
    return TwilioConfig(**values)  # type: ignore[arg-type]


async def send(cfg: TwilioConfig, message: SmsMessage) -> str:
    sender = TwilioSmsSender(cfg)
    try:
        return await sender.send(message)
    finally:
        await sender.aclose()


async def test_sends_the_request_twilio_expects(twilio):
    fake, url = twilio
    sid = await send(config(url), SmsMessage(to=TO, text=TEXT))

    assert sid.startswith("SM") and len(sid) == 34
    assert [m["sid"] for m in fake.messages] == [sid]
    (req,) = fake.requests
    assert req.method == "POST"
    assert req.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert req.content_type == "application/x-www-form-urlencoded"
    assert req.authorization == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert req.form == {"To": [TO], "From": [FROM_NUMBER], "Body": [TEXT]}


async def test_sends_through_a_messaging_service(twilio):
    fake, url = twilio
    cfg = config(url, from_number=None, messaging_service_sid=MESSAGING_SERVICE_SID)
    sid = await send(cfg, SmsMessage(to=TO, text="hi"))
    assert fake.messages[0]["sid"] == sid
    assert fake.requests[0].form == {"To": [TO], "MessagingServiceSid": [MESSAGING_SERVICE_SID], "Body": ["hi"]}


async def test_a_1600_character_body_is_accepted(twilio):
    fake, url = twilio
    await send(config(url), SmsMessage(to=TO, text="x" * 1600))
    assert len(fake.messages[0]["body"]) == 1600


async def test_invalid_number_is_permanent_and_masked(twilio):
    _, url = twilio
    with pytest.raises(DeliveryFailed) as caught:
        await send(config(url), SmsMessage(to=INVALID_NUMBER, text=TEXT))
    assert caught.value.permanent is True
    assert "21211" in str(caught.value)
    assert INVALID_NUMBER not in str(caught.value) and "5550001" not in str(caught.value)


async def test_bad_credentials_are_permanent(twilio):
    fake, url = twilio
    with pytest.raises(DeliveryFailed) as caught:
        await send(config(url, auth_token="not-the-token"), SmsMessage(to=TO, text=TEXT))
    assert caught.value.permanent is True
    assert "HTTP 401" in str(caught.value) and "20003" in str(caught.value)
    assert fake.messages == []


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_server_errors_are_transient(twilio, status):
    fake, url = twilio
    fake.fail_next.append(status)
    with pytest.raises(DeliveryFailed) as caught:
        await send(config(url), SmsMessage(to=TO, text=TEXT))
    assert caught.value.permanent is False
    assert f"HTTP {status}" in str(caught.value)
    # and the same message goes through once Twilio recovers
    assert (await send(config(url), SmsMessage(to=TO, text=TEXT))).startswith("SM")


async def test_connection_refused_is_transient():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DeliveryFailed) as caught:
        await send(config(url), SmsMessage(to=TO, text=TEXT))
    assert caught.value.permanent is False


async def test_a_transport_failure_carries_no_cause_that_could_quote_the_number():
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"no route for {request.content.decode()}", request=request)

    sender = TwilioSmsSender(config("http://twilio.test"), transport=httpx.MockTransport(unreachable))
    with pytest.raises(DeliveryFailed) as caught:
        await sender.send(SmsMessage(to=TO, text=TEXT))
    assert caught.value.permanent is False
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # tracebacks print no cause
    printed = "".join(traceback.format_exception(caught.value))
    assert "ConnectError" in printed and "4155550123" not in printed


@pytest.mark.parametrize(
    "message",
    [
        SmsMessage(to="004414155550123", text=TEXT),
        SmsMessage(to="+1 415 555 0123", text=TEXT),
        SmsMessage(to=TO, text="x" * 1601),
        SmsMessage(to=TO, text=""),
    ],
    ids=["not-e164", "spaces", "too-long", "empty"],
)
async def test_refused_locally_without_calling_twilio(twilio, message):
    fake, url = twilio
    with pytest.raises(DeliveryFailed) as caught:
        await send(config(url), message)
    assert caught.value.permanent is True
    assert fake.requests == []


def test_config_needs_exactly_one_sender():
    with pytest.raises(ValueError, match="exactly one"):
        TwilioConfig(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    with pytest.raises(ValueError, match="exactly one"):
        TwilioConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            from_number=FROM_NUMBER,
            messaging_service_sid=MESSAGING_SERVICE_SID,
        )
    with pytest.raises(ValueError, match=r"E\.164"):
        TwilioConfig(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="5550006")


async def test_sender_built_from_settings_talks_to_the_configured_base_url(twilio, tmp_path: Path):
    fake, url = twilio
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        sms_backend="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number=FROM_NUMBER,
        twilio_base_url=url,
    )
    sender = sms_sender_from_settings(settings)
    assert isinstance(sender, TwilioSmsSender)
    try:
        sid = await sender.send(SmsMessage(to=TO, text=TEXT))
    finally:
        await sender.aclose()
    assert fake.messages[0]["sid"] == sid


def test_settings_choose_console_by_default_and_refuse_twilio_without_credentials(tmp_path: Path):
    assert isinstance(sms_sender_from_settings(Settings(env="test", data_dir=tmp_path)), ConsoleSmsSender)
    with pytest.raises(RuntimeError, match="HEARTH_TWILIO_ACCOUNT_SID"):
        sms_sender_from_settings(Settings(env="test", data_dir=tmp_path, sms_backend="twilio"))


async def test_console_sender_logs_only_the_last_four_digits():
    with capture_logs() as logs:
        message_id = await ConsoleSmsSender().send(SmsMessage(to=TO, text=TEXT))
    assert message_id.startswith("console-")
    assert len(logs) == 1
    assert logs[0]["to"] == "…0123"
    flat = repr(logs)
    assert "4155550123" not in flat and "555" not in flat
    assert "Sam" not in flat and "video session" not in flat
