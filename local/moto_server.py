"""moto's server as the local AWS, on loopback, failing as AWS fails.

DynamoDB applies each request atomically; moto's in-memory tables are guarded here by one lock
per DynamoDB request so that concurrency tests against the local stack see the same guarantee
(SQS long polls and other services stay concurrent).

With LOCAL_FAULT_RATE (0 to 0.5), that share of DynamoDB and SQS requests is answered, instead
of being applied, with a retryable fault exactly as AWS answers it: ThrottlingException or
ProvisionedThroughputExceededException (400), InternalServerError (500), and for
TransactWriteItems a TransactionCanceledException whose reasons say TransactionConflict. The
choice is a seeded random sequence (LOCAL_FAULT_SEED, printed at start), so a failing run can be
replayed. Tests may also script the next faults and read what was injected:
`POST /__faults__ {"target": "TransactWriteItems", "fault": "conflict", "count": 8, "match": "<text>"}`
(only requests whose body holds `match`, or every text of a list; fault "item-throttled" cancels a transaction with the
ThrottlingError reason DynamoDB gives for a hot item), and `GET /__faults__`.

With LOCAL_PARTITION_WRITES_PER_SECOND, one item accepts that many writes per second (a sliding
second); a write beyond is throttled as DynamoDB throttles a hot partition: ThrottlingException, or
for a transaction TransactionCanceledException with the reason ThrottlingError on that item. A
scaled-down model of the 1,000 WCU/s a partition takes.

Reads are costed per item as DynamoDB bills them (GetItem and BatchGetItem: 1 read unit a
strongly consistent read, half one eventually consistent; the items read by key here are far
below 4 KB); `GET /__faults__?item=<text>` answers the read units of the items whose key holds
the text, for `make bench`'s figure of a hot SKU's item.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import random
import secrets
import threading
import time
from collections import Counter, deque
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

FAULTS_PATH = "/__faults__"
MAX_RATE = 0.5
DYNAMODB = "com.amazonaws.dynamodb.v20120810#"
# What each fault looks like on the wire: status, the error type, and its message.
_DYNAMODB_FAULTS = {
    "throttle": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "capacity": (400, "ProvisionedThroughputExceededException",
                 "The level of configured provisioned throughput for the table was exceeded."),
    "internal": (500, "InternalServerError", "Internal server error"),
}
_SQS_FAULTS = {
    "throttle": (400, "RequestThrottled", "Request is throttled."),
    "internal": (500, "InternalError", "We encountered an internal error. Please try again."),
}

StartResponse = Callable[..., Any]
_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def _key_of(table: str, item: dict[str, Any]) -> str:
    """An item's identity: its table and primary key (the key attributes moto's table declares)."""
    from moto.dynamodb.models import dynamodb_backends
    for regions in dynamodb_backends.values():
        for backend in regions.values():
            found = backend.tables.get(table)
            if found is not None:
                names = [found.hash_key_attr] + ([found.range_key_attr] if found.range_key_attr else [])
                return table + json.dumps([item.get(n) for n in names], sort_keys=True)
    return table + json.dumps(item, sort_keys=True)


def _written_keys(operation: str, request: dict[str, Any]) -> list[str | None]:
    """The items a request writes, in its order (None for a transaction's condition checks)."""
    if operation == "TransactWriteItems":
        keys: list[str | None] = []
        for entry in request.get("TransactItems", []):
            (kind, op), = entry.items()
            keys.append(None if kind == "ConditionCheck" else _key_of(op["TableName"], op.get("Item") or op.get("Key") or {}))
        return keys
    if operation == "BatchWriteItem":
        return [_key_of(table, (w.get("PutRequest") or {}).get("Item") or (w.get("DeleteRequest") or {}).get("Key") or {})
                for table, writes in request.get("RequestItems", {}).items() for w in writes]
    return [_key_of(request.get("TableName", ""), request.get("Item") or request.get("Key") or {})]


class FaultInjector:
    """WSGI middleware in front of moto: serializes DynamoDB requests and injects faults."""

    def __init__(self, app: Callable[..., Iterable[bytes]], rate: float, seed: int,
                 item_writes_per_second: float = 0) -> None:
        self.app, self.rate, self.seed = app, min(max(rate, 0.0), MAX_RATE), seed
        self.item_writes_per_second = item_writes_per_second
        self._writes: dict[str, deque[float]] = {}
        self._random = random.Random(seed)
        self._decide = threading.Lock()
        self._dynamodb = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.scripted: list[dict[str, Any]] = []
        self.read_units: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == FAULTS_PATH:
            return self._control(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        service, _, operation = target.partition(".")
        if service.startswith("DynamoDB"):
            body = self._body(environ)
            fault = self._fault("dynamodb", operation, body)
            if fault:
                return self._dynamodb_fault(fault, operation, body, start_response)
            with self._dynamodb:
                self._count_reads(operation, body)
                hot = self._hot_items(operation, body)
                if hot is not None:
                    return self._throttled(operation, body, hot, start_response)
                return list(self.app(environ, start_response))
        if service == "AmazonSQS":
            fault = self._fault("sqs", operation, self._body(environ))
            if fault:
                return self._error(start_response, *_SQS_FAULTS[fault], prefix="com.amazonaws.sqs#", sqs=True)
        return self.app(environ, start_response)

    # ------------------------------------------------------------------ deciding
    def _fault(self, service: str, operation: str, body: bytes) -> str | None:
        with self._decide:
            self.requests[f"{service}.{operation}"] += 1
            for script in self.scripted:
                if script["count"] > 0 and script["target"] in (operation, f"{service}.*", "*") \
                        and all(text.encode() in body for text in script["match"]):
                    script["count"] -= 1
                    return self._count(service, operation, script["fault"])
            if not self.rate or self._random.random() >= self.rate:
                return None
            if service == "dynamodb" and operation == "TransactWriteItems":
                fault = self._random.choice(("conflict", "conflict", "throttle", "internal"))
            elif service == "dynamodb":
                fault = self._random.choice(tuple(_DYNAMODB_FAULTS))
            else:
                fault = self._random.choice(tuple(_SQS_FAULTS))
            return self._count(service, operation, fault)

    # ------------------------------------------------------------------ the partition model
    def _hot_items(self, operation: str, body: bytes) -> list[int] | None:
        """Positions of the written items over their rate (None: every item may be written, and
        the writes are counted). Called under the DynamoDB lock."""
        if not self.item_writes_per_second or operation not in _WRITES:
            return None
        keys = _written_keys(operation, json.loads(body or b"{}"))
        now = time.monotonic()
        windows = {i: self._writes.setdefault(key, deque()) for i, key in enumerate(keys) if key is not None}
        for window in windows.values():
            while window and now - window[0] >= 1.0:
                window.popleft()
        hot = [i for i, window in windows.items() if len(window) >= self.item_writes_per_second]
        if hot:
            with self._decide:
                self.injected[f"dynamodb.{operation}.partition"] += 1
            return hot
        for window in windows.values():
            window.append(now)
        return None

    def _count_reads(self, operation: str, body: bytes) -> None:
        """Read units per item read by key. Called under the DynamoDB lock."""
        if operation == "GetItem":
            request = json.loads(body or b"{}")
            asked = [(request.get("TableName", ""), request.get("Key", {}), request.get("ConsistentRead", False))]
        elif operation == "BatchGetItem":
            asked = [(table, key, wanted.get("ConsistentRead", False))
                     for table, wanted in json.loads(body or b"{}").get("RequestItems", {}).items()
                     for key in wanted.get("Keys", [])]
        else:
            return
        for table, key, consistent in asked:
            self.read_units[_key_of(table, key)] += 1.0 if consistent else 0.5

    def _throttled(self, operation: str, body: bytes, hot: list[int], start_response: StartResponse) -> list[bytes]:
        if operation == "TransactWriteItems":
            return self._cancelled(start_response, body, hot, "ThrottlingError", "Throughput exceeds the current "
                                   "capacity for one or more global secondary indexes or the table")
        return self._error(start_response, *_DYNAMODB_FAULTS["throttle"], prefix=DYNAMODB)

    def _cancelled(self, start_response: StartResponse, body: bytes, at: list[int], code: str,
                   message: str) -> list[bytes]:
        """TransactionCanceledException as DynamoDB sends it: one reason per item, `code` at `at`."""
        items = len(json.loads(body or b"{}").get("TransactItems", [])) or 1
        reasons = [{"Code": code, "Message": message} if i in at else {"Code": "None"} for i in range(items)]
        payload = {"__type": DYNAMODB + "TransactionCanceledException",
                   "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                              f"[{', '.join(r['Code'] for r in reasons)}]",
                   "CancellationReasons": reasons}
        return self._send(start_response, 400, payload, "application/x-amz-json-1.0")

    def _count(self, service: str, operation: str, fault: str) -> str:
        self.injected[f"{service}.{operation}.{fault}"] += 1
        return fault

    # ------------------------------------------------------------------ answering
    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        """Reads the body and puts it back for moto."""
        import io
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    def _dynamodb_fault(self, fault: str, operation: str, body: bytes, start_response: StartResponse) -> list[bytes]:
        if fault == "item-throttled":
            return self._throttled(operation, body, [0], start_response)
        if fault == "conflict" and operation == "TransactWriteItems":
            return self._cancelled(start_response, body, [0], "TransactionConflict", "Transaction is ongoing for the item")
        status, error, message = _DYNAMODB_FAULTS["throttle" if fault == "conflict" else fault]
        return self._error(start_response, status, error, message, prefix=DYNAMODB)

    def _error(self, start_response: StartResponse, status: int, error: str, message: str, prefix: str,
               sqs: bool = False) -> list[bytes]:
        headers = [("x-amzn-query-error", f"{error};{'Receiver' if status >= 500 else 'Sender'}")] if sqs else []
        return self._send(start_response, status, {"__type": prefix + error, "message": message},
                          "application/x-amz-json-1.0", headers)

    @staticmethod
    def _send(start_response: StartResponse, status: int, payload: dict[str, Any], content_type: str,
              extra: list[tuple[str, str]] | None = None) -> list[bytes]:
        body = json.dumps(payload).encode()
        reason = {400: "Bad Request", 500: "Internal Server Error"}[status]
        start_response(f"{status} {reason}", [("Content-Type", content_type), ("Content-Length", str(len(body))),
                                               ("x-amzn-RequestId", secrets.token_hex(16)), *(extra or [])])
        return [body]

    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """GET: what was injected so far; POST: script the next faults (a list replaces the script)."""
        if environ.get("REQUEST_METHOD") == "POST":
            wanted = json.loads(self._body(environ) or b"[]")
            with self._decide:
                self.scripted = [{"target": w.get("target", "*"), "fault": w.get("fault", "conflict"),
                                  "count": int(w.get("count", 1)),
                                  "match": [str(m) for m in w["match"]] if isinstance(w.get("match"), list)
                                  else [str(w.get("match", ""))]}
                                 for w in (wanted if isinstance(wanted, list) else [wanted])]
        item = parse_qs(environ.get("QUERY_STRING", "")).get("item", [""])[0]
        with self._decide:
            payload = {"rate": self.rate, "seed": self.seed, "injected": dict(self.injected),
                       "requests": dict(self.requests), "scripted": self.scripted}
        if item:
            with self._dynamodb:
                payload["read_units"] = {k: v for k, v in self.read_units.items() if item in k}
        body = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def transactions_without_table_copies() -> None:
    """moto applies a TransactWriteItems item by item and, to roll back, first deep-copies every
    table it touches: a transaction costs time in proportion to the tables' size (0.13 s each once
    an orders table holds a thousand orders), which made the local stack's expiry crawl and put
    back streams' shards nobody read. DynamoDB decides every condition against the items as they
    were and then writes all or nothing; so does this: conditions first (every item named once),
    then the writes, and only the written items are kept to undo a write moto itself refuses."""
    from moto.dynamodb.exceptions import (ConditionalCheckFailed, MockValidationException, MultipleTransactionsException,
                                          TooManyTransactionsException,
                                          TransactionCanceledException, TransactWriteSingleOpException)
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import get_filter_expression as condition_of

    if getattr(DynamoDBBackend.transact_write_items, "checks_first", False):
        return

    def key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
        if op_type != "Put":
            return dict(op["Key"])
        table = backend.get_table(op["TableName"])
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
        return key

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        seen: set[tuple[str, str]] = set()
        errors: list[Any] = []
        planned: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = []
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            (op_type, op), = entry.items()
            original: dict[str, Any] | None = None
            try:
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                key = key_of(self, op_type, op)
                identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
                if identity in seen:
                    raise MultipleTransactionsException()
                seen.add(identity)
                current = self.get_item(op["TableName"], key)
                if op.get("ConditionExpression") is not None:
                    condition = condition_of(op["ConditionExpression"], op.get("ExpressionAttributeNames"),
                                             op.get("ExpressionAttributeValues"))
                    if not condition.expr(current):
                        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                            original = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original)
                planned.append((op_type, op, key, copy.deepcopy(current)))
                errors.append((None, None, None))
            except MockValidationException:
                raise                      # a malformed request, refused whole (as moto and DynamoDB do)
            except ConditionalCheckFailed as failed:
                errors.append(("ConditionalCheckFailed", str(failed.message), original))
            except Exception as error:  # noqa: BLE001 - reported per item, as moto does
                errors.append((type(error).__name__, str(error), original))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        # A write moto refuses midway (an update expression it cannot apply) undoes the ones made
        # before it and itself, and leaves no stream record: the stream shows committed writes only.
        streams = {name: len(t.stream_shard.items) for name, t in self.tables.items() if t.stream_shard is not None}
        done: list[tuple[str, dict[str, Any], Any]] = []
        try:
            for op_type, op, key, before in planned:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "ConditionCheck":
                    continue
                done.append((op["TableName"], key, before))
                if op_type == "Put":
                    self.put_item(op["TableName"], op["Item"], expression_attribute_names=names,
                                  expression_attribute_values=values)
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key, expression_attribute_names=names,
                                     expression_attribute_values=values)
                else:
                    self.update_item(op["TableName"], key, update_expression=op["UpdateExpression"],
                                     expression_attribute_names=names, expression_attribute_values=values)
        except Exception:
            for table_name, key, before in reversed(done):
                table = self.get_table(table_name)
                hash_value, range_value = self.get_keys_value(table, key)
                if before is None:
                    table.delete_item(hash_value, range_value)
                else:
                    table.put_item(before.to_json()["Attributes"])
            for name, count in streams.items():
                del self.tables[name].stream_shard.items[count:]
            raise

    transact_write_items.checks_first = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rate = float(os.environ.get("LOCAL_FAULT_RATE") or 0)
    seed = int(os.environ.get("LOCAL_FAULT_SEED") or secrets.randbelow(2 ** 31))
    if rate:
        print(f"local AWS: {min(rate, MAX_RATE):.0%} of DynamoDB and SQS requests fail as AWS fails "
              f"(LOCAL_FAULT_SEED={seed} replays them)", flush=True)
    transactions_without_table_copies()
    per_item = float(os.environ.get("LOCAL_PARTITION_WRITES_PER_SECOND") or 0)
    if per_item:
        print(f"local AWS: one item accepts {per_item:g} writes per second (LOCAL_PARTITION_WRITES_PER_SECOND)",
              flush=True)
    app = FaultInjector(DomainDispatcherApplication(create_backend_app), rate, seed, per_item)
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
