"""What the use cases are given. `Context` holds every port, built once per Lambda container
by `chalicelib.bootstrap` (tests build their own); each service module says, with a small
Protocol over it, which of them its use cases touch."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from ..domain.notifications import Event, Template
from ..domain.principal import Principal
from . import ports
from .ports import AggregateCounters, Reconciliations, SaleLookup


@dataclass(frozen=True)
class Actor:
    """The caller of a use case, with where the call came from (for the audit log)."""
    principal: Principal
    source_ip: str | None = None

    @property
    def name(self) -> str:
        return self.principal.subject


@dataclass
class Context:
    # storage, one store per aggregate
    catalog: ports.CatalogStore
    stock: ports.StockStore
    orders: ports.OrderStore
    counters: ports.PurchaseCounterStore
    unpaid: ports.UnpaidHoldStore
    idempotency: ports.IdempotencyReplies
    placement: ports.PlacementRead
    people: ports.PeopleStore
    throttle: ports.LoginThrottle
    audit: ports.AuditTrail
    tickets: ports.TicketStore
    payment_ledger: ports.PaymentRecords
    refunds: ports.RefundStore
    alerts: ports.AlertStore
    aggregates: AggregateCounters
    sales: SaleLookup
    reconciliations: Reconciliations
    coupons: ports.CouponStore
    user_coupons: ports.UserCouponStore
    promotions: ports.PromotionStore
    session_cancellations: ports.SessionCancellationStore
    after_sales: ports.AfterSaleStore
    notifications: ports.NotificationStore
    unit_of_work: Callable[[], ports.Writes]
    # An order's writes: new demand, the first to wait when an item it needs is saturated.
    order_writes: Callable[[], ports.Writes]
    # the world outside
    clock: ports.Clock
    metrics: ports.Metrics
    messages: ports.Messages
    notifier: ports.Notifier
    tokens: ports.Tokens
    passwords: ports.Passwords
    cipher: ports.FieldCipher
    wechat_pay_factory: Callable[[], ports.PaymentGateway]
    qr_factory: Callable[[], ports.QrSigner]
    wechat_factory: Callable[[], ports.WeChatLogin]
    messenger_factory: Callable[[], ports.Messenger]
    # each event's template id and page, from the stage's configuration
    templates: Callable[[Event], Template]
    # settings the rules need
    payment_timeout: timedelta
    venue_timezone: str
    refund_max_attempts: int
    refund_query_after: timedelta
    auto_receipt_after: timedelta
    reconcile_after_hour: int
    offline_scan_max_age: timedelta
    after_sales_days: int = 7        # AFTER_SALES_DAYS: after-sales close this long after the goods were received

    # Built on first use: each needs a secret, and not every function (the authorizer, the
    # alerts worker) needs all of them, so a cold start fetches only what it uses.
    @functools.cached_property
    def wechat_pay(self) -> ports.PaymentGateway:
        return self.wechat_pay_factory()

    @functools.cached_property
    def qr(self) -> ports.QrSigner:
        return self.qr_factory()

    @functools.cached_property
    def wechat(self) -> ports.WeChatLogin:
        return self.wechat_factory()

    @functools.cached_property
    def messenger(self) -> ports.Messenger:
        return self.messenger_factory()
