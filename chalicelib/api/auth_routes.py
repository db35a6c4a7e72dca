from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..bootstrap import context
from ..domain.back_office import StaffMember
from ..domain.commands import parse_new_staff
from ..domain.staff import parse_password_change, parse_staff_changes
from ..domain.validation import Fields
from ..service_layer import auth
from .http import Call, endpoint
from .views import views

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/auth/wechat/login")
def wechat_login(call: Call) -> dict[str, Any]:
    login = auth.login_customer(context(), Fields(call.body()).data.get("code"))
    return {"token": login.token, "user_id": login.user_id, "expires_in": login.expires_in}


@endpoint(bp, "POST", "/auth/staff/login")
def staff_login(call: Call) -> dict[str, Any]:
    body = Fields(call.body())
    source_ip = ((call.request.context or {}).get("identity") or {}).get("sourceIp")
    login = auth.login_staff(context(), body.data.get("username"), body.data.get("password"), source_ip)
    return {"token": login.token, "roles": list(login.roles), "expires_in": login.expires_in}


@endpoint(bp, "POST", "/admin/staff")
def create_staff(call: Call) -> dict[str, Any]:
    created = auth.create_staff(context(), call.actor, parse_new_staff(call.body()))
    return {"username": created.username, "roles": created.roles}


def _account(member: StaffMember) -> dict[str, Any]:
    shown = views()
    return {"username": member.username, "roles": sorted(member.roles), "disabled": member.disabled,
            "created_at": shown.time(member.created_at), "last_login_at": shown.time(member.last_login_at)}


@endpoint(bp, "GET", "/admin/staff")
def list_staff(call: Call) -> dict[str, Any]:
    page = auth.list_staff(context(), call.limit(), call.cursor())
    return {"items": [_account(m) for m in page.items], "next": page.next}


@endpoint(bp, "PATCH", "/admin/staff/{username}")
def change_staff(call: Call, username: str) -> dict[str, Any]:
    changed = auth.change_staff(context(), call.actor, username, parse_staff_changes(call.body()))
    return _account(changed)


@endpoint(bp, "POST", "/auth/staff/password")
def change_password(call: Call) -> dict[str, Any]:
    login = auth.change_own_password(context(), call.actor, parse_password_change(call.body()))
    return {"token": login.token, "roles": list(login.roles), "expires_in": login.expires_in}


@endpoint(bp, "POST", "/auth/staff/logout")
def logout(call: Call) -> Response:
    auth.logout(context(), call.actor)
    return Response(body="", status_code=204)
