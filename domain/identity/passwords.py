"""Password rules: length and a list of the passwords attackers try first."""

from __future__ import annotations

from importlib import resources

from domain.shared.errors import ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 256


def _load_common() -> frozenset[str]:
    text = resources.files("domain.identity").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


_COMMON: frozenset[str] | None = None


def is_common(password: str) -> bool:
    global _COMMON
    if _COMMON is None:
        _COMMON = _load_common()
    return password.lower() in _COMMON


def check_password(password: str, *, email: str, display_name: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            f"The password must have at least {MIN_LENGTH} characters.", code="weak_password", field="password"
        )
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(
            f"The password may have at most {MAX_LENGTH} characters.", code="weak_password", field="password"
        )
    lowered = password.lower()
    if is_common(password) or len(set(password)) < 4:
        raise ValidationFailed(
            "This password is too common; choose one that is harder to guess.",
            code="weak_password",
            field="password",
        )
    local_part = email.split("@", 1)[0].lower()
    if (len(local_part) >= 4 and local_part in lowered) or lowered == display_name.lower():
        raise ValidationFailed(
            "The password must not contain your email or name.", code="weak_password", field="password"
        )
