"""What a gate may claim, and what the gates are told (issue 19, parts 5 and 6).

A nonce repeats the first answer only for the device that sent it; an offline scan is judged at
its `scanned_at` only when that is a time it can have happened (after the code's issue, at most
OFFLINE_SCAN_MAX_AGE_HOURS ago, not ahead beyond a scanner's skew), else it is refused as
invalid_time, kept for review, counted and alerted, and never takes over a redemption. The
offline pack lists only revocations that could still be admitted, and `since` its `next` only
what was revoked after it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.tables import ScanConflictRecord, TicketRecord

from .conftest import Api, clock_ahead, iso, order_body, ticket_body
from .test_refunds_api import alerts_of


@pytest.fixture
def scanner(staff) -> Api:  # type: ignore[no-untyped-def]
    return staff("scanner", username="gate-keeper")


@pytest.fixture
def paid_tickets(customer, make_product, anonymous):  # type: ignore[no-untyped-def]
    """Paid tickets, admitted from an hour ago (before they were bought: only their issue bounds
    a scan's time), or, `session_in` given, for a session that far ahead (refunded at once)."""
    def buy(quantity: int = 2, skus: int = 1, session_in: timedelta | None = None) -> tuple[Api, str, list[dict]]:  # type: ignore[type-arg]
        body = ticket_body([100] * skus, admission_open=session_in is None)
        if session_in is not None:
            start = datetime.now(timezone.utc) + session_in
            for sku in body["skus"]:
                sku["session"] = {"start": iso(start), "end": iso(start + timedelta(hours=3))}
        _, sku_ids = make_product(body)
        alice = customer()
        order = alice.post("/orders", order_body(*[(s, quantity) for s in sku_ids])).json_body
        assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
        return alice, order["order_id"], alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    return buy


def code_of(ticket: dict[str, Any]) -> str:
    return ticket["code"].replace("-", "")


def issued_at(ticket: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(TicketRecord.get(code_of(ticket)).issued_at)


def upload(api: Api, *scans: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.post("/redemptions/batch", {"scans": list(scans)})
    assert r.status_code == 200, r.body
    return r.json_body["results"]


def offline(ticket: dict[str, Any], at: datetime, nonce: str, gate: str = "北门", device: str = "pda-7") -> dict[str, Any]:
    return {"code": ticket["qr"], "gate": gate, "device_id": device, "nonce": nonce,
            "scanned_at": at.astimezone(timezone.utc).isoformat()}


# ------------------------------------------------------------------ nonces


def test_a_repeated_nonce_gets_the_first_answer_only_from_the_same_device(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    _, _, (ticket, _) = paid_tickets()
    body = {"code": ticket["qr"], "gate": "东门", "device_id": "pda-1", "nonce": "n-1"}
    first = scanner.post("/redemptions", body)
    assert first.status_code == 200
    retry = scanner.post("/redemptions", body)                          # the same device, its answer lost
    assert retry.status_code == 200 and retry.json_body["redeemed_at"] == first.json_body["redeemed_at"]
    other = scanner.post("/redemptions", {**body, "gate": "西门", "device_id": "pda-2"})   # another device, same nonce
    assert other.status_code == 409 and other.json_body["reason"] == "already_redeemed"
    assert other.json_body["first_gate"] == "东门"
    # An offline upload is no different: the nonce is the device's own.
    with clock_ahead(timedelta(minutes=10)):
        later = datetime.now(timezone.utc) + timedelta(minutes=5)
        (copied,) = upload(scanner, offline(ticket, later, "n-1", gate="西门", device="pda-3"))
    assert (copied["result"], copied["reason"], copied["first_gate"]) == ("rejected", "already_redeemed", "东门")


def test_a_nonce_and_device_id_copied_by_another_account_are_an_ordinary_scan(  # type: ignore[no-untyped-def]
        paid_tickets, scanner, staff) -> None:
    """A device id is the client's word; the account is proven: another scanner account sending
    the same device id and nonce for a used ticket does not get the first answer again."""
    _, _, (ticket, _) = paid_tickets()
    body = {"code": ticket["qr"], "gate": "东门", "device_id": "pda-1", "nonce": "n-1"}
    assert scanner.post("/redemptions", body).status_code == 200
    copied = staff("scanner", username="gate-other").post("/redemptions", {**body, "gate": "西门"})
    assert copied.status_code == 409 and copied.json_body["reason"] == "already_redeemed"
    record = TicketRecord.get(code_of(ticket))
    assert (record.redeemed_gate, record.redeemed_device) == ("东门", "pda-1")


# ------------------------------------------------------------------ scan times


def test_a_scan_dated_before_the_ticket_was_issued_is_invalid_time_kept_for_review_and_alerted_once(  # type: ignore[no-untyped-def]
        paid_tickets, scanner, staff, capsys) -> None:
    _, order_id, (ticket, other) = paid_tickets()
    backdated = offline(ticket, issued_at(ticket) - timedelta(minutes=10), "n-back")   # the ticket admitted then
    capsys.readouterr()
    (result,) = upload(scanner, backdated)
    assert result == {"nonce": "n-back", "result": "rejected", "reason": "invalid_time", "conflict": "invalid_time"}
    assert TicketRecord.get(code_of(ticket)).status == "VALID"
    (kept,) = ScanConflictRecord.query(code_of(ticket))
    assert (kept.kind, kept.gate, kept.device_id, kept.nonce, kept.staff) == (
        "invalid_time", "北门", "pda-7", "n-back", "gate-keeper")
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "OfflineScansInvalidTime" in line]
    assert [(m["gate"], m["OfflineScansInvalidTime"]) for m in metrics] == [("北门", [1.0])]
    assert upload(scanner, backdated) == [result]                               # uploaded again: kept once
    assert ScanConflictRecord.count(code_of(ticket)) == 1
    (alert,) = alerts_of(staff("admin"), "scan_invalid_time")
    assert (alert["details"]["ticket_id"], alert["details"]["order_id"], alert["details"]["gate"]) == (
        ticket["ticket_id"], order_id, "北门")
    # The same gate's scan of the other ticket, made after its issue, is admitted as ever.
    assert upload(scanner, offline(other, datetime.now(timezone.utc), "n-fine")) == [{"nonce": "n-fine", "result": "ok"}]


def test_a_backdated_scan_never_takes_over_the_real_gates_redemption(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    _, _, (ticket, _) = paid_tickets()
    assert scanner.post("/redemptions", {"code": ticket["qr"], "gate": "东门", "device_id": "pda-1"}).status_code == 200
    (result,) = upload(scanner, offline(ticket, issued_at(ticket) - timedelta(seconds=1), "n-claim", gate="后门"))
    assert (result["result"], result["reason"]) == ("rejected", "invalid_time")
    record = TicketRecord.get(code_of(ticket))
    assert (record.status, record.redeemed_gate, record.redeemed_device) == ("REDEEMED", "东门", "pda-1")
    assert [(c.kind, c.gate) for c in ScanConflictRecord.query(code_of(ticket))] == [("invalid_time", "后门")]


def test_a_scan_older_than_the_allowed_age_or_ahead_of_the_clock_is_invalid_time(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    _, _, (ticket, other) = paid_tickets()
    made = datetime.now(timezone.utc) + timedelta(minutes=1)           # after the issue, the ticket valid then
    with clock_ahead(timedelta(hours=72, minutes=2)):                   # uploaded 72 h and a minute later
        (stale,) = upload(scanner, offline(ticket, made, "n-old"))
    assert (stale["result"], stale["reason"], stale["conflict"]) == ("rejected", "invalid_time", "invalid_time")
    assert TicketRecord.get(code_of(ticket)).status == "VALID"
    with clock_ahead(timedelta(hours=71, minutes=58)):                  # just inside the age: judged at its time
        assert upload(scanner, offline(ticket, made, "n-old-2")) == [{"nonce": "n-old-2", "result": "ok"}]
    now = datetime.now(timezone.utc)
    (ahead,) = upload(scanner, offline(other, now + timedelta(minutes=6), "n-ahead"))
    assert (ahead["result"], ahead["reason"]) == ("rejected", "invalid_time")
    # A scanner's clock a few minutes fast is forgiven.
    assert upload(scanner, offline(other, now + timedelta(minutes=4), "n-skew")) == [{"nonce": "n-skew", "result": "ok"}]
    assert [c.kind for c in ScanConflictRecord.query(code_of(other))] == ["invalid_time"]


def test_the_allowed_age_of_an_offline_scan_comes_from_the_environment(paid_tickets, scanner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OFFLINE_SCAN_MAX_AGE_HOURS", "2")
    bootstrap.reset()
    try:
        assert bootstrap.context().offline_scan_max_age == timedelta(hours=2)
        _, _, (ticket, _) = paid_tickets()
        made = datetime.now(timezone.utc) + timedelta(seconds=1)
        with clock_ahead(timedelta(hours=3)):
            (result,) = upload(scanner, offline(ticket, made, "n-3h"))
        assert result["reason"] == "invalid_time"
    finally:
        monkeypatch.delenv("OFFLINE_SCAN_MAX_AGE_HOURS")
        bootstrap.reset()
    assert bootstrap.context().offline_scan_max_age == timedelta(hours=72)


# ------------------------------------------------------------------ the offline pack


def refund_all(alice: Api, order_id: str) -> None:
    r = alice.post(f"/orders/{order_id}/refunds", {"reason": "plans changed"})
    assert r.status_code == 202 and r.json_body["status"] == "APPROVED", r.body


def test_the_pack_since_its_next_answers_only_what_was_revoked_after_it(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    alice, first_order, first = paid_tickets(2, session_in=timedelta(days=5))
    refund_all(alice, first_order)
    bob, second_order, second = paid_tickets(1, session_in=timedelta(days=5))
    with clock_ahead(timedelta(minutes=10)):
        pack = scanner.get("/scanner/offline-pack").json_body
        assert set(pack) >= {"keys", "revoked", "revoked_until", "generated_at", "next"}
        assert sorted(pack["revoked"]) == sorted(t["ticket_id"] for t in first)
        assert pack["revoked_until"] == {t["ticket_id"]: t["valid_until"] for t in first}
        nothing = scanner.get("/scanner/offline-pack?since=" + quote(pack["next"])).json_body
        assert nothing["revoked"] == [] and nothing["revoked_until"] == {} and nothing["keys"] == pack["keys"]
        refund_all(bob, second_order)                                   # taken back after the pack
        changes = scanner.get("/scanner/offline-pack?since=" + quote(pack["next"])).json_body
    assert changes["revoked"] == [second[0]["ticket_id"]]
    assert changes["revoked_until"] == {second[0]["ticket_id"]: second[0]["valid_until"]}
    assert changes["next"] >= pack["next"] and datetime.fromisoformat(changes["generated_at"])


def test_a_pack_mark_lags_so_a_revocation_just_before_it_is_not_missed(paid_tickets, scanner) -> None:  # type: ignore[no-untyped-def]
    """The revoked index is read eventually consistently, and a revocation is stamped before it
    commits: the next pack after a mark still lists one stamped a moment before that mark."""
    pack = scanner.get("/scanner/offline-pack").json_body
    alice, order_id, tickets = paid_tickets(1, session_in=timedelta(days=5))
    with clock_ahead(timedelta(seconds=-20)):                           # stamped 20 s before the pack
        refund_all(alice, order_id)
    changes = scanner.get("/scanner/offline-pack?since=" + quote(pack["next"])).json_body
    assert changes["revoked"] == [tickets[0]["ticket_id"]]


def test_the_pack_lists_only_live_revocations_and_stays_small_however_many_expired(  # type: ignore[no-untyped-def]
        paid_tickets, scanner) -> None:
    start = scanner.get("/scanner/offline-pack").json_body
    expired: list[str] = []
    for _ in range(2):                                                  # 2 x 4 SKUs x 10 tickets, all refunded
        alice, order_id, tickets = paid_tickets(10, skus=4, session_in=timedelta(days=1))
        refund_all(alice, order_id)
        expired += [t["ticket_id"] for t in tickets]
    bob, live_order, live = paid_tickets(2, session_in=timedelta(days=20))
    refund_all(bob, live_order)
    now_pack = scanner.get("/scanner/offline-pack").json_body
    assert len(now_pack["revoked"]) == len(expired) + 2                 # all of them still admit today
    with clock_ahead(timedelta(days=2)):                                # the 80 tickets' session is over
        full = scanner.get("/scanner/offline-pack")
        since_start = scanner.get("/scanner/offline-pack?since=" + quote(start["next"])).json_body
    assert sorted(full.json_body["revoked"]) == sorted(t["ticket_id"] for t in live)
    assert sorted(since_start["revoked"]) == sorted(t["ticket_id"] for t in live)
    assert len(full.body) < 1200, len(full.body)        # the keys and two ids, not the 82 revoked ever
    assert TicketRecord.get(code_of(tickets[0])).status == "REVOKED"          # history kept, not listed


@pytest.mark.parametrize("since", ["yesterday", "rv1.", "rv1.12x4", "rv1.-5", "rv2.1700000000000", "rv1." + "9" * 20,
                                   "rv1.１２３", "1700000000000"])
def test_a_since_that_is_no_packs_next_is_a_400(scanner, since) -> None:  # type: ignore[no-untyped-def]
    r = scanner.get("/scanner/offline-pack?since=" + quote(since))
    assert r.status_code == 400 and r.json_body["code"] == "INVALID_CURSOR", r.body
    assert r.json_body["details"]["field"] == "since"


def test_a_since_from_the_future_is_a_400(scanner) -> None:  # type: ignore[no-untyped-def]
    with clock_ahead(timedelta(hours=1)):
        mark = scanner.get("/scanner/offline-pack").json_body["next"]
    r = scanner.get("/scanner/offline-pack?since=" + quote(mark))
    assert r.status_code == 400 and r.json_body["code"] == "INVALID_CURSOR" and r.json_body["details"]["field"] == "since"


def test_the_gates_and_the_console_are_told_the_venues_time_zone(scanner, anonymous, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The browser shows times and counts days in the venue's zone whatever the device says: the
    gate keeps it with its pack (it must have it offline), the console reads it from the document
    it reads its menu from."""
    from chalicelib.api.openapi import document
    assert scanner.get("/scanner/offline-pack").json_body["venue_timezone"] == "Asia/Shanghai"
    assert anonymous.get("/openapi.json").json_body["info"]["x-venue-timezone"] == "Asia/Shanghai"
    monkeypatch.setenv("VENUE_TIMEZONE", "Europe/Berlin")
    bootstrap.reset()
    document.cache_clear()
    try:
        # built here: the test client sets the stage's own variables (.chalice/config.json) around each request
        assert bootstrap.context().venue_timezone == document()["info"]["x-venue-timezone"] == "Europe/Berlin"
        assert scanner.get("/scanner/offline-pack").json_body["venue_timezone"] == "Europe/Berlin"
        assert anonymous.get("/openapi.json").json_body["info"]["x-venue-timezone"] == "Europe/Berlin"
    finally:
        monkeypatch.delenv("VENUE_TIMEZONE")
        bootstrap.reset()
        document.cache_clear()
