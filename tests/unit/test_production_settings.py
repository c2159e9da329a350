"""Production refuses the console stand-ins for email, SMS and telephony unless the operator accepts them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from api.cli import app
from infra.settings import Settings


def production(tmp_path: Path, **values: object) -> Settings:
    return Settings(
        env="production",
        database_url="postgresql://h/db",
        jwt_private_key_file=tmp_path / "jwt.pem",
        **values,  # type: ignore[arg-type]
    )


def refusal(tmp_path: Path, **values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        production(tmp_path, **values)
    (error,) = caught.value.errors()
    return str(error["msg"])


def test_console_backends_are_refused_in_production(tmp_path):
    message = refusal(tmp_path)
    assert "\n" not in message
    for setting in ("HEARTH_EMAIL_BACKEND", "HEARTH_SMS_BACKEND", "HEARTH_TELEPHONY_BACKEND"):
        assert setting in message
    assert "safety alerts" in message
    assert """HEARTH_ALLOW_CONSOLE_BACKENDS='["email", "sms", "telephony"]'""" in message


def test_only_the_console_backends_not_accepted_are_named(tmp_path):
    message = refusal(tmp_path, email_backend="smtp", allow_console_backends=["sms"])
    assert "HEARTH_TELEPHONY_BACKEND=console" in message
    assert "HEARTH_EMAIL_BACKEND" not in message and "HEARTH_SMS_BACKEND" not in message
    # The suggestion keeps what was already accepted, and following it starts.
    assert """HEARTH_ALLOW_CONSOLE_BACKENDS='["sms", "telephony"]'""" in message
    production(tmp_path, email_backend="smtp", allow_console_backends=["sms", "telephony"])
    production(tmp_path, email_backend="smtp", sms_backend="twilio", telephony_backend="twilio")
    Settings(env="development")  # development keeps its console defaults


def test_hearth_refuses_to_start_with_one_line_naming_the_setting(tmp_path):
    result = CliRunner().invoke(
        app,
        ["serve"],
        env={
            "HEARTH_ENV": "production",
            "DATABASE_URL": "postgresql://h/db",
            "HEARTH_JWT_PRIVATE_KEY_FILE": str(tmp_path / "jwt.pem"),
            "HEARTH_EMAIL_BACKEND": "smtp",
            "HEARTH_SMS_BACKEND": "twilio",
        },
    )
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (line,) = result.output.splitlines()
    assert line.startswith("Hearth cannot start: In production HEARTH_TELEPHONY_BACKEND=console")
    assert "HEARTH_ALLOW_CONSOLE_BACKENDS" in line
