// Promotions in staff's words (优惠券, 满减, 会员等级) and the bodies their forms send: what staff
// typed in yuan, 折 and venue time becomes fen, percent_off and instants, or an InputError in
// Chinese before anything is sent. Pure (no page, no network): tests/js/offers.test.mjs.
import { InputError, countOf, fenOf, percentOffOf, shortYuan, zhe } from "./money.js";
import { atVenue, venueDate, venueZone } from "./venue-time.js";

export const PROMOTION_KINDS = { member: "会员价", full_reduction: "满减", coupon: "优惠券" };
export const KIND_WORDS = { ticket: "门票", merch: "文创" };
// Why a goodwill grant was refused, per customer (POST /admin/coupons/{id}/grants).
export const REFUSAL_WORDS = {
  COUPON_LIMIT_REACHED: "已达每人限领张数", COUPON_EXHAUSTED: "券已发完", CUSTOMER_NOT_FOUND: "用户不存在",
  NOT_CLAIMABLE: "券已停止发放", TRY_AGAIN: "系统繁忙，请重试",
};

// "满¥100减¥20", "无门槛减¥5", "满¥200享8折，最高减¥50".
export function offerText(c) {
  const from = c.threshold ? `满${shortYuan(c.threshold)}` : "";
  if (c.kind === "cash") return `${from || "无门槛"}减${shortYuan(c.amount)}`;
  return `${from ? from + "享" : ""}${zhe(c.percent_off)}${c.max_discount ? `，最高减${shortYuan(c.max_discount)}` : ""}`;
}

// Where a coupon stands for a customer now: [css tag, words].
export function couponState(c, now = Date.now()) {
  if (c.status === "stopped") return ["stopped", "已停止"];
  if (now < Date.parse(c.claim_from)) return ["scheduled", "未开始"];
  if (now >= Date.parse(c.claim_until)) return ["closed", "已截止"];
  if (c.remaining === 0) return ["exhausted", "已领完"];
  return ["claiming", "领取中"];
}

export function promotionState(p, now = Date.now()) {
  if (p.status === "stopped") return ["stopped", "已停止"];
  if (now < Date.parse(p.starts_at)) return ["scheduled", "未开始"];
  if (now >= Date.parse(p.ends_at)) return ["closed", "已结束"];
  return ["claiming", "进行中"];
}

// The venue's wall clock now (or `offsetDays` from now) as a datetime-local field holds it: 2026-12-01T09:30.
export function venueWallTime(offsetDays = 0, zone = venueZone(), now = Date.now()) {
  return new Date(now + offsetDays * 86400000).toLocaleString("sv-SE", { timeZone: zone, hour12: false })
    .replace(" ", "T").slice(0, 16);
}

// 2026/12/1 09:30 at the venue.
export function shortTime(iso, zone = venueZone()) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("zh-CN", { timeZone: zone, hour12: false, year: "numeric", month: "numeric",
                                                  day: "numeric", hour: "2-digit", minute: "2-digit" });
}

// "领取后 7 天" or the venue days it is good for, the last one included (valid_until is the
// instant it ends: midnight after the last day).
export function validityText(c, zone = venueZone()) {
  if (c.valid_days) return `领取后 ${c.valid_days} 天`;
  const day = (ms) => venueDate(0, zone, ms).replaceAll("-", "/");
  return `${day(Date.parse(c.valid_from))} 至 ${day(Date.parse(c.valid_until) - 1000)}`;
}

export function scopeText(scope = {}) {
  const parts = [];
  if (scope.kinds && scope.kinds.length) parts.push(scope.kinds.map((k) => KIND_WORDS[k] || k).join("、"));
  if (scope.categories && scope.categories.length) parts.push(`分类 ${scope.categories.join("、")}`);
  if (scope.product_ids && scope.product_ids.length) parts.push(`${scope.product_ids.length} 个指定商品`);
  return parts.length ? parts.join("；") : "全部商品";
}

export const reductionText = (tiers) => tiers.map((t) => `满${shortYuan(t.threshold)}减${shortYuan(t.amount)}`).join("，");

// The day after a YYYY-MM-DD, as a calendar counts (no zone involved).
export function nextDay(date) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

function instant(value, label, zone) {
  if (!value) throw new InputError(`请填写${label}`);
  return atVenue(value, zone);
}

function scopeOf(kinds) {
  if (!kinds.length) throw new InputError("请至少选择一类适用商品");
  return kinds.length >= 2 ? undefined : { kinds };
}

// POST /admin/coupons from the form's fields (strings as typed, `returnable` a boolean, times as
// datetime-local and date fields give them, at the venue).
export function couponBody(f, zone = venueZone()) {
  const name = (f.name || "").trim();
  if (!name) throw new InputError("请填写券名称");
  const body = { name, kind: f.kind, threshold: fenOf(f.threshold, "使用门槛") || 0 };
  if (f.kind === "cash") {
    body.amount = fenOf(f.amount, "减免金额");
    if (!body.amount) throw new InputError("请填写减免金额（元，大于 0）");
    if (body.threshold && body.amount > body.threshold) throw new InputError("减免金额不能超过使用门槛");
  } else {
    body.percent_off = percentOffOf(f.discount);
    if (!body.percent_off) throw new InputError("请填写折扣，低于 10 折，如 8.5");
    const cap = fenOf(f.maxDiscount, "最高优惠");
    if (cap) body.max_discount = cap;
  }
  const total = countOf(f.total, "发放总量");
  if (total !== null) body.total = total;
  body.per_user_limit = countOf(f.perUser, "每人限领") || 1;
  body.scope = scopeOf(f.kinds || ["ticket", "merch"]);
  body.claim_from = instant(f.claimFrom, "领取开始时间", zone);
  body.claim_until = instant(f.claimUntil, "领取截止时间", zone);
  if (Date.parse(body.claim_until) <= Date.parse(body.claim_from)) throw new InputError("领取截止时间需晚于开始时间");
  if (f.validity === "days") {
    body.valid_days = countOf(f.validDays, "有效天数");
    if (!body.valid_days) throw new InputError("请填写领取后有效天数");
  } else {
    if (!f.validFrom || !f.validUntil) throw new InputError("请填写有效期的开始和结束日期");
    if (f.validUntil < f.validFrom) throw new InputError("有效期结束日期不能早于开始日期");
    body.valid_from = atVenue(`${f.validFrom}T00:00:00`, zone);
    body.valid_until = atVenue(`${nextDay(f.validUntil)}T00:00:00`, zone);
    if (Date.parse(body.valid_until) <= Date.parse(body.claim_from)) throw new InputError("有效期需晚于领取开始时间");
  }
  body.returnable = !!f.returnable;
  if (body.scope === undefined) delete body.scope;
  return body;
}

// POST /admin/promotions (满减) from its form: tiers typed in yuan, blank rows left out.
export function promotionBody(f, zone = venueZone()) {
  const name = (f.name || "").trim();
  if (!name) throw new InputError("请填写活动名称");
  const tiers = f.tiers.filter((t) => `${t.threshold}${t.amount}`.trim()).map((t, i) => {
    const threshold = fenOf(t.threshold, `第 ${i + 1} 档门槛`), amount = fenOf(t.amount, `第 ${i + 1} 档减免`);
    if (!threshold || !amount) throw new InputError(`第 ${i + 1} 档请填写门槛和减免金额（元，大于 0）`);
    if (amount > threshold) throw new InputError(`第 ${i + 1} 档减免不能超过门槛`);
    return { threshold, amount };
  }).sort((a, b) => a.threshold - b.threshold);
  if (!tiers.length) throw new InputError("请至少填写一档满减");
  if (tiers.some((t, i) => i && (t.threshold === tiers[i - 1].threshold || t.amount <= tiers[i - 1].amount)))
    throw new InputError("各档门槛不能相同，门槛越高减得越多");
  const body = { name, kind: "full_reduction", tiers, scope: scopeOf(f.kinds),
                 starts_at: instant(f.startsAt, "开始时间", zone), ends_at: instant(f.endsAt, "结束时间", zone) };
  if (Date.parse(body.ends_at) <= Date.parse(body.starts_at)) throw new InputError("结束时间需晚于开始时间");
  if (body.scope === undefined) delete body.scope;
  return body;
}

// PUT /admin/member-tiers from the rows as typed (名称, 累计消费满 in yuan, 折扣 in 折), numbered
// from 1 by spend; blank rows left out, so that clearing every row removes the tiers.
export function tiersBody(rows) {
  const tiers = rows.filter((r) => `${r.name}${r.minSpend}${r.discount}`.trim()).map((r, i) => {
    const name = (r.name || "").trim(), minSpend = fenOf(r.minSpend, `第 ${i + 1} 行累计消费`);
    const percentOff = percentOffOf(r.discount, `第 ${i + 1} 行折扣`);
    if (!name || !minSpend || percentOff === null) throw new InputError(`第 ${i + 1} 行请填写名称、累计消费（元，大于 0）和折扣`);
    return { name, min_spend: minSpend, percent_off: percentOff };
  }).sort((a, b) => a.min_spend - b.min_spend);
  if (tiers.some((t, i) => i && (t.min_spend === tiers[i - 1].min_spend || t.percent_off < tiers[i - 1].percent_off)))
    throw new InputError("等级越高，累计消费需越高，优惠不能少于低一级");
  return { tiers: tiers.map((t, i) => ({ tier: i + 1, ...t })) };
}
