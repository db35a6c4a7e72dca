"""The unit of work: writes collected by the stores and committed as one DynamoDB transaction,
all or nothing, its refusals mapped back to the tag each write was added with; an order's
writes to items this process has just seen throttled are held back (hot_items)."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Sequence

from pynamodb.constants import TRANSACT_WRITE_ITEMS
from pynamodb.exceptions import VerboseClientError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from ..domain.transactions import MAX_ITEMS
from ..service_layer.ports import WriteRefused
from .dynamo import connection
from .hot_items import hot_items


@dataclass
class UnitOfWork:
    """Collects writes and commits them as ONE TransactWriteItems, all or nothing.

    Unlike pynamodb's TransactWrite it keeps the writes in the order they were added, so a
    cancellation reason (which DynamoDB reports by position) maps back to its write's tag."""
    items: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # New demand (an order) is held back from an item this process saw throttled moments ago;
    # what settles existing state (payments, expiry, refunds, a split) is always sent.
    sheddable: bool = False
    partitions: list[str | None] = field(default_factory=list)      # each write's, for hot_items

    def put(self, record: Model, condition: Condition | None = None, tag: str = "") -> None:
        kwargs = record.get_save_kwargs_from_instance(condition=condition)
        self._add("Put", kwargs, tag, partition_of(record))

    def update(self, record: Model, actions: Sequence[Action], condition: Condition | None = None,
               tag: str = "", return_old_on_failure: bool = False) -> None:
        kwargs = record.get_update_kwargs_from_instance(
            actions=list(actions), condition=condition,
            return_values_on_condition_failure="ALL_OLD" if return_old_on_failure else None)
        self._add("Update", kwargs, tag)

    def check(self, model: type[Model], hash_key: str, condition: Condition, tag: str = "") -> None:
        """A condition on an item the transaction does not write (DynamoDB's ConditionCheck)."""
        self._add("ConditionCheck", model.get_operation_kwargs_from_class(hash_key, condition=condition), tag)

    def raw(self, kind: str, request: dict[str, Any], tag: str = "") -> None:
        """A write in DynamoDB's own form (Put, Update, ConditionCheck), for items a model cannot
        declare."""
        self._add(kind, request, tag)

    def _add(self, kind: str, kwargs: dict[str, Any], tag: str, partition: str | None = None) -> None:
        # pynamodb names the failure option differently from the transaction API.
        if "ReturnValues" in kwargs:
            kwargs.pop("ReturnValues")
        self.items.append({kind: kwargs})
        self.tags.append(str(tag))      # a Tag's plain value: refusals and logs read as they always did
        self.partitions.append(partition or _partition(kwargs))

    def commit(self) -> None:
        if not self.items:
            return
        if len(self.items) > MAX_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_ITEMS} writes")
        keys = self.partitions
        distinct = [k for k in dict.fromkeys(keys) if k]
        held = hot_items.admit(distinct) if self.sheddable else []
        if held:
            # Not sent: this item refused writes moments ago, and sending more only burns the
            # request rate it is short of. Answered as DynamoDB would, nothing written.
            raise WriteRefused([], True, {}, throttled=[self.tags[keys.index(k)] for k in held])
        try:
            # The token makes botocore's own retries (after a 500 or a lost answer) idempotent.
            connection().dispatch(TRANSACT_WRITE_ITEMS, {"TransactItems": self.items,
                                                         "ClientRequestToken": uuid.uuid4().hex})
        except VerboseClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = list(error.cancellation_reasons or [])
            codes = [r.code if r else None for r in reasons]
            failed = [self.tags[i] for i, code in enumerate(codes) if code == "ConditionalCheckFailed"]
            old = {self.tags[i]: r.raw_item for i, r in enumerate(reasons) if r and r.raw_item}
            throttled = [i for i, code in enumerate(codes) if code == "ThrottlingError"]
            for i in throttled:
                if i < len(keys) and keys[i]:
                    hot_items.throttled(keys[i] or "")
            # A hot item (ThrottlingError) is, like a conflict, nothing written and worth a retry.
            raise WriteRefused(failed, "TransactionConflict" in codes or bool(throttled), old,
                               throttled=[self.tags[i] for i in throttled if i < len(self.tags)]) from error
        hot_items.succeeded(distinct)


def _partition(request: dict[str, Any]) -> str | None:
    """The partition a write names by its key (the key's first attribute, the hash key, as the
    stores build it); None for a raw put, which names no key."""
    key = request.get("Key")
    if not key:
        return None
    name, value = next(iter(key.items()))
    return request["TableName"] + json.dumps({name: value}, sort_keys=True)


def partition_of(record: Model) -> str | None:
    return _partition(record.get_update_kwargs_from_instance(actions=[]))


def held_back(record: Model) -> bool:
    """True when an order's write to this item would not be sent now (its partition was
    throttled moments ago)."""
    if hot_items.quiet:
        return False
    partition = partition_of(record)
    return partition is not None and hot_items.admit_would_hold(partition)
