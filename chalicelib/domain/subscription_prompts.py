"""Where a customer is asked for which subscribe messages (订阅消息). WeChat grants one message per
acceptance and only from a tap the customer makes (`wx.requestSubscribeMessage`, at most three
templates a call), so each event's template is asked for at the tap that leads to it: a ticket order's
pay tap asks for its tickets, the day-before reminder and a cancelled session; a goods order's for
pickup and shipping; a refund or after-sales request's for its result."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .notifications import TEMPLATE_FIELDS, Event, FieldKind, Template

MAX_PER_TAP = 3            # templates wx.requestSubscribeMessage takes in one call


class PromptPoint(StrEnum):
    TICKET_ORDER = "ticket_order"
    GOODS_ORDER = "goods_order"
    REFUND = "refund"


PROMPT_POINTS: dict[Event, PromptPoint] = {
    Event.TICKET_ISSUED: PromptPoint.TICKET_ORDER, Event.SESSION_REMINDER: PromptPoint.TICKET_ORDER,
    Event.SESSION_CANCELLED: PromptPoint.TICKET_ORDER, Event.PICKUP_READY: PromptPoint.GOODS_ORDER,
    Event.SHIPPED: PromptPoint.GOODS_ORDER, Event.REFUND_RESULT: PromptPoint.REFUND}
assert all(list(PROMPT_POINTS.values()).count(p) <= MAX_PER_TAP for p in PromptPoint)


@dataclass(frozen=True)
class StageTemplate:
    """An event's template as the stage configured it (an empty id: the event sends nothing), the tap
    it is asked for at, and the fields the template picked in WeChat's console must have."""
    event: Event
    template: Template
    ask_at: PromptPoint
    fields: tuple[tuple[str, FieldKind], ...]

    @property
    def configured(self) -> bool:
        return bool(self.template.template_id)


def stage_template(event: Event, template: Template) -> StageTemplate:
    return StageTemplate(event, template, PROMPT_POINTS[event], TEMPLATE_FIELDS[event])
