"""Every kind of bad token gets 401 problem+json, never a 500 and never access."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infra.crypto.tokens import key_id, load_private_key
from tests.support.users import signed_up


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _server_key(settings) -> Ed25519PrivateKey:
    return load_private_key(settings.data_dir / "keys" / "jwt-ed25519.pem")


def _claims(user_id: str, **overrides) -> dict:
    now = int(time.time())
    return {
        "iss": "hearth",
        "aud": "hearth-api",
        "sub": user_id,
        "iat": now,
        "exp": now + 300,
        "typ": "access",
        "role": "therapist",
        "pid": None,
        "sid": str(uuid.uuid4()),
        **overrides,
    }


async def _me(api, token: str):
    return await api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def _assert_401(response):
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["code"] in {"invalid_token", "token_expired"}
    return body


async def test_a_valid_token_is_accepted(api, settings):
    user = await signed_up(api)
    key = _server_key(settings)
    token = jwt.encode(_claims(user.id), key, algorithm="EdDSA", headers={"kid": key_id(key.public_key())})
    assert (await _me(api, token)).status_code == 200


async def test_expired_token(api, settings):
    user = await signed_up(api)
    key = _server_key(settings)
    now = int(time.time())
    token = jwt.encode(
        _claims(user.id, iat=now - 1200, exp=now - 600),
        key,
        algorithm="EdDSA",
        headers={"kid": key_id(key.public_key())},
    )
    assert _assert_401(await _me(api, token))["code"] == "token_expired"


async def test_wrong_signature(api):
    user = await signed_up(api)
    other = Ed25519PrivateKey.generate()
    # Same kid as the server's key, different key material.
    header = jwt.get_unverified_header(user.access_token)
    token = jwt.encode(_claims(user.id), other, algorithm="EdDSA", headers={"kid": header["kid"]})
    _assert_401(await _me(api, token))


async def test_alg_none(api):
    user = await signed_up(api)
    header = jwt.get_unverified_header(user.access_token)
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}.{_b64(_claims(user.id))}."
    _assert_401(await _me(api, token))


async def test_hs256_signed_with_the_public_key(api, settings):
    user = await signed_up(api)
    public = _server_key(settings).public_key()
    secret_variants = [
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    ]
    kid = key_id(public)
    for secret in secret_variants:
        header = _b64({"alg": "HS256", "typ": "JWT", "kid": kid})
        payload = _b64(_claims(user.id))
        import hashlib
        import hmac

        sig = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        token = f"{header}.{payload}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"
        _assert_401(await _me(api, token))


async def test_wrong_audience_and_issuer(api, settings):
    user = await signed_up(api)
    key = _server_key(settings)
    kid = key_id(key.public_key())
    for override in ({"aud": "someone-else"}, {"iss": "evil"}):
        token = jwt.encode(_claims(user.id, **override), key, algorithm="EdDSA", headers={"kid": kid})
        _assert_401(await _me(api, token))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud", "iss"])
async def test_required_claims(api, settings, missing):
    user = await signed_up(api)
    key = _server_key(settings)
    claims = _claims(user.id)
    del claims[missing]
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": key_id(key.public_key())})
    _assert_401(await _me(api, token))


async def test_refresh_token_used_as_access_token(api):
    user = await signed_up(api)
    _assert_401(await _me(api, user.refresh_token))


async def test_garbage_and_malformed_headers(api):
    for header in ("Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer " + "a" * 5000):
        response = await api.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, (header, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_kid(api, settings):
    user = await signed_up(api)
    key = _server_key(settings)
    token = jwt.encode(_claims(user.id), key, algorithm="EdDSA", headers={"kid": "0000000000000000"})
    _assert_401(await _me(api, token))
