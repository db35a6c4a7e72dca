"""What the back office reads besides orders and stock: staff accounts, the audit log and
operational alerts, as plain values."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

AUDIT_NAME_LENGTH = 64              # an actor or action searched for in the audit log


@dataclass(frozen=True)
class StaffMember:
    username: str
    password_hash: str
    roles: frozenset[str]
    disabled: bool = False
    generation: int = 0            # bumped by a disable, a role or a password change: older tokens end
    created_at: datetime | None = None
    last_login_at: datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when and from where. `details` never holds personal data."""
    actor: str
    action: str
    at: datetime
    target: str | None = None
    source_ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    kind: str                      # low_stock | refund_failed | scan_conflict | ...
    severity: str                  # info | warning | critical
    message: str
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
