"""The request bodies of changes after ordering (改单, 改签, a ticket's visitor, a session's
cancellation), beside the others of openapi_schemas: one module per area keeps both short."""
from __future__ import annotations

from ..domain.commands import MAX_LINE_QUANTITY, MAX_ORDER_LINES
from ..domain.identifiers import USER_COUPON_ID
from ..domain.personal_data import ID_NUMBER_PATTERN
from ..domain.session_cancellation import MAX_REASON
from .openapi_schemas import SKU_ID_SCHEMA, Schema, array, body, integer, obj, text

CHANGE_REQUESTS: dict[str, Schema] = {
    "ChangeOrder": {**body(
        [], items=array(obj(["sku_id", "quantity"], sku_id=SKU_ID_SCHEMA, quantity=integer(1, MAX_LINE_QUANTITY)),
                        max_items=MAX_ORDER_LINES, min_items=1),
        visitors=array(body(["name", "id_number"], name=text(50), id_type={"enum": ["id_card", "passport"]},
                            id_number={"type": "string", "pattern": ID_NUMBER_PATTERN,
                                       "examples": ["11010519491231002X"]}),
                       max_items=MAX_ORDER_LINES * MAX_LINE_QUANTITY),
        coupon_id={"type": "string", "pattern": USER_COUPON_ID.pattern,
                   "description": "a user coupon of yours; null takes the order's coupon off"},
        contact={"not": {}, "description": "cannot change: 422 NOT_CHANGEABLE"},
        fulfillment={"not": {}, "description": "cannot change: 422 NOT_CHANGEABLE"},
        address={"not": {}, "description": "cannot change: 422 NOT_CHANGEABLE"}),
        "additionalProperties": False, "minProperties": 1,
        "description": "what to change, each as in PlaceOrder: items (the order's new lines, all of them), visitors "
                       "(all of them, in the order of the lines) and coupon_id; what is not named stays"},
    "TicketReschedule": {**obj(["sku_id"], sku_id={**text(64), "description": "another session (SKU) of the "
                                                   "ticket's product at the same price"}),
                         "additionalProperties": False},
    "TicketVisitorChange": {**obj(["visitor"], visitor={**body(
        ["name", "id_number"], name=text(50), id_type={"enum": ["id_card", "passport"], "description": "default "
                                                       "id_card"},
        id_number={"type": "string", "pattern": ID_NUMBER_PATTERN, "description": "a resident ID (check digit "
                   "checked) or a passport number; encrypted at rest, shown masked"}), "additionalProperties": False}),
        "additionalProperties": False},
    "SessionCancel": obj(["reason"], reason={**text(MAX_REASON), "description": "what customers read (台风停园...)"}),
}
