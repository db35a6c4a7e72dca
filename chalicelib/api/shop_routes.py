"""The customer shop (chalicelib/shop): the mini-program's journeys in a phone's browser over the
same API, served as a static site (api.static_site) like the staff console."""
from __future__ import annotations

from pathlib import Path

from chalice import Blueprint, Response

from .http import Call, endpoint
from .static_site import STRICT_POLICY, StaticSite

bp = Blueprint(__name__)
ROOT = Path(__file__).resolve().parent.parent / "shop"
SITE = StaticSite(ROOT, "shop", STRICT_POLICY)
asset_names = SITE.asset_names


@endpoint(bp, "GET", "/shop")
def shop(call: Call) -> Response:
    return SITE.page(call, "index.html")


@endpoint(bp, "GET", "/shop/assets/{name}")
def asset(call: Call, name: str) -> Response:
    return SITE.asset(name)


@endpoint(bp, "GET", "/shop/assets/pages/{name}")
def page_module(call: Call, name: str) -> Response:
    return SITE.asset(name, "pages")
