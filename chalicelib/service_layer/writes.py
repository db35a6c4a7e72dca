"""Committing a unit of work and saying, in the domain's words, why it was refused."""
from __future__ import annotations

from typing import Callable, Mapping

from ..domain.errors import DomainError
from .ports import WriteRefused, Writes

# A write's tag -> the domain error to raise when its condition failed, or None for "not an
# error: report False". A key ending in ':' matches every tag it begins and gets the rest.
# The first key (in the mapping's order) that matches a failed write decides.
Explain = Mapping[str, Callable[[str], DomainError] | None]


def commit(uow: Writes, explain: Explain | None = None) -> bool:
    """True when written. A refused write whose tag `explain` knows raises its domain error, or
    returns False; any other refusal (a conflict, an unexpected condition) propagates."""
    try:
        uow.commit()
    except WriteRefused as refused:
        for key, make in (explain or {}).items():
            for tag in refused.failed:
                if tag == key or (key.endswith(":") and tag.startswith(key)):
                    if make is None:
                        return False
                    raise make(tag[len(key):] if key.endswith(":") else tag) from None
        raise
    return True
