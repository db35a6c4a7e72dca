"""Every DynamoDB table of the app, from its store's PynamoDB model. `infra/` builds the
deployed tables from this list, and `make run` and the tests create the local ones from it."""
from __future__ import annotations

from pynamodb.models import Model

from .after_sale_store import AfterSaleRecord
from .aggregate_store import AggregateRecord
from .alert_log import AlertRecord
from .audit_log import AuditRecord
from .catalog_repository import ProductRecord
from .coupon_repository import CouponRecord, UserCouponRecord
from .order_placement import IdempotencyRecord, PurchaseCounterRecord
from .notification_records import NotificationRecord
from .order_records import OrderRecord
from .payment_ledger import PaymentRecord
from .promotion_repository import PromotionRecord
from .people_repository import CustomerRecord, LoginThrottleRecord, RevokedTokenRecord, StaffRecord
from .reconciliation_store import ReconciliationRecord
from .refund_repository import RefundRecord
from .session_cancellation_store import SessionCancellationRecord
from .stock_records import MovementRecord, SkuRecord, StockShardRecord
from .ticket_repository import ScanConflictRecord, TicketRecord

ALL_TABLES: tuple[type[Model], ...] = (
    ProductRecord, SkuRecord, StockShardRecord, MovementRecord, OrderRecord, PurchaseCounterRecord, IdempotencyRecord,
    CustomerRecord, StaffRecord, RevokedTokenRecord, LoginThrottleRecord, AuditRecord, TicketRecord, ScanConflictRecord,
    PaymentRecord, RefundRecord, AlertRecord, AggregateRecord, ReconciliationRecord, CouponRecord, UserCouponRecord,
    PromotionRecord, SessionCancellationRecord, AfterSaleRecord, NotificationRecord,
)


def create_tables(models: tuple[type[Model], ...] = ALL_TABLES) -> None:
    for model in models:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
