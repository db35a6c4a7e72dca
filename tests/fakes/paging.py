"""Pages of the fakes' lists: the cursor is the page's last sort key, opaque to the client and
checked when it comes back, as the adapters' cursors are (a bad one is INVALID_CURSOR). As with
DynamoDB, a full page carries a cursor even when nothing follows it."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Callable, Iterable, TypeVar

from chalicelib.domain.errors import InvalidInput
from chalicelib.service_layer.ports import Page

T = TypeVar("T")


def invalid_cursor() -> InvalidInput:
    return InvalidInput("cursor is not valid", code="INVALID_CURSOR", field="cursor")


def encode(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(["fake", key]).encode()).decode().rstrip("=")


def decode(cursor: str) -> Any:
    try:
        tag, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if tag != "fake":
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid_cursor() from None
    return key


def _plain(key: Any) -> Any:
    """A sort key as it compares after a round trip through JSON (lists and tuples alike)."""
    return tuple(_plain(k) for k in key) if isinstance(key, (list, tuple)) else key


def page(items: Iterable[T], sort_key: Callable[[T], Any], limit: int, cursor: str | None, descending: bool,
         convert: Callable[[T], Any] = lambda x: x) -> Page:
    rows = sorted(items, key=lambda r: _plain(sort_key(r)), reverse=descending)
    if cursor:
        after = _plain(decode(cursor))
        try:
            rows = [r for r in rows if (_plain(sort_key(r)) < after if descending else _plain(sort_key(r)) > after)]
        except TypeError:
            raise invalid_cursor() from None
    chosen = rows[:limit]
    following = encode(sort_key(chosen[-1])) if chosen and len(chosen) == limit else None
    return Page([convert(r) for r in chosen], following)
