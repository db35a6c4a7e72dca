"""The request bodies and query parameters of after-sales (售后), beside the others of
openapi_schemas: one module per area keeps both short; and the after-sales report's answer."""
from __future__ import annotations

from ..domain.after_sale_figures import REASON_LABELS
from ..domain.after_sales import (MAX_AFTER_SALE_LINES, MAX_DESCRIPTION, MAX_NOTE, MAX_REASON, REASONS,
                                  AfterSaleStatus, AfterSaleType)
from .openapi_schemas import BOOL, FEN, INT, QUERY, SKU_ID_SCHEMA, STR, Schema, array, body, integer, maybe, obj, text

_TYPES = [t.value for t in AfterSaleType]
QUERY.update({"after_sale_status": {"enum": [s.value for s in AfterSaleStatus], "description": "default REQUESTED"},
              "after_sale_type": {"enum": _TYPES}})


def _closed(schema: Schema) -> Schema:
    return {**schema, "additionalProperties": False}


AFTER_SALE_REQUESTS: dict[str, Schema] = {
    "AfterSaleRequest": {**_closed(body(
        ["type", "lines", "reason"], type={"enum": _TYPES},
        lines=array(_closed(obj(["sku_id", "quantity"], sku_id=SKU_ID_SCHEMA, quantity=integer(1, 999))),
                    max_items=MAX_AFTER_SALE_LINES, min_items=1),
        reason={"enum": list(REASONS)}, description=text(MAX_DESCRIPTION),
        exchange_sku_id={**SKU_ID_SCHEMA, "description": "exchange only: another spec of the same product at the "
                                                         "same price"})),
        # An exchange names its replacement and is of one line; a return names none.
        "if": {"properties": {"type": {"const": "exchange"}}, "required": ["type"]},
        "then": {"required": ["exchange_sku_id"], "properties": {"exchange_sku_id": SKU_ID_SCHEMA,
                                                                 "lines": {"maxItems": 1}}},
        "else": {"properties": {"exchange_sku_id": {"type": "null"}}}},
    "AfterSaleReturn": {"oneOf": [_closed(obj(["carrier", "tracking_no"], carrier=text(50), tracking_no=text(50))),
                                  _closed(obj(["at_counter"], at_counter={"const": True}))]},
    "AfterSaleReject": _closed(obj(["reason"], reason=text(MAX_REASON))),
    "AfterSaleReceive": _closed(body(["restock"], restock=BOOL, note=text(MAX_NOTE))),
    "AfterSaleShip": {"oneOf": [_closed(obj(["carrier", "tracking_no"], carrier=text(50), tracking_no=text(50))),
                                _closed(obj(["pickup"], pickup={"const": True}))]},
}

AFTER_SALE_ANSWERS: dict[str, Schema] = {
    "AfterSalesReport": obj(
        ["from", "to", "totals", "rows"], **{"from": STR}, to=STR,
        totals=obj(["requests", "returns", "exchanges", "refund_rate", "hours_to_resolve"],
                   requests={**INT, "description": "after-sales asked between from and to"}, returns=INT,
                   exchanges=INT,
                   refund_rate=maybe({"type": "number", "minimum": 0, "maximum": 1,
                                      "description": "of the orders paid between from and to, the share with a "
                                      "refund that succeeded (whenever); 4 decimals; null when none was paid"}),
                   hours_to_resolve=maybe({"type": "number", "minimum": 0,
                                           "description": "mean hours from asking to the end (COMPLETED, REJECTED "
                                           "or CANCELLED) of the after-sales that ended between from and to; one "
                                           "decimal; null when none ended"})),
        rows=array(obj(["key", "label", "requests", "returns", "exchanges", "refunded"],
                       key={"enum": list(REASONS)}, label={"enum": list(REASON_LABELS.values())}, requests=INT,
                       returns=INT, exchanges=INT,
                       refunded={**FEN, "description": "what returns of this reason that completed between from "
                                 "and to refunded"}))),
}
