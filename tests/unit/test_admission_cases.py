"""The server's admission rule against the table of cases the offline scanner's rule is held to
(tests/js/gate-rule.test.mjs runs the same file against assets/gate-rule.js): a gate offline
must refuse what the server would refuse, for the reason the server would give."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.redemption import Reason, admission_checks, admission_condition, holds, rejection_reason
from chalicelib.domain.tickets import CodeKind, Ticket, TicketStatus

CASES = json.loads((Path(__file__).resolve().parents[1] / "cases" / "admission_cases.json").read_text())["cases"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def as_the_server_keeps_it(case: dict[str, Any]) -> Ticket | None:
    """The ticket item behind the case's QR claims and gate state. The pack does not carry when a
    code was issued: it is taken as before anything in the case, so an upload's time check
    (`invalid_time`) is not what a case is about."""
    claims, gate = case["ticket"], case["gate"]
    if claims is None:
        return None
    valid_from = datetime.fromtimestamp(claims["f"], timezone.utc)
    admitted = instant(gate["admitted"]) if gate["admitted"] else None
    earliest = min(filter(None, (valid_from, instant(case["scanned_at"]), admitted)))
    status = (TicketStatus.REVOKED if claims["t"] in gate["revoked"]
              else TicketStatus.REDEEMED if admitted else TicketStatus.VALID)
    return Ticket(code=claims["c"], ticket_id=claims["t"], kind=CodeKind(claims["k"]), order_id="O1", user_id="U1",
                  sku_id=claims["s"], product_name="", sku_name="", valid_from=valid_from,
                  valid_until=datetime.fromtimestamp(claims["u"], timezone.utc), issued_at=earliest - timedelta(days=1),
                  status=status, redeemed_at=admitted, redeemed_scanned_at=admitted,
                  revoked_at=earliest if status is TicketStatus.REVOKED else None)


@pytest.mark.parametrize("earliest_wins", [False, True], ids=["scanned online", "uploaded from offline"])
@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_the_server_rule_answers_every_case_of_the_shared_table(case: dict[str, Any], earliest_wins: bool) -> None:
    ticket = as_the_server_keeps_it(case)
    expected_id = case["ticket"]["t"] if case["ticket"] else "T-unknown"       # the id the QR names
    checks = admission_checks(instant(case["scanned_at"]), expected_id, earliest_wins=earliest_wins)
    reason = rejection_reason(ticket, checks)
    assert (reason.value if reason else "admit") == case["expect"]
    if ticket is not None:                                  # the write's condition agrees with the reason
        assert holds(admission_condition(checks), ticket) is (reason is None)


def test_the_table_speaks_the_servers_reasons_and_covers_the_offline_ones() -> None:
    said = {c["expect"] for c in CASES}
    assert said - {"admit"} <= {r.value for r in Reason}
    offline = {Reason.INVALID, Reason.REVOKED, Reason.ALREADY_REDEEMED, Reason.NOT_YET_VALID, Reason.EXPIRED}
    assert {r.value for r in offline} | {"admit"} <= said
