"""Payment records in DynamoDB: one per WeChat Pay transaction, so its effect happens once, and
found again by the day of WeChat's bill they belong to, for reconciliation."""
from __future__ import annotations

from datetime import date, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from ..domain.payments import bill_day
from ..domain.reconciliation import OurPayment
from ..service_layer.tags import Tag
from .dynamo import spread, spread_keys, stored_time, table_meta
from .unit_of_work import UnitOfWork

BILL_DAY_SHARDS = 4


class BillDayIndex(GlobalSecondaryIndex["PaymentRecord"]):
    """The payments of a day of WeChat's bill, spread over a few partitions."""
    class Meta:
        index_name = "bill_day"
        projection = IncludeProjection(["order_id", "amount"])
    bill_day = UnicodeAttribute(hash_key=True)
    transaction_id = UnicodeAttribute(range_key=True)


class PaymentRecord(Model):
    """One per WeChat Pay transaction: its effect happens once, whatever the redeliveries."""
    Meta = table_meta("payments")
    transaction_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    amount = NumberAttribute()
    outcome = UnicodeAttribute()                     # paid | refund_due
    notification_id = UnicodeAttribute()
    received_at = UnicodeAttribute()
    paid_at = UnicodeAttribute(null=True)            # WeChat's success_time
    bill_day = UnicodeAttribute(null=True)           # <Beijing date>#<shard>
    bill_day_index = BillDayIndex()


class PaymentLedger:
    def record(self, uow: UnitOfWork, transaction_id: str, order_id: str, amount: int, outcome: str,
               notification_id: str, at: datetime, paid_at: datetime) -> None:
        """Conditional on the transaction being new: a redelivered notice cannot act twice."""
        uow.put(PaymentRecord(transaction_id=transaction_id, order_id=order_id, amount=amount, outcome=outcome,
                              notification_id=notification_id, received_at=stored_time(at),
                              paid_at=stored_time(paid_at),
                              # An order promotions paid in full (0 fen) never reaches WeChat's bill.
                              bill_day=spread(bill_day(paid_at).isoformat(), transaction_id, BILL_DAY_SHARDS)
                              if amount else None),
                condition=PaymentRecord.transaction_id.does_not_exist(), tag=Tag.PAYMENT)

    def paid_on(self, day: date) -> list[OurPayment]:
        found = []
        for key in spread_keys(day.isoformat(), BILL_DAY_SHARDS):
            for r in PaymentRecord.bill_day_index.query(key):
                found.append(OurPayment(out_trade_no=r.order_id, transaction_id=r.transaction_id, amount=int(r.amount)))
        return found
