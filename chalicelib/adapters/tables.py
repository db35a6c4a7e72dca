"""PynamoDB models: the DynamoDB tables, their keys and GSIs. `infra/` builds the deployed tables
from these, and `make run` creates the local ones from them."""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute,
                                 TTLAttribute, UnicodeAttribute, UnicodeSetAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from .. import config


def _meta(base: str) -> type:
    class Meta:
        table_name = config.table_name(base)
        region = config.settings().region
        host = config.settings().dynamodb_endpoint
        billing_mode = "PAY_PER_REQUEST"
    return Meta


class CatalogIndex(GlobalSecondaryIndex["ProductRecord"]):
    """Sparse: only products that are listed or scheduled to be, newest first."""
    class Meta:
        index_name = "catalog-index"
        projection = AllProjection()
    catalog = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ProductRecord(Model):
    Meta = _meta("products")
    product_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    category = UnicodeAttribute()
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()
    list_at = UnicodeAttribute(null=True)
    delist_at = UnicodeAttribute(null=True)
    purchase_limit = NumberAttribute(null=True)
    real_name = BooleanAttribute(default=False)
    fulfillment = ListAttribute(of=UnicodeAttribute, default=list)
    sku_ids = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    catalog = UnicodeAttribute(null=True)
    catalog_index = CatalogIndex()


class InventoryIndex(GlobalSecondaryIndex["SkuRecord"]):
    """Every SKU of the venue under one key, for the back office's stock list. A venue has
    thousands of SKUs at most, well inside one partition's throughput."""
    class Meta:
        index_name = "inventory-index"
        projection = AllProjection()
    inventory = UnicodeAttribute(hash_key=True)
    sku_id = UnicodeAttribute(range_key=True)


class SkuRecord(Model):
    Meta = _meta("skus")
    sku_id = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute()
    name = UnicodeAttribute()
    price = NumberAttribute()
    available = NumberAttribute()
    reserved = NumberAttribute(default=0)
    sold = NumberAttribute(default=0)
    low_stock_threshold = NumberAttribute(default=0)
    session_start = UnicodeAttribute(null=True)
    session_end = UnicodeAttribute(null=True)
    valid_from = UnicodeAttribute(null=True)
    valid_until = UnicodeAttribute(null=True)
    attributes = MapAttribute(default=dict)
    low_stock_alerted = BooleanAttribute(null=True)  # latch: one alert per crossing below the threshold
    inventory = UnicodeAttribute(default="sku")
    inventory_index = InventoryIndex()


class MovementRecord(Model):
    """The stock ledger: one item per change of `available`, written in the same transaction."""
    Meta = _meta("movements")
    sku_id = UnicodeAttribute(hash_key=True)
    movement_id = UnicodeAttribute(range_key=True)   # <UTC time>#<random>: sorts by time
    delta = NumberAttribute()
    reason = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    at = UnicodeAttribute()


class CustomerIndex(GlobalSecondaryIndex["OrderRecord"]):
    class Meta:
        index_name = "customer-index"
        projection = AllProjection()
    user_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class StatusIndex(GlobalSecondaryIndex["OrderRecord"]):
    class Meta:
        index_name = "status-index"
        projection = AllProjection()
    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class AllOrdersIndex(GlobalSecondaryIndex["OrderRecord"]):
    class Meta:
        index_name = "all-orders-index"
        projection = AllProjection()
    all_orders = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PhoneIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Support finds orders by the contact's phone through a keyed hash, never the number."""
    class Meta:
        index_name = "phone-index"
        projection = KeysOnlyProjection()
    phone_index = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PendingExpiryIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Sparse: only orders awaiting payment carry `pending`, so the expiry job reads just those."""
    class Meta:
        index_name = "pending-expiry-index"
        projection = KeysOnlyProjection()
    pending = UnicodeAttribute(hash_key=True)
    expires_at = UnicodeAttribute(range_key=True)


class OrderRecord(Model):
    Meta = _meta("orders")
    order_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    status = UnicodeAttribute()
    total = NumberAttribute()
    lines = ListAttribute(of=MapAttribute)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    contact_name = UnicodeAttribute()
    contact_phone = UnicodeAttribute()           # encrypted
    phone_index = UnicodeAttribute()
    visitors = ListAttribute(of=MapAttribute, default=list)  # ID numbers encrypted
    fulfillment = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)        # encrypted JSON
    history = ListAttribute(of=MapAttribute)
    shipment = MapAttribute(null=True)
    search_text = UnicodeAttribute(default="")   # lower-cased product names for staff search
    all_orders = UnicodeAttribute(default="order")
    pending = UnicodeAttribute(null=True)
    transaction_id = UnicodeAttribute(null=True)
    paid_at = UnicodeAttribute(null=True)
    tickets_total = NumberAttribute(null=True)
    tickets_issued = NumberAttribute(null=True)
    pickup_code = UnicodeAttribute(null=True)
    refund_committed = NumberAttribute(null=True)    # approved refunds, in fen: never above the total
    refunded_total = NumberAttribute(null=True)      # refunds that reached the customer
    refunds_in_flight = NumberAttribute(null=True)
    merch_refund = UnicodeAttribute(null=True)       # the refund that claimed the goods
    customer_index = CustomerIndex()
    status_index = StatusIndex()
    all_orders_index = AllOrdersIndex()
    phone_lookup_index = PhoneIndex()
    pending_expiry_index = PendingExpiryIndex()


class PurchaseCounterRecord(Model):
    """Units of a product a customer holds in live orders; the purchase limit is a condition on it."""
    Meta = _meta("purchase-counters")
    counter_id = UnicodeAttribute(hash_key=True)     # <user_id>#<product_id>
    quantity = NumberAttribute(default=0)


class IdempotencyRecord(Model):
    Meta = _meta("idempotency")
    key = UnicodeAttribute(hash_key=True)            # <user_id>#<Idempotency-Key>
    fingerprint = UnicodeAttribute()
    status_code = NumberAttribute()
    response = UnicodeAttribute()
    expires = TTLAttribute()


class CustomerRecord(Model):
    Meta = _meta("customers")
    openid = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class StaffRecord(Model):
    Meta = _meta("staff")
    username = UnicodeAttribute(hash_key=True)
    password_hash = UnicodeAttribute()
    roles = UnicodeSetAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()


class LoginThrottleRecord(Model):
    """Failed logins per username in the current window; expires by TTL."""
    Meta = _meta("login-throttle")
    username = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(default=0)
    window_start = NumberAttribute()
    expires = TTLAttribute()


class AuditRecord(Model):
    Meta = _meta("audit")
    day = UnicodeAttribute(hash_key=True)            # venue-independent UTC date
    entry_id = UnicodeAttribute(range_key=True)      # <UTC time>#<random>
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    details = UnicodeAttribute(default="{}")         # JSON, never personal data
    at = UnicodeAttribute()


ALL_TABLES: tuple[type[Model], ...] = (
    ProductRecord, SkuRecord, MovementRecord, OrderRecord, PurchaseCounterRecord, IdempotencyRecord,
    CustomerRecord, StaffRecord, LoginThrottleRecord, AuditRecord,
)



class OrderTicketsIndex(GlobalSecondaryIndex["TicketRecord"]):
    class Meta:
        index_name = "order-tickets-index"
        projection = AllProjection()
    order_id = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute(range_key=True)


class TicketIdIndex(GlobalSecondaryIndex["TicketRecord"]):
    class Meta:
        index_name = "ticket-id-index"
        projection = AllProjection()
    ticket_id = UnicodeAttribute(hash_key=True)


class RevokedIndex(GlobalSecondaryIndex["TicketRecord"]):
    """Sparse: revoked codes only, for the scanners' offline pack."""
    class Meta:
        index_name = "revoked-index"
        projection = AllProjection()
    revoked = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute(range_key=True)


class TicketRecord(Model):
    """Admission tickets and pickup codes, keyed by the code so that every scan is one keyed write."""
    Meta = _meta("tickets")
    code = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    sku_id = UnicodeAttribute(default="")
    product_name = UnicodeAttribute()
    sku_name = UnicodeAttribute()
    session_start = UnicodeAttribute(null=True)
    session_end = UnicodeAttribute(null=True)
    valid_from = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    visitor = MapAttribute(null=True)              # name and masked ID number only
    status = UnicodeAttribute()
    qr = UnicodeAttribute()
    issued_at = UnicodeAttribute()
    redeemed_at = UnicodeAttribute(null=True)
    redeemed_scanned_at = UnicodeAttribute(null=True)
    redeemed_gate = UnicodeAttribute(null=True)
    redeemed_device = UnicodeAttribute(null=True)
    redeemed_by = UnicodeAttribute(null=True)
    redeem_nonce = UnicodeAttribute(null=True)
    revoked = UnicodeAttribute(null=True)
    order_tickets_index = OrderTicketsIndex()
    ticket_id_index = TicketIdIndex()
    revoked_index = RevokedIndex()


class ScanConflictRecord(Model):
    """An offline scan that lost to an earlier scan of the same code: kept for review."""
    Meta = _meta("scan-conflicts")
    code = UnicodeAttribute(hash_key=True)
    conflict_id = UnicodeAttribute(range_key=True)   # <UTC time>#<random>
    ticket_id = UnicodeAttribute()
    scanned_at = UnicodeAttribute()
    gate = UnicodeAttribute()
    device_id = UnicodeAttribute()
    staff = UnicodeAttribute()
    nonce = UnicodeAttribute(null=True)
    winner_scanned_at = UnicodeAttribute()
    winner_gate = UnicodeAttribute()
    recorded_at = UnicodeAttribute()


class PaymentRecord(Model):
    """One per WeChat Pay transaction: its effect happens once, whatever the redeliveries."""
    Meta = _meta("payments")
    transaction_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    amount = NumberAttribute()
    outcome = UnicodeAttribute()                     # paid | refund_due
    notification_id = UnicodeAttribute()
    received_at = UnicodeAttribute()


class RefundStatusIndex(GlobalSecondaryIndex["RefundRecord"]):
    class Meta:
        index_name = "status-index"
        projection = AllProjection()
    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class RefundOrderIndex(GlobalSecondaryIndex["RefundRecord"]):
    class Meta:
        index_name = "order-index"
        projection = AllProjection()
    order_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class RefundRecord(Model):
    Meta = _meta("refunds")
    refund_id = UnicodeAttribute(hash_key=True)      # also the gateway's out_refund_no
    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    transaction_id = UnicodeAttribute(null=True)
    amount = NumberAttribute()
    total = NumberAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute()
    source = UnicodeAttribute()                      # customer | automatic
    ticket_codes = ListAttribute(of=UnicodeAttribute, default=list)
    stock_lines = ListAttribute(of=MapAttribute, default=list)   # [{sku_id, quantity}] back to stock
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    reject_reason = UnicodeAttribute(null=True)
    gateway_status = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    status_index = RefundStatusIndex()
    order_index = RefundOrderIndex()


class RecentAlertsIndex(GlobalSecondaryIndex["AlertRecord"]):
    class Meta:
        index_name = "recent-index"
        projection = AllProjection()
    feed = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class AlertRecord(Model):
    """Operational alerts for the back office (they also go to the SNS topic)."""
    Meta = _meta("alerts")
    alert_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()                        # low_stock | refund_failed | scan_conflict | ...
    severity = UnicodeAttribute()
    message = UnicodeAttribute()
    details = UnicodeAttribute(default="{}")
    created_at = UnicodeAttribute()
    feed = UnicodeAttribute(default="alerts")
    expires = TTLAttribute(null=True)
    recent_index = RecentAlertsIndex()


ALL_TABLES = ALL_TABLES + (TicketRecord, ScanConflictRecord, PaymentRecord, RefundRecord, AlertRecord)


def create_tables() -> None:
    for model in ALL_TABLES:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
