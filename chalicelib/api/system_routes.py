from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..bootstrap import context
from ..domain.errors import InvalidInput
from ..service_layer import auth
from .csv_export import audit_csv
from .http import MAX_LIMIT, Call, endpoint
from .views import views

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/health")
def health(call: Call) -> dict[str, Any]:
    return {"status": "ok"}


@endpoint(bp, "GET", "/openapi.json")
def openapi(call: Call) -> dict[str, Any]:
    from .openapi import document
    return document()


@endpoint(bp, "GET", "/admin/audit")
def audit(call: Call) -> dict[str, Any] | Response:
    format_ = call.query("format")
    if format_ not in (None, "json", "csv"):
        raise InvalidInput("format must be json or csv", field="format")
    shown = views()

    def search(limit: int, cursor: str | None) -> Any:
        return auth.audit_search(context(), call.query("date"), call.query("from"), call.query("to"),
                                 call.query("actor"), call.query("action"), limit, cursor)
    if format_ != "csv":
        page = search(call.limit(), call.cursor())
        return {"items": [shown.audit_entry(e) for e in page.items], "next": page.next}
    entries: list[dict[str, Any]] = []
    cursor = None
    while len(entries) < auth.AUDIT_EXPORT_ROWS:
        page = search(min(MAX_LIMIT, auth.AUDIT_EXPORT_ROWS - len(entries)), cursor)
        entries += [shown.audit_entry(e) for e in page.items]
        cursor = page.next
        if not cursor:
            break
    return audit_csv(entries, f"audit-{context().clock().strftime('%Y%m%d-%H%M%S')}.csv")
