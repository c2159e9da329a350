"""Outbound notification ports. Callers must never put clinical content in them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Raises DeliveryFailed when the message was not accepted (`permanent`: retrying cannot help)."""


@dataclass(frozen=True, slots=True)
class SmsMessage:
    to: str  # E.164, e.g. +14155550123
    text: str


class SmsSender(Protocol):
    async def send(self, message: SmsMessage) -> str:
        """Returns the provider's message id. Raises DeliveryFailed when the message was not accepted
        (`permanent`: refused for good, e.g. an invalid number; otherwise worth a retry later)."""


class DeliveryFailed(Exception):
    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.permanent = permanent


class EmailUnavailable(DomainError):
    """An email the caller is waiting for could not be handed to the mail server; trying again later may work."""

    code = "email_unavailable"
