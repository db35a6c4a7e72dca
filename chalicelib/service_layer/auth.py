"""Logging in customers and staff, and managing staff accounts."""
from __future__ import annotations

from typing import Any

from ..adapters.dynamo import TransactionCancelled
from ..adapters.security import Principal
from ..domain.commands import NewStaff
from ..domain.errors import Conflict, InvalidInput, NotAuthenticated, TooManyAttempts
from .context import Actor, Context


def login_customer(ctx: Context, code: object) -> dict[str, Any]:
    if not isinstance(code, str) or not 1 <= len(code) <= 200:
        raise InvalidInput("code must be the string from wx.login", field="code")
    openid = ctx.wechat.openid_for(code)
    user_id = ctx.people.user_id_for(openid, ctx.clock())
    token = ctx.tokens.issue(Principal(user_id, "customer", openid=openid))
    return {"token": token, "user_id": user_id, "expires_in": ctx.tokens.ttl_seconds}


def login_staff(ctx: Context, username: object, password: object, source_ip: str | None) -> dict[str, Any]:
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password \
            or len(username) > 64 or len(password) > 200:
        raise InvalidInput("username and password are required strings", field="username")
    username = username.strip().lower()
    now = ctx.clock()
    locked = ctx.throttle.locked_until(username, now)
    if locked is not None:
        ctx.audit.record(username, "login_blocked", now, source_ip=source_ip)
        raise TooManyAttempts("too many failed logins; try again later",
                              retry_after_seconds=int((locked - now).total_seconds()) + 1)
    member = ctx.people.staff(username)
    if not ctx.passwords.verify(password, member.password_hash if member else None) or member is None:
        ctx.throttle.record_failure(username, now)
        ctx.audit.record(username, "login_failed", now, source_ip=source_ip)
        raise NotAuthenticated("wrong username or password", code="INVALID_CREDENTIALS")
    ctx.throttle.clear(username)
    ctx.audit.record(username, "login", now, source_ip=source_ip)
    token = ctx.tokens.issue(Principal(username, "staff", member.roles))
    return {"token": token, "roles": sorted(member.roles), "expires_in": ctx.tokens.ttl_seconds}


def create_staff(ctx: Context, actor: Actor, command: NewStaff) -> dict[str, Any]:
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.people.add_staff(uow, command.username, ctx.passwords.hash(command.password), command.roles,
                         actor.name, now)
    ctx.audit.record(actor.name, "staff_created", now, target=command.username, source_ip=actor.source_ip,
                     details={"roles": command.roles}, uow=uow)
    try:
        uow.commit()
    except TransactionCancelled as cancelled:
        if "staff" in cancelled.failed:
            raise Conflict(f"username {command.username} is taken", code="USERNAME_TAKEN") from None
        raise
    return {"username": command.username, "roles": command.roles}


def ensure_staff(ctx: Context, actor: Actor, command: NewStaff) -> bool:
    """Creates the account unless it exists (the local stack's seeded admin); True if created."""
    if ctx.people.staff(command.username) is not None:
        return False
    try:
        create_staff(ctx, actor, command)
    except Conflict:
        return False
    return True
