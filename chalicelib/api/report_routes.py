"""The manager's pages: dashboard, sales and admissions reports (JSON or CSV), promotions,
after-sales, reconciliation."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chalice import Blueprint, Response

from ..bootstrap import context
from ..domain.errors import InvalidInput
from ..domain.reconciliation import Reconciliation
from ..domain.timeutil import parse_date
from ..service_layer import reconciling, reports
from .csv_export import redemptions_csv, sales_csv
from .http import Call, endpoint
from .views import views

bp = Blueprint(__name__)
MAX_TOP = 1000


def _date(call: Call, name: str) -> date | None:
    value = call.query(name)
    return parse_date(value, name) if value is not None else None


def _wants_csv(call: Call) -> bool:
    value = call.query("format")
    if value not in (None, "json", "csv"):
        raise InvalidInput("format must be json or csv", field="format")
    return value == "csv"


@endpoint(bp, "GET", "/admin/dashboard")
def dashboard(call: Call) -> dict[str, Any]:
    return reports.dashboard(context())


@endpoint(bp, "GET", "/admin/reports/sales")
def sales(call: Call) -> dict[str, Any] | Response:
    report = reports.sales_report(context(), _date(call, "from"), _date(call, "to"), call.query("group_by") or "day",
                                  call.whole("top", MAX_TOP))
    return sales_csv(report) if _wants_csv(call) else report


@endpoint(bp, "GET", "/admin/reports/promotions")
def promotions(call: Call) -> dict[str, Any]:
    return reports.promotions_report(context(), _date(call, "from"), _date(call, "to"))


@endpoint(bp, "GET", "/admin/reports/after-sales")
def after_sales(call: Call) -> dict[str, Any]:
    return reports.after_sales_report(context(), _date(call, "from"), _date(call, "to"))


@endpoint(bp, "GET", "/admin/reports/redemptions")
def redemptions(call: Call) -> dict[str, Any] | Response:
    report = reports.redemption_report(context(), _date(call, "date"), call.query("group_by") or "hour")
    return redemptions_csv(report) if _wants_csv(call) else report


def _reconciliation(result: Reconciliation) -> dict[str, Any]:
    return {"date": result.day, "status": result.status,
            "checked_at": views().time(result.checked_at) if result.checked_at else None,
            "bill": result.bill or None, "differences": [d.as_dict() for d in result.differences],
            "differences_total": result.differences_total,
            "failure": {"code": result.failure, "at": views().time(result.failed_at)}
            if result.failure and result.failed_at else None}


@endpoint(bp, "GET", "/admin/reconciliation")
def reconciliation(call: Call) -> dict[str, Any]:
    day = _date(call, "date") or reports.today(context()) - timedelta(days=1)
    return _reconciliation(reconciling.reconciliation_of(context(), day))


@endpoint(bp, "POST", "/admin/reconciliation/{date}/run")
def run_reconciliation(call: Call, date: str) -> dict[str, Any]:  # noqa: A002 (the path's own name)
    return _reconciliation(reconciling.run_reconciliation(context(), parse_date(date, "date"), call.actor))
