"""After-sales for goods (售后: 退货退款, 换货): the customer's request, return and cancellation,
staff's approval, rejection, receipt and the replacement's shipping. Each step is ONE transaction
conditional on the after-sale's status as read, and moves what it moves there and only there:

- request: the after-sale and, per line, its units counter (never beyond what was bought);
- approve (exchange): the replacement reserved (SOLD_OUT when there is none), with the after-sale
  id as the movement's order id;
- reject / cancel: the units given back to be asked for again, the replacement released;
- receive (after_sale_receipts.py): restocked goods on sale again, a return's refund; the
  after-sale COMPLETES when WeChat confirms the refund (`refund_settlement.succeed`);
- ship (exchange): the reserved replacement sold, a new pickup code when collected; COMPLETED.

Staff steps are audited in their own transaction."""
from __future__ import annotations

import dataclasses
import json
from typing import Protocol

from ..domain import identifiers
from ..domain.after_sales import (AfterSale, AfterSaleEntry, AfterSaleRequest, AfterSaleStatus,
                                  AfterSaleType, Replacement, ReturnShipment, check_exchange, check_window,
                                  not_found)
from ..domain.after_sale_goods import HeldGoods, goods_asked, held_goods, needs_exchanges
from ..domain.error_codes import ErrorCode
from ..domain.errors import Conflict, InvalidInput, RuleViolation
from ..domain.model import Kind, Order, OrderLine
from ..domain.tickets import PICKUP_VALIDITY, CodeKind, Ticket, new_code
from . import ports
from .context import Actor
from .orders import FINGERPRINT_VERSION, own_order, visible_order
from .refunding import Refunding
from .reservations import plan_sharded
from .tags import ItemTag, Tag
from .writes import CONFLICT_ATTEMPTS, attempted, commit

RELEASED = "after_sale_released"      # a replacement's reservation given back (rejected, cancelled)


class AfterSelling(Refunding, Protocol):
    @property
    def after_sales_days(self) -> int: ...


def changed_meanwhile(after_sale_id: str) -> Conflict:
    return Conflict("this after-sale changed meanwhile", code=ErrorCode.INVALID_STATE, after_sale_id=after_sale_id)


def _pickup(ctx: AfterSelling, order: Order) -> Ticket | None:
    return ctx.tickets.by_code(order.pickup_code) if order.pickup_code else None


def held_goods_of(ctx: AfterSelling, order: Order, wanted: list[tuple[str, int]]) -> dict[str, HeldGoods]:
    """The goods the customer holds by spec; the order's after-sales are read only when what is
    asked goes beyond its own lines (a replacement an exchange handed over)."""
    return held_goods(order, ctx.after_sales.of_order(order.order_id) if needs_exchanges(order, wanted) else [])


def goods_line(order: Order, sku_id: str) -> OrderLine:
    return next(line for line in order.lines if line.sku_id == sku_id and line.kind is Kind.MERCH)


def _fingerprint(ctx: AfterSelling, order_id: str, request: AfterSaleRequest) -> str:
    canonical = json.dumps({"order_id": order_id, **dataclasses.asdict(request)}, sort_keys=True, ensure_ascii=False,
                           default=str)
    return FINGERPRINT_VERSION + ctx.cipher.blind_index(canonical)


def _replayed(ctx: AfterSelling, reply: ports.IdempotentReply, fingerprint: str) -> AfterSale:
    """The first answer to a request repeated under its Idempotency-Key (the key's record keeps
    the after-sale's id where an order's keeps the order's)."""
    if reply.fingerprint != fingerprint:
        raise RuleViolation("this Idempotency-Key was used with a different request",
                            code=ErrorCode.IDEMPOTENCY_KEY_REUSED)
    return existing_after_sale(ctx, reply.order_id)


def request_after_sale(ctx: AfterSelling, actor: Actor, order_id: str, request: AfterSaleRequest,
                       idempotency_key: str | None = None) -> AfterSale:
    """The customer asks to return or exchange goods they have. The units are counted against the
    line in the request's own transaction: two requests racing for the last units cannot both
    pass (409 INVALID_STATE), whatever each read. The same request under the same Idempotency-Key
    answers the first after-sale again."""
    key = f"{actor.name}#after-sale#{idempotency_key}" if idempotency_key else None
    fingerprint = _fingerprint(ctx, order_id, request) if key else ""
    earlier = ctx.idempotency.get(key) if key else None
    if earlier is not None:
        return _replayed(ctx, earlier, fingerprint)
    order, _ = own_order(ctx, actor, order_id)
    now = ctx.clock()
    chosen = goods_asked(held_goods_of(ctx, order, request.lines), request.lines)
    # A replacement's window opens when it was handed over; the order's own goods', at the order's.
    since = None if any(not goods.replaced for goods, _ in chosen) else \
        min(goods.received_at for goods, _ in chosen if goods.received_at)
    check_window(order, _pickup(ctx, order), now, ctx.after_sales_days, since)
    if request.type is AfterSaleType.EXCHANGE:
        line = chosen[0][0].line
        target = ctx.stock.skus([request.exchange_sku_id or ""]).get(request.exchange_sku_id or "") \
            if identifiers.SKU_ID.match(request.exchange_sku_id or "") else None
        check_exchange(line, target, line.product_id)
    after_sale = AfterSale(
        after_sale_id=identifiers.new_reference("A"), order_id=order_id, user_id=order.user_id, type=request.type,
        status=AfterSaleStatus.REQUESTED, lines=list(request.lines), reason=request.reason, created_at=now,
        description=request.description, exchange_sku_id=request.exchange_sku_id,
        history=[AfterSaleEntry(AfterSaleStatus.REQUESTED, now, actor.name)])
    uow = ctx.unit_of_work()
    ctx.after_sales.add(uow, after_sale)
    for goods, quantity in chosen:
        ctx.after_sales.take_units(uow, order_id, goods.line.sku_id, quantity, goods.line.quantity)
    # A refund of the goods taken up again (a failed one retried) and this request exclude each
    # other in the write: the retry checks these units, this checks the refund's claim.
    ctx.orders.goods_unclaimed(uow, order_id)
    if key:
        ctx.idempotency.remember(uow, key, fingerprint, after_sale.after_sale_id, now)
    if not commit(uow, {Tag.IDEMPOTENCY.value: None, Tag.ORDER.value: lambda _: Conflict(
        "a refund of these goods is under way", code=ErrorCode.INVALID_STATE, order_id=order_id),
                        ItemTag.UNITS.value: lambda sku_id: Conflict(
        "these units are already under after-sales (or were all returned)", code=ErrorCode.INVALID_STATE,
        sku_id=sku_id)}):
        reply = ctx.idempotency.get(key or "")      # the same key's request won the race: its answer
        if reply is None:
            raise Conflict("this request changed meanwhile; try again", code=ErrorCode.INVALID_STATE)
        return _replayed(ctx, reply, fingerprint)
    return after_sale


def existing_after_sale(ctx: AfterSelling, after_sale_id: str) -> AfterSale:
    found = ctx.after_sales.get(after_sale_id) if 2 <= len(after_sale_id) <= 40 else None
    if found is None:
        raise not_found(after_sale_id)
    return found


def _own(ctx: AfterSelling, actor: Actor, order_id: str, after_sale_id: str) -> AfterSale:
    own_order(ctx, actor, order_id)
    found = existing_after_sale(ctx, after_sale_id)
    if found.order_id != order_id:
        raise not_found(after_sale_id)
    return found


def after_sales_of_order(ctx: AfterSelling, actor: Actor, order_id: str) -> list[AfterSale]:
    visible_order(ctx, actor, order_id)
    return ctx.after_sales.of_order(order_id)


def list_after_sales(ctx: AfterSelling, status: str | None, kind: str | None, limit: int,
                     cursor: str | None) -> ports.Page:
    status = status or AfterSaleStatus.REQUESTED.value
    if status not in AfterSaleStatus.__members__:
        raise InvalidInput(f"status must be one of {', '.join(AfterSaleStatus.__members__)}", field="status")
    if kind is not None and kind not in {t.value for t in AfterSaleType}:
        raise InvalidInput("type must be return_refund or exchange", field="type")
    return ctx.after_sales.page(status, kind, limit, cursor)


def _finish(ctx: AfterSelling, uow: ports.Writes, after_sale: AfterSale, more: dict[ItemTag | Tag, object]
            | None = None) -> None:
    explain: dict[str, object] = {Tag.AFTER_SALE.value: lambda _: changed_meanwhile(after_sale.after_sale_id)}
    explain.update({str(k): v for k, v in (more or {}).items()})
    commit(uow, explain)  # type: ignore[arg-type]


def audit_step(ctx: AfterSelling, uow: ports.Writes, actor: Actor, action: str, after_sale: AfterSale,
           **details: object) -> None:
    ctx.audit.record(actor.name, action, ctx.clock(), target=after_sale.after_sale_id, source_ip=actor.source_ip,
                     details={"order_id": after_sale.order_id, **details}, uow=uow)


def _give_back(ctx: AfterSelling, uow: ports.Writes, after_sale: AfterSale) -> None:
    """A request that ends without its goods coming back (rejected, cancelled) frees its units to
    be asked for again and releases a reserved replacement."""
    now = ctx.clock()
    for sku_id, quantity in after_sale.lines:
        ctx.after_sales.give_units(uow, after_sale.order_id, sku_id, quantity)
    if after_sale.replacement_shares and after_sale.exchange_sku_id:
        ctx.stock.release(uow, after_sale.exchange_sku_id, after_sale.replacement_shares, after_sale.after_sale_id,
                          RELEASED, now)


def approve(ctx: AfterSelling, actor: Actor, after_sale_id: str) -> AfterSale:
    """Staff accept the request; an exchange's replacement is reserved in the same transaction.
    A sharded spec's units are planned over its buckets as an order's are (SOLD_OUT only when
    all of them together are short); a bucket emptied meanwhile makes it plan again."""
    for _ in range(CONFLICT_ATTEMPTS):
        done = _approved(ctx, actor, existing_after_sale(ctx, after_sale_id))
        if done is not None:
            return done
    raise _sold_out(existing_after_sale(ctx, after_sale_id).exchange_sku_id or "")


def _approved(ctx: AfterSelling, actor: Actor, after_sale: AfterSale) -> AfterSale | None:
    now = ctx.clock()
    entry = after_sale.moved(AfterSaleStatus.APPROVED, now, actor.name)
    uow = ctx.unit_of_work()
    shares: dict[int, int] = {}
    sku_id = after_sale.exchange_sku_id
    if after_sale.type is AfterSaleType.EXCHANGE and sku_id:
        sku = ctx.stock.skus([sku_id]).get(sku_id)
        if sku is None:
            raise Conflict("the replacement's SKU is gone", code=ErrorCode.INVALID_STATE, sku_id=sku_id)
        if sku.available < after_sale.units:
            raise _sold_out(sku_id)
        planned = plan_sharded(ctx, {sku_id: after_sale.units}, lambda s, _: _sold_out(s)).get(sku_id) \
            if sku.sharded else None
        shares = ctx.stock.reserve(uow, sku, after_sale.units, after_sale.after_sale_id, now, planned) \
            or {0: after_sale.units}
    ctx.after_sales.move(uow, after_sale, entry, **({"replacement_shares": shares} if shares else {}))
    audit_step(ctx, uow, actor, "after_sale_approved", after_sale, type=after_sale.type.value)
    if not attempted(uow, {Tag.AFTER_SALE.value: lambda _: changed_meanwhile(after_sale.after_sale_id),
                           ItemTag.SKU: lambda _: _sold_out(sku_id or ""), ItemTag.SHARD: None}):
        return None
    after_sale.status, after_sale.replacement_shares = entry.status, shares
    after_sale.history.append(entry)
    return after_sale


def _sold_out(sku_id: str) -> Conflict:
    return Conflict("the replacement is sold out", code=ErrorCode.SOLD_OUT, sku_id=sku_id)


def reject(ctx: AfterSelling, actor: Actor, after_sale_id: str, reason: str) -> AfterSale:
    after_sale = existing_after_sale(ctx, after_sale_id)
    now = ctx.clock()
    entry = after_sale.moved(AfterSaleStatus.REJECTED, now, actor.name)
    uow = ctx.unit_of_work()
    ctx.after_sales.move(uow, after_sale, entry, reject_reason=reason)
    _give_back(ctx, uow, after_sale)
    audit_step(ctx, uow, actor, "after_sale_rejected", after_sale, reason=reason)
    _finish(ctx, uow, after_sale)
    after_sale.status, after_sale.reject_reason = entry.status, reason
    after_sale.history.append(entry)
    return after_sale


def cancel(ctx: AfterSelling, actor: Actor, order_id: str, after_sale_id: str) -> AfterSale:
    """The customer withdraws the request, before the goods are received."""
    after_sale = _own(ctx, actor, order_id, after_sale_id)
    entry = after_sale.moved(AfterSaleStatus.CANCELLED, ctx.clock(), actor.name)
    uow = ctx.unit_of_work()
    ctx.after_sales.move(uow, after_sale, entry)
    _give_back(ctx, uow, after_sale)
    _finish(ctx, uow, after_sale)
    after_sale.status = entry.status
    after_sale.history.append(entry)
    return after_sale


def send_back(ctx: AfterSelling, actor: Actor, order_id: str, after_sale_id: str,
              shipment: ReturnShipment) -> AfterSale:
    """The customer sent the goods (or brought them to the shop): RETURNING."""
    after_sale = _own(ctx, actor, order_id, after_sale_id)
    entry = after_sale.moved(AfterSaleStatus.RETURNING, ctx.clock(), actor.name)
    uow = ctx.unit_of_work()
    ctx.after_sales.move(uow, after_sale, entry, return_shipment=shipment.shown())
    _finish(ctx, uow, after_sale)
    after_sale.status, after_sale.return_shipment = entry.status, shipment.shown()
    after_sale.history.append(entry)
    return after_sale


def ship(ctx: AfterSelling, actor: Actor, after_sale_id: str, replacement: Replacement) -> AfterSale:
    """An exchange's replacement goes out (or waits at the counter under a new pickup code): the
    reserved units sold, COMPLETED, in one transaction."""
    after_sale = existing_after_sale(ctx, after_sale_id)
    if after_sale.type is not AfterSaleType.EXCHANGE or not after_sale.exchange_sku_id:
        raise Conflict("only an exchange ships a replacement", code=ErrorCode.INVALID_STATE,
                       status=after_sale.status.value)
    now = ctx.clock()
    entry = after_sale.moved(AfterSaleStatus.COMPLETED, now, actor.name)
    uow = ctx.unit_of_work()
    ctx.stock.sell(uow, after_sale.exchange_sku_id, after_sale.replacement_shares)
    if replacement.pickup:
        sku = ctx.stock.skus([after_sale.exchange_sku_id]).get(after_sale.exchange_sku_id)
        code = Ticket(code=new_code(), ticket_id=identifiers.new_reference("K"), kind=CodeKind.PICKUP,
                      order_id=after_sale.order_id, user_id=after_sale.user_id, sku_id="",
                      product_name=(sku.name if sku else after_sale.exchange_sku_id)[:500],
                      sku_name="pickup", valid_from=now, valid_until=now + PICKUP_VALIDITY, issued_at=now)
        code.qr = ctx.qr.sign(code)
        ctx.tickets.add(uow, code)
        shipment = {"pickup_code": code.code, "pickup_ticket_id": code.ticket_id}
    else:
        shipment = {"carrier": replacement.carrier or "", "tracking_no": replacement.tracking_no or ""}
    ctx.after_sales.move(uow, after_sale, entry, shipment=shipment)
    audit_step(ctx, uow, actor, "after_sale_shipped", after_sale, **shipment)
    _finish(ctx, uow, after_sale)
    after_sale.status, after_sale.shipment = entry.status, shipment
    after_sale.history.append(entry)
    return after_sale
