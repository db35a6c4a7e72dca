"""After-sales (售后): the goods come back. Staff receive them in ONE transaction: RECEIVED, the
restocked units on sale again (movement `return`), and for a return its refund of exactly those
units' `paid`, approved with the goods returned through the refunds' own approving writes, then
the refunds queue. The refund moves no stock (`stock_lines` empty): what comes back to stock came
back here, once, or not at all (damaged goods are not restocked)."""
from __future__ import annotations

from ..domain.after_sale_goods import HeldGoods
from ..domain.after_sales import AfterSale, AfterSaleStatus, AfterSaleType, Receipt, refund_amount, refund_id_for
from ..domain.error_codes import ErrorCode
from ..domain.errors import Busy, Conflict
from ..domain.refund_summary import RefundItem, contact_of
from ..domain.refunds import SOURCE_AFTER_SALE, Refund, RefundStatus
from ..domain.stock_shards import take_from
from .after_sales import AfterSelling, audit_step, changed_meanwhile, existing_after_sale, goods_line, held_goods_of
from .context import Actor
from .publishing import enqueue_refund
from .refunds import approve_returned_goods
from .tags import ItemTag, Tag
from .writes import CONFLICT_ATTEMPTS, attempted


def receive(ctx: AfterSelling, actor: Actor, after_sale_id: str, receipt: Receipt) -> tuple[AfterSale, Refund | None]:
    """The goods are back. In ONE transaction: RECEIVED, the restocked units on sale again
    (`return`), and for a return its refund, approved with the goods returned. Each line's
    counts of units refunded and restocked are the offsets its units take their shares of `paid`
    and their buckets from; the write is conditional on them, so a receipt of the same line that
    landed meanwhile makes this one read again."""
    for _ in range(CONFLICT_ATTEMPTS):
        done = _received(ctx, actor, existing_after_sale(ctx, after_sale_id), receipt)
        if done is not None:
            return done
    raise Busy("the shop is busy; please try again")


def _held(held: dict[str, HeldGoods], sku_id: str) -> HeldGoods:
    goods = held.get(sku_id)
    if goods is None or goods.mixed:
        raise Conflict("these goods are no longer held under this order", code=ErrorCode.INVALID_STATE,
                       sku_id=sku_id)
    return goods


def _received(ctx: AfterSelling, actor: Actor, after_sale: AfterSale,
              receipt: Receipt) -> tuple[AfterSale, Refund | None] | None:
    found = ctx.orders.get(after_sale.order_id)
    if found is None:
        raise Conflict("the after-sale's order is gone", code=ErrorCode.INVALID_STATE)
    order = found[0]
    now = ctx.clock()
    entry = after_sale.moved(AfterSaleStatus.RECEIVED, now, actor.name)
    returning = after_sale.type is AfterSaleType.RETURN_REFUND
    counted = {sku_id: ctx.after_sales.line_units(order.order_id, sku_id) for sku_id, _ in after_sale.lines}
    # Replacements (and a line's units beyond what it sold, come back through exchanges) are known
    # from the order's exchanges; its own lines from the order alone.
    held = held_goods_of(ctx, order, [(s, counted[s].restocked + q) for s, q in after_sale.lines])
    goods = {sku_id: _held(held, sku_id) for sku_id, _ in after_sale.lines}
    for origin in {g.origin for g in goods.values()} - set(counted):
        counted[origin] = ctx.after_sales.line_units(order.order_id, origin)
    refunded: dict[str, int] = {}              # units by the line whose money they refund
    paid: dict[str, int] = {}
    for sku_id, quantity in after_sale.lines:
        origin = goods[sku_id].origin
        paid[sku_id] = refund_amount(goods_line(order, origin), quantity,
                                     counted[origin].refunded + refunded.get(origin, 0))
        refunded[origin] = refunded.get(origin, 0) + quantity
    uow = ctx.unit_of_work()
    fields: dict[str, object] = {"restocked": receipt.restock, "receive_note": receipt.note}
    refund = None
    if returning:
        amount = sum(paid.values())
        names = ctx.stock.skus([s for s, g in goods.items() if g.replaced])
        # What staff read in the refund queue: these units, what each refunds, and for whom.
        items = [RefundItem(sku_id, goods[sku_id].line.product_name,
                            names[sku_id].name if sku_id in names else goods[sku_id].line.sku_name, quantity,
                            paid[sku_id]) for sku_id, quantity in after_sale.lines]
        refund = Refund(refund_id=refund_id_for(after_sale.after_sale_id), order_id=order.order_id, amount=amount,
                        total=order.total, status=RefundStatus.APPROVED, reason=f"after-sale {after_sale.reason}",
                        source=SOURCE_AFTER_SALE, created_at=now, user_id=order.user_id,
                        transaction_id=order.transaction_id, out_trade_no=order.trade_no, ticket_codes=[],
                        stock_lines=[], decided_by=actor.name, goods_returned=True, items=items,
                        contact=contact_of(order))
        fields.update(refund_id=refund.refund_id, amount=amount)
        approve_returned_goods(ctx, uow, refund, order, actor.name)
    ctx.after_sales.move(uow, after_sale, entry, **{k: v for k, v in fields.items() if v is not None})
    restocked = {sku_id: quantity for sku_id, quantity in after_sale.lines} if receipt.restock else {}
    for sku_id in counted:                     # one write per units item, both its counts at once
        back, into_stock = (refunded.get(sku_id, 0) if returning else 0), restocked.get(sku_id, 0)
        if back or into_stock:
            ctx.after_sales.count_back(uow, order.order_id, sku_id, counted[sku_id], back, into_stock)
    for sku_id, quantity in restocked.items():
        sold_from = goods[sku_id].stock_shares
        shares = take_from(sold_from, quantity, counted[sku_id].restocked) if sold_from else {0: quantity}
        ctx.stock.return_sold(uow, sku_id, shares, order.order_id, now)
    audit_step(ctx, uow, actor, "after_sale_received", after_sale, restock=receipt.restock,
           refund_id=refund.refund_id if refund else None)
    if not attempted(uow, {Tag.AFTER_SALE.value: lambda _: changed_meanwhile(after_sale.after_sale_id),
                           Tag.ORDER.value: None,        # another refund of the order moved it: read again
                           Tag.REFUND.value: lambda _: changed_meanwhile(after_sale.after_sale_id),
                           ItemTag.UNITS: None}):
        return None
    if refund is not None:
        enqueue_refund(ctx, refund.refund_id)
    after_sale.status, after_sale.restocked, after_sale.receive_note = entry.status, receipt.restock, receipt.note
    after_sale.history.append(entry)
    if refund is not None:
        after_sale.refund_id, after_sale.amount = refund.refund_id, refund.amount
    return after_sale, refund
