"""The rest of the world outside the domain, faked: a clock tests move, metrics and messages
that are remembered to be asserted on, and security primitives that are cheap (no scrypt, no
AES, no Ed25519) but keep the properties the use cases rely on."""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.domain.errors import NotAuthenticated
from chalicelib.domain.principal import Principal
from chalicelib.domain.tickets import QR_PREFIX, QrClaims, Ticket

START = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)     # 10:00 in the venue (Asia/Shanghai)


class FakeClock:
    """The use cases' clock: `now` until moved. Each reading moves it on by `step` (a microsecond)
    so that, as with a real clock, no two writes share an instant (a product's version is the
    time it was written)."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(microseconds=1)) -> None:
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now

    def advance(self, by: timedelta | None = None, **parts: float) -> datetime:
        self.now += by or timedelta(**parts)
        return self.now


@dataclass
class FakeMetrics:
    counted: list[tuple[str, float, dict[str, str]]] = field(default_factory=list)

    def count(self, name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
        self.counted.append((name, value, dimensions))

    def total(self, name: str, **dimensions: str) -> float:
        return sum(v for n, v, d in self.counted if n == name and all(d.get(k) == x for k, x in dimensions.items()))


@dataclass
class FakeMessages:
    """The queues: what was sent to the workers. `broken` makes every send fail, as SQS may."""
    refunds: list[str] = field(default_factory=list)
    due: list[str] = field(default_factory=list)
    stock: list[str] = field(default_factory=list)
    hot: list[str] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    redeemed: list[str] = field(default_factory=list)
    session_steps: list[tuple[str, int]] = field(default_factory=list)
    notices: list[tuple[str, str, str]] = field(default_factory=list)     # (order_id, event, key)
    broken: bool = False

    def _send(self) -> None:
        if self.broken:
            raise ConnectionError("SQS unreachable")

    def refund_approved(self, refund_id: str) -> None:
        self._send()
        self.refunds.append(refund_id)

    def orders_due(self, order_ids: list[str]) -> None:
        self._send()
        self.due.extend(order_ids)

    def stock_changed(self, sku_ids: list[str]) -> None:
        self._send()
        self.stock.extend(sku_ids)

    def stock_hot(self, sku_ids: list[str]) -> None:
        self._send()
        self.hot.extend(sku_ids)

    def notify(self, order_id: str, event: str, key: str) -> None:
        self._send()
        self.notices.append((order_id, str(event), key))

    def alert(self, kind: str, message: str, severity: str = "warning", **details: Any) -> None:
        self._send()
        self.alerts.append({"kind": kind, "message": message, "severity": severity, **details})

    def session_cancellation_step(self, sku_id: str, delay_seconds: int = 0) -> None:
        self._send()
        self.session_steps.append((sku_id, delay_seconds))

    def code_redeemed(self, order_id: str) -> None:
        self._send()
        self.redeemed.append(order_id)

    def alert_kinds(self) -> list[str]:
        return [a["kind"] for a in self.alerts]


@dataclass
class FakeNotifier:
    published: list[tuple[str, str]] = field(default_factory=list)

    def publish(self, subject: str, message: str) -> None:
        self.published.append((subject, message))


class FakeTokens:
    """Tokens that name their principal in a registry: what was issued verifies, nothing else."""

    def __init__(self, clock: FakeClock, ttl_seconds: int = 7200) -> None:
        self.clock, self.ttl_seconds = clock, ttl_seconds
        self._issued: dict[str, Principal] = {}
        self._ids = itertools.count(1)

    def issue(self, principal: Principal, now: float | None = None) -> str:
        issued = now if now is not None else self.clock.now.timestamp()
        token_id = f"t{next(self._ids)}"
        self._issued[f"token-{token_id}"] = Principal(principal.subject, principal.kind, principal.roles,
                                                      principal.openid, principal.generation, token_id,
                                                      int(issued) + self.ttl_seconds)
        return f"token-{token_id}"

    def verify(self, token: str) -> Principal:
        principal = self._issued.get(token)
        if principal is None:
            raise NotAuthenticated("the token is not valid", code="INVALID_TOKEN")
        if (principal.token_expires or 0) <= self.clock.now.timestamp():
            raise NotAuthenticated("the token has expired", code="TOKEN_EXPIRED")
        return principal


class FakePasswords:
    def hash(self, password: str) -> str:
        return "fake$" + hashlib.sha256(password.encode()).hexdigest()

    def verify(self, password: str, stored: str | None) -> bool:
        return stored is not None and hmac.compare_digest(stored, self.hash(password))


class FakeCipher:
    """Reversible and visibly so ("enc:"), with a keyed hash for lookups."""
    KEY = b"fake blind index key"

    def encrypt(self, plaintext: str) -> str:
        return "enc:" + base64.b64encode(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        return base64.b64decode(token.removeprefix("enc:")).decode()

    def encrypt_json(self, value: object) -> str:
        return self.encrypt(json.dumps(value, ensure_ascii=False))

    def decrypt_json(self, token: str) -> object:
        return json.loads(self.decrypt(token))

    def blind_index(self, value: str) -> str:
        return hmac.new(self.KEY, value.encode(), hashlib.sha256).hexdigest()[:32]


class FakeQr:
    """QR payloads in the real format's shape (MM1.<kid>.<n>.<sig>); only what it signed verifies."""

    def __init__(self) -> None:
        self._signed: dict[str, QrClaims] = {}

    def sign(self, ticket: Ticket) -> str:
        payload = f"{QR_PREFIX}.fake.{len(self._signed) + 1}.{ticket.code}"
        self._signed[payload] = QrClaims(ticket.ticket_id, ticket.code, ticket.kind.value, ticket.sku_id,
                                         ticket.valid_from, ticket.valid_until)
        return payload

    def verify(self, payload: str) -> QrClaims | None:
        return self._signed.get(payload)

    def public_keys(self) -> list[dict[str, str]]:
        return [{"kid": "fake", "alg": "Ed25519", "public_key": "fake"}]


class FakeWeChatLogin:
    """wx.login codes as the local stage's DevLogin reads them: dev:<openid>."""

    def openid_for(self, code: str) -> str:
        if not code.startswith("dev:") or len(code) < 5:
            raise NotAuthenticated("WeChat did not accept the login code", code="INVALID_LOGIN_CODE")
        return code[4:]
