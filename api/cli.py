"""The `hearth` command: serve, worker, relay, migrate, openapi, demo, keys, billing, practice, audit verify."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import NoReturn

import typer

from api.bootstrap import (
    Settings,
    StartupError,
    build_container,
    build_relay_app,
    check_keys,
    configure_cli_logging,
    create_group_practice,
    load_settings,
    new_payload_kek,
    new_signing_key_pem,
    rotate_keys,
    run_migrations,
    run_worker,
    set_platform_fee,
    start_embedded_postgres,
    verify_audit_chain,
)
from api.schemas.messaging import WS_MAX_FRAME_BYTES

# How `hearth serve` runs uvicorn (the test server and bench/messaging.py use the same). WebSocket frames are not
# compressed (permessage-deflate): a compressed stream that mixes one party's chosen text with another's
# confidential messages leaks the latter through frame sizes (a CRIME-style oracle), and our frames are small JSON
# that compression barely shrinks at a CPU cost per frame on both ends (ADR 14).
# A client frame over WS_MAX_FRAME_BYTES closes the socket with 1009. It must hold the largest frame the contract
# allows as any JSON encoder writes it: a `send` of 10,000 characters is 120 kB from an encoder that escapes
# non-ASCII (12 bytes an emoji, Python's default), a call offer's SDP up to 100,000 characters.
SERVE_OPTIONS: dict[str, object] = {
    "log_config": None,
    "access_log": False,
    "proxy_headers": True,
    "ws_max_size": WS_MAX_FRAME_BYTES,
    "ws_per_message_deflate": False,
}

app = typer.Typer(help="Hearth: a self-hostable remote-therapy platform.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
keys_app = typer.Typer(help="Payload encryption keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
billing_app = typer.Typer(help="Billing operations of the platform operator.", no_args_is_help=True)
app.add_typer(billing_app, name="billing")
practice_app = typer.Typer(help="Practices (the tenants) of this deployment.", no_args_is_help=True)
app.add_typer(practice_app, name="practice")


def _refuse(exc: StartupError) -> NoReturn:
    typer.echo(f"Hearth cannot start: {exc}", err=True)
    raise typer.Exit(2)


def configured(**overrides: object) -> Settings:
    """The settings, or one line saying which one to fix (exit 2) instead of pydantic's traceback."""
    try:
        return load_settings(**overrides)
    except StartupError as exc:
        _refuse(exc)


def keyed(settings: Settings) -> Settings:
    """The settings once their keys load: a missing key or key file stops the command in one line, before it starts a
    database, migrates or listens (inside the server's start-up it would be a traceback and a crash loop)."""
    try:
        check_keys(settings)
    except StartupError as exc:
        _refuse(exc)
    return settings


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Uses DATABASE_URL, or starts the embedded PostgreSQL for the duration of the command."""
    if settings.database_url:
        yield settings
        return
    embedded = start_embedded_postgres(settings.pgdata_dir)
    typer.echo(f"Starting embedded PostgreSQL in {settings.pgdata_dir} ...", err=True)
    url = embedded.start()
    # SIGTERM (docker stop, systemd, a process manager) must stop the embedded server too. Its default action ends
    # the process without unwinding, and uvicorn, after its graceful shutdown, restores the handler it found and
    # raises the signal again; so the handler found is this one, which unwinds to the `finally` below.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield settings.model_copy(update={"database_url": url})
    finally:
        signal.signal(signal.SIGTERM, previous)
        embedded.stop()


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
) -> None:
    """Apply migrations, then serve the API and the built SPA."""
    import uvicorn

    from api.main import create_app

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    address = f"http://[{shown_host}]:{port}" if ":" in shown_host else f"http://{shown_host}:{port}"
    configuration = keyed(configured())
    if "public_url" not in configuration.model_fields_set:
        # Links in emails and calendar feeds, Twilio's webhooks and the cookies' Secure flag come from the public URL;
        # its default named port 8000 whatever --port said.
        configuration = configuration.model_copy(update={"public_url": address})
    with database(configuration) as settings:
        assert settings.database_url
        configure_cli_logging(settings)
        run_migrations(settings.database_url)
        typer.echo(f"Hearth is running: open {address}/  (API docs at /docs)", err=True)
        uvicorn.run(create_app(settings, freeze_heap=True), host=host, port=port, **SERVE_OPTIONS)  # type: ignore[arg-type]


@app.command()
def relay(
    host: str = typer.Option("127.0.0.1", help="Interface for the internal HTTP API"),
    port: int = typer.Option(8800, help="Port of the internal HTTP API"),
) -> None:
    """Run the media relay as its own process; `hearth serve` uses it when HEARTH_RELAY_URL points here."""
    import uvicorn

    settings = configured()
    configure_cli_logging(settings)
    try:
        relay_asgi = build_relay_app(settings)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"Hearth relay API on http://{host}:{port}/", err=True)
    # The asyncio loop, not uvloop: in bench/relay.py runs on this (loaded, shared) machine, uvloop's relay dropped
    # more datagrams at 16 streams (24, 24, 14 and 5 fps delivered of 30) than asyncio's (30, 30, 30 and 11).
    uvicorn.run(relay_asgi, host=host, port=port, log_config=None, access_log=False, loop="asyncio")


@app.command()
def worker() -> None:
    """Run background jobs (reminders) until SIGINT/SIGTERM; pair with HEARTH_JOBS_IN_PROCESS=false on serve.
    A database outage does not end it: it reconnects with backoff and logs `jobs.worker_crashed` meanwhile."""
    with database(keyed(configured())) as settings:
        assert settings.database_url
        configure_cli_logging(settings)
        run_migrations(settings.database_url)
        asyncio.run(run_worker(settings))


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the newest revision."""
    with database(configured()) as settings:
        assert settings.database_url
        run_migrations(settings.database_url)
        typer.echo("Database is at the newest revision.", err=True)


@app.command()
def openapi() -> None:
    """Print the OpenAPI document (sorted keys) to stdout."""
    from api.main import create_app

    spec = create_app(configured(spa_dir="/nonexistent")).openapi()
    sys.stdout.write(json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


DEMO_PASSWORD = "hearth-demo-passphrase"


@app.command()
def demo() -> None:
    """Seed a demo practice: a therapist and a client with known passwords."""
    from domain.identity.service import Registration
    from domain.shared.errors import Conflict
    from domain.shared.principal import Role

    people = [
        ("therapist@demo.hearth.local", Role.THERAPIST, "Dr. Dana Reyes", "America/New_York"),
        ("client@demo.hearth.local", Role.CLIENT, "Sam Client", "America/Chicago"),
    ]

    async def seed(settings: Settings) -> None:
        container = await build_container(settings)
        try:
            for email, role, name, tz in people:
                with contextlib.suppress(Conflict):
                    await container.identity.register(Registration(email, DEMO_PASSWORD, role, name, tz))
        finally:
            await container.close()

    with database(keyed(configured())) as settings:
        assert settings.database_url
        run_migrations(settings.database_url)
        asyncio.run(seed(settings))
    typer.echo("Demo practice ready. Log in with:")
    for email, role, _, _ in people:
        typer.echo(f"  {role.value:<10} {email}  password: {DEMO_PASSWORD}")


class KeyKind(StrEnum):
    kek = "kek"
    jwt = "jwt"


@keys_app.command("generate")
def keys_generate(
    kind: KeyKind = typer.Argument(
        ...,
        help="kek: a key-encryption key as JSON for HEARTH_PAYLOAD_KEKS or HEARTH_PAYLOAD_KEKS_FILE; "
        "jwt: an Ed25519 PEM signing key for HEARTH_JWT_PRIVATE_KEY_FILE",
    ),
    key_id: str | None = typer.Option(None, "--id", help="Id of the key-encryption key (default: today's date)"),
) -> None:
    """Print a new key to stdout (nothing is stored or configured): redirect it into a secret file."""
    if kind is KeyKind.jwt:
        sys.stdout.write(new_signing_key_pem())
        return
    # A date names the key by when it was made, which is what an operator needs to tell keys apart at a rotation.
    try:
        keks = new_payload_kek(key_id or date.today().isoformat())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--id") from None
    sys.stdout.write(json.dumps(keks) + "\n")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every data key under the newest key-encryption key (payloads are not touched)."""
    with database(keyed(configured())) as settings:
        assert settings.database_url
        run_migrations(settings.database_url)
        report = asyncio.run(rotate_keys(settings))
    typer.echo(f"{report.rewrapped} data keys re-wrapped under key {report.current_kek_id!r}.")


@billing_app.command("set-fee")
def billing_set_fee(
    practice_id: str = typer.Argument(..., help="The practice's id"),
    percent_bp: int | None = typer.Option(None, help="A percentage of each paid invoice, in basis points (300 = 3 %)"),
    monthly_minor: int | None = typer.Option(None, help="A monthly subscription, in minor units"),
    currency: str | None = typer.Option(None, help="Currency of the subscription (default: HEARTH_BILLING_CURRENCY)"),
) -> None:
    """Set the platform fee one practice pays: a percentage per paid invoice or a monthly subscription."""
    import uuid

    from domain.billing.fees import PlatformFeeMode, PlatformFeePlan
    from domain.billing.money import Money
    from domain.shared.errors import DomainError

    if (percent_bp is None) == (monthly_minor is None):
        typer.echo("Give exactly one of --percent-bp or --monthly-minor.", err=True)
        raise typer.Exit(code=2)
    configuration = keyed(configured())
    try:
        target = uuid.UUID(practice_id)
        if percent_bp is not None:
            plan = PlatformFeePlan(PlatformFeeMode.PERCENT_PER_INVOICE, percent_bp=percent_bp)
        else:
            # The deployment's currency, as for the default subscription: a fixed USD made a EUR platform's fees USD.
            monthly = Money(monthly_minor or 0, currency or configuration.billing_currency)
            plan = PlatformFeePlan(PlatformFeeMode.MONTHLY_SUBSCRIPTION, monthly=monthly)
        with database(configuration) as settings:
            assert settings.database_url
            run_migrations(settings.database_url)
            asyncio.run(set_platform_fee(settings, target, plan))
    except (ValueError, DomainError) as exc:
        typer.echo(f"Not set: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Platform fee of practice {target} set: {plan.mode.value}.")


@practice_app.command("create-group")
def practice_create_group(
    name: str = typer.Option(..., "--name", help="The group practice's name (unique among group practices)"),
    admin_email: str = typer.Option(..., "--admin-email", help="Where the first admin's invitation goes"),
    admin_name: str = typer.Option(..., "--admin-name", help="How the invitation email greets the admin"),
) -> None:
    """Create a group practice and invite its first admin: prints the practice id and the invitation link, and
    emails the link. Safe to run again: the practice is found by name and a new link replaces the pending one."""
    from domain.shared.errors import DomainError

    try:
        with database(keyed(configured())) as settings:
            assert settings.database_url
            configure_cli_logging(settings)
            run_migrations(settings.database_url)
            result = asyncio.run(create_group_practice(settings, name, admin_email, admin_name))
            emailed = settings.email_backend != "console"
    except DomainError as exc:
        typer.echo(f"Not done: {exc.detail} ({exc.code})", err=True)
        raise typer.Exit(code=1) from None
    practice = result.practice
    typer.echo(f"Practice: {practice.id} ({practice.name}, {'created' if result.practice_created else 'existing'})")
    if result.issued is None:
        typer.echo(f"{admin_email} is an admin of this practice already; no invitation sent.")
        return
    invitation = result.issued.invitation
    typer.echo(f"Invitation for {invitation.email} (practice admin), valid until {invitation.expires_at.isoformat()}:")
    # The only copy of the token outside the email: it is stored hashed and cannot be shown again.
    typer.echo(f"Link: {result.issued.link}")
    if emailed:
        typer.echo(f"Emailed to {invitation.email}.")
    else:
        typer.echo("Not emailed (HEARTH_EMAIL_BACKEND=console logs emails only): pass the link on yourself.")


@audit_app.command("verify")
def audit_verify() -> None:
    """Re-walk the audit hash chain and report the first broken link."""
    with database(configured()) as settings:
        assert settings.database_url
        report = asyncio.run(verify_audit_chain(settings.database_url))
    if report.ok:
        typer.echo(f"Audit chain intact: {report.checked} events verified.")
        return
    typer.echo(
        f"Audit chain BROKEN at event {report.first_broken_seq}: {report.reason} "
        f"({report.checked} events verified before it).",
        err=True,
    )
    raise typer.Exit(code=1)


if __name__ == "__main__":
    app()
