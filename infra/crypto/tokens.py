"""Access tokens: PyJWT with one pinned asymmetric algorithm (EdDSA / Ed25519), keys by `kid`.

Decoding pins the algorithm and requires exp/iat/iss/aud/sub, so `alg: none`, HS256 signed
with the public key, a foreign audience or a token without expiry are all refused.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.identity.model import User
from domain.identity.ports import IssuedAccessToken
from domain.shared.errors import AuthenticationFailed
from domain.shared.ports import Clock
from domain.shared.principal import Principal, Role

ALGORITHM = "EdDSA"
TOKEN_TYPE = "access"
LEEWAY_SECONDS = 5
VERIFIED_CACHE_SIZE = 10_000


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class KeyFileError(ValueError):
    """A key file is missing, unreadable or not an Ed25519 key: one line naming the file, never key material."""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read(path)
    wrong = KeyFileError(f"{path} is not an unencrypted Ed25519 private key in PEM form")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise wrong from None
    if not isinstance(key, Ed25519PrivateKey):
        raise wrong
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = _read(path)
    wrong = KeyFileError(f"{path} is not an Ed25519 key in PEM form")
    try:
        key = (
            serialization.load_pem_private_key(data, password=None).public_key()
            if b"PRIVATE KEY" in data
            else serialization.load_pem_public_key(data)
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise wrong from None
    if not isinstance(key, Ed25519PublicKey):
        raise wrong
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    pkcs8 = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())


def ensure_dev_key(path: Path) -> Ed25519PrivateKey:
    """Development only: make a signing key on first run and keep it in the data directory."""
    if path.exists():
        return load_private_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_key_pem(key))
    return key


@dataclass(frozen=True)
class JwtConfig:
    issuer: str
    audience: str
    lifetime: timedelta


class JwtAccessTokens:
    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        config: JwtConfig,
        clock: Clock,
        extra_verification_keys: list[Ed25519PublicKey] | None = None,
        kid: str | None = None,
    ) -> None:
        self._signing_key = signing_key
        self._kid = kid or key_id(signing_key.public_key())
        self._config = config
        self._clock = clock
        self._keys = {self._kid: signing_key.public_key()}
        self._verified: OrderedDict[str, tuple[Principal, int]] = OrderedDict()
        for extra in extra_verification_keys or []:
            self._keys[key_id(extra)] = extra

    def issue(self, user: User, practice_id: uuid.UUID | None, session_id: uuid.UUID) -> IssuedAccessToken:
        now = self._clock.now()
        exp = now + self._config.lifetime
        claims = {
            "iss": self._config.issuer,
            "aud": self._config.audience,
            "sub": str(user.id),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(exp.timestamp()),
            "jti": uuid.uuid4().hex,
            "typ": TOKEN_TYPE,
            "role": str(user.role),
            "pid": str(practice_id) if practice_id else None,
            "sid": str(session_id),
        }
        token = jwt.encode(claims, self._signing_key, algorithm=ALGORITHM, headers={"kid": self._kid})
        return IssuedAccessToken(token=token, expires_in=int(self._config.lifetime.total_seconds()))

    def verify(self, token: str) -> Principal:
        # A token verified once is cached until it expires: the signature check is the costliest part of
        # most requests, and a cached entry is keyed by the whole token, signature included.
        cached = self._verified.get(token)
        if cached is not None:
            principal, exp = cached
            if exp > self._clock.now().timestamp() - LEEWAY_SECONDS:
                self._verified.move_to_end(token)
                return principal
            self._verified.pop(token, None)
            raise AuthenticationFailed("The access token has expired.", code="token_expired")
        principal, exp = self._verify_uncached(token)
        self._verified[token] = (principal, exp)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def _verify_uncached(self, token: str) -> tuple[Principal, int]:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(str(header.get("kid")))
            if key is None or header.get("alg") != ALGORITHM:
                raise AuthenticationFailed("The access token is not valid.", code="invalid_token")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._config.audience,
                issuer=self._config.issuer,
                # Time claims are checked below against the Clock port, so tests can move time.
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            if claims.get("typ") != TOKEN_TYPE:
                raise AuthenticationFailed("The access token is not valid.", code="invalid_token")
            now = self._clock.now().timestamp()
            if int(claims["iat"]) > now + LEEWAY_SECONDS:
                raise AuthenticationFailed("The access token is not valid.", code="invalid_token")
            if int(claims["exp"]) <= now - LEEWAY_SECONDS:
                raise AuthenticationFailed("The access token has expired.", code="token_expired")
            principal = Principal(
                user_id=uuid.UUID(claims["sub"]),
                role=Role(claims["role"]),
                practice_id=uuid.UUID(claims["pid"]) if claims.get("pid") else None,
                session_id=uuid.UUID(claims["sid"]) if claims.get("sid") else None,
            )
            return principal, int(claims["exp"])
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            raise AuthenticationFailed("The access token is not valid.", code="invalid_token") from None
