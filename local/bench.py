"""`make bench`: a bounded load run against a fresh local stack, on loopback only.

Starts `make run`'s stack on free ports, seeds a product, then runs each phase with BENCH_CLIENTS
concurrent clients for at most BENCH_SECONDS (and BENCH_MAX_OPS operations), and prints one line per
figure: `BENCH <name> <value> <unit>`. DynamoDB requests per operation are read from the embedded
AWS's own request counter, so they count what the app really sent (retries included).

The figures are of this machine and moto, not of AWS: they compare runs and find regressions;
they are never asserted on in a test."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import requests

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
MAX_OPS = int(os.environ.get("BENCH_MAX_OPS", "2000"))
# The partition model (LOCAL_PARTITION_WRITES_PER_SECOND), scaled down with everything else: this
# stack takes a few dozen writes a second in all (about ten orders), so one item is held to two.
ITEM_WRITES = float(os.environ.get("BENCH_ITEM_WRITES_PER_SECOND", "2"))
HOT_SHARDS = int(os.environ.get("BENCH_HOT_SHARDS", "8"))
# Clients wait as a TRY_AGAIN's Retry-After tells them; BENCH_IMPATIENT=1 asks again at once (the
# worst client, and how every client behaved before the answer said when).
IMPATIENT = os.environ.get("BENCH_IMPATIENT") == "1"
CST = timezone(timedelta(hours=8))


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.2f} {unit}", flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, **extra_env: str) -> None:
        self.api_port, self.moto_port = _free_port(), _free_port()
        self.password = "Bench-" + secrets.token_hex(6)
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.moto = f"http://127.0.0.1:{self.moto_port}"
        env = dict(os.environ, API_PORT=str(self.api_port), MOTO_PORT=str(self.moto_port),
                   LOCAL_ADMIN_PASSWORD=self.password, LOCAL_SCHEDULE_SECONDS="3600",
                   LOCAL_PARTITION_WRITES_PER_SECOND=str(ITEM_WRITES),
                   # BENCH_CLIENTS stand for a crowd: the unpaid limits (3 orders, 10 units a SKU)
                   # would otherwise end each one's buying after three orders.
                   MAX_UNPAID_ORDERS_PER_CUSTOMER="100000", MAX_UNPAID_UNITS_PER_SKU="100000")
        env.update(extra_env)
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / "micromall-bench-stack.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "local.stack"], cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 300
        while True:
            if self.proc.poll() is not None:
                raise SystemExit("the local stack exited; see micromall-bench-stack.log")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise SystemExit("the local stack did not become healthy")
            time.sleep(0.5)

    def dynamodb_requests(self) -> int:
        counted = requests.get(self.moto + "/__faults__", timeout=10).json()["requests"]
        return sum(n for name, n in counted.items() if name.startswith("dynamodb.")
                   and name.split(".")[1] not in ("DescribeStream", "GetRecords", "GetShardIterator", "DescribeTable"))

    def read_units(self, item: str) -> dict[str, float]:
        """Read units spent on each item whose key holds `item`, as DynamoDB would bill them."""
        return requests.get(self.moto + "/__faults__", params={"item": item}, timeout=10).json()["read_units"]

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def _session(token: str | None = None) -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=CLIENTS, pool_maxsize=CLIENTS)
    session.mount("http://", adapter)
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def phase(name: str, stack: Stack, work: list[Callable[[], bool]], unit: str = "ops/s") -> list[Any]:
    """Runs the calls with CLIENTS at once until done or SECONDS are up; prints throughput,
    latencies and DynamoDB requests per successful operation."""
    latencies: list[float] = []
    ok = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + SECONDS
    before = stack.dynamodb_requests()

    def run(call: Callable[[], bool]) -> None:
        nonlocal ok
        if time.perf_counter() > deadline:
            return
        started = time.perf_counter()
        good = call()
        with lock:
            latencies.append(time.perf_counter() - started)
            ok += good
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(run, work[:MAX_OPS]))
    elapsed = time.perf_counter() - started
    time.sleep(0.5)                                   # let the pump's own reads settle out of the count
    requests_made = stack.dynamodb_requests() - before
    bench(f"{name}_per_s", ok / elapsed, unit)
    if latencies:
        ordered = sorted(latencies)
        bench(f"{name}_p50", statistics.median(ordered) * 1000, "ms")
        bench(f"{name}_p95", ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, "ms")
    bench(f"{name}_dynamodb_requests_per_op", requests_made / max(ok, 1), "requests")
    return latencies


def main() -> None:
    """The day's sales on one fresh stack, the hot session on another, the release on a third: the
    embedded AWS slows as its tables fill, which would otherwise weigh on whichever phases come
    last. BENCH_PHASES picks some (ordinary, hot, coupon_grab, release)."""
    bench("partition_item_writes_per_second", ITEM_WRITES, "writes/s")
    chosen = os.environ.get("BENCH_PHASES", "ordinary,hot,coupon_grab,release").split(",")
    runs = {"ordinary": (ordinary_phases, {}), "hot": (hot_session_phases, {}),
            "coupon_grab": (coupon_grab_phase, {}), "release": (release_phase, RELEASE_STACK)}
    for name in chosen:
        phases, env = runs[name.strip()]
        stack = Stack(**env)
        try:
            phases(stack, *_sign_in(stack))
        finally:
            stack.stop()


def _ticket_product(admin: requests.Session, url: str, stock: int) -> str:
    now = datetime.now(timezone.utc)
    start = now + timedelta(days=1)
    body = {"kind": "ticket", "name": "Bench " + uuid.uuid4().hex[:6], "category": "museum", "status": "listed",
            "skus": [{"name": "Adult", "price": 5000, "stock": stock,
                      "valid_from": (now - timedelta(hours=1)).astimezone(CST).isoformat(),
                      "session": {"start": start.astimezone(CST).isoformat(),
                                  "end": (start + timedelta(hours=2)).astimezone(CST).isoformat()}}]}
    r = admin.post(url + "/admin/products", json=body, timeout=30)
    r.raise_for_status()
    return r.json()["skus"][0]["sku_id"]


def _sign_in(stack: Stack) -> tuple[requests.Session, requests.Session, list[requests.Session]]:
    """The admin, a gate scanner and CLIENTS customers, signed in."""
    url = stack.url
    token = requests.post(url + "/auth/staff/login", json={"username": "admin", "password": stack.password},
                          timeout=30).json()["token"]
    admin = _session(token)
    scanner_name, scanner_password = "bench-gate", "Bench-" + secrets.token_hex(8)
    admin.post(url + "/admin/staff", json={"username": scanner_name, "password": scanner_password,
                                           "roles": ["scanner"]}, timeout=30).raise_for_status()
    scanner = _session(requests.post(url + "/auth/staff/login", json={"username": scanner_name,
                                                                       "password": scanner_password},
                                     timeout=30).json()["token"])
    # Eight customers a client, each placing at most about one order a second: their own items
    # (purchase counter, unpaid holds) are never the hot ones, as in a real crowd.
    customers = [_session(requests.post(url + "/auth/wechat/login", json={"code": f"dev:bench-{i}"},
                                        timeout=30).json()["token"]) for i in range(CLIENTS * 8)]
    return admin, scanner, customers


def ordinary_phases(stack: Stack, admin: requests.Session, scanner: requests.Session,
                    customers: list[requests.Session]) -> None:
    url = stack.url
    # Ordinary sales spread over many sessions, as a venue's day does: no item is hot.
    skus = [_ticket_product(admin, url, stock=MAX_OPS) for _ in range(CLIENTS)]
    placed: list[str] = []
    owner: dict[str, requests.Session] = {}

    def place(i: int) -> Callable[[], bool]:
        def call() -> bool:
            r = customers[i % len(customers)].post(url + "/orders", json={
                "items": [{"sku_id": skus[i % CLIENTS], "quantity": 1}],
                "contact": {"name": "Bench", "phone": "13800138000"}}, timeout=60)
            if r.status_code == 201:
                placed.append(r.json()["order_id"])
                owner[r.json()["order_id"]] = customers[i % len(customers)]
            return r.status_code == 201
        return call
    phase("orders", stack, [place(i) for i in range(MAX_OPS)])

    paid: list[str] = []
    plain = _session()

    def pay(order_id: str) -> Callable[[], bool]:
        def call() -> bool:
            r = plain.post(f"{url}/dev/payments/{order_id}/succeed", json={}, timeout=60)
            good = r.status_code == 200 and r.json().get("notify_status") == 204
            if good:
                paid.append(order_id)
            return good
        return call
    phase("payment_notices", stack, [pay(o) for o in list(placed)])

    codes: list[str] = []
    for order_id in paid:
        r = owner[order_id].get(f"{url}/orders/{order_id}/tickets", timeout=60)
        codes += [t["qr"] for t in r.json()["items"]]

    def redeem(code: str) -> Callable[[], bool]:
        def call() -> bool:
            r = scanner.post(url + "/redemptions", json={"code": code, "gate": "bench", "device_id": "bench"},
                             timeout=60)
            return r.status_code == 200
        return call
    phase("redemptions", stack, [redeem(c) for c in codes])


def hot_session_phases(stack: Stack, admin: requests.Session, _: requests.Session,
                       customers: list[requests.Session]) -> None:
    """One hot session: every client after the same SKU, under the partition model. With its stock
    in one item, what that item accepts caps the whole release; split over shards, each takes its
    part."""
    url = stack.url
    oversold = sum(hot_session(admin, customers, url, stack, name, shards)
                   for name, shards in (("hot_session_unsharded_orders", 0),
                                        ("hot_session_sharded_orders", HOT_SHARDS)))
    bench("hot_session_oversold", oversold, "units")


def hot_session(admin: requests.Session, customers: list[requests.Session], url: str, stack: Stack, name: str,
                shards: int) -> int:
    """Sells one session's tickets to every client at once; returns the units sold beyond its stock."""
    stock = MAX_OPS // 4
    hot = _ticket_product(admin, url, stock=stock)
    if shards:
        admin.post(url + f"/admin/inventory/{hot}/shards", json={"shards": shards}, timeout=60).raise_for_status()
    time.sleep(5)                      # the event pump catches up with what came before
    sold = []

    def grab(i: int) -> Callable[[], bool]:
        def call() -> bool:
            r = customers[i % len(customers)].post(url + "/orders", json={
                "items": [{"sku_id": hot, "quantity": 1}], "contact": {"name": "Bench", "phone": "13800138000"}},
                timeout=60)
            if r.status_code == 201:
                sold.append(1)
            elif "Retry-After" in r.headers and not IMPATIENT:
                time.sleep(float(r.headers["Retry-After"]))      # as the mini-program does
            return r.status_code == 201
        return call
    phase(name, stack, [grab(i) for i in range(stock + CLIENTS * 4)])
    left = _inventory_item(admin, url, hot)
    if not shards:           # split by the alerts worker once its one item throttled orders (0: not yet)
        bench(f"{name}_auto_split_shards", left["stock_shards"], "shards")
    return max(0, len(sold) - stock) + max(0, -left["available"]) + max(0, left["reserved"] - stock)


def _inventory_item(admin: requests.Session, url: str, sku_id: str) -> dict[str, Any]:
    cursor = ""
    while True:
        page = admin.get(url + "/admin/inventory?limit=200" + (f"&cursor={cursor}" if cursor else ""), timeout=60).json()
        found = next((i for i in page["items"] if i["sku_id"] == sku_id), None)
        if found is not None or not page["next"]:
            assert found is not None, sku_id
            return found
        cursor = page["next"]



# A coupon grab (抢券): large enough to be split at creation (one shard per 2,500: 8 for 20,000).
COUPON_TOTAL = int(os.environ.get("BENCH_COUPON_TOTAL", "20000"))


def coupon_grab_phase(stack: Stack, admin: requests.Session, _: requests.Session, __: list[requests.Session]) -> None:
    """One coupon claimed by a crowd of distinct customers, one claim each (its limit), CLIENTS at
    once for BENCH_SECONDS under the partition model: claims a second, and the coupon's own
    figures afterwards. Issued is counted from the user coupons' stream (GET /admin/coupons/{id}), so
    `over_issued` = max(0, issued - total) and `unaccounted` = |issued + remaining - total| +
    |issued - claims answered 201| must both be 0."""
    url = stack.url
    now = datetime.now(timezone.utc)
    r = admin.post(url + "/admin/coupons", json={
        "name": "Bench 抢券", "kind": "cash", "amount": 500, "threshold": 0, "total": COUPON_TOTAL,
        "per_user_limit": 1, "claim_from": (now - timedelta(hours=1)).isoformat(),
        "claim_until": (now + timedelta(days=1)).isoformat(), "valid_days": 7}, timeout=60)
    r.raise_for_status()
    coupon_id = r.json()["coupon_id"]
    # Enough of a crowd for about four claims a second per client; a phase that runs out of
    # customers ends early, and its rate stands.
    crowd_size = min(MAX_OPS, int(CLIENTS * SECONDS * 4))
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        crowd = list(pool.map(lambda i: _session(requests.post(
            url + "/auth/wechat/login", json={"code": f"dev:grab-{i}"}, timeout=30).json()["token"]),
            range(crowd_size)))
    time.sleep(5)                      # the event pump catches up with what came before
    answered: list[int] = []

    def claim(customer: requests.Session) -> Callable[[], bool]:
        def call() -> bool:
            r = customer.post(url + f"/coupons/{coupon_id}/claim", json={}, timeout=60)
            answered.append(r.status_code)
            if r.status_code != 201 and "Retry-After" in r.headers and not IMPATIENT:
                time.sleep(float(r.headers["Retry-After"]))      # as the mini-program does
            return r.status_code == 201
        return call
    phase("coupon_grab_claims", stack, [claim(c) for c in crowd], unit="claims/s")
    # Staff's counts follow the user coupons' stream a moment behind: read once they hold every
    # claim answered 201, and have stopped moving.
    shown, deadline = {}, time.time() + 60
    while time.time() < deadline:
        again = admin.get(url + f"/admin/coupons/{coupon_id}", timeout=60).json()
        if again["issued"] >= answered.count(201) and shown.get("issued") == again["issued"]:
            break
        shown = again
        time.sleep(1)
    shown = again
    issued, remaining, total = shown["issued"], shown["remaining"], shown["total"]
    bench("coupon_grab_issued", issued, "coupons")
    bench("coupon_grab_refused", sum(1 for s in answered if s != 201), "claims")
    bench("coupon_grab_over_issued", max(0, issued - total), "coupons")
    bench("coupon_grab_unaccounted", abs(issued + remaining - total) + abs(issued - answered.count(201)), "coupons")

# The release: the schedule at its deployed cadence, unpaid orders expiring a minute after they
# were placed, and no partition model (this phase measures expiry, not one item's writes).
RELEASE_ORDERS = int(os.environ.get("BENCH_RELEASE_ORDERS", "1000"))
RELEASE_TIMEOUT_SECONDS = 60
RELEASE_STACK = {"LOCAL_SCHEDULE_SECONDS": "60", "ORDER_PAYMENT_TIMEOUT_SECONDS": str(RELEASE_TIMEOUT_SECONDS),
                 "LOCAL_PARTITION_WRITES_PER_SECOND": "0", "MAX_UNPAID_ORDERS_PER_CUSTOMER": "",
                 "MAX_UNPAID_UNITS_PER_SKU": ""}
UNPAID_ORDERS_PER_CUSTOMER = 3           # the default limit: a release's customers each hold a few


def release_phase(stack: Stack, admin: requests.Session, _: requests.Session, __: list[requests.Session]) -> None:
    """At least RELEASE_ORDERS orders of one sharded session placed by as many customers as the
    unpaid limit calls for, none paid: how long after the last one's `expires_at` every unit is on
    sale again, and the read units the SKU's own item spent per order."""
    url = stack.url
    stock = RELEASE_ORDERS + RELEASE_ORDERS // 5
    hot = _ticket_product(admin, url, stock=stock)
    admin.post(url + f"/admin/inventory/{hot}/shards", json={"shards": HOT_SHARDS}, timeout=60).raise_for_status()
    buyers = [_session(requests.post(url + "/auth/wechat/login", json={"code": f"dev:release-{i}"},
                                     timeout=30).json()["token"])
              for i in range(-(-RELEASE_ORDERS // UNPAID_ORDERS_PER_CUSTOMER))]
    sku_item = '-skus' + json.dumps([{"S": hot}])
    read_before = sum(stack.read_units(sku_item).values())
    expiries: list[datetime] = []

    def grab(i: int) -> Callable[[], bool]:
        def call() -> bool:
            r = buyers[i // UNPAID_ORDERS_PER_CUSTOMER].post(url + "/orders", json={
                "items": [{"sku_id": hot, "quantity": 1}], "contact": {"name": "Bench", "phone": "13800138000"}},
                timeout=60)
            if r.status_code == 201:
                expiries.append(datetime.fromisoformat(r.json()["expires_at"]))
            return r.status_code == 201
        return call
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        placed = sum(pool.map(lambda call: call(), [grab(i) for i in range(RELEASE_ORDERS)]))
    bench("abandoned_orders", placed, "orders")
    bench("hot_sku_item_rcu_per_order", (sum(stack.read_units(sku_item).values()) - read_before) / max(placed, 1),
          "RCU")
    last_expiry = max(expiries)
    first_back: float | None = None
    while True:
        item = _inventory_item(admin, url, hot)
        if first_back is None and item["reserved"] < placed:
            first_back = time.time()
        if item["reserved"] == 0 and item["available"] == stock:
            back = time.time()
            break
        if time.time() - last_expiry.timestamp() > 600:
            raise SystemExit(f"units still held 10 minutes after the last expiry: {item}")
        time.sleep(0.5)
    bench("abandoned_units_back_s", back - last_expiry.timestamp(), "s")
    bench("expiry_orders_per_s", placed / max(back - (first_back or back), 0.5), "orders/s")


if __name__ == "__main__":
    main()
