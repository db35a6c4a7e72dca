"""What the local payment sandbox keeps (in a table of the local stack): trades, refunds,
scripted refund outcomes, and the notices waiting to be delivered as WeChat delivers them.
Local stage only: nothing here is deployed."""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from .dynamo import table_meta

CST = timezone(timedelta(hours=8))
# WeChat's redelivery schedule for an unanswered notice (15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h...).
NOTICE_RETRY_SECONDS = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)
PAYMENT_NOTIFY_PATH = "/payments/wechat/notify"
REFUND_NOTIFY_PATH = "/payments/wechat/refund-notify"


class SandboxRecord(Model):
    """Local stage only (not part of the deployed tables)."""
    Meta = table_meta("payment-sandbox")
    kind = UnicodeAttribute(hash_key=True)           # trade | refund | outcome | notice
    key = UnicodeAttribute(range_key=True)           # out_trade_no, out_refund_no, or a sortable sequence
    order_id = UnicodeAttribute(default="")
    amount = NumberAttribute(default=0)
    transaction_id = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    state = UnicodeAttribute(null=True)              # trade: NOTPAY|SUCCESS|CLOSED; refund: PROCESSING|SUCCESS|...
    refunded = NumberAttribute(default=0)            # trade: refunds accepted and not closed
    paid_at = NumberAttribute(null=True)
    description = UnicodeAttribute(null=True)        # trade: what the prepay named (商品名称 of the bill)
    voucher = NumberAttribute(default=0)             # trade: what a WeChat voucher paid of `amount`: payment_sandbox_amounts
    payload = UnicodeAttribute(null=True)            # notice: {"path","headers","body"}
    attempts = NumberAttribute(default=0)


@dataclass(frozen=True)
class SignedNotice:
    path: str
    headers: dict[str, str]
    body: str


def epoch() -> float:
    return time.time()


def cst(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, CST).isoformat(timespec="seconds")

def queue_notice(notice: SignedNotice, delay: float = 0.0, attempts: int = 0) -> None:
    """WeChat sends the notice `delay` seconds from now (a key that sorts by when it is due)."""
    due = int((epoch() + delay) * 1000)
    SandboxRecord(kind="notice", key=f"{due:015d}#{secrets.token_hex(4)}", created_at=int(epoch()),
                  attempts=attempts, payload=json.dumps({"path": notice.path, "headers": notice.headers,
                                                         "body": notice.body}, ensure_ascii=False)).save()


def due_notices(limit: int = 20) -> list[tuple[str, SignedNotice, int]]:
    now_key = f"{int(epoch() * 1000):015d}~"
    found = []
    for record in SandboxRecord.query("notice", SandboxRecord.key <= now_key, consistent_read=True, limit=limit):
        data = json.loads(record.payload or "{}")
        found.append((record.key, SignedNotice(data["path"], data["headers"], data["body"]), int(record.attempts)))
    return found


def notice_answered(key: str, notice: SignedNotice, attempts: int, delivered: bool,
                    retry_scale: float) -> None:
    """Delivered: done. Not delivered: WeChat sends it again later, on its schedule (scaled
    down locally), and gives up after the last attempt as WeChat does."""
    try:
        SandboxRecord(kind="notice", key=key).delete(condition=SandboxRecord.key.exists())
    except Exception:
        return              # another deliverer handled it
    if not delivered and attempts < len(NOTICE_RETRY_SECONDS):
        queue_notice(notice, NOTICE_RETRY_SECONDS[attempts] * retry_scale, attempts + 1)

