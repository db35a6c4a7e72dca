"""Composition root: builds the use cases' context once per Lambda container (or local process)."""
from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone

from . import config
from .adapters.repository import (AuditLog, CatalogRepository, IdempotencyStore, LoginThrottle, OrderRepository,
                                  PeopleRepository, PurchaseCounters, StockLedger)
from .adapters.messaging import SnsNotifier, SqsMessages
from .adapters.metrics import EmfMetrics
from .adapters.refund_repository import AlertLog, RefundEffects, RefundRepository
from .adapters.payment_repository import PaymentLedger
from .adapters.payments import PaymentGateway
from .adapters.security import FieldCipher, PasswordHasher, TokenService
from .adapters.ticket_codes import QrSigner
from .adapters.ticket_repository import TicketRepository
from .adapters.wechat_login import DevLogin, WeChatCode2Session, WeChatLogin
from .service_layer.context import Context

_context: Context | None = None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@functools.lru_cache(maxsize=1)
def token_service() -> TokenService:
    """Shared by the token authorizer, which needs nothing else of the context."""
    return TokenService(config.token_signing_key(), config.settings().token_ttl_seconds)


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
    from .adapters.payments import WeChatPayV3
    return WeChatPayV3(config.wechatpay())


def build_context() -> Context:
    s = config.settings()
    return Context(
        catalog=CatalogRepository(), ledger=StockLedger(),
        orders=OrderRepository(FieldCipher(config.data_encryption_key())), counters=PurchaseCounters(),
        idempotency=IdempotencyStore(), people=PeopleRepository(), throttle=LoginThrottle(), audit=AuditLog(),
        tokens=token_service(), passwords=PasswordHasher(), wechat_factory=_wechat_login, clock=utc_now,
        payment_timeout=timedelta(seconds=s.order_payment_timeout_seconds), venue_timezone=s.venue_timezone,
        payments_factory=_payment_gateway, payment_ledger=PaymentLedger(), tickets=TicketRepository(),
        qr_factory=lambda: QrSigner(config.qr_signing_keys()), metrics=EmfMetrics(),
        messages=SqsMessages(s.refunds_queue, s.alerts_queue, s.region),
        notifier=SnsNotifier(s.alerts_topic_arn, s.region), refunds=RefundRepository(),
        refund_effects=RefundEffects(), alerts=AlertLog(), refund_max_attempts=s.refund_max_attempts)


def context() -> Context:
    global _context
    if _context is None:
        _context = build_context()
    return _context


def reset() -> None:
    """Tests rebuild the context after changing configuration."""
    global _context
    _context = None
    token_service.cache_clear()
    config.reset_caches()
