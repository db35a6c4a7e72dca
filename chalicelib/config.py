"""All configuration, read from environment variables in this one module.

`.chalice/config.json` sets the variables per stage; `make run` sets the local ones and
generates the local secrets at start-up. Deployed stages name a secret (``*_SECRET_ARN``)
instead of carrying a value, and the value is fetched once per cold start.
"""
from __future__ import annotations

import base64
import functools
import os
import time
from dataclasses import dataclass


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_prefix: str
    dynamodb_endpoint: str | None
    order_payment_timeout_seconds: int
    max_unpaid_orders_per_customer: int
    max_unpaid_units_per_sku: int
    token_ttl_seconds: int
    wechat_appid: str | None
    venue_timezone: str
    refunds_queue: str
    alerts_queue: str
    expiry_queue: str
    notifications_queue: str
    alerts_topic_arn: str | None
    refund_max_attempts: int
    retry_base_seconds: int
    refund_query_after_seconds: int
    auto_receipt_days: int
    aggregate_shards: int
    reconcile_after_hour: int
    offline_scan_max_age_hours: int
    after_sales_days: int = 7

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        # Deliberately not "local" when unset: the dev login and the /dev/ routes must never
        # appear by accident (e.g. when `chalice package` imports the app without a stage).
        stage=_env("STAGE", "unset") or "unset",
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "ap-east-1")) or "ap-east-1",
        table_prefix=_env("TABLE_PREFIX", "micromall-local-") or "",
        dynamodb_endpoint=_env("DYNAMODB_ENDPOINT"),
        order_payment_timeout_seconds=int(_env("ORDER_PAYMENT_TIMEOUT_SECONDS", "900") or 900),
        # What one customer may hold unpaid at once (API.md: UNPAID_LIMIT).
        max_unpaid_orders_per_customer=max(1, int(_env("MAX_UNPAID_ORDERS_PER_CUSTOMER", "3") or 3)),
        max_unpaid_units_per_sku=max(1, int(_env("MAX_UNPAID_UNITS_PER_SKU", "10") or 10)),
        token_ttl_seconds=int(_env("TOKEN_TTL_SECONDS", "7200") or 7200),
        wechat_appid=_env("WECHAT_APPID"),
        venue_timezone=_env("VENUE_TIMEZONE", "Asia/Shanghai") or "Asia/Shanghai",
        refunds_queue=_env("REFUNDS_QUEUE_NAME", "micromall-refunds") or "micromall-refunds",
        alerts_queue=_env("ALERTS_QUEUE_NAME", "micromall-alerts") or "micromall-alerts",
        expiry_queue=_env("EXPIRY_QUEUE_NAME", "micromall-expiry.fifo") or "micromall-expiry.fifo",
        notifications_queue=_env("NOTIFICATIONS_QUEUE_NAME", "micromall-notifications") or "micromall-notifications",
        alerts_topic_arn=_env("ALERTS_TOPIC_ARN"),
        # Must equal the refunds queue's maxReceiveCount: the last attempt marks the refund FAILED.
        refund_max_attempts=int(_env("REFUND_MAX_ATTEMPTS", "5") or 5),
        retry_base_seconds=int(_env("RETRY_BASE_SECONDS", "30") or 30),
        # A refund's notice usually comes within seconds; without one, WeChat is asked after this,
        # then at doubling intervals.
        refund_query_after_seconds=int(_env("REFUND_QUERY_AFTER_SECONDS", "60") or 60),
        auto_receipt_days=int(_env("AUTO_RECEIPT_DAYS", "10") or 10),
        # Each back-office counter lives in this many items, so concurrent writers rarely meet.
        aggregate_shards=max(1, int(_env("AGGREGATE_SHARDS", "4") or 4)),
        # WeChat Pay's bill of a day is ready after 10:00 (Beijing time) the next day.
        reconcile_after_hour=int(_env("RECONCILE_AFTER_HOUR", "10") or 10),
        # An offline scan uploaded later than this after it was made is refused (invalid_time).
        offline_scan_max_age_hours=max(1, int(_env("OFFLINE_SCAN_MAX_AGE_HOURS", "72") or 72)),
        # After-sales (returns, exchanges) close this many days after the goods were received.
        after_sales_days=max(0, int(_env("AFTER_SALES_DAYS", "7") or 7)),
    )


def table_name(base: str) -> str:
    return f"{settings().table_prefix}{base}"


def stream_source(base: str) -> str:
    """Stands for a table's stream where Chalice wants an ARN at import time; the deployed
    template gets the real one (infra/synth.py)."""
    return f"arn:aws:dynamodb:{settings().region}:000000000000:table/{table_name(base)}/stream/latest"


def _secret(value_var: str, arn_var: str) -> bytes:
    """A secret's bytes: locally an environment variable holding base64 (generated at start);
    deployed, the text of a Secrets Manager secret (a generated 64-character string, or JSON).

    The import of the parameters utility is deferred so that local runs and tests never
    need it, and a cold start pays for it only once.
    """
    local = _env(value_var)
    if local:
        return base64.b64decode(local)
    arn = _env(arn_var)
    if not arn:
        raise RuntimeError(f"neither {value_var} nor {arn_var} is configured")
    from aws_lambda_powertools.utilities.parameters import get_secret

    return str(get_secret(arn, max_age=3600)).encode()


@functools.lru_cache(maxsize=1)
def token_signing_key() -> bytes:
    return _secret("JWT_SECRET", "JWT_SECRET_ARN")


TOKEN_KEYS_MAX_AGE_SECONDS = 300
_token_keys: tuple[float, list[bytes]] | None = None
_clock = time.monotonic               # tests move it on to see a rotation


def token_signing_keys() -> list[bytes]:
    """[current, previous] token signing keys, read again after TOKEN_KEYS_MAX_AGE_SECONDS, so
    that a rotation reaches running containers within minutes: tokens are signed with the
    current key and verified with either (the previous one for tokens issued before the
    rotation). Locally JWT_SECRET and, after a rotation, JWT_PREVIOUS_SECRET (base64); deployed
    the AWSCURRENT and AWSPREVIOUS versions of the JWT_SECRET_ARN secret."""
    global _token_keys
    now = _clock()
    if _token_keys is not None and now - _token_keys[0] < TOKEN_KEYS_MAX_AGE_SECONDS:
        return _token_keys[1]
    try:
        keys = _read_token_signing_keys()
    except Exception:
        if _token_keys is None:
            raise
        # The secret store failing for a moment must not take every token down: the keys read
        # last go on serving, and the next call tries again.
        return _token_keys[1]
    _token_keys = (now, keys)
    return keys


def _read_token_signing_keys() -> list[bytes]:
    local = _env("JWT_SECRET")
    if local:
        previous = _env("JWT_PREVIOUS_SECRET")
        keys = [base64.b64decode(local)] + ([base64.b64decode(previous)] if previous else [])
    else:
        arn = _env("JWT_SECRET_ARN")
        if not arn:
            raise RuntimeError("neither JWT_SECRET nor JWT_SECRET_ARN is configured")
        from aws_lambda_powertools.utilities.parameters import get_secret
        # Powertools' cache does not tell versions apart: fetched here, cached above.
        keys = [str(get_secret(arn, force_fetch=True)).encode()]
        try:
            keys.append(str(get_secret(arn, force_fetch=True, VersionStage="AWSPREVIOUS")).encode())
        except Exception:        # never rotated: there is no previous version
            pass
    return keys


@functools.lru_cache(maxsize=1)
def data_encryption_key() -> bytes:
    """Key for personal data at rest (phone and ID numbers) and its search index."""
    return _secret("DATA_KEY", "DATA_KEY_ARN")


@functools.lru_cache(maxsize=1)
def wechat_app_secret() -> str:
    return _secret("WECHAT_APP_SECRET", "WECHAT_APP_SECRET_ARN").decode()


@functools.lru_cache(maxsize=1)
def qr_signing_keys() -> list[tuple[str, bytes]]:
    """[(kid, raw Ed25519 private key)], the signing key first; older keys stay to verify
    tickets issued before a rotation. The secret holds JSON [{"kid", "key"}] (key in base64)."""
    import json
    entries = json.loads(_secret("QR_SIGNING_KEYS", "QR_SIGNING_KEYS_ARN"))
    return [(str(e["kid"]), base64.b64decode(e["key"])) for e in entries]


@functools.lru_cache(maxsize=1)
def wechatpay() -> dict[str, str]:
    """WeChat Pay v3 merchant settings (public-key mode): mchid, appid, cert_serial_no,
    merchant_private_key (PEM), apiv3_key, platform_public_key (PEM), platform_public_key_id,
    notify_url. The secret holds them as JSON."""
    import json
    return dict(json.loads(_secret("WECHATPAY_CONFIG", "WECHATPAY_CONFIG_ARN")))


@functools.lru_cache(maxsize=1)
def sandbox_platform_private_key() -> str:
    """Local stage only: the key the payment sandbox signs notifications with, as WeChat would."""
    return _secret("SANDBOX_PLATFORM_PRIVATE_KEY", "SANDBOX_PLATFORM_PRIVATE_KEY_ARN").decode()


LOCAL_APPID = "wxlocalsandbox00001"
# The page each event's message opens ({order_id} is the order's id); a stage may set WECHAT_PAGE_<EVENT>.
_PAGES = {"ticket_issued": "pages/tickets/index?order_id={order_id}"}
_ORDER_PAGE = "pages/orders/detail?order_id={order_id}"


def notification_template(event: str) -> tuple[str, str]:
    """(template id, page) of an event's subscribe message: WECHAT_TEMPLATE_<EVENT> and
    WECHAT_PAGE_<EVENT> of the stage; locally `local-<event>`. A deployed stage without a
    template id for an event sends none of it (its messages are FAILED, "no template")."""
    name = event.upper()
    template = _env(f"WECHAT_TEMPLATE_{name}", f"local-{event}" if settings().is_local else "") or ""
    return template, _env(f"WECHAT_PAGE_{name}", _PAGES.get(event, _ORDER_PAGE)) or ""


def miniprogram_state() -> str:
    """Which version of the mini-program a message opens: formal (released), trial or developer."""
    return _env("WECHAT_MINIPROGRAM_STATE", "developer" if settings().is_local else "formal") or "formal"


def reset_caches() -> None:
    """Tests change the environment between runs; forget what was read."""
    global _token_keys
    _token_keys = None
    for cached in (settings, token_signing_key, data_encryption_key, wechat_app_secret, qr_signing_keys,
                   wechatpay, sandbox_platform_private_key):
        cached.cache_clear()
