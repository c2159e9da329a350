"""Settings -> the telephony adapter (called once by the composition root)."""

from __future__ import annotations

from typing import Protocol

from domain.shared.ports import Clock
from domain.telephony.ports import Telephony
from infra.settings import Settings
from infra.telephony.console import ConsoleTelephony
from infra.telephony.twilio import TwilioTelephony, TwilioVoiceConfig

__all__ = ["ClosableTelephony", "telephony_from_settings"]


class ClosableTelephony(Telephony, Protocol):
    async def aclose(self) -> None: ...


def telephony_from_settings(settings: Settings, clock: Clock) -> ClosableTelephony:
    if settings.telephony_backend == "console":
        return ConsoleTelephony(clock, step_seconds=settings.telephony_console_step_seconds)
    if not settings.twilio_account_sid or settings.twilio_auth_token is None:
        raise RuntimeError(
            "HEARTH_TELEPHONY_BACKEND=twilio needs HEARTH_TWILIO_ACCOUNT_SID and HEARTH_TWILIO_AUTH_TOKEN"
        )
    caller_id = settings.telephony_caller_id or settings.twilio_from_number
    if not caller_id:
        raise RuntimeError("HEARTH_TELEPHONY_BACKEND=twilio needs HEARTH_TELEPHONY_CALLER_ID (a number of the account)")
    try:
        config = TwilioVoiceConfig(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            caller_id=caller_id,
            webhook_base_url=settings.telephony_webhook_base_url or settings.public_url,
            base_url=settings.twilio_base_url,
            timeout_seconds=settings.twilio_timeout_seconds,
            ring_timeout_seconds=settings.telephony_ring_timeout_seconds,
        )
    except ValueError as exc:
        raise RuntimeError(f"Telephony settings: {exc}") from exc
    return TwilioTelephony(config, clock)
