"""Issue 19 (3, 4): the staff login throttle counts per account and client address and per
address, so a stranger elsewhere cannot lock the owner out and one address cannot spray
passwords; staff accounts are listed and changed, and a change, a password change or a logout
ends the tokens already issued at once; signing keys rotate without restarting anything."""
from __future__ import annotations

import base64
import json
import os
import time
from typing import Any, Callable

import jwt
import pytest
from chalice import local

from chalicelib import bootstrap, config
from chalicelib.adapters.security import key_id
from chalicelib.adapters.tables import AuditRecord, LoginThrottleRecord, RevokedTokenRecord, StaffRecord
from chalicelib.domain.errors import Conflict
from chalicelib.domain.principal import Principal
from chalicelib.domain.staff import StaffChanges
from chalicelib.service_layer import auth
from chalicelib.service_layer.context import Actor

from .conftest import Api

PASSWORD = "the-right-password"


@pytest.fixture
def from_address(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Requests from now on come from this client address (API Gateway's identity.sourceIp)."""
    def move(address: str) -> None:
        monkeypatch.setattr(local.LambdaEventConverter, "LOCAL_SOURCE_IP", address)
    return move


def login(anonymous: Api, username: str, password: str = PASSWORD) -> Any:
    return anonymous.post("/auth/staff/login", {"username": username, "password": password})


def account(admin: Api, username: str, *roles: str) -> None:
    r = admin.post("/admin/staff", {"username": username, "password": PASSWORD, "roles": list(roles)})
    assert r.status_code == 201, r.json_body


def token_of(anonymous: Api, username: str, password: str = PASSWORD) -> Api:
    r = login(anonymous, username, password)
    assert r.status_code == 200, r.json_body
    return Api(anonymous.client, r.json_body["token"])


# ------------------------------------------------------------------ the throttle

def test_a_strangers_failures_elsewhere_never_lock_the_owner_out(admin: Api, anonymous: Api, from_address) -> None:  # type: ignore[no-untyped-def]
    account(admin, "gate-1", "scanner")
    from_address("203.0.113.7")
    for _ in range(5):
        r = login(anonymous, "gate-1", "a-wrong-password")
        assert r.status_code == 401 and r.json_body["code"] == "INVALID_CREDENTIALS"
    locked = login(anonymous, "gate-1")                      # even the right password, from there
    assert locked.status_code == 429 and locked.json_body["code"] == "TOO_MANY_ATTEMPTS"
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    from_address("198.51.100.20")                             # the gate itself
    assert login(anonymous, "gate-1").status_code == 200
    from_address("2001:db8:1:2::99")                          # and from an IPv6 network
    assert login(anonymous, "gate-1").status_code == 200


def test_one_address_cannot_spray_passwords_across_accounts(admin: Api, anonymous: Api, from_address) -> None:  # type: ignore[no-untyped-def]
    account(admin, "cashier", "finance")
    from_address("203.0.113.50")
    for n in range(20):                                       # a few guesses at each of many names
        assert login(anonymous, f"user{n // 2}", "Password123").status_code == 401
    refused = login(anonymous, "cashier")
    assert refused.status_code == 429 and refused.json_body["code"] == "TOO_MANY_ATTEMPTS"
    from_address("2001:db8:aa:bb::1")
    for n in range(20):
        assert login(anonymous, f"admin{n}", "Password123").status_code == 401
    from_address("2001:db8:aa:bb::2")                         # the same /64: the same address
    assert login(anonymous, "cashier").status_code == 429
    from_address("198.51.100.21")
    assert login(anonymous, "cashier").status_code == 200


def test_right_passwords_do_not_count_against_an_address(admin: Api, anonymous: Api, from_address) -> None:  # type: ignore[no-untyped-def]
    """An office of many staff behind one address logs in all day; only failures count."""
    account(admin, "office", "support")
    from_address("198.51.100.30")
    for _ in range(4):
        assert login(anonymous, "office", "a-wrong-password").status_code == 401
    for _ in range(25):
        assert login(anonymous, "office").status_code == 200
    for _ in range(4):                                        # the pair's count started again
        assert login(anonymous, "office", "a-wrong-password").status_code == 401
    assert login(anonymous, "office").status_code == 200


def test_throttle_and_audit_records_of_made_up_names_expire(anonymous: Api, from_address) -> None:  # type: ignore[no-untyped-def]
    from_address("203.0.113.60")
    before = time.time()
    for n in range(6):
        login(anonymous, f"ghost-{n}-my-Secret-Password", "whatever-pw")
    records = list(LoginThrottleRecord.scan())
    assert len(records) == 7                                  # a pair per name and the address
    for r in records:
        assert r.expires is not None and before < r.expires.timestamp() <= time.time() + 900
    entries = [r for r in AuditRecord.query(time.strftime("%Y-%m-%d", time.gmtime()))
               if r.action == "login_failed"]
    assert len(entries) == 6 and {e.actor for e in entries} == {"(unknown)"}
    for e in entries:
        assert e.expires is not None and e.expires.timestamp() <= time.time() + 91 * 86400
        assert "Secret" not in str(e.attribute_values) and '"attempted": "hmac:' in e.details


# ------------------------------------------------------------------ the list and changes

def test_admins_and_auditors_list_the_accounts(admin: Api, staff, anonymous: Api) -> None:  # type: ignore[no-untyped-def]
    for name in ("aaa-clerk", "bbb-clerk", "ccc-clerk"):
        account(admin, name, "support")
    token_of(anonymous, "bbb-clerk")
    listed = staff("auditor", username="zz-auditor").get("/admin/staff").json_body
    rows = {r["username"]: r for r in listed["items"]}
    assert {"aaa-clerk", "bbb-clerk", "ccc-clerk", "boss", "zz-auditor"} <= set(rows)
    assert rows["bbb-clerk"]["roles"] == ["support"] and rows["bbb-clerk"]["disabled"] is False
    assert rows["bbb-clerk"]["created_at"].endswith("+08:00") and rows["bbb-clerk"]["last_login_at"]
    assert rows["aaa-clerk"]["last_login_at"] is None
    first = admin.get("/admin/staff?limit=2").json_body
    second = admin.get(f"/admin/staff?limit=2&cursor={first['next']}").json_body
    assert [r["username"] for r in first["items"] + second["items"]] == sorted(rows)[:4]
    assert staff("finance").get("/admin/staff").status_code == 403
    assert admin.get("/admin/staff?cursor=garbage").status_code == 400


def test_a_disabled_accounts_tokens_stop_at_once(admin: Api, anonymous: Api) -> None:
    account(admin, "clerk", "support")
    clerk = token_of(anonymous, "clerk")
    assert clerk.get("/admin/orders").status_code == 200
    r = admin.patch("/admin/staff/clerk", {"disabled": True})
    assert r.status_code == 200 and r.json_body["disabled"] is True and r.json_body["roles"] == ["support"]
    assert clerk.get("/admin/orders").status_code == 401
    refused = login(anonymous, "clerk")
    assert refused.status_code == 401 and refused.json_body["code"] == "INVALID_CREDENTIALS"
    assert admin.patch("/admin/staff/clerk", {"disabled": False}).status_code == 200
    assert clerk.get("/admin/orders").status_code == 401      # enabling again does not revive old tokens
    assert token_of(anonymous, "clerk").get("/admin/orders").status_code == 200
    actions = {(r.actor, r.action, r.target) for r in AuditRecord.query(time.strftime("%Y-%m-%d", time.gmtime()))}
    assert ("boss", "staff_changed", "clerk") in actions


def test_a_role_change_ends_the_tokens_issued_with_the_old_roles(admin: Api, anonymous: Api) -> None:
    account(admin, "clerk", "support")
    clerk = token_of(anonymous, "clerk")
    r = admin.patch("/admin/staff/clerk", {"roles": ["scanner"]})
    assert r.status_code == 200 and r.json_body["roles"] == ["scanner"]
    assert clerk.get("/admin/orders").status_code == 401
    again = token_of(anonymous, "clerk")
    assert again.get("/admin/orders").status_code == 403 and again.get("/admin/alerts").status_code == 200


def test_an_admin_set_password_ends_the_old_tokens_and_the_old_password(admin: Api, anonymous: Api) -> None:
    account(admin, "clerk", "support")
    clerk = token_of(anonymous, "clerk")
    assert admin.patch("/admin/staff/clerk", {"password": "a-brand-new-password"}).status_code == 200
    assert clerk.get("/admin/orders").status_code == 401
    assert login(anonymous, "clerk").status_code == 401
    assert login(anonymous, "clerk", "a-brand-new-password").status_code == 200
    assert "a-brand-new-password" not in str(StaffRecord.get("clerk").attribute_values)


def test_changes_are_validated_and_unknown_accounts_are_404(admin: Api, staff) -> None:  # type: ignore[no-untyped-def]
    account(admin, "clerk", "support")
    for body in ({}, {"roles": []}, {"roles": ["king"]}, {"disabled": "yes"}, {"password": "short"},
                 {"roles": None}, {"username": "other"}, [], {"disabled": True, "password": None}):
        r = admin.patch("/admin/staff/clerk", body)
        assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR", body
    r = admin.patch("/admin/staff/nobody", {"disabled": True})
    assert r.status_code == 404 and r.json_body["code"] == "STAFF_NOT_FOUND"
    assert admin.patch("/admin/staff/" + "x" * 300, {"disabled": True}).status_code == 404
    assert staff("auditor").patch("/admin/staff/clerk", {"disabled": True}).status_code == 403


def test_an_admin_cannot_lock_out_the_last_admin(admin: Api, anonymous: Api) -> None:
    for body in ({"disabled": True}, {"roles": ["finance"]}):
        r = admin.patch("/admin/staff/boss", body)
        assert r.status_code == 409 and r.json_body["code"] == "LAST_ADMIN", body
    assert admin.get("/admin/staff").status_code == 200       # still an admin, token and all
    # Two admins taking each other's admin at once (each past the authorizer): the second is refused.
    account(admin, "deputy", "admin")
    assert admin.patch("/admin/staff/deputy", {"disabled": True}).status_code == 200
    deputy = Actor(Principal("deputy", "staff", frozenset({"admin"})))
    with pytest.raises(Conflict) as refused:
        auth.change_staff(bootstrap.context(), deputy, "boss", StaffChanges(disabled=True))
    assert refused.value.code == "LAST_ADMIN"
    assert StaffRecord.get("boss").disabled is False


# ------------------------------------------------------------------ the caller's own token

def test_a_changed_own_password_ends_every_other_token(admin: Api, anonymous: Api) -> None:
    account(admin, "clerk", "support")
    laptop, phone = token_of(anonymous, "clerk"), token_of(anonymous, "clerk")
    wrong = laptop.post("/auth/staff/password", {"old_password": "not-it-at-all", "new_password": "a-new-password"})
    assert wrong.status_code == 422 and wrong.json_body["code"] == "WRONG_PASSWORD"
    for body in ({"old_password": PASSWORD}, {"old_password": PASSWORD, "new_password": "short"},
                 {"old_password": PASSWORD, "new_password": PASSWORD}, {"old_password": 1, "new_password": "x" * 12}):
        assert laptop.post("/auth/staff/password", body).status_code == 400, body
    r = laptop.post("/auth/staff/password", {"old_password": PASSWORD, "new_password": "a-new-password"})
    assert r.status_code == 200 and r.json_body["roles"] == ["support"] and r.headers["Cache-Control"] == "no-store"
    fresh = Api(anonymous.client, r.json_body["token"])
    assert phone.get("/admin/orders").status_code == 401 and laptop.get("/admin/orders").status_code == 401
    assert fresh.get("/admin/orders").status_code == 200
    assert login(anonymous, "clerk").status_code == 401
    assert login(anonymous, "clerk", "a-new-password").status_code == 200


def test_logout_ends_this_token_only(admin: Api, anonymous: Api) -> None:
    account(admin, "clerk", "support")
    laptop, phone = token_of(anonymous, "clerk"), token_of(anonymous, "clerk")
    r = laptop.post("/auth/staff/logout")
    assert r.status_code == 204
    assert laptop.get("/admin/orders").status_code == 401
    assert laptop.post("/auth/staff/logout").status_code == 401
    assert phone.get("/admin/orders").status_code == 200
    claims = jwt.decode(laptop.token, options={"verify_signature": False})
    kept = RevokedTokenRecord.get(claims["jti"])
    assert int(kept.expires.timestamp()) == claims["exp"]     # kept as long as the token could live


def test_a_staff_token_costs_one_batched_read_a_customers_none(staff, customer, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    support, alice = staff("support"), customer()
    ddb_calls.reset()
    assert support.get("/admin/alerts").status_code == 200
    assert ddb_calls.authorizer == ["BatchGetItem"]
    ddb_calls.reset()
    assert alice.get("/orders").status_code == 200
    assert ddb_calls.authorizer == []


def test_a_token_of_an_account_that_is_gone_is_refused(staff) -> None:  # type: ignore[no-untyped-def]
    gone = staff("admin", username="former")
    StaffRecord("former").delete()
    r = gone.get("/admin/staff")
    assert r.status_code == 401 and r.json_body["code"] == "UNAUTHORIZED"


# ------------------------------------------------------------------ key rotation

def test_a_rotated_signing_key_signs_within_minutes_and_the_previous_still_verifies(  # type: ignore[no-untyped-def]
        admin: Api, anonymous: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    account(admin, "clerk", "support")
    old = token_of(anonymous, "clerk")
    old_key = base64.b64decode(os.environ["JWT_SECRET"])
    new_key = os.urandom(32)
    monkeypatch.setenv("JWT_SECRET", base64.b64encode(new_key).decode())
    monkeypatch.setenv("JWT_PREVIOUS_SECRET", base64.b64encode(old_key).decode())
    kid = lambda api: jwt.get_unverified_header(api.token)["kid"]   # noqa: E731
    assert kid(token_of(anonymous, "clerk")) == key_id(old_key)     # the cached keys, for now
    now = time.monotonic()
    monkeypatch.setattr(config, "_clock", lambda: now + config.TOKEN_KEYS_MAX_AGE_SECONDS + 1)
    fresh = token_of(anonymous, "clerk")
    assert kid(fresh) == key_id(new_key)
    assert old.get("/admin/orders").status_code == 200 and fresh.get("/admin/orders").status_code == 200
    claims = jwt.decode(old.token, options={"verify_signature": False})
    stranger = jwt.encode(claims, os.urandom(32), algorithm="HS256", headers={"kid": "0" * 12})
    assert Api(anonymous.client, stranger).get("/admin/orders").status_code == 401
    # The next rotation drops the first key: its tokens end.
    monkeypatch.setenv("JWT_PREVIOUS_SECRET", base64.b64encode(new_key).decode())
    monkeypatch.setenv("JWT_SECRET", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setattr(config, "_clock", lambda: now + 2 * config.TOKEN_KEYS_MAX_AGE_SECONDS + 2)
    assert old.get("/admin/orders").status_code == 401 and fresh.get("/admin/orders").status_code == 200
    config.reset_caches()


def test_accounts_from_before_the_directory_are_listed_after_the_backfill(admin: Api) -> None:
    from infra import backfill_index_keys
    account(admin, "veteran", "finance")
    StaffRecord(username="veteran").update(actions=[StaffRecord.directory.remove(), StaffRecord.generation.remove(),
                                                    StaffRecord.disabled.remove()])
    assert "veteran" not in {a["username"] for a in admin.get("/admin/staff").json_body["items"]}
    assert backfill_index_keys.backfill_staff() >= 1
    assert "veteran" in {a["username"] for a in admin.get("/admin/staff").json_body["items"]}
    assert backfill_index_keys.backfill_staff() == 0
    assert admin.patch("/admin/staff/veteran", {"disabled": True}).json_body["disabled"] is True


# Found by the security review of the first version: each of these failed on it.

def test_a_disabled_admin_let_through_by_the_authorizers_cache_changes_and_creates_nobody(admin: Api) -> None:
    """Deployed, API Gateway lets a token through for up to 60 s after its account is disabled:
    every staff-management write checks its actor again, in the write."""
    from chalicelib.domain.commands import NewStaff
    account(admin, "deputy", "admin")
    account(admin, "crony", "scanner")
    assert admin.patch("/admin/staff/deputy", {"disabled": True}).status_code == 200
    cached = Actor(Principal("deputy", "staff", frozenset({"admin"})))      # what the cached answer hands on
    ctx = bootstrap.context()
    with pytest.raises(Conflict) as refused:
        auth.change_staff(ctx, cached, "crony", StaffChanges(roles=["admin"], password="backdoor-password-1"))
    assert refused.value.code == "LAST_ADMIN" and "admin" not in StaffRecord.get("crony").roles
    with pytest.raises(Conflict):
        auth.create_staff(ctx, cached, NewStaff("backdoor", "backdoor-password-2", ["admin"]))
    assert StaffRecord.count("backdoor") == 0


def test_changing_your_own_account_under_another_spelling_is_still_yours(admin: Api, staff) -> None:
    me = staff("admin", username="boss")
    for change in ({"disabled": True}, {"roles": ["finance"]}):
        r = me.patch("/admin/staff/BOSS", change)
        assert r.status_code == 409 and r.json_body["code"] == "LAST_ADMIN", r.body
    assert not StaffRecord.get("boss").disabled and "admin" in StaffRecord.get("boss").roles


@pytest.mark.parametrize("name", ["   ", "-", "a" * 64 + "!"])
def test_a_name_no_account_can_have_is_a_wrong_login_not_a_500(anonymous: Api, name: str) -> None:
    r = login(anonymous, name[:64], "whatever-password")
    assert r.status_code == 401 and r.json_body["code"] == "INVALID_CREDENTIALS"


def test_a_token_living_longer_than_we_issue_is_refused_whatever_key_signed_it() -> None:
    from chalicelib.adapters.security import TokenService
    from chalicelib.domain.errors import NotAuthenticated
    old, new = os.urandom(32), os.urandom(32)
    tokens = TokenService(lambda: [new, old], 7200)
    now = int(time.time())
    claims = {"sub": "U0123456789abcdef", "kind": "customer", "roles": [], "iss": "micromall", "jti": "x"}
    for key in (old, new):
        forged = jwt.encode({**claims, "iat": now, "exp": now + 365 * 86400}, key, algorithm="HS256",
                            headers={"kid": key_id(key)})
        with pytest.raises(NotAuthenticated):
            tokens.verify(forged)
        ahead = jwt.encode({**claims, "iat": now + 3600, "exp": now + 7200}, key, algorithm="HS256",
                           headers={"kid": key_id(key)})
        with pytest.raises(NotAuthenticated):
            tokens.verify(ahead)
    fine = jwt.encode({**claims, "iat": now, "exp": now + 7200}, old, algorithm="HS256", headers={"kid": key_id(old)})
    assert tokens.verify(fine).subject == "U0123456789abcdef"


def test_a_secret_store_failing_at_the_refresh_keeps_the_keys_it_had(customer, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = customer()
    assert alice.get("/orders").status_code == 200
    now = time.monotonic()
    monkeypatch.setattr(config, "_clock", lambda: now + config.TOKEN_KEYS_MAX_AGE_SECONDS + 1)

    def down() -> list[bytes]:
        raise RuntimeError("Secrets Manager throttled")
    monkeypatch.setattr(config, "_read_token_signing_keys", down)
    assert alice.get("/orders").status_code == 200


def test_an_unknown_name_is_audited_by_a_keyed_digest(anonymous: Api) -> None:
    import hashlib
    assert login(anonymous, "summer2026!", "x" * 12).status_code == 401
    (record,) = [r for r in AuditRecord.scan() if r.action == "login_failed"]
    attempted = json.loads(record.details)["attempted"]
    assert attempted.startswith("hmac:") and hashlib.sha256(b"summer2026!").hexdigest()[:16] not in attempted


def test_creating_an_account_under_your_own_name_is_taken_not_a_500(staff) -> None:  # type: ignore[no-untyped-def]
    me = staff("admin", username="boss")
    r = me.post("/admin/staff", {"username": "boss", "password": PASSWORD, "roles": ["scanner"]})
    assert r.status_code == 409 and r.json_body["code"] == "USERNAME_TAKEN"
