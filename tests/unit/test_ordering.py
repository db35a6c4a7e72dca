"""The rules of selling, without AWS."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.commands import PlaceOrder, RequestedLine
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.model import (Address, Fulfillment, Kind, OrderStatus, Product, ProductStatus, Session, Sku,
                                     Visitor, check_transition)
from chalicelib.domain.ordering import build_order

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def ticket(stock: int = 10, price: int = 6000, **product: object) -> tuple[Product, Sku]:
    p = Product("P1", Kind.TICKET, "Museum", status=ProductStatus.LISTED, sku_ids=["P1-S1"], **product)  # type: ignore[arg-type]
    s = Sku("P1-S1", "P1", "Adult", price, available=stock,
            session=Session(NOW + timedelta(days=1), NOW + timedelta(days=1, hours=3)),
            valid_from=NOW - timedelta(hours=1), valid_until=NOW + timedelta(days=1, hours=3))
    return p, s


def merch(fulfillment: list[Fulfillment]) -> tuple[Product, Sku]:
    p = Product("P2", Kind.MERCH, "Tote", status=ProductStatus.LISTED, fulfillment=fulfillment, sku_ids=["P2-S1"])
    return p, Sku("P2-S1", "P2", "Natural", 8800, available=5)


def place(*lines: tuple[str, int], visitors: list[Visitor] | None = None, fulfillment: Fulfillment | None = None,
          address: Address | None = None) -> PlaceOrder:
    return PlaceOrder([RequestedLine(s, q) for s, q in lines], "Zhang", "13800138000", visitors or [],
                      fulfillment, address)


def build(command: PlaceOrder, *catalog: tuple[Product, Sku], purchased: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    return build_order(order_id="O1", user_id="U1", command=command, skus={s.sku_id: s for _, s in catalog},
                       products={p.product_id: p for p, _ in catalog}, purchased=purchased or {}, now=NOW,
                       payment_timeout=timedelta(minutes=15))


def test_prices_come_from_the_catalog_and_the_order_waits_for_payment() -> None:
    order = build(place(("P1-S1", 3)), ticket(price=4500))
    assert order.total == 13500 and order.lines[0].unit_price == 4500
    assert order.status is OrderStatus.PENDING_PAYMENT
    assert order.expires_at == NOW + timedelta(minutes=15)
    assert [h.status for h in order.history] == [OrderStatus.PENDING_PAYMENT]


def test_unknown_sku_is_not_found() -> None:
    with pytest.raises(NotFound) as e:
        build(place(("P1-S9", 1)), ticket())
    assert e.value.code == "SKU_NOT_FOUND" and e.value.details["sku_id"] == "P1-S9"


@pytest.mark.parametrize("product", [
    {"status": ProductStatus.UNLISTED},
    {"delist_at": NOW - timedelta(seconds=1)},
    {"list_at": NOW + timedelta(hours=1)},
])
def test_not_on_sale(product: dict) -> None:  # type: ignore[type-arg]
    p, s = ticket()
    for k, v in product.items():
        setattr(p, k, v)
    with pytest.raises(Conflict) as e:
        build(place(("P1-S1", 1)), (p, s))
    assert e.value.code == "NOT_ON_SALE"


def test_scheduled_listing_sells_once_its_time_has_come() -> None:
    p, s = ticket()
    p.status, p.list_at = ProductStatus.UNLISTED, NOW - timedelta(minutes=1)
    assert build(place(("P1-S1", 1)), (p, s)).total == 6000


def test_tickets_stop_selling_at_the_end_of_their_validity() -> None:
    p, s = ticket()
    s.valid_until = NOW
    with pytest.raises(Conflict) as e:
        build(place(("P1-S1", 1)), (p, s))
    assert e.value.code == "NOT_ON_SALE"


def test_more_than_available_is_sold_out() -> None:
    with pytest.raises(Conflict) as e:
        build(place(("P1-S1", 3)), ticket(stock=2))
    assert e.value.code == "SOLD_OUT" and e.value.details["sku_id"] == "P1-S1"


def test_purchase_limit_counts_what_the_customer_already_holds() -> None:
    build(place(("P1-S1", 2)), ticket(purchase_limit=4), purchased={"P1": 2})
    with pytest.raises(RuleViolation) as e:
        build(place(("P1-S1", 3)), ticket(purchase_limit=4), purchased={"P1": 2})
    assert e.value.code == "PURCHASE_LIMIT_EXCEEDED" and e.value.details["limit"] == 4


def test_real_name_tickets_need_one_distinct_visitor_each() -> None:
    alice = Visitor("Alice", "id_card", "11010519491231002X")
    bob = Visitor("Bob", "id_card", "110105194912310037")
    order = build(place(("P1-S1", 2), visitors=[alice, bob]), ticket(real_name=True))
    assert [v.sku_id for v in order.visitors] == ["P1-S1", "P1-S1"]
    with pytest.raises(RuleViolation) as e:
        build(place(("P1-S1", 2), visitors=[alice]), ticket(real_name=True))
    assert e.value.code == "VISITORS_REQUIRED"
    with pytest.raises(RuleViolation) as e:
        build(place(("P1-S1", 2), visitors=[alice, alice]), ticket(real_name=True))
    assert e.value.code == "DUPLICATE_VISITOR"


def test_visitors_are_refused_where_no_ticket_needs_them() -> None:
    with pytest.raises(RuleViolation):
        build(place(("P1-S1", 1), visitors=[Visitor("A", "passport", "E1234567")]), ticket())


def test_merch_defaults_to_pickup_and_shipping_needs_an_address() -> None:
    order = build(place(("P2-S1", 1)), merch([Fulfillment.PICKUP, Fulfillment.SHIPPING]))
    assert order.fulfillment is Fulfillment.PICKUP
    with pytest.raises(InvalidInput):
        build(place(("P2-S1", 1), fulfillment=Fulfillment.SHIPPING), merch([Fulfillment.SHIPPING]))
    with pytest.raises(InvalidInput):
        build(place(("P2-S1", 1)), merch([Fulfillment.SHIPPING]))
    with pytest.raises(RuleViolation) as e:
        build(place(("P2-S1", 1), fulfillment=Fulfillment.SHIPPING,
                    address=Address("Li", "13900000000", "Beijing", "1 Road")), merch([Fulfillment.PICKUP]))
    assert e.value.code == "FULFILLMENT_NOT_AVAILABLE"


def test_ticket_orders_take_no_fulfillment() -> None:
    with pytest.raises(InvalidInput):
        build(place(("P1-S1", 1), fulfillment=Fulfillment.PICKUP), ticket())


@pytest.mark.parametrize("current,target,ok", [
    (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED, True),
    (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED, True),
    (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, True),
    (OrderStatus.PAID, OrderStatus.CANCELLED, False),
    (OrderStatus.CANCELLED, OrderStatus.CANCELLED, False),
    (OrderStatus.EXPIRED, OrderStatus.PAID, False),
    (OrderStatus.PAID, OrderStatus.SHIPPED, True),
    (OrderStatus.SHIPPED, OrderStatus.COMPLETED, True),
])
def test_order_state_machine(current: OrderStatus, target: OrderStatus, ok: bool) -> None:
    if ok:
        check_transition(current, target)
    else:
        with pytest.raises(Conflict) as e:
            check_transition(current, target)
        assert e.value.code == "INVALID_STATE"
