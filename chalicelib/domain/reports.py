"""Reports read from the counters of `figures`: rows, totals, the top N, the dashboard."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from .errors import InvalidInput
from .figures import (ADMISSION_DIMENSIONS, COUPON_COUNTERS, OPEN, PROMOTION_COUNTERS, SALES_COUNTERS,
                      SALES_DIMENSIONS, TODO, admissions_bucket, coupons_bucket, issued_bucket, promotions_bucket,
                      sales_bucket)

MAX_REPORT_DAYS = 366
Bucket = Mapping[str, Any]          # counter or label name -> value, summed over the bucket's shards


def average(gross: int, orders: int) -> int:
    """Average order value in whole fen, half up."""
    return (2 * gross + orders) // (2 * orders) if orders else 0


def days_between(first: date, last: date) -> list[date]:
    if last < first:
        raise InvalidInput("to must not be before from", field="to")
    if (last - first).days >= MAX_REPORT_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_REPORT_DAYS} days", field="to")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True)
class SalesQuery:
    first: date
    last: date
    group_by: str
    top: int | None

    def __post_init__(self) -> None:
        if self.group_by not in SALES_DIMENSIONS:
            raise InvalidInput(f"group_by must be one of {', '.join(SALES_DIMENSIONS)}", field="group_by")

    def buckets(self) -> list[str]:
        days = days_between(self.first, self.last)
        wanted = [sales_bucket(d, "day") for d in days]
        if self.group_by != "day":
            wanted += [sales_bucket(d, self.group_by) for d in days]
        return wanted


def _figures(counts: Mapping[str, int]) -> dict[str, int]:
    """`gross` is what the customers paid (after promotions), `discount` what promotions took off."""
    orders, gross, refunded = counts.get("orders", 0), counts.get("gross", 0), counts.get("refunded", 0)
    return {"orders": orders, "units": counts.get("units", 0), "gross": gross, "discount": counts.get("discount", 0),
            "refunded": refunded, "net": gross - refunded, "aov": average(gross, orders)}


def _split(bucket: Bucket) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """`key|counter` names -> {key: {counter: n}} and {key: label}."""
    counts: dict[str, dict[str, int]] = {}
    labels: dict[str, str] = {}
    for name, value in bucket.items():
        key, _, counter = name.rpartition("|")
        if counter == "label":
            labels[key] = str(value)
        elif key and isinstance(value, int):
            counts.setdefault(key, {})[counter] = counts.get(key, {}).get(counter, 0) + value
    return counts, labels


def sales_report(query: SalesQuery, buckets: Mapping[str, Bucket]) -> dict[str, Any]:
    days = days_between(query.first, query.last)
    totals: dict[str, int] = {c: 0 for c in SALES_COUNTERS}
    rows: dict[str, dict[str, int]] = {}
    labels: dict[str, str] = {}
    for d in days:
        day_totals = buckets.get(sales_bucket(d, "day"), {})
        for counter in SALES_COUNTERS:
            totals[counter] += int(day_totals.get(counter, 0))
        if query.group_by == "day":
            rows[d.isoformat()] = {c: int(day_totals.get(c, 0)) for c in SALES_COUNTERS}
            continue
        counts, names = _split(buckets.get(sales_bucket(d, query.group_by), {}))
        labels.update(names)
        for key, figures in counts.items():
            row = rows.setdefault(key, {c: 0 for c in SALES_COUNTERS})
            for counter, n in figures.items():
                row[counter] = row.get(counter, 0) + n
    if query.group_by == "hour":
        labels = {key: f"{key}:00–{int(key) + 1:02d}:00" for key in rows}
    elif query.group_by == "day":
        labels = {key: key for key in rows}
    result = [{"key": key, "label": labels.get(key, key), **_figures(row)} for key, row in rows.items()]
    if query.group_by in ("day", "hour"):
        result.sort(key=lambda r: r["key"])
    else:
        result.sort(key=lambda r: (-r["gross"], r["key"]))
    if query.top is not None:
        result = sorted(result, key=lambda r: (-r["gross"], r["key"]))[:query.top]
    return {"from": query.first.isoformat(), "to": query.last.isoformat(), "group_by": query.group_by,
            "totals": _figures(totals), "rows": result}


# ------------------------------------------------------------------ promotions

def promotion_buckets(first: date, last: date) -> list[str]:
    days = days_between(first, last)
    return [promotions_bucket(d) for d in days] + [coupons_bucket(d) for d in days]


def redemption_rate(used: int, issued: int) -> float:
    return round(used / issued, 4) if issued else 0.0


def promotions_report(first: date, last: date, buckets: Mapping[str, Bucket]) -> dict[str, Any]:
    """What each promotion took off the orders paid between the two days (rows, by the day of
    payment; a refund leaves them as they were), and for each coupon the claims made between
    them (issued) and how many of those claims are used now (used), whenever they were used."""
    rows: dict[str, dict[str, int]] = {}
    labels: dict[str, str] = {}
    kinds: dict[str, str] = {}
    coupons: dict[str, dict[str, int]] = {}
    names: dict[str, str] = {}
    for d in days_between(first, last):
        bucket = buckets.get(promotions_bucket(d), {})
        counts, day_labels = _split(bucket)
        labels.update(day_labels)
        for key, figures in counts.items():
            row = rows.setdefault(key, {c: 0 for c in PROMOTION_COUNTERS})
            for counter in PROMOTION_COUNTERS:
                row[counter] += figures.get(counter, 0)
            kinds.setdefault(key, str(bucket.get(f"{key}|kind", "")))
        counts, day_names = _split(buckets.get(coupons_bucket(d), {}))
        names.update(day_names)
        for coupon_id, figures in counts.items():
            claims = coupons.setdefault(coupon_id, {c: 0 for c in COUPON_COUNTERS})
            for counter in COUPON_COUNTERS:
                claims[counter] += figures.get(counter, 0)
    result = [{"key": key, "label": labels.get(key, key), "kind": kinds.get(key, ""), **row}
              for key, row in rows.items() if any(row.values())]
    result.sort(key=lambda r: (-r["discount"], r["key"]))
    listed = [{"coupon_id": coupon_id, "name": names.get(coupon_id, coupon_id), **c,
               "redemption_rate": redemption_rate(c["used"], c["issued"])}
              for coupon_id, c in coupons.items() if any(c.values())]
    listed.sort(key=lambda c: (-c["issued"], c["coupon_id"]))
    return {"from": first.isoformat(), "to": last.isoformat(), "rows": result, "coupons": listed}


# ------------------------------------------------------------------ admissions

def admission_buckets(day: date, group_by: str) -> list[str]:
    if group_by not in ADMISSION_DIMENSIONS:
        raise InvalidInput(f"group_by must be one of {', '.join(ADMISSION_DIMENSIONS)}", field="group_by")
    wanted = [admissions_bucket(day, "day"), admissions_bucket(day, group_by)]
    if group_by in ("sku", "session"):
        wanted += [issued_bucket(day), issued_bucket(None)]
    return wanted


def issued_buckets_elsewhere(day: date, group_by: str, buckets: Mapping[str, Bucket]) -> list[str]:
    """Tickets admitted on another day than their session's: where their issued count is kept."""
    if group_by not in ("sku", "session"):
        return []
    wanted = {str(v) for name, v in buckets.get(admissions_bucket(day, group_by), {}).items()
              if name.endswith("|session_day") and v not in (OPEN, day.isoformat())}
    return [issued_bucket(date.fromisoformat(d)) for d in sorted(wanted) if issued_bucket(date.fromisoformat(d))
            not in buckets]


def redemption_report(day: date, group_by: str, buckets: Mapping[str, Bucket]) -> dict[str, Any]:
    """Admissions of a day; for a SKU or a session also how many of its tickets are out (issued,
    less those refunds took back), so that a row reads "120 of 150". The day's own sessions show
    even before anyone came."""
    counts, labels = _split(buckets.get(admissions_bucket(day, group_by), {}))
    rows: dict[str, dict[str, Any]] = {key: {"redeemed": c.get("redeemed", 0), "issued": None}
                                       for key, c in counts.items()}
    if group_by in ("sku", "session"):
        issued: dict[str, int] = {}
        for name, bucket in buckets.items():
            if not name.startswith("issued#"):
                continue
            today = name == issued_bucket(day)
            sku_counts, sku_labels = _split(bucket)
            for sku_id, c in sku_counts.items():
                key = sku_id if group_by == "sku" else str(bucket.get(f"{sku_id}|session", sku_id))
                if group_by == "session" and f"{sku_id}|session" not in bucket:
                    continue                                 # an open-dated ticket has no session
                if key not in rows and not today:
                    continue
                issued[key] = issued.get(key, 0) + c.get("issued", 0)
                label = sku_labels.get(sku_id) if group_by == "sku" else bucket.get(f"{sku_id}|session_label")
                labels.setdefault(key, str(label or key))
        for key, n in issued.items():
            rows.setdefault(key, {"redeemed": 0, "issued": 0})["issued"] = n
        for row in rows.values():
            row["issued"] = row["issued"] or 0
    if group_by == "hour":
        labels = {key: f"{key}:00–{int(key) + 1:02d}:00" for key in rows}
    result = [{"key": key, "label": labels.get(key, key), **row} for key, row in rows.items()]
    result.sort(key=lambda r: r["key"] if group_by in ("hour", "session") else (-r["redeemed"], r["key"]))
    redeemed = int(buckets.get(admissions_bucket(day, "day"), {}).get("redeemed", 0))
    issued_total = sum(r["issued"] for r in result) if group_by in ("sku", "session") else None
    return {"date": day.isoformat(), "group_by": group_by, "totals": {"redeemed": redeemed, "issued": issued_total},
            "rows": result}


# ------------------------------------------------------------------ the dashboard

def dashboard_buckets(today: date) -> list[str]:
    yesterday = today - timedelta(days=1)
    return [sales_bucket(today, "day"), sales_bucket(yesterday, "day"), admissions_bucket(today, "day"),
            admissions_bucket(yesterday, "day"), TODO]


def dashboard(today: date, buckets: Mapping[str, Bucket], reconciliation_differences: int) -> dict[str, Any]:
    def day(d: date) -> dict[str, int]:
        sales = buckets.get(sales_bucket(d, "day"), {})
        orders, gross = int(sales.get("orders", 0)), int(sales.get("gross", 0))
        return {"gmv": gross, "orders": orders, "aov": average(gross, orders),
                "refunded": int(sales.get("refunded", 0)),
                "redeemed": int(buckets.get(admissions_bucket(d, "day"), {}).get("redeemed", 0))}
    todo = buckets.get(TODO, {})
    low_stock = sum(int(n) for name, n in todo.items() if name.startswith("low_stock|")
                    and (name.endswith(OPEN) or name.split("|", 1)[1] >= today.isoformat()))
    return {"today": day(today), "yesterday": day(today - timedelta(days=1)),
            "todo": {"refund_requests": int(todo.get("refund_requests", 0)), "to_ship": int(todo.get("to_ship", 0)),
                     "low_stock": low_stock, "failed_refunds": int(todo.get("failed_refunds", 0)),
                     "reconciliation_differences": reconciliation_differences,
                     "after_sales": int(todo.get("after_sales", 0))}}
