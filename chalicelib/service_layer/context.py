"""What the use cases are given: repositories, gateways, the clock and the settings they need.
Built once per Lambda container by `chalicelib.bootstrap`; tests build their own."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from ..adapters.dynamo import UnitOfWork
from ..adapters.messaging import Messages, SnsNotifier
from ..adapters.metrics import MetricsPort
from ..adapters.refund_repository import AlertLog, RefundEffects, RefundRepository
from ..adapters.payment_repository import PaymentLedger
from ..adapters.payments import PaymentGateway
from ..adapters.ticket_codes import QrSigner
from ..adapters.ticket_repository import TicketRepository
from ..adapters.repository import (AuditLog, CatalogRepository, IdempotencyStore, LoginThrottle,
                                   OrderRepository, PeopleRepository, PurchaseCounters, StockLedger)
from ..adapters.security import PasswordHasher, Principal, TokenService
from ..adapters.wechat_login import WeChatLogin


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
    catalog: CatalogRepository
    ledger: StockLedger
    orders: OrderRepository
    counters: PurchaseCounters
    idempotency: IdempotencyStore
    people: PeopleRepository
    throttle: LoginThrottle
    audit: AuditLog
    tokens: TokenService
    passwords: PasswordHasher
    wechat_factory: Callable[[], WeChatLogin]
    clock: Callable[[], datetime]
    payment_timeout: timedelta
    venue_timezone: str
    payments_factory: Callable[[], PaymentGateway]
    payment_ledger: PaymentLedger
    tickets: TicketRepository
    qr_factory: Callable[[], QrSigner]
    metrics: MetricsPort
    messages: Messages
    notifier: SnsNotifier
    refunds: RefundRepository
    refund_effects: RefundEffects
    alerts: AlertLog
    refund_max_attempts: int

    # Built on first use: each needs a secret, and not every function (the authorizer, the
    # alerts worker) needs all of them, so a cold start fetches only what it uses.
    @functools.cached_property
    def payments(self) -> PaymentGateway:
        return self.payments_factory()

    @functools.cached_property
    def qr(self) -> QrSigner:
        return self.qr_factory()

    @functools.cached_property
    def wechat(self) -> WeChatLogin:
        return self.wechat_factory()

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork()
