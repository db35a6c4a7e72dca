"""The shop's files as the API serves them (chalicelib/shop through api.static_site, as the
console's): its page, a fixed list of assets each with its type and the same content security
policy, nothing else reachable, and every module its modules import among them."""
from __future__ import annotations

import hashlib
import posixpath
import re

import pytest

from chalicelib.api.shop_routes import ROOT, asset_names


def text(r) -> str:  # type: ignore[no-untyped-def]
    return r.body.decode() if isinstance(r.body, bytes) else r.body


def test_the_page_is_served_in_chinese_with_a_strict_policy(anonymous) -> None:  # type: ignore[no-untyped-def]
    pages = 0
    for path in ("/shop", "/shop/"):
        r = anonymous.get(path)
        if r.status_code == 302:                                # /shop without its slash
            assert r.headers["Location"] == "shop/"             # relative: this host, this stage
            continue
        pages += 1
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
        body = text(r)
        assert '<html lang="zh-CN">' in body and 'name="viewport"' in body
        policy = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "<script>" not in body                           # no inline script: the policy allows none
        assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["Cache-Control"] == "no-cache"
    assert pages


def test_assets_and_page_modules(anonymous) -> None:  # type: ignore[no-untyped-def]
    names = asset_names()
    assert {"shop.js", "shop.css", "api.js", "qrcode-generator-2.0.4.js"} <= set(names)
    for name in names:
        r = anonymous.get(f"/shop/assets/{name}")
        assert r.status_code == 200, name
        assert r.headers["Content-Type"].startswith("text/css" if name.endswith(".css") else "text/javascript")
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    pages = asset_names("pages")
    assert {"catalog.js", "product.js", "checkout.js", "pay.js", "orders.js", "order.js", "tickets.js",
            "coupons.js"} <= set(pages)
    for name in pages:
        r = anonymous.get(f"/shop/assets/pages/{name}")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")


@pytest.mark.parametrize("path", ["/shop/assets/nope.js", "/shop/assets/pages/nope.js", "/shop/assets/..%2Fshop_routes.py",
                                  "/shop/assets/LICENSE", "/shop/assets/pages/shop.js", "/shop/assets/index.html"])
def test_nothing_else_is_served(anonymous, path: str) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.get(path)
    assert r.status_code == 404 and r.json_body["code"] == "NOT_FOUND"


def test_the_console_and_the_shop_are_separate_sites(anonymous) -> None:  # type: ignore[no-untyped-def]
    assert anonymous.get("/shop/assets/console.js").status_code == 404
    assert anonymous.get("/console/assets/shop.js").status_code == 404


def served() -> set[str]:
    return set(asset_names()) | {f"pages/{name}" for name in asset_names("pages")}


def test_every_file_the_page_names_and_every_module_a_module_imports_is_served() -> None:
    named = re.findall(r'assets/([a-z0-9.-]+)', (ROOT / "index.html").read_text())
    assert named and set(named) <= set(asset_names())
    for name in served():
        source = (ROOT / "assets" / name).read_text()
        for target in re.findall(r'^import [^;]*? from "(\.{1,2}/[^"]+)";', source, re.MULTILINE):
            assert posixpath.normpath(posixpath.join(posixpath.dirname(name), target)) in served(), (name, target)
        assert "/console/" not in source, name                  # a separate site: nothing of the console's


def test_vendored_files_are_the_published_ones_with_their_licences() -> None:
    listed = re.findall(r"^\| (assets/[^ ]+) \| [^|]+ \| [^|]+ \| [^|]*\(([^)]+)\) \| ([0-9a-f]{64}) \|$",
                        (ROOT / "VENDORED.md").read_text(), re.MULTILINE)
    assert len(listed) == 1
    for path, licences, digest in listed:
        assert hashlib.sha256((ROOT / path).read_bytes()).hexdigest() == digest, path
        for licence in licences.split(", "):
            assert (ROOT / licence).read_text().strip(), licence


def test_the_shop_is_in_the_contract(anonymous) -> None:  # type: ignore[no-untyped-def]
    paths = anonymous.get("/openapi.json").json_body["paths"]
    for path in ("/shop", "/shop/assets/{name}", "/shop/assets/pages/{name}"):
        assert paths[path]["get"]["tags"] == ["shop"] and paths[path]["get"]["x-roles"] == ["anyone"], path
