"""Pages of an index spread over shards, merged: nothing skipped or shown twice, whatever the
shards hold and wherever they stop (fake shards, no AWS)."""
from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.adapters.dynamo import fanned_page
from chalicelib.domain.errors import InvalidInput


class Result(list):  # type: ignore[type-arg]
    last_evaluated_key: dict[str, Any] | None = None


def fake_index(shards: dict[str, list[str]], descending: bool):  # type: ignore[no-untyped-def]
    """A shard's query as DynamoDB answers it: strictly beyond the position, at most `count`
    rows, and the last one's key when it stopped early."""
    def query(key: str, after: str | None, count: int) -> Result:
        rows = sorted(shards[key], reverse=descending)
        rows = [r for r in rows if after is None or (r < after if descending else r > after)]
        out = Result(SimpleNamespace(listed_at=r) for r in rows[:count])
        if len(rows) > count:
            out.last_evaluated_key = {"listed_at": {"S": rows[count - 1]}}
        return out
    return query


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_every_row_once_in_order_through_every_page(descending: bool, limit: int) -> None:
    rng = random.Random(limit)
    # The same second for many rows: the order id in the key keeps them apart.
    rows = [f"2026-11-30T16:00:{rng.randint(0, 3):02d}#O{i:03d}" for i in range(40)]
    shards: dict[str, list[str]] = {f"order#{n}": [] for n in range(5)}
    for row in rows:
        shards[f"order#{rng.randint(0, 2)}"].append(row)          # two shards stay empty
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page, cursor = fanned_page(fake_index(shards, descending), list(shards), "listed_at", limit, cursor,
                                   descending)
        assert len(page) <= limit
        seen += [r.listed_at for r in page]
        if cursor is None:
            break
    assert seen == sorted(rows, reverse=descending)


def test_a_cursor_of_another_shape_is_refused() -> None:
    import base64
    import json
    for forged in ({"listed_at": {"N": "1"}}, {"created_at": {"S": "x"}}):
        cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        with pytest.raises(InvalidInput):
            fanned_page(fake_index({"order#0": []}, True), ["order#0"], "listed_at", 5, cursor, True)
