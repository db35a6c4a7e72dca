"""DynamoDB plumbing shared by the stores: table settings, the connection, one batched read
across tables, keyed reads, pages and their cursors, and the stored forms of times and list
elements. The unit of work is in unit_of_work.py."""
from __future__ import annotations

import base64
import binascii
import functools
import json
import secrets
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Callable, Collection, Iterable, TypeVar

from pynamodb.connection import Connection
from pynamodb.constants import BATCH_GET_ITEM
from pynamodb.exceptions import DoesNotExist, QueryError
from pynamodb.models import Model

from .. import config
from ..domain import timeutil
from ..domain.error_codes import ErrorCode
from ..domain.errors import InvalidInput
from ..service_layer.ports import Page
from .aws import ATTEMPTS, CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS

_connection: Connection | None = None
M = TypeVar("M", bound=Model)


def table_meta(base: str, streamed: bool = False) -> type:
    """The Meta of a table: its stage-prefixed name, region and endpoint, on-demand capacity,
    and the app's one retry policy (PynamoDB runs botocore's standard mode with it). A streamed
    table sends each change, as it was and as it is, to the back office's counters."""
    class Meta:
        table_name = config.table_name(base)
        region = config.settings().region
        host = config.settings().dynamodb_endpoint
        billing_mode = "PAY_PER_REQUEST"
        max_retry_attempts = ATTEMPTS - 1
        connect_timeout_seconds = CONNECT_TIMEOUT_SECONDS
        read_timeout_seconds = READ_TIMEOUT_SECONDS
    if streamed:
        Meta.stream_view_type = "NEW_AND_OLD_IMAGES"  # type: ignore[attr-defined]
    return Meta


def connection() -> Connection:
    global _connection
    if _connection is None:
        s = config.settings()
        _connection = Connection(region=s.region, host=s.dynamodb_endpoint, max_retry_attempts=ATTEMPTS - 1,
                                 connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS,
                                 read_timeout_seconds=READ_TIMEOUT_SECONDS)
    return _connection


# ------------------------------------------------------------------ stored forms

def stored_time(value: datetime | None) -> str | None:
    return timeutil.to_storage(value) if value is not None else None


def read_time(value: str | None) -> datetime | None:
    return timeutil.from_storage(value) if value else None


def plain(value: Any) -> dict[str, Any]:
    """A list-of-maps element as a dict, whichever form pynamodb deserialized it into."""
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def spread(value: str, by: str, shards: int) -> str:
    """An index key that many items share, split over `shards` partitions by another of their
    values: no partition takes every write (DynamoDB caps one at 1,000 write units a second)."""
    return f"{value}#{zlib.crc32(by.encode()) % shards}"


def spread_keys(value: str, shards: int) -> list[str]:
    """Every partition of a spread key, for a read that fans out and merges."""
    return [f"{value}#{n}" for n in range(shards)]


def stamp(at: datetime) -> str:
    """A sortable unique key part: the UTC time plus randomness for writes in the same microsecond."""
    return f"{timeutil.to_storage(at)}#{secrets.token_hex(4)}"


# ------------------------------------------------------------------ reads

def condition_refused(error: Exception) -> bool:
    """A PynamoDB write refused by its condition (as opposed to a fault worth raising)."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def get_or_none(model: type[M], hash_key: str, range_key: str | None = None) -> M | None:
    """A consistent keyed read; None when there is no such item."""
    try:
        return model.get(hash_key, range_key, consistent_read=True)
    except DoesNotExist:
        return None


def invalid_cursor() -> InvalidInput:
    return InvalidInput("cursor is not valid", code=ErrorCode.INVALID_CURSOR, field="cursor")


def page_of(query: Callable[[dict[str, Any] | None], Any], cursor: str | None, key_names: set[str],
            convert: Callable[[Any], Any], pinned: dict[str, str] | None = None) -> Page:
    """One page of a query: the client's cursor is checked (shape, and `pinned` key values that
    must not change, such as the customer whose orders these are) before DynamoDB sees it."""
    start = decode_cursor(cursor, key_names)
    if start is not None and pinned and any(start.get(k) != {"S": v} for k, v in pinned.items()):
        raise invalid_cursor()
    try:
        result = query(start)
        return Page([convert(r) for r in result], encode_cursor(result.last_evaluated_key))
    except QueryError as error:
        if start is None:
            raise
        # A cursor whose values were altered is rejected by DynamoDB as a bad start key.
        raise invalid_cursor() from error


class Rows(list):  # type: ignore[type-arg]
    """A query's rows, read to the end of its page, and where it stopped."""
    def __init__(self, result: Any) -> None:
        super().__init__(result)                  # pynamodb's iterators read lazily: read here
        self.last_evaluated_key: dict[str, Any] | None = getattr(result, "last_evaluated_key", None)


def each_shard(query: Callable[[str], Any], shard_keys: list[str]) -> list[Rows]:
    """`query` on every shard of a spread key at once, each read in its worker thread: a
    fanned-out read waits for the slowest shard, not for their sum."""
    return list(_shard_readers().map(lambda key: Rows(query(key)), shard_keys))


@functools.lru_cache(maxsize=1)
def _shard_readers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=16, thread_name_prefix="shard-read")


def fanned_page(query: Callable[[str, str | None, int], Any], shard_keys: list[str], sort_name: str,
                limit: int, cursor: str | None, descending: bool) -> tuple[list[Any], str | None]:
    """One page of an index whose key is spread over shards (see `spread`), by a sort key that
    is unique (an order's `listed_at` carries its id): every shard is queried strictly beyond the
    cursor (`query(key, position, limit)`), the answers are merged in the index's order and cut
    where the page is full or where a shard stopped early, so that nothing is skipped or shown
    twice. The cursor is the last row's sort key: the same for every shard, however many."""
    start = decode_cursor(cursor, {sort_name})
    after = start[sort_name].get("S") if start else None
    if start is not None and (after is None or len(after.encode()) > 1024):   # DynamoDB's sort key limit
        raise invalid_cursor()
    rows: list[tuple[str, Any]] = []
    frontier: str | None = None                     # how far the shard that stopped first has read
    try:
        answers = each_shard(lambda key: query(key, after, limit), shard_keys)
    except QueryError as error:
        if after is None:
            raise
        raise invalid_cursor() from error
    for result in answers:
        rows += [(str(getattr(row, sort_name)), row) for row in result]
        stop = result.last_evaluated_key
        if stop:
            reached = stop[sort_name]["S"]
            if frontier is None or (reached > frontier if descending else reached < frontier):
                frontier = reached
    rows.sort(key=lambda r: r[0], reverse=descending)
    if frontier is not None:
        rows = [r for r in rows if (r[0] >= frontier if descending else r[0] <= frontier)]
    page = rows[:limit]
    last = page[-1][0] if len(page) == limit else frontier
    return [row for _, row in page], (encode_cursor({sort_name: {"S": last}}) if last else None)


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    raw = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, expected_keys: set[str]) -> dict[str, Any] | None:
    """A cursor is the page's last key. It comes back from the client, so its shape is checked:
    only the expected key attributes, each a plain string or number value."""
    if not cursor:
        return None
    try:
        if len(cursor) > 2000:
            raise ValueError
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, dict) or set(key) != expected_keys:
            raise ValueError
        for value in key.values():
            if not (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "N")
                    and isinstance(next(iter(value.values())), str)):
                raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_cursor() from None
    return key


def batch_get(keys: dict[type[Model], list[str]], eventually: Collection[type[Model]] = (),
              ranged: dict[type[Model], list[tuple[str, int]]] | None = None
              ) -> dict[type[Model], dict[Any, Any]]:
    """One BatchGetItem across tables, following unprocessed keys; strongly consistent except
    for the tables in `eventually` (half the read units, and served by any replica of a hot
    item's partition). `keys` are hash keys; `ranged` (hash, numeric range) keys of tables that
    have both, found under that pair as raw items (their attributes are named by the data, as
    the back office's counters are, which a model would drop).

    The order path needs SKUs, products and counters together; one request instead of three."""
    requests: dict[str, Any] = {}
    by_table: dict[str, type[Model]] = {}
    wanted: dict[type[Model], list[Any]] = {**{m: sorted(set(k)) for m, k in keys.items()},
                                            **{m: sorted(set(k)) for m, k in (ranged or {}).items()}}
    for model, unique in wanted.items():
        if not unique:
            continue
        hash_name = model._hash_key_attribute().attr_name
        range_attribute = model._range_key_attribute()
        table = model.Meta.table_name
        by_table[table] = model
        requests[table] = {"Keys": [{hash_name: {"S": k}} if isinstance(k, str)
                                    else {hash_name: {"S": k[0]}, range_attribute.attr_name: {"N": str(k[1])}}
                                    for k in unique], "ConsistentRead": model not in eventually}
    found: dict[type[Model], dict[Any, Any]] = {model: {} for model in wanted}
    if sum(len(r["Keys"]) for r in requests.values()) > 100:
        raise ValueError("one batched read fetches at most 100 items")
    while requests:
        answer = connection().dispatch(BATCH_GET_ITEM, {"RequestItems": requests})
        for table, items in answer.get("Responses", {}).items():
            model = by_table[table]
            hash_name = model._hash_key_attribute().attr_name
            range_attribute = model._range_key_attribute()
            for raw in items:
                key: Any = raw[hash_name]["S"]
                if range_attribute is not None:
                    key = (key, int(raw[range_attribute.attr_name]["N"]))
                found[model][key] = raw if ranged and model in ranged else model.from_raw_data(raw)
        requests = answer.get("UnprocessedKeys") or {}
    return found


def batch_get_raw(table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items as DynamoDB sends them, a hundred keys per BatchGetItem: for items whose attribute
    names are data (the back office's counters), which a model cannot declare."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        requests: dict[str, Any] = {table: {"Keys": keys[start:start + 100]}}
        while requests:
            answer = connection().dispatch(BATCH_GET_ITEM, {"RequestItems": requests})
            found.extend(answer.get("Responses", {}).get(table, []))
            requests = answer.get("UnprocessedKeys") or {}
    return found


def batch_get_many(model: type[M], hash_keys: Iterable[str]) -> dict[str, M]:
    """Any number of items of one table, a hundred per BatchGetItem."""
    ids = list(hash_keys)
    found: dict[str, M] = {}
    for start in range(0, len(ids), 100):
        found.update(batch_get({model: ids[start:start + 100]})[model])  # type: ignore[arg-type]
    return found
