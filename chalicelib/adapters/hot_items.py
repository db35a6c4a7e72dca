"""What this process has learnt about partitions DynamoDB throttles (an item's partition key:
a SKU, a shard, a ledger), so that it stops sending writes to them faster than they take: a
token bucket per hot partition, its rate halved at most once a second while throttles come and
grown back by one write a second for every second of successes (additive increase, multiplicative decrease,
as botocore's adaptive mode does for a whole client; that mode cannot help here, because a hot
item's refusal comes inside a TransactionCanceledException it does not read as a throttle, and
one hot item must not slow the client's every other request).

An item nobody throttled is not tracked and costs nothing. In Lambda each container learns on
its own: the bound is per container, and one order sends at most one transaction to an item
this container has seen throttled."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

# Writes a second a container first allows a hot item; halved at each throttle, never below
# the floor (a throttled item still takes writes: it is only over its share).
FIRST_RATE = 8.0
FLOOR_RATE = 1.0
# Grown back past this, or unthrottled this long, the item is forgotten.
CEILING_RATE = 64.0
FORGET_AFTER_SECONDS = 60.0


@dataclass
class _Bucket:
    rate: float
    tokens: float
    updated: float
    throttled_at: float
    halved_at: float


class HotItems:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._purged = clock()

    def admit(self, keys: list[str]) -> list[str]:
        """The keys held back now (no token); empty when the write may be sent. Tokens are taken
        only when every hot key has one, so a write held back spends nothing."""
        if not self._buckets:
            return []
        with self._lock:
            now = self._clock()
            hot = [(key, bucket) for key in keys if (bucket := self._fresh(key, now)) is not None]
            held = [key for key, bucket in hot if bucket.tokens < 1]
            if not held:
                for _, bucket in hot:
                    bucket.tokens -= 1
            return held

    def forget(self) -> None:
        """Tests start from a process that has seen nothing throttled."""
        with self._lock:
            self._buckets.clear()

    @property
    def quiet(self) -> bool:
        """Nothing is hot: the common case, answered without a lock."""
        return not self._buckets

    def admit_would_hold(self, key: str) -> bool:
        """Whether a write to `key` would be held back now (no token is taken)."""
        if not self._buckets:
            return False
        with self._lock:
            bucket = self._fresh(key, self._clock())
            return bucket is not None and bucket.tokens < 1

    def throttled(self, key: str) -> bool:
        """DynamoDB throttled a write to `key`; True when the item was not known hot before."""
        with self._lock:
            now = self._clock()
            self._purge(now)
            bucket = self._fresh(key, now)
            if bucket is None:
                self._buckets[key] = _Bucket(FIRST_RATE, 0.0, now, now, now)
                return True
            # Throttles of writes sent together say one thing: the rate halves once a second.
            if now - bucket.halved_at >= 1.0:
                bucket.rate, bucket.halved_at = max(FLOOR_RATE, bucket.rate / 2), now
            bucket.tokens, bucket.throttled_at = 0.0, now
            return False

    def succeeded(self, keys: list[str]) -> None:
        if not self._buckets:
            return
        with self._lock:
            for key in keys:
                bucket = self._buckets.get(key)
                if bucket is not None:
                    bucket.rate += 1 / bucket.rate       # +1 a second at `rate` successes a second
                    if bucket.rate > CEILING_RATE:
                        del self._buckets[key]

    def retry_after_seconds(self, key: str) -> float:
        """How long until the item has a token again (0 when it is not hot)."""
        with self._lock:
            bucket = self._fresh(key, self._clock())
            return 0.0 if bucket is None else max(0.0, (1 - bucket.tokens) / bucket.rate)

    def _purge(self, now: float) -> None:
        """Partitions unthrottled for a minute are forgotten even if never asked about again."""
        if now - self._purged >= FORGET_AFTER_SECONDS:
            self._purged = now
            for key in [k for k, b in self._buckets.items() if now - b.throttled_at > FORGET_AFTER_SECONDS]:
                del self._buckets[key]

    def _fresh(self, key: str, now: float) -> _Bucket | None:
        """The item's bucket refilled to now, or None (forgotten when long unthrottled)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return None
        if now - bucket.throttled_at > FORGET_AFTER_SECONDS:
            del self._buckets[key]
            return None
        bucket.tokens = min(max(1.0, bucket.rate / 4), bucket.tokens + (now - bucket.updated) * bucket.rate)
        bucket.updated = now
        return bucket


# One per process: every unit of work in it sends through the same knowledge.
hot_items = HotItems()
