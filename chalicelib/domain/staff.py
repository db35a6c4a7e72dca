"""Staff accounts as they change after creation (roles, disabling, passwords), the rule that keeps
the shop from losing its last admin, and the keys the login throttle counts failures under."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from .commands import ROLES
from .error_codes import ErrorCode
from .errors import Conflict, InvalidInput
from .validation import Fields

MIN_PASSWORD, MAX_PASSWORD = 10, 200
UNKNOWN_ACTOR = "(unknown)"       # failed logins for names that are no account: not a valid username
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class StaffChanges:
    """A PATCH of an account: only what is given changes."""
    roles: list[str] | None = None
    disabled: bool | None = None
    password: str | None = None


@dataclass(frozen=True)
class PasswordChange:
    old_password: str
    new_password: str


def parse_staff_changes(data: object) -> StaffChanges:
    f = Fields(data)
    f.only({"roles", "disabled", "password"})
    for name, value in f.data.items():
        if value is None:
            raise InvalidInput(f"{name} must not be null: leave it out to keep it", field=name)
    roles = None
    if f.has("roles"):
        roles = f.strings("roles", max_items=len(ROLES), max_len=20, required=True)
        if not roles or any(r not in ROLES for r in roles):
            raise InvalidInput(f"roles must be a non-empty list of {', '.join(ROLES)}", field="roles")
        roles = sorted(set(roles))
    disabled = f.boolean("disabled") if f.has("disabled") else None
    password = f.string("password", required=False, min_len=MIN_PASSWORD, max_len=MAX_PASSWORD, strip=False)
    changes = StaffChanges(roles, disabled, password)
    if changes == StaffChanges():
        raise InvalidInput("give roles, disabled or password to change", field="body")
    return changes


def parse_password_change(data: object) -> PasswordChange:
    f = Fields(data)
    old = f.string("old_password", max_len=MAX_PASSWORD, strip=False) or ""
    new = f.string("new_password", min_len=MIN_PASSWORD, max_len=MAX_PASSWORD, strip=False) or ""
    if old == new:
        raise InvalidInput("the new password must differ from the old one", field="new_password")
    return PasswordChange(old, new)


def refuse_self_lockout(actor: str, target: str, changes: StaffChanges) -> None:
    """An admin may not disable their own account nor take their own admin role: the acting admin
    stays one, so the shop never loses its last admin to one change. (Two admins disabling each
    other at once are kept apart by the store: each change is conditional on its actor still
    being an enabled admin.)"""
    if actor != target:
        return
    if changes.disabled or (changes.roles is not None and "admin" not in changes.roles):
        raise Conflict("you cannot disable your own account or take away your own admin role; "
                       "ask another admin", code=ErrorCode.LAST_ADMIN)


def client_address(source_ip: str | None) -> str:
    """Where a login comes from, as the throttle counts it: an IPv4 address, or an IPv6 /64
    (one subscriber's network: an attacker there has all of it)."""
    try:
        address = ipaddress.ip_address((source_ip or "").strip())
    except ValueError:
        return UNKNOWN_ADDRESS
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if isinstance(address, ipaddress.IPv6Address) else str(address)


def attempted_name(keyed_hash: Callable[[str], str], username: str) -> str:
    """How the audit log names a login attempt for no account: a short keyed digest, so that
    what strangers type (a password in the wrong field, junk) is neither stored, nor guessable
    back from a dictionary, nor a new actor."""
    return "hmac:" + keyed_hash("staff-login:" + username)[:16]


@dataclass(frozen=True)
class LoginLock:
    """A login refused unchecked: until when, which limit (`account`: this account from this
    address; `address`: this address across accounts), and whether it is the lock's first refusal
    (the one worth an audit record)."""
    until: datetime
    scope: str
    first: bool
