"""What the use cases need from the world outside the domain, as small Protocols: storage
(`storage`: each aggregate's store and the unit of work), the back office's counters and
reconciliations (`back_office`), and everything beyond storage (`outside`: WeChat Pay, queues,
notifications, metrics, the clock's type, security). Adapters implement them; the use cases never
see PynamoDB, botocore or Chalice. The values and errors that cross the boundary live with them.
Reached as `ports.<Name>`: this package's face is every name of its three modules."""
from __future__ import annotations

from .back_office import AggregateCounters, Reconciliations, SaleLookup
from .notifying import Messenger, NotificationStore, SendResult
from .outside import (Clock, FieldCipher, Messages, Metrics, NoBill, NotificationRejected, Notifier, Passwords,
                      PaymentGateway, PaymentGatewayError, QrSigner, Tokens, TradeAlreadyPaid, WeChatLogin)
from .storage import (AfterSaleStore, AlertStore, AuditTrail, CatalogStore, CouponStore, PromotionStore, UserCouponStore, IdempotencyReplies, IdempotentReply, LoginThrottle,
                      OrderStore, Page, PaymentRecords, PeopleStore, PlacementRead, PlacementSnapshot,
                      PurchaseCounterStore, RedeemAttempt, RefundStore, SessionCancellationStore, StaffStanding, StockStore, TicketStore,
                      UnpaidHoldStore, WriteRefused, Writes)

__all__ = ["AfterSaleStore", "AggregateCounters", "AlertStore", "AuditTrail", "CatalogStore", "Clock", "CouponStore",
           "PromotionStore", "UserCouponStore", "FieldCipher",
           "IdempotencyReplies", "IdempotentReply", "LoginThrottle", "Messages", "Messenger", "Metrics", "NoBill",
           "NotificationRejected", "NotificationStore", "Notifier", "OrderStore", "Page", "Passwords", "PaymentGateway",
           "PaymentGatewayError", "PaymentRecords", "PeopleStore", "PlacementRead", "PlacementSnapshot",
           "PurchaseCounterStore", "QrSigner", "Reconciliations", "RedeemAttempt", "RefundStore",
           "SaleLookup", "SendResult", "SessionCancellationStore", "StaffStanding", "StockStore", "TicketStore", "Tokens", "TradeAlreadyPaid",
           "UnpaidHoldStore", "WeChatLogin", "WriteRefused", "Writes"]
