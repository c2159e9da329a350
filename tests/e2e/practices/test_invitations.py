"""Staffing a group practice over the real API: the operator's admin invites, the invitee joins with the emailed
link, and only the practice's admins see or change its invitations."""

from __future__ import annotations

import asyncio
import hashlib

from tests.e2e.matching.conftest import answers
from tests.e2e.practices.conftest import (
    PUBLIC_URL,
    accept,
    group_practice,
    invite,
    joined,
    links_to,
    rows,
    token_of,
)
from tests.support.scheduling import publish_hours, publish_profile
from tests.support.users import relogin, signed_up


async def test_an_admin_invites_a_therapist_who_joins_and_is_assigned_from_the_queue(app, api, smtp, database_url):
    made = await app[0].state.container.invitations.create_group("Sunrise Therapy Group", "Pat@Example.com", "Pat")
    assert made.practice_created and made.issued is not None
    practice_id = str(made.practice.id)
    admin_link = made.issued.link
    assert links_to(smtp, "pat@example.com") == [admin_link], "the operator's link is the one emailed"
    kinds = await rows(database_url, "SELECT kind FROM practices WHERE id = $1", made.practice.id)
    assert [r["kind"] for r in kinds] == ["group"]

    preview = await api.get(f"/api/v1/invitations/{token_of(admin_link)}")
    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "practice_name": "Sunrise Therapy Group",
        "role": "practice_admin",
        "email": "pat@example.com",
    }
    admin = await joined(api, admin_link, "PAT@example.COM", display_name="Pat Admin")  # any letter case
    assert (admin.role, admin.practice_id) == ("practice_admin", practice_id)

    sent = await api.post(
        f"/api/v1/practices/{practice_id}/invitations",
        json={"email": "Sam.Okafor@example.com", "role": "therapist"},
        headers=admin.headers,
    )
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["email"] == "sam.okafor@example.com" and body["role"] == "therapist"
    assert body["status"] == "pending" and body["invited_by"] == admin.id
    [link] = links_to(smtp, "sam.okafor@example.com")
    assert token_of(link) not in sent.text, "the token travels only in the email"
    mail = smtp.received[-1].message
    assert mail["Subject"] == "Your invitation to Sunrise Therapy Group on Hearth"
    assert "Pat Admin invited you to join Sunrise Therapy Group on Hearth as a therapist" in mail.get_content()

    listed = await api.get(f"/api/v1/practices/{practice_id}/invitations", headers=admin.headers)
    assert listed.status_code == 200, listed.text
    assert [i["id"] for i in listed.json()["items"]] == [body["id"]]
    assert listed.json()["next_cursor"] is None

    stored = await rows(database_url, "SELECT token_hash FROM invitations WHERE id = $1::uuid", body["id"])
    assert stored[0]["token_hash"] == hashlib.sha256(token_of(link).encode()).hexdigest(), "kept only as a hash"

    therapist = await joined(api, link, "sam.okafor@example.com", display_name="Dr. Sam Okafor")
    assert (therapist.role, therapist.practice_id) == ("therapist", practice_id)
    me = (await api.get("/api/v1/me", headers=therapist.headers)).json()
    assert me["practice_id"] == practice_id and me["display_name"] == "Dr. Sam Okafor"
    after = await api.get(f"/api/v1/practices/{practice_id}/invitations", headers=admin.headers)
    assert after.json()["items"] == [], "an accepted invitation is no longer open"

    # What the admin is for: the joined therapist takes the practice's waiting clients.
    await publish_profile(api, therapist, display_name="Dr. Sam Okafor", licenses=["US-OH"], specialties=["grief"])
    await publish_hours(api, therapist)
    client = await signed_up(api, "client", display_name="Ann Waiting")
    intake = await api.post("/api/v1/intake", json=answers(), headers=client.headers)
    assert intake.status_code == 201, intake.text
    queued = await api.post(
        "/api/v1/matches", json={"mode": "queue", "practice_id": practice_id}, headers=client.headers
    )
    assert queued.status_code == 201, queued.text
    queue = await api.get(f"/api/v1/practices/{practice_id}/match-queue", headers=admin.headers)
    assert queue.status_code == 200, queue.text
    assert [i["client_name"] for i in queue.json()["items"]] == ["Ann Waiting"]
    plan = await api.post(f"/api/v1/practices/{practice_id}/match-queue/preview", headers=admin.headers)
    assert plan.status_code == 200, plan.text
    assert [p["therapist_id"] for p in plan.json()["placements"]] == [therapist.id]

    trail = await rows(
        database_url,
        "SELECT action, actor_id, actor_role FROM audit_events WHERE practice_id = $1"
        " AND action IN ('practice.create', 'invitation.create', 'invitation.accept', 'user.register') ORDER BY seq",
        made.practice.id,
    )
    by_action = [(r["action"], str(r["actor_id"]) if r["actor_id"] else None, r["actor_role"]) for r in trail]
    assert by_action == [
        ("practice.create", None, "operator"),
        ("invitation.create", None, "operator"),
        ("user.register", admin.id, "practice_admin"),
        ("invitation.accept", admin.id, "practice_admin"),
        ("invitation.create", admin.id, "practice_admin"),
        ("user.register", therapist.id, "therapist"),
        ("invitation.accept", therapist.id, "therapist"),
    ]


async def test_only_the_practices_admins_reach_its_invitations(app, api, smtp):
    group = await group_practice(app, api, "Harbor Group", "harbor-admin@example.com")
    other = await group_practice(app, api, "Lakeside Group", "lakeside-admin@example.com")
    sent = await invite(api, group, "newcomer@example.com")
    assert sent.status_code == 201, sent.text
    invitation_id = sent.json()["id"]
    therapist = await joined(api, links_to(smtp, "newcomer@example.com")[0], "newcomer@example.com")
    client = await signed_up(api, "client")
    base = f"/api/v1/practices/{group.practice_id}/invitations"
    calls = [
        ("GET", base, None),
        ("POST", base, {"email": "intruder@example.com", "role": "practice_admin"}),
        ("DELETE", f"{base}/{invitation_id}", None),
    ]
    for method, path, body in calls:
        foreign = await api.request(method, path, json=body, headers=other.admin.headers)
        assert foreign.status_code == 404 and foreign.json()["code"] == "not_found", (method, foreign.text)
        staff = await api.request(method, path, json=body, headers=therapist.headers)
        assert staff.status_code == 403 and staff.json()["code"] == "forbidden", (method, staff.text)
        outsider = await api.request(method, path, json=body, headers=client.headers)
        assert outsider.status_code == 403, (method, outsider.text)
        anonymous = await api.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, anonymous.text)
    # Its own practice in the path does not let an admin touch another practice's invitation either.
    crossed = await api.delete(
        f"/api/v1/practices/{other.practice_id}/invitations/{invitation_id}", headers=other.admin.headers
    )
    assert crossed.status_code == 404, crossed.text
    assert links_to(smtp, "intruder@example.com") == [], "nobody outside the practice got to send an invitation"


async def test_two_accepts_of_one_link_make_one_account(app, api, smtp, database_url):
    group = await group_practice(app, api, "Racing Group", "racing-admin@example.com")
    assert (await invite(api, group, "twice@example.com")).status_code == 201
    [link] = links_to(smtp, "twice@example.com")
    answers_ = await asyncio.gather(
        *(accept(api, link, "twice@example.com", display_name=f"Attempt {n}") for n in range(4))
    )
    statuses = sorted(a.status_code for a in answers_)
    assert statuses == [201, 410, 410, 410], [a.text for a in answers_]
    assert {a.json()["code"] for a in answers_ if a.status_code == 410} == {"invitation_used"}
    accounts = await rows(database_url, "SELECT id FROM users WHERE email = 'twice@example.com'")
    assert len(accounts) == 1
    again = await accept(api, link, "twice@example.com")
    assert again.status_code == 410 and again.json()["code"] == "invitation_used"
    assert (await api.get(f"/api/v1/invitations/{token_of(link)}")).json()["code"] == "invitation_used"


async def test_a_link_expires_after_seven_days_and_a_new_invitation_replaces_it(app, api, smtp, clock):
    group = await group_practice(app, api, "Slow Group", "slow-admin@example.com")
    assert (await invite(api, group, "late@example.com")).status_code == 201
    [first] = links_to(smtp, "late@example.com")

    clock.advance(days=6, hours=23, minutes=59)
    assert (await api.get(f"/api/v1/invitations/{token_of(first)}")).status_code == 200
    clock.advance(minutes=1)
    expired = await api.get(f"/api/v1/invitations/{token_of(first)}")
    assert expired.status_code == 410 and expired.json()["code"] == "invitation_expired"
    refused = await accept(api, first, "late@example.com")
    assert refused.status_code == 410 and refused.json()["code"] == "invitation_expired"
    await relogin(api, group.admin)  # the fake clock left the access token far behind
    listed = await api.get(f"/api/v1/practices/{group.practice_id}/invitations", headers=group.admin.headers)
    assert [i["status"] for i in listed.json()["items"]] == ["expired"], "the admin sees whom to invite again"

    assert (await invite(api, group, "late@example.com")).status_code == 201
    first_again, second = links_to(smtp, "late@example.com")
    assert first_again == first and second != first
    replaced = await api.get(f"/api/v1/invitations/{token_of(first)}")
    assert replaced.status_code == 410 and replaced.json()["code"] == "invitation_revoked"
    assert (await accept(api, second, "late@example.com")).status_code == 201
    listed = await api.get(f"/api/v1/practices/{group.practice_id}/invitations", headers=group.admin.headers)
    assert listed.json()["items"] == []


async def test_the_invited_email_must_be_the_one_used(app, api, smtp):
    group = await group_practice(app, api, "Careful Group", "careful-admin@example.com")
    assert (await invite(api, group, "invited@example.com", role="practice_admin")).status_code == 201
    [link] = links_to(smtp, "invited@example.com")
    wrong = await accept(api, link, "someone-else@example.com")
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["code"] == "invitation_email_mismatch"
    assert wrong.json()["errors"][0]["loc"] == ["body", "email"]
    weak = await accept(api, link, "invited@example.com", password="password1234")
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    admin = await joined(api, link, "invited@example.com")
    assert (admin.role, admin.practice_id) == ("practice_admin", group.practice_id), "a refused try spends nothing"


async def test_unknown_links_and_taken_addresses(app, api, smtp):
    group = await group_practice(app, api, "Tidy Group", "tidy-admin@example.com")
    unknown = await api.get("/api/v1/invitations/not-a-real-token")
    assert unknown.status_code == 404 and unknown.json()["code"] == "invitation_not_found"
    unknown_accept = await accept(api, f"{PUBLIC_URL}/join?invitation=not-a-real-token", "x@example.com")
    assert unknown_accept.status_code == 404 and unknown_accept.json()["code"] == "invitation_not_found"

    client = await signed_up(api, "client")
    taken = await invite(api, group, client.email.upper())
    assert taken.status_code == 409 and taken.json()["code"] == "email_taken"
    assert links_to(smtp, client.email) == [], "no email for an address that cannot join"

    # An address that registered on its own after it was invited cannot take the invitation any more.
    assert (await invite(api, group, "hasty@example.com")).status_code == 201
    [link] = links_to(smtp, "hasty@example.com")
    await signed_up(api, "client", email="hasty@example.com")
    late = await accept(api, link, "hasty@example.com")
    assert late.status_code == 409 and late.json()["code"] == "email_taken"

    clients_cannot_be_invited = await invite(api, group, "client-to-be@example.com", role="client")
    assert clients_cannot_be_invited.status_code == 422


async def test_a_withdrawn_invitation_stops_working(app, api, smtp, database_url):
    group = await group_practice(app, api, "Changing Group", "changing-admin@example.com")
    sent = await invite(api, group, "maybe@example.com")
    [link] = links_to(smtp, "maybe@example.com")
    path = f"/api/v1/practices/{group.practice_id}/invitations/{sent.json()['id']}"
    assert (await api.delete(path, headers=group.admin.headers)).status_code == 204
    trail = await rows(database_url, "SELECT actor_id, object_id FROM audit_events WHERE action = 'invitation.revoke'")
    assert [(str(r["actor_id"]), r["object_id"]) for r in trail] == [(group.admin.id, sent.json()["id"])]
    gone = await accept(api, link, "maybe@example.com")
    assert gone.status_code == 410 and gone.json()["code"] == "invitation_revoked"
    assert (await api.delete(path, headers=group.admin.headers)).status_code == 404
    listed = await api.get(f"/api/v1/practices/{group.practice_id}/invitations", headers=group.admin.headers)
    assert listed.json()["items"] == []

    used = await invite(api, group, "keen@example.com")
    await joined(api, links_to(smtp, "keen@example.com")[0], "keen@example.com")
    used_path = f"/api/v1/practices/{group.practice_id}/invitations/{used.json()['id']}"
    refused = await api.delete(used_path, headers=group.admin.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "invitation_used"


async def test_the_open_invitations_come_in_pages(app, api, clock):
    group = await group_practice(app, api, "Busy Group", "busy-admin@example.com")
    sent = []
    for n in range(3):
        clock.advance(minutes=1)
        response = await invite(api, group, f"candidate-{n}@example.com")
        assert response.status_code == 201, response.text
        sent.append(response.json()["id"])
    path = f"/api/v1/practices/{group.practice_id}/invitations"
    first = (await api.get(path, params={"limit": 2}, headers=group.admin.headers)).json()
    assert [i["id"] for i in first["items"]] == [sent[2], sent[1]], "newest first"
    rest = await api.get(path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=group.admin.headers)
    assert [i["id"] for i in rest.json()["items"]] == [sent[0]] and rest.json()["next_cursor"] is None


async def test_an_idempotency_key_sends_one_email(app, api, smtp):
    group = await group_practice(app, api, "Retry Group", "retry-admin@example.com")
    first = await invite(api, group, "once@example.com", **{"Idempotency-Key": "invite-once"})
    again = await invite(api, group, "once@example.com", **{"Idempotency-Key": "invite-once"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert len(links_to(smtp, "once@example.com")) == 1
    other = await invite(api, group, "twice@example.com", **{"Idempotency-Key": "invite-once"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_an_email_the_server_refuses_saves_nothing(app, api, smtp):
    group = await group_practice(app, api, "Unlucky Group", "unlucky-admin@example.com")
    assert (await invite(api, group, "first-try@example.com")).status_code == 201
    [working] = links_to(smtp, "first-try@example.com")

    smtp.collector.rcpt_reply = "550 5.1.1 No such mailbox"
    refused = await invite(api, group, "nobody@example.com")
    assert refused.status_code == 422 and refused.json()["code"] == "email_refused"
    smtp.collector.rcpt_reply = "451 4.3.0 Try again later"
    later = await invite(api, group, "first-try@example.com")
    assert later.status_code == 503 and later.json()["code"] == "email_unavailable"
    smtp.collector.rcpt_reply = None

    listed = await api.get(f"/api/v1/practices/{group.practice_id}/invitations", headers=group.admin.headers)
    assert [i["email"] for i in listed.json()["items"]] == ["first-try@example.com"]
    assert (await api.get(f"/api/v1/invitations/{token_of(working)}")).status_code == 200, (
        "a resend that failed leaves the earlier link working"
    )
