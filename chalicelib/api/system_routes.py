from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.errors import InvalidInput
from .http import Call, endpoint
from .views import Views

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/health")
def health(call: Call) -> dict[str, Any]:
    return {"status": "ok"}


@endpoint(bp, "GET", "/openapi.json")
def openapi(call: Call) -> dict[str, Any]:
    from .openapi import document
    return document()


@endpoint(bp, "GET", "/admin/audit")
def audit(call: Call) -> dict[str, Any]:
    ctx = context()
    day = call.query("date") or ctx.clock().strftime("%Y-%m-%d")
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise InvalidInput("date must be YYYY-MM-DD (UTC)", field="date") from None
    page = ctx.audit.page(day, call.limit(), call.cursor())
    views = Views(ctx.venue_timezone)
    return {"items": [{**e, "at": views.time(e["at"])} for e in page.items], "next": page.next}
