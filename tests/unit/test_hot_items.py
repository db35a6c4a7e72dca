"""The per-process memory of throttled items: what one order, and one container, may send to an
item DynamoDB has just throttled."""
from __future__ import annotations

import pytest

from chalicelib.adapters.hot_items import FIRST_RATE, FLOOR_RATE, FORGET_AFTER_SECONDS, HotItems
from chalicelib.domain.stock_shards import HOT_SPLIT_SHARDS, shards_for_hot_stock


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_an_item_nobody_throttled_is_always_sent(clock: Clock) -> None:
    items = HotItems(clock)
    assert all(items.admit(["sku-a"]) == [] for _ in range(1000))


def test_a_throttled_item_is_held_back_until_its_bucket_refills(clock: Clock) -> None:
    items = HotItems(clock)
    assert items.throttled("sku-a") is True
    assert items.admit(["sku-a", "order-1"]) == ["sku-a"]          # no token right after the throttle
    assert items.retry_after_seconds("sku-a") == pytest.approx(1 / FIRST_RATE)
    clock.now += 1 / FIRST_RATE
    assert items.admit(["sku-a"]) == []
    assert items.admit(["sku-a"]) == ["sku-a"]
    assert items.admit(["sku-b"]) == []                           # other items are not slowed


def test_over_a_second_a_hot_item_gets_about_its_rate_and_no_more(clock: Clock) -> None:
    items = HotItems(clock)
    items.throttled("sku-a")
    sent = 0
    for _ in range(1000):                    # a thousand orders over one second
        clock.now += 0.001
        sent += items.admit(["sku-a"]) == []
    assert FIRST_RATE - 1 <= sent <= FIRST_RATE + 1


def test_throttles_halve_the_rate_once_a_second_to_a_floor_and_successes_grow_it_back_slowly(clock: Clock) -> None:
    items = HotItems(clock)
    items.throttled("sku-a")
    for _ in range(5):                       # writes sent together, refused together: one halving
        assert items.throttled("sku-a") is False
    assert items.retry_after_seconds("sku-a") == pytest.approx(1 / FIRST_RATE)
    for _ in range(10):
        clock.now += 1
        items.throttled("sku-a")
    assert items.retry_after_seconds("sku-a") == pytest.approx(1 / FLOOR_RATE)
    clock.now += 1
    assert items.admit(["sku-a"]) == [] and items.admit(["sku-a"]) == ["sku-a"]   # one a second
    items.succeeded(["sku-a"])               # +1/rate: a second of successes at the floor adds one
    assert items.retry_after_seconds("sku-a") == pytest.approx(1 / (FLOOR_RATE + 1))
    for _ in range(2 * 2):                   # two more seconds' worth at about 2 a second
        items.succeeded(["sku-a"])
    assert 3.5 <= 1 / items.retry_after_seconds("sku-a") <= 4.5


def test_a_write_held_back_spends_no_token_of_its_other_hot_items(clock: Clock) -> None:
    items = HotItems(clock)
    items.throttled("a")
    clock.now += 1
    items.throttled("b")
    assert items.admit(["a", "b"]) == ["b"]
    # "a" kept the token the refused write would have taken: both of its burst are still there
    assert [items.admit(["a"]) for _ in range(3)] == [[], [], ["a"]]


def test_an_item_unthrottled_for_a_minute_is_forgotten(clock: Clock) -> None:
    items = HotItems(clock)
    items.throttled("sku-a")
    clock.now += FORGET_AFTER_SECONDS + 1
    assert items.retry_after_seconds("sku-a") == 0
    assert items.throttled("sku-a") is True            # hot again: announced again


def test_partitions_nobody_asks_about_again_are_purged_and_the_memory_goes_quiet(clock: Clock) -> None:
    items = HotItems(clock)
    for n in range(100):
        items.throttled(f"sku-{n}")
    clock.now += FORGET_AFTER_SECONDS + 1
    items.throttled("sku-new")
    clock.now += FORGET_AFTER_SECONDS + 1
    items.throttled("sku-newer")
    assert not items.quiet and len(items._buckets) == 1      # noqa: SLF001 - the memory itself is the subject


@pytest.mark.parametrize("sharded,available,stock,shards", [
    (False, 500, 500, HOT_SPLIT_SHARDS),               # a popular small session
    (False, 3, 500, 3),                                # no more shards than free units
    (False, 1, 500, 0),                                # nothing left worth splitting
    (True, 500, 500, 0),                               # already split: a late or redelivered message
    (False, 60_000, 60_000, 24),                       # as its size would have split it
])
def test_a_hot_sku_is_split_by_what_it_holds(sharded: bool, available: int, stock: int, shards: int) -> None:
    assert shards_for_hot_stock(sharded, available, stock) == shards
