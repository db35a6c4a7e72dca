"""Which adapter serves each port: the context that bootstrap.context() builds once per Lambda
container (or local process). Importing this module imports every adapter, and with them
PynamoDB, botocore, cryptography and PyJWT, which is why only bootstrap imports it, and only on
the first call that needs the context. Any piece can be given instead (`build_context(clock=...)`):
a test overrides one port and keeps the rest as deployed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from . import config
from .adapters.aggregate_store import AggregateStore
from .adapters.alert_log import AlertLog
from .adapters.audit_log import AuditLog
from .adapters.catalog_repository import CatalogRepository
from .adapters.coupon_repository import CouponRepository, UserCouponRepository
from .adapters.promotion_repository import PromotionRepository
from .adapters.change_stream import SaleLookup
from .adapters.unit_of_work import UnitOfWork
from .adapters.messaging import SnsNotifier, SqsMessages
from .adapters.notification_store import NotificationStore
from .adapters.order_placement import IdempotencyStore, PlacementReads, PurchaseCounters, UnpaidHolds
from .adapters.order_repository import OrderRepository
from .adapters.payment_ledger import PaymentLedger
from .adapters.people_repository import LoginThrottle, PeopleRepository
from .adapters.reconciliation_store import ReconciliationStore
from .adapters.refund_repository import RefundRepository
from .adapters.session_cancellation_store import SessionCancellationStore
from .adapters.after_sale_store import AfterSaleStore
from .adapters.security import FieldCipher, PasswordHasher
from .adapters.stock_ledger import StockLedger
from .adapters.ticket_codes import QrSigner
from .adapters.ticket_repository import TicketRepository
from .adapters.wechat_login import DevLogin, WeChatCode2Session
from .container import metrics, token_service
from .domain.notifications import Event, Template
from .domain.ordering import UnpaidLimits
from .service_layer.context import Context
from .service_layer.ports import Messenger, PaymentGateway, WeChatLogin


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _wechat_login() -> WeChatLogin:
    s = config.settings()
    if s.is_local:
        return DevLogin()
    if not s.wechat_appid:
        raise RuntimeError("WECHAT_APPID is not configured")
    return WeChatCode2Session(s.wechat_appid, config.wechat_app_secret())


def _payment_gateway() -> PaymentGateway:
    if config.settings().is_local:
        from .adapters.payment_sandbox import SandboxGateway
        return SandboxGateway(config.wechatpay(), config.sandbox_platform_private_key())
    from .adapters.wechatpay import WeChatPayV3
    return WeChatPayV3(config.wechatpay())


def _messenger(cipher: FieldCipher) -> Messenger:
    """WeChat's subscribe messages; locally the same adapter answered by the sandbox in-process."""
    s = config.settings()
    if s.is_local:
        from .adapters.wechat_messages_sandbox import SandboxMessages
        return SandboxMessages(s.wechat_appid or config.LOCAL_APPID, config.wechat_app_secret, sealer=cipher)
    if not s.wechat_appid:
        raise RuntimeError("WECHAT_APPID is not configured")
    from .adapters.wechat_messages import WeChatMessages
    return WeChatMessages(s.wechat_appid, config.wechat_app_secret, miniprogram_state=config.miniprogram_state(),
                          sealer=cipher)


def _template(event: Event) -> Template:
    return Template(*config.notification_template(event.value))


def build_context(**pieces: Any) -> Context:
    s = config.settings()
    cipher = pieces.get("cipher") or FieldCipher(config.data_encryption_key())
    wired: dict[str, Any] = dict(
        catalog=CatalogRepository(), stock=StockLedger(), orders=OrderRepository(cipher), counters=PurchaseCounters(),
        unpaid=UnpaidHolds(UnpaidLimits(s.max_unpaid_orders_per_customer, s.max_unpaid_units_per_sku)),
        idempotency=IdempotencyStore(), placement=PlacementReads(), people=PeopleRepository(),
        throttle=LoginThrottle(), audit=AuditLog(), tickets=TicketRepository(cipher), payment_ledger=PaymentLedger(),
        refunds=RefundRepository(cipher), alerts=AlertLog(), aggregates=AggregateStore(s.aggregate_shards),
        sales=SaleLookup(), reconciliations=ReconciliationStore(), coupons=CouponRepository(),
        user_coupons=UserCouponRepository(), promotions=PromotionRepository(),
        session_cancellations=SessionCancellationStore(), after_sales=AfterSaleStore(), unit_of_work=UnitOfWork,
        notifications=NotificationStore(), messenger_factory=lambda: _messenger(cipher), templates=_template,
        order_writes=lambda: UnitOfWork(sheddable=True),
        clock=utc_now, metrics=metrics(), messages=SqsMessages(s.refunds_queue, s.alerts_queue, s.region, s.expiry_queue,
                                                        s.notifications_queue),
        notifier=SnsNotifier(s.alerts_topic_arn, s.region), tokens=token_service(), passwords=PasswordHasher(),
        cipher=cipher, wechat_pay_factory=_payment_gateway, qr_factory=lambda: QrSigner(config.qr_signing_keys()),
        wechat_factory=_wechat_login,
        payment_timeout=timedelta(seconds=s.order_payment_timeout_seconds), venue_timezone=s.venue_timezone,
        refund_max_attempts=s.refund_max_attempts,
        refund_query_after=timedelta(seconds=s.refund_query_after_seconds),
        auto_receipt_after=timedelta(days=s.auto_receipt_days), reconcile_after_hour=s.reconcile_after_hour,
        offline_scan_max_age=timedelta(hours=s.offline_scan_max_age_hours), after_sales_days=s.after_sales_days)
    unknown = set(pieces) - set(wired)
    if unknown:
        raise TypeError(f"no such piece of the context: {sorted(unknown)}")
    return Context(**{**wired, **pieces})
