"""The routing table's rules of API.md's Promotions (coupons, full reductions, member tiers, quotes)."""
from __future__ import annotations

from .access_rule import ANYONE, BACK_OFFICE, CATALOG_EDITORS, CUSTOMER, Rule, who as _who

PROMOTION_ROUTES: dict[tuple[str, str], Rule] = {
    ("POST", "/orders/quote"): Rule(
        _who(CUSTOMER), "Price an order as placing it would (member discount, full reductions, the coupon given), "
        "nothing reserved or locked; with the customer's coupons that apply, the one taking most off first. "
        "Promotions and tiers are read as they were up to 30 seconds ago", request="PlaceOrder", response="Quote",
        errors=("NOT_ON_SALE", "PURCHASE_LIMIT_EXCEEDED", "SKU_NOT_FOUND", "VISITORS_REQUIRED", "SOLD_OUT",
                "DUPLICATE_VISITOR", "FULFILLMENT_NOT_AVAILABLE", "COUPON_UNAVAILABLE", "COUPON_NOT_APPLICABLE"),
        tags=("orders", "promotions")),
    ("GET", "/coupons"): Rule(_who(ANYONE), "Coupons to claim now", response="CouponList", tags=("promotions",)),
    ("POST", "/coupons/{coupon_id}/claim"): Rule(
        _who(CUSTOMER), "Claim a coupon: its count, the customer's count and the user coupon in one transaction, "
        "or nothing. 409 TRY_AGAIN with Retry-After when a grab outruns what its count takes (it is split, as a hot "
        "session's stock is)", response="UserCoupon", status=201, idempotent=True,
        errors=("COUPON_NOT_FOUND", "COUPON_EXHAUSTED", "COUPON_LIMIT_REACHED", "NOT_CLAIMABLE",
                "IDEMPOTENCY_KEY_REUSED", "TRY_AGAIN"), tags=("promotions",)),
    ("GET", "/me/coupons"): Rule(_who(CUSTOMER), "My coupons, newest first", response="UserCouponList",
                                 query=("status:coupon_status",), tags=("promotions",)),
    ("GET", "/me"): Rule(_who(CUSTOMER), "My member tier and its spend", response="Membership", tags=("promotions",)),
    ("POST", "/admin/coupons"): Rule(
        CATALOG_EDITORS, "Create a coupon (cash or percent off, threshold, scope, total, per-customer limit, claim "
        "window, validity)", request="NewCoupon", response="StaffCoupon", status=201, tags=("promotions",)),
    ("GET", "/admin/coupons"): Rule(BACK_OFFICE, "Coupons", response="StaffCouponList", tags=("promotions",)),
    ("GET", "/admin/coupons/{coupon_id}"): Rule(BACK_OFFICE, "A coupon with its counts", response="StaffCoupon",
                                                errors=("COUPON_NOT_FOUND",), tags=("promotions",)),
    ("PATCH", "/admin/coupons/{coupon_id}"): Rule(
        CATALOG_EDITORS, "Stop a coupon, move its claim deadline, or raise its total (never lower)",
        request="CouponChanges", response="StaffCoupon", errors=("COUPON_NOT_FOUND", "INVALID_CHANGE", "EDIT_CONFLICT"),
        tags=("promotions",)),
    ("POST", "/admin/coupons/{coupon_id}/grants"): Rule(
        _who("admin", "support"), "Goodwill coupons for named customers, counted against the total and their "
        "limit; audited", request="CouponGrant", response="CouponGrants", errors=("COUPON_NOT_FOUND",),
        tags=("promotions",)),
    ("POST", "/admin/promotions"): Rule(
        CATALOG_EDITORS, "Create a full-reduction promotion (满减)", request="NewPromotion", response="Promotion",
        status=201, tags=("promotions",)),
    ("GET", "/admin/promotions"): Rule(BACK_OFFICE, "Promotions", response="PromotionList", tags=("promotions",)),
    ("PATCH", "/admin/promotions/{promotion_id}"): Rule(
        CATALOG_EDITORS, "Stop a promotion", request="PromotionChanges", response="Promotion",
        errors=("PROMOTION_NOT_FOUND",), tags=("promotions",)),
    ("PUT", "/admin/member-tiers"): Rule(_who("admin"), "Set (replace) the member tiers", request="MemberTiers",
                                         response="MemberTiers", tags=("promotions",)),
    ("GET", "/admin/member-tiers"): Rule(BACK_OFFICE, "Member tiers", response="MemberTiers", tags=("promotions",)),
}
