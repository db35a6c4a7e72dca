"""DynamoDB plumbing shared by the repositories: the unit of work (a buffered
TransactWriteItems), one batched read across tables, and list cursors."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from pynamodb.connection import Connection
from pynamodb.constants import BATCH_GET_ITEM, TRANSACT_WRITE_ITEMS
from pynamodb.exceptions import VerboseClientError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from .. import config
from ..domain.errors import InvalidInput

MAX_TRANSACTION_ITEMS = 100
_connection: Connection | None = None


def connection() -> Connection:
    global _connection
    if _connection is None:
        s = config.settings()
        _connection = Connection(region=s.region, host=s.dynamodb_endpoint)
    return _connection


class TransactionCancelled(Exception):
    """The transaction wrote nothing. `failed` names the writes whose condition failed, by the
    tag each was added with, and `old_items` holds their items where DynamoDB returned them."""

    def __init__(self, failed: list[str], codes: list[str | None], old_items: dict[str, dict]) -> None:
        super().__init__(f"transaction cancelled: {failed or codes}")
        self.failed = failed
        self.codes = codes
        self.old_items = old_items

    @property
    def conflicted(self) -> bool:
        """Another transaction on the same items was in flight: a retry may well succeed."""
        return "TransactionConflict" in self.codes and not self.failed


@dataclass
class UnitOfWork:
    """Collects writes and commits them as ONE TransactWriteItems, all or nothing.

    Unlike pynamodb's TransactWrite it keeps the writes in the order they were added, so a
    cancellation reason (which DynamoDB reports by position) maps back to its write's tag."""
    items: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def put(self, record: Model, condition: Condition | None = None, tag: str = "") -> None:
        kwargs = record.get_save_kwargs_from_instance(condition=condition)
        self._add("Put", kwargs, tag)

    def update(self, record: Model, actions: Sequence[Action], condition: Condition | None = None,
               tag: str = "", return_old_on_failure: bool = False) -> None:
        kwargs = record.get_update_kwargs_from_instance(
            actions=list(actions), condition=condition,
            return_values_on_condition_failure="ALL_OLD" if return_old_on_failure else None)
        self._add("Update", kwargs, tag)

    def _add(self, kind: str, kwargs: dict[str, Any], tag: str) -> None:
        # pynamodb names the failure option differently from the transaction API.
        if "ReturnValues" in kwargs:
            kwargs.pop("ReturnValues")
        self.items.append({kind: kwargs})
        self.tags.append(tag)

    def commit(self) -> None:
        if not self.items:
            return
        if len(self.items) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} writes")
        try:
            connection().dispatch(TRANSACT_WRITE_ITEMS, {"TransactItems": self.items})
        except VerboseClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = list(error.cancellation_reasons or [])
            codes = [r.code if r else None for r in reasons]
            failed = [self.tags[i] for i, code in enumerate(codes) if code == "ConditionalCheckFailed"]
            old = {self.tags[i]: r.raw_item for i, r in enumerate(reasons) if r and r.raw_item}
            raise TransactionCancelled(failed, codes, old) from error


def batch_get(keys: dict[type[Model], list[str]]) -> dict[type[Model], dict[str, Model]]:
    """One BatchGetItem across tables (hash-key-only tables), following unprocessed keys.

    The order path needs SKUs, products and counters together; one request instead of three."""
    requests: dict[str, Any] = {}
    by_table: dict[str, type[Model]] = {}
    for model, hash_keys in keys.items():
        unique = sorted(set(hash_keys))
        if not unique:
            continue
        hash_name = model._hash_key_attribute().attr_name
        table = model.Meta.table_name
        by_table[table] = model
        requests[table] = {"Keys": [{hash_name: {"S": k}} for k in unique], "ConsistentRead": True}
    found: dict[type[Model], dict[str, Model]] = {model: {} for model in keys}
    if sum(len(r["Keys"]) for r in requests.values()) > 100:
        raise ValueError("one batched read fetches at most 100 items")
    while requests:
        answer = connection().dispatch(BATCH_GET_ITEM, {"RequestItems": requests})
        for table, items in answer.get("Responses", {}).items():
            model = by_table[table]
            hash_name = model._hash_key_attribute().attr_name
            for raw in items:
                found[model][raw[hash_name]["S"]] = model.from_raw_data(raw)
        requests = answer.get("UnprocessedKeys") or {}
    return found


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
        raise InvalidInput("cursor is not valid", code="INVALID_CURSOR", field="cursor") from None
    return key
