"""Subscription credits and messages in memory, and a scriptable WeChat subscribe-message API."""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.notifications import MAX_CREDITS, Event, MessageStatus, SendOutcome, SentMessage, SubscribeMessage
from chalicelib.service_layer.ports import SendResult


class FakeNotificationStore:
    def __init__(self) -> None:
        self._credits: dict[tuple[str, str], int] = {}
        self._openids: dict[str, str] = {}
        self._messages: dict[str, dict[str, SentMessage]] = {}
        self._reminders: dict[str, set[tuple[str, str]]] = {}
        self._reminded: set[str] = set()
        self._reminding: set[str] = set()

    def add_credits(self, user_id: str, openid: str, template_ids: list[str]) -> dict[str, int]:
        self._openids[user_id] = openid
        for template_id, n in Counter(template_ids).items():
            self._credits[user_id, template_id] = min(self._credits.get((user_id, template_id), 0) + n, MAX_CREDITS)
        return {t: self._credits[user_id, t] for t in set(template_ids)}

    def credit(self, user_id: str, template_id: str) -> tuple[int, str | None]:
        return self._credits.get((user_id, template_id), 0), self._openids.get(user_id)

    def spend_credit(self, user_id: str, template_id: str) -> bool:
        if self._credits.get((user_id, template_id), 0) <= 0:
            return False
        self._credits[user_id, template_id] -= 1
        return True

    def drop_credits(self, user_id: str, template_id: str) -> None:
        self._credits[user_id, template_id] = 0

    def claim_message(self, order_id: str, key: str, event: Event, template_id: str, at: datetime) -> bool:
        messages = self._messages.setdefault(order_id, {})
        if key in messages:
            return False
        messages[key] = SentMessage(order_id, key, event, template_id, None, at)
        return True

    def finish_message(self, order_id: str, key: str, status: MessageStatus, at: datetime,
                       error: str | None = None) -> None:
        old = self._messages[order_id][key]
        self._messages[order_id][key] = SentMessage(order_id, key, old.event, old.template_id, status, at, error)

    def messages_of(self, order_id: str) -> list[SentMessage]:
        return [m for _, m in sorted(self._messages.get(order_id, {}).items())]

    def add_reminders(self, day: str, order_id: str, sku_ids: list[str]) -> None:
        self._reminders.setdefault(day, set()).update((order_id, s) for s in sku_ids)

    def reminders_of(self, day: str) -> list[tuple[str, str]]:
        return sorted(self._reminders.get(day, set()))

    def reminded(self, day: str) -> bool:
        return day in self._reminded

    def mark_reminded(self, day: str, at: datetime) -> None:
        self._reminded.add(day)

    def start_reminding(self, day: str, at: datetime) -> None:
        self._reminding.add(day)

    def reminding_started(self, day: str) -> bool:
        return day in self._reminding


@dataclass
class FakeMessenger:
    """WeChat's side: answers as scripted (`outcomes`), then accepts; remembers what it accepted."""
    outcomes: deque[SendOutcome] = field(default_factory=deque)
    sent: list[SubscribeMessage] = field(default_factory=list)
    attempts: int = 0

    def send(self, message: SubscribeMessage) -> SendResult:
        self.attempts += 1
        outcome = self.outcomes.popleft() if self.outcomes else SendOutcome.ACCEPTED
        if outcome is SendOutcome.ACCEPTED:
            self.sent.append(message)
            return SendResult(outcome)
        return SendResult(outcome, f"{outcome.value} refused")
