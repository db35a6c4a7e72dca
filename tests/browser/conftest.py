"""Browser tests: the staff console and the gate scanner page in Debian's Chromium, driven by
Playwright, against a `make run` stack of their own. Screenshots of each state are written to
build/screenshots/ to be looked at."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, Http, Site, order, running_stack, staff_login

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    found = shutil.which("chromium")
    if not found:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    return found


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, str]]:
    with running_stack("micromall-browser-stack.log", LOCAL_SCHEDULE_SECONDS="3600") as running:
        yield running


@pytest.fixture(scope="session")
def admin(stack: dict[str, str]) -> Http:
    return staff_login(stack["url"], "admin", ADMIN_PASSWORD)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    yield page
    context.close()


PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page on a phone: 360 px wide, touch, Chinese (the customer shop is phone first). A script
    error on the page fails the test."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    yield page
    context.close()
    assert not failures, failures


def shot(page: Any, name: str, full_page: bool = True) -> Path:
    """The page as a person sees it: whole, or (a long list) the screen they are looking at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def goto(page: Any, title: str) -> None:
    """A page of the console, from its menu."""
    page.locator("nav a", has_text=title).click()
    expect(page.locator("main h1")).to_have_text(title)


def open_order(page: Any, order_id: str) -> None:
    """An order's detail, found as staff find it: 订单, searched by its number, opened."""
    goto(page, "订单")
    page.get_by_placeholder("订单号 / 手机号 / 商品名").fill(order_id)
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name=order_id).click()


def new_staff(admin: Http, *roles: str) -> tuple[str, str]:
    name, password = "staff-" + uuid.uuid4().hex[:6], "Pw-" + uuid.uuid4().hex
    assert admin.post("/admin/staff", {"username": name, "password": password, "roles": list(roles)}).status_code == 201
    return name, password


@pytest.fixture(scope="session")
def paid_tickets(stack: dict[str, str], admin: Http) -> Callable[[int], tuple[Http, str, list[dict[str, Any]]]]:
    """n tickets of a session open now, bought and paid by a new customer: (customer, order id, tickets)."""
    site = Site(stack["url"], admin)

    def buy(n: int, **product: Any) -> tuple[Http, str, list[dict[str, Any]]]:
        (sku,) = site.products([n + 5], **product)
        (customer,) = site.customers(1)
        r = customer.post("/orders", order((sku, n)))
        assert r.status_code == 201, r.text
        order_id = r.json()["order_id"]
        assert site.pay(order_id).status_code == 200
        tickets = customer.get(f"/orders/{order_id}/tickets").json()["items"]
        assert len(tickets) == n
        return customer, order_id, tickets
    return buy


def qr_video(payload: str, path: Path, width: int = 640, height: int = 480, frames: int = 10) -> Path:
    """A Y4M video of the QR code held still in front of the camera: Chromium plays it as the
    camera (--use-file-for-fake-video-capture)."""
    import qrcode
    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()
    scale = min(width, height) * 9 // 10 // len(matrix)
    left, top = (width - scale * len(matrix)) // 2, (height - scale * len(matrix)) // 2
    luma = bytearray([235]) * (width * height)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start:start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (width * height // 4)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path
