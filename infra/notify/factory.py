"""Settings -> notification adapters (called once by the composition root)."""

from __future__ import annotations

from typing import Protocol

from domain.shared.notify import EmailSender, SmsSender
from domain.shared.ports import Clock
from infra.notify.email import ConsoleEmailSender, SmtpConfig, SmtpEmailSender
from infra.notify.sms import ConsoleSmsSender, TwilioConfig, TwilioSmsSender
from infra.settings import Settings

__all__ = ["ClosableSmsSender", "email_sender_from_settings", "sms_sender_from_settings"]


class ClosableSmsSender(SmsSender, Protocol):
    async def aclose(self) -> None: ...


def email_sender_from_settings(settings: Settings, clock: Clock) -> EmailSender:
    if settings.email_backend == "console":
        return ConsoleEmailSender()
    if not settings.smtp_host:
        raise RuntimeError("HEARTH_EMAIL_BACKEND=smtp needs HEARTH_SMTP_HOST")
    return SmtpEmailSender(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            security=settings.smtp_security,
            from_address=settings.smtp_from,
            timeout_seconds=settings.smtp_timeout_seconds,
        ),
        clock=clock,
    )


def sms_sender_from_settings(settings: Settings) -> ClosableSmsSender:
    if settings.sms_backend == "console":
        return ConsoleSmsSender()
    if not settings.twilio_account_sid or settings.twilio_auth_token is None:
        raise RuntimeError("HEARTH_SMS_BACKEND=twilio needs HEARTH_TWILIO_ACCOUNT_SID and HEARTH_TWILIO_AUTH_TOKEN")
    try:
        config = TwilioConfig(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            base_url=settings.twilio_base_url,
            timeout_seconds=settings.twilio_timeout_seconds,
        )
    except ValueError as exc:
        raise RuntimeError(f"Twilio settings: {exc}") from exc
    return TwilioSmsSender(config)
