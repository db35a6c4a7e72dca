"""The ports' contract: what every store promises the use cases, written once and run against
both implementations of it. `tests/unit/test_port_contract_fakes.py` runs it on the in-memory
fakes (tests/fakes), `tests/api/test_port_contract_moto.py` on the DynamoDB adapters (moto);
each only supplies the `ports` fixture: a Context whose stores are under test.

The conditions are the point: which write a store refuses, under which tag (what
`writes.commit` turns into the domain's words), that a refused unit of work writes nothing, and
what a refusal shows of the item as it was. A fake that disagrees with its adapter fails here.

This module must stay free of AWS (it is imported by the unit layer)."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from chalicelib.domain import identifiers
from chalicelib.domain.back_office import Alert
from chalicelib.domain.coupons import CouponKind, UserCoupon, UserCouponStatus
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import (Fulfillment, HistoryEntry, Kind, Order, OrderLine, OrderStatus, Product,
                                     ProductStatus, Session, Sku, Visitor)
from chalicelib.domain.payments import bill_day
from chalicelib.domain.pricing import EVERYTHING, Promotion
from chalicelib.domain.promotions import Promotion as FullReductionPromotion, TierRule
from chalicelib.domain.reconciliation import MATCHED, NOT_RUN, Reconciliation
from chalicelib.domain.redemption import Scan, ScanConflict, ConflictKind, admission_checks, admission_condition
from chalicelib.domain.refund_summary import RefundContact, RefundItem
from chalicelib.domain.refunds import HELD_BY_WECHAT, Refund, RefundStatus
from chalicelib.domain.figures import Figures
from chalicelib.domain.tickets import CodeKind, Ticket, TicketStatus, new_code
from chalicelib.service_layer.context import Context
from chalicelib.service_layer.ports import WriteRefused
from chalicelib.service_layer.tags import ItemTag, Tag

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
ALICE = "U00000000000000a1"
BOB = "U00000000000000b2"
PHONE = "13800138000"

Stage = Callable[[Any], None]


# ------------------------------------------------------------------ how a test speaks to the stores

def write(ports: Context, *stages: Stage) -> None:
    uow = ports.unit_of_work()
    for stage in stages:
        stage(uow)
    uow.commit()


def refused(ports: Context, *stages: Stage) -> WriteRefused:
    with pytest.raises(WriteRefused) as raised:
        write(ports, *stages)
    assert not raised.value.conflicted
    return raised.value


def product(kind: Kind = Kind.TICKET, status: ProductStatus = ProductStatus.LISTED, purchase_limit: int | None = None,
            category: str = "museum", tags: list[str] | None = None) -> Product:
    return Product(product_id=identifiers.new_product_id(), kind=kind, name=f"Hall {kind.value}",
                   category=category, tags=tags or ["t"], status=status, purchase_limit=purchase_limit,
                   fulfillment=[Fulfillment.PICKUP] if kind is Kind.MERCH else [], created_at=NOW)


def sku_of(p: Product, stock: int = 10, threshold: int = 0, price: int = 6000) -> Sku:
    session = Session(NOW + timedelta(days=2), NOW + timedelta(days=2, hours=3)) if p.kind is Kind.TICKET else None
    return Sku(sku_id=identifiers.new_sku_id(p.product_id), product_id=p.product_id, name="Adult", price=price,
               available=stock, low_stock_threshold=threshold, session=session,
               valid_from=session.start if session else None, valid_until=session.end if session else None)


def add_product(ports: Context, *stocks: int, threshold: int = 0, **kind: Any) -> tuple[Product, list[Sku]]:
    p = product(**kind)
    skus = [sku_of(p, s, threshold) for s in stocks or (10,)]
    p.sku_ids = [s.sku_id for s in skus]
    write(ports, lambda uow: ports.catalog.add_product(uow, p, NOW),
          *[lambda uow, s=s: ports.stock.add_sku(uow, s, NOW, "tests") for s in skus])
    return p, skus


def read_sku(ports: Context, sku_id: str) -> Sku:
    return ports.stock.skus([sku_id])[sku_id]


def counts(ports: Context, sku_id: str) -> tuple[int, int, int]:
    s = read_sku(ports, sku_id)
    return s.available, s.reserved, s.sold


def ledger_sum(ports: Context, sku_id: str) -> int:
    return sum(m.delta for m in ports.stock.movements_page(read_sku(ports, sku_id), 100, None).items)


def split(ports: Context, sku_id: str, shards: int) -> Sku:
    write(ports, lambda uow: ports.stock.split(uow, read_sku(ports, sku_id), shards))
    return read_sku(ports, sku_id)


def an_order(sku: Sku, quantity: int = 1, user: str = ALICE, kind: Kind = Kind.TICKET, at: datetime = NOW,
             name: str = "Hall ticket", fulfillment: Fulfillment | None = None, **extra: Any) -> Order:
    line = OrderLine(sku_id=sku.sku_id, product_id=sku.product_id, product_name=name, sku_name=sku.name, kind=kind,
                     unit_price=sku.price, quantity=quantity, session=sku.session, valid_from=sku.valid_from,
                     valid_until=sku.valid_until, category="museum")
    return Order(order_id=identifiers.new_order_id(at), user_id=user, status=OrderStatus.PENDING_PAYMENT,
                 lines=[line], created_at=at, expires_at=at + timedelta(minutes=15), contact_name="张三",
                 contact_phone=PHONE, history=[HistoryEntry(OrderStatus.PENDING_PAYMENT, at, user)],
                 fulfillment=fulfillment, **extra)


def add_order(ports: Context, order: Order, counted: set[str] = frozenset()) -> Order:  # type: ignore[assignment]
    write(ports, lambda uow: ports.orders.add(uow, order, set(counted)))
    return order


def read_order(ports: Context, order_id: str) -> Order:
    found = ports.orders.get(order_id)
    assert found is not None
    return found[0]


def paid_order(ports: Context, sku: Sku, quantity: int = 1, transaction_id: str = "4200001", **extra: Any) -> Order:
    order = add_order(ports, an_order(sku, quantity, **extra))
    write(ports, lambda uow: ports.orders.mark_paid(uow, order, transaction_id, order.total, NOW, 0, 0, None))
    return read_order(ports, order.order_id)


def a_ticket(order_id: str = "O00000000000000AAAAAAAAAAAA", kind: CodeKind = CodeKind.TICKET,
             valid_from: datetime = NOW - timedelta(hours=1), valid_until: datetime = NOW + timedelta(days=1),
             issued_at: datetime = NOW - timedelta(hours=2)) -> Ticket:
    return Ticket(code=new_code(), ticket_id=identifiers.new_reference("T" if kind is CodeKind.TICKET else "K"),
                  kind=kind, order_id=order_id, user_id=ALICE, sku_id="" if kind is CodeKind.PICKUP else "S1",
                  product_name="Hall", sku_name="Adult", valid_from=valid_from, valid_until=valid_until,
                  issued_at=issued_at, qr="MM1.x.y.z", visitor={"name": "张三", "id_type": "id_card",
                                                              "id_number": "1101**********1234"})


def add_ticket(ports: Context, ticket: Ticket | None = None) -> Ticket:
    ticket = ticket or a_ticket()
    write(ports, lambda uow: ports.tickets.add(uow, ticket))
    return ticket


def code_of(ports: Context, code: str) -> Ticket:
    found = ports.tickets.by_code(code)
    assert found is not None
    return found


def a_refund(order_id: str = "O00000000000000AAAAAAAAAAAA", status: RefundStatus = RefundStatus.APPROVED,
             amount: int = 6000, at: datetime = NOW, **extra: Any) -> Refund:
    return Refund(refund_id=identifiers.new_reference("R"), order_id=order_id, amount=amount, total=12000,
                  status=status, reason="changed plans", source="customer", created_at=at, user_id=ALICE, **extra)


def add_refund(ports: Context, refund: Refund | None = None) -> Refund:
    refund = refund or a_refund()
    write(ports, lambda uow: ports.refunds.add(uow, refund, NOW))
    return refund


def read_refund(ports: Context, refund_id: str) -> Refund:
    found = ports.refunds.get(refund_id)
    assert found is not None
    return found


def move(ports: Context, refund: Refund, target: RefundStatus, **fields: Any) -> Refund:
    write(ports, lambda uow: ports.refunds.move(uow, refund, target, NOW, **fields))
    return read_refund(ports, refund.refund_id)


# ------------------------------------------------------------------ the unit of work

def test_a_unit_of_work_writes_all_or_nothing_and_names_every_failed_write_in_order(ports: Context) -> None:
    _, (short,) = add_product(ports, 1)
    write(ports, lambda uow: ports.idempotency.remember(uow, f"{ALICE}#k1", "f1", "O1", NOW))
    p = product()
    new = sku_of(p, 5)
    refusal = refused(ports, lambda uow: ports.stock.add_sku(uow, new, NOW, "tests"),
                      lambda uow: ports.stock.reserve(uow, short, 2, "O2", NOW),
                      lambda uow: ports.idempotency.remember(uow, f"{ALICE}#k1", "f2", "O2", NOW))
    assert refusal.failed == [ItemTag.SKU.of(short.sku_id), Tag.IDEMPOTENCY]
    assert ports.stock.skus([new.sku_id]) == {}                    # the write whose condition held: not written
    assert counts(ports, short.sku_id) == (1, 0, 0)
    assert ports.idempotency.get(f"{ALICE}#k1").order_id == "O1"  # type: ignore[union-attr]


def test_an_empty_unit_of_work_commits_nothing(ports: Context) -> None:
    ports.unit_of_work().commit()


def test_two_writes_on_one_item_are_an_error_of_the_caller_not_a_refusal(ports: Context) -> None:
    _, (sku,) = add_product(ports)
    order = add_order(ports, an_order(sku))
    uow = ports.unit_of_work()
    ports.orders.transition(uow, read_order(ports, order.order_id), OrderStatus.CANCELLED, NOW, ALICE)
    ports.orders.advance_issuance(uow, order.order_id, 0, 1)
    with pytest.raises(Exception) as raised:
        uow.commit()
    assert not isinstance(raised.value, WriteRefused)
    assert read_order(ports, order.order_id).status is OrderStatus.PENDING_PAYMENT


def test_a_unit_of_work_holds_at_most_a_hundred_writes(ports: Context) -> None:
    uow = ports.unit_of_work()
    for n in range(101):
        ports.payment_ledger.record(uow, f"T{n}", "O1", 1, "paid", f"N{n}", NOW, NOW)
    with pytest.raises(ValueError):
        uow.commit()
    assert ports.payment_ledger.paid_on(bill_day(NOW)) == []


# ------------------------------------------------------------------ catalog

def test_a_product_is_added_once_and_read_back(ports: Context) -> None:
    p, (sku,) = add_product(ports, purchase_limit=4)
    stored = ports.catalog.product(p.product_id)
    assert stored is not None and (stored.name, stored.kind, stored.purchase_limit, stored.sku_ids) == \
        (p.name, Kind.TICKET, 4, [sku.sku_id])
    assert stored.created_at == NOW and stored.version
    assert refused(ports, lambda uow: ports.catalog.add_product(uow, p, NOW)).failed == [Tag.PRODUCT]


def test_an_edit_applies_only_to_the_version_that_was_read(ports: Context) -> None:
    p, _ = add_product(ports)
    before = ports.catalog.product(p.product_id)
    assert before is not None
    renamed = Product(**{**before.__dict__, "name": "Renamed"})
    write(ports, lambda uow: ports.catalog.update_product(uow, before, renamed, ["name"], NOW + timedelta(seconds=1)))
    after = ports.catalog.product(p.product_id)
    assert after is not None and after.name == "Renamed" and after.version != before.version
    other = Product(**{**before.__dict__, "status": ProductStatus.UNLISTED})
    assert refused(ports, lambda uow: ports.catalog.update_product(
        uow, before, other, ["status"], NOW + timedelta(seconds=2))).failed == [Tag.PRODUCT]
    assert ports.catalog.product(p.product_id).status is ProductStatus.LISTED   # type: ignore[union-attr]


def test_a_sku_is_added_to_an_existing_product_only(ports: Context) -> None:
    p, (sku,) = add_product(ports)
    assert refused(ports, lambda uow: ports.catalog.add_sku_to_product(
        uow, identifiers.new_product_id(), "X", NOW)).failed == [Tag.PRODUCT]
    more = sku_of(p, 3)
    write(ports, lambda uow: ports.catalog.add_sku_to_product(uow, p.product_id, more.sku_id, NOW),
          lambda uow: ports.stock.add_sku(uow, more, NOW, "tests"))
    assert ports.catalog.product(p.product_id).sku_ids == [sku.sku_id, more.sku_id]   # type: ignore[union-attr]


def test_the_catalog_lists_what_may_be_on_sale_filtered(ports: Context) -> None:
    listed, _ = add_product(ports)
    add_product(ports, status=ProductStatus.UNLISTED)
    goods, _ = add_product(ports, kind=Kind.MERCH, category="souvenir", tags=["tote"])
    page = ports.catalog.catalog_page(10, None, None, None, None)
    assert {p.product_id for p in page.items} == {listed.product_id, goods.product_id}
    assert [p.product_id for p in ports.catalog.catalog_page(10, None, "merch", None, None).items] == \
        [goods.product_id]
    assert [p.product_id for p in ports.catalog.catalog_page(10, None, None, None, "tote").items] == \
        [goods.product_id]
    assert ports.catalog.catalog_page(10, None, None, "nothing", None).items == []


# ------------------------------------------------------------------ stock

def test_a_sku_is_added_once_with_its_initial_movement(ports: Context) -> None:
    p, (sku,) = add_product(ports, 7)
    assert counts(ports, sku.sku_id) == (7, 0, 0) and ledger_sum(ports, sku.sku_id) == 7
    assert refused(ports, lambda uow: ports.stock.add_sku(uow, sku, NOW, "tests")).failed == \
        [ItemTag.SKU.of(sku.sku_id)]


def test_reserving_more_than_is_free_is_refused_with_the_skus_tag(ports: Context) -> None:
    _, (sku,) = add_product(ports, 3)
    refusal = refused(ports, lambda uow: ports.stock.reserve(uow, sku, 4, "O1", NOW))
    assert refusal.failed == [ItemTag.SKU.of(sku.sku_id)]
    shares: list[Any] = []
    write(ports, lambda uow: shares.append(ports.stock.reserve(uow, sku, 3, "O1", NOW)))
    assert shares == [{}]                                      # an unsharded SKU: all from the SKU item
    assert counts(ports, sku.sku_id) == (0, 3, 0) and ledger_sum(ports, sku.sku_id) == 0
    assert refused(ports, lambda uow: ports.stock.reserve(uow, sku, 1, "O2", NOW)).failed == \
        [ItemTag.SKU.of(sku.sku_id)]


def test_selling_and_releasing_need_the_units_reserved(ports: Context) -> None:
    _, (sku,) = add_product(ports, 5)
    write(ports, lambda uow: ports.stock.reserve(uow, sku, 3, "O1", NOW))
    assert refused(ports, lambda uow: ports.stock.sell(uow, sku.sku_id, {0: 4})).failed == [ItemTag.SKU.of(sku.sku_id)]
    assert refused(ports, lambda uow: ports.stock.release(uow, sku.sku_id, {0: 4}, "O1", "order_cancelled", NOW)
                   ).failed == [ItemTag.SKU.of(sku.sku_id)]
    write(ports, lambda uow: ports.stock.sell(uow, sku.sku_id, {0: 2}))
    write(ports, lambda uow: ports.stock.release(uow, sku.sku_id, {0: 1}, "O1", "order_cancelled", NOW))
    assert counts(ports, sku.sku_id) == (3, 0, 2) and ledger_sum(ports, sku.sku_id) == 3


def test_giving_back_sold_units_needs_them_sold(ports: Context) -> None:
    _, (sku,) = add_product(ports, 5)
    write(ports, lambda uow: ports.stock.reserve(uow, sku, 2, "O1", NOW))
    write(ports, lambda uow: ports.stock.sell(uow, sku.sku_id, {0: 2}))
    assert refused(ports, lambda uow: ports.stock.give_back_sold(uow, sku.sku_id, {0: 3}, "R1", NOW)).failed == \
        [ItemTag.SKU.of(sku.sku_id)]
    write(ports, lambda uow: ports.stock.give_back_sold(uow, sku.sku_id, {0: 2}, "R1", NOW))
    assert counts(ports, sku.sku_id) == (5, 0, 0) and ledger_sum(ports, sku.sku_id) == 5


def test_an_adjustment_never_takes_stock_below_zero(ports: Context) -> None:
    _, (sku,) = add_product(ports, 4)
    assert refused(ports, lambda uow: ports.stock.adjust(uow, sku, -5, "broken", NOW, "tests")).failed == \
        [ItemTag.SKU.of(sku.sku_id)]
    write(ports, lambda uow: ports.stock.adjust(uow, sku, 6, "delivery", NOW + timedelta(seconds=1), "tests"))
    write(ports, lambda uow: ports.stock.adjust(uow, read_sku(ports, sku.sku_id), -10, "broken",
                                                NOW + timedelta(seconds=2), "tests"))
    assert counts(ports, sku.sku_id) == (0, 0, 0) and ledger_sum(ports, sku.sku_id) == 0
    movements = ports.stock.movements_page(read_sku(ports, sku.sku_id), 10, None).items
    assert [(m.delta, m.reason) for m in movements] == [(4, "initial_stock"), (6, "delivery"), (-10, "broken")]


def test_a_stocktake_applies_only_to_the_stock_it_read(ports: Context) -> None:
    _, (sku,) = add_product(ports, 10)
    as_read = read_sku(ports, sku.sku_id)
    write(ports, lambda uow: ports.stock.reserve(uow, sku, 1, "O1", NOW))     # a sale meanwhile
    assert refused(ports, lambda uow: ports.stock.count(uow, as_read, 8, "stocktake", NOW, "tests")).failed == \
        [ItemTag.SKU.of(sku.sku_id)]
    write(ports, lambda uow: ports.stock.count(uow, read_sku(ports, sku.sku_id), 6, "stocktake", NOW, "tests"))
    assert counts(ports, sku.sku_id) == (6, 1, 0) and ledger_sum(ports, sku.sku_id) == 6


def test_a_split_sku_is_read_whole_and_the_order_path_reads_only_its_own_item(ports: Context) -> None:
    p, (sku,) = add_product(ports, 10)
    after = split(ports, sku.sku_id, 4)
    assert after.stock_shards == 4 and after.available == 10 and after.stock_known
    assert after.free_by_bucket == {0: 0, 1: 3, 2: 3, 3: 2, 4: 2}
    seen = ports.placement.snapshot([sku.sku_id], [p.product_id], ALICE, None).skus[sku.sku_id]
    assert seen.sharded and not seen.stock_known and seen.available == 0
    assert ledger_sum(ports, sku.sku_id) == 10                   # a split moves no stock in or out


def test_a_split_is_refused_when_the_stock_moved_since_it_was_read(ports: Context) -> None:
    _, (sku,) = add_product(ports, 10)
    as_read = read_sku(ports, sku.sku_id)
    write(ports, lambda uow: ports.stock.reserve(uow, sku, 1, "O1", NOW))
    assert refused(ports, lambda uow: ports.stock.split(uow, as_read, 4)).failed == [ItemTag.SKU.of(sku.sku_id)]
    assert not read_sku(ports, sku.sku_id).sharded


def test_a_unit_sold_outright_needs_one_free_and_comes_back_only_if_sold(ports: Context) -> None:
    _, (sku,) = add_product(ports, 1)
    write(ports, lambda uow: ports.stock.sell_unit(uow, sku.sku_id, 0, "O1", "reschedule_in", NOW))
    assert counts(ports, sku.sku_id) == (0, 0, 1) and ledger_sum(ports, sku.sku_id) == 0
    assert refused(ports, lambda uow: ports.stock.sell_unit(uow, sku.sku_id, 0, "O2", "reschedule_in", NOW)
                   ).failed == [ItemTag.SKU.of(sku.sku_id)]
    write(ports, lambda uow: ports.stock.unsell_unit(uow, sku.sku_id, 0, "O1", "reschedule_out", NOW))
    assert counts(ports, sku.sku_id) == (1, 0, 0) and ledger_sum(ports, sku.sku_id) == 1
    assert refused(ports, lambda uow: ports.stock.unsell_unit(uow, sku.sku_id, 0, "O1", "reschedule_out", NOW)
                   ).failed == [ItemTag.SKU.of(sku.sku_id)]
    moved = {(m.reason, m.order_id, m.delta) for m in ports.stock.movements_page(read_sku(ports, sku.sku_id), 10,
                                                                                  None).items}
    assert moved == {("initial_stock", None, 1), ("reschedule_in", "O1", -1), ("reschedule_out", "O1", 1)}


def test_a_sharded_skus_unit_is_taken_from_a_shard_and_counted_sold_on_the_sku(ports: Context) -> None:
    _, (sku,) = add_product(ports, 4)
    sharded = split(ports, sku.sku_id, 4)                      # one unit in each shard
    write(ports, lambda uow: ports.stock.sell_unit(uow, sku.sku_id, 2, "O1", "reschedule_in", NOW))
    after = read_sku(ports, sku.sku_id)
    assert after.free_by_bucket == {0: 0, 1: 1, 2: 0, 3: 1, 4: 1} and (after.available, after.sold) == (3, 1)
    assert refused(ports, lambda uow: ports.stock.sell_unit(uow, sku.sku_id, 2, "O2", "reschedule_in", NOW)
                   ).failed == [ItemTag.SKU.of(sku.sku_id)]
    write(ports, lambda uow: ports.stock.unsell_unit(uow, sku.sku_id, 3, "O1", "reschedule_out", NOW))
    assert counts(ports, sku.sku_id) == (4, 0, 0) and ledger_sum(ports, sku.sku_id) == 4
    assert sharded.stock_shards == 4


def test_a_blind_pick_of_a_short_shard_is_refused_with_the_shard_tag(ports: Context) -> None:
    _, (sku,) = add_product(ports, 4)
    sharded = split(ports, sku.sku_id, 4)                      # one unit in each shard
    assert refused(ports, lambda uow: ports.stock.reserve(uow, sharded, 2, "O1", NOW)).failed == \
        [ItemTag.SHARD.of(sku.sku_id)]
    taken: list[Any] = []
    write(ports, lambda uow: taken.append(ports.stock.reserve(uow, sharded, 2, "O1", NOW, {1: 1, 3: 1})))
    assert taken == [{1: 1, 3: 1}]
    after = read_sku(ports, sku.sku_id)
    assert after.free_by_bucket == {0: 0, 1: 0, 2: 1, 3: 0, 4: 1} and after.reserved == 2
    write(ports, lambda uow: ports.stock.sell(uow, sku.sku_id, {1: 1, 3: 1}))
    assert counts(ports, sku.sku_id) == (2, 0, 2) and ledger_sum(ports, sku.sku_id) == 2


def test_gathering_brings_scattered_units_into_the_sku_item(ports: Context) -> None:
    _, (sku,) = add_product(ports, 8)
    sharded = split(ports, sku.sku_id, 4)
    write(ports, lambda uow: ports.stock.gather(uow, sharded, 5))
    after = read_sku(ports, sku.sku_id)
    assert after.available == 8 and after.free_by_bucket[0] == 5                  # type: ignore[index]
    assert refused(ports, lambda uow: ports.stock.gather(uow, sharded, 5)).failed[0] == ItemTag.SKU.of(sku.sku_id)


def test_the_low_stock_latch_is_set_once_per_crossing(ports: Context) -> None:
    _, (sku,) = add_product(ports, 10, threshold=5)
    assert refused(ports, lambda uow: ports.stock.latch_low_stock(uow, sku)).failed == [Tag.LATCH]   # not low
    write(ports, lambda uow: ports.stock.adjust(uow, sku, -7, "broken", NOW, "tests"))
    low = read_sku(ports, sku.sku_id)
    write(ports, lambda uow: ports.stock.latch_low_stock(uow, low))
    assert read_sku(ports, sku.sku_id).low_stock_alerted
    assert refused(ports, lambda uow: ports.stock.latch_low_stock(uow, low)).failed == [Tag.LATCH]   # once
    assert refused(ports, lambda uow: ports.stock.rearm_low_stock(uow, low)).failed == [Tag.LATCH]   # still low
    write(ports, lambda uow: ports.stock.adjust(uow, low, 4, "delivery", NOW, "tests"))
    write(ports, lambda uow: ports.stock.rearm_low_stock(uow, read_sku(ports, sku.sku_id)))
    assert not read_sku(ports, sku.sku_id).low_stock_alerted


def test_the_inventory_lists_skus_and_those_below_their_threshold(ports: Context) -> None:
    _, (plenty, low) = add_product(ports, 10, 1, threshold=2)
    everything = ports.stock.inventory_page(10, None, False).items
    assert {s.sku_id for s in everything} == {plenty.sku_id, low.sku_id}
    assert [s.sku_id for s in ports.stock.inventory_page(10, None, True).items] == [low.sku_id]


# ------------------------------------------------------------------ orders

def test_an_order_is_added_once_and_read_back_whole(ports: Context) -> None:
    p, (sku,) = add_product(ports)
    order = an_order(sku, 2, visitors=[Visitor("张三", "id_card", "110101199003071234", sku.sku_id)])
    add_order(ports, order, {p.product_id})
    found = ports.orders.get(order.order_id)
    assert found is not None
    stored, counted = found
    assert counted == {p.product_id}
    assert (stored.status, stored.total, stored.contact_phone, stored.visitors, stored.lines, stored.history) == \
        (OrderStatus.PENDING_PAYMENT, 12000, PHONE, order.visitors, order.lines, order.history)
    assert (stored.refunds_in_flight, stored.refunded_total, stored.tickets_issued, stored.transaction_id) == \
        (0, 0, 0, None)
    assert refused(ports, lambda uow: ports.orders.add(uow, order, set())).failed == [Tag.ORDER]


def test_a_transition_applies_only_to_the_status_it_was_read_in(ports: Context) -> None:
    _, (sku,) = add_product(ports)
    order = add_order(ports, an_order(sku))
    stale = read_order(ports, order.order_id)
    cancelled = read_order(ports, order.order_id)
    write(ports, lambda uow: ports.orders.transition(uow, cancelled, OrderStatus.CANCELLED, NOW, ALICE,
                                                      reason="changed plans"))
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.history[-1].status is OrderStatus.CANCELLED
    assert refused(ports, lambda uow: ports.orders.transition(uow, stale, OrderStatus.EXPIRED, NOW, "system")
                   ).failed == [Tag.ORDER]
    stored = read_order(ports, order.order_id)
    assert stored.status is OrderStatus.CANCELLED and stored.cancel_reason == "changed plans"
    assert [h.status for h in stored.history] == [OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED]
    assert order.order_id not in ports.orders.pending_expired(NOW + timedelta(hours=1), 10)


def test_marking_paid_needs_the_order_pending_at_the_amount_paid_and_shows_it_as_it_was(ports: Context) -> None:
    _, (sku,) = add_product(ports)
    order = add_order(ports, an_order(sku))
    refusal = refused(ports, lambda uow: ports.orders.mark_paid(uow, read_order(ports, order.order_id), "T1",
                                                               order.total - 1, NOW, 1, 1, None))
    assert refusal.failed == [Tag.ORDER]
    assert ports.orders.from_raw(refusal.old_items[Tag.ORDER]).status is OrderStatus.PENDING_PAYMENT
    paying = read_order(ports, order.order_id)
    write(ports, lambda uow: ports.orders.mark_paid(uow, paying, "T1", order.total, NOW, 3, 2, "123412341234"))
    assert paying.status is OrderStatus.PAID                     # the write records the move on what it is given
    stored = read_order(ports, order.order_id)
    assert (stored.status, stored.transaction_id, stored.paid_at, stored.tickets_total, stored.tickets_issued,
            stored.pickup_code) == (OrderStatus.PAID, "T1", NOW, 3, 2, "123412341234")
    # Its last ticket is not out yet: it stays where the schedule finds it, until the last batch.
    assert order.order_id in ports.orders.pending_expired(NOW + timedelta(hours=1), 10)
    write(ports, lambda uow: ports.orders.advance_issuance(uow, order.order_id, 2, 3, last=True))
    assert order.order_id not in ports.orders.pending_expired(NOW + timedelta(hours=1), 10)
    duplicate = refused(ports, lambda uow: ports.orders.mark_paid(uow, order, "T2", order.total, NOW, 3, 2, None))
    assert ports.orders.from_raw(duplicate.old_items[Tag.ORDER]).transaction_id == "T1"


def test_a_change_applies_to_the_attempt_it_was_read_on_and_payment_follows_the_open_attempt(ports: Context) -> None:
    _, (sku, other) = add_product(ports, 10, 10)
    order = add_order(ports, an_order(sku, 2), {sku.product_id})
    before = read_order(ports, order.order_id)
    line = dataclasses.replace(before.lines[0], sku_id=other.sku_id, quantity=3, discount=500)
    after = dataclasses.replace(before, lines=[line], attempt=2, changes=1, coupon_id="UC0000000000000001",
                                promotions=[Promotion("coupon", "C1", "¥5", 500, "UC0000000000000001")],
                                visitors=[Visitor("李四", "id_card", "110101199003077777", other.sku_id)])
    write(ports, lambda uow: ports.orders.change(uow, before, after, {sku.product_id}, NOW))
    stored = read_order(ports, order.order_id)
    assert ([(l.sku_id, l.quantity, l.discount) for l in stored.lines], stored.total, stored.attempt, stored.changes,
            stored.coupon_id, stored.trade_no, stored.visitors[0].name) == (
        [(other.sku_id, 3, 500)], 3 * 6000 - 500, 2, 1, "UC0000000000000001", f"{order.order_id}-2", "李四")
    assert stored.expires_at == order.expires_at and stored.status is OrderStatus.PENDING_PAYMENT
    # The same change again (read on the first attempt) is refused, and so is a payment of it.
    assert refused(ports, lambda uow: ports.orders.change(uow, before, after, set(), NOW)).failed == [Tag.ORDER]
    assert refused(ports, lambda uow: ports.orders.mark_paid(uow, before, "T1", stored.total, NOW, 0, 0, None)
                   ).failed == [Tag.ORDER]
    # Ending it as read on its first attempt would give back lines it no longer holds.
    assert refused(ports, lambda uow: ports.orders.transition(uow, dataclasses.replace(before), OrderStatus.EXPIRED,
                                                              NOW, "system")).failed == [Tag.ORDER]
    write(ports, lambda uow: ports.orders.open_attempt(uow, stored))
    assert read_order(ports, order.order_id).trade_no == f"{order.order_id}-3"
    assert refused(ports, lambda uow: ports.orders.open_attempt(uow, stored)).failed == [Tag.ORDER]
    paying = read_order(ports, order.order_id)
    write(ports, lambda uow: ports.orders.mark_paid(uow, paying, "T1", paying.total, NOW, 0, 0, None))
    assert refused(ports, lambda uow: ports.orders.change(uow, paying, after, set(), NOW)).failed == [Tag.ORDER]


def test_further_tickets_continue_from_the_count_issued(ports: Context) -> None:
    _, (sku,) = add_product(ports)
    order = add_order(ports, an_order(sku))
    assert refused(ports, lambda uow: ports.orders.advance_issuance(uow, order.order_id, 0, 2)).failed == [Tag.ORDER]
    write(ports, lambda uow: ports.orders.mark_paid(uow, order, "T1", order.total, NOW, 5, 2, None))
    write(ports, lambda uow: ports.orders.advance_issuance(uow, order.order_id, 2, 4))
    assert refused(ports, lambda uow: ports.orders.advance_issuance(uow, order.order_id, 2, 4)).failed == [Tag.ORDER]
    assert read_order(ports, order.order_id).tickets_issued == 4


def test_approved_refunds_never_add_up_beyond_what_was_paid(ports: Context) -> None:
    _, (sku,) = add_product(ports)
    order = paid_order(ports, sku, 2)                           # 12000 paid
    write(ports, lambda uow: ports.orders.claim_refund(uow, order, "R1", 7000, False, False, NOW, ALICE))
    claimed = read_order(ports, order.order_id)
    assert (claimed.status, claimed.refunds_in_flight, claimed.before_refund) == \
        (OrderStatus.REFUNDING, 1, OrderStatus.PAID)
    assert refused(ports, lambda uow: ports.orders.claim_refund(uow, order, "R2", 1000, False, False, NOW, ALICE)
                   ).failed == [Tag.ORDER]                        # read as PAID: it moved on
    refusal = refused(ports, lambda uow: ports.orders.claim_refund(uow, claimed, "R2", 6000, False, False, NOW,
                                                                  ALICE))
    assert ports.orders.from_raw(refusal.old_items[Tag.ORDER]).refunds_in_flight == 1
    write(ports, lambda uow: ports.orders.claim_refund(uow, claimed, "R2", 5000, False, False, NOW, ALICE))
    again = read_order(ports, order.order_id)
    assert (again.refunds_in_flight, again.before_refund) == (2, OrderStatus.PAID)


def test_goods_are_claimed_by_one_refund_only_and_shipped_goods_only_once_back(ports: Context) -> None:
    _, (sku,) = add_product(ports, kind=Kind.MERCH)
    order = paid_order(ports, sku, kind=Kind.MERCH, fulfillment=Fulfillment.PICKUP)
    write(ports, lambda uow: ports.orders.claim_goods(uow, order.order_id, "R1"))
    assert refused(ports, lambda uow: ports.orders.claim_goods(uow, order.order_id, "R2")).failed == [Tag.ORDER]
    assert refused(ports, lambda uow: ports.orders.release_goods(uow, order.order_id, "R2")).failed == [Tag.ORDER]
    write(ports, lambda uow: ports.orders.release_goods(uow, order.order_id, "R1"))
    assert read_order(ports, order.order_id).merch_refund is None
    shipped = paid_order(ports, sku, kind=Kind.MERCH, fulfillment=Fulfillment.SHIPPING, transaction_id="T9")
    write(ports, lambda uow: ports.orders.transition(uow, shipped, OrderStatus.SHIPPED, NOW, "staff",
                                                      shipment={"carrier": "SF", "tracking_no": "1"},
                                                      receipt_due=NOW + timedelta(days=10)))
    assert ports.orders.receipt_due(NOW + timedelta(days=11), 10) == [shipped.order_id]
    shipped = read_order(ports, shipped.order_id)
    refusal = refused(ports, lambda uow: ports.orders.claim_refund(uow, shipped, "R3", 6000, True, False, NOW, "x"))
    assert ports.orders.from_raw(refusal.old_items[Tag.ORDER]).shipment == {"carrier": "SF", "tracking_no": "1"}
    write(ports, lambda uow: ports.orders.claim_refund(uow, shipped, "R3", 6000, True, True, NOW, "x"))
    assert read_order(ports, shipped.order_id).merch_refund == "R3"
    assert ports.orders.receipt_due(NOW + timedelta(days=11), 10) == []      # no automatic receipt meanwhile


def test_shipping_needs_the_goods_unclaimed_and_unshipped(ports: Context) -> None:
    _, (sku,) = add_product(ports, kind=Kind.MERCH)
    order = paid_order(ports, sku, kind=Kind.MERCH, fulfillment=Fulfillment.SHIPPING)
    write(ports, lambda uow: ports.orders.claim_goods(uow, order.order_id, "R1"))
    assert refused(ports, lambda uow: ports.orders.transition(
        uow, order, OrderStatus.SHIPPED, NOW, "staff", shipment={"carrier": "SF", "tracking_no": "1"})
    ).failed == [Tag.ORDER]


def test_settling_a_refund_applies_to_the_refunds_in_flight_as_read(ports: Context) -> None:
    _, (sku,) = add_product(ports)
    order = paid_order(ports, sku, 2)
    write(ports, lambda uow: ports.orders.claim_refund(uow, order, "R1", 12000, False, False, NOW, ALICE))
    assert refused(ports, lambda uow: ports.orders.settle_refund(uow, order, 12000, OrderStatus.REFUNDED, NOW)
                   ).failed == [Tag.ORDER]                        # read before the claim
    claimed = read_order(ports, order.order_id)
    write(ports, lambda uow: ports.orders.settle_refund(uow, claimed, 12000, OrderStatus.REFUNDED, NOW))
    settled = read_order(ports, order.order_id)
    assert (settled.status, settled.refunded_total, settled.refunds_in_flight, settled.before_refund) == \
        (OrderStatus.REFUNDED, 12000, 0, None)


def test_a_failed_refund_releases_its_amount_and_goods_and_a_late_confirmation_claims_them_again(
        ports: Context) -> None:
    _, (sku,) = add_product(ports, kind=Kind.MERCH)
    order = paid_order(ports, sku, 2, kind=Kind.MERCH, fulfillment=Fulfillment.PICKUP)
    write(ports, lambda uow: ports.orders.claim_refund(uow, order, "R1", 12000, True, False, NOW, ALICE))
    claimed = read_order(ports, order.order_id)
    assert refused(ports, lambda uow: ports.orders.release_refund(uow, claimed, "R2", 12000, True, OrderStatus.PAID,
                                                                   NOW)).failed == [Tag.ORDER]   # not its goods
    write(ports, lambda uow: ports.orders.release_refund(uow, claimed, "R1", 12000, True, OrderStatus.PAID, NOW))
    released = read_order(ports, order.order_id)
    assert (released.status, released.merch_refund, released.refunds_in_flight) == (OrderStatus.PAID, None, 0)
    write(ports, lambda uow: ports.orders.settle_released_refund(uow, released, "R1", 12000, True, False,
                                                                  OrderStatus.REFUNDED, NOW))
    late = read_order(ports, order.order_id)
    assert (late.status, late.refunded_total, late.merch_refund) == (OrderStatus.REFUNDED, 12000, "R1")
    assert refused(ports, lambda uow: ports.orders.settle_released_refund(
        uow, late, "R1", 1, True, False, None, NOW)).failed == [Tag.ORDER]          # beyond what was paid


def test_orders_are_found_by_customer_status_phone_and_due_date(ports: Context) -> None:
    _, (sku,) = add_product(ports)
    first = add_order(ports, an_order(sku, at=NOW))
    second = add_order(ports, an_order(sku, at=NOW + timedelta(minutes=1)))
    add_order(ports, an_order(sku, user=BOB, at=NOW + timedelta(minutes=2)))
    page = ports.orders.for_customer(ALICE, 1, None)
    assert [o.order_id for o in page.items] == [second.order_id] and page.next
    assert [o.order_id for o in ports.orders.for_customer(ALICE, 5, page.next).items] == [first.order_id]
    assert ports.orders.pending_expired(NOW + timedelta(minutes=15, seconds=30), 10) == [first.order_id]
    assert len(ports.orders.pending_expired(NOW + timedelta(hours=1), 10)) == 3
    write(ports, lambda uow: ports.orders.transition(uow, first, OrderStatus.CANCELLED, NOW, ALICE))
    assert [o.order_id for o in ports.orders.search("CANCELLED", None, 10, None).items] == [first.order_id]
    assert len(ports.orders.search(None, "hall", 10, None).items) == 3
    assert len(ports.orders.by_phone(PHONE, 10)) == 3 and ports.orders.by_phone("13900139000", 10) == []


def test_a_cursor_is_checked_when_it_comes_back(ports: Context) -> None:
    _, (sku,) = add_product(ports)
    for minute in range(3):
        add_order(ports, an_order(sku, at=NOW + timedelta(minutes=minute)))
    page = ports.orders.for_customer(ALICE, 2, None)
    assert page.next is not None and len(page.items) == 2
    for bad in (page.next[:-3] + "xyz", "not a cursor"):
        with pytest.raises(InvalidInput) as raised:
            ports.orders.for_customer(ALICE, 2, bad)
        assert raised.value.code == "INVALID_CURSOR"
    with pytest.raises(InvalidInput):                                  # another customer's cursor
        ports.orders.for_customer(BOB, 2, page.next)


def test_shipped_goods_whose_refund_failed_wait_for_their_receipt_again(ports: Context) -> None:
    _, (sku,) = add_product(ports, kind=Kind.MERCH)
    order = paid_order(ports, sku, kind=Kind.MERCH, fulfillment=Fulfillment.SHIPPING)
    write(ports, lambda uow: ports.orders.transition(uow, order, OrderStatus.SHIPPED, NOW, "staff",
                                                      shipment={"carrier": "SF", "tracking_no": "1"},
                                                      receipt_due=NOW + timedelta(days=10)))
    shipped = read_order(ports, order.order_id)
    write(ports, lambda uow: ports.orders.claim_refund(uow, shipped, "R1", 6000, True, True, NOW, "staff"))
    assert ports.orders.receipt_due(NOW + timedelta(days=30), 10) == []
    claimed = read_order(ports, order.order_id)
    write(ports, lambda uow: ports.orders.release_refund(uow, claimed, "R1", 6000, True, OrderStatus.SHIPPED, NOW,
                                                          receipt_due=NOW + timedelta(days=12)))
    assert read_order(ports, order.order_id).status is OrderStatus.SHIPPED
    assert ports.orders.receipt_due(NOW + timedelta(days=11), 10) == []
    assert ports.orders.receipt_due(NOW + timedelta(days=13), 10) == [order.order_id]
    write(ports, lambda uow: ports.orders.transition(uow, read_order(ports, order.order_id), OrderStatus.COMPLETED,
                                                      NOW, "system"))
    assert ports.orders.receipt_due(NOW + timedelta(days=13), 10) == []


# ------------------------------------------------------------------ what placing an order writes besides

def test_the_purchase_limit_is_the_counters_condition(ports: Context) -> None:
    p = identifiers.new_product_id()
    write(ports, lambda uow: ports.counters.hold(uow, ALICE, p, 2, 3))
    assert refused(ports, lambda uow: ports.counters.hold(uow, ALICE, p, 2, 3)).failed == [ItemTag.LIMIT.of(p)]
    write(ports, lambda uow: ports.counters.hold(uow, BOB, p, 3, 3))             # per customer
    assert refused(ports, lambda uow: ports.counters.give_back(uow, ALICE, p, 3)).failed == [ItemTag.LIMIT.of(p)]
    write(ports, lambda uow: ports.counters.give_back(uow, ALICE, p, 2))
    write(ports, lambda uow: ports.counters.hold(uow, ALICE, p, 3, 3))
    assert ItemTag.LIMIT.matches(refused(ports, lambda uow: ports.counters.give_back(
        uow, ALICE, identifiers.new_product_id(), 1)).failed[0])


def test_a_customer_holds_unpaid_at_most_the_limits(ports: Context) -> None:
    a, b = "P000000000001-S000001", "P000000000001-S000002"
    for _ in range(ports.unpaid.limits.orders):
        write(ports, lambda uow: ports.unpaid.hold(uow, ALICE, {a: 1}))
    assert refused(ports, lambda uow: ports.unpaid.hold(uow, ALICE, {b: 1})).failed == [Tag.UNPAID]
    write(ports, lambda uow: ports.unpaid.release(uow, ALICE, {a: 1}))
    assert ports.unpaid.of(ALICE) == (2, {a: 2})
    units = ports.unpaid.limits.units_per_sku
    write(ports, lambda uow: ports.unpaid.hold(uow, BOB, {a: units - 1}))
    assert refused(ports, lambda uow: ports.unpaid.hold(uow, BOB, {a: 2, b: 1})).failed == [Tag.UNPAID]
    write(ports, lambda uow: ports.unpaid.hold(uow, BOB, {a: 1, b: 1}))
    assert ports.unpaid.of(BOB) == (2, {a: units, b: 1})
    write(ports, lambda uow: ports.unpaid.release(uow, BOB, {a: units - 1}),
          lambda uow: ports.idempotency.remember(uow, "x", "f", "O", NOW))   # one item per write: fine
    assert ports.unpaid.of(BOB) == (1, {a: 1, b: 1})


def test_a_changed_order_moves_its_unpaid_units_within_the_limit(ports: Context) -> None:
    a, b = "P000000000001-S000001", "P000000000001-S000002"
    units = ports.unpaid.limits.units_per_sku
    write(ports, lambda uow: ports.unpaid.hold(uow, ALICE, {a: units - 1}))
    assert refused(ports, lambda uow: ports.unpaid.adjust(uow, ALICE, {a: 2})).failed == [Tag.UNPAID]
    write(ports, lambda uow: ports.unpaid.adjust(uow, ALICE, {a: -(units - 2), b: 3}))
    assert ports.unpaid.of(ALICE) == (1, {a: 1, b: 3})


def test_an_idempotency_key_is_remembered_once(ports: Context) -> None:
    write(ports, lambda uow: ports.idempotency.remember(uow, f"{ALICE}#k", "f1", "O1", NOW))
    assert refused(ports, lambda uow: ports.idempotency.remember(uow, f"{ALICE}#k", "f2", "O2", NOW)).failed == \
        [Tag.IDEMPOTENCY]
    reply = ports.idempotency.get(f"{ALICE}#k")
    assert reply is not None and (reply.fingerprint, reply.order_id) == ("f1", "O1")
    assert ports.idempotency.get(f"{BOB}#k") is None


def test_the_order_paths_read_gathers_skus_products_counters_and_an_earlier_reply(ports: Context) -> None:
    p, (sku,) = add_product(ports, 5, purchase_limit=4)
    write(ports, lambda uow: ports.counters.hold(uow, ALICE, p.product_id, 2, 4),
          lambda uow: ports.idempotency.remember(uow, f"{ALICE}#k", "f1", "O1", NOW))
    missing = identifiers.new_sku_id(p.product_id)
    snapshot = ports.placement.snapshot([sku.sku_id, missing], [p.product_id], ALICE, f"{ALICE}#k")
    assert set(snapshot.skus) == {sku.sku_id} and snapshot.skus[sku.sku_id].available == 5
    assert snapshot.products[p.product_id].purchase_limit == 4
    assert snapshot.purchased == {p.product_id: 2}
    assert snapshot.idempotent_reply is not None and snapshot.idempotent_reply.order_id == "O1"
    other = ports.placement.snapshot([sku.sku_id], [p.product_id], BOB, None)
    assert other.purchased == {} and other.idempotent_reply is None


# ------------------------------------------------------------------ tickets

def test_a_code_is_issued_once(ports: Context) -> None:
    ticket = add_ticket(ports)
    assert refused(ports, lambda uow: ports.tickets.add(uow, ticket)).failed == [ItemTag.TICKET.of(ticket.ticket_id)]
    stored = code_of(ports, ticket.code)
    assert (stored.ticket_id, stored.status, stored.visitor, stored.valid_until) == \
        (ticket.ticket_id, TicketStatus.VALID, ticket.visitor, ticket.valid_until)


def test_a_code_redeems_once_and_a_refused_scan_shows_the_code_as_it_was(ports: Context) -> None:
    ticket = add_ticket(ports)
    scan = Scan("gate-1", "dev-1", "staffer", NOW, "n1")
    rule = admission_condition(admission_checks(NOW, None))
    first = ports.tickets.redeem(ticket.code, scan, NOW, rule)
    assert first.accepted and first.before is not None and first.before.status is TicketStatus.VALID
    second = ports.tickets.redeem(ticket.code, Scan("gate-2", "dev-2", "staffer", NOW, "n2"), NOW, rule)
    assert not second.accepted and second.before is not None
    assert (second.before.status, second.before.redeemed_gate, second.before.redeem_nonce,
            second.before.redeemed_device) == (TicketStatus.REDEEMED, "gate-1", "n1", "dev-1")
    assert ports.tickets.redeem(new_code(), scan, NOW, rule) == type(first)(False, None)


def test_the_gates_rule_is_the_scans_condition(ports: Context) -> None:
    early = add_ticket(ports, a_ticket(valid_from=NOW + timedelta(hours=1)))
    attempt = ports.tickets.redeem(early.code, Scan("g", "d", "s", NOW), NOW,
                                   admission_condition(admission_checks(NOW, None)))
    assert not attempt.accepted and attempt.before is not None and attempt.before.status is TicketStatus.VALID
    ticket = add_ticket(ports)
    assert not ports.tickets.redeem(ticket.code, Scan("g", "d", "s", NOW), NOW,
                                    admission_condition(admission_checks(NOW, "T-another"))).accepted
    backdated = NOW - timedelta(hours=3)                       # an offline scan before the code was issued
    assert not ports.tickets.redeem(ticket.code, Scan("g", "d", "s", backdated), NOW, admission_condition(
        admission_checks(backdated, ticket.ticket_id, earliest_wins=True))).accepted
    assert code_of(ports, ticket.code).status is TicketStatus.VALID
    # an earlier offline scan takes over the redemption a later one recorded
    later, earlier = NOW - timedelta(minutes=5), NOW - timedelta(minutes=30)
    assert ports.tickets.redeem(ticket.code, Scan("g1", "d1", "s", later), NOW, admission_condition(
        admission_checks(later, None, earliest_wins=True))).accepted
    takeover = ports.tickets.redeem(ticket.code, Scan("g2", "d2", "s", earlier), NOW, admission_condition(
        admission_checks(earlier, None, earliest_wins=True)))
    assert takeover.accepted and takeover.before.redeemed_gate == "g1"              # type: ignore[union-attr]
    assert code_of(ports, ticket.code).redeemed_scanned_at == earlier


def test_a_refund_takes_back_an_unused_code_only_and_a_refusal_shows_it(ports: Context) -> None:
    ticket, used = add_ticket(ports), add_ticket(ports)
    write(ports, lambda uow: ports.tickets.revoke(uow, ticket.code, "R1", NOW))
    revoked = code_of(ports, ticket.code)
    assert (revoked.status, revoked.revoked_by, revoked.revoked_at) == (TicketStatus.REVOKED, "R1", NOW)
    refusal = refused(ports, lambda uow: ports.tickets.revoke(uow, ticket.code, "R2", NOW))
    assert refusal.failed == [ItemTag.TICKET.of(ticket.code)]
    assert ports.tickets.from_raw(refusal.old_items[ItemTag.TICKET.of(ticket.code)]).revoked_by == "R1"
    ports.tickets.redeem(used.code, Scan("g", "d", "s", NOW), NOW, admission_condition(admission_checks(NOW, None)))
    refusal = refused(ports, lambda uow: ports.tickets.revoke(uow, used.code, "R2", NOW))
    assert ports.tickets.from_raw(refusal.old_items[ItemTag.TICKET.of(used.code)]).status is TicketStatus.REDEEMED
    missing = new_code()
    refusal = refused(ports, lambda uow: ports.tickets.revoke(uow, missing, "R2", NOW))
    assert refusal.failed == [ItemTag.TICKET.of(missing)] and refusal.old_items == {}


def test_a_failed_refunds_codes_are_taken_over_unless_a_gate_let_their_visitor_in(ports: Context) -> None:
    one, two = add_ticket(ports), add_ticket(ports)
    write(ports, lambda uow: ports.tickets.revoke(uow, one.code, "R1", NOW),
          lambda uow: ports.tickets.revoke(uow, two.code, "R1", NOW))
    assert refused(ports, lambda uow: ports.tickets.revoke(uow, one.code, "R2", NOW, take_over_from=["R9"])
                   ).failed == [ItemTag.TICKET.of(one.code)]
    write(ports, lambda uow: ports.tickets.revoke(uow, one.code, "R2", NOW, take_over_from=["R1"]))
    assert code_of(ports, one.code).revoked_by == "R2"
    assert ports.tickets.admitted_offline(code_of(ports, two.code), NOW)
    assert not ports.tickets.admitted_offline(code_of(ports, two.code), NOW)          # once
    assert refused(ports, lambda uow: ports.tickets.revoke(uow, two.code, "R2", NOW, take_over_from=["R1"])
                   ).failed == [ItemTag.TICKET.of(two.code)]


def test_a_refund_sent_again_needs_no_offline_admission_since(ports: Context) -> None:
    ticket = add_ticket(ports)
    write(ports, lambda uow: ports.tickets.revoke(uow, ticket.code, "R1", NOW))
    write(ports, lambda uow: ports.tickets.not_admitted_since_revoked(uow, ticket.code))
    stale = code_of(ports, ticket.code)
    stale.revoked_by = "R0"
    assert not ports.tickets.admitted_offline(stale, NOW)      # only while the refund that took it back holds it
    assert ports.tickets.admitted_offline(code_of(ports, ticket.code), NOW)
    assert refused(ports, lambda uow: ports.tickets.not_admitted_since_revoked(uow, ticket.code)).failed == \
        [ItemTag.TICKET.of(ticket.code)]


def test_a_used_pickup_code_is_taken_back_only_with_the_goods(ports: Context) -> None:
    pickup = add_ticket(ports, a_ticket(kind=CodeKind.PICKUP))
    ticket = add_ticket(ports)
    rule = admission_condition(admission_checks(NOW, None))
    for code in (pickup.code, ticket.code):
        assert ports.tickets.redeem(code, Scan("g", "d", "s", NOW), NOW, rule).accepted
    assert refused(ports, lambda uow: ports.tickets.revoke(uow, pickup.code, "R1", NOW)).failed == \
        [ItemTag.TICKET.of(pickup.code)]
    assert refused(ports, lambda uow: ports.tickets.revoke(uow, ticket.code, "R1", NOW, goods_returned=True)
                   ).failed == [ItemTag.TICKET.of(ticket.code)]        # an admission does not come back
    write(ports, lambda uow: ports.tickets.revoke(uow, pickup.code, "R1", NOW, goods_returned=True))
    assert code_of(ports, pickup.code).status is TicketStatus.REVOKED


def test_a_scan_to_review_is_kept_once(ports: Context) -> None:
    ticket = add_ticket(ports)
    scan = Scan("gate-2", "dev-2", "staffer", NOW - timedelta(minutes=1), "n2")
    conflict = ScanConflict(ConflictKind.EARLIER_SCAN, NOW - timedelta(minutes=2), "gate-1")
    assert ports.tickets.record_conflict(ticket, scan, conflict, NOW)
    assert not ports.tickets.record_conflict(ticket, scan, conflict, NOW + timedelta(seconds=5))
    assert ports.tickets.record_conflict(ticket, Scan("gate-2", "dev-2", "staffer", NOW, "n3"), conflict, NOW)


def test_revocations_list_codes_still_live_and_those_taken_back_since(ports: Context) -> None:
    live, old, late = (add_ticket(ports), add_ticket(ports, a_ticket(valid_until=NOW - timedelta(minutes=1))),
                       add_ticket(ports))
    write(ports, lambda uow: ports.tickets.revoke(uow, live.code, "R1", NOW - timedelta(hours=1)),
          lambda uow: ports.tickets.revoke(uow, old.code, "R1", NOW - timedelta(hours=1)),
          lambda uow: ports.tickets.revoke(uow, late.code, "R2", NOW))
    assert {r.ticket_id for r in ports.tickets.revocations(NOW)} == {live.ticket_id, late.ticket_id}
    since = ports.tickets.revocations(NOW, recorded_after=NOW - timedelta(minutes=30))
    assert [(r.ticket_id, r.revoked_at) for r in since] == [(late.ticket_id, NOW)]


def test_codes_are_found_by_order_and_by_ticket_id(ports: Context) -> None:
    order_id = identifiers.new_order_id(NOW)
    one, two = add_ticket(ports, a_ticket(order_id)), add_ticket(ports, a_ticket(order_id))
    add_ticket(ports)
    assert {t.code for t in ports.tickets.of_order(order_id)} == {one.code, two.code}
    assert ports.tickets.by_ticket_id(two.ticket_id).code == two.code               # type: ignore[union-attr]
    assert ports.tickets.by_ticket_id("T-none") is None and ports.tickets.by_code(new_code()) is None


def test_a_ticket_keeps_its_reschedules_and_predecessor(ports: Context) -> None:
    ticket = dataclasses.replace(a_ticket(), reschedules=1, rescheduled_from="T0000000000000001", visitor_key="k1")
    add_ticket(ports, ticket)
    back = code_of(ports, ticket.code)
    assert (back.reschedules, back.rescheduled_from, back.visitor_key) == (1, "T0000000000000001", "k1")
    plain = add_ticket(ports)
    assert (code_of(ports, plain.code).reschedules, code_of(ports, plain.code).rescheduled_from) == (0, None)


def test_a_visitor_changes_on_a_valid_code_only_and_a_refusal_shows_it(ports: Context) -> None:
    ticket, revoked = add_ticket(ports), add_ticket(ports)
    visitor = {"name": "王五", "id_type": "passport", "id_number": "E1****678"}
    write(ports, lambda uow: ports.tickets.change_visitor(uow, ticket.code, visitor, "key-1"))
    changed = code_of(ports, ticket.code)
    assert (changed.visitor, changed.visitor_key, changed.qr) == (visitor, "key-1", ticket.qr)
    write(ports, lambda uow: ports.tickets.revoke(uow, revoked.code, "R1", NOW))
    refusal = refused(ports, lambda uow: ports.tickets.change_visitor(uow, revoked.code, visitor, "key-1"))
    assert refusal.failed == [ItemTag.TICKET.of(revoked.code)]
    assert ports.tickets.from_raw(refusal.old_items[ItemTag.TICKET.of(revoked.code)]).status is TicketStatus.REVOKED
    assert code_of(ports, revoked.code).visitor == revoked.visitor
    missing = new_code()
    assert refused(ports, lambda uow: ports.tickets.change_visitor(uow, missing, visitor, "k")).failed == \
        [ItemTag.TICKET.of(missing)]


# ------------------------------------------------------------------ payments

def test_a_payment_is_recorded_once_per_transaction(ports: Context) -> None:
    write(ports, lambda uow: ports.payment_ledger.record(uow, "T1", "O1", 6000, "paid", "N1", NOW, NOW))
    assert refused(ports, lambda uow: ports.payment_ledger.record(uow, "T1", "O1", 6000, "paid", "N2", NOW, NOW)
                   ).failed == [Tag.PAYMENT]
    [payment] = ports.payment_ledger.paid_on(bill_day(NOW))
    assert (payment.out_trade_no, payment.transaction_id, payment.amount) == ("O1", "T1", 6000)
    assert ports.payment_ledger.paid_on(bill_day(NOW) + timedelta(days=1)) == []


# ------------------------------------------------------------------ refunds

def test_a_refund_is_added_once_and_read_back(ports: Context) -> None:
    refund = add_refund(ports, a_refund(ticket_codes=["c1", "c2"], stock_lines=[("S1", 2)], claims_goods=True,
                                        review_reasons=["goods"], status=RefundStatus.REQUESTED))
    stored = read_refund(ports, refund.refund_id)
    assert (stored.status, stored.ticket_codes, stored.stock_lines, stored.claims_goods, stored.out_refund_no,
            stored.review_reasons, stored.queries) == (RefundStatus.REQUESTED, ["c1", "c2"], [("S1", 2)], True,
                                                       refund.refund_id, ["goods"], 0)
    assert refused(ports, lambda uow: ports.refunds.add(uow, refund, NOW)).failed == [Tag.REFUND]


def test_a_refund_keeps_what_it_takes_back_and_for_whom_and_an_old_one_reads_none(ports: Context) -> None:
    session = Session(NOW + timedelta(days=2), NOW + timedelta(days=2, hours=2))
    items = [RefundItem("S1", "城市博物馆 门票", "上午场", 2, 11999, session), RefundItem("S2", "帆布袋", "红色", 1, None)]
    refund = add_refund(ports, a_refund(items=items, contact=RefundContact("王小明", PHONE)))
    stored = read_refund(ports, refund.refund_id)
    assert (stored.items, stored.contact) == (items, RefundContact("王小明", PHONE))
    assert read_refund(ports, add_refund(ports, a_refund(items=[])).refund_id).items == []
    old = read_refund(ports, add_refund(ports).refund_id)
    assert (old.items, old.contact) == (None, None)


def test_orders_are_read_many_at_once_those_that_exist(ports: Context) -> None:
    _, (sku,) = add_product(ports, 10)
    first, second = add_order(ports, an_order(sku)), add_order(ports, an_order(sku, 2))
    found = ports.orders.many([second.order_id, "O00000000000000NOSUCHORDER1", first.order_id, first.order_id])
    assert set(found) == {first.order_id, second.order_id}
    assert (found[second.order_id].lines[0].quantity, found[first.order_id].contact_phone) == (2, PHONE)
    assert ports.orders.many([]) == {}


def test_a_refund_moves_only_from_the_state_it_was_read_in(ports: Context) -> None:
    refund = add_refund(ports)
    processing = move(ports, refund, RefundStatus.PROCESSING, queries=0, gateway_status=None,
                      next_query_at=NOW + timedelta(minutes=1))
    assert processing.status is RefundStatus.PROCESSING and processing.next_query_at == NOW + timedelta(minutes=1)
    assert refused(ports, lambda uow: ports.refunds.move(uow, refund, RefundStatus.PROCESSING, NOW)).failed == \
        [Tag.REFUND]
    assert [r.refund_id for r in ports.refunds.processing_due(NOW + timedelta(minutes=2), 10)] == [refund.refund_id]
    assert ports.refunds.processing_due(NOW, 10) == []
    renumbered = move(ports, processing, RefundStatus.FAILED, last_error="closed", next_query_at=None)
    retried = move(ports, renumbered, RefundStatus.APPROVED, out_refund_no=f"{refund.refund_id}-2", last_error=None)
    assert (retried.out_refund_no, retried.last_error, retried.next_query_at) == \
        (f"{refund.refund_id}-2", None, None)
    assert refused(ports, lambda uow: ports.refunds.move(uow, renumbered, RefundStatus.PROCESSING, NOW)).failed == \
        [Tag.REFUND]                                               # under its old number
    assert ports.refunds.processing_due(NOW + timedelta(days=1), 10) == []


def test_a_refund_wechat_holds_is_not_moved_by_a_decision_made_before(ports: Context) -> None:
    refund = move(ports, add_refund(ports), RefundStatus.PROCESSING, next_query_at=NOW)
    held = move(ports, refund, RefundStatus.PROCESSING, gateway_status=HELD_BY_WECHAT,
                next_query_at=NOW + timedelta(minutes=2))
    assert held.held_by_wechat
    assert refused(ports, lambda uow: ports.refunds.move(uow, refund, RefundStatus.FAILED, NOW)).failed == [Tag.REFUND]
    assert [r.refund_id for r in ports.refunds.processing_due(NOW + timedelta(minutes=3), 10)] == [refund.refund_id]
    failed_held = move(ports, held, RefundStatus.FAILED, gateway_status=HELD_BY_WECHAT,
                       next_query_at=NOW + timedelta(minutes=4))
    assert [r.refund_id for r in ports.refunds.processing_due(NOW + timedelta(minutes=5), 10)] == [refund.refund_id]
    assert refused(ports, lambda uow: ports.refunds.supersede(uow, failed_held.refund_id, "R9", NOW)).failed == \
        [ItemTag.SUPERSEDED.of(refund.refund_id)]                       # never taken over while WeChat holds its money


def test_only_a_failed_refund_is_taken_over_and_then_never_moves(ports: Context) -> None:
    refund = move(ports, add_refund(ports), RefundStatus.PROCESSING, next_query_at=NOW)
    assert refused(ports, lambda uow: ports.refunds.supersede(uow, refund.refund_id, "R9", NOW)).failed == \
        [ItemTag.SUPERSEDED.of(refund.refund_id)]
    failed = move(ports, refund, RefundStatus.FAILED, next_query_at=None)
    write(ports, lambda uow: ports.refunds.supersede(uow, refund.refund_id, "R9", NOW))
    assert read_refund(ports, refund.refund_id).superseded_by == "R9"
    assert refused(ports, lambda uow: ports.refunds.supersede(uow, refund.refund_id, "R10", NOW)).failed == \
        [ItemTag.SUPERSEDED.of(refund.refund_id)]
    assert refused(ports, lambda uow: ports.refunds.move(uow, failed, RefundStatus.APPROVED, NOW)).failed == \
        [Tag.REFUND]
    write(ports, lambda uow: ports.refunds.paid_unsettled(uow, failed, NOW, "SUCCESS", "moved on"))
    unsettled = read_refund(ports, refund.refund_id)
    assert (unsettled.status, unsettled.unsettled, unsettled.gateway_status, unsettled.returned_stock) == \
        (RefundStatus.SUCCEEDED, True, "SUCCESS", False)
    assert refused(ports, lambda uow: ports.refunds.paid_unsettled(uow, failed, NOW, "SUCCESS", "again")).failed == \
        [Tag.REFUND]


def test_asking_wechat_again_needs_the_refund_still_waiting_for_it(ports: Context) -> None:
    refund = move(ports, add_refund(ports), RefundStatus.PROCESSING, next_query_at=NOW)
    write(ports, lambda uow: ports.refunds.ask_again(uow, refund, 1, NOW + timedelta(minutes=2)))
    asked = read_refund(ports, refund.refund_id)
    assert (asked.queries, asked.next_query_at) == (1, NOW + timedelta(minutes=2))
    succeeded = move(ports, asked, RefundStatus.SUCCEEDED, gateway_status="SUCCESS", next_query_at=None)
    assert refused(ports, lambda uow: ports.refunds.ask_again(uow, succeeded, 2, NOW)).failed == [Tag.REFUND]
    assert ports.refunds.processing_due(NOW + timedelta(days=1), 10) == []


def test_refunds_are_listed_by_status_by_order_and_for_the_sweep(ports: Context) -> None:
    order_id = identifiers.new_order_id(NOW)
    first = add_refund(ports, a_refund(order_id, at=NOW - timedelta(minutes=10)))
    second = add_refund(ports, a_refund(order_id, at=NOW - timedelta(minutes=1)))
    requested = add_refund(ports, a_refund(status=RefundStatus.REQUESTED))
    assert [r.refund_id for r in ports.refunds.page("APPROVED", 10, None).items] == [second.refund_id,
                                                                                     first.refund_id]
    assert [r.refund_id for r in ports.refunds.page("REQUESTED", 10, None).items] == [requested.refund_id]
    assert [r.refund_id for r in ports.refunds.of_order(order_id)] == [first.refund_id, second.refund_id]
    assert [r.refund_id for r in ports.refunds.approved_before(NOW - timedelta(minutes=5))] == [first.refund_id]


def test_the_attempt_wechat_accepted_is_kept_for_its_bill_day(ports: Context) -> None:
    refund = move(ports, add_refund(ports), RefundStatus.PROCESSING, next_query_at=NOW)
    ports.refunds.accepted(refund, NOW)
    ports.refunds.accepted(refund, NOW + timedelta(days=2))         # a redelivered answer keeps the first time
    [ours] = ports.refunds.accepted_on(bill_day(NOW))
    assert (ours.refund_id, ours.out_refund_no, ours.amount, ours.status) == \
        (refund.refund_id, refund.refund_id, 6000, "PROCESSING")
    stale = a_refund()
    stale.refund_id, stale.out_refund_no = refund.refund_id, f"{refund.refund_id}-5"
    ports.refunds.accepted(stale, NOW + timedelta(days=3))         # not its latest attempt: ignored
    assert ports.refunds.accepted_on(bill_day(NOW + timedelta(days=3))) == []
    assert set(ports.refunds.for_reconciliation([refund.refund_id, "R-none"])) == {refund.refund_id}


# ------------------------------------------------------------------ people

def test_a_staff_account_is_created_once(ports: Context) -> None:
    write(ports, lambda uow: ports.people.add_staff(uow, "alice", "h1", ["admin"], "seed", NOW))
    assert refused(ports, lambda uow: ports.people.add_staff(uow, "alice", "h2", ["scanner"], "seed", NOW)
                   ).failed == [Tag.STAFF]
    member = ports.people.staff("alice")
    assert member is not None and (member.password_hash, member.roles, member.generation, member.disabled) == \
        ("h1", frozenset({"admin"}), 0, False)
    write(ports, lambda uow: ports.people.add_staff(uow, "bob", "h", ["scanner"], "alice", NOW))
    assert [m.username for m in ports.people.staff_page(10, None).items] == ["alice", "bob"]


def test_a_staff_change_applies_to_the_generation_it_read(ports: Context) -> None:
    write(ports, lambda uow: ports.people.add_staff(uow, "bob", "h", ["scanner"], "seed", NOW))
    before = ports.people.staff("bob")
    assert before is not None
    write(ports, lambda uow: ports.people.change_staff(uow, before, ["finance"], None, None))
    changed = ports.people.staff("bob")
    assert changed is not None and (changed.roles, changed.generation) == (frozenset({"finance"}), 1)
    assert refused(ports, lambda uow: ports.people.change_staff(uow, before, None, True, None)).failed == [Tag.STAFF]
    assert refused(ports, lambda uow: ports.people.change_staff(
        uow, type(before)("nobody", "h", frozenset()), None, True, None)).failed == [Tag.STAFF]


def test_a_staff_change_needs_its_actor_still_an_enabled_admin(ports: Context) -> None:
    for name, roles in (("boss", ["admin"]), ("clerk", ["finance"]), ("gone", ["admin"]), ("bob", ["scanner"])):
        write(ports, lambda uow, n=name, r=roles: ports.people.add_staff(uow, n, "h", r, "seed", NOW))
    write(ports, lambda uow: ports.people.change_staff(uow, ports.people.staff("gone"), None, True, None))
    bob = ports.people.staff("bob")
    for actor in ("clerk", "gone", "nobody"):
        assert refused(ports, lambda uow, a=actor: ports.people.change_staff(uow, bob, ["admin"], None, None),
                       lambda uow, a=actor: ports.people.require_enabled_admin(uow, a)).failed == [Tag.ACTOR]
    assert ports.people.staff("bob").roles == frozenset({"scanner"})                # type: ignore[union-attr]
    write(ports, lambda uow: ports.people.change_staff(uow, bob, ["admin"], None, None),
          lambda uow: ports.people.require_enabled_admin(uow, "boss"))


def test_a_customer_keeps_one_user_id_and_a_logged_out_token_is_ended(ports: Context) -> None:
    first = ports.people.user_id_for("openid-1", NOW)
    assert identifiers.USER_ID.match(first) and ports.people.user_id_for("openid-1", NOW) == first
    assert ports.people.user_id_for("openid-2", NOW) != first
    write(ports, lambda uow: ports.people.add_staff(uow, "alice", "h", ["admin"], "seed", NOW))
    ports.people.revoke_token("tok-1", "alice", NOW + timedelta(hours=1))
    assert ports.people.standing("alice", "tok-1")[1] and not ports.people.standing("alice", "tok-2")[1]
    assert ports.people.standing("nobody", None) == (None, False)
    ports.people.record_login("alice", NOW)
    assert ports.people.staff("alice").last_login_at == NOW                           # type: ignore[union-attr]


def test_the_login_throttle_locks_an_account_from_an_address_after_five_failures(ports: Context) -> None:
    for n in range(5):
        assert ports.throttle.take_attempt("alice", "10.0.0.1", NOW + timedelta(seconds=n)) is None
    lock = ports.throttle.take_attempt("alice", "10.0.0.1", NOW + timedelta(seconds=10))
    assert lock is not None and (lock.scope, lock.first, lock.until) == ("account", True, NOW + timedelta(minutes=15))
    again = ports.throttle.take_attempt("alice", "10.0.0.1", NOW + timedelta(seconds=11))
    assert again is not None and not again.first
    assert ports.throttle.take_attempt("alice", "10.0.0.2", NOW) is None            # the owner elsewhere
    assert ports.throttle.take_attempt("alice", "10.0.0.1", NOW + timedelta(minutes=16)) is None   # a new window
    ports.throttle.succeeded("alice", "10.0.0.1", NOW + timedelta(minutes=16))
    for n in range(5):
        assert ports.throttle.take_attempt("alice", "10.0.0.1", NOW + timedelta(minutes=17)) is None


def test_the_login_throttle_locks_an_address_spraying_accounts(ports: Context) -> None:
    for n in range(20):
        assert ports.throttle.take_attempt(f"user{n}", "10.0.0.9", NOW) is None
    lock = ports.throttle.take_attempt("user99", "10.0.0.9", NOW)
    assert lock is not None and lock.scope == "address"


# ------------------------------------------------------------------ audit, alerts, the back office

def test_an_audit_record_is_written_with_its_change_or_not_at_all(ports: Context) -> None:
    write(ports, lambda uow: ports.people.add_staff(uow, "alice", "h", ["admin"], "seed", NOW))
    ports.audit.record("alice", "login", NOW, source_ip="10.0.0.1")
    refused(ports, lambda uow: ports.people.add_staff(uow, "alice", "h", ["admin"], "boss", NOW),
            lambda uow: ports.audit.record("boss", "staff_created", NOW, target="alice", uow=uow))
    write(ports, lambda uow: ports.people.add_staff(uow, "bob", "h", ["scanner"], "alice", NOW),
          lambda uow: ports.audit.record("alice", "staff_created", NOW + timedelta(seconds=1), target="bob",
                                         details={"roles": ("scanner",)}, uow=uow))
    day = [NOW.strftime("%Y-%m-%d")]
    entries = ports.audit.search(day, None, None, None, None, 10, None).items
    assert [(e.actor, e.action) for e in entries] == [("alice", "staff_created"), ("alice", "login")]
    assert entries[0].details == {"roles": ["scanner"]}                      # as stored: JSON
    assert [e.action for e in ports.audit.search(day, None, None, None, "login", 10, None).items] == ["login"]
    assert ports.audit.search(day, None, None, "boss", None, 10, None).items == []
    ranged = ports.audit.search(day, NOW + timedelta(milliseconds=1), NOW + timedelta(minutes=1), None, None, 10, None)
    assert [e.action for e in ranged.items] == ["staff_created"]
    page = ports.audit.search(day, None, None, None, None, 1, None)
    assert [e.action for e in page.items] == ["staff_created"] and page.next
    assert [e.action for e in ports.audit.search(day, None, None, None, None, 1, page.next).items] == ["login"]


def test_an_alert_is_kept_once(ports: Context) -> None:
    first = Alert(ports.alerts.new_id(NOW), "low_stock", "warning", "Adult: 1 left", NOW, {"sku_id": "S1"})
    write(ports, lambda uow: ports.alerts.add(uow, first))
    assert refused(ports, lambda uow: ports.alerts.add(uow, first)).failed == [Tag.ALERT]
    assert not ports.alerts.add_once(first)
    later = Alert("M-message-1", "refund_failed", "critical", "R1 failed", NOW + timedelta(minutes=1), {"n": 1})
    assert ports.alerts.add_once(later) and not ports.alerts.add_once(later)
    assert [(a.alert_id, a.details) for a in ports.alerts.page(10, None).items] == \
        [("M-message-1", {"n": 1}), (first.alert_id, {"sku_id": "S1"})]


def test_a_change_is_counted_into_the_figures_once(ports: Context) -> None:
    figures = Figures()
    figures.add("sales#2026-11-20#sku", "S1", "units", 2)
    figures.label("sales#2026-11-20#sku", "S1", "Adult")
    write(ports, lambda uow: ports.aggregates.count(uow, ["e1", "e2"], figures, NOW))
    refusal = refused(ports, lambda uow: ports.aggregates.count(uow, ["e3", "e2"], figures, NOW))
    assert refusal.failed == [ItemTag.COUNTED.of("e2")]
    assert ports.aggregates.read(["sales#2026-11-20#sku", "nothing"]) == \
        {"sales#2026-11-20#sku": {"S1|units": 2, "S1|label": "Adult"}, "nothing": {}}


def test_a_days_reconciliation_is_kept_and_replaced(ports: Context) -> None:
    assert ports.reconciliations.of_day("2026-11-19").status == NOT_RUN
    ports.reconciliations.save(Reconciliation(day="2026-11-19", status=NOT_RUN, failure="BILL_UNAVAILABLE",
                                              failed_at=NOW))
    assert ports.reconciliations.of_day("2026-11-19").failed_at == NOW
    ports.reconciliations.save(Reconciliation(day="2026-11-19", status=MATCHED, checked_at=NOW, bill={"trades": 2}))
    result = ports.reconciliations.of_day("2026-11-19")
    assert (result.status, result.checked_at, result.bill, result.failure) == (MATCHED, NOW, {"trades": 2}, None)


def test_an_order_keeps_its_price_its_promotions_and_its_coupon(ports: Context) -> None:
    sku = add_product(ports, 10)[1][0]
    order = an_order(sku, 3, promotions=[Promotion("coupon", "UC0000000000000001", "立减", 100, "CPN0000000000000001")],
                     coupon_id="UC0000000000000001")
    order.lines = [dataclasses.replace(order.lines[0], discount=100)]
    add_order(ports, order)
    back = read_order(ports, order.order_id)
    assert (back.subtotal, back.discount, back.total, back.coupon_id) == (18000, 100, 17900, "UC0000000000000001")
    assert back.promotions == order.promotions and back.lines[0].unit_paid() == [5967, 5967, 5966]


def a_user_coupon(user: str = ALICE, valid_for: timedelta = timedelta(days=1)) -> UserCoupon:
    return UserCoupon(user_coupon_id=identifiers.new_reference("UC"), coupon_id="CPN0000000000000001", user_id=user,
                      name="立减", status=UserCouponStatus.AVAILABLE, valid_from=NOW - timedelta(hours=1),
                      valid_until=NOW + valid_for, claimed_at=NOW, kind=CouponKind.CASH, threshold=0, amount=100)


def test_a_user_coupon_is_locked_by_one_order_then_used_or_released(ports: Context) -> None:
    coupon = a_user_coupon()
    write(ports, lambda uow: ports.user_coupons.add(uow, coupon))
    tag = ItemTag.USER_COUPON.of(coupon.user_coupon_id)
    assert refused(ports, lambda uow: ports.user_coupons.add(uow, coupon)).failed == [tag]
    assert refused(ports, lambda uow: ports.user_coupons.lock(uow, dataclasses.replace(coupon, user_id="Ubob"),
                                                              "O1", NOW)).failed == [tag]      # not hers
    assert refused(ports, lambda uow: ports.user_coupons.lock(uow, coupon, "O1", NOW + timedelta(days=2))).failed \
        == [tag]                                                                                # expired
    write(ports, lambda uow: ports.user_coupons.lock(uow, coupon, "O1", NOW))
    assert refused(ports, lambda uow: ports.user_coupons.lock(uow, coupon, "O2", NOW)).failed == [tag]
    assert refused(ports, lambda uow: ports.user_coupons.use(uow, coupon.user_coupon_id, "O2")).failed == [tag]
    write(ports, lambda uow: ports.user_coupons.release(uow, coupon.user_coupon_id, "O1"))
    back = ports.user_coupons.get(coupon.user_coupon_id)
    assert back is not None and (back.status, back.order_id) == (UserCouponStatus.AVAILABLE, None)
    write(ports, lambda uow: ports.user_coupons.lock(uow, coupon, "O2", NOW))
    write(ports, lambda uow: ports.user_coupons.use(uow, coupon.user_coupon_id, "O2"))
    assert refused(ports, lambda uow: ports.user_coupons.release(uow, coupon.user_coupon_id, "O2")).failed == [tag]
    write(ports, lambda uow: ports.user_coupons.give_back(uow, coupon.user_coupon_id, "O2"))
    assert [c.user_coupon_id for c in ports.user_coupons.of_user(ALICE)] == [coupon.user_coupon_id]


def test_promotions_and_tiers_are_kept_and_priced_from(ports: Context) -> None:
    promotion = FullReductionPromotion(promotion_id="PRM0000000000000001", name="满100减10", tiers=((10000, 1000),),
                           scope=EVERYTHING, starts_at=NOW, ends_at=NOW + timedelta(days=1))
    write(ports, lambda uow: ports.promotions.add(uow, promotion))
    write(ports, lambda uow: ports.promotions.set_tiers(uow, [TierRule(1, "银卡", 100, 5)], NOW, "boss"))
    ports.promotions.forget()
    assert ports.promotions.pricing_rules() == ([promotion], [TierRule(1, "银卡", 100, 5)])
    write(ports, lambda uow: ports.promotions.stop(uow, promotion.promotion_id))
    assert refused(ports, lambda uow: ports.promotions.stop(uow, promotion.promotion_id)).failed == [Tag.PROMOTION]
    stopped = ports.promotions.get(promotion.promotion_id)
    assert stopped is not None and stopped.status == "stopped" and ports.promotions.get("member-tiers") is None


# ------------------------------------------------------------------ session cancellation (场次取消)
# Kept together at the end, so that this block merges apart from the others' edits.
from chalicelib.domain.session_cancellation import (Affected, CancellationStatus,  # noqa: E402
                                                    SessionCancellation)


def _cancel_tag(sku_id: str) -> str:
    return ItemTag.SKU.of(sku_id)


def test_a_cancelled_session_refuses_every_reservation_and_split_and_is_cancelled_once(ports: Context) -> None:
    _, (sku, sharded) = add_product(ports, 10, 8)
    sharded = split(ports, sharded.sku_id, 4)
    for s in (sku, sharded):
        write(ports, lambda uow, s=s: ports.stock.cancel_sale(uow, s, "台风", _cancel_tag(s.sku_id)))
        after = read_sku(ports, s.sku_id)
        assert (after.cancelled, after.cancel_reason) == (True, "台风")
        assert refused(ports, lambda uow, s=s: ports.stock.cancel_sale(uow, after, "again", _cancel_tag(s.sku_id))
                       ).failed[0] == _cancel_tag(s.sku_id)
    assert refused(ports, lambda uow: ports.stock.reserve(uow, sku, 1, "O1", NOW)).failed == [ItemTag.SKU.of(sku.sku_id)]
    for bucket in range(1, 5):           # each shard refuses too, whichever a blind pick takes
        assert refused(ports, lambda uow, b=bucket: ports.stock.reserve(uow, sharded, 1, "O1", NOW, {b: 1})).failed \
            == [ItemTag.SHARD.of(sharded.sku_id)]
    assert refused(ports, lambda uow: ports.stock.split(uow, read_sku(ports, sku.sku_id), 4)).failed
    assert refused(ports, lambda uow: ports.stock.split(uow, read_sku(ports, sharded.sku_id), 8)).failed
    assert counts(ports, sku.sku_id) == (10, 0, 0) and counts(ports, sharded.sku_id) == (8, 0, 0)


def test_a_cancellation_is_refused_when_the_sku_was_split_since_it_was_read(ports: Context) -> None:
    _, (sku,) = add_product(ports, 8)
    as_read = read_sku(ports, sku.sku_id)
    split(ports, sku.sku_id, 4)
    assert refused(ports, lambda uow: ports.stock.cancel_sale(uow, as_read, "台风", _cancel_tag(sku.sku_id))).failed
    assert not read_sku(ports, sku.sku_id).cancelled


def test_a_buckets_reservations_are_paged_in_time_order_with_their_orders(ports: Context) -> None:
    _, (sku,) = add_product(ports, 10)
    orders = [f"O{i}" for i in range(5)]
    for i, order_id in enumerate(orders):
        write(ports, lambda uow, o=order_id, i=i: ports.stock.reserve(uow, sku, 1, o, NOW + timedelta(seconds=i)))
    write(ports, lambda uow: ports.stock.release(uow, sku.sku_id, {0: 1}, "O0", "order_cancelled",
                                                 NOW + timedelta(seconds=9)))
    found, after = [], None
    pages = 0
    while True:
        rows, after = ports.stock.reservations_page(sku.sku_id, 0, after, 2)
        found += [order_id for _, order_id in rows]
        pages += 1
        if after is None:
            break
    assert found == orders and pages >= 4          # the initial stock and the release are no reservations
    assert ports.stock.reservations_page(sku.sku_id, 1, None, 2) == ([], None)


def a_cancellation(sku_id: str) -> SessionCancellation:
    return SessionCancellation(sku_id=sku_id, product_id="P1", reason="台风", cancelled_at=NOW, cancelled_by="boss",
                               buckets=1, tickets=4)


def test_a_cancellations_progress_is_started_once_and_moves_on_from_the_version_read(ports: Context) -> None:
    c = a_cancellation("P000000000001-S000001")
    write(ports, lambda uow: ports.session_cancellations.start(uow, c))
    assert refused(ports, lambda uow: ports.session_cancellations.start(uow, c)).failed == [Tag.CANCELLATION]
    read = ports.session_cancellations.get(c.sku_id)
    assert read is not None and (read.status, read.version, read.bucket, read.after) == \
        (CancellationStatus.RUNNING, 0, 0, None)
    assert (read.reason, read.cancelled_at, read.cancelled_by, read.tickets) == ("台风", NOW, "boss", 4)
    assert ports.session_cancellations.advance(read, 0, "m1", False, NOW)
    assert not ports.session_cancellations.advance(read, 1, None, False, NOW)     # a stale step stops
    moved = ports.session_cancellations.get(c.sku_id)
    assert moved is not None and (moved.version, moved.bucket, moved.after) == (1, 0, "m1")
    assert ports.session_cancellations.advance(moved, 1, None, True, NOW)
    done = ports.session_cancellations.get(c.sku_id)
    assert done is not None and (done.status, done.finished_at, done.after) == (CancellationStatus.DONE, NOW, None)
    assert ports.session_cancellations.get("P000000000001-S000002") is None


def test_a_cancellations_refunds_and_notices_are_counted_once(ports: Context) -> None:
    c = a_cancellation("P000000000001-S000003")
    write(ports, lambda uow: ports.session_cancellations.start(uow, c))
    write(ports, lambda uow: ports.session_cancellations.link_refund(uow, c.sku_id, "R1"))
    assert refused(ports, lambda uow: ports.session_cancellations.link_refund(uow, c.sku_id, "R1")).failed
    write(ports, lambda uow: ports.session_cancellations.link_refund(uow, c.sku_id, "R2"))
    assert ports.session_cancellations.record_affected(c.sku_id, "O1", ALICE, Affected.REFUNDED, 3, NOW)
    assert not ports.session_cancellations.record_affected(c.sku_id, "O1", ALICE, Affected.REFUNDED, 3, NOW)
    assert ports.session_cancellations.record_affected(c.sku_id, "O2", BOB, Affected.CANCELLED, 0, NOW)
    read = ports.session_cancellations.get(c.sku_id)
    assert read is not None and (read.refunds_requested, read.orders_refunded, read.orders_cancelled,
                                 read.tickets_refunded) == (2, 1, 1, 3)
    assert sorted(ports.session_cancellations.refund_ids(c.sku_id)) == ["R1", "R2"]
    assert ports.session_cancellations.notices(c.sku_id) == {"O1": ("refunded", 3), "O2": ("cancelled", 0)}
    ports.session_cancellations.defer(c.sku_id, "O3")
    ports.session_cancellations.defer(c.sku_id, "O3")
    ports.session_cancellations.defer(c.sku_id, "O4")
    assert ports.session_cancellations.deferred(c.sku_id, 10) == ["O3", "O4"]
    ports.session_cancellations.undefer(c.sku_id, "O3")
    assert ports.session_cancellations.deferred(c.sku_id, 10) == ["O4"]
    assert ports.session_cancellations.refund_ids(c.sku_id) and ports.session_cancellations.get(c.sku_id)


# ------------------------------------------------------------------ after-sales (售后)
from chalicelib.domain.after_sales import (AfterSale, AfterSaleEntry, AfterSaleStatus,  # noqa: E402
                                           AfterSaleType, LineUnits)


def an_after_sale(order_id: str = "O00000000000000AAAAAAAAAAAA", kind: AfterSaleType = AfterSaleType.RETURN_REFUND,
                  at: datetime = NOW) -> AfterSale:
    return AfterSale(after_sale_id=identifiers.new_reference("A"), order_id=order_id, user_id=ALICE, type=kind,
                     status=AfterSaleStatus.REQUESTED, lines=[("P000000000001-S000001", 2)], reason="damaged",
                     created_at=at, description="torn", history=[AfterSaleEntry(AfterSaleStatus.REQUESTED, at, ALICE)])


def test_goods_sent_back_return_to_stock_only_when_sold(ports: Context) -> None:
    _, (sku,) = add_product(ports, 5, kind=Kind.MERCH)
    write(ports, lambda uow: ports.stock.reserve(uow, sku, 2, "O1", NOW))
    write(ports, lambda uow: ports.stock.sell(uow, sku.sku_id, {0: 2}))
    assert refused(ports, lambda uow: ports.stock.return_sold(uow, sku.sku_id, {0: 3}, "O1", NOW)).failed == \
        [ItemTag.SKU.of(sku.sku_id)]
    write(ports, lambda uow: ports.stock.return_sold(uow, sku.sku_id, {0: 1}, "O1", NOW))
    assert counts(ports, sku.sku_id) == (4, 0, 1) and ledger_sum(ports, sku.sku_id) == 4
    movements = ports.stock.movements_page(read_sku(ports, sku.sku_id), 100, None).items
    assert [(m.delta, m.order_id) for m in movements if m.reason == "return"] == [(1, "O1")]


def test_an_after_sale_is_added_once_and_moves_only_from_the_status_it_was_read_in(ports: Context) -> None:
    a = an_after_sale()
    write(ports, lambda uow: ports.after_sales.add(uow, a))
    assert refused(ports, lambda uow: ports.after_sales.add(uow, a)).failed == [Tag.AFTER_SALE]
    read = ports.after_sales.get(a.after_sale_id)
    assert read is not None and (read.lines, read.description, read.status) == (a.lines, "torn",
                                                                                 AfterSaleStatus.REQUESTED)
    approved = AfterSaleEntry(AfterSaleStatus.APPROVED, NOW + timedelta(minutes=1), "kefu")
    write(ports, lambda uow: ports.after_sales.move(uow, read, approved, replacement_shares={0: 2}))
    assert refused(ports, lambda uow: ports.after_sales.move(uow, read, approved)).failed == [Tag.AFTER_SALE]
    moved = ports.after_sales.get(a.after_sale_id)
    assert moved is not None and moved.status is AfterSaleStatus.APPROVED and moved.replacement_shares == {0: 2}
    assert [(h.status, h.by) for h in moved.history] == [(AfterSaleStatus.REQUESTED, ALICE),
                                                         (AfterSaleStatus.APPROVED, "kefu")]
    received = AfterSaleEntry(AfterSaleStatus.RECEIVED, NOW + timedelta(minutes=2), "kefu")
    write(ports, lambda uow: ports.after_sales.move(uow, moved, received, restocked=False, refund_id="RX", amount=0,
                                                    return_shipment={"at_counter": "true"}))
    done = ports.after_sales.get(a.after_sale_id)
    assert done is not None and (done.restocked, done.refund_id, done.amount, done.return_shipment) == (
        False, "RX", 0, {"at_counter": "true"})
    assert ports.after_sales.get("Anothing") is None


def test_an_order_lines_units_under_after_sales_stay_within_what_was_bought(ports: Context) -> None:
    order_id, sku_id = "O00000000000000AAAAAAAAAAAA", "P000000000001-S000001"
    write(ports, lambda uow: ports.after_sales.take_units(uow, order_id, sku_id, 2, 3))
    assert refused(ports, lambda uow: ports.after_sales.take_units(uow, order_id, sku_id, 2, 3)).failed == \
        [ItemTag.UNITS.of(sku_id)]
    write(ports, lambda uow: ports.after_sales.take_units(uow, order_id, sku_id, 1, 3))
    assert ports.after_sales.line_units(order_id, sku_id).taken == 3
    write(ports, lambda uow: ports.after_sales.give_units(uow, order_id, sku_id, 2))
    assert refused(ports, lambda uow: ports.after_sales.give_units(uow, order_id, sku_id, 2)).failed == \
        [ItemTag.UNITS.of(sku_id)]
    assert ports.after_sales.line_units(order_id, sku_id).taken == 1
    assert refused(ports, lambda uow: ports.after_sales.give_units(uow, order_id, "P000000000001-S000002", 1)).failed
    assert ports.after_sales.line_units(order_id, "P000000000001-S000002") == LineUnits()
    # A receipt's counts, conditional on both as read: a second receipt that read the same is refused.
    taken = ports.after_sales.line_units(order_id, sku_id)
    write(ports, lambda uow: ports.after_sales.count_back(uow, order_id, sku_id, taken, 1, 0))
    assert refused(ports, lambda uow: ports.after_sales.count_back(uow, order_id, sku_id, taken, 1, 1)).failed == \
        [ItemTag.UNITS.of(sku_id)]
    write(ports, lambda uow: ports.after_sales.count_back(uow, order_id, sku_id, LineUnits(1, 1, 0), 0, 1))
    assert ports.after_sales.line_units(order_id, sku_id) == LineUnits(1, 1, 1)
    write(ports, lambda uow: ports.after_sales.none_taken(uow, order_id, "P000000000001-S000002"))
    assert refused(ports, lambda uow: ports.after_sales.none_taken(uow, order_id, sku_id)).failed == \
        [ItemTag.UNITS.of(sku_id)]


def test_after_sales_are_listed_by_order_and_by_status_and_type_newest_first(ports: Context) -> None:
    first = an_after_sale()
    second = an_after_sale(kind=AfterSaleType.EXCHANGE, at=NOW + timedelta(minutes=1))
    other = an_after_sale(order_id="O00000000000000BBBBBBBBBBBB", at=NOW + timedelta(minutes=2))
    for a in (first, second, other):
        write(ports, lambda uow, a=a: ports.after_sales.add(uow, a))
    assert [a.after_sale_id for a in ports.after_sales.of_order(first.order_id)] == [first.after_sale_id,
                                                                                      second.after_sale_id]
    page = ports.after_sales.page("REQUESTED", None, 2, None)
    assert [a.after_sale_id for a in page.items] == [other.after_sale_id, second.after_sale_id] and page.next
    rest = ports.after_sales.page("REQUESTED", None, 2, page.next)
    assert [a.after_sale_id for a in rest.items] == [first.after_sale_id]
    assert [a.after_sale_id for a in ports.after_sales.page("REQUESTED", "exchange", 10, None).items] == [
        second.after_sale_id]
    assert ports.after_sales.page("APPROVED", None, 10, None).items == []


# ------------------------------------------------------------------ notifications (订阅消息)

def test_subscription_credits_are_counted_spent_only_while_left_and_dropped(ports: Context) -> None:
    from chalicelib.domain.notifications import MAX_CREDITS, Event as _Event, MessageStatus as _Status
    store = ports.notifications
    assert store.credit(ALICE, "t1") == (0, None)
    assert store.add_credits(ALICE, "o-alice", ["t1", "t1", "t2"]) == {"t1": 2, "t2": 1}
    assert store.credit(ALICE, "t1") == (2, "o-alice") and store.credit(BOB, "t1") == (0, None)
    assert store.spend_credit(ALICE, "t1") and store.spend_credit(ALICE, "t1")
    assert not store.spend_credit(ALICE, "t1") and store.credit(ALICE, "t1")[0] == 0      # never below 0
    store.drop_credits(ALICE, "t2")
    assert store.credit(ALICE, "t2")[0] == 0 and not store.spend_credit(ALICE, "t2")
    assert store.add_credits(ALICE, "o-alice", ["t3"] * (MAX_CREDITS + 5)) == {"t3": MAX_CREDITS}    # capped
    assert store.add_credits(ALICE, "o-alice", ["t3"]) == {"t3": MAX_CREDITS}
    # An order's message of an event is claimed once; finishing it records what became of it.
    order_id = "O00000000000000AAAAAAAAAAAA"
    assert store.claim_message(order_id, "ticket_issued", _Event.TICKET_ISSUED, "t1", NOW)
    assert not store.claim_message(order_id, "ticket_issued", _Event.TICKET_ISSUED, "t1", NOW)
    [claimed] = store.messages_of(order_id)
    assert (claimed.key, claimed.event, claimed.status, claimed.at) == ("ticket_issued", _Event.TICKET_ISSUED,
                                                                        None, NOW)
    store.finish_message(order_id, "ticket_issued", _Status.FAILED, NOW, "47003 invalid")
    assert store.claim_message(order_id, "ticket_issued#resend#1", _Event.TICKET_ISSUED, "t1", NOW)
    store.finish_message(order_id, "ticket_issued#resend#1", _Status.SENT, NOW + timedelta(seconds=1))
    assert [(m.key, m.status, m.error) for m in store.messages_of(order_id)] == [
        ("ticket_issued", _Status.FAILED, "47003 invalid"), ("ticket_issued#resend#1", _Status.SENT, None)]
    assert store.messages_of("O00000000000000BBBBBBBBBBBB") == []


def test_reminders_are_kept_by_day_once_each_and_a_day_is_marked_done(ports: Context) -> None:
    store = ports.notifications
    store.add_reminders("2026-12-05", "O00000000000000AAAAAAAAAAAA", ["S1", "S2"])
    store.add_reminders("2026-12-05", "O00000000000000AAAAAAAAAAAA", ["S1"])          # a redelivery
    store.add_reminders("2026-12-05", "O00000000000000BBBBBBBBBBBB", ["S1"])
    store.add_reminders("2026-12-06", "O00000000000000CCCCCCCCCCCC", ["S3"])
    assert sorted(store.reminders_of("2026-12-05")) == [
        ("O00000000000000AAAAAAAAAAAA", "S1"), ("O00000000000000AAAAAAAAAAAA", "S2"),
        ("O00000000000000BBBBBBBBBBBB", "S1")]
    assert store.reminders_of("2026-12-07") == []
    assert not store.reminded("2026-12-05")
    store.mark_reminded("2026-12-05", NOW)
    assert store.reminded("2026-12-05") and not store.reminded("2026-12-06")
    assert not store.reminding_started("2026-12-06")
    store.start_reminding("2026-12-06", NOW)
    assert store.reminding_started("2026-12-06") and not store.reminding_started("2026-12-07")
