"""The staff console and the gate scanner page (chalicelib/console), served as a static site
(api.static_site) from the same origin as the API they call."""
from __future__ import annotations

from pathlib import Path

from chalice import Blueprint, Response

from .http import Call, endpoint
from .static_site import StaticSite

bp = Blueprint(__name__)
ROOT = Path(__file__).resolve().parent.parent / "console"
SITE = StaticSite(ROOT, "console")
asset_names = SITE.asset_names


@endpoint(bp, "GET", "/console")
def console(call: Call) -> Response:
    return SITE.page(call, "index.html")


@endpoint(bp, "GET", "/console/scanner")
def scanner(call: Call) -> Response:
    return SITE.page(call, "scanner.html", name="scanner")


@endpoint(bp, "GET", "/console/sw.js")
def service_worker(call: Call) -> Response:
    return SITE.file("sw.js", **{"Service-Worker-Allowed": "./"})


@endpoint(bp, "GET", "/console/assets/{name}")
def asset(call: Call, name: str) -> Response:
    return SITE.asset(name)


@endpoint(bp, "GET", "/console/assets/pages/{name}")
def page_module(call: Call, name: str) -> Response:
    return SITE.asset(name, "pages")
