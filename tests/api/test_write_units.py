"""Write units per operation, costed from the writes the app really sends (tests/capacity.py),
against the same writes costed with the indexes projecting ALL, as they did before: the trimmed
projections must be what makes an order cheaper."""
from __future__ import annotations

from chalicelib.adapters.payment_sandbox import SandboxRecord

from ..capacity import Meter, ReadMeter, metered, metered_reads
from .conftest import Api, order_body, ticket_body

# The indexes that projected the whole item before issue 13 (now keys, or keys and search text).
PROJECTED_ALL_BEFORE = {name: "ALL" for name in (
    "customer-index", "status-shard-index", "all-orders-shard-index", "inventory-shard-index",
    "order-tickets-keys-index", "ticket-id-keys-index")}


def meters() -> tuple[Meter, Meter]:
    ignore = frozenset({SandboxRecord.Meta.table_name})
    return Meter(ignore=ignore), Meter(projections=PROJECTED_ALL_BEFORE, ignore=ignore)


def test_write_units_of_an_order_its_payment_and_a_scan(customer, make_product, anonymous: Api, staff) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([50], admission_open=True))
    alice = customer()
    alice.post("/orders", order_body((sku, 1)))               # the customer's first order: counters exist
    figures: dict[str, tuple[float, float]] = {}

    now, before = meters()
    with metered(now, before):
        order = alice.post("/orders", order_body((sku, 1))).json_body
    figures["place"] = (now.units, before.units)
    print("\nplace by table and index (now):", now.by_index, "\n(before):", before.by_index)
    now, before = meters()
    with metered(now, before):
        assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    figures["pay"] = (now.units, before.units)
    print("\npay by table and index (now):", now.by_index, "\n(before):", before.by_index)
    (ticket,) = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    now, before = meters()
    with metered(now, before):
        scanned = staff("scanner").post("/redemptions", {"code": ticket["qr"], "gate": "G1", "device_id": "d1"})
    assert scanned.status_code == 200
    figures["redeem"] = (now.units, before.units)

    print("\nWCU per operation (now, with the old ALL projections):", figures, "\nby index:", now.by_index)
    place, pay, redeem = figures["place"], figures["pay"], figures["redeem"]
    assert place[0] < place[1] and pay[0] < pay[1] and redeem[0] < redeem[1], figures
    assert place[0] + pay[0] <= 0.85 * (place[1] + pay[1]), figures


def test_read_units_of_an_order_on_the_hot_skus_own_item(customer, make_product, admin: Api) -> None:  # type: ignore[no-untyped-def]
    """On release day every order reads the hot session's SKU item. It is read eventually
    consistently (price, session, shard count: what may lag a second), so an order costs that
    item half a read unit, where a strongly consistent read cost one: twice the orders a second
    before the item's partition (3,000 RCU/s) throttles reads. Stock is still decided exactly
    by the order's conditional write."""
    from chalicelib.adapters.stock_records import SkuRecord
    figures = {}
    for shards in (1, 8):
        _, (sku,) = make_product(ticket_body([400]))
        if shards > 1:
            assert admin.post(f"/admin/inventory/{sku}/shards", {"shards": shards}).status_code == 200
        meter = ReadMeter(SkuRecord.Meta.table_name, {"sku_id": {"S": sku}})
        with metered_reads(meter):
            for _ in range(3):
                assert customer().post("/orders", order_body((sku, 1))).status_code == 201
        figures[shards] = (meter.units / 3, meter.consistent_units / 3)
    print("\nRCU per order on the hot SKU's item (now, with consistent reads as before):", figures)
    for now, before in figures.values():
        assert before == 1.0 and now == 0.5, figures
