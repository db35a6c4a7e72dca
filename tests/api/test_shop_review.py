"""Review of the shop as the API serves it: the shop sets no style inline (its pages are built from
classes), so its policy allows none: injected markup could otherwise restyle the page (overlay a fake
pay button, hide a notice) even where it cannot run script."""
from __future__ import annotations

import re

import pytest

from chalicelib.api.shop_routes import ROOT, asset_names


def directive(policy: str, name: str) -> str:
    found = [d.strip() for d in policy.split(";") if d.strip().split(" ")[0] == name]
    assert found, policy
    return found[0]


@pytest.mark.parametrize("path", ["/shop/", "/shop/assets/shop.js", "/shop/assets/pages/pay.js"])
def test_the_shop_allows_no_inline_style(anonymous, path: str) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.get(path)
    assert r.status_code == 200
    assert "'unsafe-inline'" not in directive(r.headers["Content-Security-Policy"], "style-src")


def test_the_shop_sets_no_style_inline() -> None:
    """What the stricter policy relies on: no style attribute, <style> or element.style in the shop."""
    files = [ROOT / "index.html"] + [ROOT / "assets" / n for n in asset_names()] + \
            [ROOT / "assets" / "pages" / n for n in asset_names("pages")]
    for path in files:
        if path.name.startswith("qrcode-generator"):
            continue                                    # vendored; the shop uses only its modules
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<style|style=|\.style\b|\"style\"|cssText", text), path.name


def test_the_console_keeps_its_policy(anonymous) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.get("/console/")
    if r.status_code == 302:
        r = anonymous.get("/console/")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_the_slash_redirect_keeps_the_sign_in_code(anonymous) -> None:  # type: ignore[no-untyped-def]
    """/shop?code=... (no slash) is sent to shop/ with its code, so the visitor is still signed in."""
    r = anonymous.get("/shop?code=dev%3Avisitor-1")
    assert r.status_code == 302 and r.headers["Location"] == "shop/?code=dev%3Avisitor-1"
