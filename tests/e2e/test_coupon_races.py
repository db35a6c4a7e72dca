"""Coupon races (invariant 13) fired at once against the running local stack: a grab for the last
coupons, one customer against their own limit, one user coupon on several orders, and claims
racing a raise of the total. Each harness runs twice, as in test_races.py: against the stack,
where the invariant holds, and against a twin (tests/e2e/twin.py) with only the protecting
condition removed from the app's own code, where the same race breaks it.

How many were issued is counted from the user coupons themselves (GET /admin/coupons/{id}
`issued`), not from the answers; `remaining` is the claims-left stock item."""
from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import pytest
import requests

from .conftest import Http, Site, fire_at_once, inventory_of, order, until_broken, wait_for

RACERS = 40
CONTROL_ROUNDS = 4          # a control's race is run again (afresh) until the break shows


def new_coupon(site: Site, **extra: Any) -> str:
    """A cash coupon of 5 yuan, no threshold, claimable now."""
    now = datetime.now(timezone.utc)
    body = {"name": "抢券 " + uuid.uuid4().hex[:6], "kind": "cash", "amount": 500, "threshold": 0,
            "claim_from": (now - timedelta(hours=1)).isoformat(), "claim_until": (now + timedelta(days=1)).isoformat(),
            "valid_days": 7, **extra}
    r = site.admin.post("/admin/coupons", body)
    assert r.status_code == 201, r.text
    return r.json()["coupon_id"]


def figures(site: Site, coupon_id: str, answers: list[Any] | None = None, at_least: int = 0) -> dict[str, Any]:
    """The coupon as staff see it. Its counts follow the user coupons' stream a moment behind the
    claims: read once every claim answered 201 is counted, and again until they stop moving."""
    least = at_least + sum(1 for r in answers or [] if r.status_code == 201)

    def read() -> dict[str, Any]:
        r = site.admin.get(f"/admin/coupons/{coupon_id}")
        assert r.status_code == 200, r.text
        return r.json()
    shown = wait_for(lambda: (found := read())["issued"] >= least and found) or read()
    for _ in range(20):                          # settled: the same count twice, a beat apart
        time.sleep(0.5)
        again = read()
        if again["issued"] == shown["issued"]:
            return again
        shown = again
    return shown


def crowd(site: Site, n: int) -> list[Http]:
    """`n` customers signed in, a few at a time (the race is the claims, not the sign-ins)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _: site.customers(1)[0], range(n)))


@pytest.fixture(scope="module")
def without_stock_condition(twin) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    """One twin without the claims-left item's conditions for both controls that need it."""
    with twin("sku-condition") as unprotected:
        yield unprotected


def claims(customers: list[Http], coupon_id: str) -> list[Callable[[], Any]]:
    return [lambda c=c: c.post(f"/coupons/{coupon_id}/claim", {}) for c in customers]


def codes(answers: list[Any], status: int) -> set[str]:
    return {r.json()["code"] for r in answers if r.status_code == status}


# ------------------------------------------------------------------ a. the grab (抢券)

def race_a_coupon_grab(site: Site) -> tuple[Counter[int], list[Any], dict[str, Any]]:
    """RACERS customers claim a coupon of 5 at once."""
    coupon_id = new_coupon(site, total=5)
    answers = fire_at_once(claims(crowd(site, RACERS), coupon_id))
    return Counter(r.status_code for r in answers), answers, figures(site, coupon_id, answers)


def test_a_coupon_grab_issues_exactly_its_total(site: Site) -> None:
    statuses, answers, shown = race_a_coupon_grab(site)
    assert statuses == {201: 5, 409: RACERS - 5}, statuses
    assert codes(answers, 409) == {"COUPON_EXHAUSTED"}
    assert (shown["issued"], shown["remaining"], shown["available"]) == (5, 0, 5), shown
    assert len({r.json()["user_coupon_id"] for r in answers if r.status_code == 201}) == 5


def test_negative_control_without_the_stock_condition_a_grab_over_issues(without_stock_condition: Site) -> None:
    """The claims-left item's `available >= 1` (tag `sku:<coupon_id>`) dropped."""
    seen = until_broken(lambda: race_a_coupon_grab(without_stock_condition), lambda outcome: outcome[2]["issued"] > 5)
    _, _, shown = seen[-1]
    assert shown["issued"] > 5 and shown["remaining"] < 0, [(s, f["issued"], f["remaining"]) for s, _, f in seen]


# ------------------------------------------------------------------ a'. the grab of a split coupon

SPLIT_TOTAL = 16


def a_split_coupon(stack: dict[str, str], staff: Site) -> str:
    """A coupon of 16 split the way a hot coupon splits itself: its first claim's transaction is
    throttled on the claims-left item (scripted in the embedded AWS), and the stack's alerts
    worker splits it, 15 over 8 shards and 1 left in place (a grab of thousands is split at
    creation instead; a coupon of 16 is not)."""
    coupon_id = new_coupon(staff, total=SPLIT_TOTAL)
    (first,) = staff.customers(1)
    script = {"target": "TransactWriteItems", "fault": "item-throttled", "count": 1,
              "match": [coupon_id, "user_coupon_id"]}          # a claim's transaction, not the split's
    assert requests.post(stack["moto"] + "/__faults__", json=script, timeout=10).status_code == 200
    throttled = first.post(f"/coupons/{coupon_id}/claim", {})
    assert throttled.status_code == 409 and throttled.json()["code"] == "TRY_AGAIN", throttled.text

    def split() -> list[dict[str, Any]]:
        return [a for a in staff.admin.get("/admin/alerts?limit=100").json()["items"]
                if a["kind"] == "stock_auto_split" and a["details"].get("sku_id") == coupon_id]
    (alert,) = wait_for(split, seconds=30)
    assert alert["details"]["shards"] == 8, alert
    return coupon_id


def race_a_split_grab(site: Site, coupon_id: str) -> tuple[Counter[str], dict[str, Any]]:
    """RACERS customers claim the split coupon at once: answers counted by status and code."""
    answers = fire_at_once(claims(crowd(site, RACERS), coupon_id))
    return (Counter(str(r.status_code) if r.status_code != 409 else f"409 {r.json()['code']}" for r in answers),
            figures(site, coupon_id, answers))


def test_a_grab_of_a_split_coupon_never_issues_beyond_its_total(stack: dict[str, str], site: Site) -> None:
    outcomes, shown = race_a_split_grab(site, a_split_coupon(stack, site))
    busy = outcomes["409 TRY_AGAIN"] + outcomes["503"]
    assert set(outcomes) <= {"201", "409 COUPON_EXHAUSTED", "409 TRY_AGAIN", "503"}, outcomes
    assert outcomes["201"] == shown["issued"] and shown["issued"] + shown["remaining"] == SPLIT_TOTAL, (outcomes, shown)
    assert shown["remaining"] >= 0, shown
    # EXHAUSTED only when all the buckets together were empty: unless some were told to come
    # back, the coupon was claimed to the last one.
    assert busy or shown["remaining"] == 0, (outcomes, shown)


def test_negative_control_without_the_shard_condition_a_grab_of_a_split_coupon_over_issues(
        stack: dict[str, str], site: Site, twin) -> None:  # type: ignore[no-untyped-def]
    """The shards' `available >= 1` (tag `shard:<coupon_id>`) dropped from the claims; the coupon
    is split by the stack itself, as above."""
    with twin("shard-condition") as unprotected:
        seen = until_broken(lambda: race_a_split_grab(unprotected, a_split_coupon(stack, site)),
                            lambda outcome: outcome[1]["issued"] > SPLIT_TOTAL)
    assert seen[-1][1]["issued"] > SPLIT_TOTAL and seen[-1][1]["remaining"] < 0, \
        [(s, f["issued"], f["remaining"]) for s, f in seen]


# ------------------------------------------------------------------ b. one customer over their limit

def race_a_claim_limit(site: Site) -> tuple[Counter[int], list[Any], dict[str, Any]]:
    """One customer fires 10 claims at once at a coupon of at most 2 per customer."""
    coupon_id = new_coupon(site, total=1000, per_user_limit=2)
    (greedy,) = site.customers(1)
    answers = fire_at_once(claims([greedy] * 10, coupon_id))
    return Counter(r.status_code for r in answers), answers, figures(site, coupon_id, answers)


def test_one_customer_racing_their_coupon_limit_gets_exactly_the_limit(site: Site) -> None:
    statuses, answers, shown = race_a_claim_limit(site)
    assert statuses == {201: 2, 422: 8}, statuses
    assert codes(answers, 422) == {"COUPON_LIMIT_REACHED"}
    assert (shown["issued"], shown["remaining"]) == (2, 998), shown


def test_negative_control_without_the_limit_condition_one_customer_claims_more(twin) -> None:  # type: ignore[no-untyped-def]
    """The customer's counter's `quantity <= limit - 1` (tag `limit:<coupon_id>`) dropped."""
    with twin("limit-condition") as unprotected:
        seen = until_broken(lambda: race_a_claim_limit(unprotected), lambda outcome: outcome[2]["issued"] > 2)
    statuses, _, shown = seen[-1]
    assert shown["issued"] > 2 and statuses[201] > 2, [(s, f["issued"]) for s, _, f in seen]


# ------------------------------------------------------------------ c. one user coupon, several orders

ORDERS_AT_ONCE = 8


def race_one_coupon_on_many_orders(site: Site) -> tuple[str, list[Any], dict[str, int], list[dict[str, Any]]]:
    """A customer holding one user coupon places 8 orders with it at once. Only the coupon can
    refuse them: an order of 1 of 50, and a customer may hold 3 unpaid orders (the loser of a
    protected race holds none)."""
    coupon_id = new_coupon(site, total=10)
    (sku,) = site.products([50])
    (holder,) = site.customers(1)
    claimed = holder.post(f"/coupons/{coupon_id}/claim", {})
    assert claimed.status_code == 201, claimed.text
    mine = claimed.json()["user_coupon_id"]
    answers = fire_at_once([lambda: holder.post("/orders", {**order((sku, 1)), "coupon_id": mine})
                            for _ in range(ORDERS_AT_ONCE)])
    return mine, answers, inventory_of(site.admin, sku), holder.get("/me/coupons").json()["items"]


def holding(mine: str, answers: list[Any]) -> list[dict[str, Any]]:
    """The orders placed with the coupon taken off their price."""
    return [r.json() for r in answers if r.status_code == 201
            and any(p["kind"] == "coupon" and p["id"] == mine for p in r.json()["promotions"])]


def test_one_user_coupon_used_by_orders_at_once_is_held_by_exactly_one(site: Site) -> None:
    mine, answers, stock, coupons = race_one_coupon_on_many_orders(site)
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 1, 409: ORDERS_AT_ONCE - 1}, statuses
    assert codes(answers, 409) == {"COUPON_UNAVAILABLE"}
    (winner,) = holding(mine, answers)
    assert winner["discount"] == 500 and winner["total"] == 4500
    assert [(c["user_coupon_id"], c["status"]) for c in coupons] == [(mine, "LOCKED")]
    assert stock["reserved"] == 1               # the losers reserved nothing either


def test_negative_control_without_the_user_coupon_condition_one_coupon_pays_for_several_orders(twin) -> None:  # type: ignore[no-untyped-def]
    """The user coupon's `status = AVAILABLE` (and owner, validity) on its lock (tag
    `user_coupon:<id>`) dropped."""
    with twin("user-coupon-condition") as unprotected:
        seen = until_broken(lambda: race_one_coupon_on_many_orders(unprotected),
                            lambda outcome: len(holding(outcome[0], outcome[1])) > 1)
    mine, answers, stock, _ = seen[-1]
    assert len(holding(mine, answers)) > 1 and stock["reserved"] > 1, \
        [Counter(r.status_code for r in a) for _, a, _, _ in seen]


# ------------------------------------------------------------------ d. claims while the total is raised

def race_claims_and_a_raise(site: Site) -> tuple[Counter[int], Any, dict[str, Any]]:
    """RACERS customers claim a coupon of 5 while a merchandiser raises its total to 10, all in
    the same instant."""
    coupon_id = new_coupon(site, total=5)
    calls = claims(crowd(site, RACERS), coupon_id)
    calls.insert(RACERS // 2, lambda: site.admin.patch(f"/admin/coupons/{coupon_id}", {"total": 10}))
    answers = fire_at_once(calls)
    raised = answers.pop(RACERS // 2)
    return Counter(r.status_code for r in answers), raised, figures(site, coupon_id, answers)


def test_claims_racing_a_raise_of_the_total_never_exceed_it_and_none_is_lost(site: Site) -> None:
    """The raise adds the difference to the claims left (never sets them from a count it read),
    and no claim's condition refuses it: claims made meanwhile all stand, and so does the raise."""
    statuses, raised, shown = race_claims_and_a_raise(site)
    assert raised.status_code == 200 and raised.json()["total"] == 10, raised.text
    assert set(statuses) <= {201, 409} and statuses[201] == shown["issued"], (statuses, shown)
    assert shown["total"] == 10 and 5 <= shown["issued"] <= 10, shown
    assert shown["issued"] + shown["remaining"] == 10, shown
    # What is left can still be claimed, to the new total and not one beyond.
    late = fire_at_once(claims(crowd(site, shown["remaining"] + 2), shown["coupon_id"]))
    assert sorted(r.status_code for r in late) == [201] * shown["remaining"] + [409] * 2
    after = figures(site, shown["coupon_id"], late, at_least=shown["issued"])
    assert (after["issued"], after["remaining"]) == (10, 0), after


def test_negative_control_without_the_stock_condition_claims_racing_a_raise_exceed_the_total(
        without_stock_condition: Site) -> None:
    """The claims-left item's conditions (tag `sku:<coupon_id>`: a claim's `available >= 1`, the
    raise's `available exists`) dropped: the same race issues more than even the raised total."""
    seen = until_broken(lambda: race_claims_and_a_raise(without_stock_condition),
                        lambda outcome: outcome[2]["issued"] > outcome[2]["total"])
    _, raised, shown = seen[-1]
    assert raised.status_code == 200 and shown["total"] == 10, raised.text
    assert shown["issued"] > 10 and shown["remaining"] < 0, [(s, f["issued"], f["remaining"]) for s, _, f in seen]
