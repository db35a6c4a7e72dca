"""改签 and a ticket's visitor on the fakes (service_layer.ticket_changes): every rule and refusal,
one transaction each, the stock of both sessions and their ledgers, a refund of a rescheduled
ticket, and what the gates' offline pack lists."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.catalog_commands import parse_product_changes, parse_sku
from chalicelib.domain.commands import parse_refund_request
from chalicelib.domain.errors import Conflict, DomainError, NotFound, RuleViolation
from chalicelib.domain.model import Order, OrderStatus, Sku, Visitor
from chalicelib.domain.personal_data import mask_id_number, resident_id_is_valid
from chalicelib.domain.ticket_changes import Reschedule, VisitorChange, reschedules_left
from chalicelib.domain.tickets import Ticket, TicketStatus
from chalicelib.service_layer import catalog, inventory, redemption, refund_settlement, refunds, ticket_changes
from chalicelib.service_layer.context import Actor, Context
from chalicelib.service_layer.tags import ItemTag, Tag
from tests.fakes import FakeDatabase

from .shop import ADMIN, customer, order_of, paid_order, staff, stock_of, ticket_product, tickets_of

SUPPORT = staff("support", name="sue")


def resident_id(seed: int) -> str:
    """A resident ID number with a right check digit (the domain checks it)."""
    head = f"11010519900101{seed:03d}"
    return next(head + c for c in "0123456789X" if resident_id_is_valid(head + c))


def two_sessions(ctx: Context, stocks: tuple[int, ...] = (5, 5, 5), real_name: bool = False
                 ) -> tuple[Actor, Order, list[Sku]]:
    """A paid order of two tickets of the first session; other sessions of the same price."""
    _, skus = ticket_product(ctx, *stocks, real_name=real_name)
    alice = customer(ctx)
    visitors = [Visitor("张三", "id_card", resident_id(1)), Visitor("李四", "id_card", resident_id(2))]
    order = paid_order(ctx, alice, (skus[0].sku_id, 2), visitors=visitors if real_name else None)
    return alice, order, skus


def move(ctx: Context, actor: Actor, order: Order, ticket: Ticket, sku_id: str) -> Ticket:
    return ticket_changes.reschedule(ctx, actor, order.order_id, ticket.ticket_id, Reschedule(sku_id))


def refused(ctx: Context, actor: Actor, order: Order, ticket: Ticket, sku_id: str) -> DomainError:
    with pytest.raises(DomainError) as raised:
        move(ctx, actor, order, ticket, sku_id)
    return raised.value


def reason(error: DomainError) -> tuple[str, object]:
    return error.code, error.details.get("reason")


def ledger(ctx: Context, sku_id: str) -> int:
    return sum(ctx.stock.all_movements(sku_id))  # type: ignore[attr-defined]


# ------------------------------------------------------------------ 改签

def test_a_reschedule_moves_the_ticket_and_one_unit_in_one_transaction(ctx: Context, database: FakeDatabase) -> None:
    alice, order, (a, b, _) = two_sessions(ctx)
    old = tickets_of(ctx, order.order_id)[0]
    before = len(database.committed)
    new = move(ctx, alice, order, old, b.sku_id)
    [tags] = database.committed[before:]
    assert {ItemTag.TICKET.of(old.code), ItemTag.TICKET.of(new.ticket_id), ItemTag.SKU.of(a.sku_id),
            ItemTag.SKU.of(b.sku_id), Tag.AUDIT} <= set(tags)
    assert (new.sku_id, new.order_id, new.paid, new.status, new.rescheduled_from) == \
        (b.sku_id, order.order_id, old.paid, TicketStatus.VALID, old.ticket_id)
    assert new.code != old.code and new.valid_from == b.valid_from and new.session == b.session
    assert ctx.qr.verify(new.qr).ticket_id == new.ticket_id                      # type: ignore[union-attr]
    shown = {t.ticket_id: t for t in tickets_of(ctx, order.order_id)}
    assert shown[old.ticket_id].status is TicketStatus.REVOKED and shown[new.ticket_id].status is TicketStatus.VALID
    assert len(shown) == 3
    assert stock_of(ctx, a.sku_id) == (4, 0, 1) and stock_of(ctx, b.sku_id) == (4, 0, 1)
    assert (ledger(ctx, a.sku_id), ledger(ctx, b.sku_id)) == (4, 4)
    [entry] = [e for e in ctx.audit.entries() if e.action == "ticket_rescheduled"]   # type: ignore[attr-defined]
    assert (entry.actor, entry.target, entry.details["new_ticket_id"]) == (alice.name, old.ticket_id, new.ticket_id)
    assert reschedules_left(new, ctx.clock()) == 0


def test_the_old_code_is_in_the_offline_pack_and_no_longer_admits(ctx: Context) -> None:
    alice, order, (_, b, _) = two_sessions(ctx)
    old = tickets_of(ctx, order.order_id)[0]
    move(ctx, alice, order, old, b.sku_id)
    assert old.ticket_id in [r.ticket_id for r in redemption.offline_pack(ctx, None).revoked]
    scanned = redemption.redeem(ctx, staff("scanner", name="gate"), redemption.ScanRequest(old.qr, "g", "d", None, None))
    assert not scanned.admitted


def test_a_customer_reschedules_a_ticket_once_staff_any_number_of_times(ctx: Context) -> None:
    alice, order, (a, b, c) = two_sessions(ctx)
    new = move(ctx, alice, order, tickets_of(ctx, order.order_id)[0], b.sku_id)
    assert reason(refused(ctx, alice, order, new, c.sku_id)) == ("NOT_RESCHEDULABLE", "limit")
    by_support = move(ctx, SUPPORT, order, new, c.sku_id)
    again = move(ctx, ADMIN, order, by_support, a.sku_id)
    assert again.reschedules == 1                          # staff do not use up the customer's one
    assert [stock_of(ctx, s.sku_id) for s in (a, b, c)] == [(3, 0, 2), (5, 0, 0), (5, 0, 0)]
    assert [ledger(ctx, s.sku_id) for s in (a, b, c)] == [3, 5, 5]
    assert {e.actor for e in ctx.audit.entries() if e.action == "ticket_rescheduled"} == \
        {alice.name, "sue", "boss"}                                                # type: ignore[attr-defined]


def test_a_customer_reschedules_until_the_cutoff_before_the_session_staff_until_use(ctx: Context) -> None:
    alice, order, (_, b, c) = two_sessions(ctx)
    first, second = tickets_of(ctx, order.order_id)
    assert first.session is not None
    ctx.clock.advance(first.session.start - timedelta(minutes=120) - ctx.clock.now)  # type: ignore[attr-defined]
    assert reason(refused(ctx, alice, order, first, b.sku_id)) == ("NOT_RESCHEDULABLE", "too_late")
    assert move(ctx, SUPPORT, order, first, b.sku_id).sku_id == b.sku_id


def test_the_products_own_cutoff_applies(ctx: Context) -> None:
    alice, order, (a, b, _) = two_sessions(ctx)
    catalog.update_product(ctx, ADMIN, a.product_id, parse_product_changes({"reschedule_cutoff_minutes": 3000}))
    assert reason(refused(ctx, alice, order, tickets_of(ctx, order.order_id)[0], b.sku_id)) == \
        ("NOT_RESCHEDULABLE", "too_late")                  # the session is two days (2880 minutes) ahead
    catalog.update_product(ctx, ADMIN, a.product_id, parse_product_changes({"reschedule_cutoff_minutes": None}))
    assert move(ctx, alice, order, tickets_of(ctx, order.order_id)[0], b.sku_id).sku_id == b.sku_id


def test_only_another_session_of_the_same_product_at_the_same_price(ctx: Context) -> None:
    alice, order, (a, _, _) = two_sessions(ctx)
    ticket = tickets_of(ctx, order.order_id)[0]
    _, (elsewhere,) = ticket_product(ctx, 5)
    dearer = catalog.add_sku(ctx, ADMIN, a.product_id, parse_sku(
        {"name": "VIP", "price": 9000, "stock": 5, "session": {"start": a.session.start.isoformat(),  # type: ignore[union-attr]
                                                                "end": a.session.end.isoformat()}}))  # type: ignore[union-attr]
    assert reason(refused(ctx, alice, order, ticket, elsewhere.sku_id)) == ("NOT_RESCHEDULABLE", "other_product")
    assert reason(refused(ctx, alice, order, ticket, dearer.sku_id)) == ("NOT_RESCHEDULABLE", "other_price")
    assert reason(refused(ctx, alice, order, ticket, a.sku_id)) == ("NOT_RESCHEDULABLE", "same_session")
    assert isinstance(refused(ctx, alice, order, ticket, a.product_id + "-SZZZZZZ"), NotFound)
    assert refused(ctx, alice, order, ticket, "nonsense").code == "SKU_NOT_FOUND"
    assert stock_of(ctx, a.sku_id) == (3, 0, 2)


def test_a_sold_out_session_is_refused_and_nothing_changes(ctx: Context, database: FakeDatabase) -> None:
    alice, order, (a, b, _) = two_sessions(ctx, (5, 0, 5))
    before = len(database.committed)
    assert refused(ctx, alice, order, tickets_of(ctx, order.order_id)[0], b.sku_id).code == "SOLD_OUT"
    assert len(database.committed) == before
    assert {t.status for t in tickets_of(ctx, order.order_id)} == {TicketStatus.VALID}


def test_the_transaction_refuses_what_the_read_allowed(ctx: Context, database: FakeDatabase) -> None:
    """A session whose last unit went between the read and the write: SOLD_OUT, nothing written."""
    alice, order, (a, b, _) = two_sessions(ctx, (5, 1, 5))
    real_skus = ctx.stock.skus
    def stale(ids):  # type: ignore[no-untyped-def]
        found = real_skus(ids)
        found[b.sku_id].available = 1
        return found
    bob = customer(ctx, "bob")
    paid_order(ctx, bob, (b.sku_id, 1))                    # the last unit
    ctx.stock.skus = stale                                  # type: ignore[method-assign]
    assert refused(ctx, alice, order, tickets_of(ctx, order.order_id)[0], b.sku_id).code == "SOLD_OUT"
    ctx.stock.skus = real_skus                              # type: ignore[method-assign]
    assert stock_of(ctx, b.sku_id) == (0, 0, 1) and stock_of(ctx, a.sku_id) == (3, 0, 2)


def test_a_sharded_session_gives_a_unit_from_a_shard_and_its_refund_returns_it(ctx: Context) -> None:
    alice, order, (a, b, _) = two_sessions(ctx, (5, 8, 5))
    inventory.split_stock(ctx, ADMIN, b.sku_id, 4)
    new = move(ctx, alice, order, tickets_of(ctx, order.order_id)[0], b.sku_id)
    assert stock_of(ctx, b.sku_id) == (7, 0, 1) and ledger(ctx, b.sku_id) == 7
    refund_back(ctx, alice, order, new)
    assert stock_of(ctx, b.sku_id) == (8, 0, 0) and ledger(ctx, b.sku_id) == 8


def test_a_sharded_old_session_takes_its_unit_back_in_a_shard(ctx: Context) -> None:
    _, (a, b) = ticket_product(ctx, 8, 5)
    inventory.split_stock(ctx, ADMIN, a.sku_id, 4)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (a.sku_id, 2))
    move(ctx, alice, order, tickets_of(ctx, order.order_id)[0], b.sku_id)
    assert stock_of(ctx, a.sku_id) == (7, 0, 1) and ledger(ctx, a.sku_id) == 7


def refund_back(ctx: Context, alice: Actor, order: Order, ticket: Ticket) -> None:
    refund = refunds.request_refund(ctx, alice, order.order_id,
                                    parse_refund_request({"reason": "x", "ticket_ids": [ticket.ticket_id]}))
    assert refund.amount == ticket.paid and refund.stock_lines == [(ticket.sku_id, 1)]
    ctx.wechat_pay.refund_answers[refund.out_refund_no] = "SUCCESS"            # type: ignore[attr-defined]
    assert refund_settlement.process_refund(ctx, refund.refund_id, 1) == "succeeded"


def test_refunding_a_rescheduled_ticket_returns_its_paid_and_a_unit_of_the_new_session(ctx: Context) -> None:
    alice, order, (a, b, _) = two_sessions(ctx)
    new = move(ctx, alice, order, tickets_of(ctx, order.order_id)[0], b.sku_id)
    refund_back(ctx, alice, order, new)
    assert stock_of(ctx, b.sku_id) == (5, 0, 0) and stock_of(ctx, a.sku_id) == (4, 0, 1)
    assert (ledger(ctx, a.sku_id), ledger(ctx, b.sku_id)) == (4, 5)
    assert order_of(ctx, order.order_id).status is OrderStatus.PARTIALLY_REFUNDED
    refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "x"}))   # the rest
    assert order_of(ctx, order.order_id).status is OrderStatus.REFUNDING


def test_a_used_revoked_or_refunded_ticket_is_not_rescheduled(ctx: Context) -> None:
    _, skus = ticket_product(ctx, 5, 5, admission_open=True)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (skus[0].sku_id, 2))
    used, kept = tickets_of(ctx, order.order_id)
    redemption.redeem(ctx, staff("scanner", name="gate"), redemption.ScanRequest(used.qr, "g", "d", None, None))
    assert reason(refused(ctx, ADMIN, order, used, skus[1].sku_id)) == ("NOT_RESCHEDULABLE", "used")
    new = move(ctx, ADMIN, order, kept, skus[1].sku_id)
    assert reason(refused(ctx, ADMIN, order, kept, skus[1].sku_id)) == ("NOT_RESCHEDULABLE", "revoked")
    refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "x",
                                                                            "ticket_ids": [new.ticket_id]}))
    assert reason(refused(ctx, ADMIN, order, new, skus[0].sku_id)) == ("NOT_RESCHEDULABLE", "under_refund")


def test_a_ticket_used_between_the_read_and_the_write_is_refused_as_used(ctx: Context) -> None:
    alice, order, (_, b, _) = two_sessions(ctx)
    ticket = tickets_of(ctx, order.order_id)[0]
    real = ctx.tickets.of_order
    ctx.tickets.of_order = lambda order_id: [ticket] + real(order_id)[1:]   # type: ignore[method-assign]
    ctx.tickets.revoke(uow := ctx.unit_of_work(), ticket.code, "R1", ctx.clock())
    uow.commit()
    assert reason(refused(ctx, alice, order, ticket, b.sku_id)) == ("NOT_RESCHEDULABLE", "revoked")
    ctx.tickets.of_order = real                                              # type: ignore[method-assign]
    assert stock_of(ctx, b.sku_id) == (5, 0, 0)


def test_another_customers_ticket_or_order_is_not_found(ctx: Context) -> None:
    alice, order, (_, b, _) = two_sessions(ctx)
    ticket = tickets_of(ctx, order.order_id)[0]
    assert refused(ctx, customer(ctx, "mallory"), order, ticket, b.sku_id).code == "ORDER_NOT_FOUND"
    with pytest.raises(NotFound) as raised:
            ticket_changes.reschedule(ctx, alice, order.order_id, "T0000000000000000", Reschedule(b.sku_id))
    assert raised.value.code == "TICKET_NOT_FOUND"


def test_a_session_not_on_sale_is_refused(ctx: Context) -> None:
    alice, order, (a, b, _) = two_sessions(ctx)
    catalog.update_product(ctx, ADMIN, a.product_id, parse_product_changes({"status": "unlisted"}))
    assert refused(ctx, alice, order, tickets_of(ctx, order.order_id)[0], b.sku_id).code == "NOT_ON_SALE"


def test_an_order_without_live_tickets_is_refused(ctx: Context) -> None:
    alice, order, (_, b, _) = two_sessions(ctx)
    tickets = tickets_of(ctx, order.order_id)
    refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "x"}))
    error = refused(ctx, alice, order, tickets[0], b.sku_id)
    assert reason(error) == ("NOT_RESCHEDULABLE", "revoked")   # REFUNDING: its tickets revoked at approval


def test_one_person_holds_one_ticket_of_a_session(ctx: Context) -> None:
    _, skus = ticket_product(ctx, 5, 5, real_name=True)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (skus[0].sku_id, 1), (skus[1].sku_id, 1),
                       visitors=[Visitor("张三", "id_card", resident_id(1)), Visitor("张三", "id_card", resident_id(1))])
    first = next(t for t in tickets_of(ctx, order.order_id) if t.sku_id == skus[0].sku_id)
    with pytest.raises(RuleViolation) as raised:
        move(ctx, alice, order, first, skus[1].sku_id)
    assert raised.value.code == "DUPLICATE_VISITOR"


# ------------------------------------------------------------------ the visitor

def change(ctx: Context, actor: Actor, order: Order, ticket: Ticket, name: str, number: str) -> Ticket:
    return ticket_changes.change_visitor(ctx, actor, order.order_id, ticket.ticket_id,
                                         VisitorChange(name, "id_card", number))


def test_the_visitor_of_an_unused_ticket_changes_masked_and_audited(ctx: Context, database: FakeDatabase) -> None:
    alice, order, _ = two_sessions(ctx, real_name=True)
    ticket = tickets_of(ctx, order.order_id)[0]
    before = len(database.committed)
    changed = change(ctx, alice, order, ticket, "王五", resident_id(3))
    [tags] = database.committed[before:]
    assert set(tags) == {ItemTag.TICKET.of(ticket.code), Tag.AUDIT}
    stored = ctx.tickets.by_code(ticket.code)
    assert stored is not None and stored.visitor == changed.visitor
    assert stored.visitor["name"] == "王五" and resident_id(3) not in str(stored.visitor)
    assert stored.qr == ticket.qr                           # the QR does not name the visitor
    assert [e.actor for e in ctx.audit.entries() if e.action == "ticket_visitor_changed"] == [alice.name]  # type: ignore[attr-defined]


def test_the_same_person_cannot_hold_two_tickets_of_a_session(ctx: Context) -> None:
    alice, order, _ = two_sessions(ctx, real_name=True)
    first, second = sorted(tickets_of(ctx, order.order_id), key=lambda t: t.visitor != {   # 张三's first
        "name": "张三", "id_type": "id_card", "id_number": mask_id_number(resident_id(1))})
    change(ctx, alice, order, first, "王五", resident_id(3))
    with pytest.raises(RuleViolation) as raised:
        change(ctx, SUPPORT, order, second, "王五", resident_id(3))
    assert raised.value.code == "DUPLICATE_VISITOR"
    # a ticket issued at payment is compared by its masked visitor: the person it already names
    assert change(ctx, alice, order, first, "张三", resident_id(1)).visitor["name"] == "张三"  # type: ignore[index]
    with pytest.raises(RuleViolation):
        change(ctx, alice, order, first, "李四", resident_id(2))


def test_a_used_ticket_or_a_started_session_keeps_its_visitor(ctx: Context) -> None:
    alice, order, _ = two_sessions(ctx, real_name=True)
    first, second = tickets_of(ctx, order.order_id)
    refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "x",
                                                                            "ticket_ids": [first.ticket_id]}))
    with pytest.raises(Conflict) as raised:
        change(ctx, alice, order, first, "王五", resident_id(3))
    assert raised.value.code == "INVALID_STATE"
    assert second.session is not None
    ctx.clock.advance(second.session.start - ctx.clock.now)                  # type: ignore[attr-defined]
    with pytest.raises(Conflict) as raised:
        change(ctx, SUPPORT, order, second, "王五", resident_id(3))
    assert raised.value.code == "INVALID_STATE"


def test_a_ticket_sold_without_real_names_has_no_visitor_to_change(ctx: Context) -> None:
    alice, order, _ = two_sessions(ctx)
    with pytest.raises(Conflict) as raised:
        change(ctx, alice, order, tickets_of(ctx, order.order_id)[0], "王五", resident_id(3))
    assert (raised.value.code, raised.value.details["reason"]) == ("INVALID_STATE", "not_real_name")


def test_a_visitor_change_racing_a_refund_is_refused_by_the_condition(ctx: Context) -> None:
    alice, order, _ = two_sessions(ctx, real_name=True)
    first = tickets_of(ctx, order.order_id)[0]
    real = ctx.tickets.of_order
    snapshot = real(order.order_id)
    refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "x",
                                                                            "ticket_ids": [first.ticket_id]}))
    ctx.tickets.of_order = lambda order_id: snapshot      # read before the refund revoked it  # type: ignore[method-assign]
    with pytest.raises(Conflict) as raised:
        change(ctx, alice, order, first, "王五", resident_id(3))
    assert raised.value.code == "INVALID_STATE" and raised.value.details["status"] == "REVOKED"
