"""`fake_context()`: the use cases' Context wired with the fakes, as `chalicelib.wiring` wires it
with the adapters; the same settings as the test stage."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.notifications import Event, Template
from chalicelib.domain.ordering import UnpaidLimits
from chalicelib.service_layer.context import Context

from .back_office import FakeAggregates, FakeAlerts, FakeReconciliations, FakeSales
from .catalog import FakeCatalog
from .notifications import FakeMessenger, FakeNotificationStore
from .orders import FakeCounters, FakeIdempotency, FakeOrders, FakePlacement, FakeUnpaidHolds
from .outside import (FakeCipher, FakeClock, FakeMessages, FakeMetrics, FakeNotifier, FakePasswords, FakeQr,
                      FakeTokens, FakeWeChatLogin)
from .payments import FakeGateway, FakePaymentRecords
from .people import FakeAudit, FakePeople, FakeThrottle
from .promotions import FakeCoupons, FakePromotions, FakeUserCoupons
from .refunds import FakeRefunds
from .session_cancellations import FakeSessionCancellations
from .after_sales import FakeAfterSales
from .stock import FakeStock
from .tickets import FakeTickets
from .unit_of_work import FakeDatabase


def fake_context(clock: FakeClock | None = None, unpaid_limits: UnpaidLimits | None = None) -> Context:
    """Every port faked over one in-memory database (`ctx.unit_of_work.__self__`, also `db(ctx)`),
    and the world outside scriptable: `ctx.clock`, `ctx.wechat_pay`, `ctx.messages`, `ctx.metrics`."""
    db = FakeDatabase()
    clock = clock or FakeClock()
    catalog, stock = FakeCatalog(db), FakeStock(db)
    gateway, qr, wechat, messenger = FakeGateway(clock), FakeQr(), FakeWeChatLogin(), FakeMessenger()
    return Context(
        catalog=catalog, stock=stock, orders=FakeOrders(db), counters=FakeCounters(db),
        unpaid=FakeUnpaidHolds(db, unpaid_limits), idempotency=FakeIdempotency(db),
        placement=FakePlacement(db, catalog, stock), people=FakePeople(db), throttle=FakeThrottle(db),
        audit=FakeAudit(db), tickets=FakeTickets(db), payment_ledger=FakePaymentRecords(db), refunds=FakeRefunds(db),
        alerts=FakeAlerts(db), aggregates=FakeAggregates(db), sales=FakeSales(db),
        reconciliations=FakeReconciliations(db), coupons=FakeCoupons(db), user_coupons=FakeUserCoupons(db),
        promotions=FakePromotions(db), session_cancellations=FakeSessionCancellations(db),
        after_sales=FakeAfterSales(db), notifications=FakeNotificationStore(), unit_of_work=db.unit_of_work, order_writes=db.order_writes,
        clock=clock, metrics=FakeMetrics(), messages=FakeMessages(), notifier=FakeNotifier(),
        tokens=FakeTokens(clock), passwords=FakePasswords(), cipher=FakeCipher(),
        wechat_pay_factory=lambda: gateway, qr_factory=lambda: qr, wechat_factory=lambda: wechat,
        messenger_factory=lambda: messenger, templates=_local_template,
        payment_timeout=timedelta(seconds=900), venue_timezone="Asia/Shanghai", refund_max_attempts=3,
        refund_query_after=timedelta(seconds=60), auto_receipt_after=timedelta(days=10), reconcile_after_hour=10,
        offline_scan_max_age=timedelta(hours=72))


def _local_template(event: Event) -> Template:
    return Template(f"local-{event.value}", "pages/orders/detail?order_id={order_id}")


def db(ctx: Context) -> FakeDatabase:
    """The fakes' database behind a fake context (to script conflicts and rival writes)."""
    database = getattr(ctx.unit_of_work, "__self__", None)
    assert isinstance(database, FakeDatabase), "not a fake context"
    return database
