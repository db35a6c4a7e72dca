from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..service_layer import auth
from .http import Call, endpoint
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
def audit(call: Call) -> dict[str, Any]:
    page = auth.audit_page(context(), call.query("date"), call.limit(), call.cursor())
    shown = views()
    return {"items": [shown.audit_entry(e) for e in page.items], "next": page.next}
