"""Redemption (核销): ordered checks, one conditional write, nonces, offline uploads."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.tables import ScanConflictRecord, TicketRecord
from chalicelib.adapters.ticket_repository import revoked_key
from chalicelib.adapters.ticket_codes import QrSigner
from local.keys import qr_key_ring

from .conftest import Api, clock_ahead, iso, merch_body, order_body, ticket_body


@pytest.fixture
def scanner(staff) -> Api:  # type: ignore[no-untyped-def]
    return staff("scanner", username="gate-keeper")


@pytest.fixture
def paid_tickets(customer, make_product, anonymous):  # type: ignore[no-untyped-def]
    def buy(quantity: int = 2, **sku_window: str) -> list[dict]:  # type: ignore[type-arg]
        body = ticket_body([50], admission_open=True)
        body["skus"][0].update(sku_window)
        _, (sku,) = make_product(body)
        alice = customer()
        order = alice.post("/orders", order_body((sku, quantity))).json_body
        assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
        return alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    return buy


def scan(api: Api, code: str, gate: str = "G1", nonce: str | None = None, **extra: str):  # type: ignore[no-untyped-def]
    body = {"code": code, "gate": gate, "device_id": f"dev-{gate}", **extra}
    if nonce:
        body["nonce"] = nonce
    return api.post("/redemptions", body)


def test_qr_redeems_once_and_a_repeated_nonce_gets_the_first_answer(paid_tickets, scanner, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    ticket, other = paid_tickets()
    ddb_calls.reset()
    first = scan(scanner, ticket["qr"], "G1", "n-1")
    assert first.status_code == 200 and first.json_body["result"] == "ok" and first.json_body["kind"] == "ticket"
    assert ddb_calls.operations == ["UpdateItem"]
    ddb_calls.reset()
    again = scan(scanner, ticket["qr"], "G2", "n-2")
    assert again.status_code == 409 and ddb_calls.operations == ["UpdateItem"]    # rejected: still one request
    assert again.json_body["reason"] == "already_redeemed" and again.json_body["first_gate"] == "G1"
    assert again.json_body["first_redeemed_at"] == first.json_body["redeemed_at"]
    retry = scan(scanner, ticket["qr"], "G1", "n-1")
    assert retry.status_code == 200 and retry.json_body["redeemed_at"] == first.json_body["redeemed_at"]
    manual = scan(scanner, other["code"], "G3", "n-3")                       # 4-4-4 as printed
    assert manual.status_code == 200
    record = TicketRecord.get(ticket["code"].replace("-", ""))
    assert (record.status, record.redeemed_gate, record.redeemed_device, record.redeemed_by) == (
        "REDEEMED", "G1", "dev-G1", "gate-keeper")


def test_forged_or_altered_qr_is_invalid_without_touching_the_database(paid_tickets, scanner, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    (ticket,) = paid_tickets(1)
    prefix, kid, payload, signature = ticket["qr"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["u"] += 10 ** 7                                                     # stretch the validity
    altered_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    foreign = QrSigner([("local-1", base64.b64decode(json.loads(qr_key_ring())[0]["key"]))])
    forged_ticket = bootstrap.context().tickets.by_code(ticket["code"].replace("-", ""))
    assert forged_ticket is not None
    forgeries = [f"{prefix}.{kid}.{altered_payload}.{signature}", foreign.sign(forged_ticket),
                 f"{prefix}.unknown-kid.{payload}.{signature}", ticket["qr"][:-3] + "AAA", "MM1.garbage", "x" * 5000]
    for forged in forgeries:
        ddb_calls.reset()
        r = scan(scanner, forged)
        assert r.status_code in (404, 400), forged
        if r.status_code == 404:
            assert r.json_body["reason"] == "invalid" and ddb_calls.operations == []
    assert TicketRecord.get(ticket["code"].replace("-", "")).status == "VALID"


def test_unknown_manual_code_is_invalid_in_one_request(scanner, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    ddb_calls.reset()
    r = scan(scanner, "1234-5678-9012")
    assert r.status_code == 404 and r.json_body["reason"] == "invalid" and ddb_calls.operations == ["UpdateItem"]
    assert scan(scanner, "12345").json_body["reason"] == "invalid"


def test_not_yet_valid_and_expired(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(timezone.utc)
    (early,) = paid_tickets(1, valid_from=iso(now + timedelta(hours=1)))
    r = scan(scanner, early["qr"])
    assert r.status_code == 409 and r.json_body["reason"] == "not_yet_valid"
    (late,) = paid_tickets(1)
    ctx = bootstrap.context()
    real_clock = ctx.clock
    ctx.clock = lambda: real_clock() + timedelta(days=5)   # type: ignore[method-assign]
    try:
        r = scan(scanner, late["code"])
    finally:
        ctx.clock = real_clock  # type: ignore[method-assign]
    assert r.status_code == 409 and r.json_body["reason"] == "expired"
    assert TicketRecord.get(late["code"].replace("-", "")).status == "VALID"


def test_revoked_codes_are_rejected_and_in_the_offline_pack(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    (ticket,) = paid_tickets(1)
    code = ticket["code"].replace("-", "")
    TicketRecord(code=code).update(actions=[TicketRecord.status.set("REVOKED"), TicketRecord.revoked.set(revoked_key(code))])
    r = scan(scanner, ticket["qr"])
    assert r.status_code == 409 and r.json_body["reason"] == "revoked"
    pack = scanner.get("/scanner/offline-pack").json_body
    assert pack["revoked"] == [ticket["ticket_id"]]
    assert [k["kid"] for k in pack["keys"]] == ["local-1"] and pack["keys"][0]["alg"] == "Ed25519"


def test_the_offline_pack_verifies_qr_codes_with_no_network(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    (ticket,) = paid_tickets(1)
    pack = scanner.get("/scanner/offline-pack").json_body
    keys = {k["kid"]: Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(k["public_key"] + "="))
            for k in pack["keys"]}
    prefix, kid, payload, signature = ticket["qr"].split(".")
    keys[kid].verify(base64.urlsafe_b64decode(signature + "=="), f"{prefix}.{kid}.{payload}".encode())


def test_key_rotation_keeps_issued_tickets_valid(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    (old,) = paid_tickets(1)
    ctx = bootstrap.context()
    original = ctx.qr
    ring = [("local-2", base64.b64decode(json.loads(qr_key_ring())[0]["key"])),
            *[(kid, raw) for kid, raw in bootstrap.config.qr_signing_keys()]]
    ctx.qr = QrSigner(ring)
    try:
        (new,) = paid_tickets(1)
        assert new["qr"].split(".")[1] == "local-2" and old["qr"].split(".")[1] == "local-1"
        assert scan(scanner, old["qr"]).status_code == 200 and scan(scanner, new["qr"]).status_code == 200
        assert [k["kid"] for k in scanner.get("/scanner/offline-pack").json_body["keys"]] == ["local-2", "local-1"]
    finally:
        ctx.qr = original


def test_pickup_codes_redeem_as_pickup(customer, make_product, anonymous, scanner) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(merch_body([5]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 1))).json_body
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    pickup = alice.get(f"/orders/{order['order_id']}").json_body["pickup"]
    r = scan(scanner, pickup["qr"])
    assert r.status_code == 200 and r.json_body["kind"] == "pickup"
    assert alice.get(f"/orders/{order['order_id']}").json_body["pickup"]["status"] == "REDEEMED"


def test_only_scanners_and_admins_redeem(paid_tickets, staff, customer) -> None:  # type: ignore[no-untyped-def]
    (ticket,) = paid_tickets(1)
    for caller in (customer(), staff("finance"), staff("support")):
        assert scan(caller, ticket["qr"]).status_code == 403
    assert scan(staff("admin"), ticket["qr"]).status_code == 200


def test_malformed_scans_are_400(scanner) -> None:  # type: ignore[no-untyped-def]
    for body in ({}, {"code": "1"}, {"code": 5, "gate": "G", "device_id": "d"},
                 {"code": "1", "gate": "G", "device_id": "d", "scanned_at": "yesterday"}):
        assert scanner.post("/redemptions", body).status_code == 400


def test_offline_batch_earliest_scan_wins_and_losers_are_kept(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    (ticket, other) = paid_tickets(2)
    now = datetime.now(timezone.utc) + timedelta(hours=1)
    scans = [{"code": ticket["qr"], "gate": "East", "device_id": "d2", "nonce": "late",
              "scanned_at": iso(now - timedelta(minutes=5))},
             {"code": ticket["qr"], "gate": "West", "device_id": "d1", "nonce": "early",
              "scanned_at": iso(now - timedelta(minutes=10))},
             {"code": other["code"], "gate": "West", "device_id": "d1", "nonce": "other",
              "scanned_at": iso(now - timedelta(minutes=9))},
             {"gate": "West", "nonce": "broken"}]
    with clock_ahead(timedelta(hours=1)):             # the gates come back online an hour after the purchase
        r = scanner.post("/redemptions/batch", {"scans": scans})
        again = scanner.post("/redemptions/batch", {"scans": scans})                # re-upload: same answers
    assert r.status_code == 200
    results = r.json_body["results"]
    assert results[0].pop("first_gate") == "West" and results[0].pop("first_redeemed_at")   # shown to the loser
    assert results == [
        {"nonce": "late", "result": "rejected", "reason": "already_redeemed", "conflict": "earlier_scan"},
        {"nonce": "early", "result": "ok"},
        {"nonce": "other", "result": "ok"},
        {"nonce": "broken", "result": "rejected", "reason": "invalid"}]
    code = ticket["code"].replace("-", "")
    assert TicketRecord.get(code).redeemed_gate == "West"
    conflicts = list(ScanConflictRecord.query(code))
    assert [(c.gate, c.nonce, c.winner_gate) for c in conflicts] == [("East", "late", "West")]
    assert again.json_body["results"][1:] == r.json_body["results"][1:]
    assert again.json_body["results"][0]["first_gate"] == "West" and ScanConflictRecord.count(code) == 1


def test_an_earlier_offline_scan_takes_over_a_later_online_one(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    (ticket,) = paid_tickets(1)
    with clock_ahead(timedelta(minutes=40)):          # scanned online 40 minutes after the purchase
        assert scan(scanner, ticket["qr"], "Online", "on-1").status_code == 200
        earlier = {"code": ticket["qr"], "gate": "Offline", "device_id": "d9", "nonce": "off-1",
                   "scanned_at": iso(datetime.now(timezone.utc) + timedelta(minutes=10))}   # 30 minutes before that
        r = scanner.post("/redemptions/batch", {"scans": [earlier]})
    assert r.json_body["results"] == [{"nonce": "off-1", "result": "ok"}]
    code = ticket["code"].replace("-", "")
    assert TicketRecord.get(code).redeemed_gate == "Offline"
    assert [(c.gate, c.nonce, c.winner_gate) for c in ScanConflictRecord.query(code)] == [("Online", "on-1", "Offline")]


def test_redemption_metrics_carry_result_and_gate(paid_tickets, scanner, capsys) -> None:  # type: ignore[no-untyped-def]
    (ticket,) = paid_tickets(1)
    capsys.readouterr()
    scan(scanner, ticket["qr"], "North")
    scan(scanner, ticket["qr"], "South")
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines() if '"Redemptions"' in l]
    assert [(l["result"], l["gate"]) for l in lines] == [("ok", "North"), ("already_redeemed", "South")]


def test_an_order_completes_when_every_code_is_used(paid_tickets, scanner, customer) -> None:  # type: ignore[no-untyped-def]
    import app as app_module
    from chalicelib.adapters.tables import OrderRecord
    from local.aws_resources import deliver_once

    def drain() -> None:
        while deliver_once("micromall-test-alerts", app_module.alerts_worker, "us-east-1"):
            pass
    first, second = paid_tickets(2)
    order_id = TicketRecord.get(first["code"].replace("-", "")).order_id
    scan(scanner, first["qr"])
    drain()
    assert OrderRecord.get(order_id).status == "PAID"
    scan(scanner, second["code"])
    drain()
    record = OrderRecord.get(order_id)
    assert record.status == "COMPLETED" and record.history[-1]["status"] == "COMPLETED"
