"""Identifier formats. Order ids double as WeChat Pay out_trade_no (<= 32 of [A-Za-z0-9_-]);
a SKU id embeds its product id so that one batched read can fetch both on the order path."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread

PRODUCT_ID = re.compile(r"^P[0-9A-Z]{12}$")
SKU_ID = re.compile(r"^(P[0-9A-Z]{12})-S[0-9A-Z]{6}$")
ORDER_ID = re.compile(r"^O\d{14}[0-9A-Z]{12}$")
USER_ID = re.compile(r"^U[0-9a-f]{16}$")
USER_COUPON_ID = re.compile(r"^UC[0-9A-Z]{16}$")
COUPON_ID = re.compile(r"^CPN[0-9A-Z]{16}$")
PROMOTION_ID = re.compile(r"^PRM[0-9A-Z]{16}$")
OUT_TRADE_NO = re.compile(r"^[A-Za-z0-9_-]{6,32}$")     # WeChat Pay's out_trade_no: what any trade may be called


ATTEMPT_TRADE_NO = re.compile(r"^(O\d{14}[0-9A-Z]{12})-([2-9]|[1-9]\d{1,3})$")   # within 32 characters


def trade_no(order_id: str, attempt: int) -> str:
    """A payment attempt's out_trade_no: the order id for the first, `<order_id>-N` after a
    change (WeChat refuses a reused out_trade_no with a new amount)."""
    return order_id if attempt <= 1 else f"{order_id}-{attempt}"


def attempt_of(out_trade_no: str) -> tuple[str, int] | None:
    """The order and attempt an out_trade_no names; None for a trade no order of ours made."""
    if ORDER_ID.match(out_trade_no):
        return out_trade_no, 1
    match = ATTEMPT_TRADE_NO.match(out_trade_no)
    return (match.group(1), int(match.group(2))) if match else None


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def new_product_id() -> str:
    return "P" + _random(12)


def new_sku_id(product_id: str) -> str:
    return f"{product_id}-S{_random(6)}"


def product_id_of(sku_id: str) -> str | None:
    match = SKU_ID.match(sku_id)
    return match.group(1) if match else None


def new_order_id(now: datetime) -> str:
    """27 characters: the UTC time makes ids sort by creation for staff; 60 random bits
    make them unguessable."""
    return "O" + now.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S") + _random(12)


def new_reference(prefix: str) -> str:
    return prefix + _random(16)
