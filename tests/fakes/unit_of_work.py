"""The fakes' storage: one in-memory database whose tables every fake store keeps its items in,
and the unit of work that commits writes to them as DynamoDB's TransactWriteItems does.

What the real `adapters.dynamo.UnitOfWork` guarantees, this one does too:
- every condition is judged against the items as they were before the transaction, and
  either every write applies or none does;
- a refusal is `WriteRefused(failed, conflicted, old_items)`: `failed` the tags of the writes
  whose condition failed, in the order they were added; `old_items` the item as it was, keyed by
  tag, for writes added with `return_old` (DynamoDB's ReturnValuesOnConditionCheckFailure) whose
  item existed;
- two writes on one item in one transaction, or more than 100 writes, are errors (DynamoDB's
  ValidationException), never a refusal;
- an empty unit of work commits nothing.

Tests script what other writers would do: `conflict(times)` answers the next commits as a
transaction conflict (nothing written, `conflicted=True`), and `before_commit(action)` lets a
rival write land between a use case's read and its write."""
from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

from chalicelib.domain.transactions import MAX_ITEMS
from chalicelib.service_layer.ports import WriteRefused

Item = Any
Condition = Callable[[Item | None], bool]
Apply = Callable[[Item | None], Item]


def always(_: Item | None) -> bool:
    return True


def absent(item: Item | None) -> bool:
    """`attribute_not_exists` on the item's key."""
    return item is None


def present(item: Item | None) -> bool:
    """`attribute_exists` on the item's key."""
    return item is not None


class TransactionInvalid(Exception):
    """What DynamoDB answers with a ValidationException (two writes on one item, too many
    writes): a bug of the caller, not a refusal."""


@dataclass
class Write:
    """One staged write: `apply` gets a copy of the item as it is (None when there is none) and
    returns the item as it will be; a ConditionCheck has no `apply`."""
    table: str
    key: Any
    tag: str
    condition: Condition
    apply: Apply | None
    return_old: bool = False


@dataclass
class _Script:
    times: int
    when: Callable[[list[str]], bool]
    action: Callable[[], None] | None = None      # a rival write; None: a conflict
    throttled: Callable[[list[str]], list[str]] | None = None   # the tags DynamoDB throttles


@dataclass
class FakeDatabase:
    tables: dict[str, dict[Any, Any]] = field(default_factory=lambda: defaultdict(dict))
    committed: list[list[str]] = field(default_factory=list)     # the tags of every transaction written
    refused: list[WriteRefused] = field(default_factory=list)
    _scripts: list[_Script] = field(default_factory=list)

    def table(self, name: str) -> dict[Any, Any]:
        return self.tables[name]

    def get(self, table: str, key: Any) -> Any:
        """A consistent read: a copy, so that nobody changes the stored item behind the store."""
        return copy.deepcopy(self.tables[table].get(key))

    def put_now(self, table: str, key: Any, item: Any) -> None:
        """A write outside any transaction (PutItem or UpdateItem on its own)."""
        self.tables[table][key] = copy.deepcopy(item)

    # ------------------------------------------------------------------ scripting other writers
    def conflict(self, times: int = 1, when: Callable[[list[str]], bool] | None = None) -> None:
        """The next `times` commits (whose tags satisfy `when`) collide with another transaction:
        nothing is written and WriteRefused([], conflicted=True) is raised, as DynamoDB answers a
        TransactionConflict."""
        self._scripts.append(_Script(times, when or (lambda tags: True)))

    def throttle(self, tag_prefix: str, times: int = 1) -> None:
        """The next `times` commits writing a tag that starts with `tag_prefix` are cancelled with
        ThrottlingError on those writes: nothing written, WriteRefused(throttled=[...]), as the
        DynamoDB unit of work answers a hot item."""
        def hot(tags: list[str]) -> list[str]:
            return [t for t in tags if t.startswith(tag_prefix)]
        self._scripts.append(_Script(times, lambda tags: bool(hot(tags)), throttled=hot))

    def before_commit(self, action: Callable[[], None], when: Callable[[list[str]], bool] | None = None,
                      times: int = 1) -> None:
        """A rival write: `action` runs just before the next matching commit judges its conditions
        (after the use case read what it read)."""
        self._scripts.append(_Script(times, when or (lambda tags: True), action))

    def calm(self) -> None:
        """No more scripted conflicts or rival writes."""
        self._scripts.clear()

    def _scripted(self, tags: list[str]) -> _Script | None:
        for script in self._scripts:
            if script.times > 0 and script.when(tags):
                script.times -= 1
                return script
        return None

    def unit_of_work(self, sheddable: bool = False) -> "FakeUnitOfWork":
        return FakeUnitOfWork(self, sheddable=sheddable)

    def order_writes(self) -> "FakeUnitOfWork":
        return FakeUnitOfWork(self, sheddable=True)


@dataclass
class FakeUnitOfWork:
    db: FakeDatabase
    writes: list[Write] = field(default_factory=list)
    sheddable: bool = False

    @property
    def tags(self) -> list[str]:
        return [w.tag for w in self.writes]

    def add(self, table: str, key: Any, tag: str, condition: Condition = always, apply: Apply | None = None,
            return_old: bool = False) -> None:
        self.writes.append(Write(table, key, str(tag), condition, apply, return_old))   # as the adapter keeps it

    def check(self, table: str, key: Any, tag: str, condition: Condition) -> None:
        """DynamoDB's ConditionCheck: a condition on an item the transaction does not write."""
        self.add(table, key, tag, condition, None)

    def commit(self) -> None:
        if not self.writes:
            return
        if len(self.writes) > MAX_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_ITEMS} writes")
        keys = [(w.table, w.key) for w in self.writes]
        if len(set(keys)) != len(keys):
            raise TransactionInvalid("Transaction request cannot include multiple operations on one item: "
                                     + ", ".join(sorted({str(k) for k in keys if keys.count(k) > 1})))
        tags = self.tags
        while (script := self.db._scripted(tags)) is not None:
            if script.throttled is not None:
                refusal = WriteRefused([], True, {}, throttled=script.throttled(tags))
                self.db.refused.append(refusal)
                raise refusal
            if script.action is None:
                refusal = WriteRefused([], True, {})
                self.db.refused.append(refusal)
                raise refusal
            script.action()
        failed: list[str] = []
        old: dict[str, Any] = {}
        for write in self.writes:
            current = self.db.tables[write.table].get(write.key)
            if not write.condition(current):
                failed.append(write.tag)
                if write.return_old and current is not None:
                    old[write.tag] = copy.deepcopy(current)
        if failed:
            refusal = WriteRefused(failed, False, old)
            self.db.refused.append(refusal)
            raise refusal
        for write in self.writes:
            if write.apply is not None:
                table = self.db.tables[write.table]
                table[write.key] = write.apply(copy.deepcopy(table.get(write.key)))
        self.db.committed.append(tags)
