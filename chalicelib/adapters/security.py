"""Security primitives: signed tokens, password hashing, and encryption of personal data."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Callable, Sequence

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..domain.error_codes import ErrorCode
from ..domain.errors import NotAuthenticated
from ..domain.principal import Principal
from . import base64url

_ISSUER = "micromall"
_CLOCK_SKEW = 60


def key_id(key: bytes) -> str:
    """A key's name in a token's `kid` header: a digest, so it says nothing of the key."""
    return hashlib.sha256(b"micromall token key id" + key).hexdigest()[:12]


class TokenService:
    """HS256 JWTs: verifying one needs no database read (a staff token's account is checked
    beside it, see service_layer.auth.authenticate). The keys come from `keys` (the current one
    first, then the previous one), asked again on each use: the provider caches them for a few
    minutes, so a rotated key signs within minutes and tokens of the previous key stay valid
    until they expire. Each token names its key (`kid`)."""

    def __init__(self, keys: bytes | Callable[[], Sequence[bytes]], ttl_seconds: int) -> None:
        if isinstance(keys, bytes):
            fixed = [keys]
            self._check(fixed)
            self._keys: Callable[[], Sequence[bytes]] = lambda: fixed
        else:
            self._keys = keys
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def _check(keys: Sequence[bytes]) -> Sequence[bytes]:
        if not keys or any(len(k) < 32 for k in keys):
            raise ValueError("the token signing key must be at least 32 bytes")
        return keys

    def issue(self, principal: Principal, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"iss": _ISSUER, "sub": principal.subject, "kind": principal.kind,
                  "roles": sorted(principal.roles), "iat": issued, "exp": issued + self.ttl_seconds,
                  "jti": secrets.token_hex(8)}
        if principal.openid:
            claims["wx"] = principal.openid
        if principal.generation is not None:
            claims["gen"] = principal.generation
        key = self._check(self._keys())[0]
        return jwt.encode(claims, key, algorithm="HS256", headers={"kid": key_id(key)})

    def _key_for(self, token: str) -> bytes:
        keys = self._check(self._keys())
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise NotAuthenticated("the token is not valid", code=ErrorCode.INVALID_TOKEN) from None
        if kid is None:                   # issued before tokens named their key
            return keys[0]
        found = next((k for k in keys if key_id(k) == kid), None)
        if found is None:
            raise NotAuthenticated("the token is not valid", code=ErrorCode.INVALID_TOKEN)
        return found

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._key_for(token), algorithms=["HS256"], issuer=_ISSUER,
                                options={"require": ["exp", "iat", "sub", "iss"]})
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("the token has expired", code=ErrorCode.TOKEN_EXPIRED) from None
        except jwt.PyJWTError:
            raise NotAuthenticated("the token is not valid", code=ErrorCode.INVALID_TOKEN) from None
        issued, expires = claims.get("iat"), claims.get("exp")
        if not isinstance(issued, int) or not isinstance(expires, int) or issued > time.time() + _CLOCK_SKEW \
                or expires - issued > self.ttl_seconds + _CLOCK_SKEW:
            # Never longer-lived than we issue: a leaked key (the previous one after a rotation
            # too) cannot mint tokens that outlive the next rotation by more than one lifetime.
            raise NotAuthenticated("the token is not valid", code=ErrorCode.INVALID_TOKEN)
        kind, roles, generation = claims.get("kind"), claims.get("roles", []), claims.get("gen")
        if kind not in ("customer", "staff") or not isinstance(roles, list) \
                or not (generation is None or (isinstance(generation, int) and not isinstance(generation, bool))):
            raise NotAuthenticated("the token is not valid", code=ErrorCode.INVALID_TOKEN)
        openid, jti, exp = claims.get("wx"), claims.get("jti"), claims.get("exp")
        return Principal(subject=str(claims["sub"]), kind=kind, roles=frozenset(map(str, roles)),
                         openid=str(openid) if openid else None, generation=generation,
                         token_id=str(jti) if jti else None, token_expires=int(exp))


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

