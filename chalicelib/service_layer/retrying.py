"""Bounded retries with full-jitter backoff, for writes refused by a transaction conflict.
Used only where trying again cannot act twice: each attempt re-reads and re-decides."""
from __future__ import annotations

import random
import time
from typing import Iterator

BASE_SECONDS = 0.02


def attempts(count: int) -> Iterator[int]:
    """0, 1, ..., count - 1, pausing a random time (up to 20 ms, 40 ms, 80 ms, ...) before each
    retry so that racing writers spread out instead of colliding again."""
    for attempt in range(count):
        if attempt:
            time.sleep(random.uniform(0, BASE_SECONDS * 2 ** attempt))
        yield attempt
