"""What a refund takes back, as the refund queue shows it: its tickets by SKU (each its own session
and share of what was paid), its goods lines; old refunds named from their order's lines."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.model import Kind, Order, OrderLine, OrderStatus, Session
from chalicelib.domain.personal_data import mask_name
from chalicelib.domain.refund_summary import RefundItem, items_from_order, items_taken_back
from chalicelib.domain.tickets import CodeKind, Ticket

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
MORNING = Session(NOW + timedelta(days=5), NOW + timedelta(days=5, hours=2))
AFTERNOON = Session(NOW + timedelta(days=5, hours=4), NOW + timedelta(days=5, hours=6))


def _line(sku_id: str, kind: Kind, quantity: int, price: int, discount: int = 0, session: Session | None = None,
          name: str = "上午场") -> OrderLine:
    return OrderLine(sku_id=sku_id, product_id="P" + sku_id, product_name="城市博物馆" if kind is Kind.TICKET
                     else "文创帆布袋", sku_name=name, kind=kind, unit_price=price, quantity=quantity,
                     session=session, discount=discount)


def _order(*lines: OrderLine) -> Order:
    return Order(order_id="O1", user_id="u1", status=OrderStatus.PAID, lines=list(lines), created_at=NOW,
                 expires_at=NOW, contact_name="王小明", contact_phone="13900000000")


def _ticket(sku_id: str, paid: int | None, session: Session, name: str = "上午场") -> Ticket:
    return Ticket(code="c" + sku_id, ticket_id="T" + sku_id, kind=CodeKind.TICKET, order_id="O1", user_id="u1",
                  sku_id=sku_id, product_name="城市博物馆", sku_name=name, valid_from=NOW, valid_until=NOW,
                  issued_at=NOW, session=session, paid=paid)


def test_tickets_are_grouped_by_sku_with_their_own_session_and_what_each_paid() -> None:
    tickets_line = _line("S1", Kind.TICKET, 3, 6000, discount=1, session=MORNING)
    goods = _line("S9", Kind.MERCH, 2, 3900, name="红色")
    order = _order(tickets_line, goods)
    rescheduled = _ticket("S2", 5999, AFTERNOON, "下午场")       # 改签: another SKU, its own session
    items = items_taken_back(order, [_ticket("S1", 6000, MORNING), _ticket("S1", 5999, MORNING), rescheduled],
                             [goods])
    assert items == [RefundItem("S1", "城市博物馆", "上午场", 2, 11999, MORNING),
                     RefundItem("S2", "城市博物馆", "下午场", 1, 5999, AFTERNOON),
                     RefundItem("S9", "文创帆布袋", "红色", 2, 7800, None)]
    # A ticket issued before units carried their share refunds its line's unit price.
    assert items_taken_back(order, [_ticket("S1", None, MORNING)], [])[0].amount == 6000


def test_an_old_refund_is_named_from_its_order_and_its_amounts_given_only_when_certain() -> None:
    order = _order(_line("S1", Kind.TICKET, 3, 6000, discount=1, session=MORNING),
                   _line("S9", Kind.MERCH, 2, 3900, name="红色"))
    assert items_from_order(order, [("S1", 2)], 11999) == [RefundItem("S1", "城市博物馆", "上午场", 2, 11999, MORNING)]
    assert items_from_order(order, [("S1", 2), ("S9", 2)], 19799) == [
        RefundItem("S1", "城市博物馆", "上午场", 2, None, MORNING), RefundItem("S9", "文创帆布袋", "红色", 2, 7800, None)]
    assert items_from_order(order, [("GONE", 1)], 100) == [RefundItem("GONE", "", "GONE", 1, 100, None)]


def test_a_name_shows_its_first_character_only() -> None:
    assert [mask_name(n) for n in ("王小明", "王五", "王", "", "Alice")] == ["王**", "王*", "*", "", "A****"]
