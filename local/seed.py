"""The demo venue: a museum's timed tickets, a theatre evening and a few goods, plus the admin. In
Chinese, as a venue's catalog reads in the shop and the console."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.catalog_commands import parse_new_product
from chalicelib.domain.principal import Principal
from chalicelib.service_layer import catalog
from chalicelib.service_layer.context import Actor, Context

SYSTEM = Actor(Principal("system", "staff", frozenset({"admin"})), "127.0.0.1")


def _sessions(days: int, zone: ZoneInfo, slots: list[tuple[int, int]]) -> list[dict]:
    today = datetime.now(zone).date()
    skus = []
    for day in range(days):
        date = today + timedelta(days=day)
        for start_hour, end_hour in slots:
            start = datetime.combine(date, time(start_hour), zone)
            end = datetime.combine(date, time(end_hour), zone)
            skus.append({"name": f"成人票 {date:%m-%d} {start_hour:02d}:00", "price": 6000, "stock": 200,
                         "low_stock_threshold": 20,
                         "session": {"start": start.isoformat(), "end": end.isoformat()}})
    return skus


def demo_products(zone_name: str) -> list[dict]:
    zone = ZoneInfo(zone_name)
    return [
        {"kind": "ticket", "name": "城市博物馆 门票", "category": "museum", "tags": ["admission", "family"],
         "description": "分时段入馆，参观常设展览。", "status": "listed", "real_name": True,
         "purchase_limit": 5, "skus": _sessions(7, zone, [(9, 12), (13, 17)])},
        {"kind": "ticket", "name": "昆曲《牡丹亭》夜场", "category": "theatre", "tags": ["performance"],
         "description": "《牡丹亭》精选折子戏。", "status": "listed",
         "skus": [{**s, "price": 18000, "stock": 80} for s in _sessions(3, zone, [(19, 21)])]},
        {"kind": "merch", "name": "龙纹帆布包", "category": "souvenir", "tags": ["bag"],
         "description": "馆藏龙纹图案，纯棉帆布。", "status": "listed",
         "fulfillment": ["pickup", "shipping"],
         "skus": [{"name": f"帆布包 {c}", "price": 8800, "stock": 50, "low_stock_threshold": 5,
                   "attributes": {"colour": c}} for c in ("本白", "靛蓝")]},
        {"kind": "merch", "name": "馆藏明信片", "category": "souvenir", "tags": ["paper"],
         "description": "馆藏精品明信片，一套八张。", "status": "listed", "fulfillment": ["pickup"],
         "skus": [{"name": "八张装", "price": 2500, "stock": 300, "low_stock_threshold": 30}]},
    ]


def seed(ctx: Context) -> int:
    for body in demo_products(ctx.venue_timezone):
        catalog.create_product(ctx, SYSTEM, parse_new_product(body), action="demo_seeded")
    return len(demo_products(ctx.venue_timezone))
