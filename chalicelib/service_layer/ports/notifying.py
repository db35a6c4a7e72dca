"""What the notifications need: WeChat's subscribe-message API, and the store of subscription
credits and of each order's messages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ...domain.notifications import Event, MessageStatus, SendOutcome, SentMessage, SubscribeMessage


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    error: str | None = None          # WeChat's errcode and errmsg, when it refused


class Messenger(Protocol):
    def send(self, message: SubscribeMessage) -> SendResult: ...


class NotificationStore(Protocol):
    def add_credits(self, user_id: str, openid: str, template_ids: list[str]) -> dict[str, int]:
        """One credit per acceptance (a template named twice was accepted twice), at most
        MAX_CREDITS of a template however the calls interleave, kept with the openid the messages
        go to; the counts after."""
    def credit(self, user_id: str, template_id: str) -> tuple[int, str | None]:
        """(credits left, the customer's openid)."""
    def spend_credit(self, user_id: str, template_id: str) -> bool:
        """One credit less, if one is left (conditional); False when none was."""
    def drop_credits(self, user_id: str, template_id: str) -> None:
        """WeChat says the customer has no subscription (43101): none is left, whatever we counted."""
    def claim_message(self, order_id: str, key: str, event: Event, template_id: str, at: datetime) -> bool:
        """Records that the order's message `key` is being sent, unless it was already (False)."""
    def finish_message(self, order_id: str, key: str, status: MessageStatus, at: datetime,
                       error: str | None = None) -> None: ...
    def messages_of(self, order_id: str) -> list[SentMessage]: ...
    def add_reminders(self, day: str, order_id: str, sku_ids: list[str]) -> None:
        """The order's sessions of that venue day, to be reminded of the day before (idempotent)."""
    def reminders_of(self, day: str) -> list[tuple[str, str]]:
        """(order_id, sku_id) of every session of that day to remind of."""
    def reminded(self, day: str) -> bool: ...
    def mark_reminded(self, day: str, at: datetime) -> None: ...
    def start_reminding(self, day: str, at: datetime) -> None:
        """The day's run has begun reading its reminders: one kept from now on is announced at once."""
    def reminding_started(self, day: str) -> bool: ...
