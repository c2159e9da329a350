"""A misconfigured key stops `hearth` in one line naming what to fix, before it touches the database;
`hearth keys generate` prints keys that production starts with."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from api.bootstrap import check_keys, load_settings

# Never reached: every refusal below happens before a connection is opened.
UNREACHABLE_DATABASE = "postgresql://hearth@127.0.0.1:1/hearth"


# These tests are about keys: production's other refusal (console email, SMS and telephony) is waived.
CONSOLE_ACCEPTED = '["email", "sms", "telephony"]'


def hearth(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "HEARTH_DATA_DIR": str(cwd / "data"),
        "DATABASE_URL": UNREACHABLE_DATABASE,
        "HEARTH_ALLOW_CONSOLE_BACKENDS": CONSOLE_ACCEPTED,
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=base | env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Hearth cannot start: ")
    return lines[0]


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    jwt, keks = tmp_path / "jwt.pem", tmp_path / "keks.json"
    for kind, path in (("jwt", jwt), ("kek", keks)):
        result = hearth("keys", "generate", kind, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        path.write_text(result.stdout)
    return jwt, keks


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_production_without_a_signing_key_setting(tmp_path, command):
    line = refusal(hearth(command, cwd=tmp_path, HEARTH_ENV="production"))
    assert "HEARTH_JWT_PRIVATE_KEY_FILE must be set in production" in line


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_missing_signing_key_file(tmp_path, keys, command):
    _, keks = keys
    missing = tmp_path / "secrets" / "jwt.pem"
    line = refusal(
        hearth(
            command,
            cwd=tmp_path,
            HEARTH_ENV="production",
            HEARTH_JWT_PRIVATE_KEY_FILE=str(missing),
            HEARTH_PAYLOAD_KEKS_FILE=str(keks),
        )
    )
    assert f"HEARTH_JWT_PRIVATE_KEY_FILE: cannot read {missing}: No such file or directory" in line


def test_a_file_that_is_no_signing_key(tmp_path, keys):
    _, keks = keys
    line = refusal(
        hearth(
            "serve",
            cwd=tmp_path,
            HEARTH_ENV="production",
            HEARTH_JWT_PRIVATE_KEY_FILE=str(keks),
            HEARTH_PAYLOAD_KEKS_FILE=str(keks),
        )
    )
    assert "is not an unencrypted Ed25519 private key" in line
    assert json.loads(keks.read_text()).popitem()[1] not in line  # the file's content is never shown


def test_production_without_a_key_encryption_key(tmp_path, keys):
    jwt, _ = keys
    line = refusal(hearth("serve", cwd=tmp_path, HEARTH_ENV="production", HEARTH_JWT_PRIVATE_KEY_FILE=str(jwt)))
    assert "No key-encryption key is configured" in line
    assert "hearth keys generate kek" in line


def test_a_missing_key_encryption_keys_file(tmp_path):
    missing = tmp_path / "keks.json"
    line = refusal(hearth("serve", cwd=tmp_path, HEARTH_PAYLOAD_KEKS_FILE=str(missing)))
    assert f"Cannot read the key-encryption keys file {missing}: No such file or directory" in line


def test_a_bad_setting_names_the_variable_and_not_its_value(tmp_path):
    line = refusal(hearth("migrate", cwd=tmp_path, HEARTH_DB_POOL_SIZE="s3cr3t-looking"))
    assert "HEARTH_DB_POOL_SIZE" in line
    assert "s3cr3t-looking" not in line


def test_generated_keys_are_what_production_starts_with(tmp_path, keys):
    jwt, keks = keys
    production = load_settings(
        env="production",
        database_url=UNREACHABLE_DATABASE,
        jwt_private_key_file=jwt,
        payload_keks_file=keks,
        data_dir=tmp_path / "data",
        allow_console_backends=["email", "sms", "telephony"],
    )
    check_keys(production)  # raises StartupError otherwise
    [(kek_id, _)] = json.loads(keks.read_text()).items()
    named = hearth("keys", "generate", "kek", "--id", "2027-01", cwd=tmp_path)
    assert named.returncode == 0 and list(json.loads(named.stdout)) == ["2027-01"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", kek_id)  # named by the day it was made
    assert hearth("keys", "generate", "kek", "--id", "a b", cwd=tmp_path).returncode == 2
