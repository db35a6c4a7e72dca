"""Over HTTP against the running stack (issue 19): a disabled account's token stops working at
once, and a logged-out token too."""
from __future__ import annotations

import uuid

import requests

from .conftest import Site, staff_login


def test_a_disabled_accounts_token_stops_working_and_a_logout_ends_its_token(site: Site) -> None:
    name, password = "leaver-" + uuid.uuid4().hex[:6], "Pw-" + uuid.uuid4().hex
    assert site.admin.post("/admin/staff", {"username": name, "password": password,
                                            "roles": ["support"]}).status_code == 201
    kept, ended = staff_login(site.url, name, password), staff_login(site.url, name, password)
    assert kept.get("/admin/orders").status_code == 200
    assert ended.post("/auth/staff/logout").status_code == 204
    assert ended.get("/admin/orders").status_code == 401
    assert kept.get("/admin/orders").status_code == 200            # logout ends that token only
    r = site.admin.patch(f"/admin/staff/{name}", {"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    refused = kept.get("/admin/orders")
    assert refused.status_code == 401 and refused.json()["code"] == "UNAUTHORIZED"
    again = requests.post(site.url + "/auth/staff/login", json={"username": name, "password": password}, timeout=30)
    assert again.status_code == 401
    listed, cursor = {}, ""
    while cursor is not None:
        page = site.admin.get("/admin/staff?limit=200" + (f"&cursor={cursor}" if cursor else "")).json()
        listed.update({a["username"]: a for a in page["items"]})
        cursor = page["next"]
    assert listed[name]["disabled"] is True and listed[name]["last_login_at"]
