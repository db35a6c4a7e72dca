"""The gate scanner page (seed 000: scan offline, sync when the network returns; seed 001: scan a
QR or type the code), in Chromium: online answers, the offline check of signed QR payloads in
the browser, the device's own memory of what it admitted, a queue that survives a reload, the
upload through /redemptions/batch, and the conflicts it reports."""
from __future__ import annotations

import base64
import json
import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Http, staff_login

from .conftest import new_staff, shot


def login(page: Any, url: str, username: str, password: str, gate: str) -> None:
    page.goto(url + "/console/scanner")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("login-panel").wait_for(state="hidden")
    page.get_by_test_id("gate").fill(gate)
    page.get_by_test_id("gate").dispatch_event("change")
    expect(page.get_by_test_id("pack")).to_contain_text("验签密钥")


def scan(page: Any, code: str) -> dict[str, str]:
    field = page.get_by_test_id("code")
    field.fill(code)
    field.press("Enter")
    expect(field).to_have_value("")
    result = page.get_by_test_id("scan-result")
    return {"result": result.get_attribute("data-result"), "reason": result.get_attribute("data-reason"),
            "text": result.inner_text()}


def forged(payload: str) -> str:
    """The same signature over claims that say another ticket: what a copied, edited QR looks like."""
    prefix, kid, claims, signature = payload.split(".")
    data = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    data["t"] = "T" + "0" * 20
    edited = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
    return ".".join((prefix, kid, edited, signature))


def test_a_gate_admits_online_and_offline_and_settles_up_when_the_network_returns(  # type: ignore[no-untyped-def]
        stack, admin: Http, paid_tickets, page) -> None:
    url = stack["url"]
    customer, order_id, tickets = paid_tickets(5)
    username, password = new_staff(admin, "scanner")
    login(page, url, username, password, "东门")
    assert page.get_by_test_id("connection").get_attribute("data-online") == "true"

    # Online: one request per scan, the server's answer shown large.
    first = scan(page, tickets[0]["qr"])
    assert first["result"] == "ok" and "核销成功" in first["text"]
    shot(page, "scanner-1-admitted-online")
    again = scan(page, tickets[0]["code"])                       # the same ticket, typed
    assert (again["result"], again["reason"]) == ("rejected", "already_redeemed")
    assert "已核销" in again["text"] and "东门" in again["text"]
    shot(page, "scanner-2-already-redeemed")

    # Meanwhile another gate admits ticket 3 online: this page does not know it.
    other = staff_login(url, *new_staff(admin, "scanner"))
    assert other.post("/redemptions", {"code": tickets[3]["code"], "gate": "西门", "device_id": "pda-9"}).status_code == 200

    # The network drops: the page reloads from its service worker and checks QR signatures itself
    # (once the worker has cached the pages: on a busy machine its install may still be running).
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.context.set_offline(True)
    expect(page.get_by_test_id("connection")).to_have_attribute("data-online", "false")
    page.reload()
    page.get_by_test_id("code").wait_for()
    assert page.get_by_test_id("gate").input_value() == "东门"          # remembered
    offline = scan(page, tickets[1]["qr"])
    assert offline["result"] == "ok" and "离线" in offline["text"]
    shot(page, "scanner-3-admitted-offline")
    twice = scan(page, tickets[1]["qr"])
    assert (twice["result"], twice["reason"]) == ("rejected", "already_redeemed")
    fake = scan(page, forged(tickets[2]["qr"]))
    assert (fake["result"], fake["reason"]) == ("rejected", "invalid")
    shot(page, "scanner-4-forged-offline")
    manual = scan(page, tickets[2]["code"])
    assert (manual["result"], manual["reason"]) == ("unverified", "unverified")
    shot(page, "scanner-5-manual-code-offline")
    assert page.get_by_test_id("offline-queue").get_attribute("data-count") == "1"   # not before the operator says
    page.get_by_test_id("admit").click()                         # checked the e-ticket on the visitor's phone
    expect(page.get_by_test_id("scan-result")).to_have_attribute("data-result", "ok")
    scan(page, tickets[3]["qr"])                                  # admitted here, but 西门 was first
    assert page.get_by_test_id("offline-queue").get_attribute("data-count") == "3"
    page.reload()                                                 # the queue survives a reload
    page.get_by_test_id("code").wait_for()
    expect(page.get_by_test_id("offline-queue")).to_have_attribute("data-count", "3")
    assert page.get_by_test_id("offline-queue").inner_text().startswith("3")

    # Back online: the queue uploads with its nonces and times, and the conflict is shown.
    page.context.set_offline(False)
    expect(page.get_by_test_id("offline-queue")).to_have_attribute("data-count", "0", timeout=30000)
    conflicts = page.get_by_test_id("sync-conflicts")
    conflicts.wait_for()
    assert "东门" in conflicts.inner_text() and "已核销" in conflicts.inner_text() and "西门" in conflicts.inner_text()
    assert conflicts.locator("li").count() == 1                  # one scan, one conflict, however often it synced
    assert page.get_by_test_id("gate-count").inner_text() == "4"
    shot(page, "scanner-6-synced-with-conflict")
    status = {t["ticket_id"]: t["status"] for t in customer.get(f"/orders/{order_id}/tickets").json()["items"]}
    assert [status[t["ticket_id"]] for t in tickets] == ["REDEEMED", "REDEEMED", "REDEEMED", "REDEEMED", "VALID"]


def refund(customer: Http, admin: Http, order_id: str, ticket: dict[str, Any]) -> None:
    asked = customer.post(f"/orders/{order_id}/refunds", {"reason": "改期", "ticket_ids": [ticket["ticket_id"]]})
    assert asked.status_code == 202, asked.text                        # admission is open: staff approve it
    assert admin.post(f"/admin/refunds/{asked.json()['refund_id']}/approve").status_code == 200


def test_a_revoked_ticket_is_refused_offline(stack, admin: Http, paid_tickets, page) -> None:  # type: ignore[no-untyped-def]
    """The pack comes whole at login; afterwards the page asks only for what changed since its
    `next` and adds it to what it keeps."""
    url = stack["url"]
    customer, order_id, tickets = paid_tickets(3)
    refund(customer, admin, order_id, tickets[0])
    with page.expect_request(lambda r: r.url.endswith("/scanner/offline-pack")):
        login(page, url, *new_staff(admin, "scanner"), "南门")
    expect(page.get_by_test_id("pack")).to_contain_text("张已作废")
    # Other tests share the stack: what counts is that ours is in, and one more after the refresh.
    before = int(re.search(r"(\d+) 张已作废", page.get_by_test_id("pack").inner_text()).group(1))  # type: ignore[union-attr]
    assert before >= 1
    refund(customer, admin, order_id, tickets[2])                      # taken back after the pack came
    with page.expect_request(lambda r: "/scanner/offline-pack?since=" in r.url):
        page.context.set_offline(True)                                  # a drop, and back: the pack is refreshed
        expect(page.get_by_test_id("connection")).to_have_attribute("data-online", "false")
        page.context.set_offline(False)
    expect(page.get_by_test_id("pack")).to_contain_text(f"{before + 1} 张已作废")
    page.context.set_offline(True)
    expect(page.get_by_test_id("connection")).to_have_attribute("data-online", "false")
    revoked = scan(page, tickets[0]["qr"])
    assert (revoked["result"], revoked["reason"]) == ("rejected", "revoked")
    later = scan(page, tickets[2]["qr"])
    assert (later["result"], later["reason"]) == ("rejected", "revoked")
    shot(page, "scanner-4b-revoked-since-offline")
    assert scan(page, tickets[1]["qr"])["result"] == "ok"


def test_the_scanner_page_on_a_phone(stack, admin: Http, paid_tickets, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    try:
        _, _, tickets = paid_tickets(1)
        login(page, stack["url"], *new_staff(admin, "scanner"), "北门")
        assert scan(page, tickets[0]["qr"])["result"] == "ok"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
        shot(page, "scanner-7-phone")
    finally:
        context.close()


def test_the_camera_reads_a_ticket_held_up_to_it(stack, admin: Http, paid_tickets, playwright,  # type: ignore[no-untyped-def]
                                                tmp_path) -> None:
    """No BarcodeDetector in Chromium on Linux: the shipped decoder (jsQR) reads the frames."""
    from .conftest import FLAGS, chromium_path, qr_video
    _, order_id, tickets = paid_tickets(1)
    video = qr_video(tickets[0]["qr"], tmp_path / "ticket.y4m")
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        context = browser.new_context(locale="zh-CN", permissions=["camera"])
        page = context.new_page()
        login(page, stack["url"], *new_staff(admin, "scanner"), "西门")
        page.get_by_test_id("camera-start").click()
        expect(page.get_by_test_id("scan-result")).to_have_attribute("data-result", "ok", timeout=30000)
        assert "核销成功" in page.get_by_test_id("scan-result").inner_text()
        shot(page, "scanner-8-camera")
    finally:
        browser.close()


def test_without_webcrypto_ed25519_the_shipped_verifier_decides(stack, admin: Http, paid_tickets, browser) -> None:  # type: ignore[no-untyped-def]
    """Browsers without Ed25519 in WebCrypto fall back to noble-ed25519: still genuine admitted,
    forged refused."""
    context = browser.new_context(locale="zh-CN")
    context.add_init_script("crypto.subtle.importKey = () => Promise.reject(new DOMException('no Ed25519', "
                            "'NotSupportedError'));")
    page = context.new_page()
    try:
        _, _, tickets = paid_tickets(2)
        login(page, stack["url"], *new_staff(admin, "scanner"), "东门")
        page.context.set_offline(True)
        expect(page.get_by_test_id("connection")).to_have_attribute("data-online", "false")
        assert scan(page, forged(tickets[1]["qr"]))["reason"] == "invalid"
        assert scan(page, tickets[0]["qr"])["result"] == "ok"
    finally:
        context.close()


def test_a_passing_drop_and_an_expired_login_are_noticed_without_browser_events(  # type: ignore[no-untyped-def]
        stack, admin: Http, paid_tickets, page) -> None:
    """The browser's online/offline events do not see an uplink that drops behind the Wi-Fi: the
    page probes the API itself, comes back online and uploads; an expired login is asked for again."""
    _, order_id, tickets = paid_tickets(1)
    login(page, stack["url"], *new_staff(admin, "scanner"), "东门")
    page.route("**/redemptions", lambda route: route.abort("internetdisconnected"))
    dropped = scan(page, tickets[0]["qr"])
    assert dropped["result"] == "ok" and "离线" in dropped["text"]
    assert page.get_by_test_id("connection").get_attribute("data-online") == "false"
    page.unroute("**/redemptions")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-online", "true", timeout=20000)
    expect(page.get_by_test_id("offline-queue")).to_have_attribute("data-count", "0", timeout=20000)
    page.evaluate("""() => { const s = JSON.parse(localStorage.getItem('mm.session'));
                             s.expires_at = Date.now() - 1000; localStorage.setItem('mm.session', JSON.stringify(s)); }""")
    expect(page.get_by_test_id("login-panel")).to_be_visible(timeout=20000)
    assert "重新登录" in page.get_by_test_id("login-error").inner_text()


SHOWN_AT = re.compile(r"本机已于 (\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}) 在")


def test_a_gate_set_to_another_zone_shows_the_venues_time_also_offline(  # type: ignore[no-untyped-def]
        stack, admin: Http, paid_tickets, browser) -> None:
    """The device says New York; the venue (VENUE_TIMEZONE) is in Shanghai. The zone comes with
    the offline pack and stays with it: offline and after a reload, times are the venue's."""
    from datetime import datetime
    from zoneinfo import ZoneInfo
    context = browser.new_context(locale="zh-CN", timezone_id="America/New_York")
    page = context.new_page()
    try:
        _, _, tickets = paid_tickets(1)
        login(page, stack["url"], *new_staff(admin, "scanner"), "东门")
        kept = page.evaluate("""() => new Promise((resolve, reject) => {
            const opened = indexedDB.open("micromall-gate");
            opened.onerror = () => reject(opened.error);
            opened.onsuccess = () => {
              const read = opened.result.transaction("pack").objectStore("pack").get("current");
              read.onsuccess = () => resolve(read.result.venue_timezone);
            };
        })""")
        assert kept == "Asia/Shanghai"
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.context.set_offline(True)
        expect(page.get_by_test_id("connection")).to_have_attribute("data-online", "false")
        page.reload()
        page.get_by_test_id("code").wait_for()
        assert scan(page, tickets[0]["qr"])["result"] == "ok"
        again = scan(page, tickets[0]["qr"])
        shot(page, "scanner-9-venue-time-on-a-device-elsewhere")
        shown = datetime.strptime(SHOWN_AT.search(again["text"]).group(1), "%Y/%m/%d %H:%M:%S")  # type: ignore[union-attr]
        now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
        assert abs((now - shown).total_seconds()) < 600, (shown, now)       # not New York's 13 hours behind
    finally:
        context.close()
