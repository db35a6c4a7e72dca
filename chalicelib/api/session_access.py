"""The routing table's rules of API.md's session cancellation (场次取消), merged into api.access."""
from __future__ import annotations

from .access_rule import Rule, who as _who

SESSION_ROUTES: dict[tuple[str, str], Rule] = {
    ("POST", "/admin/sessions/{sku_id}/cancel"): Rule(
        _who("admin"), "Cancel a session (weather, closure): sales stop at once; unpaid orders holding it are "
        "cancelled (their trades closed), every unused paid ticket of it is refunded in full with no review, and "
        "each order's customer is noticed, in steps by the back-office worker. Answers the cancellation as it "
        "stands: `tickets` the units orders held when sales stopped, `orders` the orders settled so far. Asked "
        "again, it answers the same cancellation and changes nothing; audited",
        request="SessionCancel", response="SessionCancelAccepted", status=202,
        errors=("SKU_NOT_FOUND", "INVALID_STATE", "TRY_AGAIN"), tags=("inventory", "refunds")),
    ("GET", "/admin/sessions/{sku_id}/cancellation"): Rule(
        _who("admin", "finance", "support"), "A session cancellation's progress: RUNNING until every order "
        "holding the session was settled, then DONE; its refunds counted as they are now",
        response="SessionCancellation", errors=("SESSION_NOT_CANCELLED",), tags=("inventory", "refunds")),
}
