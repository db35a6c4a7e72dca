"""WeChat subscribe messages (订阅消息): the events that send one, each event's template fields, and
WeChat's rules for a field's value. A value that breaks its field's rule makes WeChat refuse the
whole message (47003), so every value is cut to its rule here, before it leaves.

The fields' keys (`thing1`, `time2`, ...) are those of the templates a venue picks in the
mini-program's console for each event; a stage names the template ids (config), the keys are ours."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from .model import Kind, Order
from .tickets import Ticket


class Event(StrEnum):
    TICKET_ISSUED = "ticket_issued"
    REFUND_RESULT = "refund_result"
    PICKUP_READY = "pickup_ready"
    SHIPPED = "shipped"
    SESSION_REMINDER = "session_reminder"
    SESSION_CANCELLED = "session_cancelled"


class MessageStatus(StrEnum):
    SENT = "SENT"
    SKIPPED_NO_SUBSCRIPTION = "SKIPPED_NO_SUBSCRIPTION"
    FAILED = "FAILED"


class SendOutcome(StrEnum):
    """What WeChat answered a send."""
    ACCEPTED = "ok"                      # errcode 0: the customer's one-time subscription is used
    NO_SUBSCRIPTION = "43101"            # the customer refused, or has no subscription left
    INVALID_VALUE = "47003"              # a value broke its field's rule
    ERROR = "ERROR"                      # anything else (the caller may try again later)


class FieldKind(StrEnum):
    THING = "thing"
    CHARACTER_STRING = "character_string"
    TIME = "time"
    AMOUNT = "amount"
    PHRASE = "phrase"
    NUMBER = "number"
    DATE = "date"


MAX_ACCEPTED = 10          # template ids in one POST /me/subscriptions (wx.requestSubscribeMessage takes 3)
MAX_TEMPLATE_ID = 64
MAX_CREDITS = 20           # credits of a template a customer may hold: beyond, an acceptance counts no more

# Each event's fields: (key, kind), the key's letters naming its kind as WeChat's keys do.
TEMPLATE_FIELDS: dict[Event, tuple[tuple[str, FieldKind], ...]] = {
    Event.TICKET_ISSUED: (("thing1", FieldKind.THING), ("time2", FieldKind.TIME), ("number3", FieldKind.NUMBER),
                          ("character_string4", FieldKind.CHARACTER_STRING)),
    Event.REFUND_RESULT: (("character_string1", FieldKind.CHARACTER_STRING), ("amount2", FieldKind.AMOUNT),
                          ("phrase3", FieldKind.PHRASE), ("thing4", FieldKind.THING)),
    Event.PICKUP_READY: (("thing1", FieldKind.THING), ("character_string2", FieldKind.CHARACTER_STRING),
                         ("thing3", FieldKind.THING)),
    Event.SHIPPED: (("character_string1", FieldKind.CHARACTER_STRING), ("thing2", FieldKind.THING),
                    ("character_string3", FieldKind.CHARACTER_STRING)),
    Event.SESSION_REMINDER: (("thing1", FieldKind.THING), ("time2", FieldKind.TIME), ("thing3", FieldKind.THING)),
    Event.SESSION_CANCELLED: (("thing1", FieldKind.THING), ("time2", FieldKind.TIME), ("thing3", FieldKind.THING)),
}

_LIMITS = {FieldKind.THING: 20, FieldKind.CHARACTER_STRING: 32, FieldKind.PHRASE: 5, FieldKind.NUMBER: 32}
_NOT_CHARACTER = re.compile(r"[^\x21-\x7e]")          # letters, digits and symbols: printable ASCII, no space
_NOT_DIGIT = re.compile(r"[^0-9]")
_NOT_CHINESE = re.compile(r"[^\u4e00-\u9fff]")
# Seven digits or more (spaces, dashes between them): a phone or ID number typed into free text.
_PERSONAL_NUMBER = re.compile(r"\+?\d(?:[ -]?\d){6,}[Xx]?")


def cut(kind: FieldKind, value: object, timezone: str = "Asia/Shanghai") -> str:
    """The value as its field's rule allows it: cut to length, stripped of what the kind refuses,
    times and dates in the venue's zone as WeChat shows them, amounts in yuan."""
    if kind is FieldKind.TIME and isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    if kind is FieldKind.DATE and isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")
    if kind is FieldKind.AMOUNT and isinstance(value, int) and not isinstance(value, bool):
        return f"{value // 100}.{value % 100:02d}元"        # fen to yuan
    text = " ".join(str(value).split())
    if kind is FieldKind.THING:           # free text (a refund's reason): never a phone or ID number
        text = _PERSONAL_NUMBER.sub("***", text)
    elif kind is FieldKind.CHARACTER_STRING:
        text = _NOT_CHARACTER.sub("", text)
    elif kind is FieldKind.NUMBER:
        text = _NOT_DIGIT.sub("", text)
    elif kind is FieldKind.PHRASE:
        text = _NOT_CHINESE.sub("", text)
    limit = _LIMITS.get(kind)
    if limit is not None and len(text) > limit:
        text = text[:limit - 1] + "…" if kind is FieldKind.THING else text[:limit]
    return text


def template_data(event: Event, values: dict[str, object], timezone: str = "Asia/Shanghai") -> dict[str, dict[str, str]]:
    """The `data` of a send: every field of the event's template, each value cut to its rule
    (a value not given is sent as "-", since WeChat refuses an empty field)."""
    return {key: {"value": cut(kind, values.get(key, "-"), timezone) or "-"}
            for key, kind in TEMPLATE_FIELDS[event]}


@dataclass(frozen=True)
class Template:
    """A stage's template of an event and the mini-program page its message opens."""
    template_id: str
    page: str


@dataclass(frozen=True)
class SubscribeMessage:
    touser: str
    template_id: str
    page: str
    data: dict[str, dict[str, str]]


@dataclass(frozen=True)
class SentMessage:
    """What became of an order's message of an event (one a key: `ticket_issued`, or a resend's)."""
    order_id: str
    key: str
    event: Event
    template_id: str
    status: MessageStatus | None          # None: claimed, its send not finished
    at: datetime
    error: str | None = None


def status_after(outcome: SendOutcome) -> MessageStatus:
    if outcome is SendOutcome.ACCEPTED:
        return MessageStatus.SENT
    if outcome is SendOutcome.NO_SUBSCRIPTION:
        return MessageStatus.SKIPPED_NO_SUBSCRIPTION
    return MessageStatus.FAILED


def page_for(template: Template, order_id: str) -> str:
    """The page with the order named: `{order_id}` in the configured path, else `?order_id=`."""
    if "{order_id}" in template.page:
        return template.page.replace("{order_id}", order_id)
    return f"{template.page}{'&' if '?' in template.page else '?'}order_id={order_id}" if template.page else ""


def ticket_issued_values(order: Order) -> dict[str, object]:
    """What, when, how many: the order's first ticket line names it; the page opens the tickets."""
    lines = [line for line in order.lines if line.kind is Kind.TICKET] or order.lines
    first = lines[0] if lines else None
    when = first.session.start if first is not None and first.session else first.valid_from if first else None
    what = f"{first.product_name} {first.sku_name}".strip() if first is not None else "-"
    count = order.tickets_total or sum(line.quantity for line in lines)
    return {"thing1": what + (f" 等{len(lines)}项" if len(lines) > 1 else ""), "time2": when or "-",
            "number3": count, "character_string4": order.order_id}


_REFUND_PHRASES = {"SUCCEEDED": "退款成功", "FAILED": "退款失败", "REJECTED": "退款驳回"}


def _goods(order: Order, kind: Kind) -> str:
    lines = [line for line in order.lines if line.kind is kind] or order.lines
    name = f"{lines[0].product_name} {lines[0].sku_name}".strip() if lines else "-"
    return name + (f" 等{len(lines)}项" if len(lines) > 1 else "")


def pickup_ready_values(order: Order) -> dict[str, object]:
    return {"thing1": _goods(order, Kind.MERCH), "character_string2": order.order_id, "thing3": "凭自提码到店领取"}


def shipped_values(order: Order) -> dict[str, object]:
    shipment = order.shipment or {}
    return {"character_string1": order.order_id, "thing2": shipment.get("carrier") or "-",
            "character_string3": shipment.get("tracking_no") or "-"}


def refund_result_values(order: Order, status: str, amount: int, reason: str) -> dict[str, object]:
    """A refund's end: succeeded, failed or rejected (`status`), for `amount` fen."""
    return {"character_string1": order.order_id, "amount2": amount, "phrase3": _REFUND_PHRASES.get(status, "-"),
            "thing4": reason or "-"}


def session_cancelled_values(order: Order, sku_id: str, reason: str) -> dict[str, object]:
    line = next((line for line in order.lines if line.sku_id == sku_id), None)
    when = line.session.start if line is not None and line.session else "-"
    what = f"{line.product_name} {line.sku_name}".strip() if line is not None else _goods(order, Kind.TICKET)
    return {"thing1": what, "time2": when, "thing3": reason or "场次取消，已全额退款"}


def message_key(event: Event, *subject: str) -> str:
    """An order's message of an event is keyed by what it is about: `refund_result#<refund>#<status>`,
    `session_cancelled#<sku>`, or the event alone (one of it per order)."""
    return "#".join((event.value, *subject))


def subject_of(key: str) -> list[str]:
    return key.split("#")[1:]


REMINDER_HOUR = 10           # venue time: from then, the sessions of the next day are reminded of
REMINDER_SHARDS = 8          # a day's reminders spread over this many keys


def session_day(start: datetime, timezone: str) -> str:
    return start.astimezone(ZoneInfo(timezone)).date().isoformat()


def reminder_day_due(now: datetime, timezone: str, hour: int = REMINDER_HOUR) -> str | None:
    """The venue day whose sessions are reminded of now: tomorrow's, once today's `hour` has come."""
    local = now.astimezone(ZoneInfo(timezone))
    return (local.date() + timedelta(days=1)).isoformat() if local.hour >= hour else None


def sessions_by_day(order: Order, timezone: str) -> dict[str, list[str]]:
    """The order's ticket sessions by their venue day: what the day before's reminder is about."""
    days: dict[str, list[str]] = {}
    for line in order.lines:
        if line.kind is Kind.TICKET and line.session is not None:
            days.setdefault(session_day(line.session.start, timezone), []).append(line.sku_id)
    return days


def session_reminder_values(order: Order, ticket: Ticket | None) -> dict[str, object]:
    """Of the ticket that admits (moved to another session, it is the new session's)."""
    when = ticket.session.start if ticket is not None and ticket.session else "-"
    what = f"{ticket.product_name} {ticket.sku_name}".strip() if ticket is not None else _goods(order, Kind.TICKET)
    return {"thing1": what, "time2": when, "thing3": "明日入园，请凭电子票按时到达"}
