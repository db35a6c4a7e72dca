"""Building an order from the catalog: prices come from the SKUs read, never from the client,
and every rule that can be checked before the transaction is checked here, in a fixed order.
The transaction re-checks stock and purchase limits; these checks give the clear answer."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .commands import PlaceOrder
from .error_codes import ErrorCode
from .errors import Conflict, InvalidInput, NotFound, RuleViolation
from .model import Address, Fulfillment, HistoryEntry, Kind, Order, OrderLine, OrderStatus, Product, Sku, Visitor


def build_order(*, order_id: str, user_id: str, command: PlaceOrder, skus: dict[str, Sku],
                products: dict[str, Product], purchased: dict[str, int], now: datetime,
                payment_timeout: timedelta) -> Order:
    lines: list[OrderLine] = []
    for requested in command.lines:
        sku = skus.get(requested.sku_id)
        product = products.get(sku.product_id) if sku else None
        if sku is None or product is None:
            raise NotFound(f"SKU {requested.sku_id} does not exist", code=ErrorCode.SKU_NOT_FOUND,
                           sku_id=requested.sku_id)
        if not product.is_visible(now) or sku.sale_has_ended(now) or sku.cancelled:
            raise Conflict(f"{product.name} / {sku.name} is not on sale", code=ErrorCode.NOT_ON_SALE,
                           sku_id=sku.sku_id)
        if sku.stock_known and sku.available < requested.quantity:
            raise sold_out(sku.sku_id, sku.available)
        lines.append(OrderLine(
            sku_id=sku.sku_id, product_id=product.product_id, product_name=product.name,
            sku_name=sku.name, kind=product.kind, unit_price=sku.price, quantity=requested.quantity,
            session=sku.session, valid_from=sku.valid_from, valid_until=sku.valid_until,
            category=product.category or ""))

    order = Order(order_id=order_id, user_id=user_id, status=OrderStatus.PENDING_PAYMENT, lines=lines,
                  created_at=now, expires_at=now + payment_timeout, contact_name=command.contact_name,
                  contact_phone=command.contact_phone,
                  history=[HistoryEntry(OrderStatus.PENDING_PAYMENT, now, user_id)])
    check_purchase_limits(order, products, purchased)
    order.visitors = assign_visitors(lines, products, command.visitors)
    order.fulfillment, order.address = choose_fulfillment(lines, products, command)
    return order


def sold_out(sku_id: str, available: int | None = None) -> Conflict:
    details = {"sku_id": sku_id}
    if available is not None:
        details["available"] = available  # type: ignore[assignment]
    return Conflict("not enough stock left", code=ErrorCode.SOLD_OUT, **details)


def purchase_limit_exceeded(product_id: str, limit: int | None, already: int | None = None) -> RuleViolation:
    return RuleViolation(f"at most {limit} per customer for this product", code=ErrorCode.PURCHASE_LIMIT_EXCEEDED,
                         product_id=product_id, limit=limit, already_bought=already)


@dataclass(frozen=True)
class UnpaidLimits:
    """What one customer may hold unpaid at once (恶意占库存: placing orders only to hold a
    session's stock). Checked by the order's own write, so concurrent orders cannot pass it
    together; paid, cancelled and expired orders hold nothing."""
    orders: int = 3
    units_per_sku: int = 10


def unpaid_limit_exceeded(limits: UnpaidLimits, **details: object) -> RuleViolation:
    return RuleViolation(f"pay or cancel your unpaid orders first: at most {limits.orders} unpaid orders and "
                         f"{limits.units_per_sku} unpaid units of one ticket or item at once",
                         code=ErrorCode.UNPAID_LIMIT, max_unpaid_orders=limits.orders,
                         max_unpaid_units_per_sku=limits.units_per_sku, **details)


def unpaid_units(order: Order) -> dict[str, int]:
    """The units an unpaid order holds, by SKU."""
    units: dict[str, int] = {}
    for line in order.lines:
        units[line.sku_id] = units.get(line.sku_id, 0) + line.quantity
    return units


def check_unpaid_units(order: Order, limits: UnpaidLimits) -> None:
    """An order that alone holds more of a SKU than the limit can never pass it."""
    for sku_id, quantity in unpaid_units(order).items():
        if quantity > limits.units_per_sku:
            raise unpaid_limit_exceeded(limits, sku_id=sku_id)


def check_purchase_limits(order: Order, products: dict[str, Product], purchased: dict[str, int]) -> None:
    """Counts what the customer holds in live orders (pending or paid); cancelled and expired
    orders give their quantity back."""
    for product_id, quantity in order.quantities_by_product().items():
        limit = products[product_id].purchase_limit
        already = purchased.get(product_id, 0)
        if limit is not None and already + quantity > limit:
            raise purchase_limit_exceeded(product_id, limit, already)


def assign_visitors(lines: list[OrderLine], products: dict[str, Product],
                    visitors: list[Visitor]) -> list[Visitor]:
    """Real-name tickets need one visitor per admission, given in the order of the lines."""
    needed = [line for line in lines if products[line.product_id].real_name]
    units = sum(line.quantity for line in needed)
    if len(visitors) != units:
        raise RuleViolation(f"this order needs {units} visitor(s) with name and ID number, one per "
                            f"real-name ticket; {len(visitors)} given", code=ErrorCode.VISITORS_REQUIRED,
                            expected=units, given=len(visitors))
    assigned: list[Visitor] = []
    remaining = iter(visitors)
    for line in needed:
        seen: set[tuple[str, str]] = set()
        for _ in range(line.quantity):
            visitor = next(remaining)
            key = (visitor.id_type, visitor.id_number)
            if key in seen:
                raise RuleViolation("one person cannot hold two tickets for the same session",
                                    code=ErrorCode.DUPLICATE_VISITOR, sku_id=line.sku_id)
            seen.add(key)
            assigned.append(Visitor(visitor.name, visitor.id_type, visitor.id_number, line.sku_id))
    return assigned


def choose_fulfillment(lines: list[OrderLine], products: dict[str, Product],
                       command: PlaceOrder) -> tuple[Fulfillment | None, Address | None]:
    merch = [products[line.product_id] for line in lines if line.kind is Kind.MERCH]
    if not merch:
        if command.fulfillment or command.address:
            raise InvalidInput("fulfillment and address are for merchandise orders", field="fulfillment")
        return None, None
    chosen = command.fulfillment
    if chosen is None:
        chosen = Fulfillment.PICKUP if all(Fulfillment.PICKUP in p.fulfillment for p in merch) else None
        if chosen is None:
            raise InvalidInput("choose a fulfillment: some goods can only be shipped", field="fulfillment")
    for product in merch:
        if chosen not in product.fulfillment:
            raise RuleViolation(f"{product.name} cannot be delivered by {chosen.value}",
                                code=ErrorCode.FULFILLMENT_NOT_AVAILABLE, product_id=product.product_id)
    if chosen is Fulfillment.SHIPPING and command.address is None:
        raise InvalidInput("shipping needs an address", field="address")
    if chosen is Fulfillment.PICKUP and command.address is not None:
        raise InvalidInput("an address is only for shipping", field="address")
    return chosen, command.address
