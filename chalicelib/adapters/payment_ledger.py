"""Payment records in DynamoDB: one per WeChat Pay transaction, so its effect happens once."""
from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from .dynamo import UnitOfWork, stored_time, table_meta


class PaymentRecord(Model):
    """One per WeChat Pay transaction: its effect happens once, whatever the redeliveries."""
    Meta = table_meta("payments")
    transaction_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    amount = NumberAttribute()
    outcome = UnicodeAttribute()                     # paid | refund_due
    notification_id = UnicodeAttribute()
    received_at = UnicodeAttribute()


class PaymentLedger:
    def record(self, uow: UnitOfWork, transaction_id: str, order_id: str, amount: int, outcome: str,
               notification_id: str, at: datetime) -> None:
        """Conditional on the transaction being new: a redelivered notice cannot act twice."""
        uow.put(PaymentRecord(transaction_id=transaction_id, order_id=order_id, amount=amount, outcome=outcome,
                              notification_id=notification_id, received_at=stored_time(at)),
                condition=PaymentRecord.transaction_id.does_not_exist(), tag="payment")
