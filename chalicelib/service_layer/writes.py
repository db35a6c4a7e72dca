"""Committing a unit of work: conflicts with other writers retried (a refused transaction
wrote nothing, so sending it again cannot act twice), and a refused condition said in the
domain's words."""
from __future__ import annotations

import random
from typing import Callable, Mapping

from ..domain.errors import Busy, DomainError, Saturated
from .ports import WriteRefused, Writes
from .retrying import attempts
from .tags import ItemTag, Tag

CONFLICT_ATTEMPTS = 3

# A write's tag -> the domain error to raise when its condition failed, or None for "not an
# error: report False". An ItemTag matches every tag of its kind and gets the item's id.
# The first key (in the mapping's order) that matches a failed write decides.
Explain = Mapping[Tag | ItemTag, Callable[[str], DomainError] | None]


def _busy() -> DomainError:
    return Busy("the shop is busy; please try again")


def attempted(uow: Writes, explain: Explain | None = None) -> bool:
    """For use cases that read, decide and write in a loop: True when written; False when a
    refusal `explain` maps to None, or when other writers kept colliding: read again."""
    try:
        return commit(uow, explain)
    except Busy:
        return False


def commit(uow: Writes, explain: Explain | None = None, busy: Callable[[], DomainError] = _busy) -> bool:
    """True when written. A refused write whose tag `explain` knows raises its domain error, or
    returns False; a conflict with other writers is retried (bounded, jittered) and then raises
    `busy()`; an order's write to a throttled item is not sent again (Saturated, with when to
    come back); any other refusal (a condition nobody explained) propagates."""
    for _ in attempts(CONFLICT_ATTEMPTS):
        try:
            uow.commit()
            return True
        except WriteRefused as refused:
            if not refused.failed and refused.throttled and uow.sheddable:
                # New demand sends no more to a saturated item: told to come back after one to
                # three seconds, spread, so that the crowd a hot session refused does not return
                # in step. What settles existing state retries below, like a conflict.
                raise Saturated("this is selling faster than it can be recorded; please try again in a moment",
                                hot=refused.throttled, retry_after_seconds=random.randint(1, 3)) from None
            if not refused.failed and refused.conflicted:
                continue
            for key, make in (explain or {}).items():
                for tag in refused.failed:
                    if tag == key or (key.endswith(":") and tag.startswith(key)):
                        if make is None:
                            return False
                        raise make(tag[len(key):] if key.endswith(":") else tag) from None
            raise
    raise busy()
