"""The tags a store gives the writes it adds to a unit of work. A refused transaction names its
failed writes by them (`ports.WriteRefused`), and a use case reads from them which condition
failed (`writes.commit`'s explanations): the stores write these names and the use cases read
them, so neither side spells a tag of its own."""
from __future__ import annotations

from enum import StrEnum
from typing import Iterable


class Tag(StrEnum):
    """A write the use case knows by its kind alone: at most one of it in a transaction."""
    ORDER = "order"
    PAYMENT = "payment"
    REFUND = "refund"
    PRODUCT = "product"
    IDEMPOTENCY = "idempotency"
    UNPAID = "unpaid"
    LATCH = "latch"              # a SKU's low-stock latch
    STAFF = "staff"
    ACTOR = "actor"              # the acting admin, checked, not written
    AUDIT = "audit"
    ALERT = "alert"
    COUPON = "coupon"            # a coupon template
    PROMOTION = "promotion"      # a full reduction, or the member tiers
    CANCELLATION = "cancellation"  # a session cancellation's progress record
    NOTICE = "notice"            # a session cancellation's notice of one order: recorded once
    AFTER_SALE = "after_sale"    # an after-sale request (售后), moved from the state it was read in


class ItemTag(StrEnum):
    """A write that also names its item (`sku:<sku_id>`): a transaction may hold several of a
    kind, and the use case has to say which one refused. The value is the prefix; it ends in
    ':', which is how `writes.commit` tells a prefix from a whole tag."""
    SKU = "sku:"
    SHARD = "shard:"             # a random shard of a sharded SKU, picked blind
    LIMIT = "limit:"             # a customer's purchase counter of a product
    TICKET = "ticket:"
    SUPERSEDED = "superseded:"   # a failed refund whose codes a newer refund takes over
    MOVEMENT = "movement:"
    BUCKET = "bucket:"           # a figures bucket
    COUNTED = "counted:"         # a change's marker: counted once
    USER_COUPON = "user_coupon:"  # a customer's coupon
    UNITS = "units:"             # an order line's units under after-sales (their counter)

    def of(self, item_id: str) -> str:
        return self.value + item_id

    def id_in(self, tag: str) -> str | None:
        """The item's id when `tag` is of this kind, else None."""
        return tag[len(self.value):] if tag.startswith(self.value) else None

    def matches(self, tag: str) -> bool:
        return tag.startswith(self.value)

    def ids_in(self, tags: Iterable[str]) -> list[str]:
        return [tag[len(self.value):] for tag in tags if tag.startswith(self.value)]
