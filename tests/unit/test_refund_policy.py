"""The refund policy as plain rules: when a ticket refund needs staff, which codes may be asked for,
and how many one approval may take back (its transaction holds 100 items)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.errors import Conflict, RuleViolation
from chalicelib.domain.model import Kind, Order, OrderLine, OrderStatus
from chalicelib.domain.refunds import REVIEW_ADMISSION_OPEN, REVIEW_GOODS, plan_refund
from chalicelib.domain.tickets import CodeKind, Ticket, TicketStatus
from chalicelib.domain.transactions import MAX_ITEMS, approval_items

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)


def order(*lines: OrderLine) -> Order:
    return Order("O1", "u1", OrderStatus.PAID, list(lines), NOW, NOW, "张三", "13800138000")


def line(sku: str = "P1-S1", quantity: int = 2, kind: Kind = Kind.TICKET) -> OrderLine:
    return OrderLine(sku, "P1", "馆", "成人", kind, 6000, quantity)


def tickets(n: int, opens: datetime, **state: object) -> list[Ticket]:
    made = [Ticket(f"{i:012d}", f"T{i}", CodeKind.TICKET, "O1", "u1", "P1-S1", "馆", "成人", opens,
                   opens + timedelta(hours=8), NOW) for i in range(n)]
    for ticket in made:
        for name, value in state.items():
            setattr(ticket, name, value)
    return made


def test_unused_tickets_before_admission_opens_need_nobody() -> None:
    plan = plan_refund(order(line()), tickets(2, NOW + timedelta(hours=1)), None, False, NOW)
    assert not plan.needs_review and plan.amount == 12000


def test_from_the_moment_admission_opens_staff_review_it() -> None:
    plan = plan_refund(order(line()), tickets(2, NOW), None, False, NOW)
    assert plan.needs_review and plan.review_reasons == [REVIEW_ADMISSION_OPEN]


def test_goods_and_open_admission_are_both_said() -> None:
    goods = line("P2-S1", 1, Kind.MERCH)
    plan = plan_refund(order(line(), goods), tickets(2, NOW - timedelta(minutes=1)), None, False, NOW)
    assert plan.review_reasons == [REVIEW_GOODS, REVIEW_ADMISSION_OPEN]


def test_a_ticket_under_review_is_not_asked_for_twice() -> None:
    made = tickets(2, NOW)
    with pytest.raises(Conflict) as refused:
        plan_refund(order(line()), made, ["T0"], False, NOW, under_review={made[0].code})
    assert refused.value.code == "NOT_REFUNDABLE"
    plan = plan_refund(order(line()), made, None, False, NOW, under_review={made[0].code})
    assert [t.ticket_id for t in plan.tickets] == ["T1"]


def test_an_approval_that_takes_over_many_failed_refunds_stays_inside_one_transaction() -> None:
    """Each failed refund taken over is marked superseded in the approving transaction: 50
    tickets from 50 failed refunds would be 103 items; 48 of them fit."""
    made = tickets(50, NOW + timedelta(hours=1))
    for i, ticket in enumerate(made):
        ticket.status, ticket.revoked_by = TicketStatus.REVOKED, f"RF{i}"
    failed = {t.revoked_by for t in made if t.revoked_by}
    big = order(line(quantity=50))
    with pytest.raises(RuleViolation) as refused:
        plan_refund(big, made, None, False, NOW, reclaimable=failed)
    assert refused.value.code == "TOO_MANY_TICKETS"
    plan = plan_refund(big, made, [t.ticket_id for t in made[:48]], False, NOW, reclaimable=failed)
    assert approval_items(len(plan.codes), 48) <= MAX_ITEMS < approval_items(50, 50)


def test_tickets_refunded_together_with_goods_are_taken_over_with_them() -> None:
    """A failed refund took back two tickets and the pickup code. Asking again for the tickets
    alone would leave the pickup code revoked by a refund that can no longer complete, and the
    goods never refundable: the whole order is asked for again, goods included."""
    goods = line("P2-S1", 1, Kind.MERCH)
    made = tickets(2, NOW + timedelta(hours=1), status=TicketStatus.REVOKED, revoked_by="RF1")
    pickup = Ticket("999999999999", "K1", CodeKind.PICKUP, "O1", "u1", "P2-S1", "馆", "文创", NOW,
                    NOW + timedelta(days=30), NOW)
    pickup.status, pickup.revoked_by = TicketStatus.REVOKED, "RF1"
    with pytest.raises(Conflict) as refused:
        plan_refund(order(line(), goods), made + [pickup], ["T0", "T1"], False, NOW, reclaimable={"RF1"})
    assert refused.value.code == "NOT_REFUNDABLE"
    plan = plan_refund(order(line(), goods), made + [pickup], None, False, NOW, reclaimable={"RF1"})
    assert sorted(plan.codes) == sorted([t.code for t in made] + [pickup.code])
