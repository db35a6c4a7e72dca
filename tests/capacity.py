"""A write-unit meter for tests: every write the app sends to DynamoDB, costed by DynamoDB's
documented rules from the item as it was and as it is (moto reports no consumed capacity).

- An item's size is the sum of its attribute names and values (numbers about one byte per two
  digits; lists and maps 3 bytes plus one per element).
- A write costs 1 WCU per KB of the larger of the two images, 2 inside a transaction.
- Each GSI the item is in costs 1 WCU per KB of its index entry (the index and table keys, the
  projected attributes and 100 bytes): nothing when no projected attribute changed, a delete
  and a put when the index key changed.

`projections` lets a test cost the same writes as if an index projected something else, e.g. the
`ALL` the indexes projected before issue 13."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator
from contextlib import contextmanager

import boto3
from pynamodb.connection.base import Connection

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def _value_size(value: dict[str, Any]) -> int:
    (kind, data), = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        digits = data.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in data.items())
    return sum(len(str(v).encode()) for v in data)       # string, number and binary sets


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in (item or {}).items())


def _units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass
class _Index:
    name: str
    keys: list[str]
    projection: str                     # ALL, KEYS_ONLY or INCLUDE
    included: list[str] = field(default_factory=list)


@dataclass
class _Table:
    keys: list[str]
    indexes: list[_Index]


@dataclass
class Meter:
    projections: dict[str, str] = field(default_factory=dict)   # index name -> projection to cost it as
    ignore: frozenset[str] = frozenset()                          # tables that are not the app's
    units: float = 0
    by_index: dict[str, float] = field(default_factory=dict)
    _tables: dict[str, _Table] = field(default_factory=dict)

    def table(self, name: str) -> _Table:
        if name not in self._tables:
            described = boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName=name)["Table"]
            indexes = [_Index(g["IndexName"], [k["AttributeName"] for k in g["KeySchema"]],
                              g["Projection"]["ProjectionType"], g["Projection"].get("NonKeyAttributes", []))
                       for g in described.get("GlobalSecondaryIndexes", [])]
            self._tables[name] = _Table([k["AttributeName"] for k in described["KeySchema"]], indexes)
        return self._tables[name]

    def _entry(self, table: _Table, index: _Index, item: dict[str, Any] | None) -> dict[str, Any] | None:
        if not item or any(k not in item for k in index.keys):
            return None
        projection = self.projections.get(index.name, index.projection)
        if projection == "ALL":
            return dict(item)
        names = set(table.keys) | set(index.keys) | (set(index.included) if projection == "INCLUDE" else set())
        return {k: v for k, v in item.items() if k in names}

    def cost(self, table_name: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
             transactional: bool) -> None:
        if table_name in self.ignore:
            return
        table = self.table(table_name)
        base = _units(max(item_size(before), item_size(after))) * (2 if transactional else 1)
        self.units += base
        self.by_index[table_name] = self.by_index.get(table_name, 0) + base
        for index in table.indexes:
            old, new = self._entry(table, index, before), self._entry(table, index, after)
            if old == new:
                continue
            same_key = old and new and all(old[k] == new[k] for k in index.keys)
            if same_key:
                spent = _units(max(item_size(old), item_size(new)) + 100)
            else:
                spent = (_units(item_size(old) + 100) if old else 0) + (_units(item_size(new) + 100) if new else 0)
            self.units += spent
            key = f"{table_name}/{index.name}"
            self.by_index[key] = self.by_index.get(key, 0) + spent


def _targets(operation: str, kwargs: dict[str, Any], meter: Meter) -> list[tuple[str, dict[str, Any]]]:
    """(table, key) of every item a write request writes (condition checks write nothing)."""
    def key_of(table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in meter.table(table).keys}
    if operation == "PutItem":
        return [(kwargs["TableName"], key_of(kwargs["TableName"], kwargs["Item"]))]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(kwargs["TableName"], kwargs["Key"])]
    if operation == "TransactWriteItems":
        found = []
        for entry in kwargs["TransactItems"]:
            (kind, request), = entry.items()
            if kind == "Put":
                found.append((request["TableName"], key_of(request["TableName"], request["Item"])))
            elif kind in ("Update", "Delete"):
                found.append((request["TableName"], request["Key"]))
        return found
    return [(table, key_of(table, r["PutRequest"]["Item"]) if "PutRequest" in r else r["DeleteRequest"]["Key"])
            for table, requests in kwargs["RequestItems"].items() for r in requests]


@contextmanager
def metered(*meters: Meter) -> Iterator[None]:
    """Every write sent while inside is costed by each meter (one before and one after read per
    item written, outside the app's own counts)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    original = Connection.dispatch

    def read(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def dispatch(self: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation not in WRITES:
            return original(self, operation, kwargs)
        targets = _targets(operation, kwargs, meters[0])
        before = [read(t, k) for t, k in targets]
        answer = original(self, operation, kwargs)
        for (table, key), old in zip(targets, before):
            for meter in meters:
                meter.cost(table, old, read(table, key), operation == "TransactWriteItems")
        return answer

    Connection.dispatch = dispatch  # type: ignore[method-assign]
    try:
        yield
    finally:
        Connection.dispatch = original  # type: ignore[method-assign]


@dataclass
class ReadMeter:
    """Read units spent on one item, as sent (eventually consistent reads cost half) and as they
    would cost strongly consistent: 1 RCU per 4 KB of the item, per read (DynamoDB's rules)."""
    table: str
    key: dict[str, Any]
    units: float = 0
    consistent_units: float = 0
    reads: int = 0

    def count(self, size: int, consistent: bool) -> None:
        whole = max(1, math.ceil(size / 4096))
        self.reads += 1
        self.units += whole if consistent else whole / 2
        self.consistent_units += whole


@contextmanager
def metered_reads(meter: ReadMeter) -> Iterator[None]:
    """Every GetItem and BatchGetItem of the meter's item while inside is costed."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    original = Connection.dispatch

    def size() -> int:
        return item_size(client.get_item(TableName=meter.table, Key=meter.key, ConsistentRead=True).get("Item"))

    def dispatch(self: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation == "GetItem" and kwargs.get("TableName") == meter.table and kwargs.get("Key") == meter.key:
            meter.count(size(), bool(kwargs.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            asked = kwargs["RequestItems"].get(meter.table)
            if asked and meter.key in asked["Keys"]:
                meter.count(size(), bool(asked.get("ConsistentRead")))
        return original(self, operation, kwargs)

    Connection.dispatch = dispatch  # type: ignore[method-assign]
    try:
        yield
    finally:
        Connection.dispatch = original  # type: ignore[method-assign]
