"""/openapi.json is exact: schemathesis, every check, against a `make run` of its own (it changes
sandbox outcomes, creates staff and tries logins, which the other end-to-end tests must not see),
as an admin and as a customer, finds no failure. Real identifiers are offered to it through
dictionaries, so that it reaches past 404 into the use cases as well."""
from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse
import pytest
import requests

from .conftest import ADMIN_PASSWORD, FUZZ_SUMMARY, ROOT, Http, order, running_stack, staff_login, ticket_product

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))   # per operation and phase; a deeper run: FUZZ_EXAMPLES=200
SEED = int(os.environ.get("FUZZ_SEED", "20261122"))
# What must not be reported. Others are expected of a fuzz run and say nothing of the schema: an
# admin's token is refused on customer routes (and the reverse), and made-up gate codes, asset
# names or sandbox refund numbers are not found.
WARNINGS = ("Schema validation mismatch", "Failed Health Check")
# Bodies whose rules between fields no JSON Schema states, so that a generator ignorant of them
# makes mostly refused ones: a coupon's kind and its amount or percent, its validity by days or by
# dates, its claim window in order; a full reduction's tiers rising, its end after its start. Each
# of those rules is answered 400 and proven in tests/unit/test_coupons.py and
# tests/api/test_promotions_api.py; every other operation must take what its schema allows.
# A customer's orders and claims: the fuzz customer's coupons are used up by its first orders, its
# claims reach their limit, and an order's Idempotency-Key is reused with another body (422); these
# operations must still take some of what is generated (a 2xx among their answers in the run's HAR),
# and their refusals are each a rule proven in tests/api.
# A change of an order or of a ticket's visitor names real-name visitors, whose resident ID's check
# digit no pattern states (400, tests/unit/test_input.py); the fuzz's orders are paid, so their
# changes are refused as such (409, tests/api/test_order_changes_api.py).
# An after-sale request's rules that no schema states (an exchange of one line naming its
# replacement, a return naming none, each SKU once: 400) and the fuzz's goods never handed over
# (409) are proven in tests/api/test_after_sales_api.py and tests/unit/usecases/test_after_sales.py.
MOSTLY_REFUSED_BY_DESIGN = {"PATCH /orders/{order_id}", "PATCH /orders/{order_id}/tickets/{ticket_id}",
                            "POST /orders/{order_id}/after-sales",
                            "POST /admin/coupons", "POST /admin/promotions", "POST /orders",
                            "POST /coupons/{coupon_id}/claim"}
MUST_TAKE_SOME = {"POST /orders", "POST /coupons/{coupon_id}/claim"}
USER_COUPONS = 60                                       # below the fuzz coupon's per-customer limit (100)
PATHS = ("product_id", "sku_id", "order_id", "ticket_id", "refund_id", "out_refund_no", "coupon_id", "promotion_id")

pytestmark = pytest.mark.skipif(bool(os.environ.get("LOCAL_FAULT_RATE")),
                                reason="a contract check: it runs once, on a stack without injected faults")


def _customer(url: str) -> Http:
    r = requests.post(url + "/auth/wechat/login", json={"code": "dev:fuzz-customer"}, timeout=30)
    return Http(url, r.json()["token"])


def _known_identifiers(url: str, admin: Http, customer: Http) -> dict[str, list[str]]:
    """A paid ticket order with a refund requested, a paid order for goods to ship, a merchandise
    SKU and the seeded catalogue: each identifier the paths take, real."""
    product_id, skus = ticket_product(admin, [50, 50])
    placed = customer.post("/orders", order((skus[0], 2)), headers={"Idempotency-Key": "fuzz-ticket-order-1"})
    assert placed.status_code == 201, placed.text
    ticket_order = placed.json()["order_id"]
    assert requests.post(f"{url}/dev/payments/{ticket_order}/succeed", json={}, timeout=60).status_code == 200
    tickets = [t["ticket_id"] for t in customer.get(f"/orders/{ticket_order}/tickets").json()["items"]]
    ticket_refund = customer.post(f"/orders/{ticket_order}/refunds", {"reason": "fuzz", "ticket_ids": tickets[:1]})
    assert ticket_refund.status_code == 202, ticket_refund.text
    catalog = requests.get(url + "/catalog/products?limit=50", timeout=30).json()["items"]
    merch = next(p for p in catalog if p["kind"] == "merch")
    merch_sku = merch["skus"][0]["sku_id"]
    goods = customer.post("/orders", {**order((merch_sku, 1)), "fulfillment": "pickup"},
                          headers={"Idempotency-Key": "fuzz-goods-order-1"})
    assert goods.status_code == 201, goods.text
    goods_order = goods.json()["order_id"]
    assert requests.post(f"{url}/dev/payments/{goods_order}/succeed", json={}, timeout=60).status_code == 200
    goods_refund = customer.post(f"/orders/{goods_order}/refunds", {"reason": "fuzz"})
    assert goods_refund.status_code == 202, goods_refund.text
    refunds = [ticket_refund.json()["refund_id"], goods_refund.json()["refund_id"]]
    # Goods of many specs, so that a stocktake names real SKUs.
    specs = admin.post("/admin/products", {"kind": "merch", "name": "Fuzz specs", "status": "listed",
                                           "fulfillment": ["pickup"], "skus": [
                                               {"name": f"spec {i}", "price": 100, "stock": 1000} for i in range(40)]})
    assert specs.status_code == 201, specs.text
    many = [s["sku_id"] for s in specs.json()["skus"]]
    # And sessions of one ticket, so that an order names real ones, seldom twice.
    _, sessions = ticket_product(admin, [1000] * 40)
    # A coupon to claim (plenty, many per customer) and a full reduction to stop.
    now = datetime.now(timezone.utc)
    window = {"claim_from": (now - timedelta(hours=1)).isoformat(), "claim_until": (now + timedelta(days=1)).isoformat()}
    coupon = admin.post("/admin/coupons", {"name": "Fuzz", "kind": "cash", "amount": 100, "threshold": 0,
                                           "total": 100000, "per_user_limit": 100, "valid_days": 3, **window})
    assert coupon.status_code == 201, coupon.text
    promotion = admin.post("/admin/promotions", {"name": "Fuzz", "kind": "full_reduction",
                                                 "tiers": [{"threshold": 100000000, "amount": 1}],
                                                 "starts_at": window["claim_from"], "ends_at": window["claim_until"]})
    assert promotion.status_code == 201, promotion.text
    # The customer's coupons, so that an order naming one finds it theirs (each pays one order:
    # later orders naming a used one are refused 409 COUPON_UNAVAILABLE, as they should be).
    user_coupons = [customer.post(f"/coupons/{coupon.json()['coupon_id']}/claim", {}).json()["user_coupon_id"]
                    for _ in range(USER_COUPONS)]
    return {"coupon_id": [coupon.json()["coupon_id"]], "promotion_id": [promotion.json()["promotion_id"]],
            "user_coupon_id": user_coupons,"product_id": [product_id, merch["product_id"]], "sku_id": [*skus, merch_sku, *many],
            "session_sku_id": sessions, "reschedule_sku_id": skus[1:],
            "order_id": [ticket_order, goods_order], "ticket_id": tickets, "refund_id": refunds,
            "out_refund_no": refunds[:1]}


def _config(known: dict[str, list[str]]) -> Path:
    """The project's schemathesis.toml, with the identifiers bound to path parameters."""
    text = (ROOT / "schemathesis.toml").read_text()
    text += "\n[parameters]\n" + "".join(
        f'"path.{name}" = {{ dictionary = "{name}", probability = 0.7 }}\n' for name in known if name in PATHS)
    text += ('"body.counts[*].sku_id" = { dictionary = "sku_id", probability = 0.9 }\n'           # stocktakes
             '"body.items[*].sku_id" = { dictionary = "session_sku_id", probability = 0.9 }\n'    # orders
             '"body.coupon_id" = { dictionary = "user_coupon_id", probability = 0.9 }\n'
             '"body.sku_id" = { dictionary = "reschedule_sku_id", probability = 0.9 }\n')    # 改签
    for name, values in known.items():
        text += f"\n[dictionaries.{name}]\nvalues = [{', '.join(repr(str(v)) for v in values)}]\n"
    path = Path(tempfile.mkdtemp(prefix="micromall-fuzz-")) / "schemathesis.toml"
    path.write_text(text.replace("'", '"'))
    return path


# CPython 3.11's AST constructor is not safe across threads: two schemathesis workers parsing at
# once may crash the tool ("SystemError: AST constructor recursion depth mismatch"). That is the
# tool failing, not a finding: the same run (same seed) is made again. The customer's run (15
# operations, about a minute) takes one worker, where it crashed on both tries with two.
TOOL_CRASH = "AST constructor recursion depth mismatch"


def _schemathesis(config: Path, url: str, token: str, who: str) -> subprocess.CompletedProcess[str]:
    done = _schemathesis_once(config, url, token, who)
    if done.returncode != 0 and TOOL_CRASH in done.stdout + done.stderr:
        done = _schemathesis_once(config, url, token, who)
    return done


def _operations_of(who: str) -> list[str]:
    """What each run fuzzes: the operations its token may call (the public ones in the admin's run).
    Every operation is fuzzed by the role that can reach its use case; that a token is refused
    where its role may not go is proven route by route in tests/api/test_staff_access_api.py,
    and fuzzing those would only collect 401/403 answers at twice the time."""
    from chalicelib.api.access import ROUTES
    if who == "customer":
        chosen = [k for k, rule in ROUTES.items() if not rule.public and rule.allows("customer", frozenset())]
    else:
        chosen = [k for k, rule in ROUTES.items() if rule.public or rule.allows("staff", frozenset({"admin"}))]
    return [f"{method} {path}" for method, path in sorted(chosen)]


def _schemathesis_once(config: Path, url: str, token: str, who: str) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).parent / "st"
    included = [arg for name in _operations_of(who) for arg in ("--include-name", name)]
    return subprocess.run(
        [str(st), "--config-file", str(config), "run", f"{url}/openapi.json", *included,
         "-H", f"Authorization: Bearer {token}",
         "--checks", "all", "--max-examples", str(EXAMPLES), "--seed", str(SEED),
         "--workers", "1" if who == "customer" else "2", "--no-color",
         "--report", "junit,har",
         "--report-junit-path", str(Path(tempfile.gettempdir()) / f"micromall-fuzz-{who}.xml"),
         "--report-har-path", str(Path(tempfile.gettempdir()) / f"micromall-fuzz-{who}.har")],
        cwd=config.parent, capture_output=True, text=True, timeout=1200)


def _taken(who: str) -> set[str]:
    """The operations (as `METHOD /path` templates) that answered a 2xx in the run's HAR."""
    from chalicelib.api.access import ROUTES
    har = json.loads((Path(tempfile.gettempdir()) / f"micromall-fuzz-{who}.har").read_text())
    templates = [(method, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), f"{method} {path}")
                 for method, path in ROUTES]
    taken = set()
    for entry in har["log"]["entries"]:
        if 200 <= entry["response"]["status"] < 300:
            method, path = entry["request"]["method"], urlparse(entry["request"]["url"]).path
            taken |= {name for m, pattern, name in templates if m == method and pattern.match(path)}
    return taken


def _mostly_refused(out: str) -> set[str]:
    """The operations schemathesis lists as mostly refusing generated data."""
    lines = out.splitlines()
    found: set[str] = set()
    for i, line in enumerate(lines):
        if "mostly rejected generated data due to validation errors" in line:
            for follow in lines[i + 1:i + 12]:
                item = follow.strip()
                if item.startswith("- "):
                    found.add(item[2:].strip())
                elif found:
                    break
    return found


def test_schemathesis_finds_nothing_as_admin_or_customer() -> None:
    # One fuzzing customer places thousands of orders and pays none: the unpaid limits (proven in
    # tests/api/test_unpaid_holds_api.py and the e2e race) would refuse nearly all of them, and
    # schemathesis would report the orders' schema as not what the API takes.
    with running_stack("micromall-fuzz-stack.log", LOCAL_SCHEDULE_SECONDS="3600",
                       MAX_UNPAID_ORDERS_PER_CUSTOMER="1000000", MAX_UNPAID_UNITS_PER_SKU="1000000") as running:
        url = running["url"]
        admin = staff_login(url, "admin", ADMIN_PASSWORD)
        customer = _customer(url)
        config = _config(_known_identifiers(url, admin, customer))
        failures: list[str] = []
        # The customer first: the admin's run edits, stops and empties what the customer's orders
        # name (listings, stock, sale windows, coupons), and would leave them nothing to buy.
        for who, client in (("customer", customer), ("admin", admin)):
            done = _schemathesis(config, url, str(client.token), who)
            summary = [line for line in done.stdout.splitlines() if "generated" in line or "Seed:" in line]
            FUZZ_SUMMARY.append(f"schemathesis as {who}: " + "; ".join(s.strip() for s in summary))
            # Data the schema allows is what the API takes: no phase stops on a health check, and
            # schemathesis does not find operations that mostly refuse what their schema allows.
            warned = [line for line in done.stdout.splitlines() if any(kind in line for kind in WARNINGS)]
            refused = _mostly_refused(done.stdout)
            if warned and refused and refused <= MOSTLY_REFUSED_BY_DESIGN and not any("Health Check" in w for w in warned):
                taken = _taken(who)
                warned = [f"{name} took nothing the fuzz generated" for name in sorted(refused & MUST_TAKE_SOME)
                          if name not in taken]
            if warned:
                failures.append(f"--- as {who}: warnings ---\n" + "\n".join(warned) + "\n" + done.stdout[-6000:])
            if done.returncode != 0:
                failures.append(f"--- as {who} (exit {done.returncode}) ---\n{done.stdout[-12000:]}\n{done.stderr[-3000:]}")
        assert not failures, "\n".join(failures)
