"""The request bodies and query parameters of after-sales (售后), beside the others of
openapi_schemas: one module per area keeps both short."""
from __future__ import annotations

from ..domain.after_sales import (MAX_AFTER_SALE_LINES, MAX_DESCRIPTION, MAX_NOTE, MAX_REASON, REASONS,
                                  AfterSaleStatus, AfterSaleType)
from .openapi_schemas import BOOL, QUERY, SKU_ID_SCHEMA, Schema, array, body, integer, obj, text

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
