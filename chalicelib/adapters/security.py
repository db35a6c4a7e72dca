"""Security primitives: signed tokens, password hashing, and encryption of personal data."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..domain.errors import NotAuthenticated
from ..domain.principal import Principal
from . import base64url

_ISSUER = "micromall"


class TokenService:
    """HS256 JWTs: verifying one needs no database read, so authentication is free of I/O."""

    def __init__(self, key: bytes, ttl_seconds: int) -> None:
        if len(key) < 32:
            raise ValueError("the token signing key must be at least 32 bytes")
        self._key = key
        self.ttl_seconds = ttl_seconds

    def issue(self, principal: Principal, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"iss": _ISSUER, "sub": principal.subject, "kind": principal.kind,
                  "roles": sorted(principal.roles), "iat": issued, "exp": issued + self.ttl_seconds,
                  "jti": secrets.token_hex(8)}
        if principal.openid:
            claims["wx"] = principal.openid
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], issuer=_ISSUER,
                                options={"require": ["exp", "iat", "sub", "iss"]})
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("the token has expired", code="TOKEN_EXPIRED") from None
        except jwt.PyJWTError:
            raise NotAuthenticated("the token is not valid", code="INVALID_TOKEN") from None
        kind, roles = claims.get("kind"), claims.get("roles", [])
        if kind not in ("customer", "staff") or not isinstance(roles, list):
            raise NotAuthenticated("the token is not valid", code="INVALID_TOKEN")
        openid = claims.get("wx")
        return Principal(subject=str(claims["sub"]), kind=kind, roles=frozenset(map(str, roles)),
                         openid=str(openid) if openid else None)


class PasswordHasher:
    """scrypt (memory-hard, in the standard library); parameters travel with each hash so they
    can be raised later without breaking stored ones."""

    def __init__(self, n: int = 2 ** 14, r: int = 8, p: int = 1) -> None:
        self.n, self.r, self.p = n, r, p

    def hash(self, password: str) -> str:
        salt = os.urandom(16)
        digest = hashlib.scrypt(password.encode(), salt=salt, n=self.n, r=self.r, p=self.p, dklen=32)
        return "scrypt${}${}${}${}${}".format(self.n, self.r, self.p, base64url.encode(salt), base64url.encode(digest))

    def verify(self, password: str, stored: str | None) -> bool:
        if stored is None:
            # Spend the same time for an unknown user, so timing does not reveal usernames.
            self.hash(password)
            return False
        try:
            _, n, r, p, salt, digest = stored.split("$")
            actual = hashlib.scrypt(password.encode(), salt=base64url.decode(salt), n=int(n), r=int(r), p=int(p),
                                    dklen=32)
        except ValueError:
            return False
        return hmac.compare_digest(actual, base64url.decode(digest))


class FieldCipher:
    """AES-256-GCM for personal data at rest, and a keyed hash to find records by phone
    without storing the number in the clear. Both keys are derived from one data key."""

    def __init__(self, data_key: bytes) -> None:
        self._aead = AESGCM(self._derive(data_key, b"micromall field encryption"))
        self._index_key = self._derive(data_key, b"micromall blind index")

    @staticmethod
    def _derive(key: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        return "v1." + base64url.encode(nonce + self._aead.encrypt(nonce, plaintext.encode(), None))

    def decrypt(self, token: str) -> str:
        raw = base64url.decode(token.removeprefix("v1."))
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

    def encrypt_json(self, value: object) -> str:
        return self.encrypt(json.dumps(value, ensure_ascii=False))

    def decrypt_json(self, token: str) -> object:
        return json.loads(self.decrypt(token))

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()[:32]

