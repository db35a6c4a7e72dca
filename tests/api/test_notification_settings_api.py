"""Which subscribe messages the stage has configured: the mini-program (and the shop) learn which
templates to ask for at which tap, staff see every event's template, page and fields."""
from __future__ import annotations

import pytest


def test_customers_learn_the_templates_to_ask_for_at_each_tap(anonymous) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.get("/notifications/templates")
    assert r.status_code == 200
    asked = {i["event"]: (i["template_id"], i["ask_at"]) for i in r.json_body["items"]}
    assert asked == {"ticket_issued": ("local-ticket_issued", "ticket_order"),
                     "session_reminder": ("local-session_reminder", "ticket_order"),
                     "session_cancelled": ("local-session_cancelled", "ticket_order"),
                     "pickup_ready": ("local-pickup_ready", "goods_order"), "shipped": ("local-shipped", "goods_order"),
                     "refund_result": ("local-refund_result", "refund")}


def test_staff_see_each_events_template_as_the_stage_configured_it(staff, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WECHAT_TEMPLATE_SHIPPED", "Xq2sh1pped-template-from-wechat")
    r = staff("support").get("/admin/notifications/templates")
    assert r.status_code == 200
    assert r.json_body["miniprogram_state"] == "developer"
    shown = {i["event"]: i for i in r.json_body["items"]}
    assert list(shown) == ["ticket_issued", "refund_result", "pickup_ready", "shipped", "session_reminder",
                           "session_cancelled"]
    assert shown["shipped"] == {
        "event": "shipped", "template_id": "Xq2sh1pped-template-from-wechat", "configured": True,
        "page": "pages/orders/detail?order_id={order_id}", "ask_at": "goods_order",
        "fields": [{"key": "character_string1", "kind": "character_string"}, {"key": "thing2", "kind": "thing"},
                   {"key": "character_string3", "kind": "character_string"}]}
    assert shown["ticket_issued"]["page"] == "pages/tickets/index?order_id={order_id}"


@pytest.mark.parametrize("role,status", [("scanner", 403), ("auditor", 200), ("merchandiser", 200)])
def test_the_settings_are_for_the_back_office(staff, role: str, status: int) -> None:  # type: ignore[no-untyped-def]
    assert staff(role).get("/admin/notifications/templates").status_code == status


def test_customers_cannot_read_the_staff_settings(customer) -> None:  # type: ignore[no-untyped-def]
    assert customer().get("/admin/notifications/templates").status_code == 403
