"""Logging in and managing staff (service_layer.auth) on the fakes: the throttle counts before the
password is checked, every staff change is audited in its own transaction and ends the tokens
issued before it, and no change leaves the shop without an enabled admin."""
from __future__ import annotations

import pytest

from chalicelib.domain.commands import NewStaff
from chalicelib.domain.errors import Conflict, NotAuthenticated, RuleViolation, TooManyAttempts
from chalicelib.domain.staff import UNKNOWN_ACTOR, PasswordChange, StaffChanges
from chalicelib.service_layer import auth
from chalicelib.service_layer.context import Actor, Context

from .shop import staff

PASSWORD = "correct horse battery"


@pytest.fixture
def shop(ctx: Context) -> Context:
    """An admin (boss) and a scanner (gate) with PASSWORD."""
    seed = staff("admin", name="system")
    auth.create_staff(ctx, seed, NewStaff("boss", PASSWORD, ["admin"]), seeding=True)
    auth.create_staff(ctx, staff("admin", name="boss"), NewStaff("gate", PASSWORD, ["scanner"]))
    return ctx


def as_actor(ctx: Context, login: auth.Login) -> Actor:
    return Actor(ctx.tokens.verify(login.token), source_ip="10.0.0.1")


def actions(ctx: Context) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in ctx.audit.entries()]               # type: ignore[attr-defined]


def test_staff_log_in_with_their_roles_and_the_login_is_audited(shop: Context) -> None:
    login = auth.login_staff(shop, " Gate ", PASSWORD, "10.0.0.1")
    assert login.roles == ("scanner",) and as_actor(shop, login).principal.subject == "gate"
    assert ("gate", "login") in actions(shop) and shop.people.staff("gate").last_login_at is not None  # type: ignore[union-attr]


def test_a_wrong_password_is_refused_and_audited(shop: Context) -> None:
    with pytest.raises(NotAuthenticated) as raised:
        auth.login_staff(shop, "gate", "wrong password!", "10.0.0.1")
    assert raised.value.code == "INVALID_CREDENTIALS" and actions(shop)[-1] == ("gate", "login_failed")


def test_a_login_for_no_account_is_audited_under_no_name(shop: Context) -> None:
    with pytest.raises(NotAuthenticated):
        auth.login_staff(shop, "mallory", PASSWORD, "10.0.0.1")
    [entry] = [e for e in shop.audit.entries() if e.actor == UNKNOWN_ACTOR]   # type: ignore[attr-defined]
    assert entry.action == "login_failed" and entry.details["attempted"].startswith("hmac:")
    assert "mallory" not in str(entry.details)


def test_five_failures_lock_the_account_from_that_address_once_audited(shop: Context) -> None:
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            auth.login_staff(shop, "gate", "wrong password!", "10.0.0.1")
    for _ in range(2):
        with pytest.raises(TooManyAttempts) as raised:
            auth.login_staff(shop, "gate", PASSWORD, "10.0.0.1")           # even the right password
    assert 0 < raised.value.details["retry_after_seconds"] <= 901
    assert actions(shop).count(("gate", "login_blocked")) == 1
    assert auth.login_staff(shop, "gate", PASSWORD, "10.0.0.2").roles == ("scanner",)   # the owner elsewhere
    shop.clock.advance(minutes=16)                                          # type: ignore[attr-defined]
    assert auth.login_staff(shop, "gate", PASSWORD, "10.0.0.1").roles == ("scanner",)


def test_a_disabled_account_cannot_log_in(shop: Context) -> None:
    auth.change_staff(shop, staff("admin", name="boss"), "gate", StaffChanges(disabled=True))
    with pytest.raises(NotAuthenticated):
        auth.login_staff(shop, "gate", PASSWORD, "10.0.0.1")
    assert shop.audit.entries()[-1].details == {"reason": "disabled"}        # type: ignore[attr-defined]


def test_a_change_of_an_account_ends_the_tokens_issued_before_it(shop: Context) -> None:
    login = auth.login_staff(shop, "gate", PASSWORD, "10.0.0.1")
    token = login.token
    assert auth.authenticate(shop.tokens, lambda: shop.people, token).roles == frozenset({"scanner"})
    changed = auth.change_staff(shop, staff("admin", name="boss"), "gate", StaffChanges(roles=["scanner", "support"]))
    assert changed.generation == 1 and ("boss", "staff_changed") in actions(shop)
    with pytest.raises(NotAuthenticated) as raised:
        auth.authenticate(shop.tokens, lambda: shop.people, token)
    assert raised.value.code == "TOKEN_REVOKED"
    fresh = auth.login_staff(shop, "gate", PASSWORD, "10.0.0.1").token
    assert auth.authenticate(shop.tokens, lambda: shop.people, fresh).roles == frozenset({"scanner", "support"})


def test_an_admin_demoted_meanwhile_changes_nobody(shop: Context) -> None:
    auth.create_staff(shop, staff("admin", name="boss"), NewStaff("ann", PASSWORD, ["admin"]))
    auth.change_staff(shop, staff("admin", name="boss"), "ann", StaffChanges(roles=["support"]))
    stale = staff("admin", name="ann")                                      # a token the authorizer cached
    with pytest.raises(Conflict) as raised:
        auth.change_staff(shop, stale, "gate", StaffChanges(disabled=True))
    assert raised.value.code == "LAST_ADMIN" and not shop.people.staff("gate").disabled   # type: ignore[union-attr]
    with pytest.raises(Conflict):
        auth.create_staff(shop, stale, NewStaff("eve", PASSWORD, ["admin"]))
    assert shop.people.staff("eve") is None and ("ann", "staff_created") not in actions(shop)


def test_an_admin_cannot_lock_themselves_out(shop: Context) -> None:
    with pytest.raises(Conflict) as raised:
        auth.change_staff(shop, staff("admin", name="boss"), "boss", StaffChanges(disabled=True))
    assert raised.value.code == "LAST_ADMIN"


def test_a_taken_username_is_refused(shop: Context) -> None:
    with pytest.raises(Conflict) as raised:
        auth.create_staff(shop, staff("admin", name="boss"), NewStaff("gate", PASSWORD, ["finance"]))
    assert raised.value.code == "USERNAME_TAKEN" and shop.people.staff("gate").roles == frozenset({"scanner"})  # type: ignore[union-attr]
    assert not auth.ensure_staff(shop, staff("admin", name="system"), NewStaff("gate", PASSWORD, ["admin"]))


def test_a_logout_ends_that_token_only(shop: Context) -> None:
    first = auth.login_staff(shop, "gate", PASSWORD, "10.0.0.1").token
    second = auth.login_staff(shop, "gate", PASSWORD, "10.0.0.1").token
    auth.logout(shop, Actor(shop.tokens.verify(first)))
    with pytest.raises(NotAuthenticated):
        auth.authenticate(shop.tokens, lambda: shop.people, first)
    assert auth.authenticate(shop.tokens, lambda: shop.people, second).subject == "gate"


def test_changing_ones_own_password_needs_the_old_one(shop: Context) -> None:
    me = as_actor(shop, auth.login_staff(shop, "gate", PASSWORD, "10.0.0.1"))
    with pytest.raises(RuleViolation) as raised:
        auth.change_own_password(shop, me, PasswordChange("not it at all", "a new password"))
    assert raised.value.code == "WRONG_PASSWORD"
    login = auth.change_own_password(shop, me, PasswordChange(PASSWORD, "a new password"))
    assert auth.authenticate(shop.tokens, lambda: shop.people, login.token).subject == "gate"
    assert auth.login_staff(shop, "gate", "a new password", "10.0.0.1").roles == ("scanner",)


def test_a_customer_keeps_one_user_id_across_logins(ctx: Context) -> None:
    first, again = auth.login_customer(ctx, "dev:wx-1"), auth.login_customer(ctx, "dev:wx-1")
    assert first.user_id == again.user_id and first.user_id != auth.login_customer(ctx, "dev:wx-2").user_id
    assert ctx.tokens.verify(first.token).openid == "wx-1"
    with pytest.raises(NotAuthenticated):
        auth.login_customer(ctx, "not-a-code")
