"""Customers, staff, the login throttle and the audit log, as `adapters.people_repository` and
`adapters.audit_log` keep them: a staff change is conditional on the generation read (tag
"staff"), its actor must still be an enabled admin (a ConditionCheck, tag "actor"); the audit
record of a change is written in the change's own transaction (tag "audit")."""
from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.back_office import AuditEntry, StaffMember
from chalicelib.domain.staff import LoginLock
from chalicelib.domain.timeutil import to_storage
from chalicelib.service_layer.ports import Page
from chalicelib.service_layer.tags import Tag

from . import paging
from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent, always

STAFF, CUSTOMERS, REVOKED, THROTTLE, AUDIT = "staff", "customers", "revoked-tokens", "login-throttle", "audit"


class FakePeople:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def staff(self, username: str) -> StaffMember | None:
        return self.db.table(STAFF).get(username)

    def add_staff(self, uow: FakeUnitOfWork, username: str, password_hash: str, roles: list[str], by: str,
                  now: datetime) -> None:
        member = StaffMember(username, password_hash, frozenset(roles), created_at=now)
        uow.add(STAFF, username, Tag.STAFF, absent, lambda _: member)

    def staff_page(self, limit: int, cursor: str | None) -> Page:
        return paging.page(self.db.table(STAFF).values(), lambda m: m.username, limit, cursor, descending=False)

    def change_staff(self, uow: FakeUnitOfWork, before: StaffMember, roles: list[str] | None, disabled: bool | None,
                     password_hash: str | None) -> None:
        def apply(member: StaffMember | None) -> StaffMember:
            assert member is not None
            changes: dict[str, Any] = {"generation": before.generation + 1}
            if roles is not None:
                changes["roles"] = frozenset(roles)
            if disabled is not None:
                changes["disabled"] = disabled
            if password_hash is not None:
                changes["password_hash"] = password_hash
            return dataclasses.replace(member, **changes)
        uow.add(STAFF, before.username, Tag.STAFF,
                lambda member: member is not None and member.generation == before.generation, apply)

    def require_enabled_admin(self, uow: FakeUnitOfWork, username: str) -> None:
        uow.check(STAFF, username, Tag.ACTOR,
                  lambda member: member is not None and not member.disabled and "admin" in member.roles)

    def record_login(self, username: str, now: datetime) -> None:
        member = self.db.table(STAFF).get(username)
        if member is None:
            raise LookupError(f"no staff account {username}")      # the adapter's write is conditional on it
        self.db.table(STAFF)[username] = dataclasses.replace(member, last_login_at=now)

    def revoke_token(self, token_id: str, username: str, expires_at: datetime) -> None:
        self.db.table(REVOKED)[token_id] = (username, expires_at)

    def standing(self, username: str, token_id: str | None) -> tuple[StaffMember | None, bool]:
        return self.staff(username), bool(token_id and token_id in self.db.table(REVOKED))

    def user_id_for(self, openid: str, now: datetime) -> str:
        customers = self.db.table(CUSTOMERS)
        if openid not in customers:
            customers[openid] = ("U" + secrets.token_hex(8), now)
        return str(customers[openid][0])


@dataclass
class _Window:
    failures: int
    refused: int
    window_start: float


class FakeThrottle:
    """Failed staff logins per account and address, and per address, in windows that start with
    their first attempt; an attempt is counted before its password is checked."""

    def __init__(self, db: FakeDatabase, per_account: int = 5, per_address: int = 20,
                 window_seconds: int = 900) -> None:
        self.db = db
        self.per_account, self.per_address, self.window_seconds = per_account, per_address, window_seconds

    @staticmethod
    def keys(username: str, address: str) -> tuple[str, str]:
        return f"pair#{address}#{username}", f"addr#{address}"

    def take_attempt(self, username: str, address: str, now: datetime) -> LoginLock | None:
        pair, by_address = self.keys(username, address)
        lock = self._take(by_address, self.per_address, now, "address")
        if lock is not None:
            return lock
        lock = self._take(pair, self.per_account, now, "account")
        if lock is not None:
            self._give_back(by_address, now)
        return lock

    def succeeded(self, username: str, address: str, now: datetime) -> None:
        pair, by_address = self.keys(username, address)
        self.db.table(THROTTLE).pop(pair, None)
        self._give_back(by_address, now)

    def _take(self, key: str, limit: int, now: datetime, scope: str) -> LoginLock | None:
        stamp = now.timestamp()
        table = self.db.table(THROTTLE)
        window = table.get(key)
        if window is None or window.window_start <= stamp - self.window_seconds:
            table[key] = _Window(1, 0, stamp)                 # this attempt opens a new window
            return None
        if window.failures < limit:
            window.failures += 1
            return None
        window.refused += 1
        until = datetime.fromtimestamp(window.window_start + self.window_seconds, tz=now.tzinfo)
        return LoginLock(until, scope, first=window.refused == 1)

    def _give_back(self, key: str, now: datetime) -> None:
        window = self.db.table(THROTTLE).get(key)
        if window is not None and window.window_start > now.timestamp() - self.window_seconds and window.failures > 0:
            window.failures -= 1


class FakeAudit:
    """Who did what: on its own, or in the transaction of the change it records."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def record(self, actor: str, action: str, at: datetime, target: str | None = None,
               source_ip: str | None = None, details: dict[str, Any] | None = None,
               uow: FakeUnitOfWork | None = None, expires: datetime | None = None) -> None:
        # As stored: JSON, whatever is not JSON written as text.
        stored = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
        entry = AuditEntry(actor=actor, action=action, at=at, target=target, source_ip=source_ip, details=stored)
        key = (at.strftime("%Y-%m-%d"), f"{to_storage(at)}#{secrets.token_hex(4)}")
        if uow is None:
            self.db.table(AUDIT)[key] = (entry, expires)
        else:
            uow.add(AUDIT, key, Tag.AUDIT, always, lambda _: (entry, expires))

    def entries(self) -> list[AuditEntry]:
        """Every record, oldest first (tests' view)."""
        return [entry for _, (entry, _) in sorted(self.db.table(AUDIT).items(), key=lambda kv: kv[0][1])]

    def search(self, days: list[str], start: datetime | None, end: datetime | None, actor: str | None,
               action: str | None, limit: int, cursor: str | None) -> Page:
        lo, hi = to_storage(start) if start else "0", (to_storage(end) + "#~") if end else "~"
        rows = [(key, entry) for key, (entry, _) in self.db.table(AUDIT).items()
                if key[0] in days and lo <= key[1] <= hi and (actor is None or entry.actor == actor)
                and (action is None or entry.action == action)]
        order = {day: i for i, day in enumerate(days)}
        return paging.page(rows, lambda row: [-order[row[0][0]], row[0][1]], limit, cursor, descending=True,
                           convert=lambda row: row[1])
