"""Customers and staff in DynamoDB: staff accounts, the tokens ended by a logout, and the staff
login throttle."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from pynamodb.attributes import (BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute,
                                 UnicodeSetAttribute)
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from ..domain.back_office import StaffMember
from ..domain.staff import LoginLock
from ..service_layer.ports import Page
from ..service_layer.tags import Tag
from .dynamo import batch_get, condition_refused, get_or_none, page_of, read_time, stored_time, table_meta
from .unit_of_work import UnitOfWork

DIRECTORY = "staff"


class CustomerRecord(Model):
    Meta = table_meta("customers")
    openid = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class StaffDirectoryIndex(GlobalSecondaryIndex["StaffRecord"]):
    """Every account, by name, for the back office's list. Its key is one constant: staff
    accounts are few and change rarely (a login writes only last_login_at), far from a
    partition's limit, and no request of customers or gates writes here."""
    class Meta:
        index_name = "directory-index"
        projection = IncludeProjection(["roles", "disabled", "created_at", "last_login_at"])
    directory = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute(range_key=True)


class StaffRecord(Model):
    Meta = table_meta("staff")
    username = UnicodeAttribute(hash_key=True)
    password_hash = UnicodeAttribute()
    roles = UnicodeSetAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    disabled = BooleanAttribute(default=False)
    generation = NumberAttribute(default=0)     # in each token; bumped when the account changes
    last_login_at = UnicodeAttribute(null=True)
    directory = UnicodeAttribute(default=DIRECTORY)
    directory_index = StaffDirectoryIndex()


class RevokedTokenRecord(Model):
    """A staff token ended before its time (a logout), kept until the token would expire."""
    Meta = table_meta("revoked-tokens")
    token_id = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    expires = TTLAttribute()


class LoginThrottleRecord(Model):
    """Failed logins under one key (an account from one address, or one address) in the current
    window; every record expires by TTL with its window."""
    Meta = table_meta("login-throttle")
    key = UnicodeAttribute(hash_key=True, attr_name="username")
    failures = NumberAttribute(default=0)
    refused = NumberAttribute(default=0)
    window_start = NumberAttribute()
    expires = TTLAttribute()


def _member(r: StaffRecord) -> StaffMember:
    return StaffMember(r.username, r.password_hash, frozenset(r.roles), disabled=bool(r.disabled),
                       generation=int(r.generation or 0), created_at=read_time(r.created_at),
                       last_login_at=read_time(r.last_login_at))


class PeopleRepository:
    def staff(self, username: str) -> StaffMember | None:
        r = get_or_none(StaffRecord, username)
        return _member(r) if r else None

    def add_staff(self, uow: UnitOfWork, username: str, password_hash: str, roles: list[str], by: str,
                  now: datetime) -> None:
        uow.put(StaffRecord(username=username, password_hash=password_hash, roles=set(roles),
                            created_at=stored_time(now), created_by=by),
                condition=StaffRecord.username.does_not_exist(), tag=Tag.STAFF)

    def staff_page(self, limit: int, cursor: str | None) -> Page:
        return page_of(lambda start: StaffRecord.directory_index.query(
            DIRECTORY, limit=limit, last_evaluated_key=start),
            cursor, {"username", "directory"}, _member, pinned={"directory": DIRECTORY})

    def change_staff(self, uow: UnitOfWork, before: StaffMember, roles: list[str] | None, disabled: bool | None,
                     password_hash: str | None) -> None:
        """One conditional update on the generation read: a change made meanwhile refuses it
        (tag "staff"); the generation goes up, so every token issued before ends."""
        actions = [StaffRecord.generation.set(before.generation + 1), StaffRecord.directory.set(DIRECTORY)]
        if roles is not None:
            actions.append(StaffRecord.roles.set(set(roles)))
        if disabled is not None:
            actions.append(StaffRecord.disabled.set(disabled))
        if password_hash is not None:
            actions.append(StaffRecord.password_hash.set(password_hash))
        same = StaffRecord.generation == before.generation
        if before.generation == 0:             # accounts from before generations were kept
            same = same | StaffRecord.generation.does_not_exist()
        uow.update(StaffRecord(username=before.username), actions, condition=StaffRecord.username.exists() & same,
                   tag=Tag.STAFF)

    def require_enabled_admin(self, uow: UnitOfWork, username: str) -> None:
        """The change's actor is still an enabled admin when it commits (tag "actor")."""
        enabled = StaffRecord.disabled.does_not_exist() | (StaffRecord.disabled == False)  # noqa: E712
        uow.check(StaffRecord, username, enabled & StaffRecord.roles.contains("admin"), tag=Tag.ACTOR)

    def record_login(self, username: str, now: datetime) -> None:
        StaffRecord(username=username).update(
            actions=[StaffRecord.last_login_at.set(stored_time(now)), StaffRecord.directory.set(DIRECTORY)],
            condition=StaffRecord.username.exists())

    def revoke_token(self, token_id: str, username: str, expires_at: datetime) -> None:
        RevokedTokenRecord(token_id=token_id, username=username, expires=expires_at).save()

    def standing(self, username: str, token_id: str | None) -> tuple[StaffMember | None, bool]:
        """The account as it is now and whether this token was ended: ONE BatchGetItem, what a
        staff token costs on each authorization the gateway has not cached."""
        keys: dict[type[Model], list[str]] = {StaffRecord: [username]}
        if token_id:
            keys[RevokedTokenRecord] = [token_id]
        found = batch_get(keys)
        record = found[StaffRecord].get(username)
        return (_member(record) if record else None), bool(token_id and found.get(RevokedTokenRecord, {}).get(token_id))

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
    """Failed staff logins per account and client address (a stranger elsewhere cannot lock the
    owner out) and per address across accounts (one address cannot spray passwords), each in a
    window that starts with its first attempt. Each attempt is counted under both keys by an
    atomic, conditional write before its password is checked, so parallel guesses are all
    counted and none gets past a limit; a successful login gives its attempt back."""

    def __init__(self, per_account: int = 5, per_address: int = 20, window_seconds: int = 900) -> None:
        self.per_account, self.per_address, self.window_seconds = per_account, per_address, window_seconds

    @staticmethod
    def keys(username: str, address: str) -> tuple[str, str]:
        return f"pair#{address}#{username}", f"addr#{address}"

    def take_attempt(self, username: str, address: str, now: datetime) -> LoginLock | None:
        """Counts an attempt; None when it may go ahead, else the lock it ran into."""
        pair, by_address = self.keys(username, address)
        lock = self._take(by_address, self.per_address, now, "address")
        if lock is not None:
            return lock
        lock = self._take(pair, self.per_account, now, "account")
        if lock is not None:
            self._give_back(by_address, now)     # not checked: it counts against the pair only
        return lock

    def succeeded(self, username: str, address: str, now: datetime) -> None:
        """The right password: the pair's failures are forgotten, and the attempt no longer
        counts against the address (an office of many staff behind one address logs in all day)."""
        pair, by_address = self.keys(username, address)
        LoginThrottleRecord(key=pair).delete()
        self._give_back(by_address, now)

    def _take(self, key: str, limit: int, now: datetime, scope: str) -> LoginLock | None:
        stamp = now.timestamp()
        opened = stamp - self.window_seconds
        for _ in range(3):
            try:
                LoginThrottleRecord(key=key).update(
                    actions=[LoginThrottleRecord.failures.add(1)],
                    condition=(LoginThrottleRecord.window_start > opened) & (LoginThrottleRecord.failures < limit))
                return None
            except UpdateError as error:
                if not condition_refused(error):
                    raise
            try:           # no window yet, or it has passed: this attempt opens a new one
                LoginThrottleRecord(key=key, failures=1, refused=0, window_start=stamp,
                                    expires=now + timedelta(seconds=self.window_seconds)).save(
                    condition=LoginThrottleRecord.key.does_not_exist()
                    | (LoginThrottleRecord.window_start <= opened))
                return None
            except PutError as error:
                if not condition_refused(error):
                    raise
            current = LoginThrottleRecord(key=key)
            try:           # locked: counts the refusal, which tells the lock's end and whether it is new
                current.update(actions=[LoginThrottleRecord.refused.add(1)],
                               condition=(LoginThrottleRecord.window_start > opened)
                               & (LoginThrottleRecord.failures >= limit))
            except UpdateError as error:
                if not condition_refused(error):
                    raise
                continue
            until = datetime.fromtimestamp(float(current.window_start) + self.window_seconds, tz=now.tzinfo)
            return LoginLock(until, scope, first=int(current.refused) == 1)
        # Three rounds of contention on one key: refuse this attempt for a second.
        return LoginLock(datetime.fromtimestamp(stamp + 1, tz=now.tzinfo), scope, first=False)

    def _give_back(self, key: str, now: datetime) -> None:
        try:
            LoginThrottleRecord(key=key).update(
                actions=[LoginThrottleRecord.failures.add(-1)],
                condition=(LoginThrottleRecord.window_start > now.timestamp() - self.window_seconds)
                & (LoginThrottleRecord.failures > 0))
        except UpdateError as error:       # its window has passed meanwhile: nothing to give back
            if not condition_refused(error):
                raise

