from __future__ import annotations

from tests.support.users import login, register, signed_up


async def test_therapist_registers_logs_in_and_sees_themself(api):
    user = await register(api, "therapist", display_name="Dana Reyes")
    assert user["practice_id"], "an independent therapist gets their own practice"
    tokens = (await login(api, user["email"])).json()
    assert tokens["token_type"] == "bearer" and 0 < tokens["expires_in"] <= 600
    me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {**user, "phone": None}


async def test_client_has_no_practice_until_care_starts(api):
    client = await signed_up(api, "client")
    me = (await api.get("/api/v1/me", headers=client.headers)).json()
    assert me["role"] == "client" and me["practice_id"] is None


async def test_both_routes_that_set_my_phone_apply_one_rule(api):
    user = await signed_up(api, "client")
    typed = {"display_name": "Sam", "timezone": "Europe/London", "phone": "+1 (415) 555-0123"}
    saved = await api.put("/api/v1/me", json=typed, headers=user.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["phone"] == "+14155550123"
    assert (await api.get("/api/v1/me/phone", headers=user.headers)).json()["phone"] == "+14155550123"
    for route, body in (("/api/v1/me", {**typed, "phone": "555"}), ("/api/v1/me/phone", {"phone": "555"})):
        refused = await api.put(route, json=body, headers=user.headers)
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_phone", route
