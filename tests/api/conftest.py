"""API tests: the real app through chalice.test.Client, on moto's in-process DynamoDB."""
from __future__ import annotations

import contextlib
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws
from pynamodb.signals import pre_dynamodb_send

from app import app
from chalicelib import bootstrap
from chalicelib.domain.principal import Principal
from chalicelib.adapters.payment_sandbox import SandboxGateway, SandboxRecord
from chalicelib.adapters.people_repository import StaffRecord
from chalicelib.adapters.tables import ALL_TABLES, create_tables
from local import gateway
from local.aws_resources import create_queues_and_topic

CST = timezone(timedelta(hours=8))


@pytest.fixture(scope="session")
def aws() -> Iterator[None]:
    from local.moto_server import transactions_without_table_copies
    transactions_without_table_copies()
    with mock_aws():
        yield


class DynamoCalls:
    """Every DynamoDB request the code sends, by operation name (pynamodb's signal). The payment
    sandbox's own table stands in for WeChat's servers and is not counted. What the token
    authorizer reads (a staff token's account) is kept apart in `authorizer`: API Gateway caches
    its answer per token, so it is not a cost of each request the way the route's own reads are."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self.authorizer: list[str] = []

    def __call__(self, sender: Any, operation_name: str, table_name: str | None, req_uuid: Any) -> None:
        if table_name != SandboxRecord.Meta.table_name:
            (self.authorizer if _in_authorizer() else self.operations).append(operation_name)

    def reset(self) -> None:
        self.operations.clear()
        self.authorizer.clear()


def _in_authorizer() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "token_authorizer" and frame.f_code.co_filename.endswith("guard.py"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


@pytest.fixture(scope="session")
def ddb_calls(aws: None) -> Iterator[DynamoCalls]:
    calls = DynamoCalls()
    pre_dynamodb_send.connect(calls)
    Api.calls = calls
    yield calls
    pre_dynamodb_send.disconnect(calls)


def _emptied_tables() -> bool:
    """Every table as created, emptied in place (items and stream records), instead of deleted
    and created again for each test (a sixth of the API layer's time). False when a table is
    missing or was made by hand: then they are all created afresh."""
    from collections import defaultdict

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables
    ours = {model.Meta.table_name for model in ALL_TABLES + (SandboxRecord,)}
    if set(tables) != ours:
        return False
    for table in tables.values():
        table.items = defaultdict(dict)
        if table.stream_shard is not None:
            table.stream_shard.items = []
    return True


@pytest.fixture(autouse=True)
def tables(aws: None, ddb_calls: DynamoCalls) -> Iterator[None]:
    if not _emptied_tables():
        for model in ALL_TABLES + (SandboxRecord,):
            if model.exists():
                model.delete_table()
        create_tables()
        SandboxRecord.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    sqs = boto3.client("sqs", region_name="us-east-1")
    for url in sqs.list_queues(QueueNamePrefix="micromall-test-").get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)
    create_queues_and_topic("micromall-test-", 3, "us-east-1")
    ddb_calls.reset()
    yield


class Api:
    """A caller: the test client plus a bearer token. No request path may Scan a table
    (DESIGN.md), so every request made through it is checked for one."""
    calls: DynamoCalls | None = None

    def __init__(self, client: Client, token: str | None = None) -> None:
        self.client, self.token = client, token

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        calls = Api.calls
        before = len(calls.operations) if calls else 0
        response = getattr(self.client.http, method)(path, **kwargs)
        if calls:
            assert "Scan" not in calls.operations[before:], f"{method.upper()} {path} scanned a table"
        return response

    def _headers(self, headers: dict[str, str] | None, content_type: str = "application/json") -> dict[str, str]:
        h = {"Content-Type": content_type}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        return h

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self._send("get", path, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None,
             content_type: str = "application/json") -> Any:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        return self._send("post", path, headers=self._headers(headers, content_type), body=data)

    def put(self, path: str, body: Any) -> Any:
        return self._send("put", path, headers=self._headers(None), body=json.dumps(body).encode())

    def patch(self, path: str, body: Any) -> Any:
        return self._send("patch", path, headers=self._headers(None), body=json.dumps(body).encode())


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The tags of every unit of work the app commits, in order: how many items each
    transaction held, and what they were (DynamoDB refuses more than 100)."""
    from chalicelib.adapters.unit_of_work import UnitOfWork
    sent: list[list[str]] = []
    commit = UnitOfWork.commit

    def recording(self: UnitOfWork) -> None:
        if self.items:
            sent.append(list(self.tags))
        commit(self)
    monkeypatch.setattr(UnitOfWork, "commit", recording)
    return sent


@pytest.fixture
def client(tables: None) -> Iterator[Client]:
    gateway.install()
    bootstrap.reset()
    with Client(app, stage_name="local") as c:
        yield c


@pytest.fixture
def anonymous(client: Client) -> Api:
    return Api(client)


@pytest.fixture
def staff(client: Client):  # type: ignore[no-untyped-def]
    """A token of a staff account with these roles; the account is stored (a staff token is
    checked against its account), without counting in `ddb_calls`."""
    def make(*roles: str, username: str | None = None) -> Api:
        name = username or f"staff-{uuid.uuid4().hex[:6]}"
        counted = list(Api.calls.operations) if Api.calls else []
        StaffRecord(username=name, password_hash="-", roles=set(roles), created_at="2026-01-01T00:00:00.000000+00:00",
                    created_by="tests").save()
        if Api.calls:
            Api.calls.operations[:] = counted
        return Api(client, bootstrap.token_service().issue(Principal(name, "staff", frozenset(roles))))
    return make


@pytest.fixture
def admin(staff) -> Api:  # type: ignore[no-untyped-def]
    return staff("admin", username="boss")


@pytest.fixture
def customer(client: Client):  # type: ignore[no-untyped-def]
    def make(openid: str | None = None) -> Api:
        r = client.http.post("/auth/wechat/login", headers={"Content-Type": "application/json"},
                             body=json.dumps({"code": f"dev:{openid or uuid.uuid4().hex[:10]}"}).encode())
        assert r.status_code == 200, r.body
        return Api(client, r.json_body["token"])
    return make


def iso(dt: datetime) -> str:
    return dt.astimezone(CST).isoformat(timespec="seconds")


def ticket_body(stocks: list[int], price: int = 6000, admission_open: bool = False, **extra: Any) -> dict[str, Any]:
    """Tickets for a session two days ahead. Their admission opens with the session (a refund
    is then approved at once), or, `admission_open`, an hour ago (the gate admits them now)."""
    now = datetime.now(timezone.utc)
    start = now + timedelta(days=2)
    skus = [{"name": f"Adult #{i}", "price": price, "stock": s, "low_stock_threshold": 2,
             "session": {"start": iso(start), "end": iso(start + timedelta(hours=3))},
             **({"valid_from": iso(now - timedelta(hours=1))} if admission_open else {})}
            for i, s in enumerate(stocks)]
    return {"kind": "ticket", "name": "Hall " + uuid.uuid4().hex[:6], "category": "museum", "tags": ["t"],
            "status": "listed", "skus": skus, **extra}


def merch_body(stocks: list[int], price: int = 2500, **extra: Any) -> dict[str, Any]:
    return {"kind": "merch", "name": "Tote " + uuid.uuid4().hex[:6], "category": "souvenir", "status": "listed",
            "fulfillment": ["pickup", "shipping"],
            "skus": [{"name": f"Size {i}", "price": price, "stock": s, "attributes": {"size": str(i)}}
                     for i, s in enumerate(stocks)], **extra}


@pytest.fixture
def make_product(admin: Api):  # type: ignore[no-untyped-def]
    def make(body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        r = admin.post("/admin/products", body)
        assert r.status_code == 201, r.body
        return r.json_body, [s["sku_id"] for s in r.json_body["skus"]]
    return make


CONTACT = {"name": "张三", "phone": "13800138000"}


def order_body(*lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    return {"items": [{"sku_id": s, "quantity": q} for s, q in lines], "contact": CONTACT, **extra}


def available(api: Api, product_id: str, sku_id: str) -> int:
    r = api.get(f"/admin/products/{product_id}")
    return next(s["available"] for s in r.json_body["skus"] if s["sku_id"] == sku_id)


@pytest.fixture
def group_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Orders of more units of one SKU than a customer may hold unpaid by default (a group's 99
    tickets), and as many unpaid orders as a test needs: the venue raised the unpaid limits."""
    from chalicelib.domain.ordering import UnpaidLimits
    monkeypatch.setattr(bootstrap.context().unpaid, "limits", UnpaidLimits(orders=100, units_per_sku=100))


@contextlib.contextmanager
def clock_ahead(by: timedelta) -> Iterator[Any]:
    """The app's context with its clock moved on by `by` for as long as the block lasts."""
    ctx = bootstrap.context()
    real = ctx.clock
    ctx.clock = lambda: real() + by  # type: ignore[method-assign]
    try:
        yield ctx
    finally:
        ctx.clock = real  # type: ignore[method-assign]


def sandbox() -> SandboxGateway:
    gateway = bootstrap.context().wechat_pay
    assert isinstance(gateway, SandboxGateway)
    return gateway


@pytest.fixture
def deliver_notices(client: Client):  # type: ignore[no-untyped-def]
    """WeChat calling the notify URLs: every notice the sandbox has queued and is due goes to the
    app through the test client; returns the statuses the app answered."""
    def deliver() -> list[int]:
        answered: list[int] = []

        def post(path: str, headers: dict[str, str], body: str) -> int:
            answered.append(client.http.post(path, headers=headers, body=body.encode()).status_code)
            return answered[-1]
        while sandbox().deliver_notices(post, retry_scale=0.0):
            pass
        return answered
    return deliver


def expire_due(ctx: Any) -> int:
    """The schedule's expiry as deployed: every due order handed to the expiry queue, then the
    queue worked until empty as its Lambda would. Returns how many were handed out."""
    from chalicelib.service_layer import schedule
    due = schedule.dispatch_due_expiries(ctx)
    deliver_expiries()
    return due


def deliver_expiries() -> None:
    import app as app_module
    from local.aws_resources import deliver_once
    while deliver_once("micromall-test-expiry.fifo", app_module.expiry_worker, "us-east-1"):
        pass


def drain_queues() -> None:
    """Refunds and alerts delivered until both queues are empty, as their Lambdas would take them."""
    import app as app_module
    from local.aws_resources import deliver_once
    for _ in range(10):
        moved = deliver_once("micromall-test-refunds", app_module.refunds_worker, "us-east-1")
        moved += deliver_once("micromall-test-alerts", app_module.alerts_worker, "us-east-1")
        if not moved:
            return


@pytest.fixture
def figures(client: Client):  # type: ignore[no-untyped-def]
    """The tables' streams read into the back office's figures, as Lambda's event source mappings
    would: `figures()` hands over every record written so far."""
    import app as app_module
    from local.streams import StreamReader, stream_handlers
    reader = StreamReader(stream_handlers(app_module), "us-east-1")
    return reader.drain
