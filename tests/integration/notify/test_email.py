"""SmtpEmailSender against a real SMTP server (aiosmtpd on 127.0.0.1); ConsoleEmailSender's logging."""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from domain.shared.notify import DeliveryFailed, EmailMessage
from infra.notify.email import ConsoleEmailSender, SmtpConfig, SmtpEmailSender
from infra.notify.factory import email_sender_from_settings
from infra.settings import Settings
from tests.integration.notify.tls import Pki, make_pki
from tests.support.clock import FakeClock
from tests.support.smtp_server import free_port, smtp_server

FROM = "Hearth <no-reply@hearth.test>"
REMINDER = EmailMessage(
    to="ada@example.org",
    subject="Reminder: your upcoming session",
    text="This is a reminder of your 50-minute video session with Sam on Monday 9 March 2026 at 09:00 EDT.",
    html="<p>This is a reminder of your <b>50-minute video session</b> with Sam.</p>",
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def plain_config(port: int, **overrides: object) -> SmtpConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": FROM,
        "timeout_seconds": 5,
    }
    values.update(overrides)
    return SmtpConfig(**values)  # type: ignore[arg-type]


async def test_delivers_a_multipart_email_with_headers(clock: FakeClock):
    clock.set(datetime(2026, 3, 8, 13, 0, tzinfo=UTC))
    with smtp_server() as server:
        await SmtpEmailSender(plain_config(server.port), clock=clock).send(REMINDER)

    assert len(server.received) == 1
    got = server.received[0]
    assert got.mail_from == "no-reply@hearth.test"
    assert got.rcpt_tos == ["ada@example.org"]
    msg = got.message
    assert msg["To"] == "ada@example.org"
    assert msg["From"] == FROM
    assert msg["Subject"] == "Reminder: your upcoming session"
    assert parsedate_to_datetime(msg["Date"]) == clock.now()
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@hearth.test>")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().strip() == REMINDER.text
    assert parts[1].get_content().strip() == REMINDER.html


async def test_text_only_email_is_a_single_text_part(clock: FakeClock):
    message = EmailMessage(to="Ada <ada@example.org>", subject="Hello", text="Plain words, nothing else.")
    with smtp_server() as server:
        await SmtpEmailSender(plain_config(server.port), clock=clock).send(message)
    got = server.received[0]
    assert got.rcpt_tos == ["ada@example.org"]
    assert got.message.get_content_type() == "text/plain"
    assert got.message.get_content().strip() == "Plain words, nothing else."


async def test_every_message_gets_its_own_message_id(clock: FakeClock):
    with smtp_server() as server:
        sender = SmtpEmailSender(plain_config(server.port), clock=clock)
        await sender.send(REMINDER)
        await sender.send(REMINDER)
    ids = {r.message["Message-ID"] for r in server.received}
    assert len(ids) == 2


async def test_starttls_with_authentication(pki: Pki, clock: FakeClock):
    with smtp_server(starttls=pki.server_context(), credentials=("hearth", "s3cret")) as server:
        config = plain_config(
            server.port, security="starttls", username="hearth", password="s3cret", tls_context=pki.client_context()
        )
        await SmtpEmailSender(config, clock=clock).send(REMINDER)
    got = server.received[0]
    assert got.tls is True
    assert got.login == "hearth"
    assert got.message["Subject"] == REMINDER.subject


async def test_wrong_password_is_a_permanent_failure(pki: Pki, clock: FakeClock):
    with smtp_server(starttls=pki.server_context(), credentials=("hearth", "s3cret")) as server:
        config = plain_config(
            server.port, security="starttls", username="hearth", password="wrong", tls_context=pki.client_context()
        )
        with pytest.raises(DeliveryFailed) as caught:
            await SmtpEmailSender(config, clock=clock).send(REMINDER)
    assert caught.value.permanent is True
    assert "535" in str(caught.value)
    assert server.received == []


async def test_starttls_mode_never_falls_back_to_cleartext(clock: FakeClock):
    with smtp_server() as server, pytest.raises(DeliveryFailed) as caught:  # offers no STARTTLS
        await SmtpEmailSender(plain_config(server.port, security="starttls"), clock=clock).send(REMINDER)
    assert caught.value.permanent is False
    assert server.received == []


async def test_starttls_refuses_a_certificate_it_does_not_trust(pki: Pki, clock: FakeClock):
    # The default trust store does not know the test CA.
    with smtp_server(starttls=pki.server_context()) as server, pytest.raises(DeliveryFailed) as caught:
        await SmtpEmailSender(plain_config(server.port, security="starttls"), clock=clock).send(REMINDER)
    assert caught.value.permanent is False
    assert server.received == []


async def test_implicit_tls(pki: Pki, clock: FakeClock):
    with smtp_server(implicit_tls=pki.server_context()) as server:
        config = plain_config(server.port, security="tls", tls_context=pki.client_context())
        await SmtpEmailSender(config, clock=clock).send(REMINDER)
    assert server.received[0].tls is True
    assert server.received[0].rcpt_tos == ["ada@example.org"]


async def test_550_on_rcpt_is_permanent_and_hides_the_address(clock: FakeClock):
    refusal = "550 5.1.1 <ada@example.org>: Recipient address rejected"
    with smtp_server(rcpt_reply=refusal) as server, pytest.raises(DeliveryFailed) as caught:
        await SmtpEmailSender(plain_config(server.port), clock=clock).send(REMINDER)
    assert caught.value.permanent is True
    assert "550" in str(caught.value)
    assert "ada@example.org" not in str(caught.value)
    assert server.received == []


async def test_450_on_rcpt_is_transient_and_carries_no_cause_quoting_the_address(clock: FakeClock):
    refusal = "450 4.2.1 <ada@example.org>: Mailbox busy, try later"
    with smtp_server(rcpt_reply=refusal) as server, pytest.raises(DeliveryFailed) as caught:
        await SmtpEmailSender(plain_config(server.port), clock=clock).send(REMINDER)
    assert caught.value.permanent is False
    assert "450 4.2.1 <address>: Mailbox busy" in str(caught.value)
    # aiosmtplib's exception holds the recipient; a chained cause would print it with every traceback
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "ada@example.org" not in "".join(traceback.format_exception(caught.value))


async def test_connection_refused_is_transient(clock: FakeClock):
    port = free_port()  # nothing listens there
    with pytest.raises(DeliveryFailed) as caught:
        await SmtpEmailSender(plain_config(port), clock=clock).send(REMINDER)
    assert caught.value.permanent is False


@pytest.mark.parametrize(
    "message",
    [
        EmailMessage(to="ada@example.org", subject="Hi\r\nBcc: eve@example.org", text="x"),
        EmailMessage(to="ada@example.org\r\nBcc: eve@example.org", subject="Hi", text="x"),
        EmailMessage(to="not an address", subject="Hi", text="x"),
    ],
    ids=["subject-injection", "to-injection", "not-an-address"],
)
async def test_malformed_messages_fail_permanently_without_sending(message: EmailMessage, clock: FakeClock):
    with smtp_server() as server, pytest.raises(DeliveryFailed) as caught:
        await SmtpEmailSender(plain_config(server.port), clock=clock).send(message)
    assert caught.value.permanent is True
    assert server.received == []


async def test_sender_built_from_settings_delivers(tmp_path: Path, clock: FakeClock):
    with smtp_server() as server:
        settings = Settings(
            env="test",
            data_dir=tmp_path,
            email_backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            smtp_security="none",
            smtp_from="Hearth Reminders <reminders@hearth.test>",
        )
        sender = email_sender_from_settings(settings, clock)
        assert isinstance(sender, SmtpEmailSender)
        await sender.send(REMINDER)
    assert server.received[0].mail_from == "reminders@hearth.test"
    assert server.received[0].message["From"] == "Hearth Reminders <reminders@hearth.test>"


def test_settings_choose_console_by_default_and_refuse_smtp_without_host(tmp_path: Path, clock: FakeClock):
    assert isinstance(email_sender_from_settings(Settings(env="test", data_dir=tmp_path), clock), ConsoleEmailSender)
    with pytest.raises(RuntimeError, match="HEARTH_SMTP_HOST"):
        email_sender_from_settings(Settings(env="test", data_dir=tmp_path, email_backend="smtp"), clock)


async def test_console_sender_logs_recipient_and_subject_but_never_the_body():
    with capture_logs() as logs:
        await ConsoleEmailSender().send(REMINDER)
    assert logs == [
        {"event": "email.console", "to": "ada@example.org", "subject": REMINDER.subject, "log_level": "info"}
    ]
    flat = repr(logs)
    assert "Sam" not in flat and "video session" not in flat
