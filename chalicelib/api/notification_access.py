"""The routing table's rules of API.md's Notifications (订阅消息), merged into api.access."""
from __future__ import annotations

from .access_rule import ANYONE, BACK_OFFICE, CUSTOMER, Rule, who as _who

NOTIFICATION_ROUTES: dict[tuple[str, str], Rule] = {
    ("POST", "/me/subscriptions"): Rule(
        _who(CUSTOMER), "The template ids wx.requestSubscribeMessage reported accepted: one credit each (one "
        "message each, WeChat's one-time subscriptions); answers the credits of those templates now",
        request="Subscriptions", response="SubscriptionCredits", tags=("notifications",)),
    ("GET", "/admin/orders/{order_id}/messages"): Rule(
        _who("support", "admin"), "Every subscribe message of the order: SENT, SKIPPED_NO_SUBSCRIPTION (no "
        "credit, or WeChat answered 43101) or FAILED (with WeChat's error)", response="OrderMessages",
        errors=("ORDER_NOT_FOUND",), tags=("notifications", "orders")),
    ("POST", "/admin/orders/{order_id}/resend-tickets"): Rule(
        _who("support", "admin"), "Send the tickets message again (queued: 202); 409 NO_SUBSCRIPTION while the "
        "customer has no credit for it; audited", response="ResendAccepted", status=202,
        errors=("ORDER_NOT_FOUND", "INVALID_STATE", "NO_SUBSCRIPTION"), tags=("notifications", "orders")),
    ("GET", "/notifications/templates"): Rule(
        _who(ANYONE), "The stage's subscribe-message templates to ask for, each at its tap (ask_at: ticket_order, "
        "goods_order or refund; at most three a tap, as wx.requestSubscribeMessage takes)",
        response="TemplatesToAsk", tags=("notifications",)),
    ("GET", "/admin/notifications/templates"): Rule(
        BACK_OFFICE, "Every event's template as the stage configured it (configured: false sends "
        "nothing), the page its message opens, the tap it is asked at and the fields its template must have",
        response="StageTemplates", tags=("notifications",)),
    ("GET", "/dev/wechat/messages"): Rule(
        _who(ANYONE), "Local sandbox: the subscribe messages WeChat accepted", response="SandboxMessages",
        local_only=True, tags=("local sandbox",)),
    ("POST", "/dev/wechat/messages/outcomes"): Rule(
        _who(ANYONE), "Local sandbox: how it answers the next sends, in order (then ok)",
        request="SandboxMessageOutcomes", response="SandboxMessageOutcomes", local_only=True,
        tags=("local sandbox",)),
}
