from __future__ import annotations

import os
import time

import jwt
import pytest

from chalicelib.adapters.security import FieldCipher, PasswordHasher, TokenService
from chalicelib.domain.principal import Principal
from chalicelib.domain.errors import NotAuthenticated

KEY = os.urandom(32)


def test_tokens_round_trip_the_principal() -> None:
    tokens = TokenService(KEY, 60)
    p = tokens.verify(tokens.issue(Principal("alice", "staff", frozenset({"finance"}))))
    assert p == Principal("alice", "staff", frozenset({"finance"}))


def test_tampered_token_is_refused() -> None:
    tokens = TokenService(KEY, 60)
    token = tokens.issue(Principal("U1", "customer"))
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "kind": "staff", "roles": ["admin"]}, os.urandom(32), algorithm="HS256")
    header, payload, signature = token.split(".")
    altered = ".".join([header, forged.split(".")[1], signature])
    for bad in (forged, altered, token[:-2] + "xx", "not-a-token"):
        with pytest.raises(NotAuthenticated):
            tokens.verify(bad)


def test_none_algorithm_is_refused() -> None:
    unsigned = jwt.encode({"sub": "x", "kind": "staff", "roles": ["admin"], "iss": "micromall",
                           "iat": int(time.time()), "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(NotAuthenticated):
        TokenService(KEY, 60).verify(unsigned)


def test_expired_token_is_refused() -> None:
    tokens = TokenService(KEY, 60)
    token = tokens.issue(Principal("U1", "customer"), now=time.time() - 120)
    with pytest.raises(NotAuthenticated) as e:
        tokens.verify(token)
    assert e.value.code == "TOKEN_EXPIRED"


def test_short_signing_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenService(b"short", 60)


def test_passwords_are_salted_slow_hashes() -> None:
    hasher = PasswordHasher()
    first, second = hasher.hash("correct horse"), hasher.hash("correct horse")
    assert first != second and first.startswith("scrypt$16384$") and "correct" not in first
    assert hasher.verify("correct horse", first)
    assert not hasher.verify("wrong horse", first)
    assert not hasher.verify("anything", None)


def test_personal_data_is_encrypted_and_indexed_without_the_clear_text() -> None:
    cipher = FieldCipher(KEY)
    sealed = cipher.encrypt("13800138000")
    assert "13800138000" not in sealed and sealed != cipher.encrypt("13800138000")
    assert cipher.decrypt(sealed) == "13800138000"
    assert cipher.blind_index("13800138000") == cipher.blind_index("13800138000")
    assert cipher.blind_index("13800138000") != FieldCipher(os.urandom(32)).blind_index("13800138000")
    with pytest.raises(Exception):
        FieldCipher(os.urandom(32)).decrypt(sealed)
