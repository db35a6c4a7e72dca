"""Where a sharded SKU's units come from and go back to: plain rules, no AWS."""
from __future__ import annotations

import random

import pytest

from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.model import Sku
from chalicelib.domain.stock_shards import (AUTO_SHARD_STOCK, MAX_STOCK_SHARDS, check_shard_count, may_cross_threshold,
                                            plan, shards_for_stock, spread_evenly, take_from)


def test_a_plan_takes_one_bucket_that_holds_it_all_else_the_fullest_first() -> None:
    rng = random.Random(7)
    assert {tuple(plan(3, {0: 0, 1: 5, 2: 3, 3: 1}, rng) or {}) for _ in range(50)} == {(1,), (2,)}
    assert plan(6, {0: 1, 1: 2, 2: 3, 3: 1}) == {2: 3, 1: 2, 0: 1}
    assert plan(8, {0: 1, 1: 2, 2: 3, 3: 1}) is None                 # together they are short: sold out
    assert plan(7, {0: 1, 1: 2, 2: 3, 3: 1}) == {2: 3, 1: 2, 0: 1, 3: 1}


def test_units_spread_evenly_and_come_back_to_where_they_were_taken() -> None:
    assert spread_evenly(10, [1, 2, 3, 4]) == {1: 3, 2: 3, 3: 2, 4: 2}
    assert spread_evenly(2, [1, 2, 3]) == {1: 1, 2: 1, 3: 0}
    assert take_from({1: 2, 4: 1}, 1) == {4: 1}
    assert take_from({1: 2, 4: 1}, 3) == {4: 1, 1: 2}
    assert take_from({1: 2, 4: 1}, 1, already_back=1) == {1: 1}        # the second of three one-unit refunds
    assert take_from({1: 2, 4: 1}, 1, already_back=2) == {1: 1}
    assert plan(3, {0: 0, 1: 5, 2: 3}, fullest_first=True) == {1: 3}


def test_shards_by_size_and_staff_may_only_add_shards() -> None:
    assert shards_for_stock(AUTO_SHARD_STOCK - 1) == 0 and shards_for_stock(AUTO_SHARD_STOCK) == 4
    assert shards_for_stock(10_000_000) == MAX_STOCK_SHARDS
    check_shard_count(8, 4)
    with pytest.raises(Conflict):
        check_shard_count(3, 4)
    for bad in (1, MAX_STOCK_SHARDS + 1):
        with pytest.raises(InvalidInput):
            check_shard_count(bad, 0)


def test_every_order_of_a_sharded_sku_with_a_threshold_wakes_the_alerts_worker() -> None:
    """No order of a sharded SKU reads its total, so none can tell it crossed."""
    sku = Sku("P-S1", "P", "x", 100, available=0, low_stock_threshold=10, stock_shards=4)
    assert may_cross_threshold(sku, 5)
    without = Sku("P-S3", "P", "x", 100, available=0, low_stock_threshold=0, stock_shards=4)
    assert not may_cross_threshold(without, 5)
    plain = Sku("P-S2", "P", "x", 100, available=12, low_stock_threshold=10)
    assert may_cross_threshold(plain, 3) and not may_cross_threshold(plain, 2)
