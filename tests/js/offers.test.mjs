// Promotions in staff's words and the bodies the console's forms send
// (chalicelib/console/assets/offers.js): yuan to fen, 折 to percent_off, venue time to instants.
import assert from "node:assert/strict";
import { test } from "node:test";

import { InputError } from "../../chalicelib/console/assets/money.js";
import {
  couponBody, couponState, nextDay, offerText, promotionBody, promotionState, reductionText, scopeText, tiersBody,
  validityText, venueWallTime, shortTime,
} from "../../chalicelib/console/assets/offers.js";

process.env.TZ = "America/New_York";              // not the venue's: the forms must not use it
const ZONE = "Asia/Shanghai";

const form = (extra = {}) => ({
  name: " 开馆纪念券 ", kind: "cash", amount: "20", threshold: "100", total: "", perUser: "", kinds: ["ticket", "merch"],
  claimFrom: "2026-12-01T09:00", claimUntil: "2026-12-08T23:59", validity: "days", validDays: "7", returnable: true,
  ...extra,
});

test("a coupon's offer reads as on a price tag", () => {
  assert.equal(offerText({ kind: "cash", amount: 2000, threshold: 10000 }), "满¥100减¥20");
  assert.equal(offerText({ kind: "cash", amount: 500, threshold: 0 }), "无门槛减¥5");
  assert.equal(offerText({ kind: "percent", percent_off: 20, threshold: 20000, max_discount: 5000 }), "满¥200享8折，最高减¥50");
  assert.equal(offerText({ kind: "percent", percent_off: 15, threshold: 0 }), "8.5折");
  assert.equal(reductionText([{ threshold: 20000, amount: 3000 }, { threshold: 50000, amount: 9950 }]), "满¥200减¥30，满¥500减¥99.50");
});

test("a cash coupon's form is sent in fen with the claim window at the venue", () => {
  assert.deepEqual(couponBody(form(), ZONE), {
    name: "开馆纪念券", kind: "cash", threshold: 10000, amount: 2000, per_user_limit: 1,
    claim_from: "2026-12-01T09:00:00+08:00", claim_until: "2026-12-08T23:59:00+08:00", valid_days: 7, returnable: true,
  });
  const limited = couponBody(form({ total: "500", perUser: "2", threshold: "", amount: "5.5", kinds: ["merch"],
                                    returnable: false }), ZONE);
  assert.equal(limited.total, 500);
  assert.equal(limited.per_user_limit, 2);
  assert.equal(limited.threshold, 0);
  assert.equal(limited.amount, 550);
  assert.deepEqual(limited.scope, { kinds: ["merch"] });
  assert.equal(limited.returnable, false);
});

test("a percent coupon takes 折 and a cap, and dates that end at the venue's midnight after the last day", () => {
  const body = couponBody(form({ kind: "percent", amount: "", discount: "8.5", maxDiscount: "50", validity: "dates",
                                 validFrom: "2026-12-01", validUntil: "2026-12-31" }), ZONE);
  assert.equal(body.percent_off, 15);
  assert.equal(body.max_discount, 5000);
  assert.equal(body.amount, undefined);
  assert.equal(body.valid_from, "2026-12-01T00:00:00+08:00");
  assert.equal(body.valid_until, "2027-01-01T00:00:00+08:00");
  assert.equal(body.valid_days, undefined);
  assert.equal(validityText(body, ZONE), "2026/12/01 至 2026/12/31");
  assert.equal(validityText({ valid_days: 7 }, ZONE), "领取后 7 天");
  assert.equal(nextDay("2028-02-28"), "2028-02-29");
});

test("a coupon's form that makes no sense is refused in Chinese before it is sent", () => {
  const cases = [
    [{ name: " " }, "券名称"], [{ amount: "" }, "减免金额"], [{ amount: "200" }, "不能超过使用门槛"],
    [{ amount: "2.345" }, "减免金额"], [{ kind: "percent", discount: "10" }, "低于 10 折"],
    [{ total: "0" }, "发放总量"], [{ claimUntil: "2026-11-30T09:00" }, "晚于开始"], [{ claimFrom: "" }, "领取开始"],
    [{ validDays: "" }, "有效天数"], [{ kinds: [] }, "适用商品"],
    [{ validity: "dates", validFrom: "2026-12-05", validUntil: "2026-12-01" }, "不能早于"],
  ];
  for (const [change, words] of cases) {
    assert.throws(() => couponBody(form(change), ZONE), (e) => e instanceof InputError && e.message.includes(words),
                  JSON.stringify(change));
  }
});

test("where a coupon and a promotion stand now", () => {
  const c = { status: "active", claim_from: "2026-12-01T00:00:00+08:00", claim_until: "2026-12-08T00:00:00+08:00", remaining: 3 };
  const at = (iso) => Date.parse(iso);
  assert.deepEqual(couponState(c, at("2026-11-30T12:00:00Z")), ["scheduled", "未开始"]);
  assert.deepEqual(couponState(c, at("2026-12-02T12:00:00Z")), ["claiming", "领取中"]);
  assert.deepEqual(couponState({ ...c, remaining: 0 }, at("2026-12-02T12:00:00Z")), ["exhausted", "已领完"]);
  assert.deepEqual(couponState(c, at("2026-12-09T12:00:00Z")), ["closed", "已截止"]);
  assert.deepEqual(couponState({ ...c, status: "stopped" }, at("2026-12-02T12:00:00Z")), ["stopped", "已停止"]);
  const p = { status: "active", starts_at: c.claim_from, ends_at: c.claim_until };
  assert.deepEqual(promotionState(p, at("2026-12-02T12:00:00Z")), ["claiming", "进行中"]);
  assert.deepEqual(promotionState(p, at("2026-12-09T12:00:00Z")), ["closed", "已结束"]);
  assert.equal(scopeText({}), "全部商品");
  assert.equal(scopeText({ kinds: ["ticket"], categories: ["museum"] }), "门票；分类 museum");
});

test("a full reduction's tiers go in fen, sorted, each taking off no more than its threshold", () => {
  const body = promotionBody({ name: "冬季满减", kinds: ["merch"], startsAt: "2026-12-01T00:00", endsAt: "2027-01-01T00:00",
                               tiers: [{ threshold: "500", amount: "80" }, { threshold: "200", amount: "30" },
                                       { threshold: "", amount: "" }] }, ZONE);
  assert.deepEqual(body, { name: "冬季满减", kind: "full_reduction", tiers: [{ threshold: 20000, amount: 3000 },
                           { threshold: 50000, amount: 8000 }], scope: { kinds: ["merch"] },
                           starts_at: "2026-12-01T00:00:00+08:00", ends_at: "2027-01-01T00:00:00+08:00" });
  const base = { name: "x", kinds: ["ticket", "merch"], startsAt: "2026-12-01T00:00", endsAt: "2027-01-01T00:00" };
  assert.equal(promotionBody({ ...base, tiers: [{ threshold: "100", amount: "10" }] }, ZONE).scope, undefined);
  for (const [tiers, words] of [[[{ threshold: "100", amount: "200" }], "不能超过门槛"], [[], "至少填写一档"],
                                [[{ threshold: "100", amount: "20" }, { threshold: "200", amount: "10" }], "门槛越高"]]) {
    assert.throws(() => promotionBody({ ...base, tiers }, ZONE), (e) => e.message.includes(words));
  }
});

test("member tiers are numbered by spend, in fen and percent off", () => {
  assert.deepEqual(tiersBody([{ name: "金卡", minSpend: "5000", discount: "9" }, { name: "银卡", minSpend: "1000", discount: "9.5" },
                              { name: "", minSpend: "", discount: "" }]),
                   { tiers: [{ tier: 1, name: "银卡", min_spend: 100000, percent_off: 5 },
                             { tier: 2, name: "金卡", min_spend: 500000, percent_off: 10 }] });
  assert.deepEqual(tiersBody([]), { tiers: [] });
  assert.throws(() => tiersBody([{ name: "金卡", minSpend: "5000", discount: "9.8" }, { name: "银卡", minSpend: "1000", discount: "9.5" }]),
                /优惠不能少于/);
  assert.throws(() => tiersBody([{ name: "银卡", minSpend: "", discount: "9.5" }]), /第 1 行/);
});

test("a datetime-local field starts at the venue's wall clock, whatever the device's zone", () => {
  const now = Date.parse("2026-11-30T16:30:12Z");                  // 00:30 on 1 December in Shanghai
  assert.equal(venueWallTime(0, ZONE, now), "2026-12-01T00:30");
  assert.equal(venueWallTime(30, ZONE, now), "2026-12-31T00:30");
  assert.equal(venueWallTime(0, "Europe/Berlin", now), "2026-11-30T17:30");
  assert.equal(shortTime("2026-12-01T01:30:00Z", ZONE), "2026/12/1 09:30");
});
