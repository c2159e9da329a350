"""compose.yaml is a valid Compose file, only configures settings Hearth actually reads, and gives production
everything it refuses to start without."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import AliasChoices

from api.bootstrap import StartupError, check_keys, load_settings, new_payload_kek, new_signing_key_pem
from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    # The compose-spec schema is vendored in check-jsonschema, so this works offline.
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def setting_env_names() -> set[str]:
    prefix = Settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{name}")
    return {n.upper() for n in names}


def test_compose_file_follows_the_compose_specification():
    result = validate(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_compose_file(tmp_path):
    # Without this, a validator that accepts anything would keep the test above green.
    broken = compose()
    broken["services"]["api"]["ports"] = 5
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))

    result = validate(path)

    assert result.returncode != 0
    assert "ports" in result.stdout + result.stderr


def test_api_environment_names_only_real_settings():
    # A misspelt variable is silently ignored by pydantic-settings (extra="ignore"), so the
    # deployment would quietly run with a default.
    environment = compose()["services"]["api"]["environment"]
    assert isinstance(environment, dict), "keep the api environment a mapping so it can be checked"

    unknown = set(environment) - setting_env_names()

    assert unknown == set(), f"compose.yaml sets variables Settings does not read: {sorted(unknown)}"


def test_api_waits_for_healthy_dependencies_and_reads_its_key_from_a_secret():
    spec = compose()
    api = spec["services"]["api"]
    for name, dependency in api["depends_on"].items():
        # `service_healthy` on a service without a healthcheck makes `compose up` fail.
        assert dependency["condition"] == "service_healthy", name
        assert "healthcheck" in spec["services"][name], f"{name} has no healthcheck"

    sources = {s if isinstance(s, str) else s["source"] for s in api["secrets"]}
    assert sources <= set(spec["secrets"]), "the api uses a secret that is not declared"
    key_file = api["environment"]["HEARTH_JWT_PRIVATE_KEY_FILE"]
    assert key_file in {f"/run/secrets/{s}" for s in sources}, f"{key_file} is not a secret mounted into api"


# What the operator puts in each key file the compose file mounts (its header says how to make them).
KEY_FILES = {
    "HEARTH_JWT_PRIVATE_KEY_FILE": new_signing_key_pem,
    "HEARTH_PAYLOAD_KEKS_FILE": lambda: json.dumps(new_payload_kek("2026-11-28")),
}


def _interpolated(value: str) -> str:
    """Compose's `${NAME:-default}` gives its default, `${NAME:?message}` stands for a value the operator sets."""
    return re.sub(
        r"\$\{(\w+)(:-|:\?)([^}]*)\}", lambda m: m.group(3) if m.group(2) == ":-" else "operator.example", value
    )


def api_settings(environment: dict[str, str], monkeypatch, tmp_path) -> Settings:
    """The api's settings as the container sees them, with its secrets' mount points as files under tmp_path."""
    for name in list(os.environ):
        if name.startswith("HEARTH_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    for name, value in environment.items():
        value = _interpolated(str(value))
        if value.startswith("/run/secrets/"):
            path = tmp_path / value.removeprefix("/run/secrets/")
            path.write_text(KEY_FILES[name]())
            value = str(path)
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HEARTH_DATA_DIR", str(tmp_path / "data"))  # the image sets it
    return load_settings()


def test_api_gets_every_key_production_needs(monkeypatch, tmp_path):
    # HEARTH_ENV=production without a key-encryption key crash-looped the api (KeyringError at start-up).
    environment = compose()["services"]["api"]["environment"]
    assert environment["HEARTH_ENV"] == "production"
    sources = {s if isinstance(s, str) else s["source"] for s in compose()["services"]["api"]["secrets"]}
    for name in KEY_FILES:
        assert environment.get(name) in {f"/run/secrets/{s}" for s in sources}, f"{name} is not a mounted secret"

    check_keys(api_settings(environment, monkeypatch, tmp_path))


def test_the_key_check_refuses_a_production_api_without_a_key_encryption_key(monkeypatch, tmp_path):
    # Without this, a check that accepts anything would keep the test above green.
    environment = dict(compose()["services"]["api"]["environment"])
    del environment["HEARTH_PAYLOAD_KEKS_FILE"]

    with pytest.raises(StartupError, match="No key-encryption key"):
        check_keys(api_settings(environment, monkeypatch, tmp_path))


def test_background_jobs_run_somewhere():
    # Reminders, no-show checks and unread-message emails are jobs: an api that leaves them to a worker needs one.
    services = compose()["services"]
    jobs_in_api = str(services["api"]["environment"].get("HEARTH_JOBS_IN_PROCESS", "true")).lower() == "true"
    workers = [name for name, service in services.items() if "worker" in str(service.get("command", ""))]
    assert jobs_in_api or workers, "HEARTH_JOBS_IN_PROCESS is false on the api, and no service runs `hearth worker`"
