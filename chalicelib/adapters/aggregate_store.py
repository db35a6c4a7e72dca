"""The back office's counters in DynamoDB: one item per bucket and shard, whose attributes are
the bucket's counters and labels (`<key>|<counter>`), and one marker item per change counted.

A batch of changes is counted in one TransactWriteItems: a marker per change (conditional on
its absence, so a redelivered change is refused, not counted twice) and one ADD per bucket with
the batch's summed increments (so a busy day's bucket takes one write per batch, not one per
order). Each batch writes to one shard of each bucket, chosen at random; readers add the shards
up, so concurrent batches seldom write the same item. A customer's spend is the exception: its
writes are few (their own payments and refunds), and the order path reads it as one item, so it
is always shard 0 (domain.figures.single_shard)."""
from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..domain.figures import Figures, single_shard
from ..service_layer.tags import ItemTag
from .dynamo import batch_get_raw, table_meta
from .unit_of_work import UnitOfWork

MARKER_DAYS = 7                     # longer than a stream keeps a record (24 h) or SQS a message (4 days)


class AggregateRecord(Model):
    """Counters and labels are attributes named by the data: the model declares only the key."""
    Meta = table_meta("aggregates")
    bucket = UnicodeAttribute(hash_key=True)
    shard = NumberAttribute(range_key=True)
    expires = TTLAttribute(null=True)              # markers only: DynamoDB's TTL removes them


class AggregateStore:
    def __init__(self, shards: int) -> None:
        self.shards = shards

    def count(self, uow: UnitOfWork, change_ids: list[str], figures: Figures, at: datetime) -> None:
        table = AggregateRecord.Meta.table_name
        expires = int(at.timestamp()) + MARKER_DAYS * 86400
        for change_id in change_ids:
            uow.raw("Put", {"TableName": table,
                            "Item": {"bucket": {"S": f"counted#{change_id}"}, "shard": {"N": "0"},
                                     "expires": {"N": str(expires)}},
                            "ConditionExpression": "attribute_not_exists(#b)",
                            "ExpressionAttributeNames": {"#b": "bucket"}}, tag=ItemTag.COUNTED.of(change_id))
        shard = random.randrange(self.shards)
        for bucket in sorted(figures.buckets()):
            counts = {name: n for (b, name), n in figures.counts.items() if b == bucket and n}
            labels = {name: text for (b, name), text in figures.labels.items() if b == bucket}
            if counts:
                uow.raw("Update", _update(table, bucket, 0 if single_shard(bucket) else shard, counts, labels),
                        tag=ItemTag.BUCKET.of(bucket))

    def read(self, buckets: list[str]) -> dict[str, dict[str, Any]]:
        """Each bucket's counters summed over its shards, and its labels."""
        keys = [{"bucket": {"S": b}, "shard": {"N": str(s)}} for b in dict.fromkeys(buckets)
                for s in range(self.shards)]
        found: dict[str, dict[str, Any]] = {b: {} for b in buckets}
        for item in batch_get_raw(AggregateRecord.Meta.table_name, keys):
            into = found.setdefault(item["bucket"]["S"], {})
            for name, value in item.items():
                if name in ("bucket", "shard"):
                    continue
                if "N" in value:
                    into[name] = into.get(name, 0) + int(value["N"])
                elif "S" in value:
                    into.setdefault(name, value["S"])
        return found


def counters_of(raw: dict[str, Any]) -> dict[str, int]:
    """One raw bucket item's counters (its numbers but the key and the markers' expiry)."""
    return {name: int(value["N"]) for name, value in raw.items()
            if "N" in value and name not in ("shard", "expires")}


def _update(table: str, bucket: str, shard: int, counts: dict[str, int], labels: dict[str, str]) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    adds, sets = [], []
    for i, (name, n) in enumerate(sorted(counts.items())):
        names[f"#c{i}"], values[f":c{i}"] = name, {"N": str(n)}
        adds.append(f"#c{i} :c{i}")
    for i, (name, text) in enumerate(sorted(labels.items())):
        names[f"#l{i}"], values[f":l{i}"] = name, {"S": text}
        sets.append(f"#l{i} = :l{i}")
    expression = "ADD " + ", ".join(adds) + (" SET " + ", ".join(sets) if sets else "")
    return {"TableName": table, "Key": {"bucket": {"S": bucket}, "shard": {"N": str(shard)}},
            "UpdateExpression": expression, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
