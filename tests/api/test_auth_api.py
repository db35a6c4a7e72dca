from __future__ import annotations

import json
import time

import jwt

from chalicelib import bootstrap, config
from chalicelib.domain.principal import Principal
from chalicelib.adapters.tables import AuditRecord, StaffRecord
from chalicelib.domain.commands import NewStaff
from chalicelib.service_layer.auth import ensure_staff
from local.seed import SYSTEM

from .conftest import Api


def login(anonymous: Api, username: str, password: str):  # type: ignore[no-untyped-def]
    return anonymous.post("/auth/staff/login", {"username": username, "password": password})


def audit_actions() -> list[tuple[str, str]]:
    return sorted((r.actor, r.action) for day in {time.strftime("%Y-%m-%d", time.gmtime())}
                  for r in AuditRecord.query(day))


def test_customer_login_gives_a_stable_user_id(anonymous: Api) -> None:
    first = anonymous.post("/auth/wechat/login", {"code": "dev:alice"}).json_body
    second = anonymous.post("/auth/wechat/login", {"code": "dev:alice"}).json_body
    other = anonymous.post("/auth/wechat/login", {"code": "dev:bob"}).json_body
    assert first["user_id"] == second["user_id"] != other["user_id"]
    assert first["expires_in"] > 0 and first["token"]


def test_local_login_codes_must_be_dev_codes(anonymous: Api) -> None:
    r = anonymous.post("/auth/wechat/login", {"code": "real-wechat-code"})
    assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR"


def test_staff_login_and_roles(anonymous: Api, admin: Api) -> None:
    r = admin.post("/admin/staff", {"username": "clerk", "password": "a-long-password", "roles": ["scanner"]})
    assert r.status_code == 201 and r.json_body == {"username": "clerk", "roles": ["scanner"]}
    stored = StaffRecord.get("clerk")
    assert stored.password_hash.startswith("scrypt$") and "a-long-password" not in stored.password_hash
    ok = login(anonymous, "clerk", "a-long-password")
    assert ok.status_code == 200 and ok.json_body["roles"] == ["scanner"]
    assert admin.post("/admin/staff", {"username": "clerk", "password": "another-password",
                                       "roles": ["finance"]}).status_code == 409
    assert ("boss", "staff_created") in audit_actions() and ("clerk", "login") in audit_actions()


def test_wrong_password_is_401_and_five_failures_lock_the_username(anonymous: Api) -> None:
    ensure_staff(bootstrap.context(), SYSTEM, NewStaff("cashier", "right-password", ["finance"]))
    for _ in range(5):
        r = login(anonymous, "cashier", "wrong-password")
        assert r.status_code == 401 and r.json_body["code"] == "INVALID_CREDENTIALS"
    locked = login(anonymous, "cashier", "right-password")
    assert locked.status_code == 429 and locked.json_body["code"] == "TOO_MANY_ATTEMPTS"
    assert int(locked.headers["Retry-After"]) > 0
    assert ("cashier", "login_failed") in audit_actions()


def test_unknown_usernames_are_throttled_too(anonymous: Api) -> None:
    for _ in range(5):
        assert login(anonymous, "ghost", "whatever-pw").status_code == 401
    assert login(anonymous, "ghost", "whatever-pw").status_code == 429


def test_missing_tampered_and_expired_tokens_are_401(anonymous: Api, client) -> None:  # type: ignore[no-untyped-def]
    tokens = bootstrap.token_service()
    good = tokens.issue(Principal("U1", "customer"))
    claims = jwt.decode(good, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "U2"}, b"x" * 32, algorithm="HS256")
    expired = tokens.issue(Principal("U1", "customer"), now=time.time() - config.settings().token_ttl_seconds - 5)
    for token in (None, "garbage", forged, expired):
        r = Api(client, token).get("/orders")
        assert r.status_code == 401 and r.json_body["code"] == "UNAUTHORIZED", token
    assert Api(client, good).get("/orders").status_code == 200


def test_roles_not_in_the_table_get_403(staff, customer) -> None:  # type: ignore[no-untyped-def]
    scanner = staff("scanner")
    for path, body in (("/admin/products", {}), ("/admin/staff", {}), ("/admin/stocktakes", {})):
        r = scanner.post(path, body)
        assert r.status_code == 403 and r.json_body["code"] == "FORBIDDEN", path
    assert scanner.get("/admin/orders").status_code == 403
    assert customer().get("/admin/inventory").status_code == 403
    assert staff("support").post("/orders", {}).status_code == 403   # staff are not customers
    assert staff("merchandiser").post("/admin/staff", {}).status_code == 403


def test_customer_requests_need_no_database_read_to_authenticate(customer, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    alice = customer()
    ddb_calls.reset()
    assert alice.get("/orders").status_code == 200
    assert ddb_calls.operations == ["Query"]


def test_no_secret_or_password_reaches_the_audit_log(admin: Api) -> None:
    admin.post("/admin/staff", {"username": "auditor1", "password": "top-secret-pw", "roles": ["auditor"]})
    for r in AuditRecord.query(time.strftime("%Y-%m-%d", time.gmtime())):
        assert "top-secret-pw" not in json.dumps(r.attribute_values, default=str)


def test_audit_log_is_for_admin_and_auditor(admin: Api, staff) -> None:  # type: ignore[no-untyped-def]
    admin.post("/admin/staff", {"username": "scan1", "password": "a-long-password", "roles": ["scanner"]})
    entries = staff("auditor").get("/admin/audit").json_body["items"]
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [("boss", "staff_created", "scan1")]
    assert staff("finance").get("/admin/audit").status_code == 403
    assert admin.get("/admin/audit?date=yesterday").status_code == 400
