"""DynamoDB Streams as Lambda's event source mapping reads them, for the local stack and the
API tests: each streamed table's shards read in order from the start (TRIM_HORIZON), batches
of up to 100 records handed to the table's handler in Lambda's event format, and a batch item
failure answered by reading again from that record (as with ReportBatchItemFailures)."""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable

import boto3
from botocore.config import Config

log = logging.getLogger("micromall.streams")
BATCH = 100
Handler = Callable[[dict[str, Any], Any], Any]


def handler_name(table: str) -> str:
    """`<table>_stream`, a dash in the table's name an underscore (user-coupons -> user_coupons_stream)."""
    return table.replace("-", "_") + "_stream"


def stream_handlers(app_module: Any) -> dict[str, Handler]:
    """Each streamed table's Lambda handler in app.py, by table name."""
    from chalicelib.adapters.change_stream import STREAMED
    from chalicelib.config import settings
    prefix = settings().table_prefix
    return {m.Meta.table_name: getattr(app_module, handler_name(m.Meta.table_name[len(prefix):])) for m in STREAMED}


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    images = dict(record["dynamodb"])
    created = images.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        images["ApproximateCreationDateTime"] = created.timestamp()
    return {"eventID": record["eventID"], "eventName": record["eventName"], "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": region, "dynamodb": images, "eventSourceARN": stream_arn}


class StreamReader:
    """Reads the streams of the given tables (name -> handler) where the last read stopped."""

    # The tables' streams and shards are looked up again at most this often (each look-up is two
    # requests per table; a stack idling at 5 reads a second spent half a core on them).
    TOPOLOGY_SECONDS = 5.0

    def __init__(self, handlers: dict[str, Handler], region: str) -> None:
        self._handlers, self._region = handlers, region
        self._dynamodb = boto3.client("dynamodb", region_name=region)
        # The regional endpoint, not the account-based one botocore prefers (moto knows only that).
        self._streams = boto3.client("dynamodbstreams", region_name=region,
                                     config=Config(account_id_endpoint_mode="disabled"))
        self._iterators: dict[tuple[str, str], str | None] = {}
        self._arns: dict[str, str] = {}
        self._shards: dict[str, list[str]] = {}
        self._looked_up = -math.inf

    def _arn(self, table: str) -> str:
        arn = self._dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        if self._arns.get(table) != arn:            # a new table (tests recreate them): start afresh
            self._arns[table] = arn
            self._iterators = {k: v for k, v in self._iterators.items() if k[0] != table}
        return arn

    def _look_up(self) -> None:
        for table in self._handlers:
            arn = self._arn(table)
            self._shards[table] = [shard["ShardId"] for shard in
                                   self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]]
        self._looked_up = time.monotonic()

    def deliver_once(self, look_up: bool = False) -> int:
        """One read of every shard of every stream; how many records were handed over. The
        streams and their shards are looked up when asked, or when the last look-up is old."""
        if look_up or time.monotonic() - self._looked_up > self.TOPOLOGY_SECONDS:
            self._look_up()
        handed = 0
        for table, handler in self._handlers.items():
            for shard_id in self._shards[table]:
                handed += self._read(table, self._arns[table], shard_id, handler)
        return handed

    def drain(self, rounds: int = 20) -> int:
        """Reads until every stream is quiet (the handlers' own writes may add records)."""
        total = 0
        for round_ in range(rounds):
            handed = self.deliver_once(look_up=round_ == 0)
            total += handed
            if not handed:
                break
        return total

    def _read(self, table: str, arn: str, shard_id: str, handler: Handler) -> int:
        key = (table, shard_id)
        iterator = self._iterators.get(key)
        if iterator is None:
            iterator = self._streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        answer = self._streams.get_records(ShardIterator=iterator, Limit=BATCH)
        records = answer.get("Records", [])
        if not records:
            self._iterators[key] = answer.get("NextShardIterator")
            return 0
        event = {"Records": [lambda_record(r, arn, self._region) for r in records]}
        try:
            reply = handler(event, None) or {}
            failures = [f["itemIdentifier"] for f in reply.get("batchItemFailures", [])]
        except Exception:
            log.exception("stream handler of %s failed; the batch comes again", table)
            failures = [records[0]["dynamodb"]["SequenceNumber"]]
        if failures:                                  # from the first failed record on, again
            self._iterators[key] = self._streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=failures[0])["ShardIterator"]
        else:
            self._iterators[key] = answer.get("NextShardIterator")
        return len(records)
