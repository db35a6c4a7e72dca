"""Stock of a hot SKU split across shard items, so that a release selling thousands of units a
second is not held to the writes one item takes. Bucket 0 is the SKU itself; buckets 1..N are
its shards. A sharded SKU's free units sit in its shards; bucket 0 keeps what orders placed
before the split still hold, and what comes back to it stays sellable (it is planned like any
shard). Whatever the buckets hold, the SKU's stock is their sum."""
from __future__ import annotations

import math
import random

from .error_codes import ErrorCode
from .errors import Conflict, InvalidInput
from .model import Sku
from .validation import Fields

MAX_STOCK_SHARDS = 96            # a split is one transaction: the shards, the SKU and its audit record
# A SKU created with this much stock or more is split by size, one shard per SHARD_UNITS units:
# a release that large sells faster than one item takes writes (docs/CAPACITY.md).
AUTO_SHARD_STOCK = 10_000
SHARD_UNITS = 2_500

# A SKU whose one stock item DynamoDB throttled is split into this many shards (each takes its own
# writes, so the session takes about this many times the orders), unless it has fewer free units.
HOT_SPLIT_SHARDS = 8

Shares = dict[int, int]          # bucket -> units taken from it (or held in it)


def shards_for_stock(stock: int) -> int:
    """How many shards a new SKU gets by its size: none below AUTO_SHARD_STOCK."""
    if stock < AUTO_SHARD_STOCK:
        return 0
    return min(MAX_STOCK_SHARDS, math.ceil(stock / SHARD_UNITS))


def shards_for_hot_stock(sharded: bool, available: int, stock: int) -> int:
    """How many shards an unsharded SKU found hot is split into (0: leave it): at least what its
    size calls for, HOT_SPLIT_SHARDS otherwise, never more shards than free units to put in them."""
    if sharded:
        return 0
    shards = min(max(HOT_SPLIT_SHARDS, shards_for_stock(stock)), available)
    return shards if shards >= 2 else 0


def parse_split(data: object) -> int:
    f = Fields(data)
    shards = f.integer("shards", minimum=2, maximum=MAX_STOCK_SHARDS)
    assert shards is not None
    return shards


def check_shard_count(shards: int, current: int) -> None:
    """Staff may split a SKU or split it further, never merge: an order's units stay where it
    took them until it ends."""
    if not 2 <= shards <= MAX_STOCK_SHARDS:
        raise InvalidInput(f"shards must be a whole number from 2 to {MAX_STOCK_SHARDS}", field="shards")
    if shards < current:
        raise Conflict(f"this SKU already has {current} shards; shards can only be added",
                       code=ErrorCode.SHARDS_CANNOT_SHRINK, shards=current)


def spread_evenly(units: int, buckets: list[int]) -> Shares:
    """`units` over `buckets`, the first ones taking one more when it does not divide."""
    each, extra = divmod(units, len(buckets))
    return {b: each + (1 if i < extra else 0) for i, b in enumerate(buckets)}


def pick_shard(shards: int, rng: random.Random | None = None) -> int:
    """The shard an order tries first, at random so that concurrent orders spread."""
    return (rng or random).randint(1, shards)


def plan(quantity: int, free: Shares, rng: random.Random | None = None, fullest_first: bool = False
         ) -> Shares | None:
    """Where `quantity` units come from, given each bucket's free units as read: one bucket that
    holds them all (at random among those, to keep concurrent orders apart), else the fullest
    buckets first. None when all of them together hold fewer."""
    if quantity <= 0 or sum(free.values()) < quantity:
        return None
    whole = [b for b, units in free.items() if units >= quantity]
    if whole and not fullest_first:
        return {(rng or random).choice(whole): quantity}
    taken: Shares = {}
    for bucket, units in sorted(free.items(), key=lambda item: (-item[1], item[0])):
        take = min(units, quantity - sum(taken.values()))
        if take > 0:
            taken[bucket] = take
    return taken


# A line takes its units from at most this many buckets; beyond, they are gathered into one
# first. An order of 20 lines then still fits one transaction of 100 writes.
MAX_PLAN_BUCKETS = 2


def plan_beside(kept: Shares, quantity: int, free: Shares, rng: random.Random | None = None) -> Shares | None:
    """Where more units of an order's line come from (改单) so that the line still holds at most
    MAX_PLAN_BUCKETS buckets: one it holds already if that has them, else (while it holds fewer)
    one other bucket that has them all. None when neither is possible."""
    held = [b for b in sorted(kept) if free.get(b, 0) >= quantity]
    if held:
        return {(rng or random).choice(held): quantity}
    whole = [b for b, units in sorted(free.items()) if units >= quantity]
    if len(kept) >= MAX_PLAN_BUCKETS or not whole:
        return None
    return {(rng or random).choice(whole): quantity}


def take_from(shares: Shares, quantity: int, already_back: int = 0) -> Shares:
    """Which of an order line's buckets `quantity` of its units go back to (a partial refund):
    the highest buckets first, after the `already_back` units earlier refunds of the line
    returned, so that no bucket gets back more than the line took from it."""
    back: Shares = {}
    skip = already_back
    for bucket in sorted(shares, reverse=True):
        left = shares[bucket] - min(skip, shares[bucket])
        skip -= shares[bucket] - left
        take = min(left, quantity - sum(back.values()))
        if take > 0:
            back[bucket] = take
    return back


def may_cross_threshold(sku: Sku, quantity: int) -> bool:
    """Whether an order just placed may have taken the SKU below its low-stock threshold. No
    order of a sharded SKU reads its total (the blind pick reads no shard), so each of them
    wakes the alerts worker while the SKU has a threshold; the worker reads every bucket once
    per batch."""
    if sku.sharded:
        return sku.low_stock_threshold > 0
    return sku.available - quantity < sku.low_stock_threshold


def adjustment_changes(sku: Sku, delta: int, spread_out: bool = True) -> Shares:
    """Where a staff adjustment of `delta` units lands, bucket by bucket (negative: given up): an
    unsharded SKU's own item; units received spread over the shards (or one, `spread_out=False`);
    units given up from the buckets that hold them as read (the caller checked there are enough)."""
    if not sku.sharded:
        return {0: delta}
    if delta > 0:
        shards = list(range(1, sku.stock_shards + 1)) if spread_out else [pick_shard(sku.stock_shards)]
        return {b: units for b, units in spread_evenly(delta, shards).items() if units}
    taken = plan(-delta, sku.free_by_bucket or {})
    if taken is None:
        raise ValueError("the caller checks the stock first")
    return {b: -units for b, units in taken.items()}


def gathering(sku: Sku, quantity: int) -> Shares:
    """The units a gather takes from the fullest shards so that bucket 0 holds `quantity` free
    units (empty when it already does; the caller checked there are enough in all)."""
    free = dict(sku.free_by_bucket or {})
    need = quantity - free.pop(0, 0)
    taken = plan(need, free, fullest_first=True) if need > 0 else {}
    if taken is None:
        raise ValueError("the caller checks the stock first")
    return taken
