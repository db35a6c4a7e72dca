"""Subscription credits and each order's messages, in the notifications table. Every write is
one conditional item write: a credit is spent only while one is left, and an order's message of
an event is claimed once (its absence is the condition), so a redelivered event sends nothing."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from pynamodb.exceptions import PutError, UpdateError

from ..domain import timeutil
from ..domain.notifications import MAX_CREDITS, REMINDER_SHARDS, Event, MessageStatus, SentMessage
from .dynamo import condition_refused, get_or_none, stored_time
from .notification_records import NotificationRecord, credit_key, order_key, reminder_key

MAX_MESSAGES_OF_AN_ORDER = 100
KEEP_REMINDERS = timedelta(days=7)



class NotificationStore:
    def add_credits(self, user_id: str, openid: str, template_ids: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for template_id, n in Counter(template_ids).items():
            record = NotificationRecord(credit_key(user_id), template_id)
            record.update(actions=[NotificationRecord.credits.add(n), NotificationRecord.openid.set(openid)])
            if int(record.credits or 0) > MAX_CREDITS:          # concurrent calls: back to the cap
                try:
                    record.update(actions=[NotificationRecord.credits.set(MAX_CREDITS)],
                                  condition=NotificationRecord.credits > MAX_CREDITS)
                except UpdateError as error:
                    if not condition_refused(error):
                        raise
            counts[template_id] = min(int(record.credits or 0), MAX_CREDITS)
        return counts

    def credit(self, user_id: str, template_id: str) -> tuple[int, str | None]:
        record = get_or_none(NotificationRecord, credit_key(user_id), template_id)
        return (int(record.credits or 0), record.openid) if record is not None else (0, None)

    def spend_credit(self, user_id: str, template_id: str) -> bool:
        try:
            NotificationRecord(credit_key(user_id), template_id).update(
                actions=[NotificationRecord.credits.add(-1)], condition=NotificationRecord.credits > 0)
        except UpdateError as error:
            if condition_refused(error):
                return False
            raise
        return True

    def drop_credits(self, user_id: str, template_id: str) -> None:
        NotificationRecord(credit_key(user_id), template_id).update(actions=[NotificationRecord.credits.set(0)])

    def claim_message(self, order_id: str, key: str, event: Event, template_id: str, at: datetime) -> bool:
        try:
            NotificationRecord(order_key(order_id), f"message#{key}", event=event.value, template_id=template_id,
                               at=stored_time(at)).save(condition=NotificationRecord.pk.does_not_exist())
        except PutError as error:
            if condition_refused(error):
                return False
            raise
        return True

    def finish_message(self, order_id: str, key: str, status: MessageStatus, at: datetime,
                       error: str | None = None) -> None:
        actions = [NotificationRecord.status.set(status.value), NotificationRecord.at.set(stored_time(at))]
        actions.append(NotificationRecord.error.set(error) if error else NotificationRecord.error.remove())
        NotificationRecord(order_key(order_id), f"message#{key}").update(actions=actions)

    def messages_of(self, order_id: str) -> list[SentMessage]:
        rows = NotificationRecord.query(order_key(order_id), NotificationRecord.sk.startswith("message#"),
                                        limit=MAX_MESSAGES_OF_AN_ORDER)
        return [SentMessage(order_id=order_id, key=r.sk.removeprefix("message#"), event=Event(r.event),
                            template_id=r.template_id or "", status=MessageStatus(r.status) if r.status else None,
                            at=timeutil.from_storage(r.at), error=r.error) for r in rows]

    def add_reminders(self, day: str, order_id: str, sku_ids: list[str]) -> None:
        for sku_id in sku_ids:
            NotificationRecord(reminder_key(day, order_id), f"{order_id}#{sku_id}",
                               expires=datetime.fromisoformat(day).replace(tzinfo=timezone.utc) + KEEP_REMINDERS).save()

    def reminders_of(self, day: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for shard in range(REMINDER_SHARDS):
            for record in NotificationRecord.query(f"reminders#{day}#{shard}"):
                order_id, _, sku_id = record.sk.partition("#")
                found.append((order_id, sku_id))
        return found

    def reminded(self, day: str) -> bool:
        return get_or_none(NotificationRecord, f"reminded#{day}", "-") is not None

    def mark_reminded(self, day: str, at: datetime) -> None:
        NotificationRecord(f"reminded#{day}", "-", at=stored_time(at), expires=at + KEEP_REMINDERS).save()

    def start_reminding(self, day: str, at: datetime) -> None:
        NotificationRecord(f"reminding#{day}", "-", at=stored_time(at), expires=at + KEEP_REMINDERS).save()

    def reminding_started(self, day: str) -> bool:
        return get_or_none(NotificationRecord, f"reminding#{day}", "-") is not None
