"""The gate's rule, written once: the same checks give the write's condition and the reason."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.redemption import (Reason, RuleDisagreement, Scan, admission_checks, admission_condition, holds,
                                          is_repeat_of_first_scan, refused_because, rejection_reason, scan_time_allowed)
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


def test_offline_a_scan_dated_before_the_ticket_was_issued_is_invalid_time_and_takes_nothing_over() -> None:
    issued = NOW - timedelta(minutes=30)
    later = ticket(issued_at=issued, valid_from=NOW - timedelta(hours=2), status=TicketStatus.REDEEMED, redeemed_at=NOW,
                   redeemed_scanned_at=NOW)
    backdated = admission_checks(issued - timedelta(seconds=1), None, earliest_wins=True)
    assert rejection_reason(later, backdated) is Reason.INVALID_TIME
    assert rejection_reason(ticket(issued_at=issued, valid_from=NOW - timedelta(hours=2)), backdated) is Reason.INVALID_TIME
    assert rejection_reason(later, admission_checks(issued, None, earliest_wins=True)) is None   # at its issue: fine
    assert Reason.INVALID_TIME not in {reason for reason, _ in admission_checks(NOW, None)}      # online: server time


def test_an_offline_scan_time_must_be_recent_and_not_ahead_beyond_the_skew() -> None:
    age, skew = timedelta(hours=72), timedelta(minutes=5)
    assert scan_time_allowed(NOW - age, NOW, age, skew) and scan_time_allowed(NOW + skew, NOW, age, skew)
    assert not scan_time_allowed(NOW - age - timedelta(seconds=1), NOW, age, skew)
    assert not scan_time_allowed(NOW + skew + timedelta(seconds=1), NOW, age, skew)


def test_a_nonce_repeats_the_first_answer_only_from_the_device_and_account_that_sent_it() -> None:
    used = ticket(status=TicketStatus.REDEEMED, redeemed_at=NOW, redeem_nonce="n-1", redeemed_device="pda-1",
                  redeemed_by="gate")
    assert is_repeat_of_first_scan(used, Scan("G1", "pda-1", "gate", NOW, "n-1"))
    assert not is_repeat_of_first_scan(used, Scan("G2", "pda-2", "gate", NOW, "n-1"))
    assert not is_repeat_of_first_scan(used, Scan("G1", "pda-1", "gate", NOW, "n-2"))
    assert not is_repeat_of_first_scan(used, Scan("G1", "pda-1", "another-gate", NOW, "n-1"))
