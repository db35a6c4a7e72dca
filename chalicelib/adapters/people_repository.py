"""Customers and staff in DynamoDB, and the staff login throttle."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from ..domain.back_office import StaffMember
from .dynamo import UnitOfWork, get_or_none, stored_time, table_meta


class CustomerRecord(Model):
    Meta = table_meta("customers")
    openid = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class StaffRecord(Model):
    Meta = table_meta("staff")
    username = UnicodeAttribute(hash_key=True)
    password_hash = UnicodeAttribute()
    roles = UnicodeSetAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()


class LoginThrottleRecord(Model):
    """Failed logins per username in the current window; expires by TTL."""
    Meta = table_meta("login-throttle")
    username = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(default=0)
    window_start = NumberAttribute()
    expires = TTLAttribute()


class PeopleRepository:
    def staff(self, username: str) -> StaffMember | None:
        r = get_or_none(StaffRecord, username)
        return StaffMember(r.username, r.password_hash, frozenset(r.roles)) if r else None

    def add_staff(self, uow: UnitOfWork, username: str, password_hash: str, roles: list[str], by: str,
                  now: datetime) -> None:
        uow.put(StaffRecord(username=username, password_hash=password_hash, roles=set(roles),
                            created_at=stored_time(now), created_by=by),
                condition=StaffRecord.username.does_not_exist(), tag="staff")

    def user_id_for(self, openid: str, now: datetime) -> str:
        """The customer's stable user id, created at first login."""
        known = get_or_none(CustomerRecord, openid)
        if known is not None:
            return known.user_id
        record = CustomerRecord(openid=openid, user_id="U" + secrets.token_hex(8), created_at=stored_time(now))
        try:
            record.save(condition=CustomerRecord.openid.does_not_exist())
            return record.user_id
        except PutError:           # a first login racing another: the first one's id stands
            return CustomerRecord.get(openid, consistent_read=True).user_id


class LoginThrottle:
    """Staff login attempts per username in a window that starts with the first one. Each
    attempt is counted by one atomic, conditional write before its password is checked, so
    parallel guesses are all counted and none gets past the limit."""

    def __init__(self, max_failures: int = 5, window_seconds: int = 900) -> None:
        self.max_failures, self.window_seconds = max_failures, window_seconds

    def take_attempt(self, username: str, now: datetime) -> datetime | None:
        """Counts an attempt; None when it may go ahead, else when the lock ends."""
        stamp = now.timestamp()
        for _ in range(3):
            try:
                LoginThrottleRecord(username=username).update(
                    actions=[LoginThrottleRecord.failures.add(1)],
                    condition=(LoginThrottleRecord.window_start > stamp - self.window_seconds)
                    & (LoginThrottleRecord.failures < self.max_failures))
                return None
            except UpdateError:
                pass
            try:           # no window yet, or it has passed: this attempt opens a new one
                LoginThrottleRecord(username=username, failures=1, window_start=stamp,
                                    expires=now + timedelta(seconds=self.window_seconds)).save(
                    condition=LoginThrottleRecord.username.does_not_exist()
                    | (LoginThrottleRecord.window_start <= stamp - self.window_seconds))
                return None
            except PutError:
                pass
            current = get_or_none(LoginThrottleRecord, username)
            if current is not None and float(current.window_start) > stamp - self.window_seconds \
                    and current.failures >= self.max_failures:
                return datetime.fromtimestamp(float(current.window_start) + self.window_seconds, tz=now.tzinfo)
        # Three rounds of contention on one username: refuse this attempt for a second.
        return datetime.fromtimestamp(stamp + 1, tz=now.tzinfo)

    def clear(self, username: str) -> None:
        """A successful login forgets the window's attempts."""
        LoginThrottleRecord(username=username).delete()
