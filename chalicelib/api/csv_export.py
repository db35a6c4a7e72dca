"""CSV downloads for staff: UTF-8 with a byte-order mark and Chinese column names, so that Excel
on a venue's office PC opens them right; money in yuan with two decimals."""
from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Iterable

from chalice import Response


def yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def cell(value: Any) -> Any:
    """Text that Excel would run as a formula (a product named "=HYPERLINK(...)", an actor's
    name) is shown as text: a leading apostrophe, as OWASP advises. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_response(filename: str, header: list[str], rows: Iterable[list[Any]]) -> Response:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return Response(body=out.getvalue(), status_code=200,
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{filename}"'})


SALES_KEY = {"day": "日期", "hour": "时段", "product": "商品编号", "sku": "规格编号", "category": "分类"}


def sales_csv(report: dict[str, Any]) -> Response:
    """The discount is the last column: the columns exported before it keep their places (a
    venue's spreadsheets read them by position)."""
    header = [SALES_KEY[report["group_by"]], "名称", "订单数", "件数", "销售额(元)", "退款(元)", "净额(元)", "客单价(元)",
              "优惠(元)"]
    rows = [[r["key"], r["label"], r["orders"], r["units"], yuan(r["gross"]), yuan(r["refunded"]), yuan(r["net"]),
             yuan(r["aov"]), yuan(r["discount"])] for r in report["rows"]]
    t = report["totals"]
    rows.append(["合计", f"{report['from']} 至 {report['to']}", t["orders"], t["units"], yuan(t["gross"]),
                 yuan(t["refunded"]), yuan(t["net"]), yuan(t["aov"]), yuan(t["discount"])])
    return csv_response(f"sales-{report['from']}-{report['to']}-{report['group_by']}.csv", header, rows)


ADMISSION_KEY = {"hour": "时段", "gate": "闸口", "sku": "规格编号", "session": "场次"}


def redemptions_csv(report: dict[str, Any]) -> Response:
    header = [ADMISSION_KEY[report["group_by"]], "名称", "已核销", "已售出"]
    rows = [[r["key"], r["label"], r["redeemed"], "" if r["issued"] is None else r["issued"]] for r in report["rows"]]
    rows.append(["合计", report["date"], report["totals"]["redeemed"],
                 "" if report["totals"]["issued"] is None else report["totals"]["issued"]])
    return csv_response(f"redemptions-{report['date']}-{report['group_by']}.csv", header, rows)


def audit_csv(entries: list[dict[str, Any]], name: str) -> Response:
    header = ["时间", "操作人", "操作", "对象", "来源IP", "详情"]
    rows = [[e["at"], e["actor"], e["action"], e["target"] or "", e["source_ip"] or "",
             json.dumps(e["details"], ensure_ascii=False) if e["details"] else ""] for e in entries]
    return csv_response(name, header, rows)
