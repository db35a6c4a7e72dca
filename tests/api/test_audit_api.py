"""The audit log searched by actor, action and time range, page by page across days, and exported."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib import bootstrap

from .conftest import Api


def iso(at: datetime) -> str:
    return quote(at.isoformat(timespec="seconds"))


@pytest.fixture
def history(admin: Api, staff) -> datetime:  # type: ignore[no-untyped-def]
    """Staff changes by two admins today, and one of them three days ago."""
    other = staff("admin", username="deputy")
    admin.post("/admin/staff", {"username": "clerk1", "password": "a-long-password", "roles": ["scanner"]})
    other.post("/admin/staff", {"username": "clerk2", "password": "a-long-password", "roles": ["finance"]})
    admin.post("/admin/staff", {"username": "clerk3", "password": "a-long-password", "roles": ["support"]})
    earlier = datetime.now(timezone.utc) - timedelta(days=3)
    bootstrap.context().audit.record("boss", "product_imported", earlier, target="catalog.csv")
    return earlier


def test_search_by_actor_and_action(history: datetime, staff) -> None:  # type: ignore[no-untyped-def]
    auditor = staff("auditor")
    mine = auditor.get("/admin/audit?actor=boss").json_body["items"]
    assert [e["target"] for e in mine] == ["clerk3", "clerk1"]                 # today only, newest first
    created = auditor.get("/admin/audit?action=staff_created").json_body["items"]
    assert {e["actor"] for e in created} == {"boss", "deputy"} and len(created) == 3
    assert auditor.get("/admin/audit?actor=boss&action=product_imported").json_body["items"] == []


def test_a_time_range_spans_days_and_pages_through_them(history: datetime, staff) -> None:  # type: ignore[no-untyped-def]
    auditor = staff("auditor")
    start, end = history - timedelta(hours=1), datetime.now(timezone.utc) + timedelta(minutes=1)
    seen, cursor = [], None
    for _ in range(10):
        page = auditor.get(f"/admin/audit?from={iso(start)}&to={iso(end)}&limit=1"
                           + (f"&cursor={cursor}" if cursor else "")).json_body
        seen += [(e["actor"], e["action"], e["target"]) for e in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == [("boss", "staff_created", "clerk3"), ("deputy", "staff_created", "clerk2"),
                    ("boss", "staff_created", "clerk1"), ("boss", "product_imported", "catalog.csv")]
    narrow = auditor.get(f"/admin/audit?from={iso(history - timedelta(hours=1))}&to={iso(history + timedelta(hours=1))}")
    assert [e["action"] for e in narrow.json_body["items"]] == ["product_imported"]


@pytest.mark.parametrize("query", ["from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z",     # more than 31 days
                                   "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",     # backwards
                                   "from=yesterday", "format=pdf", "cursor=bm9wZQ"])
def test_bad_searches_are_400(staff, query: str) -> None:  # type: ignore[no-untyped-def]
    assert staff("auditor").get(f"/admin/audit?{query}").status_code == 400


def test_the_export_holds_every_match_as_excel_reads_it(history: datetime, staff) -> None:  # type: ignore[no-untyped-def]
    r = staff("admin").get(f"/admin/audit?from={iso(history - timedelta(hours=1))}&format=csv")
    raw = r.body if isinstance(r.body, bytes) else r.body.encode()
    assert r.headers["Content-Type"].startswith("text/csv") and raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["时间", "操作人", "操作", "对象", "来源IP", "详情"]
    assert [row[3] for row in rows[1:]] == ["clerk3", "clerk2", "clerk1", "catalog.csv"]
    assert staff("finance").get("/admin/audit?format=csv").status_code == 403


def test_a_cursor_of_another_shape_or_search_is_400(staff) -> None:  # type: ignore[no-untyped-def]
    import base64
    import json

    def cursor(key: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    for key in ({"day": {"N": "1"}, "entry_id": {"S": ""}},                       # a number where a day was
                {"day": {"S": today}, "entry_id": {"S": "2001-01-01T00:00:00.000000Z#x"}}):   # before `from`
        r = staff("auditor").get(f"/admin/audit?from={iso(start)}&cursor={cursor(key)}")
        assert r.status_code == 400 and r.json_body["code"] == "INVALID_CURSOR", (key, r.json_body)
    for query in ("limit=%C2%B2", "limit=%D9%A3"):                                   # '²', Arabic-Indic 3
        assert staff("auditor").get(f"/admin/audit?{query}").status_code == 400
