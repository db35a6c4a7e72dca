"""The demo venue that `make run` seeds: a city museum's timed admission, a Kunqu evening at its theatre,
goods of its shop with specs, and a welcome coupon to claim, so that the shop and the console show a
believable venue (in Chinese, as its catalog would be) on first start. Sessions run over the coming days."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain import identifiers
from chalicelib.domain.catalog_commands import parse_new_product
from chalicelib.domain.coupons import parse_coupon
from chalicelib.domain.principal import Principal
from chalicelib.service_layer import catalog, coupons
from chalicelib.service_layer.context import Actor, Context

SYSTEM = Actor(Principal("system", "staff", frozenset({"admin"})), "127.0.0.1")
_HALF_DAY = {9: "上午场", 13: "下午场", 19: "夜场"}


def _sessions(days: int, zone: ZoneInfo, slots: list[tuple[int, int]], kinds: list[tuple[str, int, int]],
              threshold: int) -> list[dict]:
    """One SKU per ticket type and session (场次), from today on."""
    today = datetime.now(zone).date()
    skus = []
    for day in range(days):
        date = today + timedelta(days=day)
        for start_hour, end_hour in slots:
            session = {"start": datetime.combine(date, time(start_hour), zone).isoformat(),
                       "end": datetime.combine(date, time(end_hour), zone).isoformat()}
            for kind, price, stock in kinds:
                skus.append({"name": f"{kind} {date.month}月{date.day}日 {_HALF_DAY[start_hour]}", "price": price,
                             "stock": stock, "low_stock_threshold": threshold, "session": session})
    return skus


def demo_products(zone_name: str) -> list[dict]:
    zone = ZoneInfo(zone_name)
    return [
        {"kind": "ticket", "name": "城市博物馆 常设展门票", "category": "展览", "tags": ["门票", "亲子"],
         "description": "馆藏青铜器、书画与陶瓷常设展，分时段预约入馆，请凭二维码或核销码在检票口入场。",
         "status": "listed", "real_name": True, "purchase_limit": 5,
         "skus": _sessions(7, zone, [(9, 12), (13, 17)], [("成人票", 6000, 200), ("优惠票", 3000, 60)], 20)},
        {"kind": "ticket", "name": "昆曲《牡丹亭》夜场演出", "category": "演出", "tags": ["昆曲", "演出"],
         "description": "青春版《牡丹亭》精华折子戏，全场约两小时，演出开始后不再入场。", "status": "listed",
         "skus": _sessions(3, zone, [(19, 21)], [("池座", 18000, 80), ("楼座", 12000, 60)], 10)},
        {"kind": "merch", "name": "博物馆帆布袋", "category": "文创", "tags": ["包袋"],
         "description": "厚磅帆布，印馆藏云龙纹，可装下 A4 画册。", "status": "listed",
         "fulfillment": ["pickup", "shipping"],
         "skus": [{"name": f"帆布袋 {colour}", "price": 8800, "stock": 50, "low_stock_threshold": 5,
                   "attributes": {"颜色": colour}} for colour in ("原色", "靛蓝")]},
        {"kind": "merch", "name": "青花瓷马克杯", "category": "文创", "tags": ["杯具"],
         "description": "取自馆藏青花缠枝莲纹，景德镇烧制，可用洗碗机。", "status": "listed",
         "fulfillment": ["pickup", "shipping"],
         "skus": [{"name": f"马克杯 {size}", "price": price, "stock": 40, "low_stock_threshold": 5,
                   "attributes": {"容量": size}} for size, price in (("350ml", 6800), ("450ml", 7800))]},
        {"kind": "merch", "name": "馆藏明信片套装", "category": "文创", "tags": ["纸品"],
         "description": "八张馆藏精品明信片，附收藏封套。", "status": "listed", "fulfillment": ["pickup"],
         "skus": [{"name": "8 张装", "price": 2500, "stock": 300, "low_stock_threshold": 30}]},
    ]


def welcome_coupon(now: datetime) -> dict:
    """满 50 减 10 for every visitor, once each: the coupon a venue hands out to new visitors."""
    return {"name": "新客立减 10 元", "kind": "cash", "amount": 1000, "threshold": 5000, "scope": {},
            "total": 5000, "per_user_limit": 1, "claim_from": now.isoformat(),
            "claim_until": (now + timedelta(days=30)).isoformat(), "valid_days": 30}


def seed(ctx: Context) -> int:
    for body in demo_products(ctx.venue_timezone):
        catalog.create_product(ctx, SYSTEM, parse_new_product(body), action="demo_seeded")
    now = ctx.clock()
    coupons.create_coupon(ctx, SYSTEM, parse_coupon(welcome_coupon(now), identifiers.new_reference("CPN"), now,
                                                    SYSTEM.name))
    return len(demo_products(ctx.venue_timezone))
