"""X-Twilio-Signature as Twilio documents it, TwiML/status parsing of the adapter, and what its failures carry."""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import httpx
import pytest

from domain.telephony.errors import InvalidWebhookSignature, TelephonyUnavailable
from domain.telephony.ports import CallLeg, CallStatus
from infra.telephony.twilio import TwilioTelephony, TwilioVoiceConfig, twilio_signature
from tests.support.clock import FakeClock

# The worked example of Twilio's webhook security documentation.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}


def adapter(token: str = "12345") -> TwilioTelephony:
    config = TwilioVoiceConfig(
        account_sid="AC" + "0" * 32, auth_token=token, caller_id="+15005550006", webhook_base_url="https://h.test"
    )
    return TwilioTelephony(config, FakeClock())


def test_the_documented_example_signature():
    assert twilio_signature(DOC_URL, DOC_PARAMS, "12345") == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_verification_accepts_the_right_signature_only():
    telephony = adapter()
    telephony.verify_webhook(DOC_URL, DOC_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    for url, params, signature in [
        (DOC_URL, DOC_PARAMS, None),
        (DOC_URL, DOC_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ"),
        (DOC_URL.replace("foo=1", "foo=2"), DOC_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
        (DOC_URL, {**DOC_PARAMS, "Digits": "1235"}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
    ]:
        with pytest.raises(InvalidWebhookSignature):
            telephony.verify_webhook(url, params, signature)


def test_status_callbacks_become_events():
    telephony = adapter()
    event = telephony.read_status(
        {
            "CallSid": "CA2",
            "ParentCallSid": "CA1",
            "CallStatus": "completed",
            "CallDuration": "125",
            "Timestamp": "Fri, 27 Nov 2026 15:12:05 +0000",
        }
    )
    assert event.provider_call_id == "CA2" and event.leg is CallLeg.SECOND
    assert event.status is CallStatus.COMPLETED and event.duration_seconds == 125
    assert event.at == datetime(2026, 11, 27, 15, 12, 5, tzinfo=UTC)
    assert telephony.read_status({"CallSid": "CA1", "CallStatus": "no-answer"}).status is CallStatus.NO_ANSWER


def test_the_connect_twiml_dials_the_client_from_the_practice_number():
    reply = adapter().connect_second(reference="abc", second="+14155550199")
    assert reply.media_type == "application/xml"
    dial = ET.fromstring(reply.body).find("Dial")
    assert dial is not None and dial.get("callerId") == "+15005550006"
    number = dial.find("Number")
    assert number is not None and number.text == "+14155550199"
    assert number.get("statusCallback") == "https://h.test/api/v1/telephony/twilio/calls/abc/status"
    assert number.get("statusCallbackEvent") == "initiated ringing answered completed"


async def test_a_transport_failure_carries_no_cause_that_could_quote_the_numbers():
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"no route for {request.content.decode()}", request=request)

    config = TwilioVoiceConfig(
        account_sid="AC" + "0" * 32, auth_token="t", caller_id="+15005550006", webhook_base_url="https://h.test"
    )
    telephony = TwilioTelephony(config, FakeClock(), transport=httpx.MockTransport(unreachable))
    therapist, client = "+14155550123", "+14155550199"
    with pytest.raises(TelephonyUnavailable) as caught:
        await telephony.bridge(reference="r1", first=therapist, second=client)
    await telephony.aclose()
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    printed = "".join(traceback.format_exception(caught.value))
    assert "ConnectError" in printed and "4155550123" not in printed and "4155550199" not in printed
