"""WeChat's field rules: every value of a subscribe message is cut to its field's rule."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.domain.notifications import (TEMPLATE_FIELDS, Event, FieldKind, MessageStatus, SendOutcome,
                                             Template, cut, page_for, status_after, template_data)


def test_thing_is_at_most_20_characters() -> None:
    long = "故宫博物院珍宝馆特展夜场门票含讲解服务与纪念品一份"
    assert len(cut(FieldKind.THING, long)) == 20 and cut(FieldKind.THING, long).endswith("…")
    assert cut(FieldKind.THING, "短") == "短"


def test_character_string_keeps_32_letters_digits_and_symbols() -> None:
    assert cut(FieldKind.CHARACTER_STRING, "订单 O-2026_12 04") == "O-2026_1204"
    assert len(cut(FieldKind.CHARACTER_STRING, "A" * 40)) == 32


def test_phrase_is_at_most_five_chinese_characters_and_number_digits_only() -> None:
    assert cut(FieldKind.PHRASE, "退款成功了吗啊") == "退款成功了"
    assert cut(FieldKind.PHRASE, "ok退款") == "退款"
    assert cut(FieldKind.NUMBER, "3 张") == "3" and len(cut(FieldKind.NUMBER, "9" * 40)) == 32


def test_time_and_date_in_the_venue_zone_and_amounts_in_yuan() -> None:
    at = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)
    assert cut(FieldKind.TIME, at) == "2026-12-04 10:00"
    assert cut(FieldKind.DATE, at) == "2026-12-04"
    assert cut(FieldKind.AMOUNT, 6800) == "68.00元" and cut(FieldKind.AMOUNT, 5) == "0.05元"


def test_template_data_fills_every_field_of_the_event() -> None:
    for event in Event:
        assert set(template_data(event, {})) == {k for k, _ in TEMPLATE_FIELDS[event]}
    data = template_data(Event.TICKET_ISSUED, {"thing1": "x" * 30, "number3": 2})
    assert data["number3"] == {"value": "2"} and len(data["thing1"]["value"]) == 20
    assert data["time2"] == {"value": "-"}


def test_outcomes_and_pages() -> None:
    assert status_after(SendOutcome.ACCEPTED) is MessageStatus.SENT
    assert status_after(SendOutcome.NO_SUBSCRIPTION) is MessageStatus.SKIPPED_NO_SUBSCRIPTION
    assert status_after(SendOutcome.INVALID_VALUE) is MessageStatus.FAILED
    assert page_for(Template("t", "pages/order/index?order_id={order_id}"), "O1") == "pages/order/index?order_id=O1"
    assert page_for(Template("t", "pages/tickets/index"), "O1") == "pages/tickets/index?order_id=O1"


def test_tomorrows_sessions_are_due_from_ten_venue_time() -> None:
    from chalicelib.domain.notifications import reminder_day_due, session_day
    assert reminder_day_due(datetime(2026, 12, 4, 1, 59, tzinfo=timezone.utc), "Asia/Shanghai") is None   # 09:59
    assert reminder_day_due(datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc), "Asia/Shanghai") == "2026-12-05"
    assert reminder_day_due(datetime(2026, 12, 4, 15, 59, tzinfo=timezone.utc), "Asia/Shanghai") == "2026-12-05"
    assert reminder_day_due(datetime(2026, 12, 4, 16, 30, tzinfo=timezone.utc), "Asia/Shanghai") is None  # 00:30
    assert session_day(datetime(2026, 12, 4, 16, 30, tzinfo=timezone.utc), "Asia/Shanghai") == "2026-12-05"


def test_message_keys_name_what_they_are_about() -> None:
    from chalicelib.domain.notifications import message_key, subject_of
    assert message_key(Event.TICKET_ISSUED) == "ticket_issued"
    key = message_key(Event.REFUND_RESULT, "R1", "SUCCEEDED")
    assert key == "refund_result#R1#SUCCEEDED" and subject_of(key) == ["R1", "SUCCEEDED"]
