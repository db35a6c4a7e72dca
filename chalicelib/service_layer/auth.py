"""Logging in customers and staff, and managing staff accounts."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

from ..domain.back_office import AUDIT_NAME_LENGTH, StaffMember
from ..domain.commands import NewStaff, valid_username
from ..domain.error_codes import ErrorCode
from ..domain.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, RuleViolation, TooManyAttempts
from ..domain.principal import Principal
from ..domain.staff import (UNKNOWN_ACTOR, PasswordChange, StaffChanges, attempted_name, client_address,
                            refuse_self_lockout)
from ..domain.timeutil import parse_date, parse_instant
from . import ports
from .context import Actor
from .tags import Tag
from .writes import commit


AUDIT_RANGE = timedelta(days=31)
AUDIT_EXPORT_ROWS = 10_000
UNKNOWN_LOGIN_RETENTION = timedelta(days=90)     # audit records of logins by no account


class Staffing(Protocol):
    """What logging in and managing staff touch."""
    @property
    def people(self) -> ports.PeopleStore: ...
    @property
    def throttle(self) -> ports.LoginThrottle: ...
    @property
    def audit(self) -> ports.AuditTrail: ...
    @property
    def tokens(self) -> ports.Tokens: ...
    @property
    def passwords(self) -> ports.Passwords: ...
    @property
    def wechat(self) -> ports.WeChatLogin: ...
    @property
    def clock(self) -> ports.Clock: ...
    @property
    def cipher(self) -> ports.FieldCipher: ...
    def unit_of_work(self) -> ports.Writes: ...


@dataclass(frozen=True)
class Login:
    token: str
    expires_in: int
    user_id: str | None = None          # customers
    roles: tuple[str, ...] = ()         # staff


def login_customer(ctx: Staffing, code: object) -> Login:
    if not isinstance(code, str) or not 1 <= len(code) <= 200:
        raise InvalidInput("code must be the string from wx.login", field="code")
    openid = ctx.wechat.openid_for(code)
    user_id = ctx.people.user_id_for(openid, ctx.clock())
    token = ctx.tokens.issue(Principal(user_id, "customer", openid=openid))
    return Login(token, ctx.tokens.ttl_seconds, user_id=user_id)


def login_staff(ctx: Staffing, username: object, password: object, source_ip: str | None) -> Login:
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password \
            or len(username) > 64 or len(password) > 200:
        raise InvalidInput("username and password are required strings", field="username")
    username = username.strip().lower()
    now = ctx.clock()
    address = client_address(source_ip)
    lock = ctx.throttle.take_attempt(username, address, now)
    if lock is not None:
        if lock.first:       # one record per lock, however often it is knocked on
            _audit_attempt(ctx, username, _account(ctx, username), "login_blocked", source_ip,
                           {"limit": lock.scope})
        raise TooManyAttempts("too many failed logins; try again later",
                              retry_after_seconds=int((lock.until - now).total_seconds()) + 1)
    member = _account(ctx, username)
    right = ctx.passwords.verify(password, member.password_hash if member else None)
    if not right or member is None or member.disabled:
        _audit_attempt(ctx, username, member, "login_failed", source_ip,
                       {"reason": "disabled"} if right and member is not None else {})
        raise NotAuthenticated("wrong username or password", code=ErrorCode.INVALID_CREDENTIALS)
    ctx.throttle.succeeded(username, address, now)
    ctx.people.record_login(username, now)
    ctx.audit.record(username, "login", now, source_ip=source_ip)
    return _staff_login(ctx, member.username, member.roles, member.generation)


def _account(ctx: Staffing, username: str) -> StaffMember | None:
    """The account of a name as typed (already trimmed and lower-cased); a name no account can
    have (blank, junk) is no account, not a read."""
    return ctx.people.staff(username) if valid_username(username) else None


def _audit_attempt(ctx: Staffing, username: str, member: StaffMember | None, action: str, source_ip: str | None,
                   details: dict[str, str]) -> None:
    """A refused login. One for no account is recorded under one actor with a digest of the
    name tried, and expires: strangers typing made-up names neither add actors nor keep records."""
    now = ctx.clock()
    if member is not None:
        ctx.audit.record(username, action, now, source_ip=source_ip, details=details or None)
    else:
        ctx.audit.record(UNKNOWN_ACTOR, action, now, source_ip=source_ip,
                         details={**details, "attempted": attempted_name(ctx.cipher.blind_index, username)},
                         expires=now + UNKNOWN_LOGIN_RETENTION)


def _staff_login(ctx: Staffing, username: str, roles: frozenset[str], generation: int) -> Login:
    token = ctx.tokens.issue(Principal(username, "staff", roles, generation=generation))
    return Login(token, ctx.tokens.ttl_seconds, roles=tuple(sorted(roles)))


def authenticate(tokens: ports.Tokens, accounts: Callable[[], ports.StaffStanding], token: str) -> Principal:
    """The caller of a bearer token. A customer's token is its own proof; a staff token is
    checked against its account as it is now (one batched read of the account and of the
    token's logout record): a disabled or changed account (its generation moved on) or a
    logged-out token is refused. The roles are the account's current ones. `accounts` is built
    only for a staff token: a customer's authorization loads no database client."""
    principal = tokens.verify(token)
    if principal.kind != "staff":
        return principal
    member, ended = accounts().standing(principal.subject, principal.token_id)
    if member is None or member.disabled or ended or member.generation != (principal.generation or 0):
        raise NotAuthenticated("this token has been ended; log in again", code=ErrorCode.TOKEN_REVOKED)
    return dataclasses.replace(principal, roles=member.roles)


def list_staff(ctx: Staffing, limit: int, cursor: str | None) -> ports.Page:
    return ctx.people.staff_page(limit, cursor)


def _no_longer_admin(_: str) -> Conflict:
    return Conflict("your own account is no longer an enabled admin", code=ErrorCode.LAST_ADMIN)


def change_staff(ctx: Staffing, actor: Actor, username: str, changes: StaffChanges) -> StaffMember:
    """An admin's change of an account, at once: its generation goes up in the same write, so
    every token issued before stops working at its next authorization."""
    target = username.strip().lower()
    refuse_self_lockout(actor.name, target, changes)
    before = _account(ctx, target)
    if before is None:
        raise NotFound(f"no staff account {username}", code=ErrorCode.STAFF_NOT_FOUND)
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.people.change_staff(uow, before, changes.roles, changes.disabled,
                            ctx.passwords.hash(changes.password) if changes.password is not None else None)
    if before.username != actor.name:
        # The actor is still an enabled admin as this is written: a token let through by the
        # authorizer's cache after its account was disabled or demoted changes nobody, and two
        # admins taking each other's admin at once cannot both succeed.
        ctx.people.require_enabled_admin(uow, actor.name)
    details: dict[str, object] = {"generation": before.generation + 1}
    if changes.roles is not None:
        details["roles"] = changes.roles
    if changes.disabled is not None:
        details["disabled"] = changes.disabled
    if changes.password is not None:
        details["password_changed"] = True
    ctx.audit.record(actor.name, "staff_changed", now, target=before.username, source_ip=actor.source_ip,
                     details=details, uow=uow)
    commit(uow, {Tag.STAFF: lambda _: Conflict("the account changed meanwhile; read it again",
                                               code=ErrorCode.STAFF_CHANGED),
                 Tag.ACTOR: _no_longer_admin})
    return dataclasses.replace(before, roles=frozenset(changes.roles) if changes.roles is not None else before.roles,
                               disabled=changes.disabled if changes.disabled is not None else before.disabled,
                               generation=before.generation + 1)


def change_own_password(ctx: Staffing, actor: Actor, change: PasswordChange) -> Login:
    """The caller's own password: the old one is checked (and throttled like a login), every
    other token of the account ends, and the caller gets a fresh token to go on with."""
    member = ctx.people.staff(actor.name)
    if member is None or member.disabled:
        raise NotAuthenticated("this token has been ended; log in again", code=ErrorCode.TOKEN_REVOKED)
    now = ctx.clock()
    address = client_address(actor.source_ip)
    lock = ctx.throttle.take_attempt(member.username, address, now)
    if lock is not None:
        raise TooManyAttempts("too many failed attempts; try again later",
                              retry_after_seconds=int((lock.until - now).total_seconds()) + 1)
    if not ctx.passwords.verify(change.old_password, member.password_hash):
        ctx.audit.record(member.username, "password_change_failed", now, source_ip=actor.source_ip)
        raise RuleViolation("the old password is not right", code=ErrorCode.WRONG_PASSWORD)
    ctx.throttle.succeeded(member.username, address, now)
    uow = ctx.unit_of_work()
    ctx.people.change_staff(uow, member, None, None, ctx.passwords.hash(change.new_password))
    ctx.audit.record(member.username, "password_changed", now, target=member.username, source_ip=actor.source_ip,
                     details={"generation": member.generation + 1}, uow=uow)
    commit(uow, {Tag.STAFF: lambda _: Conflict("the account changed meanwhile; try again",
                                               code=ErrorCode.STAFF_CHANGED)})
    return _staff_login(ctx, member.username, member.roles, member.generation + 1)


def logout(ctx: Staffing, actor: Actor) -> None:
    """Ends the caller's token: its id is kept (until the token would have expired anyway) where
    the authorizer's read finds it."""
    principal = actor.principal
    if principal.token_id is None or principal.token_expires is None:
        raise NotAuthenticated("this token cannot be ended; log in again")
    now = ctx.clock()
    ctx.people.revoke_token(principal.token_id, principal.subject,
                            datetime.fromtimestamp(principal.token_expires, tz=timezone.utc))
    ctx.audit.record(principal.subject, "logout", now, source_ip=actor.source_ip)


def create_staff(ctx: Staffing, actor: Actor, command: NewStaff, seeding: bool = False) -> NewStaff:
    """A new account; its creator must still be an enabled admin as it is written (unless the
    system seeds the first one)."""
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.people.add_staff(uow, command.username, ctx.passwords.hash(command.password), command.roles,
                         actor.name, now)
    if not seeding and command.username != actor.name:     # one's own name is taken anyway: 409
        ctx.people.require_enabled_admin(uow, actor.name)
    ctx.audit.record(actor.name, "staff_created", now, target=command.username, source_ip=actor.source_ip,
                     details={"roles": command.roles}, uow=uow)
    commit(uow, {Tag.STAFF: lambda _: Conflict(f"username {command.username} is taken",
                                               code=ErrorCode.USERNAME_TAKEN),
                 Tag.ACTOR: _no_longer_admin})
    return command


def ensure_staff(ctx: Staffing, actor: Actor, command: NewStaff) -> bool:
    """Creates the account unless it exists (the local stack's seeded admin); True if created."""
    if ctx.people.staff(command.username) is not None:
        return False
    try:
        create_staff(ctx, actor, command, seeding=True)
    except Conflict:
        return False
    return True


def audit_search(ctx: Staffing, day: str | None, start: str | None, end: str | None, actor: str | None,
                 action: str | None, limit: int, cursor: str | None) -> ports.Page:
    """One UTC day of the audit log (today when no day is given), or a time range of at most
    31 days; newest first, narrowed to one actor and one action when given."""
    for name, value in (("actor", actor), ("action", action)):
        if value is not None and len(value) > AUDIT_NAME_LENGTH:
            raise InvalidInput(f"{name} is at most {AUDIT_NAME_LENGTH} characters", field=name)
    now = ctx.clock()
    if start is None and end is None:
        days = [now.strftime("%Y-%m-%d") if day is None else parse_date(day, "date").isoformat()]
        return ctx.audit.search(days, None, None, actor or None, action or None, limit, cursor)
    last = parse_instant(end, "to") if end is not None else now
    first = parse_instant(start, "from") if start is not None else last - AUDIT_RANGE
    if last < first:
        raise InvalidInput("to must not be before from", field="to")
    if last - first > AUDIT_RANGE:
        raise InvalidInput(f"a search covers at most {AUDIT_RANGE.days} days", field="from")
    days = [(last.astimezone(timezone.utc) - timedelta(days=n)).strftime("%Y-%m-%d")
            for n in range((last.astimezone(timezone.utc).date() - first.astimezone(timezone.utc).date()).days + 1)]
    return ctx.audit.search(days, first, last, actor or None, action or None, limit, cursor)
