"""End-to-end: the real `make run` stack on free ports, driven over HTTP only."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
INJECTED: dict[str, Any] = {}           # what the embedded AWS reported at the end of the run
SPOILED: set[str] = set()               # SKUs a negative control broke on purpose
FUZZ_SUMMARY: list[str] = []            # what schemathesis generated (test_contract_fuzz)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `afterwards` look at what all the others left behind: they run last."""
    items.sort(key=lambda item: item.get_closest_marker("afterwards") is not None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "afterwards: runs after every other end-to-end test")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in FUZZ_SUMMARY:
        terminalreporter.write_line(line)
    if INJECTED.get("rate"):
        injected = INJECTED.get("injected", {})
        total = sum(INJECTED.get("requests", {}).values())
        terminalreporter.write_line(f"embedded AWS: {sum(injected.values())} of {total} DynamoDB/SQS requests faulted "
                                    f"(rate {INJECTED['rate']}, seed {INJECTED['seed']}): "
                                    + json.dumps(dict(sorted(injected.items()))))
ADMIN_PASSWORD = "E2e-Admin-" + uuid.uuid4().hex[:8]
PAYMENT_TIMEOUT = 4
CST = timezone(timedelta(hours=8))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_stack(log_name: str, **extra_env: str) -> Iterator[dict[str, str]]:
    """`make run` on free ports, healthy, and stopped afterwards; what the embedded AWS faulted
    is left in INJECTED."""
    api_port, moto_port = free_port(), free_port()
    env = dict(os.environ, API_PORT=str(api_port), MOTO_PORT=str(moto_port), LOCAL_ADMIN_PASSWORD=ADMIN_PASSWORD,
               **extra_env)
    # The keys stay (tests/conftest.py generated them): twins of this stack share them, as the
    # Lambdas of one deployment share their secrets.
    for name in ("DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL", "TABLE_PREFIX", "STAGE", "REFUNDS_QUEUE_NAME",
                 "ALERTS_QUEUE_NAME", "ALERTS_TOPIC_ARN", "REFUND_MAX_ATTEMPTS", "RETRY_BASE_SECONDS"):
        env.pop(name, None)
    log = open(Path(tempfile.gettempdir()) / log_name, "w")
    proc = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.time() + 600
        while True:
            assert proc.poll() is None, "make run exited before /health answered"
            try:
                if requests.get(url + "/health", timeout=2).json() == {"status": "ok"}:
                    break
            except (requests.RequestException, ValueError):
                pass
            assert time.time() < deadline, "stack not healthy in time"
            time.sleep(0.5)
        yield {"url": url, "moto": f"http://127.0.0.1:{moto_port}"}
        INJECTED.update(requests.get(f"http://127.0.0.1:{moto_port}/__faults__", timeout=10).json())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, str]]:
    # Orders expire quickly, but only when a test runs the schedule (POST /dev/schedule/run):
    # the pump's own tick is an hour away, so no other test sees an order expire under it.
    with running_stack("micromall-e2e-stack.log", LOCAL_SCHEDULE_SECONDS="3600",
                       ORDER_PAYMENT_TIMEOUT_SECONDS=str(PAYMENT_TIMEOUT)) as running:
        yield running


class Http:
    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.token = base, token
        self.session = requests.Session()

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, headers=self._headers(), timeout=60)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
        return self.session.post(self.base + path, json=body, headers=self._headers(headers), timeout=60)

    def patch(self, path: str, body: Any) -> requests.Response:
        return self.session.patch(self.base + path, json=body, headers=self._headers(), timeout=60)


def staff_login(base: str, username: str, password: str) -> Http:
    r = requests.post(base + "/auth/staff/login", json={"username": username, "password": password}, timeout=30)
    assert r.status_code == 200, r.text
    return Http(base, r.json()["token"])


@dataclass
class Site:
    """An API to drive: the stack itself, or a twin of it with one protection removed."""
    url: str
    admin: Http
    protected: bool = True

    def products(self, stocks: list[int], **extra: Any) -> list[str]:
        """A listed ticket product for a race; a twin's SKUs are kept out of the final ledger check."""
        _, skus = ticket_product(self.admin, stocks, **extra)
        if not self.protected:
            SPOILED.update(skus)
        return skus

    def customers(self, n: int) -> list[Http]:
        result = []
        for _ in range(n):
            r = requests.post(self.url + "/auth/wechat/login", json={"code": f"dev:e2e-{uuid.uuid4().hex[:12]}"},
                              timeout=30)
            result.append(Http(self.url, r.json()["token"]))
        return result

    def scanner(self) -> Http:
        name, password = "gate-" + uuid.uuid4().hex[:6], "Pw-" + uuid.uuid4().hex
        assert self.admin.post("/admin/staff", {"username": name, "password": password,
                                                "roles": ["scanner"]}).status_code == 201
        return staff_login(self.url, name, password)

    def pay(self, order_id: str, **body: Any) -> requests.Response:
        return requests.post(f"{self.url}/dev/payments/{order_id}/succeed", json=body, timeout=60)


@pytest.fixture(scope="session")
def admin(stack: dict[str, str]) -> Http:
    return staff_login(stack["url"], "admin", ADMIN_PASSWORD)


@pytest.fixture(scope="session")
def site(stack: dict[str, str], admin: Http) -> Site:
    return Site(stack["url"], admin)


@pytest.fixture(scope="session")
def customers(site: Site) -> Callable[[int], list[Http]]:
    return site.customers


@pytest.fixture(scope="session")
def twin(stack: dict[str, str]) -> Callable[[str], Any]:
    """A twin of the stack's API without one protection (tests/e2e/twin.py), for as long as a
    `with twin("sku-condition") as site:` block lasts."""
    @contextlib.contextmanager
    def open_twin(removal: str) -> Iterator[Site]:
        port = free_port()
        log = open(Path(tempfile.gettempdir()) / f"micromall-twin-{removal}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "tests.e2e.twin", "--port", str(port), "--moto", stack["moto"],
                                 "--remove", removal], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "ORDER_PAYMENT_TIMEOUT_SECONDS": str(PAYMENT_TIMEOUT)},
                                start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 120
            while True:
                assert proc.poll() is None, f"the twin without {removal} exited"
                try:
                    if requests.get(url + "/health", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.time() < deadline, "twin not healthy in time"
                time.sleep(0.3)
            yield Site(url, staff_login(url, "admin", ADMIN_PASSWORD), protected=False)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
            log.close()
    return open_twin


def ticket_product(admin: Http, stocks: list[int], threshold: int = 0, admission_open: bool = True,
                   **extra: Any) -> tuple[str, list[str]]:
    """Tickets for a session two days ahead, admitted from an hour ago (the gates let them in
    now; a refund is reviewed by staff), or, not `admission_open`, from the session's start (a
    refund is approved at once)."""
    now = datetime.now(timezone.utc)
    start = now + timedelta(days=2)
    opens = now - timedelta(hours=1) if admission_open else start
    body = {"kind": "ticket", "name": "E2E " + uuid.uuid4().hex[:6], "category": "museum", "status": "listed",
            "skus": [{"name": f"S{i}", "price": 5000, "stock": s, "low_stock_threshold": threshold,
                      "valid_from": opens.astimezone(CST).isoformat(),
                      "session": {"start": start.astimezone(CST).isoformat(),
                                  "end": (start + timedelta(hours=2)).astimezone(CST).isoformat()}}
                     for i, s in enumerate(stocks)], **extra}
    r = admin.post("/admin/products", body)
    assert r.status_code == 201, r.text
    return r.json()["product_id"], [s["sku_id"] for s in r.json()["skus"]]


def order(*lines: tuple[str, int]) -> dict[str, Any]:
    return {"items": [{"sku_id": s, "quantity": q} for s, q in lines],
            "contact": {"name": "Racer", "phone": "13800138000"}}


def fire_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Starts every call on its own thread behind one barrier, so they hit the server together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def inventory_of(admin: Http, sku_id: str) -> dict[str, int]:
    cursor, found = None, None
    while found is None:
        page = admin.get("/admin/inventory?limit=200" + (f"&cursor={cursor}" if cursor else "")).json()
        found = next((i for i in page["items"] if i["sku_id"] == sku_id), None)
        cursor = page["next"]
        if not cursor:
            break
    assert found is not None
    return found


def ledger_sum(admin: Http, sku_id: str) -> int:
    total, cursor = 0, None
    while True:
        page = admin.get(f"/admin/inventory/{sku_id}/movements?limit=200" + (f"&cursor={cursor}" if cursor else "")).json()
        total += sum(m["delta"] for m in page["items"])
        cursor = page["next"]
        if not cursor:
            return total


def until_broken(race: Callable[[], Any], broken: Callable[[Any], bool], rounds: int = 4) -> list[Any]:
    """A negative control's race, run again (afresh) while the break has not shown: every round's
    outcome, the last one broken unless every round held."""
    seen = []
    for _ in range(rounds):
        seen.append(race())
        if broken(seen[-1]):
            break
    return seen


def wait_for(check: Callable[[], Any], seconds: float = 30, every: float = 0.3) -> Any:
    deadline = time.time() + seconds
    while True:
        result = check()
        if result or time.time() > deadline:
            return result
        time.sleep(every)


def wait_past(expires_at: str) -> None:
    """`expires_at` is shown to the second: the instant itself may be up to a second later."""
    latest = datetime.fromisoformat(expires_at)
    time.sleep(max(0.0, (latest - datetime.now(latest.tzinfo)).total_seconds()) + 1.5)
