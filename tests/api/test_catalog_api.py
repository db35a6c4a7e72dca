from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.adapters.tables import MovementRecord, ProductRecord, SkuRecord

from .conftest import Api, iso, merch_body, ticket_body


def test_create_ticket_product_with_sessions_and_validity(admin: Api, anonymous: Api) -> None:
    body = ticket_body([10, 5], purchase_limit=4, real_name=True)
    r = admin.post("/admin/products", body)
    assert r.status_code == 201, r.body
    product = r.json_body
    assert product["product_id"].startswith("P") and len(product["skus"]) == 2
    sku = product["skus"][0]
    assert sku["available"] == 10 and sku["price"] == 6000
    assert sku["session"]["start"].endswith("+08:00")
    assert sku["valid_until"] == sku["session"]["end"]         # validity defaults to the session's end
    public = anonymous.get(f"/catalog/products/{product['product_id']}").json_body
    assert public["purchase_limit"] == 4 and public["real_name"] is True
    assert [s["available"] for s in public["skus"]] == [10, 5]


def test_catalog_lists_listed_products_only_and_filters(admin: Api, anonymous: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    listed, _ = make_product(ticket_body([3]))
    hidden, _ = make_product(ticket_body([3], status="unlisted"))
    goods, _ = make_product(merch_body([4], tags=["bag"]))
    ids = [p["product_id"] for p in anonymous.get("/catalog/products").json_body["items"]]
    assert listed["product_id"] in ids and goods["product_id"] in ids and hidden["product_id"] not in ids
    assert anonymous.get(f"/catalog/products/{hidden['product_id']}").status_code == 404
    tickets = anonymous.get("/catalog/products?kind=ticket").json_body["items"]
    assert [p["product_id"] for p in tickets] == [listed["product_id"]]
    bags = anonymous.get("/catalog/products?tag=bag").json_body["items"]
    assert [p["product_id"] for p in bags] == [goods["product_id"]]
    assert anonymous.get("/catalog/products?kind=concert").status_code == 400


def test_catalog_pages_with_a_cursor(anonymous: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    created = {make_product(merch_body([1]))[0]["product_id"] for _ in range(5)}
    seen, cursor = [], None
    for _ in range(10):
        page = anonymous.get("/catalog/products?limit=2" + (f"&cursor={cursor}" if cursor else "")).json_body
        seen += [p["product_id"] for p in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert set(seen) == created and len(seen) == 5
    assert anonymous.get("/catalog/products?cursor=bm90LWEtY3Vyc29y").status_code == 400
    assert anonymous.get("/catalog/products?limit=500").status_code == 400


def test_list_and_delist_now_or_later(admin: Api, anonymous: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    product, _ = make_product(ticket_body([3], status="unlisted"))
    path = f"/admin/products/{product['product_id']}"
    assert admin.patch(path, {"status": "listed"}).json_body["status"] == "listed"
    assert anonymous.get(f"/catalog/products/{product['product_id']}").status_code == 200
    past = iso(datetime.now(timezone.utc) - timedelta(minutes=1))
    assert admin.patch(path, {"delist_at": past}).status_code == 200
    assert anonymous.get(f"/catalog/products/{product['product_id']}").status_code == 404
    future = iso(datetime.now(timezone.utc) + timedelta(days=1))
    r = admin.patch(path, {"delist_at": None, "list_at": future, "status": "unlisted"})
    assert r.status_code == 200 and r.json_body["list_at"] == future and "delist_at" not in r.json_body
    assert anonymous.get(f"/catalog/products/{product['product_id']}").status_code == 404
    assert admin.patch(path, {"list_at": past}).status_code == 200
    assert anonymous.get(f"/catalog/products/{product['product_id']}").status_code == 200


def test_patch_refuses_bad_fields_and_changes_nothing(admin: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    product, _ = make_product(ticket_body([3]))
    before = ProductRecord.get(product["product_id"]).attribute_values
    for body in ({"kind": "merch"}, {"name": 5}, {"purchase_limit": -1}, {"fulfillment": ["pickup"]}, {}):
        r = admin.patch(f"/admin/products/{product['product_id']}", body)
        assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR", body
    assert ProductRecord.get(product["product_id"]).attribute_values == before
    assert admin.patch("/admin/products/PNOPE", {"name": "x"}).status_code == 404


def test_add_a_session_sku(admin: Api, anonymous: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    product, _ = make_product(ticket_body([3]))
    new = ticket_body([7])["skus"][0]
    r = admin.post(f"/admin/products/{product['product_id']}/skus", new)
    assert r.status_code == 201 and r.json_body["available"] == 7
    skus = anonymous.get(f"/catalog/products/{product['product_id']}").json_body["skus"]
    assert [s["available"] for s in skus] == [3, 7]
    merch_sku = {"name": "M", "price": 100, "stock": 1, "attributes": {"size": "M"}}
    assert admin.post(f"/admin/products/{product['product_id']}/skus", merch_sku).status_code == 400


def test_past_sessions_leave_the_public_catalog(admin: Api, anonymous: Api) -> None:
    body = ticket_body([3, 4])
    body["skus"][0]["valid_until"] = iso(datetime.now(timezone.utc) - timedelta(minutes=1))
    body["skus"][0]["valid_from"] = iso(datetime.now(timezone.utc) - timedelta(hours=2))
    product = admin.post("/admin/products", body).json_body
    public = anonymous.get(f"/catalog/products/{product['product_id']}").json_body
    assert [s["available"] for s in public["skus"]] == [4]


def test_csv_import(admin: Api, anonymous: Api) -> None:
    start = datetime.now(timezone.utc) + timedelta(days=3)
    csv_text = ("product,kind,name,category,status,sku_name,price,stock,session_start,session_end,fulfillment\n"
                f"h,ticket,Imported Hall,museum,listed,Morning,5000,40,{iso(start)},{iso(start + timedelta(hours=3))},\n"
                "g,merch,Imported Mug,souvenir,listed,Blue,3900,12,,,pickup\n"
                "x,merch,Broken,souvenir,listed,Blue,free,12,,,pickup\n")
    r = admin.post("/admin/products/import", raw=csv_text.encode(), content_type="text/csv")
    assert r.status_code == 200, r.body
    assert r.json_body["created"] == 2 and [e["line"] for e in r.json_body["errors"]] == [4]
    names = {p["name"] for p in anonymous.get("/catalog/products").json_body["items"]}
    assert {"Imported Hall", "Imported Mug"} <= names and "Broken" not in names


def test_bad_product_input_is_400_and_writes_nothing(admin: Api) -> None:
    bad_bodies = [None, "x", {"kind": "ticket"}, ticket_body([1.5]), ticket_body([-1]), ticket_body([10 ** 12]),
                  {**ticket_body([1]), "skus": [ticket_body([1])["skus"][0]] * 41}]
    for body in bad_bodies:
        r = admin.post("/admin/products", body)
        assert r.status_code == 400 and set(r.json_body) == {"code", "message", "details"}, body
    r = admin.post("/admin/products", raw=b"{not json")
    assert r.status_code == 400 and r.json_body["code"] == "MALFORMED_JSON"
    r = admin.post("/admin/products", raw=b"[" * 100000 + b"]" * 100000)
    assert r.status_code == 400
    r = admin.post("/admin/products", raw=b"{}", content_type="text/plain")
    assert r.status_code == 415 and r.json_body["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert list(ProductRecord.scan()) == [] and list(SkuRecord.scan()) == [] and list(MovementRecord.scan()) == []


def test_every_staff_change_writes_an_audit_record(admin: Api, customer, make_product) -> None:  # type: ignore[no-untyped-def]
    import time

    from chalicelib.adapters.tables import AuditRecord, OrderRecord
    product, (sku,) = make_product(merch_body([5]))
    admin.patch(f"/admin/products/{product['product_id']}", {"name": "Renamed"})
    admin.post(f"/admin/products/{product['product_id']}/skus", {"name": "L", "price": 100, "stock": 1})
    admin.post(f"/admin/inventory/{sku}/adjustments", {"delta": 1, "reason": "found one"})
    admin.post("/admin/stocktakes", {"counts": [{"sku_id": sku, "counted": 4}]})
    admin.post("/admin/products/import", raw=b"product,kind,name,sku_name,price\nx,merch,Mug,Blue,100\n",
               content_type="text/csv")
    address = {"recipient": "A", "phone": "13900000000", "region": "B", "detail": "C"}
    order = customer().post("/orders", {"items": [{"sku_id": sku, "quantity": 1}], "fulfillment": "shipping",
                                        "address": address, "contact": {"name": "A", "phone": "13900000000"}}).json_body
    OrderRecord(order_id=order["order_id"]).update(actions=[OrderRecord.status.set("PAID")])
    admin.post(f"/admin/orders/{order['order_id']}/ship", {"carrier": "SF", "tracking_no": "1"})
    actions = {(r.actor, r.action) for r in AuditRecord.query(time.strftime("%Y-%m-%d", time.gmtime()))}
    assert {("boss", a) for a in ("product_created", "product_updated", "sku_added", "stock_adjusted", "stocktake",
                                  "product_imported", "order_shipped")} <= actions


def test_stored_times_are_utc_and_money_is_integer_fen(admin: Api, customer, make_product) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.adapters.tables import OrderRecord, SkuRecord
    _, (sku,) = make_product(ticket_body([3], price=4550))
    order = customer().post("/orders", {"items": [{"sku_id": sku, "quantity": 2}],
                                        "contact": {"name": "A", "phone": "13900000000"}}).json_body
    record = OrderRecord.get(order["order_id"])
    assert record.created_at.endswith("+00:00") and record.expires_at.endswith("+00:00")
    assert SkuRecord.get(sku).session_start.endswith("+00:00")
    assert order["created_at"].endswith("+08:00")                 # shown in the venue's zone
    assert order["total"] == 9100 and isinstance(order["total"], int)
