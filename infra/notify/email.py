"""Email adapters for the `EmailSender` port: SMTP through aiosmtplib, and a console sender for development.

Failures become `DeliveryFailed`: an SMTP 5xx reply (the server refused this message for good) is permanent, a 4xx
reply, a timeout or a connection problem is transient and worth a retry. Nothing here logs a message body, and
details carried by `DeliveryFailed` have addresses masked (they end up in job logs).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Literal

import aiosmtplib
import structlog

from domain.shared.notify import DeliveryFailed, EmailMessage
from domain.shared.ports import Clock, SystemClock
from infra.jobs.current import next_message_key
from infra.redact import mask_addresses

__all__ = ["ConsoleEmailSender", "SmtpConfig", "SmtpEmailSender", "SmtpSecurity", "build_mime_message"]

log = structlog.get_logger("hearth.notify.email")

SmtpSecurity = Literal["starttls", "tls", "none"]


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    # "starttls": plain connection upgraded with STARTTLS, which the server MUST offer (no silent downgrade);
    # "tls": TLS from the first byte (SMTPS, usually port 465); "none": cleartext, only for a local relay.
    security: SmtpSecurity = "starttls"
    from_address: str = "Hearth <no-reply@localhost>"
    timeout_seconds: float = 10.0
    # Trust anchors for the server certificate; None = the system's CA store.
    tls_context: ssl.SSLContext | None = None


def _addr_spec(value: str, *, what: str) -> str:
    """The bare address of `value` ('Name <a@b>' or 'a@b'); DeliveryFailed(permanent) when it is not one."""
    if "\r" in value or "\n" in value:
        raise DeliveryFailed(f"{what} address contains a line break", permanent=True)
    _, spec = parseaddr(value)
    local, at, domain = spec.rpartition("@")
    if not at or not local or not domain or " " in spec:
        raise DeliveryFailed(f"{what} address is not an email address", permanent=True)
    return spec


def build_mime_message(
    message: EmailMessage, *, from_address: str, clock: Clock, message_key: str | None = None
) -> MimeMessage:
    """The MIME form of `message`: text/plain, or multipart/alternative (text, then HTML) when it has HTML,
    with From, To, Subject, Date, Message-ID and `Auto-Submitted: auto-generated` (RFC 3834: no auto-replies).
    With `message_key` the Message-ID is `<key@sender's domain>`, the same each time; without, a random one."""
    to = _addr_spec(message.to, what="recipient")
    sender = _addr_spec(from_address, what="sender")
    mime = MimeMessage()
    try:
        mime["From"] = from_address
        mime["To"] = to
        mime["Subject"] = message.subject
    except ValueError as exc:  # header injection attempts (CR/LF) and malformed headers
        # Not chained: the cause quotes the raw header, address included, into every traceback that shows it.
        raise DeliveryFailed(f"invalid header: {mask_addresses(str(exc))}", permanent=True) from None
    mime["Date"] = format_datetime(clock.now())
    domain = sender.rpartition("@")[2]
    mime["Message-ID"] = f"<{message_key}@{domain}>" if message_key else make_msgid(domain=domain)
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
    return mime


class SmtpEmailSender:
    """Sends through an SMTP server (one connection per message: reminders are few and far apart)."""

    def __init__(self, config: SmtpConfig, *, clock: Clock | None = None) -> None:
        self._config = config
        self._clock = clock or SystemClock()
        self._sender = _addr_spec(config.from_address, what="sender")

    async def send(self, message: EmailMessage) -> None:
        cfg = self._config
        # Sent by a job: the same Message-ID on every run of it, so a resend after a worker died between the
        # server's acceptance and the job's completion can be recognised (and dropped) by the receiving side.
        mime = build_mime_message(
            message, from_address=cfg.from_address, clock=self._clock, message_key=next_message_key()
        )
        recipient = str(mime["To"])
        # Failures are raised `from None`: aiosmtplib's exceptions carry the recipient (in their args), and a chained
        # cause is printed with every traceback that shows ours, the job log's included.
        try:
            await aiosmtplib.send(
                mime,
                sender=self._sender,
                recipients=[recipient],
                hostname=cfg.host,
                port=cfg.port,
                username=cfg.username,
                password=cfg.password,
                use_tls=cfg.security == "tls",
                # True requires STARTTLS (fails if the server does not offer it); False never tries it.
                start_tls=cfg.security == "starttls",
                tls_context=cfg.tls_context,
                timeout=cfg.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise self._failed(f"recipient refused: {detail}", permanent=all(_is_permanent(c) for c in codes)) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self._failed(f"{exc.code} {exc.message}", permanent=_is_permanent(exc.code)) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection refused or reset, timeouts, a server without STARTTLS, TLS handshake failures.
            raise self._failed(f"{type(exc).__name__}: {exc}", permanent=False) from None
        log.info("email.sent", message_id=str(mime["Message-ID"]))

    @staticmethod
    def _failed(detail: str, *, permanent: bool) -> DeliveryFailed:
        detail = mask_addresses(detail)
        log.warning("email.failed", detail=detail, permanent=permanent)
        return DeliveryFailed(f"SMTP: {detail}", permanent=permanent)


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


class ConsoleEmailSender:
    """Development sender: logs the recipient and subject, never the body (it could still carry a name)."""

    async def send(self, message: EmailMessage) -> None:
        to = _addr_spec(message.to, what="recipient")
        log.info("email.console", to=to, subject=message.subject)
