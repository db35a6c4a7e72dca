"""The console's staff page in Chromium (issue 19): an admin lists the accounts, disables one and
changes another's roles, and each takes effect at once for the tokens already out."""
from __future__ import annotations

from typing import Any

import requests

from tests.e2e.conftest import Http, staff_login

from .conftest import new_staff, shot
from .test_console_pages import open_console


def test_an_admin_lists_staff_disables_one_and_changes_a_role(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    leaver_name, leaver_password = new_staff(admin, "support")
    mover_name, _ = new_staff(admin, "support")
    leaver = staff_login(stack["url"], leaver_name, leaver_password)
    assert leaver.get("/admin/orders").status_code == 200
    boss, boss_password = new_staff(admin, "admin")
    open_console(page, stack["url"], boss, boss_password)
    page.locator("nav a", has_text="员工账号").click()
    rows = page.get_by_test_id("staff-row")
    rows.first.wait_for()
    more = page.get_by_role("button", name="加载更多")
    while not page.locator(f"[data-username='{mover_name}']").count() and more.is_visible():
        more.click()
        page.wait_for_timeout(300)
    listed = [r.get_attribute("data-username") for r in rows.all()]
    assert {"admin", leaver_name, mover_name, boss} <= set(listed)

    gone = page.locator(f"tr[data-username='{leaver_name}']")
    gone.get_by_role("button", name="停用").click()
    page.locator(f"tr[data-username='{leaver_name}'][data-disabled='true']").wait_for()
    assert "已停用" in page.locator(f"tr[data-username='{leaver_name}']").get_by_test_id("staff-status").inner_text()
    assert leaver.get("/admin/orders").status_code == 401        # its token ended at once

    mover = page.locator(f"tr[data-username='{mover_name}']")
    mover.get_by_test_id("staff-role-support").uncheck()
    mover.get_by_test_id("staff-role-finance").check()
    mover.get_by_role("button", name="保存角色").click()
    page.get_by_text("已保存：财务").wait_for()
    accounts: dict[str, Any] = {a["username"]: a for a in admin.get("/admin/staff?limit=200").json()["items"]}
    assert accounts[mover_name]["roles"] == ["finance"] and accounts[leaver_name]["disabled"] is True
    # Their own row cannot be disabled from here.
    assert page.locator(f"tr[data-username='{boss}']").get_by_role("button", name="停用").count() == 0
    page.locator(f"tr[data-username='{mover_name}']").scroll_into_view_if_needed()
    shot(page, "console-9-staff", full_page=False)
    refused = requests.post(stack["url"] + "/auth/staff/login",
                            json={"username": leaver_name, "password": leaver_password}, timeout=30)
    assert refused.status_code == 401
