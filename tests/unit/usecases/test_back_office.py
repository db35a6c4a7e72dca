"""The back office's use cases on the fakes: stock (service_layer.inventory), the catalog
(catalog), low-stock alerts (alerts)."""
from __future__ import annotations

import dataclasses

import pytest

from chalicelib.domain.back_office import Alert
from chalicelib.domain.catalog_commands import parse_product_changes
from chalicelib.domain.commands import Adjustment, StocktakeCount
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.model import ProductStatus
from chalicelib.service_layer import alerts, catalog, inventory
from chalicelib.service_layer.context import Context
from chalicelib.service_layer.tags import ItemTag, Tag
from tests.fakes import FakeDatabase

from .shop import ADMIN, customer, merch_product, place, stock_of, ticket_product


# ------------------------------------------------------------------ stock

def test_an_adjustment_moves_stock_with_its_movement_and_audit_record(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = merch_product(ctx, 5)
    before = len(database.committed)
    assert inventory.adjust_stock(ctx, ADMIN, sku.sku_id, Adjustment(3, "delivery")) == 8
    [tags] = database.committed[before:]
    assert set(tags) == {ItemTag.SKU.of(sku.sku_id), ItemTag.MOVEMENT.of(sku.sku_id), Tag.AUDIT}
    assert [m.reason for m in inventory.movements_page(ctx, sku.sku_id, 10, None).items] == \
        ["initial_stock", "delivery"]
    assert ctx.messages.stock == [sku.sku_id]                               # type: ignore[attr-defined]


def test_an_adjustment_never_takes_stock_below_zero(ctx: Context) -> None:
    _, (sku,) = merch_product(ctx, 5)
    with pytest.raises(Conflict) as raised:
        inventory.adjust_stock(ctx, ADMIN, sku.sku_id, Adjustment(-6, "broken"))
    assert raised.value.code == "NEGATIVE_STOCK" and raised.value.details == {"available": 5, "delta": -6}
    with pytest.raises(NotFound):
        other = sku.sku_id[:-1] + ("Z" if sku.sku_id[-1] != "Z" else "Y")      # never the SKU itself
        inventory.adjust_stock(ctx, ADMIN, other, Adjustment(1, "x"))


def test_an_adjustment_racing_a_sale_is_read_again_and_still_never_below_zero(ctx: Context,
                                                                               database: FakeDatabase) -> None:
    _, (sku,) = merch_product(ctx, 5)
    database.before_commit(lambda: place(ctx, customer(ctx), (sku.sku_id, 2)), when=lambda tags: Tag.AUDIT in tags)
    with pytest.raises(Conflict) as raised:
        inventory.adjust_stock(ctx, ADMIN, sku.sku_id, Adjustment(-4, "broken"))
    assert raised.value.code == "NEGATIVE_STOCK" and stock_of(ctx, sku.sku_id) == (3, 2, 0)


def test_an_adjustment_that_keeps_colliding_says_the_stock_kept_moving(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = merch_product(ctx, 5)
    database.conflict(times=1000)
    with pytest.raises(Conflict) as raised:
        inventory.adjust_stock(ctx, ADMIN, sku.sku_id, Adjustment(1, "delivery"))
    assert raised.value.code == "STOCK_CHANGED" and stock_of(ctx, sku.sku_id) == (5, 0, 0)


def test_a_stocktake_records_expected_and_counted_and_applies_the_differences(ctx: Context) -> None:
    _, (a, b) = merch_product(ctx, 5, 7)
    result = inventory.take_stocktake(ctx, ADMIN, [StocktakeCount(a.sku_id, 4), StocktakeCount(b.sku_id, 7)], "q4")
    assert [(l["expected"], l["counted"], l["difference"]) for l in result.lines] == [(5, 4, -1), (7, 7, 0)]
    assert (stock_of(ctx, a.sku_id), stock_of(ctx, b.sku_id)) == ((4, 0, 0), (7, 0, 0))
    [entry] = [e for e in ctx.audit.entries() if e.action == "stocktake"]   # type: ignore[attr-defined]
    assert entry.target == result.stocktake_id and entry.details["note"] == "q4"
    reasons = [m.reason for m in inventory.movements_page(ctx, a.sku_id, 10, None).items]
    assert reasons == ["initial_stock", f"stocktake {result.stocktake_id}"]


def test_a_stocktake_is_read_again_when_a_sale_moved_a_sku_meanwhile(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = merch_product(ctx, 5)
    database.before_commit(lambda: place(ctx, customer(ctx), (sku.sku_id, 1)), when=lambda tags: Tag.AUDIT in tags)
    result = inventory.take_stocktake(ctx, ADMIN, [StocktakeCount(sku.sku_id, 2)], "")
    assert result.lines[0]["expected"] == 4 and stock_of(ctx, sku.sku_id) == (2, 1, 0)


def test_a_stocktake_of_an_unknown_sku_is_refused(ctx: Context) -> None:
    _, (sku,) = merch_product(ctx, 5)
    with pytest.raises(NotFound) as raised:
        inventory.take_stocktake(ctx, ADMIN, [StocktakeCount(sku.sku_id, 1), StocktakeCount("nonsense", 1)], "")
    assert raised.value.code == "SKU_NOT_FOUND" and stock_of(ctx, sku.sku_id) == (5, 0, 0)


def test_a_sku_is_split_further_but_never_merged(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 100)
    assert inventory.split_stock(ctx, ADMIN, sku.sku_id, 4).stock_shards == 4
    assert inventory.split_stock(ctx, ADMIN, sku.sku_id, 8).available == 100
    with pytest.raises(Conflict) as raised:
        inventory.split_stock(ctx, ADMIN, sku.sku_id, 2)
    assert raised.value.code == "SHARDS_CANNOT_SHRINK"


def test_a_split_skus_scattered_units_are_gathered_to_be_taken_away(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 8)
    inventory.split_stock(ctx, ADMIN, sku.sku_id, 4)                        # two units in each shard
    assert inventory.adjust_stock(ctx, ADMIN, sku.sku_id, Adjustment(-5, "broken")) == 3
    result = inventory.take_stocktake(ctx, ADMIN, [StocktakeCount(sku.sku_id, 1)], "")
    assert result.lines[0]["expected"] == 3 and stock_of(ctx, sku.sku_id) == (1, 0, 0)


# ------------------------------------------------------------------ catalog

def test_a_product_its_skus_stock_and_audit_record_are_one_transaction(ctx: Context, database: FakeDatabase) -> None:
    before = len(database.committed)
    product, skus = merch_product(ctx, 3, 4)
    [tags] = database.committed[before:]
    assert Tag.PRODUCT in tags and Tag.AUDIT in tags and {ItemTag.SKU.of(s.sku_id) for s in skus} <= set(tags)
    assert [s.sku_id for s in catalog.admin_product(ctx, product.product_id)[1]] == product.sku_ids


def test_a_release_sized_sku_is_split_as_it_is_created(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 25_000)
    assert sku.stock_shards == 10 and ctx.stock.skus([sku.sku_id])[sku.sku_id].available == 25_000


def test_an_edit_made_meanwhile_is_not_overwritten(ctx: Context, database: FakeDatabase) -> None:
    product, _ = merch_product(ctx, 3)
    database.before_commit(lambda: catalog.update_product(ctx, ADMIN, product.product_id, parse_product_changes({"name": "Theirs"})),
                           when=lambda tags: Tag.PRODUCT in tags)
    with pytest.raises(Conflict) as raised:
        catalog.update_product(ctx, ADMIN, product.product_id, parse_product_changes({"name": "Mine"}))
    assert raised.value.code == "EDIT_CONFLICT" and ctx.catalog.product(product.product_id).name == "Theirs"  # type: ignore[union-attr]


def test_the_catalog_shows_what_is_on_sale_now(ctx: Context) -> None:
    listed, _ = ticket_product(ctx, 3)
    hidden, _ = ticket_product(ctx, 3, status=ProductStatus.UNLISTED)
    items, _ = catalog.catalog_page(ctx, 10, None, None, None, None)
    assert [p.product_id for p, _ in items] == [listed.product_id]
    with pytest.raises(NotFound):
        catalog.catalog_product(ctx, hidden.product_id)
    ctx.clock.advance(days=3)                                               # its session is over
    assert catalog.catalog_product(ctx, listed.product_id)[1] == []


def test_an_import_creates_the_good_products_and_reports_the_others_by_line(ctx: Context,
                                                                            database: FakeDatabase) -> None:
    text = ("product,kind,name,category,status,sku_name,price,stock\n"
            "tote,merch,Tote,souvenir,listed,Small,2500,10\n"
            "cup,merch,Cup,souvenir,listed,Large,12.50,10\n"
            "mug,merch,Mug,souvenir,listed,Large,900,10\n")
    products: list[int] = []

    def the_second_product(tags: list[str]) -> bool:
        products.extend([1] if Tag.PRODUCT in tags else [])
        return len(products) >= 2
    database.conflict(times=3, when=the_second_product)                     # the mug's transaction keeps colliding
    result = catalog.import_products(ctx, ADMIN, text)
    assert result.created == 1 and [e["line"] for e in result.errors] == [3, 4]
    assert "whole number" in result.errors[0]["message"] and "busy" in result.errors[1]["message"]
    assert [p.name for p, _ in catalog.catalog_page(ctx, 10, None, None, None, None)[0]] == ["Tote"]


# ------------------------------------------------------------------ low-stock alerts

def test_a_sku_falling_below_its_threshold_is_alerted_once_per_crossing(ctx: Context) -> None:
    _, (sku,) = merch_product(ctx, 5, threshold=3)
    assert not alerts.check_low_stock(ctx, sku.sku_id)
    place(ctx, customer(ctx), (sku.sku_id, 3))
    assert alerts.check_low_stock(ctx, sku.sku_id)
    assert not alerts.check_low_stock(ctx, sku.sku_id)                      # latched
    [alert] = ctx.alerts.of_kind("low_stock")                               # type: ignore[attr-defined]
    assert alert.details == {"sku_id": sku.sku_id, "product_id": sku.product_id, "available": 2,
                             "low_stock_threshold": 3}
    assert len(ctx.notifier.published) == 1 and ctx.metrics.total("LowStockAlerts") == 1   # type: ignore[attr-defined]
    inventory.adjust_stock(ctx, ADMIN, sku.sku_id, Adjustment(5, "delivery"))
    assert not alerts.check_low_stock(ctx, sku.sku_id) and not ctx.stock.skus([sku.sku_id])[sku.sku_id].low_stock_alerted
    place(ctx, customer(ctx, "bob"), (sku.sku_id, 6))
    assert alerts.check_low_stock(ctx, sku.sku_id) and len(ctx.alerts.of_kind("low_stock")) == 2  # type: ignore[attr-defined]


def test_a_low_stock_check_racing_another_raises_one_alert(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = merch_product(ctx, 5, threshold=3)
    place(ctx, customer(ctx), (sku.sku_id, 3))
    database.before_commit(lambda: alerts.check_low_stock(ctx, sku.sku_id), when=lambda tags: Tag.LATCH in tags)
    assert not alerts.check_low_stock(ctx, sku.sku_id)                      # the other worker raised it
    assert len(ctx.alerts.of_kind("low_stock")) == 1                        # type: ignore[attr-defined]


def test_a_split_skus_latch_is_rearmed_at_once_when_a_delivery_overtook_its_reading(ctx: Context,
                                                                                     database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 8, threshold=5)
    inventory.split_stock(ctx, ADMIN, sku.sku_id, 4)
    inventory.adjust_stock(ctx, ADMIN, sku.sku_id, Adjustment(-4, "broken"))
    database.before_commit(lambda: inventory.adjust_stock(ctx, ADMIN, sku.sku_id, Adjustment(10, "delivery")),
                           when=lambda tags: Tag.LATCH in tags)
    assert alerts.check_low_stock(ctx, sku.sku_id)                          # alerted on its reading
    assert not ctx.stock.skus([sku.sku_id])[sku.sku_id].low_stock_alerted   # and re-armed: the next crossing counts


def test_an_alert_is_kept_and_sent_once_per_message_and_sns_trouble_loses_nothing(ctx: Context) -> None:
    ctx.notifier.publish = lambda subject, message: (_ for _ in ()).throw(ConnectionError())  # type: ignore[method-assign]
    assert alerts.raise_alert(ctx, "M1", "refund_failed", "critical", "R1 failed", {"refund_id": "R1"})
    assert not alerts.raise_alert(ctx, "M1", "refund_failed", "critical", "R1 failed", {"refund_id": "R1"})
    page = alerts.list_alerts(ctx, 10, None)
    assert [(a.alert_id, a.kind) for a in page.items] == [("M1", "refund_failed")]
    assert isinstance(page.items[0], Alert) and dataclasses.asdict(page.items[0])["details"] == {"refund_id": "R1"}
