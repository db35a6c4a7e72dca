"""Payment records (one per gateway transaction) and refunds due, in DynamoDB."""
from __future__ import annotations

from datetime import datetime

from ..domain import identifiers
from .dynamo import UnitOfWork
from .repository import _t
from .tables import PaymentRecord, RefundRecord


class PaymentLedger:
    def record(self, uow: UnitOfWork, transaction_id: str, order_id: str, amount: int, outcome: str,
               notification_id: str, at: datetime) -> None:
        """Conditional on the transaction being new: a redelivered notice cannot act twice."""
        uow.put(PaymentRecord(transaction_id=transaction_id, order_id=order_id, amount=amount, outcome=outcome,
                              notification_id=notification_id, received_at=_t(at)),
                condition=PaymentRecord.transaction_id.does_not_exist(), tag="payment")

    def refund_due(self, uow: UnitOfWork, order_id: str, transaction_id: str, amount: int, reason: str,
                   at: datetime) -> str:
        """Money that must go back (late or mismatched payment): approved at once, sent by the
        refunds worker with this refund_id as its stable out_refund_no."""
        refund_id = identifiers.new_reference("R")
        uow.put(RefundRecord(refund_id=refund_id, order_id=order_id, transaction_id=transaction_id, amount=amount,
                             total=amount, status="APPROVED", reason=reason, source="automatic",
                             created_at=_t(at)),
                condition=RefundRecord.refund_id.does_not_exist(), tag="refund")
        return refund_id
