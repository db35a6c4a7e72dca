"""A shop to run use cases in: its products, customers, staff, orders and payments, made through
the use cases themselves (never by writing the fakes' tables), so that each test starts from a
state the app itself can reach."""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from chalicelib.domain import identifiers
from chalicelib.domain.catalog_commands import NewProduct, NewSku
from chalicelib.domain.commands import PlaceOrder, RequestedLine
from chalicelib.domain.coupons import Coupon, parse_coupon
from chalicelib.domain.model import Address, Fulfillment, Kind, Order, Product, ProductStatus, Session, Sku, Visitor
from chalicelib.domain.principal import Principal
from chalicelib.domain.refunds import Refund
from chalicelib.domain.tickets import CodeKind, Ticket
from chalicelib.service_layer import catalog, coupons, orders, payments
from chalicelib.service_layer.context import Actor, Context
from chalicelib.service_layer.orders import PlacedOrder

PHONE = "13800138000"


def staff(*roles: str, name: str = "boss") -> Actor:
    return Actor(Principal(name, "staff", frozenset(roles or ("admin",))), source_ip="10.0.0.1")


ADMIN = staff("admin")


def customer(ctx: Context, name: str = "alice") -> Actor:
    openid = f"o-{name}"
    return Actor(Principal(ctx.people.user_id_for(openid, ctx.clock()), "customer", openid=openid))


def ticket_product(ctx: Context, *stocks: int, price: int = 6000, purchase_limit: int | None = None,
                   threshold: int = 0, real_name: bool = False, admission_open: bool = False,
                   status: ProductStatus = ProductStatus.LISTED) -> tuple[Product, list[Sku]]:
    """Tickets for a session two days ahead; admission opens with it, or (`admission_open`) an
    hour ago, so that the gate admits them now."""
    now = ctx.clock.now  # type: ignore[attr-defined]
    start = now + timedelta(days=2)
    session = Session(start, start + timedelta(hours=3))
    valid_from = now - timedelta(hours=1) if admission_open else start
    skus = [NewSku(f"Adult #{i}", price, stock, threshold, session, valid_from, session.end)
            for i, stock in enumerate(stocks or (10,))]
    return catalog.create_product(ctx, ADMIN, NewProduct(
        kind=Kind.TICKET, name="Hall " + secrets.token_hex(3), description="", category="museum", tags=["t"],
        status=status, list_at=None, delist_at=None, purchase_limit=purchase_limit, real_name=real_name,
        fulfillment=[], skus=skus))


def merch_product(ctx: Context, *stocks: int, price: int = 2500, threshold: int = 0,
                  fulfillment: tuple[Fulfillment, ...] = (Fulfillment.PICKUP, Fulfillment.SHIPPING)
                  ) -> tuple[Product, list[Sku]]:
    skus = [NewSku(f"Size {i}", price, stock, threshold, attributes={"size": str(i)})
            for i, stock in enumerate(stocks or (10,))]
    return catalog.create_product(ctx, ADMIN, NewProduct(
        kind=Kind.MERCH, name="Tote " + secrets.token_hex(3), description="", category="souvenir", tags=[],
        status=ProductStatus.LISTED, list_at=None, delist_at=None, purchase_limit=None, real_name=False,
        fulfillment=list(fulfillment), skus=skus))


def place(ctx: Context, actor: Actor, *lines: tuple[str, int], key: str | None = None,
          fulfillment: Fulfillment | None = None, address: Address | None = None,
          visitors: list[Visitor] | None = None, contact: str = "张三", coupon_id: str | None = None) -> PlacedOrder:
    command = PlaceOrder([RequestedLine(s, q) for s, q in lines], contact, PHONE, visitors or [], fulfillment, address,
                         coupon_id)
    return orders.place_order(ctx, actor, command, idempotency_key=key)


def pay(ctx: Context, order: Order, amount: int | None = None) -> str:
    """The customer pays at WeChat and its notice arrives."""
    notice = ctx.wechat_pay.customer_pays(order.trade_no, order.total if amount is None else amount)  # type: ignore[attr-defined]
    return payments.confirm_payment(ctx, notice)


def paid_order(ctx: Context, actor: Actor, *lines: tuple[str, int], **extra: Any) -> Order:
    placed = place(ctx, actor, *lines, **extra)
    assert pay(ctx, placed.order) == "paid"
    return order_of(ctx, placed.order.order_id)


def order_of(ctx: Context, order_id: str) -> Order:
    found = ctx.orders.get(order_id)
    assert found is not None
    return found[0]


def refund_of(ctx: Context, refund_id: str) -> Refund:
    found = ctx.refunds.get(refund_id)
    assert found is not None
    return found


def stock_of(ctx: Context, sku_id: str) -> tuple[int, int, int]:
    sku = ctx.stock.skus([sku_id])[sku_id]
    return sku.available, sku.reserved, sku.sold


def tickets_of(ctx: Context, order_id: str, kind: CodeKind = CodeKind.TICKET) -> list[Ticket]:
    return [t for t in ctx.tickets.of_order(order_id) if t.kind is kind]


ADDRESS = Address("张三", PHONE, "上海市", "某路 1 号")


def new_coupon(ctx: Context, **fields: Any) -> Coupon:
    """A coupon staff created, claimable now: ¥10 off, no threshold, valid 7 days, unless `fields` say
    otherwise (as POST /admin/coupons takes them)."""
    now = ctx.clock()
    body = {"name": "立减10元", "kind": "cash", "amount": 1000, "threshold": 0,
            "claim_from": (now - timedelta(hours=1)).isoformat(), "claim_until": (now + timedelta(days=1)).isoformat(),
            "valid_days": 7, **fields}
    return coupons.create_coupon(ctx, ADMIN, parse_coupon(body, identifiers.new_reference("CPN"), now, "boss"))
