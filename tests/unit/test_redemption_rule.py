"""The gate's rule, written once: the same checks give the write's condition and the reason."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.redemption import (Reason, RuleDisagreement, admission_checks, admission_condition, holds,
                                          refused_because, rejection_reason)
from chalicelib.domain.tickets import CodeKind, Ticket, TicketStatus

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def ticket(**changes) -> Ticket:  # type: ignore[no-untyped-def]
    base = dict(code="123412341234", ticket_id="T1", kind=CodeKind.TICKET, order_id="O1", user_id="U1", sku_id="S",
                product_name="Hall", sku_name="Adult", valid_from=NOW - timedelta(hours=1),
                valid_until=NOW + timedelta(hours=2), issued_at=NOW - timedelta(days=1))
    base.update(changes)
    return Ticket(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("changes, expected", [
    ({}, None),
    ({"status": TicketStatus.REVOKED}, Reason.REVOKED),
    ({"status": TicketStatus.REDEEMED, "redeemed_at": NOW}, Reason.ALREADY_REDEEMED),
    ({"valid_from": NOW + timedelta(minutes=1)}, Reason.NOT_YET_VALID),
    ({"valid_until": NOW}, Reason.EXPIRED),
    # the order of the checks decides: a revoked ticket out of its window is "revoked"
    ({"status": TicketStatus.REVOKED, "valid_until": NOW}, Reason.REVOKED),
])
def test_the_first_failing_check_is_the_reason(changes, expected) -> None:  # type: ignore[no-untyped-def]
    checks = admission_checks(NOW, None)
    assert rejection_reason(ticket(**changes), checks) is expected
    assert holds(admission_condition(checks), ticket(**changes)) is (expected is None)


def test_a_qr_for_another_ticket_and_a_missing_code_are_invalid() -> None:
    checks = admission_checks(NOW, "T-other")
    assert rejection_reason(ticket(), checks) is Reason.INVALID
    assert rejection_reason(None, checks) is Reason.INVALID


def test_offline_an_earlier_scan_takes_over_a_later_redemption() -> None:
    later = ticket(status=TicketStatus.REDEEMED, redeemed_at=NOW, redeemed_scanned_at=NOW + timedelta(minutes=5))
    earlier = ticket(status=TicketStatus.REDEEMED, redeemed_at=NOW, redeemed_scanned_at=NOW - timedelta(minutes=5))
    assert rejection_reason(later, admission_checks(NOW, None, earliest_wins=True)) is None
    assert rejection_reason(earlier, admission_checks(NOW, None, earliest_wins=True)) is Reason.ALREADY_REDEEMED
    assert rejection_reason(later, admission_checks(NOW, None)) is Reason.ALREADY_REDEEMED


def test_a_refused_write_the_rule_admits_is_surfaced_not_called_invalid() -> None:
    with pytest.raises(RuleDisagreement):
        refused_because(ticket(), admission_checks(NOW, None))
