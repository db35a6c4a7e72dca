"""Logging in customers and staff, and managing staff accounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Protocol

from ..domain.back_office import AUDIT_NAME_LENGTH
from ..domain.commands import NewStaff
from ..domain.errors import Conflict, InvalidInput, NotAuthenticated, TooManyAttempts
from ..domain.principal import Principal
from ..domain.timeutil import parse_date, parse_instant
from . import ports
from .context import Actor
from .writes import commit


AUDIT_RANGE = timedelta(days=31)
AUDIT_EXPORT_ROWS = 10_000


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
    locked = ctx.throttle.take_attempt(username, now)
    if locked is not None:
        ctx.audit.record(username, "login_blocked", now, source_ip=source_ip)
        raise TooManyAttempts("too many failed logins; try again later",
                              retry_after_seconds=int((locked - now).total_seconds()) + 1)
    member = ctx.people.staff(username)
    if not ctx.passwords.verify(password, member.password_hash if member else None) or member is None:
        ctx.audit.record(username, "login_failed", now, source_ip=source_ip)
        raise NotAuthenticated("wrong username or password", code="INVALID_CREDENTIALS")
    ctx.throttle.clear(username)
    ctx.audit.record(username, "login", now, source_ip=source_ip)
    token = ctx.tokens.issue(Principal(username, "staff", member.roles))
    return Login(token, ctx.tokens.ttl_seconds, roles=tuple(sorted(member.roles)))


def create_staff(ctx: Staffing, actor: Actor, command: NewStaff) -> NewStaff:
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.people.add_staff(uow, command.username, ctx.passwords.hash(command.password), command.roles,
                         actor.name, now)
    ctx.audit.record(actor.name, "staff_created", now, target=command.username, source_ip=actor.source_ip,
                     details={"roles": command.roles}, uow=uow)
    commit(uow, {"staff": lambda _: Conflict(f"username {command.username} is taken", code="USERNAME_TAKEN")})
    return command


def ensure_staff(ctx: Staffing, actor: Actor, command: NewStaff) -> bool:
    """Creates the account unless it exists (the local stack's seeded admin); True if created."""
    if ctx.people.staff(command.username) is not None:
        return False
    try:
        create_staff(ctx, actor, command)
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
