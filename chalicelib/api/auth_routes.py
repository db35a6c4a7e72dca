from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.commands import parse_new_staff
from ..domain.validation import Fields
from ..service_layer import auth
from .http import Call, endpoint

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
